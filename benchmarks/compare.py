"""fastnn beside its NumPy reference, scikit-learn, PyTorch, JAX and Keras on the same workloads.

    python benchmarks/compare.py [--workloads W1,W3,H1] [--runs 3]
                                 [--dtypes float32,float64]
                                 [--output benchmarks/RESULTS.md] [--quick]
                                 [--no-sklearn-defaults]

Workloads (WORKLOADS; all of them by default): W1 logistic regression 30-1,
W2 2-4-1 tanh (petal), W3 / W4 784-256-128-10 relu at batch 64 / 1024, W5
12288-20-7-5-1 relu full batch, W6 W3 with dropout, H1 100-64-32-5 relu/softmax
at batch 32 for 2 epochs.

The last section, "at scikit-learn's defaults" (benchmarks/at_sklearn_defaults.py),
times fastnn.MLPClassifier / MLPRegressor beside scikit-learn's at equal weights.

Every library trains the same architecture with plain SGD (no momentum, no
weight decay, no shuffling, same batches, same number of epochs and learning
rate); initial weights differ but come from the same scheme family. Rows:

- fastnn      the public estimator, construction + fit, shuffle=False,
              cost_every=epochs (the cost is recorded once, at epoch 0).
- reference   fastnn.reference.train (NumPy, float64 only); W6 runs inverted
              dropout with masks computed step by step from a seed
              (reference.dropout_mask, the core's hash), inside the timed region.
- PyTorch     nn.Sequential of Linear + activations (+ nn.Dropout for W6),
              torch.optim.SGD, BCEWithLogitsLoss / CrossEntropyLoss, a plain
              loop over pre-made consecutive batches; 2 threads.
- scikit-learn MLPClassifier(solver="sgd") set up as plain SGD; for W1
              LogisticRegression(solver="lbfgs"), which solves to convergence
              (an informative extra row, not the same 2000 steps); no W6 row
              (scikit-learn has no dropout).
- JAX         (when importable; float64 with jax_enable_x64) pure loss, jax.grad,
              plain SGD, batches on the device: "jit per epoch" calls a jitted
              epoch (lax.scan over its batches) once per epoch, "lax.scan" runs
              every epoch in one jitted call. Compiled ahead
              (.lower().compile()), the compile seconds reported apart.
- Keras 3     (when importable; KERAS_BACKEND=jax) Sequential of Dense
              (+ Dropout), SGD, fit(batch_size, epochs, shuffle=False); a first
              one-epoch fit (tracing, compiling) is timed apart.
              JAX and Keras start from fastnn's own initial weights, so their
              final loss is checked against fastnn's (✓ / ✗ in the table).

Timing: the libraries are interleaved within each round, the median over
--runs rounds is reported. The GEMM ceiling is the best of OpenBLAS (via
SciPy) and, with JAX installed, XLA's jitted jnp.dot. Peak memory comes from
a separate untimed fit per row; the final loss of every row is the full-data
training cost (no dropout, no L2) of its fitted weights, computed by
fastnn.reference.
"""
import argparse
import ctypes
import datetime
import gc
import importlib
import math
import os
import platform
import statistics
import sys
import threading
import time
import warnings
from collections import namedtuple

import numpy as np
import scipy
import sklearn
from scipy.linalg import blas
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression as SklearnLogisticRegression
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_info, threadpool_limits


def import_with_retry(name, attempts=10, wait_s=3.0):
    """Import `name`, retrying a few times (the compiled core may be mid-rebuild)."""
    for attempt in range(attempts):
        try:
            return importlib.import_module(name)
        except ImportError:
            if attempt == attempts - 1:
                raise
            time.sleep(wait_s)


fastnn = import_with_retry("fastnn")
import at_sklearn_defaults  # noqa: E402  (benchmarks/, beside this file)
reference = import_with_retry("fastnn.reference")
datasets = import_with_retry("fastnn.datasets")

try:
    import torch
    from torch import nn
    torch.set_num_threads(2)
except ImportError:
    torch = None

try:
    import jax
    # Before any JAX array is made: float64 rows need 64-bit arrays. float32
    # rows stay float32, since every array they use is made float32 explicitly.
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    from jax import lax
except ImportError:
    jax = None

keras = None
if jax is not None:
    os.environ["KERAS_BACKEND"] = "jax"  # read once, by keras's first import
    try:
        import keras
    except ImportError:
        pass

warnings.filterwarnings("ignore", category=ConvergenceWarning)

# ---------------------------------------------------------------------------
# Workloads. layers = (n_features, *hidden, n_outputs); one output unit means
# two classes (sigmoid + log-loss), more mean softmax + cross-entropy.
# batch None = full batch; epochs = max_iter.
# ---------------------------------------------------------------------------
Workload = namedtuple("Workload", "title n layers activation batch epochs lr init keep_prob")

