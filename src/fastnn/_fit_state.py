"""One fit's state, swapped in whole: a fit trains a working copy of the
estimator and swaps its state in at once; reads that must see one whole
state (predict, save) take it under the same lock."""
import threading
from contextlib import contextmanager

from sklearn.utils.validation import check_is_fitted

# A fit builds the new fitted state on a working copy of the estimator and
# swaps it in at once, under this lock; reads that must see one whole state
# (predict: weights, classes and width together) take it too. Held for
# microseconds, never while training or predicting.
_STATE_LOCK = threading.Lock()
_FITTING = set()   # id() of the estimators being fitted now, in any thread


def state_copy(estimator):
    """A shallow copy of `estimator` holding one fit's state whole, taken
    while no fit swaps its state in (fitted arrays are never written in
    place, so sharing them is safe)."""
    copy = object.__new__(type(estimator))
    with _STATE_LOCK:
        vars(copy).update(vars(estimator))
    return copy


@contextmanager
def fitting(estimator):
    """Around fit and partial_fit: yields a working copy of `estimator` to
    train; on success its state replaces the estimator's in one step, on any
    failure (bad input, Ctrl-C, anything) the estimator is left as it was.
    A second fit of the same object while one runs (another thread, or a
    callback) raises: the two would train one model from two states."""
    with _STATE_LOCK:
        if id(estimator) in _FITTING:
            raise RuntimeError(
                f"this {type(estimator).__name__} is already being fitted (in another thread "
                "or from a callback); fit a clone (sklearn.base.clone) instead, or wait")
        _FITTING.add(id(estimator))
    try:
        work = state_copy(estimator)
        yield work
        with _STATE_LOCK:
            state = vars(estimator)
            stale = [name for name in state if name not in vars(work)]
            state.update(vars(work))
            for name in stale:
                del state[name]
    finally:
        with _STATE_LOCK:
            _FITTING.discard(id(estimator))


class FittedState:
    """One consistent view of a fitted model for prediction: its weights
    (coefs, intercepts), class labels, dtype and input width, read together
    (the network and its flat parameters are built from them)."""

    def __init__(self, estimator):
        check_is_fitted(estimator, "coefs_")
        self.coefs, self.intercepts = estimator.coefs_, estimator.intercepts_
        self.classes = getattr(estimator, "classes_", None)
        self.dtype = self.coefs[0].dtype
        self.n_features = self.coefs[0].shape[0]


def fitted_state(estimator):
    """The fitted weights and labels of `estimator` as one consistent view,
    even while another thread's fit swaps in a new state."""
    with _STATE_LOCK:
        return FittedState(estimator)
