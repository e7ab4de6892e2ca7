"""Issue 12: integer parameters refuse bools, every bound the compiled core
needs is checked when fit starts (InvalidParameterError naming the parameter
and the bound, never an OverflowError from C or a silent wrong answer), a
given n_threads above the cores warns, gradcheck checks its arguments, and
`import fastnn` reaches fastnn.gradcheck and fastnn.datasets."""
import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from fastnn import DeepNetwork, DeepRegressor, LogisticRegression, ShallowNetwork

RNG = np.random.default_rng(0)
X = RNG.standard_normal((40, 3))
y = (X[:, 0] > 0).astype(int)


def fit(family, **params):
    settings = {"max_iter": 2}
    if family is ShallowNetwork:
        settings["hidden_layer_size"] = 4
    elif family is not LogisticRegression:
        settings["hidden_layer_sizes"] = (4,)
    settings.update(params)
    return family(**settings).fit(X, X[:, 0] if family is DeepRegressor else y)


BOOLS = [
    (ShallowNetwork, "hidden_layer_size", True),
    (DeepNetwork, "hidden_layer_sizes", (True, 3)),
    (DeepRegressor, "hidden_layer_sizes", True),
    (LogisticRegression, "max_iter", True),
    (LogisticRegression, "max_iter", False),
    (DeepNetwork, "batch_size", True),
    (LogisticRegression, "random_state", True),
    (ShallowNetwork, "cost_every", True),
    (DeepRegressor, "n_iter_no_change", True),
    (LogisticRegression, "n_threads", True),
    (ShallowNetwork, "keep_prob", True),
    (DeepNetwork, "keep_prob", (0.5, True)),
]


@pytest.mark.parametrize("family, name, value", BOOLS,
                         ids=[f"{f.__name__}-{n}={v}" for f, n, v in BOOLS])
def test_bools_are_not_integers(family, name, value):
    with pytest.raises(InvalidParameterError, match=rf"'{name}' parameter .*\(not (a bool|bools)\)"):
        fit(family, **{name: value})


# (family, parameter, the largest value accepted, the smallest refused, a fragment of the message)
UPPER_BOUNDS = [
    (LogisticRegression, "max_iter", 2**53, 2**53 + 1, "[0, 2**53 = 9007199254740992]"),
    (LogisticRegression, "max_iter", 2**53, 2**63, "[0, 2**53 = 9007199254740992]"),
    (ShallowNetwork, "batch_size", 2**53, 2**53 + 1, "[1, 2**53 = 9007199254740992]"),
    (DeepNetwork, "cost_every", 2**53, 2**63, "[1, 2**53 = 9007199254740992]"),
    (DeepRegressor, "n_iter_no_change", 2**53, 2**63, "[1, 2**53 = 9007199254740992]"),
    (LogisticRegression, "n_threads", 64, 65, "[1, 64]"),
    (DeepNetwork, "n_threads", 64, 2**40, "[1, 64]"),
    (ShallowNetwork, "hidden_layer_size", 2**31 - 1, 2**31, "[1, 2**31 - 1 = 2147483647]"),
    (DeepNetwork, "hidden_layer_sizes", (3, 2**31 - 1), (3, 2**31), "[1, 2**31 - 1 = 2147483647]"),
    (DeepRegressor, "hidden_layer_sizes", (2**31 - 1,), (2**63,), "[1, 2**31 - 1 = 2147483647]"),
    (DeepNetwork, "hidden_layer_sizes", 2**31 - 1, 2**63, "[1, 2**31 - 1 = 2147483647]"),
]


@pytest.mark.parametrize("family, name, largest, refused, fragment", UPPER_BOUNDS,
                         ids=[f"{f.__name__}-{n}={r}" for f, n, _, r, _ in UPPER_BOUNDS])
def test_upper_bounds_are_checked_before_the_core(family, name, largest, refused, fragment):
    family(**{name: largest})._validate_params()  # the bound itself is allowed
    with pytest.raises(InvalidParameterError, match=rf"'{name}' parameter") as info:
        fit(family, **{name: refused})
    assert fragment in str(info.value)


SMALLEST_KEEP_PROB = 2.0**-32
BELOW = np.nextafter(SMALLEST_KEEP_PROB, 0.0)
TINY_KEEP_PROBS = [BELOW, 1e-12, (0.5, BELOW), [1e-300], np.array([0.9, 1e-12]),
                   np.float32(1e-12)]


@pytest.mark.parametrize("keep_prob", TINY_KEEP_PROBS, ids=repr)
def test_keep_prob_below_two_to_the_minus_32_is_refused(keep_prob):
    # The dropout kernel keeps a unit when a 32-bit hash is below
    # (uint32_t)(keep_prob * 2**32): 0 below 2**-32, so every unit would go.
    family = DeepNetwork if np.ndim(keep_prob) else ShallowNetwork
    family(keep_prob=SMALLEST_KEEP_PROB)._validate_params()
    with pytest.raises(InvalidParameterError, match=r"'keep_prob' parameter") as info:
        fit(family, keep_prob=keep_prob)
    assert "[2**-32 = 2.3283064365386963e-10, 1.0]" in str(info.value)
    assert "drop every unit" in str(info.value)


def test_more_threads_than_cores_warns_once_per_fit_and_runs(monkeypatch):
    import fastnn._threads
    monkeypatch.setattr(fastnn._threads, "available_cores", lambda: 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit(LogisticRegression, n_threads=2)  # as many as the cores: no word
    with pytest.warns(UserWarning, match="n_threads=3 is more than the 2 cores") as record:
        model = fit(DeepNetwork, n_threads=3)
    assert model.n_iter_ == 2
    ours = [w for w in record if type(w.message).__name__ == "ThreadOversubscriptionWarning"]
    assert len(ours) == 1
    warning = ours[0]
    assert "n_threads=3 is more than the 2 cores" in str(warning.message)
    assert "slower" in str(warning.message) and "n_threads=None" in str(warning.message)
    assert warning.filename == __file__  # points at the caller's line, not fastnn's


@pytest.fixture(scope="module")
def fitted():
    return LogisticRegression(max_iter=5, random_state=0).fit(X, y)


@pytest.mark.parametrize("max_checks", [0, -1, True, 2.5, "3"], ids=repr)
def test_gradcheck_refuses_bad_max_checks(fitted, max_checks):
    from fastnn.gradcheck import gradcheck
    with pytest.raises(ValueError, match=r"max_checks must be None or an int >= 1"):
        gradcheck(fitted, X, y, max_checks=max_checks)


@pytest.mark.parametrize("epsilon", [0.0, -1e-7, np.nan, np.inf, True, "1e-7"], ids=repr)
def test_gradcheck_refuses_bad_epsilon(fitted, epsilon):
    from fastnn.gradcheck import gradcheck
    with pytest.raises(ValueError, match=r"epsilon must be a finite real number > 0"):
        gradcheck(fitted, X, y, epsilon=epsilon)


def test_import_fastnn_reaches_gradcheck_and_datasets():
    script = ("import sys, fastnn; fastnn.gradcheck.gradcheck; fastnn.datasets.petal; "
              "fastnn.datasets.xnor; "
              "heavy = [m for m in ('matplotlib', 'tqdm', 'dask', 'torch') if m in sys.modules]; "
              "assert not heavy, heavy")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
