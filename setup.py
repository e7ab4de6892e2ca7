"""Builds fastnn's compiled core; all metadata lives in pyproject.toml.

Environment switches:
  FASTNN_DEBUG=1   Cython bounds/wrap-around checks on, -O0 -g (for tests under
                   a debugger or sanitizer).
  FASTNN_NATIVE=1  -march=native (faster on the build machine, not portable).
"""
import hashlib
import os
from pathlib import Path

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

DEBUG = os.environ.get("FASTNN_DEBUG", "0") == "1"
NATIVE = os.environ.get("FASTNN_NATIVE", "0") == "1"

CSRC = ["csrc/fastnn_kernels.c", "csrc/fastnn_sparse.c", "csrc/fastnn_shuffle.c",
        "csrc/fastnn_threads.c"]
CSRC_HEADERS = sorted(str(p) for p in Path("csrc").glob("*.h"))
CORE = Path("src/fastnn/_core")

# -fno-trapping-math: values are unchanged (no FP exception is ever looked
# at); without it GCC 12 threads the exp clamp of fastnn_math_impl.h into a
# branch and then may not if-convert the loop (the speculated ops could
# trap), so the tanh and sigmoid loops stayed scalar: 4x slower in float64.
compile_args = ["-O0", "-g"] if DEBUG else ["-O3", "-fno-math-errno", "-fno-trapping-math"]
if NATIVE:
    compile_args.append("-march=native")

# The build's mode: the switches above and the compiler flags from the
# environment (e.g. AddressSanitizer's). pip builds in the source tree, and
# neither cythonize nor build_ext notices a change of switches, only of
# files: each mode gets its own generated C, and a change of mode since the
# last build forces every extension to be compiled again. Without this, a
# debug build right after a release build quietly reused the release objects.
MODE = "debug" if DEBUG else "release"
if NATIVE:
    MODE += "-native"
_flags = " ".join(os.environ.get(name, "") for name in ("CFLAGS", "CPPFLAGS", "LDFLAGS")).strip()
if _flags:
    MODE += "-" + hashlib.sha1(_flags.encode()).hexdigest()[:8]
MODE_STAMP = Path("build") / "last-build-mode"


class build_ext_for_mode(build_ext):
    """build_ext that compiles everything again when the mode changed."""

    def run(self):
        last = MODE_STAMP.read_text() if MODE_STAMP.exists() else None
        if last != MODE:
            self.force = True
        super().run()
        MODE_STAMP.parent.mkdir(exist_ok=True)
        MODE_STAMP.write_text(MODE)


def core_extension(name, with_csrc=False, sources=(), libraries=()):
    return Extension(
        f"fastnn._core.{name}",
        sources=[str(CORE / f"{name}.pyx")] + (CSRC if with_csrc else []) + list(sources),
        libraries=list(libraries),
        include_dirs=["csrc", np.get_include()],
        depends=CSRC_HEADERS + [str(p) for p in CORE.glob("*.pxd")],
        extra_compile_args=compile_args + ["-pthread"],
        extra_link_args=["-pthread"],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION"),
                       ("FASTNN_DEBUG_BUILD", "1" if DEBUG else "0")],
    )


extensions = [
    core_extension("build"),
    core_extension("vocabulary"),
    # oneDNN's loader lives in the one module that calls it (its state is
    # per module); libdl for dlopen on glibc before 2.34
    core_extension("blas", sources=["csrc/fastnn_onednn.c", "csrc/fastnn_narrow.c"], libraries=["dl"]),
    core_extension("stack"),
    core_extension("dense", with_csrc=True),
    core_extension("train", with_csrc=True),
    core_extension("twins", with_csrc=True),
]

setup(
    ext_modules=cythonize(
        extensions,
        compiler_directives={
            "language_level": 3,
            "boundscheck": DEBUG,
            "wraparound": DEBUG,
            "initializedcheck": DEBUG,
            "cdivision": not DEBUG,
        },
        annotate=False,
        build_dir=f"build/cython-{MODE}",
    ),
    cmdclass={"build_ext": build_ext_for_mode},
)
