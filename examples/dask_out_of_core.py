"""Train a fastnn network on a Dask array larger than any one block of it.

    pip install "fastnn[dask]"
    python examples/dask_out_of_core.py                # 1 GiB of float64 rows, ~15 s on 2 cores
    python examples/dask_out_of_core.py --blocks 160   # 4 GiB: the same memory, 4x the time

The data never exists as a whole: each block is made (here: synthetic rows
labelled by a fixed random "teacher" network; in practice: read from files,
a database, ...) by a task on a worker of a local dask.distributed cluster that
this script starts. dask-ml's Incremental passes the blocks to
DeepNetwork.partial_fit one at a time, a few blocks per call, so the cluster
holds the model and a few blocks at once (the whole process tree, three
Python processes, peaked at 1.0-1.1 GiB with 20, 80 and 160 blocks).
Incremental (a ParallelPostFit) then predicts the held-out blocks block by
block on the workers.

Only one block trains at a time (each partial_fit goes on from the previous
one); the other worker makes the window's next blocks meanwhile. Dask's worker
processes start with BLAS on one thread, so each fit there runs on one thread
(fastnn's automatic n_threads follows BLAS's limit); for a team of k threads
per fit, pass n_threads=k and leave the worker k cores.
"""
import argparse
import time

import dask
import dask.array as da
import numpy as np
from dask_ml.wrappers import Incremental
from distributed import Client, LocalCluster

from fastnn import DeepNetwork

N_CLASSES = 4
TEACHER_SEED = 2024


def make_block(index, rows, features):
    """Block `index` of the data set: the same rows every time it is asked
    for (its own seed), labelled by a fixed random two-layer network."""
    teacher = np.random.default_rng(TEACHER_SEED)
    hidden = teacher.standard_normal((features, 16)) / np.sqrt(features)
    output = teacher.standard_normal((16, N_CLASSES))
    X = np.random.default_rng([TEACHER_SEED, index]).standard_normal((rows, features))
    y = np.argmax(np.tanh(X @ hidden) @ output, axis=1)
    return X, y


def dask_data(first_block, n_blocks, rows, features):
    """(X, y) as Dask arrays of `n_blocks` blocks, each made by one task when
    a computation needs it (X and y of a block come from the same task)."""
    blocks = [dask.delayed(make_block, nout=2)(index, rows, features)
              for index in range(first_block, first_block + n_blocks)]
    X = da.concatenate([da.from_delayed(X, shape=(rows, features), dtype=np.float64)
                        for X, _ in blocks])
    y = da.concatenate([da.from_delayed(y, shape=(rows,), dtype=np.int64) for _, y in blocks])
    return X, y


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--blocks", type=int, default=40, help="training blocks")
    parser.add_argument("--rows", type=int, default=100_000, help="rows per block")
    parser.add_argument("--features", type=int, default=32)
    parser.add_argument("--test-blocks", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--window", type=int, default=4, help="blocks per partial_fit call")
    args = parser.parse_args()

    X, y = dask_data(0, args.blocks, args.rows, args.features)
    X_test, y_test = dask_data(args.blocks, args.test_blocks, args.rows, args.features)
    mib = 2**20
    print(f"training data: {X.shape[0]:,} rows x {X.shape[1]} features = {X.nbytes / mib:,.0f} MiB"
          f" in {X.numblocks[0]} blocks of {X.blocks[0].nbytes / mib:,.1f} MiB")

    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster):
        model = Incremental(
            DeepNetwork((64, 32), activation="relu", optimizer="adam", learning_rate=0.003,
                        batch_size=256, random_state=0),
            random_state=0)
        start = time.perf_counter()
        # A few blocks per call, the windows in a shuffled order. (One
        # model.fit(X, y) over the whole array trains the same way, but the
        # scheduler then sees every block at once: the workers make blocks
        # faster than training uses them up, and the blocks wait in memory.)
        order = np.random.default_rng(0).permutation(args.blocks)
        for first in range(0, args.blocks, args.window):
            window = order[first:first + args.window]
            model.partial_fit(da.concatenate([X.blocks[i] for i in window]),
                              da.concatenate([y.blocks[i] for i in window]),
                              classes=np.arange(N_CLASSES))
        print(f"Incremental.partial_fit, one pass over the blocks: "
              f"{time.perf_counter() - start:.1f} s")

        start = time.perf_counter()
        # One computation for both: each test block is made once.
        predicted, truth = dask.compute(model.predict(X_test), y_test)
        print(f"held-out accuracy ({len(truth):,} rows, predicted block by block on the "
              f"workers): {np.mean(predicted == truth):.3f} in {time.perf_counter() - start:.1f} s"
              f" (the largest class: {np.bincount(truth).max() / len(truth):.3f})")


if __name__ == "__main__":
    main()
