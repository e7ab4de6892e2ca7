"""Several threads sharing each batch (rows for the passes, columns for the
update) train the same model as one thread."""
import numpy as np
import pytest

from fastnn import DeepNetwork, DeepRegressor, LogisticRegression
from fastnn import reference as ref
from fastnn._random import training_generators

from conftest import relative_error

CASES = {
    "mini-batch shuffled dropout": dict(hidden=(9, 7), batch_size=13, shuffle=True,
                                        keep_prob=(0.9, 0.8, 0.7), max_iter=4),
    "full batch": dict(hidden=(6,), batch_size=None, max_iter=30),
    "one-row last batch": dict(hidden=(5, 3), batch_size=20, shuffle=True, max_iter=3),
    "no hidden layer": dict(hidden=(), batch_size=8, max_iter=5),
}


def fit(case, n_threads, dtype=np.float64, n_classes=3):
    settings = dict(CASES[case])
    hidden = settings.pop("hidden")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((61, 6)).astype(dtype)
    y = np.arange(61) % n_classes
    model = DeepNetwork(hidden, learning_rate=0.1, l2=0.01, cost_every=1, random_state=2,
                        n_threads=n_threads, **settings)
    return model.fit(X, y)


# 3 threads on a 2-core machine warn (ThreadOversubscriptionWarning): wanted here.
@pytest.mark.filterwarnings("ignore::fastnn.ThreadOversubscriptionWarning")
@pytest.mark.parametrize("n_threads", [2, 3])
@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_threads_train_the_same_model(case, n_threads, dtype):
    # With dropout too: a unit's mask is a function of its batch row, not of
    # the thread that draws it (reference.dropout_mask; the threads'
    # pieces of the rows are test_properties' dropout_mask row-split test).
    one = fit(case, 1, dtype)
    many = fit(case, n_threads, dtype)
    tolerance = 1e-12 if dtype == np.float64 else 1e-5
    for a, b in zip(one.coefs_ + one.intercepts_, many.coefs_ + many.intercepts_):
        assert relative_error(b, a) < tolerance
    np.testing.assert_allclose(many.costs_, one.costs_, rtol=tolerance)


def test_threaded_training_equals_the_reference():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((50, 4))
    y = rng.uniform(0.1, 0.9, size=(50, 2))
    # plain gradient descent from the notes' start: what ref.train computes
    model = DeepRegressor((8, 6), activation="tanh", output="sigmoid", learning_rate=0.2,
                          batch_size=9, shuffle=False, max_iter=4, keep_prob=0.8,
                          optimizer="gd", init="auto", random_state=0, n_threads=2,
                          cost_every=1)
    start = DeepRegressor((8, 6), activation="tanh", output="sigmoid", max_iter=0,
                          init="auto", random_state=0).fit(X, y)
    model.fit(X, y)
    coefs, intercepts, costs = ref.train(
        X, y, start.coefs_, start.intercepts_, hidden_activation="tanh",
        output_activation="sigmoid", loss="squared", learning_rate=0.2, max_iter=4,
        batch_size=9, keep_probs=model._keep_probs(3),
        dropout_seed=training_generators(0)[2].random_raw(), cost_every=1)
    for actual, expected in zip(model.coefs_ + model.intercepts_, coefs + intercepts):
        assert relative_error(actual, expected) < 1e-9
    np.testing.assert_allclose(model.costs_, costs, rtol=1e-9)


def test_exception_at_an_epoch_end_stops_every_thread():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    y = (X[:, 0] > 0).astype(int)
    model = LogisticRegression(max_iter=5, n_threads=2, batch_size=10).fit(X, y)
    before = model.coefs_[0].copy()

    def fail(progress):
        raise RuntimeError("stop everything")

    with pytest.raises(RuntimeError, match="stop everything"):
        model.set_params(max_iter=50, callbacks=[fail]).fit(X, y)
    np.testing.assert_array_equal(model.coefs_[0], before)

    def ctrl_c(progress):
        if progress.iteration == 2:
            raise KeyboardInterrupt

    with pytest.warns(UserWarning, match="interrupted"):
        model.set_params(cost_every=1, callbacks=[ctrl_c]).fit(X, y)
    assert model.n_iter_ == 3


