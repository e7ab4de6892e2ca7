"""fastnn.onnx: every estimator, hidden activation and output head, in
float32 and float64, exported and run in onnxruntime, against the model's own
predict / predict_proba; skl2onnx pipelines; `fastnn export`.

Agreement: the relative error (conftest.relative_error: norm-wise, so that
an output near 0, a sum that cancels, is not held to a relative precision
that two BLAS libraries' summation orders cannot give) below 1e-6 in float32
and 1e-12 in float64; labels equal.
"""
import errno
import os
import subprocess
import sys

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import fastnn  # noqa: E402
from fastnn._core.vocabulary import (  # noqa: E402
    ACTIVATION_CODES,
    HIDDEN_ACTIVATIONS,
    OUTPUT_ACTIVATIONS,
)
from fastnn.cli import main  # noqa: E402
from fastnn.onnx import ACTIVATIONS, estimator_classes, label_values, to_onnx  # noqa: E402

from conftest import relative_error  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

RTOL = {np.dtype(np.float32): 1e-6, np.dtype(np.float64): 1e-12}
DTYPES = [pytest.param(np.float32, id="float32"), pytest.param(np.float64, id="float64")]
MLP_ACTIVATIONS = ("identity", "logistic", "tanh", "relu")
LABELS = {2: {"ints": np.array([3, 7]), "strings": np.array(["no", "yes"])},
          3: {"ints": np.array([-1, 0, 5]), "strings": np.array(["a", "b", "é"])}}

rng = np.random.default_rng(0)
X = rng.normal(size=(40, 4))


def run(proto, X):
    """{output name: value} of the graph on X, in onnxruntime (which would
    drop an initializer no node reads: the graph must have none)."""
    used = {name for node in proto.graph.node for name in node.input}
    assert {initializer.name for initializer in proto.graph.initializer} <= used
    session = ort.InferenceSession(proto.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, session.run(None, {session.get_inputs()[0].name: X})))


def assert_close(actual, expected):
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    error = relative_error(actual, expected)
    assert error < RTOL[expected.dtype], f"relative error {error:.3g}"


def assert_labels(label, expected):
    """The same labels, as skl2onnx types them: strings, or int64 for numbers."""
    assert label.dtype == (object if expected.dtype.kind in "UO" else np.int64)
    assert label.shape == expected.shape
    assert label.tolist() == expected.tolist()


def assert_classifier_exports(model, X):
    outputs = run(to_onnx(model), X)
    assert list(outputs) == ["label", "probabilities"]
    assert_close(outputs["probabilities"], model.predict_proba(X))
    assert_labels(outputs["label"], model.predict(X))


def targets(n_classes, kind):
    labels = LABELS[n_classes][kind]
    return labels[np.arange(len(X)) % n_classes][rng.permutation(len(X))]


# -- fastnn's classifiers --------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["ints", "strings"])
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize("Network", [fastnn.ShallowNetwork, fastnn.DeepNetwork],
                         ids=lambda cls: cls.__name__)
def test_networks_export_every_activation(Network, activation, n_classes, kind, dtype):
    width = {"hidden_layer_size": 6} if Network is fastnn.ShallowNetwork else {
        "hidden_layer_sizes": (6, 5)}
    # a slope float32 cannot hold: float64 must not round it
    model = Network(**width, activation=activation, leaky_slope=0.3, learning_rate=0.05,
                    max_iter=5, dtype=dtype, random_state=0).fit(X, targets(n_classes, kind))
    assert model.coefs_[0].dtype == dtype
    assert_classifier_exports(model, X.astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["ints", "strings"])
def test_logistic_regression_exports(kind, dtype):
    model = fastnn.LogisticRegression(max_iter=20, dtype=dtype).fit(X, targets(2, kind))
    assert_classifier_exports(model, X.astype(dtype))


@pytest.mark.parametrize("labels", [np.array([False, True]), np.array([0.0, 2.0]),
                                    np.array([2**40, -3], dtype=np.int64),
                                    np.array([1, 9], dtype=np.uint8)],
                         ids=["bool", "float", "int64", "uint8"])