WORKLOADS = {
    "W1": Workload("logistic regression 30-1", 20000, (30, 1), None, None, 2000, 0.1, "zeros", 1.0),
    "W2": Workload("2-4-1 tanh/sigmoid (petal)", 400, (2, 4, 1), "tanh", None, 10000, 1.2, "small", 1.0),
    "W3": Workload("784-256-128-10 relu/softmax", 60000, (784, 256, 128, 10), "relu", 64, 1, 0.01, "he", 1.0),
    "W4": Workload("784-256-128-10 relu/softmax", 60000, (784, 256, 128, 10), "relu", 1024, 3, 0.01, "he", 1.0),
    "W5": Workload("12288-20-7-5-1 relu/sigmoid", 209, (12288, 20, 7, 5, 1), "relu", None, 300, 0.0075, "he", 1.0),
    "W6": Workload("784-256-128-10 relu/softmax, dropout keep 0.8", 60000, (784, 256, 128, 10), "relu", 64, 1, 0.01, "he", 0.8),
    # A small multiclass network at mini-batch 32 (1250 steps of small
    # products); n=20 000 keeps a fastnn fit at a few tens of milliseconds.
    "H1": Workload("100-64-32-5 relu/softmax", 20000, (100, 64, 32, 5), "relu", 32, 2, 0.05, "he", 1.0),
}

DTYPES = ("float32", "float64")
MiB = 2.0 ** 20


