"""Finds and loads oneDNN for the training team's float32 products.

oneDNN comes from PyPI's onednn-cpu-gomp wheel (a dependency on x86-64
Linux: README "Dependencies" has the numbers), which puts libdnnl.so.3 in
the environment's lib/ folder, not in a package. Nothing here is needed for
fastnn to work: without the library, or with FASTNN_ONEDNN=0, every product
goes to BLAS.
"""
import os
from importlib import metadata

DISTRIBUTION = "onednn-cpu-gomp"
LIBRARY = "libdnnl.so.3"
SETTING = "FASTNN_ONEDNN"

_status = "not loaded"


def library_path():
    """Where the installed wheel put libdnnl.so.3, or None."""
    try:
        files = metadata.distribution(DISTRIBUTION).files or ()
    except metadata.PackageNotFoundError:
        return None
    for file in files:
        if file.name == LIBRARY:
            path = os.path.normpath(os.fspath(file.locate()))
            if os.path.exists(path):
                return path
    return None


def load(blas):
    """Load oneDNN into fastnn._core.blas (`blas`) unless FASTNN_ONEDNN=0 or
    it is not installed; returns a line saying which."""
    global _status
    setting = os.environ.get(SETTING, "1").strip()
    if setting not in ("0", "1"):
        raise ValueError(f"{SETTING}={os.environ[SETTING]!r}: expected 0 or 1")
    path = library_path() if setting == "1" else None
    if setting == "0":
        _status = f"off ({SETTING}=0)"
    elif path is None:
        _status = f"not installed ({DISTRIBUTION})"
    else:
        failure = blas.load_onednn(path)
        _status = f"loaded {path}" if failure is None else f"not usable: {failure}"
    return _status


def status():
    """A line for reports: whether and from where oneDNN was loaded."""
    return _status
