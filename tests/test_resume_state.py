"""Acceptance tests for issue 13: the training state that save/load moves whole.

1. Saving mid-training, loading and going on equals going on without the
   round trip, bit for bit (weights, costs_, n_iter_, dev_costs_,
   best_iteration_, predictions), for warm_start fits and partial_fit
   sequences, over the optimisers, dropout, shuffled mini-batches with a
   short last batch, the inverse learning-rate schedule, early stopping,
   sample weights, both float dtypes and every estimator class.
2. Every public fitted attribute survives save/load: same names, equal
   values, equal dtypes.
3. A warm-started fit with early stopping holds out the same rows as the
   first fit (stratified for classifiers), also after save/load.

Only the public API is used (fastnn.load, save, fit, partial_fit,
warm_start, set_params, loss_gradient), except where the held-out rows of
early stopping must be recomputed: that needs the split's seed, kept in the
documented TrainingState (`_training_state.split_seed`).
"""
import copy
import io

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

import fastnn
from fastnn import DeepNetwork, DeepRegressor, LogisticRegression, ShallowNetwork

# 103 rows in batches of 16: six full batches and a short last one of 7.
N_ROWS, N_FEATURES, BATCH = 103, 5, 16
RNG = np.random.default_rng(13)
X = RNG.standard_normal((N_ROWS, N_FEATURES))
TARGETS = {
    "binary": np.array(["no", "yes"])[(X[:, 0] + 0.5 * RNG.standard_normal(N_ROWS) > 0)
                                      .astype(int)],
    "multiclass": np.argmax(X[:, :3] + 0.5 * RNG.standard_normal((N_ROWS, 3)), axis=1),
    "regression": np.tanh(X[:, 0] - X[:, 1]) + 0.1 * RNG.standard_normal(N_ROWS),
    "regression-2d": np.column_stack([np.tanh(X[:, 0]), X[:, 1] * X[:, 2]]),
}
# Non-negative weights with some zeros (rows that count as absent).
SAMPLE_WEIGHT = np.where(np.arange(N_ROWS) % 7 == 0, 0.0, RNG.uniform(0.2, 3.0, N_ROWS))

# Settings every case shares: shuffled mini-batches with a short last batch,
# the inverse schedule with a positive decay, L2, a cost every epoch.
COMMON = dict(learning_rate=0.05, batch_size=BATCH, shuffle=True, l2=0.01,
              learning_rate_schedule="inverse", decay_rate=0.1, cost_every=1, random_state=7)

# name: (class, its own settings (dropout with a leading input keep prob
# where the class has dropout), target)
ESTIMATORS = {
    "logistic": (LogisticRegression, dict(init="small"), "binary"),
    "shallow": (ShallowNetwork, dict(hidden_layer_size=6, keep_prob=(0.9, 0.8)), "binary"),
    "deep": (DeepNetwork, dict(hidden_layer_sizes=(6, 5), keep_prob=(0.9, 0.8, 0.7)),
             "multiclass"),
    "regressor": (DeepRegressor, dict(hidden_layer_sizes=(6,), keep_prob=(0.9, 0.8)),
                  "regression"),
}
OPTIMIZERS = ["adam", "rmsprop", "momentum", "gd", "heavy_ball", "nesterov",
              "adam_step_corrected"]


def make(estimator, dtype="float64", **settings):
    cls, own, target = ESTIMATORS[estimator]
    return cls(**{**COMMON, **own, "dtype": dtype, **settings}), TARGETS[target]


def round_trip(model):
    """fastnn.load(model.save(...)), through an in-memory file."""
    buffer = io.BytesIO()
    model.save(buffer)
    buffer.seek(0)
    return fastnn.load(buffer)


def public_fitted(model):
    return sorted(name for name in vars(model) if name.endswith("_") and not name.startswith("_"))


def assert_same_value(a, b, what):
    if isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), what
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same_value(x, y, f"{what}[{i}]")
    elif isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray), what
        assert a.dtype == b.dtype, f"{what}: dtype {a.dtype} != {b.dtype}"
        assert a.shape == b.shape, f"{what}: shape {a.shape} != {b.shape}"
        assert np.array_equal(a, b), f"{what} differs"
    elif a is None or b is None:
        assert a is None and b is None, f"{what}: {a!r} != {b!r}"
    else:
        assert a == b, f"{what}: {a!r} != {b!r}"
        assert np.asarray(a).dtype == np.asarray(b).dtype, \
            f"{what}: {type(a).__name__} != {type(b).__name__}"


