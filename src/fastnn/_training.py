"""What crosses the seam between the estimators and the compiled training
loop (fastnn._core.train.train), as typed objects built by keyword with the
estimators' own names:

- `Optimizer`: the update rule and its constants (SPEC 10), and the
  learning-rate schedule;
- `TrainingPlan`: what one call trains - epochs, batches, shuffling, cost
  recording, threads, the epoch callback;
- `TrainingState`: everything a later call goes on from (epochs and steps
  done, the optimiser's moments, the row order, the random streams, the
  early-stopping split's seed). `fit`, `partial_fit`, `warm_start`, `save`
  and `load` move it as one unit;
- `TrainResult`: what a call hands back, with the state to go on from.

The compiled loop copies each into its C structs, whose fields bear the
same names (csrc/fastnn_kernels.h fnn_step, train.pyx Plan).
"""
import copy
from dataclasses import dataclass, field, replace
from typing import Callable, Optional

import numpy as np

from fastnn._core.vocabulary import OPTIMIZERS

SCHEDULES = ("constant", "inverse")


@dataclass(frozen=True)
class Optimizer:
    """The update rule (SPEC 10) and the learning-rate schedule.

    kind: "gd", "momentum" (v = momentum v + (1 - momentum) g), "rmsprop"
    (squared-gradient average with beta_2) or "adam" (beta_1, beta_2,
    bias-corrected); epsilon guards rmsprop's and adam's division.
    schedule "inverse": epoch e steps with learning_rate / (1 + decay_rate e).
    """
    kind: str = "gd"
    learning_rate: float = 0.01
    schedule: str = "constant"
    decay_rate: float = 0.0
    momentum: float = 0.9
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-8

    def __post_init__(self):
        if self.kind not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.kind!r}; expected one of {OPTIMIZERS}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"unknown schedule {self.schedule!r}; expected one of {SCHEDULES}")
        if not self.learning_rate > 0 or self.decay_rate < 0:
            raise ValueError("the optimizer needs learning_rate > 0 and decay_rate >= 0")

    @property
    def effective_decay_rate(self):
        """decay_rate under the inverse schedule, 0 under the constant one."""
        return float(self.decay_rate) if self.schedule == "inverse" else 0.0

    @property
    def moment_slots(self):
        """Which moments the rule keeps: (first: the velocity v of
        momentum, heavy_ball and nesterov, the adams' m; second: rmsprop's s,
        the adams' v)."""
        return (self.kind in ("momentum", "adam", "heavy_ball", "nesterov", "adam_step_corrected"),
                self.kind in ("rmsprop", "adam", "adam_step_corrected"))


@dataclass(frozen=True)
class TrainingPlan:
    """What one call of the compiled loop trains.

    epochs: passes over the data. batch_size >= n is full-batch descent.
    shuffle: reshuffle the row order before every epoch. cost_every: record
    the cost at epochs e with e % cost_every == 0 (None: record none).
    callback(epoch, cost) runs with the GIL at every recorded cost, and at
    every epoch (cost None where none is recorded) if callback_every_epoch;
    returning True stops training. n_threads share every batch.
    row_order (a permutation of the rows): every epoch reads the rows in
    this order, shuffle aside - the caller shuffles (the drop-ins draw
    scikit-learn's permutations from its RandomState); the state's order is
    left as it was. loss_scale multiplies the data part of the recorded
    cost (scikit-learn's squared error: 1 / n_outputs). batch_mean_cost:
    the recorded cost is the row-weighted mean of the batches' own mean
    costs (scikit-learn's loss_), instead of the weighted sum over all rows
    over the total weight; the two differ only with sample weights.
    judge_final_weights=False skips the forward pass over the first rows
    that judges the weights a call ends with (a caller training one epoch per
    call with cost_every=1 has every epoch's weights judged by its cost and
    checked finite, and the next call's cost judges these).
    pacer (a fastnn._core.train.TeamPacer, for a team whose size fastnn
    chose: n_threads=None): thread 0 may take steps alone while, by its
    timing, the team is slower than it alone (another process holding one of
    the cores makes every step wait for the member that lost its core); one
    pacer per fit, handed to each of its calls. Steps taken alone split the
    work differently, so the last bits of the result then depend on the load.
    """
    epochs: int
    batch_size: int
    shuffle: bool = False
    cost_every: Optional[int] = None
    n_threads: int = 1
    callback: Optional[Callable] = None
    callback_every_epoch: bool = False
    row_order: Optional[np.ndarray] = None
    loss_scale: float = 1.0
    batch_mean_cost: bool = False
    judge_final_weights: bool = True
    pacer: Optional[object] = None


@dataclass(frozen=True, eq=False)   # equal only to itself (it holds arrays)
class TrainingState:
    """Where training stands, for a later call to go on from, as if the calls
    were one long fit.

    epochs, steps: epochs and optimiser steps behind the current weights
    (`n_iter_` is `epochs`). moments: (first, second) optimiser moments,
    each a flat array laid out like the parameters or None; None for a fresh
    optimiser. order: the row order the shuffle goes on from (None: the
    identity). shuffle_stream, dropout_stream: NumPy PCG64 bit generators.
    split_seed: the seed of early stopping's held-out rows.
    The arrays are never written in place: states can be shared.
    """
    shuffle_stream: np.random.PCG64
    dropout_stream: np.random.PCG64
    split_seed: int = 0
    epochs: int = 0
    steps: int = 0
    moments: Optional[tuple] = None
    order: Optional[np.ndarray] = None

    def streams(self, shuffle=True, dropout=True):
        """The two bit generators for one call: copies of those it will
        advance (shuffle, dropout), so the stored ones stay where they are and
        a failed call changes nothing; the others as they are (deep copies
        cost more than a short epoch)."""
        return (copy.deepcopy(self.shuffle_stream) if shuffle else self.shuffle_stream,
                copy.deepcopy(self.dropout_stream) if dropout else self.dropout_stream)

    def advanced(self, **changes):
        """A new state with `changes` (the dataclass's replace)."""
        return replace(self, **changes)


@dataclass(frozen=True)
class TrainResult:
    """What one call of the compiled loop hands back.

    n_iter, steps: epochs and optimiser steps behind the weights it leaves
    (a batch whose sample weights sum to 0 takes no step; after divergence,
    those behind the last weights judged finite). epochs_run, steps_run: all
    taken, also after the last finite weights. costs: the costs recorded.
    interrupted: Ctrl-C ended training at an epoch boundary. diverged: the
    weights are the last ones judged finite. state: the TrainingState to go
    on from (epochs and steps counted on by n_iter and steps).
    fused_step: every step ran as the fused pass of tiny networks
    (fastnn._core.train.takes_fused_step), not the layered passes.
    """
    n_iter: int
    steps: int
    epochs_run: int
    steps_run: int
    costs: np.ndarray
    interrupted: bool
    diverged: bool
    state: TrainingState = field(repr=False)
    fused_step: bool = False