@pytest.mark.parametrize("n_threads, expected_blas", [(1, 1), (2, 1)])
def test_given_n_threads_holds_blas_to_one_thread(n_threads, expected_blas):
    from threadpoolctl import threadpool_info
    seen = []

    def look(progress):
        seen.append({pool["num_threads"] for pool in threadpool_info()
                     if pool["user_api"] == "blas"})

    def blas_threads():
        return sorted(pool["num_threads"] for pool in threadpool_info()
                      if pool["user_api"] == "blas")

    before = blas_threads()
    X = np.random.default_rng(0).standard_normal((64, 8))
    y = np.arange(64) % 2
    DeepNetwork((16,), max_iter=2, cost_every=1, n_threads=n_threads, callbacks=[look]).fit(X, y)
    assert seen and all(threads == {expected_blas} for threads in seen)
    assert blas_threads() == before  # BLAS gets its threads back after the fit


def test_fits_in_parallel_python_threads_equal_sequential_fits():
    """The training loop releases the GIL: four fits at once in four Python
    threads give the weights of the same fits one after another."""
    from concurrent.futures import ThreadPoolExecutor
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 10))
    y = np.arange(300) % 3

    def fit(seed):
        return DeepNetwork((32, 16), learning_rate=0.05, batch_size=16, max_iter=15,
                           keep_prob=0.9, optimizer="adam", random_state=seed,
                           n_threads=1).fit(X, y)

    sequential = [fit(seed) for seed in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(fit, range(4)))
    for one, other in zip(sequential, parallel):
        for a, b in zip(one.coefs_ + one.intercepts_, other.coefs_ + other.intercepts_):
            np.testing.assert_array_equal(a, b)


def test_predict_from_several_threads_on_one_model():
    from concurrent.futures import ThreadPoolExecutor
    rng = np.random.default_rng(1)
    X = rng.standard_normal((5000, 10))
    y = np.arange(5000) % 3
    model = DeepNetwork((32,), max_iter=3, random_state=0).fit(X, y)
    expected = model.predict_proba(X)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda part: model.predict_proba(X), range(8)))
    for result in results:
        np.testing.assert_array_equal(result, expected)


@pytest.mark.parametrize("optimizer", ["gd", "adam"])
@pytest.mark.parametrize("weighted", [False, True])
def test_a_paced_team_trains_the_same_model(optimizer, weighted, dtype):
    """A paced team (n_threads=None's teams) has thread 0 take some steps
    alone: a probe of 8 steps after its first 32 team steps, however fast
    the team is; here they straddle epochs (5 steps each), with shuffling
    and dropout. The steps alone split the work as one thread does."""
    from fastnn._core import train as core
    from fastnn._core.stack import DenseStack
    from fastnn._training import Optimizer, TrainingPlan, TrainingState

    rng = np.random.default_rng(4)
    X = rng.standard_normal((47, 6)).astype(dtype)
    Y = np.eye(3, dtype=dtype)[rng.integers(0, 3, 47)]
    weights = rng.integers(0, 3, 47).astype(dtype) if weighted else None
    stack = DenseStack([6, 9, 7, 3], ["relu", "tanh", "softmax"], "cross_entropy", l2=0.1,
                       keep_probs=[1.0, 0.8, 0.9])
    start = (rng.standard_normal(stack.n_params) * 0.4).astype(dtype)

    def train(n_threads, pacer):
        params = start.copy()
        plan = TrainingPlan(epochs=12, batch_size=10, shuffle=True, cost_every=1,
                            n_threads=n_threads, pacer=pacer)
        state = TrainingState(shuffle_stream=np.random.PCG64(1), dropout_stream=np.random.PCG64(2))
        result = core.train(stack, params, X, Y, plan, Optimizer(kind=optimizer, learning_rate=0.05),
                            state, weights)
        return params, result

    one, one_result = train(1, None)
    pacer = core.TeamPacer()
    paced, paced_result = train(2, pacer)
    assert pacer.steps_alone >= 8
    tolerance = 1e-12 if dtype == np.float64 else 1e-5
    assert relative_error(paced, one) < tolerance
    np.testing.assert_allclose(paced_result.costs, one_result.costs, rtol=tolerance)
    assert paced_result.n_iter == one_result.n_iter == 12
