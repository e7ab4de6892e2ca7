"""The notes' model selection (SPEC 5): a train/dev/test split and the
bias/variance diagnosis that says what to try next."""
from dataclasses import dataclass

import numpy as np
from sklearn.base import is_classifier
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_consistent_length, check_is_fitted

_BIAS_ADVICE = ("a bigger network", "training longer", "another architecture")
_VARIANCE_ADVICE = ("more data", "regularisation (l2, keep_prob, early stopping)",
                    "another architecture")


def split(X, y, ratios=None, random_state=None):
    """Shuffle, then cut (X, y) into ((X_train, y_train), (X_dev, y_dev),
    (X_test, y_test)).

    ratios : (train, dev, test), non-negative, summing to 1. None follows the
        notes: 60/20/20 up to 10^4 examples, 98/1/1 above (with millions of
        examples, 1 % is plenty to compare models). The dev and test parts
        get floor(N * ratio) examples each, the training part the rest.
    """
    X = np.asarray(X) if not hasattr(X, "iloc") else X
    y = np.asarray(y)
    check_consistent_length(X, y)
    n = y.shape[0]
    if ratios is None:
        ratios = (0.6, 0.2, 0.2) if n <= 10**4 else (0.98, 0.01, 0.01)
    ratios = tuple(float(r) for r in ratios)
    if len(ratios) != 3 or any(not np.isfinite(r) or r < 0 for r in ratios) \
            or abs(sum(ratios) - 1.0) > 1e-9:
        raise ValueError("ratios must be three non-negative numbers (train, dev, test) "
                         f"summing to 1; got {ratios}")
    order = check_random_state(random_state).permutation(n)
    n_dev, n_test = int(np.floor(n * ratios[1])), int(np.floor(n * ratios[2]))
    n_train = n - n_dev - n_test
    parts = (order[:n_train], order[n_train:n_train + n_dev], order[n_train + n_dev:])
    take = (lambda rows: X.iloc[rows]) if hasattr(X, "iloc") else (lambda rows: X[rows])
    return tuple((take(rows), y[rows]) for rows in parts)


@dataclass(frozen=True)
class Diagnosis:
    """The bias/variance verdict of SPEC 5 and what to try next."""
    train_error: float
    dev_error: float
    tolerance: float
    high_bias: bool
    high_variance: bool
    verdict: str
    advice: tuple

    def __str__(self):
        lines = [f"training error {self.train_error:.4f}, development error "
                 f"{self.dev_error:.4f} (acceptable error {self.tolerance:.4f}): {self.verdict}"]
        lines += [f"  - try {item}" for item in self.advice]
        return "\n".join(lines)


def diagnose(model, train, dev, tolerance=0.05):
    """Bias/variance diagnosis of a fitted classifier from its error (the
    misclassification rate) on the training and development sets.

    High bias: training error above `tolerance` (the acceptable error, e.g.
    the Bayes error). High variance: development error above the training
    error by more than `tolerance`.
    """
    check_is_fitted(model, "coefs_")
    if not is_classifier(model):
        raise TypeError("diagnose() needs a classifier: it compares misclassification rates")
    if not 0 <= tolerance < 1:
        raise ValueError(f"tolerance must be in [0, 1); got {tolerance}")
    train_error = 1.0 - float(model.score(*train))
    dev_error = 1.0 - float(model.score(*dev))
    high_bias = train_error > tolerance
    high_variance = dev_error - train_error > tolerance
    if high_bias and high_variance:
        verdict, advice = "high bias and high variance", _BIAS_ADVICE[:2] + _VARIANCE_ADVICE
    elif high_bias:
        verdict, advice = "high bias (under-fitting)", _BIAS_ADVICE
    elif high_variance:
        verdict, advice = "high variance (over-fitting)", _VARIANCE_ADVICE
    else:
        verdict, advice = "low bias, low variance", ()
    return Diagnosis(train_error, dev_error, tolerance, high_bias, high_variance, verdict,
                     tuple(advice))
