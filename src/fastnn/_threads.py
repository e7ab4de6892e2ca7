"""How many threads a fit uses, and BLAS's threads while it runs.

Threads can pile up at three levels: fastnn's team, which shares each batch;
BLAS's own threads inside each matrix product; and several fits running at
once in one process (the training loop runs without the GIL, so
GridSearchCV(n_jobs=...) with joblib's threading backend runs fits side by
side). More busy threads than cores is slow here in particular: the team meets
at a spinning barrier twice per step, and a spinning member whose partner has
lost its core burns the core it holds. So `fit_threads` keeps the total near
the number of cores:

- One threading layer at a time: while a team (or a fit with a given
  n_threads, which is its whole core budget) runs, BLAS is held to one thread.
- Fits share the cores: with n_threads=None a fit takes at most its share,
  available_cores() // (fastnn fits running in this process, itself
  included), and at most BLAS's thread limit as the process found it (what
  OPENBLAS_NUM_THREADS, threadpoolctl, joblib's process workers (cores //
  n_jobs) or Dask's worker processes (1) allow), and while more than one fit
  runs, BLAS is held to one thread.
- One limit above all: an automatic team never has more than MAX_THREADS
  (the core's FNN_MAX_THREADS, the bound of n_threads too), however many
  cores the host has.

BLAS's limit is process-global, so the fits that need it held share one hold,
counted under a lock: the first takes it, the last gives it back. (Each fit
entering and leaving threadpoolctl's context on its own would, with fits
overlapping, let one fit's exit hand BLAS its threads back while another fit
still runs, and leave BLAS at one thread for good after the last one.)
"""
import contextlib
import os
import sys
import threading
import warnings
from contextlib import contextmanager

from fastnn._core.vocabulary import MAX_THREADS

# Below this many multiply-adds per step and thread, a second thread costs
# more in synchronisation (two barriers per step) than it saves. Measured on
# scikit-learn's MLP defaults (batch 200, 100 hidden units, quiet machine):
# digits 64-100-10 (1.5M a step) and 100-100-10 (2.2M) train 1.1-1.4x faster
# on a team of two (BLAS held to one thread) than on one thread with BLAS's
# own threads, which the former bound of 2M per thread chose.
_MIN_WORK_PER_THREAD = 600_000
# Small batches of wide layers go to the team too, although BLAS's own
# threads, splitting each product, ran them 4-12 % faster on a quiet machine
# (784-256-128-10 at batch 64): beside one busy process OpenBLAS's spinning
# workers took 3.5-4x their quiet time, the paced team 1.0-1.2x that of one
# thread (benchmarks/RESULTS.md, contention).

_lock = threading.Lock()       # guards everything below
_running_fits = 0              # fits inside fit_threads, in every thread of this process
_blas_holders = 0              # of those, the fits that need BLAS on one thread
_blas_hold = None              # threadpoolctl's limiter while held: restores the limits
_blas_threads_outside = None   # BLAS's thread limit from before the hold
_blas_libraries = None         # threadpoolctl's controller of the BLAS libraries


class ThreadOversubscriptionWarning(UserWarning):
    """A fit was given more threads (n_threads) than this process has cores."""


def _caller_stacklevel():
    """warnings.warn's stacklevel, for a warning raised in the caller of this
    function, that names the first frame outside fastnn, contextlib and
    scikit-learn (its fit wrappers): the user's line that started the fit."""
    fastnn_dir = os.path.dirname(os.path.abspath(__file__)) + os.sep
    frame, level = sys._getframe(1), 1
    while frame is not None:
        filename = os.path.abspath(frame.f_code.co_filename)
        if not (filename.startswith(fastnn_dir) or filename == contextlib.__file__
                or f"{os.sep}sklearn{os.sep}" in filename):
            return level
        frame, level = frame.f_back, level + 1
    return 1


def warn_if_oversubscribed(n_threads):
    """A given n_threads above the cores this process may use is taken as
    given, but its team spins at barriers on shared cores: say so."""
    if n_threads is None:
        return
    cores = available_cores()
    if n_threads > cores:
        warnings.warn(
            f"n_threads={n_threads} is more than the {cores} cores this process may use: "
            f"the threads will wait on each other for a core and training will be much "
            f"slower. Pass n_threads={cores} or less, or n_threads=None to let fastnn choose.",
            ThreadOversubscriptionWarning, stacklevel=_caller_stacklevel())