def test_numeric_labels_come_out_as_int64(labels):
    y = labels[np.arange(len(X)) % 2]
    model = fastnn.DeepNetwork((4,), max_iter=5, random_state=0).fit(X, y)
    assert_classifier_exports(model, X)


def test_labels_that_fit_no_int64_are_refused():
    assert label_values(np.array([2**63 - 1, 0], dtype=np.uint64)).dtype == np.int64
    with pytest.raises(ValueError, match="cannot be ONNX labels"):
        label_values(np.array([2**63, 0], dtype=np.uint64))
    with pytest.raises(ValueError, match="cannot be ONNX labels"):
        label_values(np.array([1e19, 0.0]))


def zero_weights(model):
    model.coefs_ = [np.zeros_like(W) for W in model.coefs_]
    model.intercepts_ = [np.zeros_like(b) for b in model.intercepts_]
    return model


@pytest.mark.parametrize("n_classes", [2, 3])
def test_ties_predict_as_each_estimator_does(n_classes):
    """Zero weights: every probability equal. Two classes: fastnn predicts
    classes_[1] at P = 0.5 (SPEC 4), scikit-learn's MLP classes_[0]; more:
    the first class (np.argmax)."""
    y = targets(n_classes, "strings")
    fastnn_model = zero_weights(fastnn.DeepNetwork((3,), max_iter=1).fit(X, y))
    mlp = zero_weights(fastnn.MLPClassifier((3,), max_iter=1, random_state=0).fit(X, y))
    first, second = LABELS[n_classes]["strings"][:2]
    for model, expected in ((fastnn_model, second if n_classes == 2 else first), (mlp, first)):
        assert set(model.predict(X)) == {expected}
        assert_classifier_exports(model, X)


def test_multilabel_ties_predict_0():
    """scikit-learn's LabelBinarizer: label 1 only where P > 0.5."""
    y = (rng.random((len(X), 3)) < 0.5).astype(int)
    model = zero_weights(fastnn.MLPClassifier((3,), max_iter=1, random_state=0).fit(X, y))
    assert not model.predict(X).any()
    assert_classifier_exports(model, X)


# -- the regressor -----------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("columns", [None, 2], ids=["1-D y", "2-D y"])
@pytest.mark.parametrize("output", OUTPUT_ACTIVATIONS)
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_regressor_exports_every_activation_and_head(activation, output, columns, dtype):
    shape = (len(X),) if columns is None else (len(X), columns)
    y = rng.uniform(0.2, 0.8, size=shape)
    model = fastnn.DeepRegressor((6, 5), activation=activation, output=output,
                                 leaky_slope=0.3, learning_rate=0.05, max_iter=5, dtype=dtype,
                                 random_state=0).fit(X, y)
    X_typed = X.astype(dtype)
    outputs = run(to_onnx(model), X_typed)
    assert list(outputs) == ["variable"]
    predicted = model.predict(X_typed)
    # skl2onnx's regressor shape: (n, n_outputs), (n, 1) for 1-D y
    assert_close(outputs["variable"], predicted.reshape(len(X), -1))