def quick(w):
    """--quick: n/10 and epochs/10 (at least 1 of each)."""
    return w._replace(n=max(2, w.n // 10), epochs=max(1, w.epochs // 10))


def hidden_sizes(w):
    return w.layers[1:-1]


def output_activation_and_loss(w):
    # fastnn's classifier contract (_classifier.py): 1 unit -> sigmoid/log-loss.
    return ("sigmoid", "log_loss") if w.layers[-1] == 1 else ("softmax", "cross_entropy")


def batch_rows(w):
    return w.n if w.batch is None else min(w.batch, w.n)


def n_steps(w):
    return w.epochs * math.ceil(w.n / batch_rows(w))


def nominal_flops(w):
    """The issue's count: 6 * n * sum(n_in * n_out) * epochs."""
    return 6.0 * w.n * sum(a * b for a, b in zip(w.layers[:-1], w.layers[1:])) * w.epochs


def fastnn_flops(w):
    """What fastnn executes: the nominal count less the unused input gradient."""
    return nominal_flops(w) - 2.0 * w.n * w.layers[0] * w.layers[1] * w.epochs


def init_std(init, n_in):
    """Standard deviation of the normal initial weights (fastnn's _init.py schemes)."""
    return {"zeros": 0.0, "small": 0.01, "he": math.sqrt(2.0 / n_in),
            "xavier": math.sqrt(1.0 / n_in)}[init]


# ---------------------------------------------------------------------------
# Data: generated once per process in float64, cast per dtype once, untimed.
# ---------------------------------------------------------------------------
class Data:
    def __init__(self, w, X, y):
        self.X64, self.y = X, y
        k = w.layers[-1]
        # The 2-D target matrix of fastnn.reference (labels are 0..classes-1).
        self.Y64 = (y[:, None] == 1).astype(np.float64) if k == 1 else np.eye(k)[y]
        self.X = {dtype: np.ascontiguousarray(X, dtype=dtype) for dtype in DTYPES}
        self._prepared = {}

    def prepared(self, key, make):
        """make(), called once per key and kept with this data set: what a row
        prepares untimed (batches, initial weights, compiled functions)."""
        if key not in self._prepared:
            self._prepared[key] = make()
        return self._prepared[key]

    def targets(self, dtype):
        """The 2-D target matrix in `dtype` (JAX and Keras train on it)."""
        return self.prepared(("targets", dtype), lambda: self.Y64.astype(dtype))

    def torch_batches(self, w, dtype):
        """Consecutive (x, target) tensor batches, made once per dtype and batch
        size (untimed; W3, W4 and W6 share one data set)."""
        def make():
            X = torch.from_numpy(self.X[dtype])
            if w.layers[-1] == 1:
                T = torch.from_numpy(self.Y64.astype(dtype))
            else:
                T = torch.from_numpy(self.y.astype(np.int64))
            return list(zip(X.split(batch_rows(w)), T.split(batch_rows(w))))
        return self.prepared(("torch batches", dtype, batch_rows(w)), make)


_DATA_CACHE = {}


def make_data(name, w):
    """X uniform in [0, 1), labels from a fixed random linear teacher with noise
    (every workload but W2, which trains on fastnn.datasets.petal)."""
    if name == "W2":
        key = ("petal", w.n)
    else:
        key = ("teacher", w.n, w.layers[0], w.layers[-1])
    if key not in _DATA_CACHE:
        if name == "W2":
            X, y = datasets.petal(w.n, random_state=0)
        else:
            rng = np.random.default_rng(0)
            X = rng.random((w.n, w.layers[0]))
            R = rng.standard_normal((w.layers[0], w.layers[-1]))
            scores = (X - 0.5) @ R
            scores += 0.3 * scores.std() * rng.standard_normal(scores.shape)
            y = (scores[:, 0] > 0) if w.layers[-1] == 1 else np.argmax(scores, axis=1)
        _DATA_CACHE.clear()  # keep one data set alive at a time
        _DATA_CACHE[key] = Data(w, X, np.asarray(y, dtype=np.int64))
    return _DATA_CACHE[key]


# ---------------------------------------------------------------------------
# One runner per library: construction + fit, returns (coefs, intercepts)
# with coefs[l] of shape (n_in, n_out).
# ---------------------------------------------------------------------------
def fastnn_model(w, dtype, epochs):
    common = dict(learning_rate=w.lr, max_iter=epochs, batch_size=w.batch, shuffle=False,
                  optimizer="gd", init=w.init, cost_every=None, dtype=dtype, random_state=0)
    hidden = hidden_sizes(w)
    if not hidden:
        model = fastnn.LogisticRegression(**common)
    elif len(hidden) == 1:
        model = fastnn.ShallowNetwork(hidden[0], activation=w.activation,
                                      keep_prob=w.keep_prob, **common)
    else:
        model = fastnn.DeepNetwork(hidden, activation=w.activation,
                                   keep_prob=w.keep_prob, **common)
    return model


def run_fastnn(w, data, dtype):
    model = fastnn_model(w, dtype, w.epochs).fit(data.X[dtype], data.y)
    return model.coefs_, model.intercepts_


def fastnn_initial_weights(w, data, dtype):
    """The weights fastnn's fit starts from: the same estimator fitted for
    max_iter=0 draws them from random_state and trains no step (untimed, once)."""
    def make():
        model = fastnn_model(w, dtype, epochs=0).fit(data.X[dtype], data.y)
        return model.coefs_, model.intercepts_
    return data.prepared(("fastnn initial weights", w, dtype), make)


def run_reference(w, data, dtype):
    rng = np.random.default_rng(0)
    coefs = [rng.standard_normal((a, b)) * init_std(w.init, a)
             for a, b in zip(w.layers[:-1], w.layers[1:])]
    intercepts = [np.zeros(b) for b in w.layers[1:]]
    output, loss = output_activation_and_loss(w)
    dropout = {}
    if w.keep_prob < 1:
        dropout = dict(keep_probs=[1.0] + [w.keep_prob] * len(hidden_sizes(w)),
                       dropout_seed=0)
    coefs, intercepts, _ = reference.train(
        data.X[dtype], data.Y64, coefs, intercepts, hidden_activation=w.activation or "identity",
        output_activation=output, loss=loss, learning_rate=w.lr, max_iter=w.epochs,
        batch_size=w.batch, shuffle=False, cost_every=max(1, w.epochs), **dropout)
    return coefs, intercepts


def run_torch(w, data, dtype):
    batches = data.torch_batches(w, dtype)
    torch_dtype = getattr(torch, dtype)
    modules = []
    pairs = list(zip(w.layers[:-1], w.layers[1:]))
    for l, (a, b) in enumerate(pairs):
        linear = nn.Linear(a, b, dtype=torch_dtype)
        with torch.no_grad():  # fastnn's scheme: N(0, std^2) weights, zero biases
            linear.weight.normal_(0.0, init_std(w.init, a))
            linear.bias.zero_()
        modules.append(linear)
        if l < len(pairs) - 1:
            modules.append({"relu": nn.ReLU, "tanh": nn.Tanh}[w.activation]())
            if w.keep_prob < 1:
                modules.append(nn.Dropout(1.0 - w.keep_prob))
    model = nn.Sequential(*modules).train()
    loss_fn = nn.BCEWithLogitsLoss() if w.layers[-1] == 1 else nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=w.lr)
    for _ in range(w.epochs):
        for x, target in batches:
            optimizer.zero_grad(set_to_none=True)
            loss_fn(model(x), target).backward()
            optimizer.step()
    linears = [m for m in modules if isinstance(m, nn.Linear)]
    return ([m.weight.detach().numpy().T for m in linears],
            [m.bias.detach().numpy() for m in linears])


def run_sklearn(w, data, dtype):
    X = data.X[dtype]
    if not hidden_sizes(w):  # W1: an informative extra row, solved to convergence
        model = SklearnLogisticRegression(solver="lbfgs", max_iter=1000).fit(X, data.y)
        return [model.coef_.T], [model.intercept_]
    model = MLPClassifier(
        hidden_layer_sizes=hidden_sizes(w),
        activation={"relu": "relu", "tanh": "tanh"}[w.activation],
        solver="sgd", learning_rate="constant", learning_rate_init=w.lr,
        batch_size=batch_rows(w), max_iter=w.epochs, momentum=0.0, nesterovs_momentum=False,
        alpha=0.0, tol=0.0, n_iter_no_change=w.epochs + 1, shuffle=False,
        early_stopping=False, random_state=0)
    model.fit(X, data.y)
    return model.coefs_, model.intercepts_


# ---------------------------------------------------------------------------
# JAX and Keras 3 (JAX backend). They compile ahead of the timed fit, so each
# is a runner object: prepare() does the untimed part once per workload and
# dtype (device batches, fastnn's initial weights, compilation) and returns
# its compile seconds; a call trains from fastnn's initial weights, so its
# final loss must equal fastnn's (workload_table checks it).
# ---------------------------------------------------------------------------
class CompiledPeer:
    label = None

    def prepared(self, w, data, dtype):
        """What self._prepare(w, data, dtype) made, once per workload and dtype."""
        return data.prepared((self.label, w, dtype), lambda: self._prepare(w, data, dtype))

    def prepare(self, w, data, dtype):
        """The untimed preparation; returns the seconds its compilation took."""
        return self.prepared(w, data, dtype).compile_seconds


PreparedJax = namedtuple("PreparedJax", "train state batches compile_seconds")
PreparedKeras = namedtuple("PreparedKeras", "model compile_seconds")


def jax_batches(w, data, dtype):
    """(full batches stacked (steps, batch, columns), the short last batch or
    None) on the device: lax.scan needs batches of one shape, so the last one,
    when n is not a multiple of the batch size, is a step of its own."""
    def make():
        X, T, b = data.X[dtype], data.targets(dtype), batch_rows(w)
        full = w.n // b * b
        stacked = (X[:full].reshape(-1, b, X.shape[1]), T[:full].reshape(-1, b, T.shape[1]))
        last = (X[full:], T[full:]) if full < w.n else None
        return jax.device_put((stacked, last))
    return data.prepared(("jax batches", dtype, batch_rows(w)), make)


def jax_epoch(w):
    """One epoch of plain SGD, epoch(state, batches) -> state, state = (params,
    key), params = [(W, b) per layer]; pure, for jax.jit."""
    hidden_activation = {"relu": jax.nn.relu, "tanh": jnp.tanh}.get(w.activation)

    def loss(params, x, t, key):
        """The batch's mean cost, fastnn's (log-loss or cross-entropy), from the
        logits; inverted dropout on the hidden activations when keep_prob < 1."""
        *hidden, (W_out, b_out) = params
        a = x
        for l, (W, b) in enumerate(hidden):
            a = hidden_activation(a @ W + b)
            if w.keep_prob < 1:
                keep = jax.random.bernoulli(jax.random.fold_in(key, l), w.keep_prob, a.shape)
                a = jnp.where(keep, a / w.keep_prob, 0.0)
        z = a @ W_out + b_out
        if w.layers[-1] == 1:  # sigmoid + log-loss: log(1 + e^z) - t z
            per_example = jnp.logaddexp(0.0, z[:, 0]) - t[:, 0] * z[:, 0]
        else:  # softmax + cross-entropy: logsumexp(z) - z[label]
            per_example = jax.nn.logsumexp(z, axis=1) - jnp.sum(t * z, axis=1)
        return jnp.mean(per_example)

    def step(state, batch):
        params, key = state
        key, step_key = jax.random.split(key)
        grads = jax.grad(loss)(params, *batch, step_key)
        return (jax.tree.map(lambda p, g: p - w.lr * g, params, grads), key), None

    def epoch(state, batches):
        stacked, last = batches
        state, _ = lax.scan(step, state, stacked)
        if last is not None:  # decided when tracing
            state, _ = step(state, last)
        return state

    return epoch


class JaxRunner(CompiledPeer):
    """JAX rows: "jit per epoch" calls one compiled epoch from Python once per
    epoch; "lax.scan" runs every epoch in one compiled call."""

    def __init__(self, label, all_epochs_in_one_call):
        self.label, self.all_epochs_in_one_call = label, all_epochs_in_one_call

    def _prepare(self, w, data, dtype):
        epoch = jax_epoch(w)
        if self.all_epochs_in_one_call:
            def train(state, batches):
                return lax.scan(lambda s, _: (epoch(s, batches), None), state,
                                length=w.epochs)[0]
        else:
            train = epoch
        coefs, intercepts = fastnn_initial_weights(w, data, dtype)
        state = (jax.device_put(list(zip(coefs, intercepts))), jax.random.key(0))
        batches = jax_batches(w, data, dtype)
        start = time.perf_counter()
        compiled = jax.jit(train).lower(state, batches).compile()
        return PreparedJax(compiled, state, batches, time.perf_counter() - start)

    def __call__(self, w, data, dtype):
        prepared = self.prepared(w, data, dtype)
        state = prepared.state  # JAX arrays are immutable: every run starts afresh
        for _ in range(1 if self.all_epochs_in_one_call else w.epochs):
            state = prepared.train(state, prepared.batches)
        params, _ = jax.block_until_ready(state)
        return [np.asarray(W) for W, _ in params], [np.asarray(b) for _, b in params]


class KerasRunner(CompiledPeer):
    """Keras 3 on JAX: a Sequential of Dense layers (+ Dropout), SGD, fit with
    shuffle=False. prepare() builds the model and fits it one epoch, which
    traces and compiles its train step (for both batch shapes); a call sets
    fastnn's initial weights back and fits anew."""

    label = "Keras 3 (JAX backend)"

    def _prepare(self, w, data, dtype):
        model = keras.Sequential([keras.Input((w.layers[0],), dtype=dtype)])
        for l, units in enumerate(w.layers[1:]):
            output = l == len(w.layers) - 2
            model.add(keras.layers.Dense(units, None if output else w.activation, dtype=dtype))
            if not output and w.keep_prob < 1:
                model.add(keras.layers.Dropout(1.0 - w.keep_prob, dtype=dtype))
        loss = (keras.losses.BinaryCrossentropy(from_logits=True) if w.layers[-1] == 1
                else keras.losses.CategoricalCrossentropy(from_logits=True))
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=w.lr), loss=loss)
        start = time.perf_counter()
        self._fit(model, w, data, dtype, epochs=1)
        return PreparedKeras(model, time.perf_counter() - start)

    def _fit(self, model, w, data, dtype, epochs):
        coefs, intercepts = fastnn_initial_weights(w, data, dtype)
        model.set_weights([p for layer in zip(coefs, intercepts) for p in layer])
        model.fit(data.X[dtype], data.targets(dtype), batch_size=batch_rows(w), epochs=epochs,
                  shuffle=False, verbose=0)

    def __call__(self, w, data, dtype):
        # The same model object: fit reuses the train step compiled in
        # prepare(). Plain SGD keeps no state but a step count, so setting the
        # weights back is a fresh start.
        model = self.prepared(w, data, dtype).model
        self._fit(model, w, data, dtype, w.epochs)
        weights = model.get_weights()
        return weights[0::2], weights[1::2]


