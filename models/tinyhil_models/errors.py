"""Errors of the model side; subclasses of tinyhil's one error root so the CLI prints them as one line."""

from __future__ import annotations

from harness.errors import TinyhilError


class ModelsError(TinyhilError):
    """A recipe, dataset or export step cannot run (bad recipe field, empty dataset, unexportable layer)."""


class MissingExtraError(ModelsError):
    """torch / tensorflow / torch-pruning is not installed (they are the optional ``models`` extra)."""

    def __init__(self, package: str) -> None:
        super().__init__(f"{package} is not installed; it is part of the optional extra: pip install -e '.[models]'")


def require(module: str, package: str | None = None):
    """Import ``module`` or raise MissingExtraError naming ``package`` (default: the module's name)."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(package or module) from None
