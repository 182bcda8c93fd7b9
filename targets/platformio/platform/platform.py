"""tinyhil's project-local PlatformIO platform: no frameworks, one toolchain (see builder/main.py)."""

from platformio.public import PlatformBase


class TinyhilPlatform(PlatformBase):
    """Nothing to customise: packages come from platformio.ini's platform_packages (symlinked, offline)."""
