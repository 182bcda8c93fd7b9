"""A stand-in for the esptool CLI that replays esptool v4 console output for one scenario.

    python fake_esptool.py <scenario> [esptool arguments...]

Scenarios: ok, busy (port held by another program), no-sync (chip not in download mode), md5 (verify
failure), hang (never finishes).  The output lines are esptool 4.x's own messages.  ``ok`` writes its
arguments to $FAKE_ESPTOOL_ARGS so tests can check the command line.
"""

import os
import sys
import time

scenario, args = sys.argv[1], sys.argv[2:]
port = args[args.index("--port") + 1] if "--port" in args else "?"
print("esptool.py v4.7.0")
print(f"Serial port {port}")
sys.stdout.flush()
if scenario == "busy":
    print(f"\nA fatal error occurred: Could not open {port}, the port is busy or doesn't exist.\n"
          f"([Errno 16] could not open port {port}: [Errno 16] Device or resource busy: '{port}')\n")
    sys.exit(2)
if scenario == "no-sync":
    print("Connecting......................................\n")
    print("A fatal error occurred: Failed to connect to ESP32: No serial data received.")
    print("For troubleshooting steps visit: https://docs.espressif.com/projects/esptool/en/latest/troubleshooting.html")
    sys.exit(2)
print("Connecting....\nChip is ESP32-D0WD-V3 (revision v3.1)\nUploading stub...\nRunning stub...\nStub running...")
if scenario == "md5":
    print("Writing at 0x00010000... (100 %)\nWrote 163840 bytes (84215 compressed) at 0x00010000 in 2.1 seconds")
    print("\nA fatal error occurred: MD5 of file does not match data in flash!")
    sys.exit(2)
if scenario == "hang":
    print("Writing at 0x00010000... (6 %)")
    sys.stdout.flush()
    time.sleep(60)
    sys.exit(0)
with open(os.environ["FAKE_ESPTOOL_ARGS"], "w") as fh:
    fh.write("\n".join(args))
print("Hash of data verified.\n\nLeaving...\nHard resetting via RTS pin...")