def available_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def training_threads(n_threads, batch_size, layer_sizes, budget=None):
    """The size of the team that shares each batch: `n_threads` if given.
    Otherwise 1 for small steps, else as many threads as the work of a step
    (batch rows x weights) keeps busy, at most `budget` (default: all
    available cores) and at most MAX_THREADS, the core's limit."""
    if n_threads is not None:
        return int(n_threads)
    if budget is None:
        budget = available_cores()
    weights = sum(n_in * n_out for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:]))
    work = batch_size * weights
    return max(1, min(budget, MAX_THREADS, work // _MIN_WORK_PER_THREAD, batch_size))


def _blas_controller():
    """threadpoolctl's controller of the BLAS libraries, made once: making one
    scans every loaded library (about 2 ms, more than a small partial_fit).
    The BLAS fastnn calls (SciPy's) is loaded before the first fit."""
    global _blas_libraries
    if _blas_libraries is None:
        from threadpoolctl import ThreadpoolController
        _blas_libraries = ThreadpoolController().select(user_api="blas")
    return _blas_libraries


def _change_blas_limits(change):
    """Run `change` (a threadpoolctl call that sets BLAS's limits) so that it
    takes effect from any thread. threadpoolctl (3.8 on) lets one thread at a
    time set a process-wide BLAS pool (OpenBLAS on pthreads): the first to
    set it, until it ends or leaves its threadpool_limits context; other
    threads' settings are silently dropped. The shared hold is taken by one
    fit's thread and given back by whichever fit ends last, often another
    thread, so each change clears that ownership before and after (fastnn's
    lock already keeps its changes from crossing)."""
    from threadpoolctl import OpenBLASController
    release = getattr(OpenBLASController, "clear_controlling_thread", None)
    if release is not None:
        release(force=True)
    try:
        return change()
    finally:
        if release is not None:
            release(force=True)


def _blas_threads():
    """BLAS's thread limit as the process has it outside fastnn's hold (the
    smallest over the BLAS libraries), None if no BLAS library is known."""
    if _blas_hold is not None:
        return _blas_threads_outside
    limits = [library["num_threads"] for library in _blas_controller().info()]
    return min(limits) if limits else None


def fit_budget(running_fits):
    """The most threads an automatic team may use while `running_fits` fits
    (this one included) run in this process: its share of the cores, at
    most BLAS's thread limit and at most MAX_THREADS."""
    budget = max(1, min(available_cores() // running_fits, MAX_THREADS))
    blas_threads = _blas_threads()
    if blas_threads is not None and blas_threads >= 1:
        budget = min(budget, blas_threads)
    return budget


def running_fits():
    """How many fits are training in this process now."""
    return _running_fits


@contextmanager
def fit_threads(n_threads, batch_size, layer_sizes):
    """Around a fit's training loop: yields the team size for `n_threads`
    (the estimator's parameter: an int, or None for automatic), holding BLAS
    to one thread while the team, a given n_threads or another fit needs
    the cores."""
    global _running_fits, _blas_holders, _blas_hold, _blas_threads_outside
    warn_if_oversubscribed(n_threads)
    with _lock:
        _running_fits += 1
        try:
            team = training_threads(n_threads, batch_size, layer_sizes,
                                    fit_budget(_running_fits))
            # Only a lone automatic fit of one thread (a small step) leaves
            # BLAS its threads.
            hold_blas = team > 1 or n_threads is not None or _running_fits > 1
            if hold_blas:
                if _blas_holders == 0:
                    _blas_threads_outside = _blas_threads()
                    _blas_hold = _change_blas_limits(
                        lambda: _blas_controller().limit(limits=1))
                _blas_holders += 1
        except BaseException:
            _running_fits -= 1
            raise
    try:
        yield team
    finally:
        with _lock:
            _running_fits -= 1
            if hold_blas:
                _blas_holders -= 1
                if _blas_holders == 0:
                    _change_blas_limits(_blas_hold.restore_original_limits)
                    _blas_hold = _blas_threads_outside = None
