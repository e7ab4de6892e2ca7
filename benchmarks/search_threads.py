"""Wall time of one GridSearchCV over 8 candidates (cv=3: 24 fits): serial,
two joblib threads, two loky worker processes.

    python benchmarks/search_threads.py [--rounds 5] [--workloads tiny,small,callbacks,large]

fastnn's training loop runs without the GIL, so two threads of one process
can train two models at once. Workloads:

- tiny    breast cancer (455 x 30, standardised), DeepNetwork((32, 16)),
          batch 32, 20 epochs: fits of about 3 ms.
- small   the same, 200 epochs: fits of about 20 ms; either way a step far
          too small for a team of threads.
- callbacks  small, with a Python callback after every epoch (~0.1 ms of
          pure Python, holding the GIL: logging, a custom stopping rule).
- large   10000 x 100 synthetic classification, DeepNetwork((256, 128)),
          batch 256, 3 epochs: alone, a fit's automatic team takes every core.

Every configuration but the last leaves n_threads=None (the default): a fit
alone takes the cores its steps can use, two fits side by side in threads
take half each (fastnn._threads), and loky's workers start with BLAS at
cores // n_jobs threads, which caps fastnn's team the same way. The last,
"threads, n_threads=cores", runs only where a lone fit's team is more than
one thread: two threads whose fits each take every core (what the automatic
team did before fits shared the cores).

Timing: the configurations are interleaved within each round (a rotating
order), the median over the rounds is reported, and the ratio is serial time /
parallel time (> 1: the parallel search is faster). loky's worker processes
are started by an untimed warm-up; "loky, cold" times, once per workload,
a search that starts them (after shutting down joblib's reusable ones).
refit=False: the serial refit would time the same in all of them. Each
search's best parameters and cv scores are compared with the serial
search's, bit for bit.
"""
import argparse
import statistics
import time

import numpy as np
from joblib import parallel_config
from joblib.externals.loky import get_reusable_executor
from sklearn.datasets import load_breast_cancer, make_classification
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler

from fastnn import DeepNetwork
from fastnn._threads import available_cores, training_threads

GRID = {"learning_rate": [0.003, 0.01], "l2": [0.0, 0.1], "beta_1": [0.8, 0.9]}  # 8 candidates
# name: (joblib backend, n_jobs, n_threads of every fit)
CONFIGS = {"serial": ("loky", 1, None), "threads": ("threading", 2, None),
           "loky": ("loky", 2, None), "threads, n_threads=cores": ("threading", 2, "cores")}


def python_monitor(progress):
    """Stands for Python work at every epoch: ~0.1 ms holding the GIL."""
    sum(i * i for i in range(2_000))


def workload(name):
    if name in ("tiny", "small", "callbacks"):
        X, y = load_breast_cancer(return_X_y=True)
        X = StandardScaler().fit_transform(X)
        model = DeepNetwork((32, 16), batch_size=32, max_iter=20 if name == "tiny" else 200,
                            optimizer="adam", cost_every=None, random_state=0)
        if name == "callbacks":
            model.set_params(cost_every=1, callbacks=[python_monitor])
    else:
        X, y = make_classification(10_000, 100, n_informative=40, n_classes=3, random_state=0)
        model = DeepNetwork((256, 128), batch_size=256, max_iter=3, optimizer="adam",
                            cost_every=None, random_state=0)
    return model, X, y


def lone_team(model, X, y):
    """The automatic team of a fit alone on this machine."""
    layers = (X.shape[1], *model.hidden_layer_sizes, len(np.unique(y)))
    return training_threads(None, model.batch_size, layers)


def search(model, X, y, config):
    backend, n_jobs, n_threads = CONFIGS[config]
    model = model.set_params(n_threads=available_cores() if n_threads == "cores" else None)
    with parallel_config(backend=backend):
        start = time.perf_counter()
        result = GridSearchCV(model, GRID, cv=3, n_jobs=n_jobs, refit=False).fit(X, y)
        return time.perf_counter() - start, result


def same_results(one, other):
    scores = [key for key in one.cv_results_ if "test_score" in key]
    return one.best_params_ == other.best_params_ and all(
        np.array_equal(one.cv_results_[key], other.cv_results_[key]) for key in scores)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workloads", default="tiny,small,callbacks,large")
    args = parser.parse_args()
    print(f"{available_cores()} cores; n_jobs=2; {args.rounds} rounds, median\n")
    print("| workload | configuration | time | ratio serial / this | same results as serial |")
    print("|---|---|---:|---:|---|")
    for name in args.workloads.split(","):
        model, X, y = workload(name)
        configs = [config for config in CONFIGS
                   if CONFIGS[config][2] is None or lone_team(model, X, y) > 1]
        get_reusable_executor().shutdown(wait=True)
        cold, cold_result = search(model, X, y, "loky")  # then warm up the others
        _, serial = search(model, X, y, "serial")
        for config in configs[1:]:
            search(model, X, y, config)
        times = {config: [] for config in configs}
        same = {"loky, cold": same_results(serial, cold_result)}
        for round_ in range(args.rounds):
            shift = round_ % len(configs)
            for config in configs[shift:] + configs[:shift]:
                seconds, result = search(model, X, y, config)
                times[config].append(seconds)
                same[config] = same.get(config, True) and same_results(serial, result)
        median = {config: statistics.median(values) for config, values in times.items()}
        median["loky, cold"] = cold
        for config in configs[:3] + ["loky, cold"] + configs[3:]:
            print(f"| {name} | {config} | {median[config]:.2f} s "
                  f"| {median['serial'] / median[config]:.2f}x "
                  f"| {'yes' if same[config] else 'no'} |")


if __name__ == "__main__":
    main()
