"""Bad input: a clear ValueError/TypeError naming the problem, and a failed
fit leaves an already-fitted model exactly as it was."""
import copy
import dataclasses

import numpy as np
import pytest

from fastnn import LogisticRegression

RNG = np.random.default_rng(0)
X = RNG.standard_normal((40, 3))
y = (X[:, 0] > 0).astype(int)


def with_value(array, index, value):
    array = array.astype(np.float64)
    array[index] = value
    return array


BAD_DATA = {
    "nan in X": (with_value(X, (0, 1), np.nan), y, ValueError, "Input X contains NaN"),
    "inf in X": (with_value(X, (2, 0), np.inf), y, ValueError, "Input X contains infinity"),
    "nan in y": (X, with_value(y, 3, np.nan), ValueError, "Input y contains NaN"),
    "three classes": (X, np.arange(40) % 3, ValueError, "exactly 2 classes"),
    "one class": (X, np.zeros(40), ValueError, "at least two classes"),
    "continuous y": (X, np.linspace(0, 1, 40), ValueError, "Unknown label type"),
    "length mismatch": (X, y[:-1], ValueError, "inconsistent numbers of samples"),
    "empty X": (np.empty((0, 3)), np.empty(0), ValueError, "0 sample"),
    "no features": (np.empty((40, 0)), y, ValueError, "0 feature"),
    "1-D X": (X[:, 0], y, ValueError, "Expected 2D array"),
    "3-D X": (X[:, :, None], y, ValueError, "dim 3"),
    "string X": (np.full((40, 3), "a"), y, ValueError, "could not convert string to float"),
    "complex X": (X + 1j, y, ValueError, "Complex data not supported"),
    "2-D y": (X, np.c_[y, y], ValueError, "y should be a 1d array"),
}

BAD_PARAMETERS = {
    "learning_rate=0": (dict(learning_rate=0), "'learning_rate' parameter"),
    "learning_rate<0": (dict(learning_rate=-0.1), "'learning_rate' parameter"),
    "learning_rate str": (dict(learning_rate="fast"), "'learning_rate' parameter"),
    "batch_size=0": (dict(batch_size=0), "'batch_size' parameter"),
    "batch_size float": (dict(batch_size=2.5), "'batch_size' parameter"),
    "max_iter<0": (dict(max_iter=-1), "'max_iter' parameter"),
    "l2<0": (dict(l2=-1.0), "'l2' parameter"),
    "cost_every=0": (dict(cost_every=0), "'cost_every' parameter"),
    "unknown init": (dict(init="bogus"), "'init' parameter"),
    "integer dtype": (dict(dtype="int32"), "'dtype' parameter"),
    "shuffle str": (dict(shuffle="yes"), "'shuffle' parameter"),
    "init wrong shape": (dict(init=([np.zeros((2, 1))], [np.zeros(1)])), "must have shape (3, 1)"),
    "init wrong count": (dict(init=([], [])), "needs 1 weight matrices"),
    "init nan": (dict(init=([np.full((3, 1), np.nan)], [np.zeros(1)])), "NaN or infinity"),
    "init complex": (dict(init=([np.ones((3, 1)) * 1j], [np.zeros(1)])), "real numeric array"),
}


@pytest.mark.parametrize("case", BAD_DATA, ids=list(BAD_DATA))
def test_bad_data_is_refused_with_a_message(case):
    X_bad, y_bad, error, fragment = BAD_DATA[case]
    with pytest.raises(error, match=fragment):
        LogisticRegression(max_iter=5).fit(X_bad, y_bad)


@pytest.mark.parametrize("case", BAD_PARAMETERS, ids=list(BAD_PARAMETERS))
def test_bad_parameters_are_refused_with_a_message(case):
    params, fragment = BAD_PARAMETERS[case]
    with pytest.raises((ValueError, TypeError)) as info:
        LogisticRegression(**{"max_iter": 5, **params}).fit(X, y)
    assert fragment in str(info.value)


def snapshot(model):
    return copy.deepcopy(vars(model))


def assert_same_value(actual, saved, name):
    if isinstance(saved, (list, tuple)):
        assert type(actual) is type(saved) and len(actual) == len(saved), name
        for part, saved_part in zip(actual, saved):
            assert_same_value(part, saved_part, name)
    elif isinstance(saved, np.ndarray):
        np.testing.assert_array_equal(actual, saved)
        assert actual.dtype == saved.dtype, name
    elif isinstance(saved, np.random.BitGenerator):
        assert actual.state == saved.state, name  # same stream, same position
    elif dataclasses.is_dataclass(saved):   # the TrainingState, field by field
        assert type(actual) is type(saved), name
        for field in dataclasses.fields(saved):
            assert_same_value(getattr(actual, field.name), getattr(saved, field.name),
                              f"{name}.{field.name}")
    else:
        assert actual == saved, name


def assert_same_state(model, saved):
    state = vars(model)
    assert state.keys() == saved.keys()
    for name, value in saved.items():
        assert_same_value(state[name], value, name)


@pytest.mark.parametrize("case", BAD_DATA, ids=list(BAD_DATA))
def test_failed_fit_leaves_fitted_model_unchanged(case):
    # Fitted on other data (5 features, string labels) so that any attribute a
    # failed fit touched, n_features_in_ and classes_ included, would show.
    rng = np.random.default_rng(1)
    X_good = rng.standard_normal((30, 5))
    y_good = np.where(X_good[:, 1] > 0, "yes", "no")
    model = LogisticRegression(max_iter=20).fit(X_good, y_good)
    saved = snapshot(model)
    X_bad, y_bad, error, _ = BAD_DATA[case]
    with pytest.raises(error):
        model.fit(X_bad, y_bad)
    assert_same_state(model, saved)
    np.testing.assert_array_equal(model.predict(X_good), LogisticRegression(max_iter=20).fit(X_good, y_good).predict(X_good))


