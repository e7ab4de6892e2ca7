"""Class labels <-> the output layer: two classes use one sigmoid unit and
log-loss, more use softmax and cross-entropy (DESIGN: public API contract)."""
import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.utils.multiclass import check_classification_targets, unique_labels


class DenseClassifierMixin(ClassifierMixin):
    """Label encoding, predict and predict_proba for the classifiers."""

    #: Largest number of classes the family handles (None: any).
    _max_classes = None

    def _output_activation_and_loss(self, n_outputs):
        if n_outputs == 1:
            return "sigmoid", "log_loss"
        return "softmax", "cross_entropy"

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One pass over (X, y) in batches of batch_size, continuing from the
        current weights and optimiser state (each call counts as one epoch).
        The first call sets the model up: `classes` must then list every
        label the calls will see (default: the labels of this y)."""
        return self._partial_fit(X, y, classes, sample_weight)

    def _fit_targets(self, y, classes=None):
        check_classification_targets(y)
        name = type(self).__name__
        if classes is None:
            classes = np.unique(y)
        else:
            # scikit-learn's reading of `classes` (_check_partial_fit_first_call):
            # sorted unique labels of one type, 1-D (else ValueError)
            classes = unique_labels(classes)
            unseen = np.setdiff1d(y, classes)
            if unseen.size:
                raise ValueError(f"y contains labels not in classes: {unseen.tolist()[:10]}")
        if len(classes) < 2:
            raise ValueError(
                f"{name} needs at least two classes in y; got one class: {classes.tolist()}")
        if self._max_classes is not None and len(classes) > self._max_classes:
            raise ValueError(
                f"Only binary classification is supported. {name} handles exactly "
                f"{self._max_classes} classes; y has {len(classes)}: {classes.tolist()[:10]}. "
                "Use DeepNetwork for more.")
        return self._indicator(y, classes), {"classes_": classes}

    def _encode_targets(self, y):
        unseen = np.setdiff1d(y, self.classes_)
        if unseen.size:
            raise ValueError(
                f"y contains labels not seen in fit: {unseen.tolist()[:10]}; "
                f"known classes are {self.classes_.tolist()}")
        return self._indicator(y, self.classes_)

    @staticmethod
    def _indicator(y, classes):
        """One column of 0/1 for two classes, one-hot columns for more."""
        if len(classes) == 2:
            return (y == classes[1]).astype(np.float64)[:, np.newaxis]
        return (y[:, np.newaxis] == classes[np.newaxis, :]).astype(np.float64)

    def _check_resume_classes(self, classes):
        """A later call's `classes` must be the labels the model was set up
        with, as scikit-learn's _check_partial_fit_first_call requires."""
        if classes is not None and not np.array_equal(unique_labels(classes), self.classes_):
            raise ValueError(f"classes={np.asarray(classes).tolist()!r} is not the same as on "
                             f"the first call to partial_fit, was: {self.classes_.tolist()!r}")

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes), columns in classes_ order."""
        A = self._output(X)
        if A.shape[1] == 1:
            return np.hstack([1 - A, A])
        return A

    def predict(self, X):
        """Most probable class; for two classes, classes_[1] where P >= 0.5 (SPEC 4)."""
        # The labels of the weights that computed A, even if a fit swaps in another model.
        A, state = self._output_and_state(X)
        if A.shape[1] == 1:
            return state.classes[(A[:, 0] >= 0.5).astype(np.intp)]
        return state.classes[np.argmax(A, axis=1)]
