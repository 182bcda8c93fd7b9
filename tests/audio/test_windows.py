"""The stream front end: windows cut like bench's crops, a bounded backlog that drops (and counts) the oldest,
the delay found by cross-correlation, the level meter."""

from __future__ import annotations

import numpy as np
import pytest

from harness.audio.playrec import find_delay
from harness.audio.windows import Backlog, WindowCutter, level_dbfs
from harness.errors import AudioError


def test_windows_of_a_stream_equal_the_slices_of_the_whole_signal_whatever_the_block_sizes():
    x = np.random.default_rng(1).integers(-32768, 32767, 5000).astype(np.int16)
    cutter = WindowCutter(length=700, hop=300)
    got, i = [], 0
    for size in (1, 13, 299, 1000, 7, 2500, 1180):
        got += cutter.push(x[i:i + size])
        i += size
    assert i == len(x)
    starts = list(range(0, len(x) - 700 + 1, 300))
    assert [w.start for w in got] == starts and [w.index for w in got] == list(range(len(starts)))
    for w in got:
        assert np.array_equal(w.samples, x[w.start:w.start + 700].astype(np.float32) / 32768.0)
    assert len(cutter._buf) < 700 + 2500  # only what a future window needs is kept


def test_backlog_drops_the_oldest_windows_and_counts_them():
    cutter = WindowCutter(length=10, hop=10)
    backlog = Backlog(limit=3)
    for w in cutter.push(np.zeros(100, np.int16)):  # 10 windows arrive while the DUT is busy
        backlog.put(w)
    assert len(backlog) == 3 and backlog.dropped == 7
    assert [backlog.get().index for _ in range(3)] == [7, 8, 9] and backlog.get() is None


def test_bad_window_settings_are_errors():
    with pytest.raises(AudioError, match="--hop"):
        WindowCutter(length=100, hop=0)
    with pytest.raises(AudioError, match="--max-backlog"):
        Backlog(limit=0)


def test_delay_is_the_lag_of_the_clip_in_the_recording_even_scaled_and_noisy():
    rng = np.random.default_rng(2)
    clip = rng.standard_normal(4000)
    rec = np.concatenate([np.zeros(1234), 0.3 * clip, np.zeros(500)]) + 0.01 * rng.standard_normal(5734)
    d = find_delay(rec, clip)
    assert d.lag == 1234 and 0.99 < d.correlation <= 1.0
    assert find_delay(rng.standard_normal(6000), clip).correlation < 0.3  # not there: low correlation
    with pytest.raises(AudioError, match="shorter than the clip"):
        find_delay(clip[:10], clip)


def test_level_meter_in_dbfs():
    t = np.arange(20000) / 20000
    assert level_dbfs(np.sign(np.sin(2 * np.pi * 50 * t))) == pytest.approx(0.0, abs=0.01)
    assert level_dbfs(0.5 * np.sin(2 * np.pi * 440 * t)) == pytest.approx(-9.03, abs=0.01)
    assert level_dbfs(np.zeros(10)) == -120.0


def test_a_block_lost_or_inserted_inside_the_clip_is_a_discontinuity():
    from harness.audio.playrec import discontinuity

    rng = np.random.default_rng(3)
    clip = (rng.standard_normal(8000) * 3000).astype(np.int16)
    clean = np.concatenate([np.zeros(500, np.int16), clip, np.zeros(1500, np.int16)])
    assert discontinuity(clean, clip, 500) == 0
    inserted = np.concatenate([np.zeros(500, np.int16), clip[:5000], np.zeros(256, np.int16), clip[5000:],
                               np.zeros(1244, np.int16)])  # a server underrun: 256 samples of silence
    assert discontinuity(inserted, clip, find_delay(inserted, clip).lag) == 256
    lost = np.concatenate([np.zeros(500, np.int16), clip[:3000], clip[3400:], np.zeros(1900, np.int16)])
    assert discontinuity(lost, clip, find_delay(lost, clip).lag) == 400
