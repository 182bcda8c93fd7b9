"""tinyhil: hardware-in-the-loop benchmarking of TinyML audio classifiers on microcontrollers and their twins."""

__version__ = "0.1.0"
