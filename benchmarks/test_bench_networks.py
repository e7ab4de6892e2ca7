"""pytest-benchmark guard: networks, fastnn beside the NumPy reference.

    pytest benchmarks/test_bench_networks.py

Workloads (issue 3; W2-W5 of the comparison): synthetic data of the stated
shapes, plain gradient descent. Each group times fastnn in float32 and
float64 and the reference (float64 only); compare rows within a group as
ratios. Every fastnn run is checked to do the reference's work: its first
recorded cost is that of the shared starting weights (full batch), and the
trajectories themselves are checked against the reference in tests/.
"""
import numpy as np
import pytest

from fastnn import DeepNetwork, ShallowNetwork
from fastnn import reference as ref
from fastnn.datasets import petal

WORKLOADS = {
    # name: (n_samples, n_features, hidden, activation, n_classes, batch, epochs, lr, init)
    "W2 2-4-1 tanh n=400 10000 full-batch": (400, 2, (4,), "tanh", 2, None, 10000, 1.2, "small"),
    "W3 784-256-128-10 relu n=60000 batch 64 1 epoch": (60000, 784, (256, 128), "relu", 10, 64, 1, 0.01, "he"),
    "W4 784-256-128-10 relu n=60000 batch 1024 3 epochs": (60000, 784, (256, 128), "relu", 10, 1024, 3, 0.01, "he"),
    "W5 12288-20-7-5-1 relu n=209 300 full-batch": (209, 12288, (20, 7, 5), "relu", 2, None, 300, 0.0075, "he"),
}
ROUNDS = {"W2": 3, "W3": 2, "W4": 1, "W5": 2}


def make_data(name):
    n, d, _, _, n_classes, *_ = WORKLOADS[name]
    if name.startswith("W2"):
        return petal(n, random_state=0)
    rng = np.random.default_rng(0)
    X = rng.random((n, d))
    y = rng.integers(0, n_classes, n)
    return X, y


def make_model(name, **overrides):
    _, _, hidden, activation, _, batch, epochs, lr, init = WORKLOADS[name]
    params = dict(activation=activation, learning_rate=lr, batch_size=batch, max_iter=epochs,
                  optimizer="gd", init=init, shuffle=False, random_state=0,
                  cost_every=max(1, epochs // 10))
    params.update(overrides)
    if len(hidden) == 1 and name.startswith("W2"):
        return ShallowNetwork(hidden[0], **params)
    return DeepNetwork(hidden, **params)


@pytest.fixture(scope="module", params=list(WORKLOADS))
def workload(request):
    name = request.param
    X, y = make_data(name)
    start = make_model(name, max_iter=0).fit(X, y)
    return name, X, y, start


def reference_fit(name, X, y, start):
    _, _, _, activation, _, batch, epochs, lr, _ = WORKLOADS[name]
    output, loss = start._output_activation_and_loss(start.coefs_[-1].shape[1])
    Y = start._encode_targets(y).astype(np.float64)
    return ref.train(X, Y, start.coefs_, start.intercepts_, hidden_activation=activation,
                     output_activation=output, loss=loss, learning_rate=lr, max_iter=epochs,
                     batch_size=batch, cost_every=start.cost_every)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_fastnn(benchmark, workload, dtype):
    name, X, y, start = workload
    benchmark.group = name
    X = X.astype(dtype)
    init = (start.coefs_, start.intercepts_)
    model = benchmark.pedantic(lambda: make_model(name, init=init).fit(X, y),
                               rounds=ROUNDS[name[:2]], warmup_rounds=0)
    assert model.n_iter_ == WORKLOADS[name][6]
    if WORKLOADS[name][5] is None:
        # Full batch: the first recorded cost is the cost of the starting weights.
        assert model.costs_[0] == pytest.approx(start.loss_gradient(X, y)[0], rel=1e-5)
    assert np.all(np.isfinite(model.costs_))


def test_reference(benchmark, workload):
    name, X, y, start = workload
    benchmark.group = name
    benchmark.pedantic(reference_fit, args=(name, X, y, start), rounds=1, warmup_rounds=0)
