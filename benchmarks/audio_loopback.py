"""Over-the-air round trip: delay and losslessness of play -> record, per take.

    python benchmarks/audio_loopback.py [--takes 5] [--rate 20000] [--seconds 2]
    python benchmarks/audio_loopback.py --play-device 3 --record-device 5   # a real speaker and microphone

Without devices it starts the virtual sound card (harness/audio/virtual.py: a PulseAudio null sink, its monitor
recorded) and plays white noise; with devices it uses them as they are. Prints, per take, the delay found by
cross-correlation (samples, ms), the normalised correlation, the level and gain, whether the recording equals
the played clip sample for sample, and the attempts PortAudio dropouts cost; then the median delay.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from contextlib import nullcontext
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.audio.playrec import OverTheAir  # noqa: E402
from harness.audio.virtual import VirtualSoundCard  # noqa: E402
from harness.errors import TinyhilError  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--takes", type=int, default=5)
    ap.add_argument("--rate", type=int, default=20000, help="Hz")
    ap.add_argument("--seconds", type=float, default=2.0, help="length of the played noise")
    ap.add_argument("--play-device")
    ap.add_argument("--record-device")
    args = ap.parse_args()
    virtual = args.play_device is None and args.record_device is None
    clip = (np.random.default_rng(0).standard_normal(int(args.seconds * args.rate)) * 3000).astype(np.int16)
    try:
        with VirtualSoundCard(args.rate) if virtual else nullcontext() as card:
            play = card.loopback if virtual else args.play_device
            rec = card.loopback if virtual else args.record_device
            ota = OverTheAir(play_device=play, record_device=rec)
            print(f"{'virtual loopback (PulseAudio null sink)' if virtual else f'{play} -> {rec}'}, "
                  f"{args.rate} Hz, {args.seconds:g} s of noise, {args.takes} takes")
            print(f"{'take':>4} {'delay samples':>13} {'delay ms':>9} {'corr':>8} {'level dBFS':>10} {'gain dB':>8} "
                  f"{'lossless':>8} {'attempts':>8}")
            delays = []
            for i in range(args.takes):
                t = ota.take(clip, args.rate)
                delays.append(t.delay_samples)
                print(f"{i:>4} {t.delay_samples:>13} {1000 * t.delay_samples / args.rate:>9.2f} {t.correlation:>8.5f} "
                      f"{t.level_dbfs:>10.2f} {t.gain_db:>8.2f} {str(np.array_equal(t.recovered, clip)):>8} "
                      f"{t.attempts:>8}  {'; '.join(t.retried)}")
    except TinyhilError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    med = statistics.median(delays)
    print(f"median delay {med:g} samples = {1000 * med / args.rate:.2f} ms (min {min(delays)}, max {max(delays)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
