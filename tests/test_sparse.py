"""Sparse X (SciPy CSR, and what converts to it) through the compiled first
layer: layer 0's forward product X W_0 and weight gradient X^T delta_0 come
from the nonzeros, read in place through the batch's row order. Every result
of the sparse path equals the dense path on the same data (float64: within
1e-10 relative; float32: at float32 precision): predict_output, cost,
loss_gradient and train trajectories over the optimisers, threads, sample
weights, networks and losses. SciPy's corner cases (int32/int64 indices,
unsorted indices, explicit zeros, duplicate entries, empty rows, no nonzero
at all, CSC/COO input) need nothing special, and a hostile structure is a
ValueError, never a crash."""
import numpy as np
import pytest
import scipy.sparse as sp

from fastnn._core import train as core
from fastnn._core.stack import DenseStack
from fastnn._training import Optimizer, TrainingPlan, TrainingState

from conftest import relative_error

TOLERANCE = {np.float64: 1e-10, np.float32: 1e-4}

# name: (layer sizes, activations, loss). The first two have more inputs
# than units (threads split W_0 by its rows, the nonzeros by their column);
# the last fewer (threads split W_0 by its columns).
NETWORKS = {
    "2-layer relu softmax": ((40, 7, 3), ["relu", "softmax"], "cross_entropy"),
    "3-layer tanh log-loss": ((40, 9, 5, 1), ["tanh", "tanh", "sigmoid"], "log_loss"),
    "3-layer sigmoid squared narrow input": ((5, 9, 6, 2), ["sigmoid", "relu", "identity"],
                                              "squared"),
}
OPTIMIZERS = {
    "gd": Optimizer(kind="gd", learning_rate=0.3),
    "momentum": Optimizer(kind="momentum", learning_rate=0.2),
    "rmsprop": Optimizer(kind="rmsprop", learning_rate=0.01),
    "adam": Optimizer(kind="adam", learning_rate=0.02, schedule="inverse", decay_rate=0.1),
    "heavy_ball": Optimizer(kind="heavy_ball", learning_rate=0.05),
    "nesterov": Optimizer(kind="nesterov", learning_rate=0.05),
    "adam_step_corrected": Optimizer(kind="adam_step_corrected", learning_rate=0.02),
}
# 53 rows in batches of 16: three full batches and a short one of 5.
N_ROWS, BATCH = 53, 16