def assert_identical(a, b):
    """Bit for bit the same training outcome: weights, costs, counts, early
    stopping's record and the predictions."""
    for name in ("coefs_", "intercepts_", "costs_", "n_iter_"):
        assert_same_value(getattr(a, name), getattr(b, name), name)
    for name in ("dev_costs_", "best_iteration_"):
        assert hasattr(a, name) == hasattr(b, name), name
        if hasattr(a, name):
            assert_same_value(getattr(a, name), getattr(b, name), name)
    assert_same_value(a.predict(X), b.predict(X), "predict")
    if hasattr(a, "predict_proba"):
        assert_same_value(a.predict_proba(X), b.predict_proba(X), "predict_proba")


def assert_moved(before, after):
    """The continuation did train: the weights changed and epochs were counted."""
    assert after.n_iter_ > before.n_iter_
    assert any(not np.array_equal(p, q) for p, q in
               zip(before.coefs_ + before.intercepts_, after.coefs_ + after.intercepts_))


def start(model, y, mode, fit_kwargs, epochs=3):
    """The first part of training: one fit of `epochs` (then warm_start on,
    and max_iter back to the model's own for the continuing fits), or
    `epochs` partial_fit calls."""
    if mode == "warm_start":
        max_iter = model.max_iter
        model.set_params(max_iter=epochs).fit(X, y, **fit_kwargs)
        model.set_params(warm_start=True, max_iter=max_iter)
    else:
        for _ in range(epochs):
            model.partial_fit(X, y, **fit_kwargs)
    return model


def go_on(model, y, mode, fit_kwargs, calls=2, reload=False):
    """The continuation: `calls` fits (warm-started, max_iter epochs each) or
    partial_fit calls; with reload, a save/load round trip before each."""
    for _ in range(calls):
        if reload:
            model = round_trip(model)
        if mode == "warm_start":
            model.fit(X, y, **fit_kwargs)
        else:
            model.partial_fit(X, y, **fit_kwargs)
    return model


def check_resume(model, y, mode, fit_kwargs=None, epochs=3, calls=2):
    """The model trained partway (`epochs`), then continued (`calls` calls of
    max_iter epochs, or of partial_fit) three ways from the same
    state: in memory, from a deep copy, and through save/load before every
    continuing call. All three must agree bit for bit, and must have moved."""
    fit_kwargs = dict(fit_kwargs or {})
    model = start(model, y, mode, fit_kwargs, epochs)
    before = copy.deepcopy(model)
    twin = copy.deepcopy(model)
    loaded = round_trip(model)
    assert_identical(loaded, model)   # nothing changed by the round trip itself
    direct = go_on(model, y, mode, fit_kwargs, calls)
    go_on(twin, y, mode, fit_kwargs, calls)
    reloaded = go_on(loaded, y, mode, fit_kwargs, calls, reload=True)
    assert_moved(before, direct)
    assert_identical(twin, direct)      # the continuation is deterministic
    assert_identical(reloaded, direct)  # and the file holds all it goes on from
    return direct


# -- 1. going on after save/load equals going on ----------------------------
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("mode", ["warm_start", "partial_fit"])
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("estimator", list(ESTIMATORS))
def test_resume_after_load_equals_resume(estimator, optimizer, mode, dtype):
    model, y = make(estimator, dtype, optimizer=optimizer, max_iter=2)
    done = check_resume(model, y, mode)
    assert done.coefs_[0].dtype == np.dtype(dtype)
    assert done.n_iter_ == 3 + 2 * (2 if mode == "warm_start" else 1)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("mode", ["warm_start", "partial_fit"])
@pytest.mark.parametrize("estimator", list(ESTIMATORS))
def test_resume_after_load_with_sample_weight(estimator, mode, dtype):
    model, y = make(estimator, dtype, optimizer="adam", max_iter=2)
    check_resume(model, y, mode, {"sample_weight": SAMPLE_WEIGHT})


@pytest.mark.parametrize("optimizer", ["adam", "momentum"])
@pytest.mark.parametrize("estimator", list(ESTIMATORS))
def test_resume_after_load_with_early_stopping(estimator, optimizer):
    # n_iter_no_change=2 lets the continuing fits stop early (or not) on their own.
    model, y = make(estimator, optimizer=optimizer, learning_rate=0.3, max_iter=4,
                    early_stopping=True, validation_fraction=0.2, n_iter_no_change=2)
    done = check_resume(model, y, "warm_start", epochs=4, calls=3)
    assert hasattr(done, "dev_costs_") and done.best_iteration_ is not None


@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("estimator", ["shallow", "regressor"])
def test_resume_after_load_with_a_dev_set(estimator, early_stopping):
    model, y = make(estimator, optimizer="rmsprop", max_iter=3, early_stopping=early_stopping,
                    n_iter_no_change=2)
    check_resume(model, y, "warm_start", {"dev": (X[:30], y[:30])})


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_resume_after_load_with_early_stopping_and_sample_weight(dtype):
    model, y = make("deep", dtype, optimizer="adam", max_iter=3, early_stopping=True,
                    n_iter_no_change=5)
    check_resume(model, y, "warm_start", {"sample_weight": SAMPLE_WEIGHT})