# -- the scikit-learn drop-ins ----------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("target", ["binary", "multiclass", "multilabel"])
@pytest.mark.parametrize("activation", MLP_ACTIVATIONS)
def test_mlp_classifier_exports(activation, target, dtype):
    y = {"binary": targets(2, "ints"), "multiclass": targets(3, "strings"),
         "multilabel": (rng.random((len(X), 3)) < 0.5).astype(int)}[target]
    model = fastnn.MLPClassifier((6, 5), activation=activation, learning_rate_init=0.05,
                                 max_iter=5, random_state=0).fit(X.astype(dtype), y)
    assert model.coefs_[0].dtype == dtype
    assert_classifier_exports(model, X.astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("columns", [None, 2], ids=["1-D y", "2-D y"])
@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
@pytest.mark.parametrize("activation", MLP_ACTIVATIONS)
def test_mlp_regressor_exports(activation, loss, columns, dtype):
    shape = (len(X),) if columns is None else (len(X), columns)
    y = rng.uniform(0.2, 2.0, size=shape)
    model = fastnn.MLPRegressor(loss, (6, 5), activation=activation, learning_rate_init=0.05,
                                max_iter=5, random_state=0).fit(X.astype(dtype), y)
    X_typed = X.astype(dtype)
    outputs = run(to_onnx(model), X_typed)
    assert_close(outputs["variable"], model.predict(X_typed).reshape(len(X), -1))


# -- the graph itself --------------------------------------------------------------
def test_float64_arctan_is_libm_s_to_an_ulp():
    """onnxruntime has no float64 Atan: fastnn.onnx composes it (Cephes')."""
    import math
    from fastnn.onnx import _ModelEmitter, _atan_float64
    g = _ModelEmitter(onnx, np.float64)
    g.node("Identity", [_atan_float64(g, "z")], "atan")
    vector = ["N"]
    graph = onnx.helper.make_graph(
        g.nodes, "atan", [onnx.helper.make_tensor_value_info("z", onnx.TensorProto.DOUBLE, vector)],
        [onnx.helper.make_tensor_value_info("atan", onnx.TensorProto.DOUBLE, vector)],
        g.initializers)
    proto = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 17)],
                                   ir_version=8)
    z = np.concatenate([rng.uniform(-3, 3, 20000),
                        np.exp(rng.uniform(-700, 700, 20000)) * rng.choice([-1, 1], 20000),
                        [0.0, 0.66, np.nextafter(0.66, 1), 2.414213562373095, 1e300, 5e-324]])
    expected = np.array([math.atan(value) for value in z])
    ulps = np.abs(run(proto, z)["atan"] - expected) / np.spacing(np.abs(expected))
    assert ulps.max() <= 1


def test_every_activation_of_the_vocabulary_has_an_onnx_form():
    assert set(ACTIVATIONS) == set(ACTIVATION_CODES)


def test_every_public_estimator_exports():
    public = {getattr(fastnn, name) for name in fastnn.__all__
              if isinstance(getattr(fastnn, name), type)
              and hasattr(getattr(fastnn, name), "fit")}
    assert public == set(estimator_classes())


@pytest.mark.parametrize("dtype", DTYPES)
def test_graph_declares_its_types(dtype):
    model = fastnn.DeepNetwork((5,), activation="arctan", max_iter=3, dtype=dtype,
                               random_state=0).fit(X, targets(3, "strings"))
    proto = to_onnx(model)
    element = onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    graph = proto.graph
    assert [(value.name, value.type.tensor_type.elem_type) for value in graph.input] == [
        ("X", element)]
    assert [(value.name, value.type.tensor_type.elem_type) for value in graph.output] == [
        ("label", onnx.TensorProto.STRING), ("probabilities", element)]
    assert {initializer.data_type for initializer in graph.initializer} <= {
        element, onnx.TensorProto.STRING}
    assert [opset.version for opset in proto.opset_import] == [fastnn.onnx.OPSET]


@pytest.mark.parametrize("Estimator", estimator_classes(), ids=lambda cls: cls.__name__)
def test_an_unfitted_model_is_refused(Estimator):
    with pytest.raises(NotFittedError):
        to_onnx(Estimator())


def test_other_estimators_are_refused():
    from sklearn.linear_model import LogisticRegression
    with pytest.raises(TypeError, match="exports fastnn's estimators"):
        to_onnx(LogisticRegression().fit(X, targets(2, "ints")))


def test_input_scaling_comes_first():
    model = fastnn.DeepRegressor((4,), max_iter=5, random_state=0).fit(X, X[:, 0])
    mean, scale = X.mean(axis=0), X.std(axis=0)
    outputs = run(to_onnx(model, input_scaling=(mean, scale)), X * scale + mean)
    assert_close(outputs["variable"][:, 0], model.predict(X))
    with pytest.raises(ValueError, match="input_scaling"):
        to_onnx(model, input_scaling=(mean[:2], scale))


