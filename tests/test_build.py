"""The debug build switch (FASTNN_DEBUG=1, setup.py) really reaches the
compiled core: CI runs the whole suite twice, the second time on a debug
build, and these tests make sure that second pass is not a release build in
disguise."""
import os

import numpy as np
import pytest

from fastnn._core import build

DEBUG_REQUESTED = os.environ.get("FASTNN_DEBUG") == "1"


@pytest.mark.skipif(not DEBUG_REQUESTED, reason="FASTNN_DEBUG=1 not set for this run")
def test_debug_environment_gets_a_debug_build():
    assert build.DEBUG_BUILD, "FASTNN_DEBUG=1 is set but the compiled core is a release build"


@pytest.mark.skipif(not build.DEBUG_BUILD, reason="release build: indexing is not checked")
def test_debug_build_checks_bounds():
    values = np.arange(3.0)
    assert build.element(values, 2) == 2.0
    with pytest.raises(IndexError):
        build.element(values, 3)
    # wrap-around handling is on too: negative indices count from the end,
    # as in Python, and are checked as well
    assert build.element(values, -1) == 2.0
    with pytest.raises(IndexError):
        build.element(values, -4)
