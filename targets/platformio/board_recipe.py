"""PRE extra script for the real-board environments (registry platforms): applies harness/build.py's recipe.

Adds tinyhil's sources (targets/common, targets/kernels, targets/boards/<board>, the generated model), include
paths and defines; on Arm boards also the boards.yaml machine flags and the rendered linker script.
Needs a machine with the registry platform installed; not exercised by the offline tests.
"""

import os
import sys

Import("env")  # noqa: F821  (SCons injects Import)

sys.path.insert(0, os.path.join(env.subst("$PROJECT_DIR"), "targets", "platformio"))  # noqa: F821
from tinyhil_recipe import load_recipe  # noqa: E402

recipe = load_recipe(env)  # noqa: F821

env.Append(  # noqa: F821
    CCFLAGS=recipe["cflags"],
    CPPDEFINES=[(k, v.replace('"', '\\"')) if v != "" else k for k, v in sorted(recipe["cppdefines"].items())],
    CPPPATH=recipe["include_dirs"],
    LINKFLAGS=[f for f in recipe["linkflags"] if f != "-nostartfiles"],
)
if recipe["ldscript"]:
    env.Replace(LDSCRIPT_PATH=recipe["ldscript"])  # noqa: F821
for name, src_dir in sorted(recipe["source_dirs"].items()):
    env.BuildSources(os.path.join("$BUILD_DIR", "tinyhil", name), src_dir, "+<*.c> +<*.S>")  # noqa: F821
