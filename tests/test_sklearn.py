"""scikit-learn's estimator checks, and fastnn inside scikit-learn's tools."""
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, PredefinedSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from fastnn import (DeepNetwork, DeepRegressor, LogisticRegression, MLPClassifier, MLPRegressor,
                    ShallowNetwork)

# Settings under which each family learns scikit-learn's small check data sets
# (the checks demand e.g. 83 % training accuracy from a few dozen rows).
ESTIMATORS = [
    LogisticRegression(max_iter=200, random_state=0),
    ShallowNetwork(16, optimizer="adam", learning_rate=0.01, max_iter=200, random_state=0),
    DeepNetwork((16,), optimizer="adam", learning_rate=0.01, max_iter=200, random_state=0),
    DeepRegressor((16,), optimizer="adam", learning_rate=0.01, max_iter=200, random_state=0),
    # the drop-ins as scikit-learn checks its own MLPs (its test_common's max_iter=100)
    MLPClassifier(max_iter=100, random_state=0),
    MLPRegressor(max_iter=100, random_state=0),
]


# scikit-learn itself skips its array-API checks unless SCIPY_ARRAY_API=1:
# fastnn computes on NumPy arrays in its compiled core and does not dispatch
# to other array libraries.
# The drop-ins at max_iter=100 warn that they have not converged, as
# scikit-learn's own MLPs do under these checks.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(ESTIMATORS)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def test_pipeline_grid_search_and_clone(breast_cancer):
    X_train, X_test, y_train, y_test = breast_cancer
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))
    # The notes' lambda search: train on the training part, compare on a fixed dev part.
    dev_fold = np.where(np.arange(X_train.shape[0]) < 100, 0, -1)
    search = GridSearchCV(pipeline, {"logisticregression__l2": [0.0, 1.0, 10.0]},
                          cv=PredefinedSplit(dev_fold))
    search.fit(X_train, y_train)
    assert search.best_params_["logisticregression__l2"] in (0.0, 1.0, 10.0)
    assert search.score(X_test, y_test) >= 0.95
    copy = clone(search.best_estimator_)
    assert copy.get_params()["logisticregression__l2"] == search.best_params_["logisticregression__l2"]
    assert not hasattr(copy[-1], "coefs_")
