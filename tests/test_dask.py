"""Out-of-core training on Dask (the optional `fastnn[dask]` extra):
dask-ml's Incremental feeds partial_fit one block of a Dask array at a time,
ParallelPostFit predicts block by block. fastnn itself never imports Dask."""
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fastnn import DeepNetwork

N_ROWS, N_FEATURES, BLOCK_ROWS = 2400, 10, 300
CLASSES = [0, 1, 2]


def test_import_fastnn_does_not_import_dask():
    script = (
        "import sys, numpy as np, fastnn\n"
        "fastnn.DeepNetwork((4,), max_iter=2).fit(np.eye(6), np.arange(6) % 2)\n"
        "print(sorted({name.split('.')[0] for name in sys.modules}"
        " & {'dask', 'distributed', 'dask_ml'}))\n")
    output = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True,
                            text=True).stdout
    assert output.strip() == "[]"


@pytest.fixture(scope="module")
def client():
    """A local cluster in this process (threads: starts in a fraction of a
    second; the blocks and the model still go through Dask's scheduler)."""
    pytest.importorskip("dask_ml")
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            yield client


@pytest.fixture(scope="module")
def data():
    """Three balanced classes (which of the first three features is largest):
    one pass of a small network separates them well."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N_ROWS, N_FEATURES))
    y = np.argmax(X[:, :3], axis=1)
    return X, y


def in_dask(X, y):
    import dask.array as da
    return (da.from_array(X, chunks=(BLOCK_ROWS, N_FEATURES)),
            da.from_array(y, chunks=BLOCK_ROWS))


def network():
    return DeepNetwork((16,), batch_size=32, learning_rate=0.01, optimizer="adam",
                       random_state=0)


def test_incremental_trains_like_partial_fit_over_the_blocks(client, data):
    from distributed import get_task_stream
    from dask_ml.wrappers import Incremental
    X, y = data
    n_blocks = N_ROWS // BLOCK_ROWS
    with get_task_stream(client) as tasks:
        # shuffle_blocks=False: the blocks in order, as in the loop below
        # (dask-ml shuffles the block order by default).
        incremental = Incremental(network(), shuffle_blocks=False).fit(
            *in_dask(X, y), classes=CLASSES)
    looped = network()
    for start in range(0, N_ROWS, BLOCK_ROWS):
        looped.partial_fit(X[start:start + BLOCK_ROWS], y[start:start + BLOCK_ROWS],
                           classes=CLASSES)

    # One partial_fit task per block ran on the cluster's worker.
    fits = [task for task in tasks.data
            if task["key"][0].startswith("fit-") and task["key"][1] >= 0]
    assert len(fits) == n_blocks
    assert {task["worker"] for task in fits} == set(client.scheduler_info()["workers"])
    trained = incremental.estimator_
    assert trained.n_iter_ == looped.n_iter_ == n_blocks
    # The same steps in the same order: the same bits, so the same accuracy
    # (the issue asks for within 1 %).
    for a, b in zip(trained.coefs_ + trained.intercepts_, looped.coefs_ + looped.intercepts_):
        np.testing.assert_array_equal(a, b)
    accuracy = trained.score(X, y)
    assert accuracy == looped.score(X, y)
    assert accuracy > 0.85  # it learned: each class is a third


def test_parallel_post_fit_predicts_like_the_model(client, data):
    import dask.array as da
    from dask_ml.wrappers import ParallelPostFit
    X, y = data
    model = DeepNetwork((16,), batch_size=32, max_iter=5, random_state=0).fit(X, y)
    X_dask, y_dask = in_dask(X, y)
    wrapped = ParallelPostFit(model)
    predicted = wrapped.predict(X_dask)
    probabilities = wrapped.predict_proba(X_dask)
    assert isinstance(predicted, da.Array) and predicted.numblocks == (N_ROWS // BLOCK_ROWS,)
    np.testing.assert_array_equal(predicted.compute(), model.predict(X))
    np.testing.assert_array_equal(probabilities.compute(), model.predict_proba(X))
    assert wrapped.score(X_dask, y_dask) == model.score(X, y)


def test_the_out_of_core_example_runs_and_learns():
    """examples/dask_out_of_core.py, shrunk: its own cluster of worker
    processes, windows of blocks through Incremental, held-out accuracy."""
    pytest.importorskip("dask_ml")
    pytest.importorskip("distributed")
    example = Path(__file__).parents[1] / "examples" / "dask_out_of_core.py"
    output = subprocess.run(
        [sys.executable, str(example), "--blocks", "3", "--rows", "2000", "--test-blocks", "1",
         "--window", "2", "--workers", "1"],
        check=True, capture_output=True, text=True, timeout=120).stdout
    accuracy, largest_class = map(float, re.search(
        r"accuracy .*: ([\d.]+) in .*largest class: ([\d.]+)", output).groups())
    assert accuracy > largest_class + 0.2
