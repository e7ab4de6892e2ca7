"""The section "at scikit-learn's defaults" of compare.py: fastnn.MLPClassifier /
MLPRegressor beside scikit-learn's, same parameters and random_state, so the
same weights; seconds of construction + fit and their ratio.

    python benchmarks/at_sklearn_defaults.py [--runs 3] [--dtypes float32,float64] [--quick]

Rows run scikit-learn's defaults (adam, batch min(200, n), 100 hidden units,
alpha 1e-4, the tol rule) but for max_iter where noted: the large sets run a
fixed number of epochs (tol=0), so that a row costs seconds, not minutes;
the time per epoch is what the ratio measures. "max |dW|/|W|" is the largest
relative difference between the two fitted models' weights over the layers.
"""
import argparse
import statistics
import sys
import time
import warnings
from collections import namedtuple

import numpy as np
import scipy.sparse
from sklearn import neural_network as sk
from sklearn.datasets import load_digits, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

import fastnn

Row = namedtuple("Row", "name estimator params make_data")


def digits():
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def classification_50k():
    return make_classification(50_000, 100, n_informative=40, n_classes=10, random_state=0)


def regression_50k():
    X, y = make_regression(50_000, 20, n_informative=15, noise=5.0, random_state=0)
    return X, y / y.std()


def sparse_20k():
    """20 000 x 50 000 CSR at 0.5 % density; 5 classes from a sparse linear rule."""
    rng = np.random.default_rng(0)
    X = scipy.sparse.random(20_000, 50_000, density=0.005, format="csr", random_state=0,
                            data_rvs=rng.standard_normal)
    scores = X @ rng.standard_normal((50_000, 5))
    return X, np.argmax(scores, axis=1)


ROWS = [
    Row("digits, MLPClassifier()", "MLPClassifier", dict(), digits),
    Row("50 000 x 100, 10 classes, MLPClassifier(max_iter=20, tol=0)", "MLPClassifier",
        dict(max_iter=20, tol=0.0), classification_50k),
    Row("50 000 x 20, MLPRegressor(max_iter=20, tol=0)", "MLPRegressor",
        dict(max_iter=20, tol=0.0), regression_50k),
    Row("digits, MLPClassifier(solver=\"lbfgs\")", "MLPClassifier", dict(solver="lbfgs"), digits),
    Row("sparse 20 000 x 50 000 (0.5 %), MLPClassifier(max_iter=2, tol=0)", "MLPClassifier",
        dict(max_iter=2, tol=0.0), sparse_20k),
]


def weight_difference(a, b):
    return max(float(np.max(np.abs(p - q)) / np.max(np.abs(q)))
               for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_))


def running_threads():
    """Threads running on the machine now (Linux: /proc/loadavg's 4th field),
    this one included; None where unknown."""
    try:
        with open("/proc/loadavg") as loadavg:
            return int(loadavg.read().split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return None


def settle(at_least=0.2, at_most=2.0):
    """Start each timed fit from the same state: the threads a previous fit
    left spinning have gone to sleep, and the cores are awake. OpenBLAS's
    idle workers (NumPy's and SciPy's, after a scikit-learn fit) spin for
    about 0.12 s here and would take both cores from whichever fit comes
    next; sleeping through that instead lets the virtual CPUs idle, and the
    next fit then starts up to 1.7x slower. So busy-wait on this one thread
    until no other thread runs, at least `at_least` seconds."""
    start = time.perf_counter()
    while True:
        elapsed = time.perf_counter() - start
        threads = running_threads()
        if elapsed >= at_most or (elapsed >= at_least and (threads is None or threads <= 1)):
            return


def fit(library, row, X, y):
    estimator = getattr(library, row.estimator)(random_state=0, **row.params)
    settle()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X, y)
    return time.perf_counter() - start, estimator


def measure(row, dtype, runs, quick):
    X, y = row.make_data()
    if quick:
        X, y = X[: X.shape[0] // 10], y[: X.shape[0] // 10]
    X = X.astype(dtype)
    times = {"fastnn": [], "scikit-learn": []}
    models = {}
    for round_ in range(runs):   # interleaved
        for name, library in (("fastnn", fastnn), ("scikit-learn", sk)):
            seconds, models[name] = fit(library, row, X, y)
            times[name].append(seconds)
            print(f"  {row.name} {dtype} round {round_ + 1}/{runs} {name:<12s} {seconds:8.3f} s",
                  file=sys.stderr, flush=True)
    ours, theirs = models["fastnn"], models["scikit-learn"]
    return (statistics.median(times["fastnn"]), statistics.median(times["scikit-learn"]),
            weight_difference(ours, theirs), ours.n_iter_, theirs.n_iter_)


def section(runs=3, dtypes=("float64", "float32"), quick=False):
    """The section's markdown lines."""
    lines = ["", "## At scikit-learn's defaults: fastnn.MLPClassifier / MLPRegressor vs "
             "scikit-learn's", "",
             "Same parameters and random_state=0, so the same initial weights, shuffles and "
             "arithmetic; median of "
             f"{runs} interleaved rounds" + (" (**--quick: n/10**)" if quick else "") + ".", "",
             "| set | dtype | fastnn s | scikit-learn s | ratio | n_iter_ (fastnn/sklearn) "
             "| max \\|dW\\|/\\|W\\| |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for row in ROWS:
        for dtype in dtypes:
            ours, theirs, difference, our_iter, their_iter = measure(row, dtype, runs, quick)
            lines.append(f"| {row.name} | {dtype} | {ours:.3f} | {theirs:.3f} | "
                         f"{theirs / ours:.2f} | {our_iter}/{their_iter} | {difference:.1e} |")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dtypes", default="float64,float32")
    parser.add_argument("--quick", action="store_true", help="n/10, for smoke tests")
    args = parser.parse_args(argv)
    print("\n".join(section(args.runs, args.dtypes.split(","), args.quick)))


if __name__ == "__main__":
    main()
