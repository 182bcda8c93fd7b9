"""Where the PlatformIO build scripts get tinyhil's recipe (shared by builder/main.py and board_recipe.py).

``$TINYHIL_RECIPE`` when ``harness.build.build_firmware`` runs PlatformIO; otherwise (a plain ``pio run -e ENV``
from the repository root) the recipe ``harness.pio_recipe`` writes for the model named by the environment's
``custom_tinyhil_model`` / ``custom_tinyhil_backend`` options.
"""

import json
import os
import subprocess
import sys


def load_recipe(env):
    """The recipe (dict) for the SCons environment ``env``; exits the build with a one-line error otherwise."""
    path = os.environ.get("TINYHIL_RECIPE")
    if not path:
        cmd = [sys.executable, "-m", "harness.pio_recipe", "--env", env.subst("$PIOENV"),
               "--board", env.GetProjectOption("custom_tinyhil_board", ""),
               "--twin", env.GetProjectOption("custom_tinyhil_twin", "no"),
               "--model", env.GetProjectOption("custom_tinyhil_model", "acdnet20-int8"),
               "--backend", env.GetProjectOption("custom_tinyhil_backend", "tinyhil")]
        proc = subprocess.run(cmd, cwd=env.subst("$PROJECT_DIR"), capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            detail = proc.stderr.strip().splitlines()[-1:] or [f"{' '.join(cmd)} exited {proc.returncode}"]
            sys.stderr.write(f"Error: tinyhil recipe: {detail[0]}\n")
            env.Exit(1)
        path = proc.stdout.strip().splitlines()[-1]
    if not os.path.isfile(path):
        sys.stderr.write(f"Error: tinyhil recipe {path} does not exist; build through `tinyhil bench` or "
                         "`pio run -e <board env>` from the repository root\n")
        env.Exit(1)
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)
