"""SCons build script of tinyhil's project-local platform: applies the recipe written by harness/build.py.

The recipe (JSON, path in $TINYHIL_RECIPE, or written for platformio.ini's custom_tinyhil_model by a plain
`pio run -e ENV`: targets/platformio/tinyhil_recipe.py) holds flags from boards.yaml, include and source directories
(targets/common, targets/kernels, the board port, the generated model) and the rendered linker script.
The toolchain is the host's arm-none-eabi GCC, linked into the package folder harness/pio_setup.py makes.
"""

import os
import sys

from SCons.Script import ARGUMENTS, AlwaysBuild, Default, DefaultEnvironment  # noqa: F401

env = DefaultEnvironment()
sys.path.insert(0, os.path.join(env.subst("$PROJECT_DIR"), "targets", "platformio"))
from tinyhil_recipe import load_recipe  # noqa: E402

recipe = load_recipe(env)

board = env.GetProjectOption("custom_tinyhil_board", "")  # empty: any catalog board (the recipe says which)
twin = env.GetProjectOption("custom_tinyhil_twin", "no").lower() in ("yes", "true", "1")
if (board and recipe["board"] != board) or (recipe["kind"] == "twin") != twin:
    sys.stderr.write(f"Error: recipe is for {recipe['board']} ({recipe['kind']}) but environment "
                     f"$PIOENV is for {board} (twin={twin})\n")
    env.Exit(1)

toolchain = env.PioPlatform().get_package_dir("toolchain-gccarmnoneeabi")
env.PrependENVPath("PATH", os.path.join(toolchain, "bin"))
env.Replace(
    AR="arm-none-eabi-gcc-ar", AS="arm-none-eabi-as", CC="arm-none-eabi-gcc", CXX="arm-none-eabi-g++",
    LINK="arm-none-eabi-gcc", OBJCOPY="arm-none-eabi-objcopy", RANLIB="arm-none-eabi-gcc-ranlib",
    SIZETOOL="arm-none-eabi-size", PROGNAME="firmware", PROGSUFFIX=".elf",
    SIZEPROGREGEXP=r"^(?:\.isr_vector|\.text|\.ARM\.exidx|\.init_array|\.data)\s+(\d+).*",
    SIZEDATAREGEXP=r"^(?:\.data|\.bss|\.heap|\.stack)\s+(\d+).*",
    SIZECHECKCMD="$SIZETOOL -A -d $SOURCES",
)
env.Append(
    CCFLAGS=[f for f in recipe["cflags"] if not f.startswith("-std=")],  # C and C++
    CFLAGS=[f for f in recipe["cflags"] if f.startswith("-std=")],  # C only (C++ standard: cxxflags)
    CXXFLAGS=recipe.get("cxxflags", []),
    ASFLAGS=[f for f in recipe["cflags"] if f.startswith("-m")],
    CPPDEFINES=[(k, v.replace('"', '\\"')) if v != "" else k for k, v in sorted(recipe["cppdefines"].items())],
    CPPPATH=recipe["include_dirs"],
    LINKFLAGS=recipe["linkflags"] + ["-T", recipe["ldscript"], "-Wl,-Map,${BUILD_DIR}/firmware.map"],
    LIBS=["m"],  # libc_nano and libnosys come with the --specs flags
)
env.ProcessFlags(env.get("BUILD_FLAGS"))
env.ProcessUnFlags(env.get("BUILD_UNFLAGS"))

objects = []
for name, src_dir in sorted(recipe["source_dirs"].items()):
    for node in env.CollectBuildFiles(os.path.join("$BUILD_DIR", name), src_dir, "+<*.c> +<*.cc> +<*.S>"):
        objects.append(env.Object(node))
libs = [env.File(lib) for lib in recipe.get("libs", [])]  # prebuilt backend libraries, after the objects
program = env.Program(os.path.join("$BUILD_DIR", "firmware"), objects + libs)
env.Depends(program, recipe["ldscript"])
env.Replace(PIOMAINPROG=program)
AlwaysBuild(env.Alias("checkprogsize", program, env.VerboseAction(env.CheckUploadSize, "Checking size $PIOMAINPROG")))
Default([program])
