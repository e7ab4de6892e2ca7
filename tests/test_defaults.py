"""The notes' estimators with all their defaults (but random_state=0) train
about as well as scikit-learn's MLP with all of its defaults (issue 14,
point 3): on the same split, the test score is at most 0.01 below.

Protocol (README: Defaults): scikit-learn's bundled iris, wine,
breast_cancer and digits (classification), diabetes with its raw target and
make_friedman1(n_samples=1000, noise=1.0, random_state=0) (regression);
train_test_split(test_size=0.25, random_state=0), stratified by class for
classification; features standardised by a StandardScaler fitted on the
training part, regression targets raw; MLPClassifier(random_state=0) /
MLPRegressor(random_state=0) beside each, its ConvergenceWarning
suppressed. score is accuracy (classifiers) or R^2 (regressors). Both
libraries fit with BLAS held to one thread (threadpoolctl; fastnn's default
n_threads=None then picks one thread too): the scores are the same, and on
a busy shared machine the fits take a fraction of the time.

LogisticRegression handles two classes only (its mathematics: one sigmoid
unit), so of the four classification sets it runs on breast_cancer; being
linear, it is also held to scikit-learn's LogisticRegression() there.

`python tests/test_defaults.py [n_seeds]` prints the scores over several
random_state values (the table in the README).
"""
import functools
import sys
import warnings

import numpy as np
import pytest
from sklearn.datasets import (load_breast_cancer, load_diabetes, load_digits, load_iris,
                              load_wine, make_friedman1)
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression as SklearnLogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from fastnn import DeepNetwork, DeepRegressor, LogisticRegression, ShallowNetwork

CLASSIFICATION = {"iris": load_iris, "wine": load_wine, "breast_cancer": load_breast_cancer,
                  "digits": load_digits}
REGRESSION = {"diabetes": lambda: load_diabetes(return_X_y=True),
              "friedman1": lambda: make_friedman1(n_samples=1000, noise=1.0, random_state=0)}
TOLERANCE = 0.01


@functools.lru_cache(maxsize=None)
def prepared(name, split_seed=0):
    """(X_train, X_test, y_train, y_test, is_classification) of the protocol."""
    classify = name in CLASSIFICATION
    X, y = CLASSIFICATION[name](return_X_y=True) if classify else REGRESSION[name]()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=split_seed, stratify=y if classify else None)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test, classify


@functools.lru_cache(maxsize=None)
def sklearn_score(name, random_state=0, split_seed=0):
    X_train, X_test, y_train, y_test, classify = prepared(name, split_seed)
    MLP = MLPClassifier if classify else MLPRegressor
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        return MLP(random_state=random_state).fit(X_train, y_train).score(X_test, y_test)


def fastnn_score(Estimator, name, random_state=0, split_seed=0):
    X_train, X_test, y_train, y_test, _ = prepared(name, split_seed)
    with threadpool_limits(1):
        model = Estimator(random_state=random_state).fit(X_train, y_train)
    return model.score(X_test, y_test)


CASES = ([(Estimator, name) for Estimator in (DeepNetwork, ShallowNetwork)
          for name in CLASSIFICATION]
         + [(LogisticRegression, "breast_cancer")]
         + [(DeepRegressor, name) for name in REGRESSION])


@pytest.mark.parametrize("Estimator, name", CASES,
                         ids=[f"{E.__name__}-{name}" for E, name in CASES])
def test_all_defaults_score_within_001_of_scikit_learns_mlp(Estimator, name):
    with warnings.catch_warnings():
        # A default fit that diverges or makes no progress warns: an error here.
        warnings.simplefilter("error", ConvergenceWarning)
        score = fastnn_score(Estimator, name)
    reference = sklearn_score(name)
    assert score >= reference - TOLERANCE, (
        f"{Estimator.__name__}() on {name}: {score:.4f}, scikit-learn's MLP {reference:.4f}")


def test_logistic_regression_defaults_also_match_scikit_learns_linear_model():
    X_train, X_test, y_train, y_test, _ = prepared("breast_cancer")
    reference = SklearnLogisticRegression().fit(X_train, y_train).score(X_test, y_test)
    score = fastnn_score(LogisticRegression, "breast_cancer")
    assert score >= reference - TOLERANCE, (score, reference)


def test_logistic_regression_is_binary_only():
    # Why it is compared on breast_cancer alone.
    X_train, _, y_train, _, _ = prepared("iris")
    with pytest.raises(ValueError, match="Only binary classification"):
        LogisticRegression().fit(X_train, y_train)


def score_table(n_seeds=5, split_seeds=(0,)):
    """Rows (set, estimator, split, [(seed, fastnn, scikit-learn)]) over
    random_state = 0 .. n_seeds - 1."""
    rows = []
    for Estimator, name in CASES:
        for split_seed in split_seeds:
            scores = []
            for seed in range(n_seeds):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    scores.append((seed, fastnn_score(Estimator, name, seed, split_seed),
                                   sklearn_score(name, seed, split_seed)))
            rows.append((name, Estimator.__name__, split_seed, scores))
    return rows


if __name__ == "__main__":
    n_seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    splits = tuple(range(int(sys.argv[2]))) if len(sys.argv) > 2 else (0,)
    print(f"{'set':14s} {'estimator':19s} split  fastnn mean (min)  scikit-learn mean  "
          f"worst gap  misses (> {TOLERANCE} below)")
    for name, estimator, split_seed, scores in score_table(n_seeds, splits):
        ours = np.array([s[1] for s in scores])
        theirs = np.array([s[2] for s in scores])
        gaps = ours - theirs
        print(f"{name:14s} {estimator:19s} {split_seed:5d}  {ours.mean():.4f} ({ours.min():.4f})"
              f"    {theirs.mean():.4f}             {gaps.min():+.4f}    "
              f"{int((gaps < -TOLERANCE).sum())}/{len(gaps)}")
