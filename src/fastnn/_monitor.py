"""Early stopping (SPEC 6): the cost on a development set after every epoch,
the best weights seen, and the decision to stop."""
import numpy as np

from fastnn._core import train as core


class DevMonitor:
    """Called at the end of every epoch, with the GIL, while the compiled loop
    waits at its barrier: `params` then holds the epoch's final weights."""

    def __init__(self, stack, params, X_dev, Y_dev, n_iter_no_change, stop):
        self.stack, self.params = stack, params
        self.X_dev, self.Y_dev = X_dev, Y_dev
        self.n_iter_no_change, self.stop = n_iter_no_change, stop
        self.costs, self.best_cost, self.best_epoch = [], np.inf, None
        self.best_params, self.checks_without_improvement = None, 0
        self.diverged = self.gave_up = False
        # The dev cost of the weights training starts from: early stopping
        # that never beats it has only made the model worse (made_no_progress).
        self.start_cost = core.cost(stack, params, X_dev, Y_dev, False)

    def __call__(self, epoch):
        """Record the dev cost of `epoch`; True when training should stop."""
        # The mean loss without the L2 term: comparable across lambdas.
        cost = core.cost(self.stack, self.params, self.X_dev, self.Y_dev, False)
        self.costs.append(cost)
        if not (np.isfinite(cost) and np.isfinite(self.params).all()):
            # The weights went non-finite (or overflow the development set):
            # training further only trains garbage. The weights are checked
            # too: relu(NaN) is 0, so NaN weights into relu units can leave
            # the dev cost finite (and even improving) while they stay NaN.
            self.diverged = True
            return True
        if cost < self.best_cost:
            self.best_cost, self.best_epoch = cost, epoch
            self.best_params = self.params.copy()
            self.checks_without_improvement = 0
        else:
            self.checks_without_improvement += 1
        self.gave_up = self.stop and self.checks_without_improvement >= self.n_iter_no_change
        return self.gave_up

    @property
    def made_no_progress(self):
        """Early stopping ran out of patience and no epoch's weights beat the
        dev cost of the weights training started from: every epoch made the
        model worse (a finite blow-up, or nothing left to learn)."""
        return (self.gave_up and not self.diverged and self.best_params is not None
                and bool(np.isfinite(self.start_cost)) and not self.best_cost < self.start_cost)

    def restore_best(self):
        """Put the best weights seen back (early stopping's promise)."""
        if self.stop and self.best_params is not None:
            self.params[...] = self.best_params
