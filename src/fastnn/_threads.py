"""How many threads share each training batch."""
import os

# Below this many multiply-adds per step, a second thread costs more in
# synchronisation (two barriers per step) than it saves.
_MIN_WORK_PER_THREAD = 2_000_000


def available_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def training_threads(n_threads, batch_size, layer_sizes):
    """The team size for a fit: `n_threads` if given, else as many cores as
    the step's work (batch rows x weights) keeps busy."""
    if n_threads is not None:
        return int(n_threads)
    weights = sum(n_in * n_out for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:]))
    work = batch_size * weights
    return max(1, min(available_cores(), work // _MIN_WORK_PER_THREAD, batch_size))