PEERS_FROM_FASTNN_WEIGHTS = (
    ([JaxRunner("JAX, jit per epoch", False), JaxRunner("JAX, lax.scan", True)] if jax else [])
    + ([KerasRunner()] if keras else []))


# from_fastnn: the row starts from fastnn's initial weights (its final loss is checked).
Row = namedtuple("Row", "library dtype runner from_fastnn", defaults=(False,))


def rows_for(w, dtypes):
    rows = []
    for dtype in dtypes:
        rows.append(Row("fastnn", dtype, run_fastnn))
        if dtype == "float64":
            rows.append(Row("reference", dtype, run_reference))
        if torch is not None:
            rows.append(Row("PyTorch", dtype, run_torch))
        if w.keep_prob == 1:  # scikit-learn has no dropout
            label = "scikit-learn LR(lbfgs) †" if not hidden_sizes(w) else "scikit-learn"
            rows.append(Row(label, dtype, run_sklearn))
        rows += [Row(peer.label, dtype, peer, True) for peer in PEERS_FROM_FASTNN_WEIGHTS]
    return rows


# ---------------------------------------------------------------------------
# Measurements.
# ---------------------------------------------------------------------------
def final_loss(w, data, coefs, intercepts):
    """Full-data training cost, no dropout and no L2, by fastnn.reference."""
    coefs = [np.asarray(W, dtype=np.float64) for W in coefs]
    intercepts = [np.asarray(b, dtype=np.float64).ravel() for b in intercepts]
    output, loss = output_activation_and_loss(w)
    Zs, As = reference.forward(data.X64, coefs, intercepts, w.activation or "identity", output)
    return reference.cost(loss, Zs[-1], As[-1], data.Y64, coefs)