def sparse_data(n_rows, n_features, density=0.2, seed=0, dtype=np.float64):
    """(dense X, the same X as a CSR matrix) with about `density` nonzeros,
    some rows empty."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_rows, n_features)) * (rng.random((n_rows, n_features)) < density)
    X[::7] = 0.0
    X = X.astype(dtype)
    return X, sp.csr_matrix(X)


def targets(loss, n_rows, n_outputs, seed=1, dtype=np.float64):
    rng = np.random.default_rng(seed)
    if loss == "cross_entropy":
        Y = np.eye(n_outputs)[rng.integers(0, n_outputs, n_rows)]
    elif loss == "log_loss":
        Y = rng.integers(0, 2, (n_rows, n_outputs)).astype(float)
    else:
        Y = rng.standard_normal((n_rows, n_outputs))
    return np.ascontiguousarray(Y, dtype=dtype)


def network(name, l2=0.01, keep_probs=None, dtype=np.float64, seed=2):
    """(DenseStack, starting parameters) of NETWORKS[name]."""
    sizes, activations, loss = NETWORKS[name]
    stack = DenseStack(sizes, activations, loss, 0.01, l2, keep_probs)
    rng = np.random.default_rng(seed)
    coefs = [rng.standard_normal((a, b)) / np.sqrt(a) for a, b in zip(sizes[:-1], sizes[1:])]
    intercepts = [0.1 * rng.standard_normal(b) for b in sizes[1:]]
    return stack, stack.pack(coefs, intercepts, dtype)


def fresh_state():
    return TrainingState(shuffle_stream=np.random.PCG64(11), dropout_stream=np.random.PCG64(12))


def train_both(name, X_dense, X_sparse, plan, optimizer, sample_weight=None, l2=0.01,
               dtype=np.float64):
    """The same training call on dense and on sparse X: ((params, result) dense,
    (params, result) sparse)."""
    stack, start = network(name, l2=l2, dtype=dtype)
    Y = targets(stack_loss(name), X_dense.shape[0], stack.n_outputs, dtype=dtype)
    runs = []
    for X in (X_dense, X_sparse):
        params = start.copy()
        result = core.train(stack, params, X, Y, plan, optimizer, fresh_state(),
                            sample_weight)
        runs.append((params, result))
    return runs


def stack_loss(name):
    return NETWORKS[name][2]


def assert_same_training(dense, sparse, tolerance):
    (params_d, result_d), (params_s, result_s) = dense, sparse
    assert relative_error(params_s, params_d) < tolerance
    fields = ("n_iter", "steps", "epochs_run", "steps_run", "diverged")
    assert [getattr(result_s, f) for f in fields] == [getattr(result_d, f) for f in fields]
    np.testing.assert_allclose(result_s.costs, result_d.costs, rtol=tolerance)
    np.testing.assert_array_equal(result_s.state.order, result_d.state.order)
    # (after divergence no moments are kept)
    for moment_d, moment_s in zip(result_d.state.moments or (), result_s.state.moments or ()):
        if moment_d is not None:
            assert relative_error(moment_s, moment_d) < tolerance


@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("name", NETWORKS)
def test_training_on_sparse_x_equals_training_on_dense_x(name, optimizer, n_threads):
    X, X_csr = sparse_data(N_ROWS, NETWORKS[name][0][0])
    plan = TrainingPlan(epochs=4, batch_size=BATCH, shuffle=True, cost_every=1,
                        n_threads=n_threads)
    dense, sparse = train_both(name, X, X_csr, plan, OPTIMIZERS[optimizer])
    assert dense[1].steps == 16
    assert_same_training(dense, sparse, 1e-10)


@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("density", [0.05, 1.0], ids=["sparse", "full"])
@pytest.mark.parametrize("optimizer", ["momentum", "rmsprop", "adam"])
def test_both_ways_of_stepping_w0(optimizer, density, n_threads):
    # Momentum, rmsprop and adam step W_0 of sparse X from its gradient built
    # a few rows at a time (no gradient buffer), unless a batch's nonzeros
    # would take more memory than that buffer (here: density 1, 16 rows x 40
    # > 40 x 7 weights): then through the gradient buffer, as for dense X.
    name = "2-layer relu softmax"
    X, X_csr = sparse_data(N_ROWS, 40, density=density, seed=15)
    X[::7] = 1.0
    X_csr = sp.csr_matrix(X)
    plan = TrainingPlan(epochs=3, batch_size=BATCH, shuffle=True, cost_every=1,
                        n_threads=n_threads)
    dense, sparse = train_both(name, X, X_csr, plan, OPTIMIZERS[optimizer])
    assert_same_training(dense, sparse, 1e-10)


@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("optimizer", ["gd", "adam"])
@pytest.mark.parametrize("name", NETWORKS)
def test_sample_weights_with_sparse_x(name, optimizer, n_threads):
    X, X_csr = sparse_data(N_ROWS, NETWORKS[name][0][0], seed=3)
    rng = np.random.default_rng(4)
    # zeros included: a row of weight 0 counts as absent
    weights = np.where(np.arange(N_ROWS) % 5 == 0, 0.0, rng.uniform(0.2, 3.0, N_ROWS))
    plan = TrainingPlan(epochs=3, batch_size=BATCH, shuffle=True, cost_every=1,
                        n_threads=n_threads)
    dense, sparse = train_both(name, X, X_csr, plan, OPTIMIZERS[optimizer], weights)
    assert_same_training(dense, sparse, 1e-10)


@pytest.mark.parametrize("shuffle,batch_size", [(False, BATCH), (False, 1000), (True, 1000)],
                         ids=["unshuffled mini-batches", "full batch", "full batch, shuffle"])
@pytest.mark.parametrize("optimizer", ["gd", "momentum"])
def test_unshuffled_and_full_batches_with_sparse_x(shuffle, batch_size, optimizer):
    name = "3-layer tanh log-loss"
    X, X_csr = sparse_data(N_ROWS, 40, seed=5)
    plan = TrainingPlan(epochs=5, batch_size=batch_size, shuffle=shuffle, cost_every=2)
    dense, sparse = train_both(name, X, X_csr, plan, OPTIMIZERS[optimizer], l2=0.0)
    assert_same_training(dense, sparse, 1e-10)


@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("optimizer", ["gd", "adam"])
def test_float32_sparse_training_is_close_to_dense(optimizer, n_threads):
    name = "2-layer relu softmax"
    X, X_csr = sparse_data(N_ROWS, 40, seed=6, dtype=np.float32)
    assert X_csr.dtype == np.float32
    plan = TrainingPlan(epochs=3, batch_size=BATCH, shuffle=True, cost_every=1,
                        n_threads=n_threads)
    dense, sparse = train_both(name, X, X_csr, plan, OPTIMIZERS[optimizer], dtype=np.float32)
    assert dense[0].dtype == sparse[0].dtype == np.float32
    assert_same_training(dense, sparse, TOLERANCE[np.float32])


def test_threads_train_the_same_model_on_sparse_x():
    name = "3-layer tanh log-loss"
    _, X_csr = sparse_data(N_ROWS, 40, seed=7)
    plan = dict(epochs=3, batch_size=BATCH, shuffle=True, cost_every=1)
    one = train_both(name, X_csr, X_csr, TrainingPlan(**plan, n_threads=1), OPTIMIZERS["adam"])
    two = train_both(name, X_csr, X_csr, TrainingPlan(**plan, n_threads=2), OPTIMIZERS["adam"])
    # as for dense X (test_threads): the same model up to summation order
    assert relative_error(two[1][0], one[1][0]) < 1e-12


@pytest.mark.parametrize("name", NETWORKS)
def test_predict_cost_and_gradient_on_sparse_x(name, dtype):
    stack, params = network(name, dtype=dtype)
    X, X_csr = sparse_data(61, NETWORKS[name][0][0], seed=8, dtype=dtype)
    Y = targets(stack_loss(name), 61, stack.n_outputs, dtype=dtype)
    tolerance = TOLERANCE[dtype]
    assert relative_error(core.predict_output(stack, params, X_csr),
                          core.predict_output(stack, params, X)) < tolerance
    for with_l2 in (True, False):
        expected = core.cost(stack, params, X, Y, with_l2)
        assert abs(core.cost(stack, params, X_csr, Y, with_l2) - expected) <= \
            tolerance * abs(expected)
    cost_dense, grads_dense = core.loss_gradient(stack, params, X, Y)
    cost_sparse, grads_sparse = core.loss_gradient(stack, params, X_csr, Y)
    assert grads_sparse.dtype == dtype
    assert abs(cost_sparse - cost_dense) <= tolerance * abs(cost_dense)
    assert relative_error(grads_sparse, grads_dense) < tolerance


def test_prediction_in_several_chunks():
    # more rows than predict_output and cost push through at once (4096)
    name = "3-layer sigmoid squared narrow input"
    stack, params = network(name)
    X, X_csr = sparse_data(9000, 5, density=0.4, seed=9)
    Y = targets("squared", 9000, stack.n_outputs)
    assert relative_error(core.predict_output(stack, params, X_csr),
                          core.predict_output(stack, params, X)) < 1e-12
    assert abs(core.cost(stack, params, X_csr, Y) - core.cost(stack, params, X, Y)) < 1e-12


def odd_csr(X, seed=0, wide=False, unsorted=False, explicit_zeros=False, duplicates=False):
    """A CSR matrix equal to dense X (as SciPy reads it: duplicates summed)
    with the requested irregularities, built from raw arrays so SciPy keeps
    them as given."""
    rng = np.random.default_rng(seed)
    n_rows, n_features = X.shape
    data, indices, indptr = [], [], [0]
    for row in X:
        columns = list(np.flatnonzero(row))
        values = list(row[columns])
        if explicit_zeros:
            zeros = [k for k in range(n_features) if row[k] == 0][:2]
            columns += zeros
            values += [0.0] * len(zeros)
        if duplicates and columns:
            # row[k] split into two entries that sum to it
            k, part = columns[0], rng.standard_normal()
            values[0] -= part
            columns.append(k)
            values.append(part)
        if unsorted:
            permutation = rng.permutation(len(columns))
            columns = [columns[i] for i in permutation]
            values = [values[i] for i in permutation]
        data += values
        indices += columns
        indptr.append(len(indices))
    index_type = np.int64 if wide else np.int32
    matrix = sp.csr_matrix((np.array(data, dtype=X.dtype), np.array(indices, dtype=index_type),
                            np.array(indptr, dtype=index_type)), shape=X.shape)
    # SciPy narrows int64 indices that fit in int32: widen them back
    matrix.indices = matrix.indices.astype(index_type)
    matrix.indptr = matrix.indptr.astype(index_type)
    return matrix


IRREGULARITIES = {
    "int32 indices": dict(),
    "int64 indices": dict(wide=True),
    "unsorted indices": dict(unsorted=True),
    "explicit zeros": dict(explicit_zeros=True),
    "duplicate entries": dict(duplicates=True),
    "all of them, int64": dict(wide=True, unsorted=True, explicit_zeros=True, duplicates=True),
}


@pytest.mark.parametrize("irregularity", IRREGULARITIES)
def test_scipy_corner_cases_equal_the_dense_data(irregularity):
    name = "2-layer relu softmax"
    X, _ = sparse_data(N_ROWS, 40, seed=10)
    X_csr = odd_csr(X, **IRREGULARITIES[irregularity])
    wide = IRREGULARITIES[irregularity].get("wide", False)
    assert X_csr.indices.dtype == (np.int64 if wide else np.int32)
    assert X_csr.indptr.dtype == X_csr.indices.dtype
    np.testing.assert_allclose(X_csr.toarray(), X, rtol=0, atol=1e-15)
    if irregularity != "int32 indices" and irregularity != "int64 indices":
        assert not X_csr.has_canonical_format
    plan = TrainingPlan(epochs=3, batch_size=BATCH, shuffle=True, cost_every=1, n_threads=2)
    dense, sparse = train_both(name, X, X_csr, plan, OPTIMIZERS["adam"])
    assert_same_training(dense, sparse, 1e-10)
    stack, params = network(name)
    Y = targets("cross_entropy", N_ROWS, 3)
    assert relative_error(core.loss_gradient(stack, params, X_csr, Y)[1],
                          core.loss_gradient(stack, params, X, Y)[1]) < 1e-10
    assert relative_error(core.predict_output(stack, params, X_csr),
                          core.predict_output(stack, params, X)) < 1e-10


def test_a_matrix_without_nonzeros():
    name = "3-layer tanh log-loss"
    X = np.zeros((N_ROWS, 40))
    X_csr = sp.csr_matrix((N_ROWS, 40))
    assert X_csr.nnz == 0
    plan = TrainingPlan(epochs=2, batch_size=BATCH, shuffle=True, cost_every=1)
    dense, sparse = train_both(name, X, X_csr, plan, OPTIMIZERS["momentum"])
    assert_same_training(dense, sparse, 1e-10)
    stack, params = network(name)
    Y = targets("log_loss", N_ROWS, 1)
    assert relative_error(core.loss_gradient(stack, params, X_csr, Y)[1],
                          core.loss_gradient(stack, params, X, Y)[1]) < 1e-12


@pytest.mark.parametrize("convert", [sp.csc_matrix, sp.coo_matrix, sp.csr_array, sp.csc_array,
                                     sp.lil_matrix],
                         ids=["csc_matrix", "coo_matrix", "csr_array", "csc_array", "lil_matrix"])
def test_other_sparse_formats(convert):
    name = "2-layer relu softmax"
    X, _ = sparse_data(N_ROWS, 40, seed=12)
    X_other = convert(X)
    plan = TrainingPlan(epochs=2, batch_size=BATCH, shuffle=True, cost_every=1)
    dense, sparse = train_both(name, X, X_other, plan, OPTIMIZERS["gd"])
    assert_same_training(dense, sparse, 1e-10)
    stack, params = network(name)
    assert relative_error(core.predict_output(stack, params, X_other),
                          core.predict_output(stack, params, X)) < 1e-10


def test_divergence_on_sparse_x_falls_back_like_dense():
    name = "3-layer sigmoid squared narrow input"
    X, X_csr = sparse_data(N_ROWS, 5, density=0.8, seed=13)
    X *= 1e150
    X_csr = X_csr * 1e150
    plan = TrainingPlan(epochs=20, batch_size=BATCH, shuffle=True, cost_every=2)
    dense, sparse = train_both(name, X, X_csr, plan, Optimizer(kind="gd", learning_rate=1e3))
    assert dense[1].diverged and sparse[1].diverged
    assert_same_training(dense, sparse, 1e-10)


def test_sparse_x_refuses_input_dropout():
    stack = DenseStack((40, 7, 3), ["relu", "softmax"], "cross_entropy", 0.01, 0.0,
                       (0.8, 1.0))
    _, X_csr = sparse_data(N_ROWS, 40)
    params = network("2-layer relu softmax")[1]
    with pytest.raises(ValueError, match="input dropout"):
        core.train(stack, params, X_csr, targets("cross_entropy", N_ROWS, 3),
                   TrainingPlan(epochs=1, batch_size=BATCH), Optimizer(), fresh_state())
    # hidden dropout alone is fine
    stack = DenseStack((40, 7, 3), ["relu", "softmax"], "cross_entropy", 0.01, 0.0, (1.0, 0.7))
    X, X_csr = sparse_data(N_ROWS, 40)
    results = []
    for data in (X, X_csr):
        trained = params.copy()
        core.train(stack, trained, data, targets("cross_entropy", N_ROWS, 3),
                   TrainingPlan(epochs=2, batch_size=BATCH, shuffle=True), Optimizer(),
                   fresh_state())
        results.append(trained)
    assert relative_error(results[1], results[0]) < 1e-10


def hostile(change):
    """A valid 6 x 40 CSR matrix, then `change(matrix)` applied to its arrays
    behind SciPy's back."""
    X, X_csr = sparse_data(6, 40, density=0.3, seed=14)
    X_csr.indices = X_csr.indices.copy()
    X_csr.indptr = X_csr.indptr.copy()
    change(X_csr)
    return X_csr


