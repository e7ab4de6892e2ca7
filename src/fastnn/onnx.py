"""ONNX export of fitted estimators (`pip install fastnn[onnx]`).

`to_onnx(model)` writes a fitted estimator's network as an ONNX graph built
with `onnx.helper`: MatMul and Add for each layer, each activation from ONNX
operators, in the model's dtype (float32 or float64). The outputs are those of
skl2onnx's converters, so that a graph behaves like scikit-learn's:

- classifiers: `label` (int64, or strings for text labels; predict's
  answers) and `probabilities` (n x n_classes, predict_proba's columns); a
  multilabel MLPClassifier's `label` is predict's n x n_labels 0/1 matrix;
- regressors: `variable`, n x n_outputs (n x 1 for a model fitted on 1-D y,
  as skl2onnx's regressors give; predict answers its one column).

`register_skl2onnx()` lets `skl2onnx.to_onnx` convert pipelines that hold
fastnn estimators (fastnn._skl2onnx). onnx and skl2onnx are imported only when
a graph is built or the converters registered: `import fastnn` needs neither.
"""
from typing import NamedTuple

import numpy as np

# The rest (describe, emit, ...) is shared with fastnn._skl2onnx, not public.
__all__ = ["to_onnx", "register_skl2onnx"]

#: The ONNX opset of the graphs to_onnx writes, and the IR version that goes
#: with it (older runtimes read it; onnx's newest IR version they may not).
OPSET = 17
_IR_VERSION = 8
#: skl2onnx's container must allow at least this opset (Softmax per axis,
#: GreaterOrEqual).
MIN_OPSET = 13
_INSTALL = "pip install fastnn[onnx]"


def _onnx():
    """The onnx package, or an ImportError that says how to install it."""
    try:
        import onnx
    except ImportError:
        raise ImportError(f"ONNX export needs the onnx package: {_INSTALL}") from None
    return onnx


def estimator_classes():
    """The estimator classes fastnn exports: every public fastnn estimator."""
    import fastnn
    return (fastnn.LogisticRegression, fastnn.ShallowNetwork, fastnn.DeepNetwork,
            fastnn.DeepRegressor, fastnn.MLPClassifier, fastnn.MLPRegressor)


# -- what the graph computes ---------------------------------------------------
class Network(NamedTuple):
    """A fitted estimator's network, as the graph computes it."""
    name: str                # the estimator's class name
    coefs: tuple             # W of each layer, (n_in, n_out)
    intercepts: tuple        # b of each layer, (n_out,)
    activations: tuple       # the vocabulary's name of each layer's activation
    leaky_slope: float       # of leaky_relu units (None without them)
    task: str                # "regression", "classification" or "multilabel"
    classes: object          # classes_ (None for a regressor)
    positive_at_half: bool   # binary: P = 0.5 predicts classes_[1] (fastnn, SPEC 4)
                             # or classes_[0] (scikit-learn's MLP: P > 0.5)

    @property
    def dtype(self):
        return self.coefs[0].dtype

    @property
    def n_features(self):
        return self.coefs[0].shape[0]

    @property
    def n_outputs(self):
        return self.coefs[-1].shape[1]


def describe(model):
    """The Network of a fitted fastnn estimator; NotFittedError before fit,
    TypeError for anything else than fastnn's estimators."""
    from sklearn.base import is_classifier
    from sklearn.utils.validation import check_is_fitted

    from fastnn._base import DenseEstimator
    from fastnn._fit_state import state_copy
    from fastnn.mlp import _MultilayerPerceptron

    if not isinstance(model, (DenseEstimator, _MultilayerPerceptron)):
        names = ", ".join(cls.__name__ for cls in estimator_classes())
        raise TypeError(f"fastnn.onnx exports fastnn's estimators ({names}); got "
                        f"{type(model).__name__}")
    model = state_copy(model)  # one fit's weights and labels, even while another fit runs
    check_is_fitted(model, "coefs_")
    coefs = tuple(np.asarray(W) for W in model.coefs_)
    intercepts = tuple(np.asarray(b) for b in model.intercepts_)
    layer_sizes = [coefs[0].shape[0]] + [W.shape[1] for W in coefs]
    activations = tuple(model._layer_activations(layer_sizes))
    task, classes = "regression", None
    if is_classifier(model):
        classes = np.asarray(model.classes_)
        binarizer = getattr(model, "_label_binarizer", None)   # MLPClassifier's
        multilabel = getattr(binarizer, "y_type_", None) == "multilabel-indicator"
        task = "multilabel" if multilabel else "classification"
        expected = 1 if len(classes) == 2 and not multilabel else len(classes)
        if layer_sizes[-1] != expected:
            raise ValueError(f"{type(model).__name__} has {len(classes)} classes but "
                             f"{layer_sizes[-1]} output units (expected {expected})")
    return Network(
        name=type(model).__name__, coefs=coefs, intercepts=intercepts, activations=activations,
        leaky_slope=float(model.leaky_slope) if "leaky_relu" in activations else None,
        task=task, classes=classes, positive_at_half=isinstance(model, DenseEstimator))


