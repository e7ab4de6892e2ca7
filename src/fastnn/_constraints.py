"""Parameter constraints for scikit-learn's validation that its own don't give:
integers that refuse bools, the upper bounds the compiled core needs, and the
sequences of layer widths and keep probabilities.

Each breaks the rule with scikit-learn's InvalidParameterError (a ValueError)
when fit starts, naming the parameter and the allowed range.

scikit-learn's `make_constraint` (1.9) takes only instances of its own
constraint classes (Interval, Options, ...), so these subclass them.

The bounds:

- MAX_COUNT = 2**53 for max_iter, batch_size, cost_every, n_iter_no_change:
  the largest integer a float64 holds exactly (epochs and steps are doubles
  in the learning-rate schedule); the core takes these as 64-bit ints.
- MAX_THREADS (64) for n_threads: the team size the core supports
  (FNN_MAX_THREADS in csrc/fastnn_threads.h, read through fastnn._core.vocabulary).
- MAX_LAYER_WIDTH = 2**31 - 1: BLAS takes matrix dimensions as C ints.
- MIN_KEEP_PROB = 2**-32: the dropout kernel keeps a unit when a 32-bit hash
  u satisfies u < (uint32_t)(keep_prob * 2**32); below 2**-32 that threshold
  is 0 and every unit would be dropped. (keep_prob * 2**32 is exact, so
  keep_prob = 2**-32 gives threshold 1.)
"""
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, Options

from fastnn._core import vocabulary

MAX_COUNT = 2**53
MAX_THREADS = vocabulary.MAX_THREADS
MAX_LAYER_WIDTH = 2**31 - 1
MIN_KEEP_PROB = 2.0**-32


def _is_bool(value):
    return isinstance(value, (bool, np.bool_))


class Integers(Interval):
    """An int in [left, right] (or the interval `closed` says), never a bool:
    True and False are ints to Python but never a count, size or seed here."""

    def __init__(self, left, right, *, closed="both", right_name=None):
        super().__init__(Integral, left, right, closed=closed)
        self.right_name = right_name  # e.g. "2**53", shown with the number

    def is_satisfied_by(self, val):
        return not _is_bool(val) and super().is_satisfied_by(val)

    def __str__(self):
        text = super().__str__()
        if self.right_name is not None:
            text = text.replace(f", {self.right}", f", {self.right_name} = {self.right}")
        return text + " (not a bool)"


def keep_prob_ok(value):
    """Is `value` one keep probability: a real (not bool) in [2**-32, 1]?"""
    return (isinstance(value, Real) and not _is_bool(value)
            and MIN_KEEP_PROB <= value <= 1)


class KeepProb(Interval):
    """One keep probability: a float in [2**-32, 1], not a bool."""

    def __init__(self):
        super().__init__(Real, MIN_KEEP_PROB, 1, closed="both")

    def is_satisfied_by(self, val):
        return keep_prob_ok(val)

    def __str__(self):
        return (f"a float in the range [2**-32 = {MIN_KEEP_PROB!r}, 1.0] (not a bool; below "
                "2**-32 dropout would drop every unit)")


class _SequenceOf(Options):
    """A tuple or list (or, with `arrays`, a 1-D NumPy array) whose every
    entry satisfies `entry_ok`. (Options is only the base scikit-learn
    accepts; the options themselves are unused.)"""

    def __init__(self, entry_ok, description, arrays=False):
        super().__init__(object, set())
        self.entry_ok = entry_ok
        self.description = description
        self.arrays = arrays

    def is_satisfied_by(self, val):
        if isinstance(val, np.ndarray):
            if not self.arrays or val.ndim != 1:
                return False
            val = val.tolist()  # NumPy scalars become Python ones (np.bool_ -> bool)
        elif not isinstance(val, (tuple, list)):
            return False
        return all(self.entry_ok(entry) for entry in val)

    def __str__(self):
        return self.description


def layer_width_ok(value):
    """Is `value` one layer width: an int (not bool) in [1, 2**31 - 1]?"""
    return isinstance(value, Integral) and not _is_bool(value) and 1 <= value <= MAX_LAYER_WIDTH


COUNT_FROM_0 = Integers(0, MAX_COUNT, right_name="2**53")
COUNT_FROM_1 = Integers(1, MAX_COUNT, right_name="2**53")
N_THREADS = Integers(1, MAX_THREADS)
LAYER_WIDTH = Integers(1, MAX_LAYER_WIDTH, right_name="2**31 - 1")
LAYER_WIDTHS = _SequenceOf(
    layer_width_ok,
    f"a tuple or list of ints in the range [1, 2**31 - 1 = {MAX_LAYER_WIDTH}] (not bools)")
SEED = Integers(0, 2**32 - 1, right_name="2**32 - 1")
KEEP_PROB = KeepProb()
KEEP_PROBS = _SequenceOf(
    keep_prob_ok, f"a tuple, list or 1-D array whose entries must lie in [2**-32 = "
    f"{MIN_KEEP_PROB!r}, 1.0] (not bools)", arrays=True)