def set_indptr(matrix, position, value):
    matrix.indptr[position] = value


HOSTILE = {
    "indptr decreasing": lambda m: set_indptr(m, 3, m.indptr[2] - 1),
    "indptr past the nonzeros": lambda m: set_indptr(m, 6, m.indptr[6] + 5),
    "indptr below zero": lambda m: set_indptr(m, 0, -3),
    "indptr huge": lambda m: (setattr(m, "indptr", m.indptr.astype(np.int64)),
                              set_indptr(m, 4, 2**40)),
    "indptr too short": lambda m: setattr(m, "indptr", m.indptr[:-1]),
    "indptr too long": lambda m: setattr(m, "indptr", np.append(m.indptr, m.indptr[-1])),
    "index too large": lambda m: m.indices.__setitem__(0, 40),
    "index negative": lambda m: m.indices.__setitem__(-1, -1),
    "data shorter than indices": lambda m: setattr(m, "data", m.data[:-1]),
    "indices shorter than data": lambda m: setattr(m, "indices", m.indices[:-1]),
    "2-D indices": lambda m: setattr(m, "indices", m.indices[:, None]),
    "float indices": lambda m: setattr(m, "indices", m.indices.astype(np.float64)),
}


@pytest.mark.parametrize("change", HOSTILE)
def test_a_hostile_structure_is_a_value_error(change):
    X_csr = hostile(HOSTILE[change])
    stack, params = network("2-layer relu softmax")
    Y = targets("cross_entropy", 6, 3)
    before = params.copy()
    with pytest.raises(ValueError, match="not a valid CSR"):
        core.train(stack, params, X_csr, Y, TrainingPlan(epochs=2, batch_size=4, shuffle=True),
                   Optimizer(), fresh_state())
    np.testing.assert_array_equal(params, before)
    with pytest.raises(ValueError, match="not a valid CSR"):
        core.loss_gradient(stack, params, X_csr, Y)
    with pytest.raises(ValueError, match="not a valid CSR"):
        core.cost(stack, params, X_csr, Y)
    with pytest.raises(ValueError, match="not a valid CSR"):
        core.predict_output(stack, params, X_csr)


def test_values_of_another_precision_or_width_are_refused():
    stack, params = network("2-layer relu softmax")
    _, X32 = sparse_data(6, 40, dtype=np.float32)
    with pytest.raises(ValueError, match="float64"):
        core.predict_output(stack, params, X32)
    _, X_narrow = sparse_data(6, 39)
    with pytest.raises(ValueError, match="width"):
        core.predict_output(stack, params, X_narrow)
    with pytest.raises(ValueError):
        core.loss_gradient(stack, params, X_narrow, targets("cross_entropy", 6, 3))