_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE


def _release_free_memory():
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def peak_memory_mib(fn):
    """Peak RSS during fn() minus the RSS just before, sampled every ~1 ms."""
    _release_free_memory()
    before = rss_bytes()
    peak = [before]
    done = threading.Event()

    def sample():
        while not done.wait(0.001):
            peak[0] = max(peak[0], rss_bytes())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        fn()
    finally:
        done.set()
        sampler.join()
    return (max(peak[0], rss_bytes()) - before) / MiB


def fastest_call(fn, min_reps, min_seconds):
    """Seconds of the fastest of at least `min_reps` calls of fn() and
    `min_seconds` in all, after one warm-up call."""
    fn()
    best, reps, spent = math.inf, 0, 0.0
    while reps < min_reps or spent < min_seconds:
        start = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - start
        best, reps, spent = min(best, elapsed), reps + 1, spent + elapsed
    return best


def gemm_ceiling(min_reps=20, min_seconds=0.3):
    """Best GFLOP/s of sgemm/dgemm, 1024x784 @ 784x256, with 1 and 2 BLAS
    threads; and, with JAX installed, of XLA's jitted jnp.dot on the same
    product ((dtype, "XLA"); XLA's CPU runtime uses every core).

    Best of at least `min_reps` calls and `min_seconds` per configuration.
    """
    m, k, n = 1024, 784, 256
    rng = np.random.default_rng(0)
    result = {}
    for dtype, gemm in (("float32", blas.sgemm), ("float64", blas.dgemm)):
        A = np.asfortranarray(rng.random((m, k)), dtype=dtype)
        B = np.asfortranarray(rng.random((k, n)), dtype=dtype)
        for threads in (1, 2):
            with threadpool_limits(limits=threads, user_api="blas"):
                best = fastest_call(lambda: gemm(1.0, A, B), min_reps, min_seconds)
            result[dtype, threads] = 2.0 * m * n * k / best / 1e9
        if jax is not None:
            dot, A_jax, B_jax = jax.jit(jnp.dot), jnp.asarray(A), jnp.asarray(B)
            best = fastest_call(lambda: dot(A_jax, B_jax).block_until_ready(),
                                min_reps, min_seconds)
            result[dtype, "XLA"] = 2.0 * m * n * k / best / 1e9
    return result


