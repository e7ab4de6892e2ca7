"""What a user sees and hooks into while a model trains."""
from dataclasses import dataclass


@dataclass(frozen=True)
class TrainingProgress:
    """Passed to each of an estimator's `callbacks` at every recorded cost.
    A callback that returns True stops training after this epoch."""
    iteration: int          # the epoch just finished (0-based)
    cost: float             # the training cost recorded for it (no dropout)
    dev_cost: float = None  # the development-set cost, when there is a development set


class _Bar:
    """A tqdm progress bar over epochs with the latest costs beside it."""

    def __init__(self, tqdm, total):
        self.bar = tqdm(total=total, unit="epoch", leave=True)

    def show(self, iteration, cost, dev_cost):
        self.bar.update(iteration + 1 - self.bar.n)
        postfix = {}
        if cost is not None:
            postfix["cost"] = f"{cost:.6f}"
        if dev_cost is not None:
            postfix["dev"] = f"{dev_cost:.6f}"
        if postfix:
            self.bar.set_postfix(postfix, refresh=False)
        if iteration + 1 >= self.bar.total:
            self.close()

    def close(self):
        self.bar.close()


def progress_bar(total):
    """A bar over `total` epochs, or None when tqdm (optional:
    `pip install fastnn[progress]`) is not installed: verbose=1 then prints
    one line per recorded cost, as verbose=2 does."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return _Bar(tqdm, total)
