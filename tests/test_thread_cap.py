"""One thread limit: the automatic team size (n_threads=None) never exceeds
the core's limit, fastnn._core.vocabulary.MAX_THREADS (FNN_MAX_THREADS), the
bound n_threads itself has, however many cores the host has."""
import numpy as np
import pytest

from fastnn import DeepNetwork, _threads
from fastnn._constraints import N_THREADS
from fastnn._core.vocabulary import MAX_THREADS

HOST_CORES = 256   # a large host: more cores than the core's team may have

# Steps with work for far more than MAX_THREADS threads (batch rows x weights
# above MAX_THREADS * 2M multiply-adds, batches above MAX_THREADS rows).
BIG_STEPS = [(1 << 20, (4096, 4096, 10)), (1024, (1024, 1024, 1)), (128, (1024, 1024, 1)),
             (1 << 16, (784, 256, 128, 10))]


@pytest.fixture
def large_host(monkeypatch):
    """available_cores() of HOST_CORES, and BLAS as free to thread as on such
    a host (its limit as the process found it: all the cores)."""
    monkeypatch.setattr(_threads, "available_cores", lambda: HOST_CORES)
    monkeypatch.setattr(_threads, "_blas_threads", lambda: HOST_CORES)


def test_the_limit_is_the_n_threads_bound():
    assert MAX_THREADS == N_THREADS.right


@pytest.mark.parametrize("batch_size, layer_sizes", BIG_STEPS)
def test_automatic_team_is_capped(large_host, batch_size, layer_sizes):
    weights = sum(a * b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))
    assert batch_size * weights // _threads._MIN_WORK_PER_THREAD > MAX_THREADS  # the premise
    # The default budget (all available cores) and the budget of a lone fit.
    assert _threads.training_threads(None, batch_size, layer_sizes) == MAX_THREADS
    assert _threads.training_threads(None, batch_size, layer_sizes,
                                     _threads.fit_budget(1)) == MAX_THREADS
    # A budget of its own above the limit (e.g. a caller's) is capped too.
    assert _threads.training_threads(None, batch_size, layer_sizes,
                                     budget=4 * MAX_THREADS) == MAX_THREADS


def test_fit_budget_is_capped(large_host):
    assert _threads.fit_budget(1) == MAX_THREADS
    assert _threads.fit_budget(2) == MAX_THREADS          # 128 cores each: still the limit
    assert _threads.fit_budget(8) == HOST_CORES // 8      # below the limit: the share


def test_fit_threads_yields_at_most_the_limit(large_host):
    batch_size, layer_sizes = BIG_STEPS[0]
    with _threads.fit_threads(None, batch_size, layer_sizes) as team:
        assert team == MAX_THREADS


def test_a_given_n_threads_is_still_taken_as_given(large_host):
    assert _threads.training_threads(3, *BIG_STEPS[0]) == 3
    assert _threads.training_threads(MAX_THREADS, *BIG_STEPS[0]) == MAX_THREADS


def test_fit_on_a_large_host_trains(large_host, monkeypatch):
    """A whole fit whose automatic team would exceed the limit: before the
    cap, the core refused it (n_threads must be between 1 and 64)."""
    batch_size, (n_features, width, _) = BIG_STEPS[2]
    rng = np.random.default_rng(0)
    X = rng.standard_normal((batch_size, n_features)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    teams = []
    real_training_threads = _threads.training_threads

    def recorded(*args, **kwargs):
        teams.append(real_training_threads(*args, **kwargs))
        return teams[-1]

    monkeypatch.setattr(_threads, "training_threads", recorded)
    model = DeepNetwork((width,), max_iter=1, random_state=0).fit(X, y)
    assert teams == [MAX_THREADS]
    assert model.n_iter_ == 1 and np.all(np.isfinite(model.coefs_[0]))


def test_small_batches_of_wide_layers_get_the_paced_team():
    # 784-256-128-10 at batch 64 (compare.py's W3): once left to OpenBLAS's
    # own threads, which spin and collapsed 3.5-4x beside one busy process.
    assert _threads.training_threads(None, 64, (784, 256, 128, 10), budget=2) == 2
    assert _threads.training_threads(None, 64, (784, 256, 128, 10), budget=1) == 1