def ceiling_gflops(ceiling, dtype):
    """The machine's ceiling: the best 2-thread GEMM measured, XLA's included."""
    return max(ceiling[dtype, 2], ceiling.get((dtype, "XLA"), 0.0))


def warm_up(dtypes):
    """One tiny untimed fit per row kind, so no library's first call (thread
    pools, lazy imports) lands in a timed round."""
    tiny = Workload("warm-up", 64, (8, 4, 3), "relu", 16, 1, 0.01, "he", 1.0)
    data = Data(tiny, np.random.default_rng(0).random((64, 8)), np.arange(64) % 3)
    for row in rows_for(tiny, dtypes):
        row.runner(tiny, data, row.dtype)


Result = namedtuple("Result", "seconds loss mib compile_seconds")


def measure(name, w, dtypes, runs):
    """{row: Result(median seconds, final loss, peak MiB, compile seconds or
    None)} of one workload."""
    data = make_data(name, w)
    rows = rows_for(w, dtypes)
    compile_seconds = {}
    for row in rows:  # data preparation and compilation, untimed
        if row.library == "PyTorch":
            data.torch_batches(w, row.dtype)
        if isinstance(row.runner, CompiledPeer):
            compile_seconds[row] = row.runner.prepare(w, data, row.dtype)
    times = {row: [] for row in rows}
    fitted = {}
    for round_ in range(runs):  # interleaved: A B C A B C ...
        for row in rows:
            gc.collect()
            start = time.perf_counter()
            fitted[row] = row.runner(w, data, row.dtype)
            times[row].append(time.perf_counter() - start)
            print(f"  {name} round {round_ + 1}/{runs} {row.library:<26s} {row.dtype} "
                  f"{times[row][-1]:8.3f} s", file=sys.stderr, flush=True)
    losses = {row: final_loss(w, data, *fitted.pop(row)) for row in rows}
    memory = {row: peak_memory_mib(lambda: row.runner(w, data, row.dtype)) for row in rows}
    return {row: Result(statistics.median(times[row]), losses[row], memory[row],
                        compile_seconds.get(row)) for row in rows}


