"""Live and over-the-air audio (issue 17): PortAudio through ``sounddevice``.

Modules: :mod:`.devices` (load PortAudio, list/pick devices, check rates), :mod:`.capture` (the microphone
stream), :mod:`.windows` (stream -> input windows, the bounded backlog, the level meter), :mod:`.live`
(``tinyhil listen``), :mod:`.playrec` (``bench --over-the-air``: play, record, delay by cross-correlation),
:mod:`.compare` (file vs over-the-air accuracy for the report), :mod:`.virtual` (a sound card without hardware),
:mod:`.labels` (class names). ``sounddevice`` is imported only when audio is used.
"""
