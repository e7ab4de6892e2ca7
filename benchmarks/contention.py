"""fastnn on a busy machine: each workload alone, then beside one neighbour
process at a time, at nice 0 and at nice 19.

    python benchmarks/contention.py [--workloads W2,W3,W4,adam] [--runs 3]
                                    [--neighbours busy,blas,fastnn,spawn]
                                    [--output FILE] [--quick]

Workloads: compare.py's W2 (2-4-1, 10 000 full-batch steps, float64), W3
(784-256-128-10, batch 64, 1 epoch, float32) and W4 (the same at batch 1024,
3 epochs), and "adam", a small adam fit (breast_cancer standardised,
DeepNetwork((30, 16), optimizer="adam"), 200 epochs, float64). Each runs in
fastnn at its default threads and at n_threads=1 (which holds BLAS to one
thread as well), and in the peers compare.py has rows for
(PyTorch, JAX; not Keras) when they are installed.

Neighbours, each a separate process started before a condition's fits (its
setup done: it says "ready") and killed after them:
  busy    a Python busy loop (one thread)
  blas    a NumPy loop of 500 x 500 matrix products on two OpenBLAS threads
  fastnn  another process looping fastnn fits at their default threads
  spawn   a stream of short processes (a shell starting `python3 -c 0`)
each at nice 0 and at nice 19.

Two tables: every row's median time under each condition over its own quiet
time, and fastnn's default over its one-thread time under the same load
(issue 15: <= 1.2 beside any one neighbour, and the first table <= 1.15 for
fastnn's default beside nice-19 neighbours).
"""
import argparse
import contextlib
import datetime
import os
import platform
import statistics
import subprocess
import sys
import time
from collections import namedtuple

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.preprocessing import StandardScaler

import compare  # benchmarks/, beside this file: the workloads and the peers' runners

fastnn = compare.fastnn

NEIGHBOURS = {
    "busy": [sys.executable, "-c", "print('ready', flush=True)\nwhile True: pass"],
    "blas": [sys.executable, "-c",
             "import numpy as np\nfrom threadpoolctl import threadpool_limits\n"
             "threadpool_limits(2)\na = np.random.rand(500, 500)\n"
             "print('ready', flush=True)\nwhile True: a @ a"],
    "fastnn": [sys.executable, "-c",
               "import numpy as np, fastnn\nrng = np.random.default_rng(1)\n"
               "X = rng.random((20000, 100)); y = rng.integers(0, 5, 20000)\n"
               "print('ready', flush=True)\n"
               "while True: fastnn.DeepNetwork((100, 100), max_iter=2, random_state=0).fit(X, y)"],
    "spawn": ["sh", "-c", "echo ready; while :; do python3 -c 0; done"],
}

Case = namedtuple("Case", "workload library dtype run")


def adam_data():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def run_adam(X, y, n_threads=None):
    model = fastnn.DeepNetwork((30, 16), optimizer="adam", max_iter=200, n_threads=n_threads,
                               random_state=0)
    model.fit(X, y)


def cases(names, quick):
    """The timed fits: (workload, library, dtype, a callable), data made once."""
    found = []
    for name in names:
        if name == "adam":
            X, y = adam_data()
            found.append(Case("adam", "fastnn", "float64", lambda X=X, y=y: run_adam(X, y)))
            found.append(Case("adam", "fastnn n_threads=1", "float64",
                              lambda X=X, y=y: run_adam(X, y, n_threads=1)))
            continue
        w = compare.WORKLOADS[name]
        if quick:
            w = compare.quick(w)
        dtype = "float64" if name == "W2" else "float32"
        data = compare.make_data(name, w)
        data = compare.Data(w, data.X64, data.y)  # keep each workload's data alive
        for row in compare.rows_for(w, (dtype,)):
            # Keras's fit is dominated by its Python per epoch (10 000 on W2);
            # the NumPy reference and scikit-learn are not the point here.
            if row.library == "reference" or row.library.startswith(("scikit-learn", "Keras")):
                continue
            run = (lambda row=row, w=w, data=data: row.runner(w, data, row.dtype))
            found.append(Case(name, row.library, dtype, run))
            if row.library == "fastnn":
                single = (lambda w=w, data=data, dtype=dtype: compare.fastnn_model(
                    w, dtype, w.epochs).set_params(n_threads=1).fit(data.X[dtype], data.y))
                found.append(Case(name, "fastnn n_threads=1", dtype, single))
    return found


