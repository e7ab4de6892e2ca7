"""save -> load -> predict, pickle, and files that are not fastnn models."""
import json
import pickle

import numpy as np
import pytest

import fastnn
from fastnn import DeepNetwork, DeepRegressor, LogisticRegression, ShallowNetwork

RNG = np.random.default_rng(0)
X = RNG.standard_normal((60, 5))
LABELS = {"ints": np.arange(60) % 2, "strings": np.array(["no", "yes"])[np.arange(60) % 2],
          "three strings": np.array(["a", "b", "c"])[np.arange(60) % 3]}

MODELS = [
    (LogisticRegression(max_iter=20), "ints"),
    (LogisticRegression(max_iter=20, dtype="float32", l2=0.1), "strings"),
    (ShallowNetwork(3, max_iter=20, optimizer="adam", batch_size=16, random_state=0), "ints"),
    (DeepNetwork((6, 4), max_iter=20, keep_prob=(0.9, 0.8), optimizer="rmsprop",
                 batch_size=16, random_state=0), "three strings"),
    (DeepRegressor((5,), output="tanh", max_iter=20, random_state=0), None),
]


def fitted(model, labels):
    y = np.tanh(X[:, :2]) if labels is None else LABELS[labels]
    return model.fit(X, y), y


@pytest.mark.parametrize("model, labels", MODELS, ids=lambda v: type(v).__name__ if not isinstance(v, (str, type(None))) else str(v))
def test_save_load_predicts_the_same(model, labels, tmp_path):
    model, y = fitted(model, labels)
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = fastnn.load(path)
    assert type(loaded) is type(model)
    assert loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    if hasattr(model, "predict_proba"):
        np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
        np.testing.assert_array_equal(loaded.classes_, model.classes_)
        assert loaded.classes_.dtype == model.classes_.dtype
    for a, b in zip(loaded.coefs_ + loaded.intercepts_, model.coefs_ + model.intercepts_):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(loaded.costs_, model.costs_)
    # Training goes on from the same state after loading as before saving.
    model.partial_fit(X, y)
    loaded.partial_fit(X, y)
    np.testing.assert_array_equal(loaded.coefs_[0], model.coefs_[0])


def test_pickle_round_trip():
    model, _ = fitted(DeepNetwork((4,), max_iter=10, random_state=0), "three strings")
    copy = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(copy.predict_proba(X), model.predict_proba(X))


def test_explicit_init_is_saved(tmp_path):
    init = ([np.ones((5, 1)) * 0.1], [np.array([0.2])])
    model, _ = fitted(LogisticRegression(max_iter=0, init=init), "ints")
    model.save(tmp_path / "m.npz")
    loaded = fastnn.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(loaded.init[0][0], init[0][0])


def test_unfitted_model_cannot_be_saved(tmp_path):
    from sklearn.exceptions import NotFittedError
    with pytest.raises(NotFittedError):
        DeepNetwork().save(tmp_path / "m.npz")


def saved_file(tmp_path):
    model, _ = fitted(DeepNetwork((4,), max_iter=5, random_state=0), "ints")
    path = tmp_path / "model.npz"
    model.save(path)
    return path


def test_truncated_file_is_refused(tmp_path):
    path = saved_file(tmp_path)
    data = path.read_bytes()
    for cut in (10, len(data) // 2, len(data) - 20):
        damaged = tmp_path / f"cut{cut}.npz"
        damaged.write_bytes(data[:cut])
        with pytest.raises(ValueError, match="fastnn model file"):
            fastnn.load(damaged)


def test_random_and_foreign_files_are_refused(tmp_path):
    noise = tmp_path / "noise.npz"
    noise.write_bytes(np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    with pytest.raises(ValueError, match="fastnn model file"):
        fastnn.load(noise)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, weights=np.ones(3))
    with pytest.raises(ValueError, match="not a fastnn model file"):
        fastnn.load(foreign)
    # A pickled object inside the archive is never unpickled.
    with_object = tmp_path / "object.npz"
    np.savez(with_object, __fastnn__=np.frombuffer(b"{}", dtype=np.uint8),
             coefs_0=np.array([object()], dtype=object))
    with pytest.raises(ValueError):
        fastnn.load(with_object)


def test_other_version_and_tampered_layers_are_refused(tmp_path):
    path = saved_file(tmp_path)
    with np.load(path) as archive:
        arrays = dict(archive)
    metadata = json.loads(arrays["__fastnn__"].tobytes())
    newer = dict(metadata, version=99)
    np.savez(tmp_path / "newer.npz", **{**arrays, "__fastnn__": np.frombuffer(
        json.dumps(newer).encode(), dtype=np.uint8)})
    with pytest.raises(ValueError, match="version 99"):
        fastnn.load(tmp_path / "newer.npz")
    np.savez(tmp_path / "bad.npz", **{**arrays, "coefs_0": np.ones((3, 3))})
    with pytest.raises(ValueError, match="damaged"):
        fastnn.load(tmp_path / "bad.npz")
