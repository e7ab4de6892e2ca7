"""fastnn: logistic regression, shallow and deep networks trained by compiled code."""
# Submodules the README calls as fastnn.gradcheck.gradcheck(...),
# fastnn.datasets.xnor() and fastnn.onnx.to_onnx(model) after a plain
# `import fastnn` (all light: NumPy, scikit-learn and the compiled core, which
# the estimators import anyway; fastnn.onnx imports onnx only when it exports).
from fastnn import datasets, gradcheck, onnx
from fastnn.linear import LogisticRegression
from fastnn.mlp import MLPClassifier, MLPRegressor
from fastnn.network import DeepNetwork, ShallowNetwork
from fastnn._progress import TrainingProgress
from fastnn.persistence import load
from fastnn.regressor import DeepRegressor
from fastnn.selection import Diagnosis, diagnose, split
from fastnn._threads import ThreadOversubscriptionWarning

__all__ = ["LogisticRegression", "ShallowNetwork", "DeepNetwork", "DeepRegressor",
           "MLPClassifier", "MLPRegressor", "load",
           "split", "diagnose", "Diagnosis", "TrainingProgress", "ThreadOversubscriptionWarning",
           "datasets", "gradcheck", "onnx"]
__version__ = "0.1.0"
