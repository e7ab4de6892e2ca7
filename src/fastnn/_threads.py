"""How many threads share each training batch."""
import os

# Below this many multiply-adds per step and thread, a second thread costs
# more in synchronisation (two barriers per step) than it saves.
_MIN_WORK_PER_THREAD = 2_000_000
# Small batches of wide layers: BLAS's own threads, splitting each product,
# beat a team that splits the batch (each member would repack the same
# weights for half as many rows; measured on 784-256-128-10 at batch 32-64,
# 4-8 % faster, and equal from batch 128 on).
_TEAM_MIN_BATCH = 128
_TEAM_MAX_WIDTH_AT_SMALL_BATCH = 64


def available_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def training_threads(n_threads, batch_size, layer_sizes):
    """The size of the team that shares each batch: `n_threads` if given.
    Otherwise 1 for small steps, or for small batches of wide layers (BLAS
    then threads each product itself), else as many cores as the work of a
    step (batch rows x weights) keeps busy."""
    if n_threads is not None:
        return int(n_threads)
    weights = sum(n_in * n_out for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:]))
    work = batch_size * weights
    if batch_size < _TEAM_MIN_BATCH and max(layer_sizes[1:]) > _TEAM_MAX_WIDTH_AT_SMALL_BATCH:
        return 1
    return max(1, min(available_cores(), work // _MIN_WORK_PER_THREAD, batch_size))