# ---------------------------------------------------------------------------
# Report.
# ---------------------------------------------------------------------------
def machine_header(ceiling, args):
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor() or "unknown"
    lines = [
        "# fastnn compared with its reference, scikit-learn and PyTorch",
        "",
        "Generated by `python benchmarks/compare.py " + " ".join(sys.argv[1:]) + "`"
        + (" (**--quick: n/10, epochs/10**)" if args.quick else ""),
        "",
        f"- date: {datetime.datetime.now().isoformat(timespec='seconds')}",
        f"- machine: {cpu}, {os.cpu_count()} CPUs ({platform.machine()}, {platform.system()})",
        f"- python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
        f"scikit-learn {sklearn.__version__}, torch {torch.__version__ if torch else 'not installed'}, "
        + (f"jax {jax.__version__}, " if jax else "")
        + (f"keras {keras.__version__}, " if keras else "")
        + f"fastnn {fastnn.__version__}",
        f"- timing: median of {args.runs} interleaved rounds; peak memory from one extra untimed fit",
    ]
    for pool in threadpool_info():
        details = ", ".join(f"{key} {pool[key]}" for key in
                            ("internal_api", "version", "architecture", "threading_layer", "num_threads")
                            if pool.get(key) is not None)
        lines.append(f"- {pool['user_api']}: {os.path.basename(pool['filepath'])} ({details})")
    if torch is not None:
        lines.append(f"- torch threads {torch.get_num_threads()}, "
                     f"MKL {torch.backends.mkl.is_available()}, "
                     f"oneDNN {torch.backends.mkldnn.is_available()}")
    if jax is None:
        lines += ["", "## GEMM ceiling (scipy BLAS, 1024x784 @ 784x256; best call, "
                  "measured before and after the workloads)", "",
                  "| precision | 1 thread GFLOP/s | 2 threads GFLOP/s |", "|---|---:|---:|"]
    else:
        lines += ["", "## GEMM ceiling (scipy BLAS and XLA's jitted jnp.dot, 1024x784 @ 784x256; "
                  "best call, measured before and after the workloads; the ceiling is the "
                  "best of the 2-thread BLAS and XLA)", "",
                  "| precision | 1 thread GFLOP/s | 2 threads GFLOP/s | XLA jnp.dot GFLOP/s "
                  "| ceiling GFLOP/s |", "|---|---:|---:|---:|---:|"]
    for dtype, routine in (("float32", "sgemm"), ("float64", "dgemm")):
        cells = [f"{dtype} ({routine})", f"{ceiling[dtype, 1]:.1f}", f"{ceiling[dtype, 2]:.1f}"]
        if jax is not None:
            cells += [f"{ceiling[dtype, 'XLA']:.1f}", f"{ceiling_gflops(ceiling, dtype):.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def workload_table(name, w, dtype, results, ceiling):
    batch = "full batch" if w.batch is None else f"batch {w.batch}"
    lines = ["", f"## {name} {w.title}: n={w.n}, {batch}, {w.epochs} epochs, lr {w.lr}, "
             f"init {w.init} — {dtype}", "",
             f"{n_steps(w)} optimizer steps, nominal {nominal_flops(w) / 1e9:.2f} GFLOP", "",
             "| library | seconds | steps/s | GFLOP/s | % of ceiling | ratio | final loss | peak MiB |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    rows = {row: value for row, value in results.items() if row.dtype == dtype}
    fastnn_result = next((r for row, r in rows.items() if row.library == "fastnn"), None)
    base = None if fastnn_result is None else fastnn_result.seconds
    for row, (seconds, loss, mib, _) in rows.items():
        converged = row.library.endswith("†")
        flops = fastnn_flops(w) if row.library == "fastnn" else nominal_flops(w)
        percent = 100.0 * flops / seconds / 1e9 / ceiling_gflops(ceiling, dtype)
        cells = [row.library, f"{seconds:.3f}",
                 "—" if converged else f"{n_steps(w) / seconds:,.0f}",
                 "—" if converged else f"{nominal_flops(w) / seconds / 1e9:.2f}",
                 "—" if converged else f"{percent:.1f}",
                 "—" if base is None else f"{seconds / base:.2f}",
                 f"{loss:.6f}" + loss_check(w, row, loss, fastnn_result), f"{mib:.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    if any(row.library.endswith("†") for row in rows):
        lines += ["", "† sklearn.linear_model.LogisticRegression(solver=\"lbfgs\", max_iter=1000): "
                  "solves to convergence (default C=1), not 2000 steps."]
    compiled = [f"{row.library} {r.compile_seconds:.2f} s" for row, r in rows.items()
                if r.compile_seconds is not None]
    if compiled:
        lines += ["", "Compiled before the timed fits (not in seconds): " + "; ".join(compiled)
                  + ". Keras's figure is its first fit of one epoch (tracing, compiling and "
                  "the epoch)."]
    return lines


# Relative tolerance of the final-loss check: the rows train the same steps
# from the same weights, but sum in other orders (float32 drifts further).
LOSS_RTOL = {"float32": 1e-3, "float64": 1e-7}


def loss_check(w, row, loss, fastnn_result):
    """" ✓" or " ✗" after the loss of a row started from fastnn's weights:
    whether it equals fastnn's; "" for other rows, and under dropout (whose
    masks each library draws its own way)."""
    if not row.from_fastnn or w.keep_prob < 1 or fastnn_result is None:
        return ""
    same = math.isclose(loss, fastnn_result.loss, rel_tol=LOSS_RTOL[row.dtype])
    if not same:
        print(f"  warning: {row.library} {row.dtype} final loss {loss:.9g} != fastnn's "
              f"{fastnn_result.loss:.9g} (rtol {LOSS_RTOL[row.dtype]:g})", file=sys.stderr)
    return " ✓" if same else " ✗"


NOTES = """
## How to read the tables

- seconds: median wall time of construction + fit (data already prepared).
- steps/s: optimizer steps (epochs * ceil(n / batch)) per second.
- GFLOP/s: nominal GFLOP = 6 * n * sum(n_in * n_out) * epochs, divided by seconds.
- % of ceiling: GFLOP/s over the 2-thread GEMM ceiling of the same precision;
  fastnn rows count the FLOPs it executes (nominal less the layer-1 input
  gradient, 2 * n * n_0 * n_1 * epochs), other rows the nominal count.
- ratio: seconds / fastnn seconds of the same dtype (> 1: fastnn is faster).
- final loss: full-data training cost (no dropout, no L2) of the fitted weights,
  by fastnn.reference in float64; initial weights differ between libraries
  (same scheme family; scikit-learn uses its own Glorot-uniform init).
- peak MiB: peak RSS during one untimed fit minus the RSS just before it
  (sampled every ~1 ms from /proc/self/statm).
- reference on W6: inverted dropout with masks computed step by step from a
  seed (fastnn's hash, in NumPy) inside the timed region; scikit-learn has no
  dropout (no W6 row).
""".strip().splitlines()

PEER_NOTES = """
- JAX and Keras 3 (JAX backend) rows start from fastnn's own initial weights
  (its estimator fitted for max_iter=0); ✓ / ✗ after their final loss: equal
  to fastnn's within a relative 1e-3 (float32) / 1e-7 (float64), or not. Not
  checked under dropout (each library draws its own masks).
- JAX rows: batches already on the device; "jit per epoch" calls one jitted
  epoch (lax.scan over the batches) from Python per epoch, "lax.scan" runs all
  epochs in one jitted call. Compilation is timed apart (below each table).
- Keras rows: Sequential of Dense (+ Dropout), SGD, fit(shuffle=False); its
  first one-epoch fit (tracing, compiling) is timed apart, each timed fit sets
  fastnn's initial weights back first.
- % of ceiling, with JAX installed: over the best of the 2-thread BLAS GEMM
  and XLA's jitted jnp.dot of the same precision.
""".strip().splitlines()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dtypes", default=",".join(DTYPES))
    parser.add_argument("--output")
    parser.add_argument("--quick", action="store_true", help="n/10 and epochs/10, for smoke tests")
    parser.add_argument("--sklearn-defaults", action=argparse.BooleanOptionalAction, default=True,
                        help="the section at scikit-learn's defaults (at_sklearn_defaults.py)")
    args = parser.parse_args(argv)
    names = [name.strip().upper() for name in args.workloads.split(",") if name.strip()]
    dtypes = [dtype.strip() for dtype in args.dtypes.split(",") if dtype.strip()]
    unknown = [name for name in names if name not in WORKLOADS] + [d for d in dtypes if d not in DTYPES]
    if unknown or args.runs < 1:
        parser.error(f"unknown workloads/dtypes {unknown} or --runs < 1")

    # The ceiling is measured before and after the workloads; the best of the
    # two is kept (a busy machine only ever lowers it).
    first_ceiling = gemm_ceiling()
    warm_up(dtypes)
    results = {}
    for name in names:
        w = quick(WORKLOADS[name]) if args.quick else WORKLOADS[name]
        results[name] = w, measure(name, w, dtypes, args.runs)
    ceiling = {key: max(value, first_ceiling[key]) for key, value in gemm_ceiling().items()}
    lines = machine_header(ceiling, args) + [""] + NOTES
    if PEERS_FROM_FASTNN_WEIGHTS:
        lines += PEER_NOTES
    for name, (w, workload_results) in results.items():
        for dtype in dtypes:
            lines += workload_table(name, w, dtype, workload_results, ceiling)
    if args.sklearn_defaults:
        lines += at_sklearn_defaults.section(args.runs, dtypes, args.quick)
    report = "\n".join(lines) + "\n"
    print(report, end="")
    if args.output:
        with open(args.output, "w") as f:
            f.write(report)


if __name__ == "__main__":
    main()
