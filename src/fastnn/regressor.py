"""DeepRegressor: the dense stack with the L2 (squared-error) loss."""
from sklearn.base import RegressorMixin, _fit_context
from sklearn.utils._param_validation import StrOptions

from fastnn._base import store_parameters
from fastnn._constraints import LAYER_WIDTH, LAYER_WIDTHS
from fastnn._hidden import HiddenLayersEstimator, check_layer_sizes
from fastnn._core.vocabulary import OUTPUT_ACTIVATIONS
from fastnn.network import _SHARED_DOC


class DeepRegressor(RegressorMixin, HiddenLayersEstimator):
    __doc__ = """Fully-connected regressor: squared-error (L2) loss, any hidden layers.

    Parameters
    ----------
    hidden_layer_sizes : sequence of int in [1, 2**31 - 1], default (100,)
        Width of each hidden layer; () gives a linear (or generalised linear) model.
    output : {"identity", "sigmoid", "tanh", "arctan", "softmax"}, default "identity"
        Activation of the output layer; the loss is 1/2 sum_k (a_k - y_k)^2.""" + _SHARED_DOC.replace(
        "    classes_ : array of the labels\n", "    n_outputs_ : int, columns of y\n")

    _parameter_constraints = {
        **HiddenLayersEstimator._parameter_constraints,
        "hidden_layer_sizes": [LAYER_WIDTHS, LAYER_WIDTH],
        "output": [StrOptions(set(OUTPUT_ACTIVATIONS))],
    }

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", output="identity",
                 leaky_slope=0.01, learning_rate=0.01, max_iter=200, batch_size=None,
                 shuffle=True, l2=0.0, keep_prob=1.0, optimizer="gd", momentum=0.9,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, learning_rate_schedule="constant",
                 decay_rate=0.0, init="auto", cost_every=100, early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=10, warm_start=False, dtype=None,
                 n_threads=None, random_state=None, verbose=0, callbacks=None):
        store_parameters(self, locals())

    def _hidden_layer_sizes(self):
        return check_layer_sizes(self.hidden_layer_sizes, "hidden_layer_sizes")

    def _output_activation_and_loss(self, n_outputs):
        return self.output, "squared"

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """One pass over (X, y) in batches of batch_size, continuing from the
        current weights and optimiser state (each call counts as one epoch)."""
        return self._partial_fit(X, y, sample_weight=sample_weight)

    def _fit_targets(self, y, classes=None):
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        return Y, {"n_outputs_": Y.shape[1], "_y_is_1d": y.ndim == 1}

    def _encode_targets(self, y):
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        if Y.shape[1] != self.n_outputs_:
            raise ValueError(f"y has {Y.shape[1]} columns; the model was fitted with {self.n_outputs_}")
        return Y

    def _validate_targets_kwargs(self):
        return {"multi_output": True, "y_numeric": True}

    def predict(self, X):
        """The network's output; 1-D when the model was fitted on 1-D y."""
        A = self._output(X)
        return A[:, 0] if self._y_is_1d else A

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