@contextlib.contextmanager
def neighbour(kind, nice):
    """A neighbour process running while the block runs (None: none)."""
    if kind is None:
        yield
        return
    # `nice` rather than a preexec_fn: that would fork a process JAX's threads run in
    command = (["nice", "-n", str(nice)] if nice else []) + NEIGHBOURS[kind]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True,
                               cwd=os.path.dirname(os.path.abspath(__file__)))
    try:
        if process.stdout.readline().strip() != "ready":
            raise RuntimeError(f"neighbour {kind!r} did not start")
        time.sleep(0.3)  # let it reach its steady state
        yield
    finally:
        process.kill()
        process.wait()


def time_cases(found, runs):
    """Median seconds of each case, the cases interleaved within each round."""
    seconds = {case: [] for case in found}
    for case in found:  # untimed: first-call costs (JAX's compilation, imports)
        case.run()
    for _ in range(runs):
        for case in found:
            start = time.perf_counter()
            case.run()
            seconds[case].append(time.perf_counter() - start)
    return {case: statistics.median(values) for case, values in seconds.items()}


def conditions(neighbour_kinds):
    yield "alone", None, 0
    for kind in neighbour_kinds:
        for nice in (0, 19):
            yield f"{kind}, nice {nice}", kind, nice


def report(found, timings, condition_names, args):
    quiet = timings["alone"]
    lines = [f"# fastnn on a busy machine ({datetime.date.today()})", "",
             f"Generated by `python benchmarks/contention.py {' '.join(args)}` on "
             f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
             "median of the rounds; a neighbour is one process (see the script).", "",
             "## Time under load / the same row's time alone", "",
             "| workload | library | dtype | alone s | " + " | ".join(condition_names[1:]) + " |",
             "|---|---|---|---:|" + "---:|" * (len(condition_names) - 1)]
    for case in found:
        cells = [f"{timings[c][case] / quiet[case]:.2f}" for c in condition_names[1:]]
        lines.append(f"| {case.workload} | {case.library} | {case.dtype} | {quiet[case]:.3f} | "
                     + " | ".join(cells) + " |")
    lines += ["", "## fastnn's default threads / n_threads=1, under the same load", "",
              "| workload | " + " | ".join(condition_names) + " |",
              "|---|" + "---:|" * len(condition_names)]
    by_key = {(case.workload, case.library): case for case in found}
    for case in found:
        if case.library != "fastnn":
            continue
        single = by_key[(case.workload, "fastnn n_threads=1")]
        cells = [f"{timings[c][case] / timings[c][single]:.2f}" for c in condition_names]
        lines.append(f"| {case.workload} | " + " | ".join(cells) + " |")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default="W2,W3,W4,adam")
    parser.add_argument("--neighbours", default=",".join(NEIGHBOURS))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--output", default=None, help="also write the tables to this file")
    parser.add_argument("--quick", action="store_true", help="compare.py's n/10 workloads")
    args = parser.parse_args(argv)
    found = cases(args.workloads.split(","), args.quick)
    timings, condition_names = {}, []
    for name, kind, nice in conditions([k for k in args.neighbours.split(",") if k]):
        with neighbour(kind, nice):
            timings[name] = time_cases(found, args.runs)
        condition_names.append(name)
        print(f"  {name}: done", file=sys.stderr, flush=True)
    text = "\n".join(report(found, timings, condition_names,
                            argv if argv is not None else sys.argv[1:])) + "\n"
    print(text)
    if args.output:
        with open(args.output, "w") as out:
            out.write(text)


if __name__ == "__main__":
    main()