@pytest.mark.parametrize("mode", ["warm_start", "partial_fit"])
def test_resume_after_load_of_a_two_output_regressor_in_full_batches(mode):
    model = DeepRegressor((4, 3), **{**COMMON, "batch_size": None}, optimizer="adam",
                          keep_prob=0.85, max_iter=2)
    check_resume(model, TARGETS["regression-2d"], mode)


@pytest.mark.parametrize("estimator", ["logistic", "deep"])
def test_resume_after_load_with_costs_every_other_epoch(estimator):
    # cost_every=2 over odd epoch counts: which epochs record a cost counts on.
    model, y = make(estimator, optimizer="rmsprop", cost_every=2, max_iter=3)
    done = check_resume(model, y, "warm_start", epochs=3, calls=2)
    assert done.n_iter_ == 9
    assert done.costs_.shape == (5,)   # epochs 0, 2, 4, 6, 8 of 0..8


def test_partial_fit_over_chunks_after_load():
    # Chunks of other sizes on alternate calls, shuffled, with dropout.
    model, y = make("deep", optimizer="adam")
    chunks = [(X[:60], y[:60]), (X[60:], y[60:])]
    model.partial_fit(*chunks[0], classes=np.unique(y))
    model.partial_fit(*chunks[1])
    model.partial_fit(*chunks[0])
    twin, loaded = copy.deepcopy(model), round_trip(model)
    for i, chunk in enumerate(chunks * 2):
        model.partial_fit(*chunk)
        twin.partial_fit(*chunk)
        loaded = round_trip(loaded).partial_fit(*chunk)
    assert_identical(twin, model)
    assert_identical(loaded, model)


