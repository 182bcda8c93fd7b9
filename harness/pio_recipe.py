"""The recipe for a plain ``pio run -e <env>`` from the repository root (no tinyhil command in between).

``harness.build.build_firmware`` writes a recipe and runs PlatformIO with ``$TINYHIL_RECIPE`` pointing at it.  A
PlatformIO user instead types ``pio run -e stm32f746_twin``; the build scripts (the project-local platform's
``builder/main.py`` and ``targets/platformio/board_recipe.py``) then call this module, which compiles the model that
``platformio.ini`` names (``custom_tinyhil_model``: a zoo name such as ``acdnet20-int8`` or a ``.tflite`` path,
``custom_tinyhil_backend``: tinyhil, tflm or tflm-cmsis-nn) for the environment's board, and prints the path of
the recipe it wrote under ``.tinyhil/build/pio/<env>/``.  A zoo model comes from ``$TINYHIL_LOCAL_DIR``, else from
``../shared`` beside the repository when it holds the models (as the Makefile does), else its public source.

    python -m harness.pio_recipe --env stm32f746_twin --board stm32f746 --twin yes --model acdnet20-int8

Exit status 1 with a one-line message on stderr (no traceback) when the model cannot be compiled or the board is
unknown.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from harness.errors import TinyhilError

REPO = Path(__file__).resolve().parent.parent


def model_path(spec: str) -> Path:
    """A ``.tflite`` path (relative to the repository) or a zoo model name -> the model file.  Raises FetchError."""
    from harness.data.fetch import fetch_model  # noqa: PLC0415

    if spec.endswith(".tflite"):
        path = Path(spec) if Path(spec).is_absolute() else REPO / spec
        if not path.is_file():
            from harness.errors import ModelError  # noqa: PLC0415

            raise ModelError(f"custom_tinyhil_model = {spec}: {path} does not exist; fix the path in platformio.ini")
        return path
    shared = REPO.parent / "shared"
    local = os.environ.get("TINYHIL_LOCAL_DIR") or (shared if (shared / "models").is_dir() else None)
    return fetch_model(spec, local)


def write_env_recipe(env: str, board: str, twin: bool, model: str, backend: str = "tinyhil",
                     build_root: Path = REPO / ".tinyhil" / "build") -> Path:
    """Compile ``model`` for ``board`` (its twin when ``twin``) with ``backend`` and write the recipe for PlatformIO
    environment ``env``; returns the recipe path.  Raises TinyhilError subclasses (FetchError, ModelError,
    UnsupportedOperatorError, CatalogError, BuildError)."""
    from harness.backends import parse_backend  # noqa: PLC0415
    from harness.boards import get_board  # noqa: PLC0415
    from harness.build import make_recipe, write_recipe  # noqa: PLC0415
    from harness.codegen.compiler import compile_model  # noqa: PLC0415
    from harness.orchestrate import model_sources  # noqa: PLC0415

    target = get_board(board).target(twin)
    compiled = compile_model(model_path(model))
    model_dir, sources, _, defines = model_sources(compiled, target, parse_backend(backend), build_root)
    return write_recipe(make_recipe(target, model_dir, defines=defines, backend=sources), build_root / "pio" / env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", required=True)
    parser.add_argument("--board", required=True)
    parser.add_argument("--twin", default="no")
    parser.add_argument("--model", default="acdnet20-int8")
    parser.add_argument("--backend", default="tinyhil")
    args = parser.parse_args(argv)
    if not args.board:
        print(f"error: environment {args.env} names no board (custom_tinyhil_board); it is built through "
              "`tinyhil bench`, or pick a board environment such as stm32f746_twin", file=sys.stderr)
        return 1
    try:
        print(write_env_recipe(args.env, args.board, args.twin.lower() in ("yes", "true", "1"), args.model,
                               args.backend))
    except TinyhilError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
