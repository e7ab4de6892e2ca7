"""fastnn: logistic regression, shallow and deep networks trained by compiled code."""
from fastnn.linear import LogisticRegression
from fastnn.network import DeepNetwork, ShallowNetwork
from fastnn._progress import TrainingProgress
from fastnn.persistence import load
from fastnn.regressor import DeepRegressor
from fastnn.selection import Diagnosis, diagnose, split

__all__ = ["LogisticRegression", "ShallowNetwork", "DeepNetwork", "DeepRegressor", "load",
           "split", "diagnose", "Diagnosis", "TrainingProgress"]
__version__ = "0.1.0"