def test_one_long_fit_equals_halves_through_a_file():
    # The file sits between the halves of one long fit (shuffle, adam, the
    # inverse schedule; no dropout, whose masks are seeded once per call).
    fresh = DeepNetwork((6, 5), **COMMON, optimizer="adam", max_iter=8)
    whole = copy.deepcopy(fresh).fit(X, TARGETS["multiclass"])
    halves = copy.deepcopy(fresh).set_params(max_iter=4, warm_start=True)
    halves.fit(X, TARGETS["multiclass"])
    through_file = round_trip(halves).fit(X, TARGETS["multiclass"])
    halves.fit(X, TARGETS["multiclass"])
    assert_identical(through_file, halves)
    assert through_file.n_iter_ == whole.n_iter_ == 8
    for a, b in zip(through_file.coefs_ + through_file.intercepts_,
                    whole.coefs_ + whole.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(through_file.costs_, whole.costs_, rtol=1e-10)


# -- 2. every public fitted attribute survives save/load --------------------
FITS = {
    "plain": dict(settings={}, kwargs=lambda y: {}),
    "early stopping": dict(settings=dict(early_stopping=True, validation_fraction=0.2,
                                         n_iter_no_change=2, learning_rate=0.3),
                           kwargs=lambda y: {}),
    "dev set": dict(settings={}, kwargs=lambda y: {"dev": (X[:30], y[:30])}),
    "dev set and early stopping": dict(settings=dict(early_stopping=True, n_iter_no_change=2),
                                       kwargs=lambda y: {"dev": (X[:30], y[:30])}),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("fit", list(FITS))
@pytest.mark.parametrize("estimator", list(ESTIMATORS))
def test_every_public_fitted_attribute_survives_save_load(estimator, fit, dtype):
    model, y = make(estimator, dtype, optimizer="adam", max_iter=6, **FITS[fit]["settings"])
    model.fit(X, y, **FITS[fit]["kwargs"](y))
    names = public_fitted(model)
    assert {"coefs_", "intercepts_", "costs_", "n_iter_", "n_features_in_"} <= set(names)
    if fit != "plain":
        assert {"dev_costs_", "best_iteration_"} <= set(names)
    loaded = round_trip(model)
    assert public_fitted(loaded) == names
    for name in names:
        assert_same_value(getattr(loaded, name), getattr(model, name), name)
    # and again after a warm-started fit
    model.set_params(warm_start=True).fit(X, y, **FITS[fit]["kwargs"](y))
    loaded = round_trip(model)
    assert public_fitted(loaded) == public_fitted(model)
    for name in public_fitted(model):
        assert_same_value(getattr(loaded, name), getattr(model, name), name)


# assert_identical predicts on the bare array X
@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
@pytest.mark.parametrize("estimator", list(ESTIMATORS))
def test_public_fitted_attributes_survive_after_partial_fit_and_with_feature_names(estimator):
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame(X, columns=[f"f{i}" for i in range(N_FEATURES)])
    model, y = make(estimator, optimizer="momentum")
    model.partial_fit(frame, y)
    model.partial_fit(frame, y)
    assert "feature_names_in_" in public_fitted(model)
    loaded = round_trip(model)
    assert public_fitted(loaded) == public_fitted(model)
    for name in public_fitted(model):
        assert_same_value(getattr(loaded, name), getattr(model, name), name)
    # the names still guard the columns after loading, and training goes on alike
    model.partial_fit(frame, y)
    loaded.partial_fit(frame, y)
    assert_identical(loaded, model)


# -- 3. a warm-started fit with early stopping holds out the same rows -------
def split_seed(model):
    """The seed of early stopping's held-out rows (the TrainingState's)."""
    state = getattr(model, "_training_state", None)
    return state.split_seed if state is not None else model._split_seed


def held_out(model, y, seed, stratified):
    """The rows the first fit holds out: train_test_split as in _dev_monitor."""
    rows = np.arange(len(y))
    _, dev_rows = train_test_split(rows, test_size=model.validation_fraction, random_state=seed,
                                   stratify=y if stratified else None)
    return dev_rows


def dev_loss(model, rows, y):
    """The mean loss (no L2 term) of the model's current weights on `rows`."""
    unregularised = copy.deepcopy(model).set_params(l2=0.0)
    return unregularised.loss_gradient(X[rows], y[rows])[0]


HOLD_OUT = {
    "binary": (ShallowNetwork, dict(hidden_layer_size=6), "binary", True),
    "multiclass": (DeepNetwork, dict(hidden_layer_sizes=(6, 5)), "multiclass", True),
    "regressor": (DeepRegressor, dict(hidden_layer_sizes=(6,)), "regression", False),
}


@pytest.mark.parametrize("reload", [False, True], ids=["in memory", "after save/load"])
@pytest.mark.parametrize("case", list(HOLD_OUT))
def test_warm_started_early_stopping_holds_out_the_same_rows(case, reload):
    cls, own, target, stratified = HOLD_OUT[case]
    y = TARGETS[target]
    model = cls(**{**COMMON, **own, "l2": 0.05}, optimizer="adam", keep_prob=0.9, max_iter=1,
                early_stopping=True, validation_fraction=0.25, n_iter_no_change=3)
    model.fit(X, y)
    seed = split_seed(model)
    rows = held_out(model, y, seed, stratified)
    assert len(rows) == int(np.ceil(0.25 * N_ROWS))
    # With one epoch the restored best weights are that epoch's: its recorded
    # dev cost is their mean loss on the held-out rows.
    assert model.n_iter_ == 1 and model.best_iteration_ is not None
    assert len(model.dev_costs_) == 1
    assert model.dev_costs_[-1] == pytest.approx(dev_loss(model, rows, y), rel=1e-12, abs=0)
    # The test tells other rows apart: another split gives another loss.
    other = held_out(model, y, seed + 1, stratified)
    assert abs(dev_loss(model, other, y) - model.dev_costs_[-1]) > 1e-6
    if stratified:
        plain = held_out(model, y, seed, stratified=False)
        assert set(plain) != set(rows)
        assert abs(dev_loss(model, plain, y) - model.dev_costs_[-1]) > 1e-6

    for _ in range(2):   # each warm-started fit holds out the first fit's rows
        if reload:
            model = round_trip(model)
        model.set_params(warm_start=True).fit(X, y)
        assert split_seed(model) == seed
        assert len(model.dev_costs_) == 1
        assert model.dev_costs_[-1] == pytest.approx(dev_loss(model, rows, y), rel=1e-12, abs=0)
    assert model.n_iter_ == 3


def test_warm_started_early_stopping_holds_out_the_same_rows_with_sample_weight():
    cls, own, target, stratified = HOLD_OUT["multiclass"]
    y = TARGETS[target]
    model = cls(**{**COMMON, **own}, optimizer="rmsprop", max_iter=1, early_stopping=True,
                validation_fraction=0.2, n_iter_no_change=3)
    model.fit(X, y, sample_weight=SAMPLE_WEIGHT)
    rows = held_out(model, y, split_seed(model), stratified)
    assert model.dev_costs_[-1] == pytest.approx(dev_loss(model, rows, y), rel=1e-12, abs=0)
    model = round_trip(model).set_params(warm_start=True)
    model.fit(X, y, sample_weight=SAMPLE_WEIGHT)
    assert model.dev_costs_[-1] == pytest.approx(dev_loss(model, rows, y), rel=1e-12, abs=0)