def test_import_fastnn_needs_no_onnx():
    code = "import sys, fastnn, fastnn.onnx; assert 'onnx' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_without_onnx_the_error_says_what_to_install(monkeypatch):
    model = fastnn.LogisticRegression(max_iter=1).fit(X, targets(2, "ints"))
    monkeypatch.setitem(sys.modules, "onnx", None)   # import onnx raises ImportError
    with pytest.raises(ImportError, match=r"pip install fastnn\[onnx\]"):
        to_onnx(model)


# -- skl2onnx -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def skl2onnx():
    skl2onnx = pytest.importorskip("skl2onnx")
    fastnn.onnx.register_skl2onnx()
    fastnn.onnx.register_skl2onnx()   # again: harmless
    return skl2onnx


def pipeline(model, y):
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    return Pipeline([("scale", StandardScaler()), ("net", model)]).fit(X * 3 + 1, y)


@pytest.mark.parametrize("model, kind", [
    (fastnn.DeepNetwork((6,), activation="leaky_relu", max_iter=5, random_state=0), "strings"),
    (fastnn.ShallowNetwork(5, activation="arctan", max_iter=5, random_state=0), "ints"),
    (fastnn.LogisticRegression(max_iter=20), "strings"),
    (fastnn.MLPClassifier((5,), max_iter=5, random_state=0), "ints"),
], ids=["DeepNetwork", "ShallowNetwork", "LogisticRegression", "MLPClassifier"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_skl2onnx_converts_classifier_pipelines(skl2onnx, model, kind, dtype):
    n_classes = 2 if isinstance(model, fastnn.LogisticRegression) else 3
    pipe = pipeline(model, targets(n_classes, kind))
    X_in = (X * 3 + 1).astype(dtype)
    proto = skl2onnx.to_onnx(pipe, X_in[:1], options={"zipmap": False})
    outputs = run(proto, X_in)
    assert list(outputs) == ["label", "probabilities"]
    assert_labels(outputs["label"], pipe.predict(X_in))
    probabilities = outputs["probabilities"]
    assert probabilities.dtype == dtype
    # float32 input runs the float64 network in float32 (skl2onnx's rule):
    # float32's precision, not the float64 model's
    error = relative_error(probabilities, pipe.predict_proba(X_in))
    assert error < (1e-5 if dtype == np.float32 else 1e-12), error


def test_skl2onnx_zipmap_and_nocl(skl2onnx):
    pipe = pipeline(fastnn.DeepNetwork((6,), max_iter=5, random_state=0), targets(3, "strings"))
    X_in = (X * 3 + 1).astype(np.float32)
    outputs = run(skl2onnx.to_onnx(pipe, X_in[:1]), X_in)   # zipmap: one dict per row
    assert list(outputs) == ["output_label", "output_probability"]
    assert outputs["output_label"].tolist() == pipe.predict(X_in).tolist()
    expected = pipe.predict_proba(X_in)
    rows = np.array([[row[label] for label in pipe.classes_]
                     for row in outputs["output_probability"]])
    assert relative_error(rows, expected) < 1e-5
    outputs = run(skl2onnx.to_onnx(pipe, X_in[:1], options={"zipmap": False, "nocl": True}), X_in)
    assert outputs["label"].tolist() == np.argmax(expected, axis=1).tolist()


@pytest.mark.parametrize("model", [
    fastnn.DeepRegressor((6,), activation="arctan", output="exp", max_iter=5, random_state=0),
    fastnn.MLPRegressor(hidden_layer_sizes=(5,), max_iter=5, random_state=0),
], ids=["DeepRegressor", "MLPRegressor"])
def test_skl2onnx_converts_regressor_pipelines(skl2onnx, model):
    pipe = pipeline(model, rng.uniform(0.5, 1.5, size=(len(X), 2)))
    X_in = X * 3 + 1
    outputs = run(skl2onnx.to_onnx(pipe, X_in[:1]), X_in)
    assert outputs["variable"].shape == (len(X), 2)
    assert relative_error(outputs["variable"], pipe.predict(X_in)) < 1e-12


def test_skl2onnx_converts_multilabel_mlp(skl2onnx):
    y = (rng.random((len(X), 3)) < 0.5).astype(int)
    pipe = pipeline(fastnn.MLPClassifier((5,), max_iter=5, random_state=0), y)
    X_in = X * 3 + 1
    outputs = run(skl2onnx.to_onnx(pipe, X_in[:1], options={"zipmap": False}), X_in)
    assert outputs["label"].tolist() == pipe.predict(X_in).tolist()
    assert relative_error(outputs["probabilities"], pipe.predict_proba(X_in)) < 1e-12


# -- fastnn export ------------------------------------------------------------------
def test_export_applies_the_scaling_train_stored(tmp_path, capsys):
    from sklearn.datasets import load_iris
    out = tmp_path / "out"
    assert main(["train", "--data", "iris", "--model", "deep", "--layers", "5",
                 "--activation", "arctan", "--epochs", "3", "--no-early-stopping",
                 "--quiet", "--output", str(out)]) == 0
    assert main(["export", str(out / "model.npz"), str(tmp_path / "model.onnx")]) == 0
    assert "scaling.npz applied first" in capsys.readouterr().out
    model = fastnn.load(out / "model.npz")
    with np.load(out / "scaling.npz") as scaling:
        mean, scale = scaling["mean"], scaling["scale"]
    raw = load_iris().data
    outputs = run(onnx.load(tmp_path / "model.onnx"), raw)
    assert outputs["label"].tolist() == model.predict((raw - mean) / scale).tolist()
    assert relative_error(outputs["probabilities"],
                          model.predict_proba((raw - mean) / scale)) < 1e-12


def test_export_round_trips_a_saved_model(tmp_path):
    model = fastnn.DeepRegressor((5,), output="tanh", max_iter=5, dtype=np.float32,
                                 random_state=0).fit(X, rng.uniform(-0.5, 0.5, len(X)))
    model.save(tmp_path / "model.npz")
    assert main(["export", str(tmp_path / "model.npz"), str(tmp_path / "model.onnx")]) == 0
    X32 = X.astype(np.float32)
    outputs = run(onnx.load(tmp_path / "model.onnx"), X32)
    assert_close(outputs["variable"][:, 0], model.predict(X32))


@pytest.fixture
def saved(tmp_path):
    """A saved model and an existing ONNX file that a failed export must keep."""
    model = fastnn.LogisticRegression(max_iter=5).fit(X, targets(2, "ints"))
    model.save(tmp_path / "model.npz")
    (tmp_path / "model.onnx").write_bytes(b"the previous export")
    return tmp_path


def assert_export_fails(saved, capsys, arguments, message):
    assert main(["export", *arguments]) == 2
    error = capsys.readouterr().err
    assert error.startswith("fastnn: ") and message in error and error.count("\n") == 1
    assert (saved / "model.onnx").read_bytes() == b"the previous export"
    assert sorted(os.listdir(saved)) == ["model.npz", "model.onnx"]


def test_export_of_a_missing_file_fails(saved, capsys):
    assert_export_fails(saved, capsys, [str(saved / "nothing.npz"), str(saved / "model.onnx")],
                        "No such file or directory")


def test_export_of_a_file_that_is_no_model_fails(saved, capsys):
    (saved / "notes.txt").write_text("not a model")
    os.replace(saved / "notes.txt", saved / "model.npz")
    assert_export_fails(saved, capsys, [str(saved / "model.npz"), str(saved / "model.onnx")],
                        "is not a fastnn model file")


def test_export_without_onnx_fails(saved, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    assert_export_fails(saved, capsys, [str(saved / "model.npz"), str(saved / "model.onnx")],
                        "pip install fastnn[onnx]")


def test_export_onto_a_full_disk_keeps_the_old_file(saved, capsys, monkeypatch):
    def full(descriptor):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(os, "fsync", full)
    assert_export_fails(saved, capsys, [str(saved / "model.npz"), str(saved / "model.onnx")],
                        "No space left on device")


def test_export_into_a_missing_folder_fails(saved, capsys):
    assert_export_fails(saved, capsys, [str(saved / "model.npz"), str(saved / "no" / "m.onnx")],
                        "No such file or directory")