def test_failed_fit_with_bad_parameter_leaves_model_unchanged():
    model = LogisticRegression(max_iter=20).fit(X, y)
    saved = snapshot(model)
    model.set_params(init=([np.zeros((3, 2))], [np.zeros(1)]))
    with pytest.raises(ValueError):
        model.fit(X, y)
    saved["init"] = model.init  # the parameter itself was set by the caller
    assert_same_state(model, saved)


def test_prediction_input_is_checked():
    model = LogisticRegression(max_iter=20).fit(X, y)
    with pytest.raises(ValueError, match="X has 2 features, but LogisticRegression is expecting 3"):
        model.predict(X[:, :2])
    with pytest.raises(ValueError, match="Input X contains NaN"):
        model.predict_proba(with_value(X, (0, 0), np.nan))
    with pytest.raises(ValueError, match="labels not seen in fit"):
        model.loss_gradient(X, y + 5)


def test_unfitted_model_refuses_to_predict():
    from sklearn.exceptions import NotFittedError
    with pytest.raises(NotFittedError):
        LogisticRegression().predict(X)
    with pytest.raises(NotFittedError):
        LogisticRegression().loss_gradient(X, y)


def test_unusual_but_valid_arrays_give_the_canonical_result():
    """F-ordered, strided, read-only, int and bool X are valid: same result as
    the C-ordered float64 copy."""
    X_int = (X * 10).astype(np.int64)
    canonical = LogisticRegression(max_iter=50).fit(X_int.astype(np.float64), y)
    read_only = X_int.astype(np.float64)
    read_only.setflags(write=False)
    strided = np.repeat(X_int.astype(np.float64), 2, axis=1)[:, ::2]
    for variant in (X_int, np.asfortranarray(X_int.astype(np.float64)), read_only, strided):
        model = LogisticRegression(max_iter=50).fit(variant, y)
        np.testing.assert_array_equal(model.coefs_[0], canonical.coefs_[0])
        np.testing.assert_array_equal(model.predict_proba(variant), canonical.predict_proba(X_int))
    bools = X > 0
    np.testing.assert_array_equal(
        LogisticRegression(max_iter=50).fit(bools, y).coefs_[0],
        LogisticRegression(max_iter=50).fit(bools.astype(np.float64), y).coefs_[0])


from fastnn import DeepNetwork, DeepRegressor, ShallowNetwork  # noqa: E402

NETWORK_PARAMETERS = {
    "unknown activation": (DeepNetwork, dict(activation="swish"), "'activation' parameter"),
    "unknown output": (DeepRegressor, dict(output="relu"), "'output' parameter"),
    "unknown optimizer": (DeepNetwork, dict(optimizer="sgd"), "'optimizer' parameter"),
    "unknown init": (ShallowNetwork, dict(init="lecun"), "'init' parameter"),
    "zero init with hidden layers": (DeepNetwork, dict(init="zeros"), "same gradient"),
    "layer width 0": (DeepNetwork, dict(hidden_layer_sizes=(4, 0)), "'hidden_layer_sizes' parameter"),
    "shallow width 0": (ShallowNetwork, dict(hidden_layer_size=0), "'hidden_layer_size'"),
    "keep_prob 0": (DeepNetwork, dict(keep_prob=0.0), "'keep_prob' parameter"),
    "keep_prob above 1": (DeepRegressor, dict(keep_prob=1.2), "'keep_prob' parameter"),
    "keep_prob too many entries": (DeepNetwork, dict(keep_prob=(0.5, 0.5, 0.5)), "sequence of 1"),
    "negative leaky slope": (DeepNetwork, dict(leaky_slope=-0.1), "'leaky_slope' parameter"),
    "negative l2": (DeepRegressor, dict(l2=-1.0), "'l2' parameter"),
    "learning rate 0": (ShallowNetwork, dict(learning_rate=0.0), "'learning_rate' parameter"),
    "n_threads 0": (DeepNetwork, dict(n_threads=0), "'n_threads' parameter"),
    "validation fraction 1": (DeepNetwork, dict(validation_fraction=1.0),
                              "'validation_fraction' parameter"),
    "n_iter_no_change 0": (DeepNetwork, dict(n_iter_no_change=0), "'n_iter_no_change'"),
    "callbacks not a list": (DeepNetwork, dict(callbacks=print), "'callbacks' parameter"),
    "init of the wrong shape": (DeepNetwork, dict(hidden_layer_sizes=(4,), init=(
        [np.zeros((3, 5)), np.zeros((5, 1))], [np.zeros(5), np.zeros(1)])), "must have shape (3, 4)"),
    "init of strings": (DeepNetwork, dict(hidden_layer_sizes=(4,), init=(
        [np.full((3, 4), "a"), np.zeros((4, 1))], [np.zeros(4), np.zeros(1)])), "real numeric"),
}


@pytest.mark.parametrize("case", NETWORK_PARAMETERS, ids=list(NETWORK_PARAMETERS))
def test_network_parameters_are_checked_in_fit(case):
    family, params, fragment = NETWORK_PARAMETERS[case]
    settings = {"hidden_layer_size": 4} if family is ShallowNetwork else {"hidden_layer_sizes": (4,)}
    model = family(**{**settings, "max_iter": 2, **params})  # the constructor only stores
    target = X[:, 0] if family is DeepRegressor else y
    with pytest.raises((ValueError, TypeError)) as info:
        model.fit(X, target)
    assert fragment in str(info.value)