def label_values(classes):
    """classes_ as the values of the ONNX label tensor, of skl2onnx's types:
    text labels as UTF-8 strings (an object array of bytes), every other label
    (ints, bools, floats holding integers) as int64."""
    classes = np.asarray(classes)
    if classes.dtype.kind == "U" or (classes.dtype == object
                                     and all(isinstance(label, str) for label in classes)):
        return np.array([str(label).encode("utf-8") for label in classes], dtype=object)
    if classes.dtype == object:  # e.g. Python ints
        classes = np.array(classes.tolist())
    kind = classes.dtype.kind
    if kind == "b":
        return classes.astype(np.int64)
    if kind in "iu" and (kind == "i" or int(classes.max()) < 2**63):
        return classes.astype(np.int64)
    if (kind == "f" and np.all(np.isfinite(classes)) and np.all(classes == np.round(classes))
            and np.all(np.abs(classes) < 2**63)):
        return classes.astype(np.int64)
    raise ValueError(f"class labels {classes.tolist()[:5]} cannot be ONNX labels: they must "
                     "be strings or integers that fit in an int64")


# -- where the nodes go --------------------------------------------------------
class Emitter:
    """Where a graph's nodes and constants go (a ModelProto under
    construction here, skl2onnx's container in fastnn._skl2onnx); the network
    computes in `dtype`."""

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)
        self._scalars = {}

    def constant(self, base, array):
        """The name of a new initializer holding `array` (as it is)."""
        raise NotImplementedError

    def node(self, op, inputs, output=None, **attributes):
        """Add a node of operator `op`; returns the name of its one output
        (`output`, or a new name)."""
        raise NotImplementedError

    def scalar(self, value):
        """A constant scalar of the network's dtype (one initializer per value)."""
        key = float(value)
        if key not in self._scalars:
            self._scalars[key] = self.constant("scalar", np.asarray(value, dtype=self.dtype))
        return self._scalars[key]


