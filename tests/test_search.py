"""Several fits at once in one process (the training loop runs without the
GIL): a threaded model search equals the serial one, and the fits share the
cores and one hold on BLAS's threads instead of oversubscribing them."""
import threading

import numpy as np
import pytest
from joblib import parallel_config
from sklearn.model_selection import GridSearchCV
from threadpoolctl import threadpool_info, threadpool_limits

from fastnn import DeepNetwork
from fastnn import _threads

GRID = {"hidden_layer_sizes": [(8,), (16, 8)], "learning_rate": [0.01, 0.05],
        "l2": [0.0, 0.1]}  # 8 candidates


def blas_threads():
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


def test_threaded_grid_search_equals_serial(breast_cancer):
    X_train, X_test, y_train, y_test = breast_cancer
    busiest = []  # fits running at once, seen from inside the fits

    def look(progress):
        busiest.append(_threads.running_fits())

    model = DeepNetwork(batch_size=32, max_iter=15, optimizer="adam", cost_every=1,
                        callbacks=[look], random_state=0)
    # The premise of bit-identical results: the automatic team is one thread
    # whether a fit runs alone or beside another. (A larger step gets a team
    # of all cores alone and a share beside other fits, and the team size
    # changes summation order; pass n_threads to fix it.)
    for hidden in GRID["hidden_layer_sizes"]:
        layers = (X_train.shape[1], *hidden, 1)
        assert _threads.training_threads(None, 32, layers, budget=64) == 1

    def search(n_jobs):
        with parallel_config(backend="threading"):
            return GridSearchCV(model, GRID, cv=3, n_jobs=n_jobs).fit(X_train, y_train)

    serial = search(1)
    assert max(busiest) == 1
    busiest.clear()
    threaded = search(2)
    assert max(busiest) == 2  # the fits did overlap

    assert len(serial.cv_results_["params"]) == 8
    assert threaded.best_params_ == serial.best_params_
    for key, values in serial.cv_results_.items():
        if "time" not in key:
            np.testing.assert_array_equal(threaded.cv_results_[key], values, err_msg=key)
    # The candidates score differently: equal scores are no accident of equal models.
    assert len(set(serial.cv_results_["mean_test_score"])) > 1
    best, other = serial.best_estimator_, threaded.best_estimator_
    for a, b in zip(best.coefs_ + best.intercepts_, other.coefs_ + other.intercepts_):
        np.testing.assert_array_equal(a, b)
    assert threaded.score(X_test, y_test) == serial.score(X_test, y_test)


@pytest.fixture
def eight_cores_blas_at_two(monkeypatch):
    """A machine of 8 cores whose BLAS runs 2 threads, whatever this one has."""
    monkeypatch.setattr(_threads, "available_cores", lambda: 8)
    with threadpool_limits(limits=2, user_api="blas"):
        yield


BIG_STEP = dict(batch_size=1024, layer_sizes=(200, 512, 10))  # work for 8 threads and more


def test_overlapping_fits_share_one_hold_on_blas(eight_cores_blas_at_two):
    """Fit A starts, fit B starts, A ends while B runs, B ends: BLAS stays on
    one thread until the last of them ends, then gets its threads back."""
    first = _threads.fit_threads(1, **BIG_STEP)
    second = _threads.fit_threads(1, **BIG_STEP)
    first.__enter__()
    try:
        assert blas_threads() == {1}
        second.__enter__()
    finally:
        first.__exit__(None, None, None)
    try:
        assert blas_threads() == {1}
        assert _threads.running_fits() == 1
    finally:
        second.__exit__(None, None, None)
    assert blas_threads() == {2}
    assert _threads.running_fits() == 0


def test_automatic_team_takes_its_share_of_the_cores(eight_cores_blas_at_two):
    # Alone: all cores, but no more threads than BLAS is allowed (2 here).
    with _threads.fit_threads(None, **BIG_STEP) as team:
        assert team == 2
    with threadpool_limits(limits=64, user_api="blas"):
        with _threads.fit_threads(None, **BIG_STEP) as alone:
            assert alone == 8
            # A second fit while the first holds BLAS to one thread: half the
            # cores (the cap is BLAS's limit from before the hold, not 1).
            with _threads.fit_threads(None, **BIG_STEP) as beside:
                assert beside == 4
                with _threads.fit_threads(None, **BIG_STEP) as third:
                    assert third == 8 // 3
            # A given n_threads is taken as given.
            with _threads.fit_threads(6, **BIG_STEP) as given:
                assert given == 6


def test_a_lone_automatic_fit_of_one_thread_leaves_blas_its_threads(eight_cores_blas_at_two):
    small_step = dict(batch_size=32, layer_sizes=(30, 8, 1))
    with _threads.fit_threads(None, **small_step) as team:
        assert team == 1
        assert blas_threads() == {2}
        # ...until a second fit runs beside it.
        with _threads.fit_threads(None, **small_step):
            assert blas_threads() == {1}
        assert blas_threads() == {2}


def test_fits_in_threads_hold_blas_while_they_overlap(breast_cancer):
    """Two automatic fits of one thread each, in two Python threads, meeting
    at their first epoch: BLAS runs one thread while both train, and has its
    threads back after."""
    X_train, _, y_train, _ = breast_cancer
    meet = threading.Barrier(2, timeout=30)
    seen = []

    def look(progress):
        if progress.iteration == 0:
            meet.wait()
            seen.append(blas_threads())
            meet.wait()  # neither ends before the other has looked

    def fit():
        DeepNetwork((8,), batch_size=32, max_iter=3, cost_every=1, callbacks=[look],
                    random_state=0).fit(X_train, y_train)

    with threadpool_limits(limits=2, user_api="blas"):
        threads = [threading.Thread(target=fit) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert seen == [{1}, {1}]
        assert blas_threads() == {2}
