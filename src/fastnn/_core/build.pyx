# cython: language_level=3
"""What kind of build this is, observable from Python, so the test suite can
prove that `FASTNN_DEBUG=1` reached the compiler (setup.py defines
FASTNN_DEBUG_BUILD and turns Cython's bounds checks on together)."""

cdef extern from *:
    """
    #ifndef FASTNN_DEBUG_BUILD
    #define FASTNN_DEBUG_BUILD 0
    #endif
    """
    int FASTNN_DEBUG_BUILD

DEBUG_BUILD = bool(FASTNN_DEBUG_BUILD)


def element(const double[::1] values, Py_ssize_t i):
    """values[i], indexed the way the compiled core indexes its memoryviews:
    a debug build raises IndexError out of range; a release build does not
    check (the Python boundary has validated every shape before)."""
    return values[i]
