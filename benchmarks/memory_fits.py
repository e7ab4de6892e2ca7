"""Resident memory over many fits: a leak in the compiled core (a buffer not
freed, a reference not dropped) shows as steady growth.

    python benchmarks/memory_fits.py [--fits 1000]

Prints the resident set size after a warm-up and after all fits, and the
growth; the goal (issue 6) is under 5 MiB over 1000 fits.
"""
import argparse
import gc
import os

import numpy as np

from fastnn import DeepNetwork, DeepRegressor, LogisticRegression


def resident_mib():
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def one_round(rng, X, y, index):
    """Several fits that touch every part of the core: threads, dropout,
    optimisers, early stopping, sample weights, partial_fit, predict."""
    settings = dict(max_iter=3, random_state=index)
    DeepNetwork((32, 16), batch_size=32, keep_prob=0.8, optimizer="adam", n_threads=2,
                **settings).fit(X, y).predict_proba(X)
    DeepRegressor((8,), early_stopping=True, **settings).fit(X, X[:, 0]).predict(X)
    LogisticRegression(**settings).fit(X, y % 2, sample_weight=rng.random(len(y)))
    model = DeepNetwork((8,), **settings)
    for start in range(0, len(y), 50):
        model.partial_fit(X[start:start + 50], y[start:start + 50], classes=[0, 1, 2])


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fits", type=int, default=1000, help="rounds of fits (default 1000)")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 20))
    y = np.arange(200) % 3
    for index in range(20):  # warm-up: imports, BLAS buffers, allocator pools
        one_round(rng, X, y, index)
    gc.collect()
    before = resident_mib()
    for index in range(args.fits):
        one_round(rng, X, y, index)
    gc.collect()
    after = resident_mib()
    print(f"{args.fits} rounds ({3 * args.fits} fits, {4 * args.fits} partial_fits): "
          f"resident {before:.1f} MiB -> {after:.1f} MiB, growth {after - before:+.2f} MiB")


if __name__ == "__main__":
    main()
