"""Builds fastnn's compiled core; all metadata lives in pyproject.toml.

Environment switches:
  FASTNN_DEBUG=1   Cython bounds/wrap-around checks on, -O0 -g (for tests under
                   a debugger or sanitizer).
  FASTNN_NATIVE=1  -march=native (faster on the build machine, not portable).
"""
import os
from pathlib import Path

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

DEBUG = os.environ.get("FASTNN_DEBUG", "0") == "1"
NATIVE = os.environ.get("FASTNN_NATIVE", "0") == "1"

CSRC = ["csrc/fastnn_kernels.c", "csrc/fastnn_shuffle.c", "csrc/fastnn_threads.c"]
CSRC_HEADERS = sorted(str(p) for p in Path("csrc").glob("*.h"))
CORE = Path("src/fastnn/_core")

compile_args = ["-O0", "-g"] if DEBUG else ["-O3", "-fno-math-errno"]
if NATIVE:
    compile_args.append("-march=native")


def core_extension(name, with_csrc=False):
    return Extension(
        f"fastnn._core.{name}",
        sources=[str(CORE / f"{name}.pyx")] + (CSRC if with_csrc else []),
        include_dirs=["csrc", np.get_include()],
        depends=CSRC_HEADERS + [str(p) for p in CORE.glob("*.pxd")],
        extra_compile_args=compile_args + ["-pthread"],
        extra_link_args=["-pthread"],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION"),
                       ("FASTNN_DEBUG_BUILD", "1" if DEBUG else "0")],
    )


extensions = [
    core_extension("build"),
    core_extension("blas"),
    core_extension("stack"),
    core_extension("dense", with_csrc=True),
    core_extension("train", with_csrc=True),
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
    ),
)
