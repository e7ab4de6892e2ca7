"""pytest-benchmark guard: LogisticRegression.fit against the NumPy reference.

    pytest benchmarks/test_bench_logistic.py

Workload (issue 2, W1 of the comparison script): n=20000, d=30, 2000
full-batch iterations, float64. Compare the two rows of the table as a ratio;
absolute seconds depend on the machine and its load.
"""
import numpy as np
import pytest

from fastnn import LogisticRegression
from fastnn import reference as ref

N_SAMPLES, N_FEATURES, N_ITER, LEARNING_RATE = 20_000, 30, 2000, 0.1


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N_SAMPLES, N_FEATURES))
    w = rng.standard_normal(N_FEATURES)
    y = (X @ w + rng.standard_normal(N_SAMPLES) > 0).astype(np.int64)
    return X, y


def fit_fastnn(X, y):
    return LogisticRegression(learning_rate=LEARNING_RATE, max_iter=N_ITER).fit(X, y)


def fit_reference(X, y):
    return ref.train(X, y.reshape(-1, 1).astype(np.float64), [np.zeros((N_FEATURES, 1))],
                     [np.zeros(1)], hidden_activation="identity", output_activation="sigmoid",
                     loss="log_loss", learning_rate=LEARNING_RATE, max_iter=N_ITER)


@pytest.mark.benchmark(group="logistic n=20000 d=30 2000 iterations float64")
def test_fastnn_fit(benchmark, data):
    model = benchmark.pedantic(fit_fastnn, args=data, rounds=5, warmup_rounds=1)
    # Same work as the reference: same final cost.
    expected_costs = fit_reference(*data)[2]
    np.testing.assert_allclose(model.costs_, expected_costs, rtol=1e-10)


@pytest.mark.benchmark(group="logistic n=20000 d=30 2000 iterations float64")
def test_reference_fit(benchmark, data):
    benchmark.pedantic(fit_reference, args=data, rounds=5, warmup_rounds=1)
