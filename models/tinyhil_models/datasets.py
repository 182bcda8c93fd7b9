"""Dataset loaders: they live in :mod:`harness.data.datasets` (shared with `tinyhil bench`); re-exported here."""

from harness.data.datasets import (Clip, DatasetError, detect, download, esc50, load, num_classes,  # noqa: F401
                                   urbansound8k)
