"""tinyhil_models: datasets, architectures, compression recipes and .tflite export for tinyhil.

Everything heavy is optional: the harness never imports this package, and this package imports torch and
tensorflow only inside the functions that need them (``pip install -e .[models]`` installs both).
"""

from tinyhil_models.errors import ModelsError, MissingExtraError

__all__ = ["ModelsError", "MissingExtraError"]