class _ModelEmitter(Emitter):
    """Nodes and initializers of a graph of its own."""

    def __init__(self, onnx, dtype):
        super().__init__(dtype)
        self._onnx = onnx
        self.nodes, self.initializers = [], []
        self._count = 0

    def _fresh(self, base):
        self._count += 1
        return f"{base}_{self._count}"

    def constant(self, base, array):
        name = self._fresh(base)
        self.initializers.append(self._onnx.numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(self, op, inputs, output=None, **attributes):
        output = output or self._fresh(op.lower())
        self.nodes.append(self._onnx.helper.make_node(op, list(inputs), [output],
                                                     name=self._fresh(op), **attributes))
        return output


# -- the activations -----------------------------------------------------------
# Each takes (emitter, Z, leaky_slope) and returns the name of g(Z), as the
# core computes it (csrc/fastnn_kernels_impl.h, SPEC 1). onnxruntime runs
# every operator used here in float32 and float64, except the two composed
# below for float64.

# Cephes' atan (S. L. Moshier, atan.c, as in scipy/special/cephes): a
# rational function of degree 4/5 after reduction to |x| <= 0.66.
_ATAN_P = (-8.750608600031904122785e-01, -1.615753718733365076637e+01,
           -7.500855792314704667340e+01, -1.228866684490136173410e+02,
           -6.485021904942025371773e+01)
_ATAN_Q = (2.485846490142306297962e+01, 1.650270098316988542046e+02,
           4.328810604912902668951e+02, 4.853903996359136964868e+02,
           1.945506571482613964425e+02)
_TAN_3PI_8 = 2.41421356237309504880
_MOREBITS = 6.123233995736765886130e-17   # pi/2 - float64(pi/2)


def _atan_float64(g, Z):
    """atan(Z) in float64 from arithmetic operators, to about one ulp:
    onnxruntime has no float64 Atan kernel. Cephes' reduction: |z| above
    tan(3 pi / 8) becomes pi/2 + atan(-1/|z|), above 0.66 pi/4 + atan((|z| - 1)
    / (|z| + 1)); then atan(x) = x + x z P(z) / Q(z) with z = x^2."""
    a = g.node("Abs", [Z])
    big = g.node("Greater", [a, g.scalar(_TAN_3PI_8)])
    mid = g.node("Greater", [a, g.scalar(0.66)])

    def pick(if_big, if_mid, otherwise):
        return g.node("Where", [big, if_big, g.node("Where", [mid, if_mid, otherwise])])

    one = g.scalar(1.0)
    x = pick(g.node("Neg", [g.node("Div", [one, a])]),
             g.node("Div", [g.node("Sub", [a, one]), g.node("Add", [a, one])]), a)
    offset = pick(g.scalar(np.pi / 2), g.scalar(np.pi / 4), g.scalar(0.0))
    extra = pick(g.scalar(_MOREBITS), g.scalar(0.5 * _MOREBITS), g.scalar(0.0))
    z = g.node("Mul", [x, x])
    p = g.scalar(_ATAN_P[0])                      # Horner, as Cephes' polevl
    for coefficient in _ATAN_P[1:]:
        p = g.node("Add", [g.node("Mul", [p, z]), g.scalar(coefficient)])
    q = g.node("Add", [z, g.scalar(_ATAN_Q[0])])  # p1evl: leading coefficient 1
    for coefficient in _ATAN_Q[1:]:
        q = g.node("Add", [g.node("Mul", [q, z]), g.scalar(coefficient)])
    ratio = g.node("Div", [g.node("Mul", [z, p]), q])
    reduced = g.node("Add", [g.node("Add", [g.node("Mul", [x, ratio]), x]), extra])
    angle = g.node("Add", [offset, reduced])
    return g.node("Where", [g.node("Less", [Z, g.scalar(0.0)]), g.node("Neg", [angle]), angle])


def _arctan(g, Z, _):
    # atan(z) / pi + 1/2, in that order (the core's arithmetic)
    angle = g.node("Atan", [Z]) if g.dtype == np.float32 else _atan_float64(g, Z)
    return g.node("Add", [g.node("Div", [angle, g.scalar(np.pi)]), g.scalar(0.5)])


def _leaky_relu(g, Z, slope):
    if g.dtype == np.float32:
        return g.node("LeakyRelu", [Z], alpha=float(slope))
    # LeakyRelu's alpha attribute is a 32-bit float: in float64 the slope
    # would lose its digits. z >= 0 ? z : slope * z, with the float64 slope.
    scaled = g.node("Mul", [Z, g.scalar(slope)])
    return g.node("Where", [g.node("GreaterOrEqual", [Z, g.scalar(0.0)]), Z, scaled])


ACTIVATIONS = {
    "sigmoid": lambda g, Z, _: g.node("Sigmoid", [Z]),
    "tanh": lambda g, Z, _: g.node("Tanh", [Z]),
    "relu": lambda g, Z, _: g.node("Relu", [Z]),
    "leaky_relu": _leaky_relu,
    "arctan": _arctan,
    "identity": lambda g, Z, _: Z,
    "softmax": lambda g, Z, _: g.node("Softmax", [Z], axis=1),
    "exp": lambda g, Z, _: g.node("Exp", [Z]),
}


# -- the graph -----------------------------------------------------------------
def emit(network, g, X, outputs):
    """The nodes computing `network` on the input named X, in g's dtype,
    ending in the names `outputs` gives: "variable" for a regressor, "label"
    and "probabilities" for a classifier."""
    from onnx import TensorProto

    A = X
    for W, b, activation in zip(network.coefs, network.intercepts, network.activations):
        if activation not in ACTIVATIONS:
            raise ValueError(f"{network.name}: no ONNX form for activation {activation!r}")
        product = g.node("MatMul", [A, g.constant("coefficient", W.astype(g.dtype))])
        Z = g.node("Add", [product, g.constant("intercept", b.astype(g.dtype))])
        A = ACTIVATIONS[activation](g, Z, network.leaky_slope)
    if network.task == "regression":
        g.node("Identity", [A], outputs["variable"])
        return
    if network.task == "multilabel":   # scikit-learn's LabelBinarizer: 1 where P > 0.5
        g.node("Identity", [A], outputs["probabilities"])
        above = g.node("Greater", [A, g.scalar(0.5)])
        g.node("Cast", [above], outputs["label"], to=TensorProto.INT64)
        return
    if network.n_outputs == 1:   # one sigmoid unit: P(classes_[1]); predict_proba adds 1 - P
        g.node("Concat", [g.node("Sub", [g.scalar(1.0), A]), A], outputs["probabilities"], axis=1)
        compare = "GreaterOrEqual" if network.positive_at_half else "Greater"
        positive = g.node(compare, [A, g.scalar(0.5)])
        flat = g.node("Reshape", [positive, g.constant("shape", np.array([-1], dtype=np.int64))])
        index = g.node("Cast", [flat], to=TensorProto.INT64)
    else:   # the first of equal probabilities, as np.argmax
        g.node("Identity", [A], outputs["probabilities"])
        index = g.node("ArgMax", [A], axis=1, keepdims=0)
    classes = g.constant("classes", label_values(network.classes))
    g.node("Gather", [classes, index], outputs["label"], axis=0)


def to_onnx(model, *, input_scaling=None):
    """The ONNX graph (an onnx.ModelProto) of a fitted fastnn estimator.

    Its input `X` is a (n, n_features) tensor of the model's dtype (float32
    or float64), and the graph computes in that dtype. Outputs: `label` and
    `probabilities` for a classifier, `variable` (n, n_outputs) for a
    regressor (module doc). `input_scaling=(mean, scale)` makes the graph
    standardise its input first, (X - mean) / scale, as `fastnn predict`
    applies the scaling.npz beside a model. Raises NotFittedError for an
    unfitted model and ImportError when onnx is not installed. Save it with
    `onnx.save(proto, path)`; run it with onnxruntime:

        session = onnxruntime.InferenceSession(to_onnx(model).SerializeToString())
        label, probabilities = session.run(None, {"X": X.astype(model.coefs_[0].dtype)})
    """
    onnx = _onnx()
    import fastnn
    helper = onnx.helper
    network = describe(model)
    g = _ModelEmitter(onnx, network.dtype)
    element = helper.np_dtype_to_tensor_dtype(network.dtype)
    features = "X"
    if input_scaling is not None:
        mean, scale = (np.asarray(part, dtype=network.dtype) for part in input_scaling)
        if mean.shape != (network.n_features,) or scale.shape != (network.n_features,):
            raise ValueError(f"input_scaling must be two arrays of shape "
                             f"({network.n_features},); got {mean.shape} and {scale.shape}")
        centred = g.node("Sub", [features, g.constant("mean", mean)])
        features = g.node("Div", [centred, g.constant("scale", scale)])
    if network.task == "regression":
        names = {"variable": "variable"}
        outputs = [helper.make_tensor_value_info("variable", element, ["N", network.n_outputs])]
    else:
        names = {"label": "label", "probabilities": "probabilities"}
        labels = label_values(network.classes)
        label_type = onnx.TensorProto.STRING if labels.dtype == object else onnx.TensorProto.INT64
        n_classes = len(labels)
        outputs = [
            helper.make_tensor_value_info(
                "label", label_type, ["N", n_classes] if network.task == "multilabel" else ["N"]),
            helper.make_tensor_value_info("probabilities", element, ["N", n_classes])]
    emit(network, g, features, names)
    graph = helper.make_graph(
        g.nodes, network.name,
        [helper.make_tensor_value_info("X", element, ["N", network.n_features])],
        outputs, g.initializers)
    proto = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=_IR_VERSION,
        producer_name="fastnn", producer_version=fastnn.__version__,
        doc_string=f"fastnn.{network.name} ({network.dtype.name}), by fastnn.onnx.to_onnx")
    onnx.checker.check_model(proto)
    return proto


def register_skl2onnx():
    """Register converters for fastnn's estimators with skl2onnx, so that
    `skl2onnx.to_onnx(pipeline, X)` converts pipelines holding them (options
    zipmap and nocl as for scikit-learn's classifiers). skl2onnx computes in
    its input's type: float32 input runs the network in float32 (a float64
    model's weights rounded), as its own converters do. Calling it again is
    harmless; to_onnx needs no registration."""
    _onnx()
    try:
        import skl2onnx  # noqa: F401
    except ImportError:
        raise ImportError("fastnn.onnx.register_skl2onnx needs skl2onnx: "
                          "pip install skl2onnx") from None
    from fastnn._skl2onnx import register
    register()
