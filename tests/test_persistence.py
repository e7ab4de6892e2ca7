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


# -- issue 12: atomic saves, what a file stores, and load's checks ------------
import errno
import io
import os
import subprocess
import sys
import textwrap
import tracemalloc
import zipfile

import pandas as pd


def npy_bytes(array):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=False)
    return buffer.getvalue()


def parts_of(path):
    """(metadata, arrays) of a saved file, read plainly (the file is ours)."""
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    metadata = json.loads(arrays.pop("__fastnn__").tobytes())
    return metadata, arrays


def write_parts(path, metadata, arrays, raw=None, metadata_text=None,
                compression=zipfile.ZIP_STORED, sync_names=True):
    """A model file from (edited) parts: arrays as .npy members, `raw` members
    as given bytes; the JSON lists the arrays unless sync_names is False."""
    if sync_names and metadata_text is None:
        metadata = dict(metadata, arrays=sorted(set(arrays) | set(raw or ())))
    text = json.dumps(metadata) if metadata_text is None else metadata_text
    members = {"__fastnn__": npy_bytes(np.frombuffer(text.encode(), dtype=np.uint8))}
    members.update({name: npy_bytes(array) for name, array in arrays.items()})
    members.update(raw or {})
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name + ".npy", data)
    return path


BASES = {
    # three layers, adam moments, a row order, random streams
    "deep": lambda: DeepNetwork((6, 4), max_iter=5, optimizer="adam", batch_size=16,
                                random_state=0).fit(X, LABELS["ints"]),
    "multi": lambda: DeepNetwork((4,), max_iter=5, random_state=0).fit(X, LABELS["three strings"]),
    "regressor": lambda: DeepRegressor((5,), max_iter=5, random_state=0).fit(X, np.tanh(X[:, :2])),
    "frame": lambda: ShallowNetwork(3, max_iter=5, random_state=0).fit(
        pd.DataFrame(X, columns=[f"f{i}" for i in range(5)]), LABELS["ints"]),
}


@pytest.fixture(scope="module")
def base_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bases")
    files = {}
    for name, make in BASES.items():
        files[name] = folder / f"{name}.npz"
        make().save(files[name])
    return files


def tampered(base_files, tmp_path, base, edit):
    metadata, arrays = parts_of(base_files[base])
    edit(metadata, arrays)
    return write_parts(tmp_path / "tampered.npz", metadata, arrays)


def assert_refused(path, kind, match):
    """load(path) raises ValueError "<path> is <kind> fastnn model file: ..." matching `match`."""
    with pytest.raises(ValueError) as raised:
        fastnn.load(path)
    message = str(raised.value)
    assert message.startswith(f"{path} is {kind} fastnn model file: "), message
    assert re.search(match, message), message


import re  # noqa: E402


def set_json(*keys, value):
    def edit(metadata, arrays):
        target = metadata
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
    return edit


def set_array(name, value):
    def edit(metadata, arrays):
        arrays[name] = value(arrays[name]) if callable(value) else value
    return edit


def drop_last_layer(metadata, arrays):
    last = metadata["n_layers"] - 1
    del arrays[f"coefs_{last}"], arrays[f"intercepts_{last}"]
    metadata["n_layers"] = last


def with_order(values):
    def edit(metadata, arrays):
        order = arrays["_order"].copy()
        order[: len(values)] = values
        arrays["_order"] = order
    return edit


def bad_stream(**state):
    def edit(metadata, arrays):
        metadata["attributes"]["_random_streams"][0]["state"].update(state)
    return edit


DAMAGE = [
    # (id, base, edit, what the message must say)
    ("order 10**12", "deep", with_order([10**12]), r"_order must be a permutation of range\(60\)"),
    ("order -10**9", "deep", with_order([-10**9]), r"_order must be a permutation"),
    ("order all zeros", "deep", set_array("_order", lambda o: np.zeros_like(o)),
     r"_order must be a permutation of range\(60\); it repeats rows"),
    ("order float", "deep", set_array("_order", lambda o: o.astype(np.float64)),
     r"_order must be a 1-D array of native integers"),
    ("order 2-D", "deep", set_array("_order", lambda o: o.reshape(6, 10)),
     r"_order must be a 1-D array"),
    ("n_layers 0", "deep", set_json("n_layers", value=0), r"n_layers must be an int in \[1,"),
    ("n_layers -3", "deep", set_json("n_layers", value=-3), r"n_layers must be an int in \[1,"),
    ("params a list", "deep", set_json("params", value=[]), r"its parameters is not a JSON object"),
    ("attributes a list", "deep", set_json("attributes", value=[]),
     r"its attributes are not a JSON object"),
    ("3 classes, 1 output", "deep", set_array("classes_", np.array([0, 1, 2])),
     r"classes_ holds 3 labels, which need 3 output units, but the last layer has 1"),
    ("2 classes, 3 outputs", "multi", set_array("classes_", np.array(["a", "b"])),
     r"classes_ holds 2 labels, which need 1 output unit, but the last layer has 3"),
    ("classes 2-D", "multi", set_array("classes_", lambda c: c.reshape(3, 1)),
     r"classes_ must be a 1-D array"),
    ("classes repeated", "deep", set_array("classes_", np.array([1, 1])),
     r"classes_ must be distinct and sorted"),
    ("classes missing", "deep", lambda m, a: a.pop("classes_"), r"missing arrays: \{classes_\}"),
    ("a layer missing", "deep", drop_last_layer,
     r"n_layers is 2 but the parameters give 2 hidden layers, so 3 layers"),
    ("unknown activation", "deep", set_json("params", "activation", value="swish"),
     r"parameters: The 'activation' parameter of DeepNetwork must be"),
    ("l2 not a number", "deep", set_json("params", "l2", value="abc"),
     r"parameters: The 'l2' parameter"),
    ("hidden sizes differ", "deep", set_json("params", "hidden_layer_sizes", value=[6, 5]),
     r"hidden layer widths \(6, 5\) but the stored layers have \(6, 4\)"),
    ("keep_prob too long", "deep", set_json("params", "keep_prob", value=[0.5] * 4),
     r"keep_prob: keep_prob must be a float or a sequence of 2 values"),
    ("feature names too few", "frame", set_array("feature_names_in_", lambda f: f[:4]),
     r"feature_names_in_ must be 5 strings"),
    ("n_iter_ negative", "deep", set_json("attributes", "n_iter_", value=-1),
     r"n_iter_ must be an int in \[0,"),
    ("n_iter_ a bool", "deep", set_json("attributes", "n_iter_", value=True),
     r"n_iter_ must be an int"),
    ("_n_steps a string", "deep", set_json("attributes", "_n_steps", value="x"),
     r"_n_steps must be an int"),
    ("costs_ too long", "deep", set_array("costs_", np.zeros(6)),
     r"costs_ has shape \(6,\); expected 1-D with at most 5 entries"),
    ("moments shape", "deep", set_array("_moment_0", lambda m: m[:-1]),
     r"_moment_0 has shape \(\d+,\); the model implies \(\d+,\)"),
    ("moments dtype", "deep", set_array("_moment_1", lambda m: m.astype(np.int64)),
     r"_moment_1 has dtype int64; expected float64"),
    ("moments NaN", "deep", set_array("_moment_0", lambda m: np.full_like(m, np.nan)),
     r"_moment_0 holds NaN or infinite values"),
    ("stream even increment", "deep", bad_stream(inc=4), r"increment must be odd"),
    ("stream negative state", "deep", bad_stream(state=-1), r"_random_streams\[0\]'s state must"),
    ("stream state too big", "deep", bad_stream(state=2**200), r"_random_streams\[0\]'s state"),
    ("unexpected member", "deep", set_array("payload", np.ones(3)),
     r"unexpected arrays: \{payload\}"),
    ("extra top-level key", "deep", set_json("extra", value=1),
     r"its metadata has unexpected keys \{'extra'\}"),
    ("extra attribute", "deep", set_json("attributes", "loss_", value=1),
     r"unexpected attributes \{'loss_'\}"),
    ("init of another shape", "regressor", lambda m, a: (
        m["params"].update(init={"explicit_layers": 2}),
        a.update(init_coefs_0=np.ones((5, 3)), init_intercepts_0=np.ones(3),
                 init_coefs_1=np.ones((3, 2)), init_intercepts_1=np.ones(2))),
     r"init_coefs_0 must be real numbers of shape \(5, 5\)"),
    ("_y_is_1d with 2 outputs", "regressor", set_json("attributes", "_y_is_1d", value=True),
     r"_y_is_1d is set but n_outputs_ is 2"),
]


@pytest.mark.parametrize("base, edit, match", [case[1:] for case in DAMAGE],
                         ids=[case[0] for case in DAMAGE])
def test_damaged_file_is_refused(base_files, tmp_path, base, edit, match):
    path = tampered(base_files, tmp_path, base, edit)
    assert_refused(path, "a damaged", match)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        fastnn.load(tmp_path / "nothing-here.npz")


def test_foreign_files_say_not_a_fastnn_model_file(tmp_path):
    plain = tmp_path / "plain.npy"
    np.save(plain, np.ones(3))
    assert_refused(plain, "not a", r"not a ZIP archive")
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, weights=np.ones(3))
    assert_refused(foreign, "not a", r"no __fastnn__ member")


def test_unknown_estimator_and_nan_parameters_are_refused(base_files, tmp_path):
    path = tampered(base_files, tmp_path, "deep", set_json("estimator", value="Perceptron"))
    assert_refused(path, "not a", r"unknown estimator 'Perceptron'")
    metadata, arrays = parts_of(base_files["deep"])
    text = json.dumps(dict(metadata, arrays=sorted(arrays))).replace(
        '"learning_rate": 0.01', '"learning_rate": NaN')
    assert "NaN" in text
    write_parts(tmp_path / "nan.npz", metadata, arrays, metadata_text=text)
    assert_refused(tmp_path / "nan.npz", "not a", r"NaN is not a number a model file holds")


def test_deep_json_is_refused(base_files, tmp_path):
    metadata, arrays = parts_of(base_files["deep"])
    write_parts(tmp_path / "deep.npz", metadata, arrays,
                metadata_text="[" * 100_000 + "]" * 100_000)
    assert_refused(tmp_path / "deep.npz", "not a", r"nests deeper than 32 levels")


def test_oversized_json_is_refused(base_files, tmp_path):
    path = tampered(base_files, tmp_path, "deep", set_json("comment", value="x" * (2 << 20)))
    assert_refused(path, "not a", r"at most 1048576")


def test_huge_declared_array_is_refused_before_reading(base_files, tmp_path):
    metadata, arrays = parts_of(base_files["deep"])
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)})
    path = write_parts(tmp_path / "huge.npz", metadata, {k: v for k, v in arrays.items()
                                                         if k != "costs_"},
                       raw={"costs_": header.getvalue() + b"\0" * 16})
    assert path.stat().st_size < 8000
    assert_refused(path, "a damaged", r"costs_ declares \d+ bytes, but its header \(shape "
                                      r"\(1000000000000,\), dtype float64\) implies")


def test_deflate_bomb_is_refused_before_inflating(base_files, tmp_path):
    metadata, arrays = parts_of(base_files["deep"])
    path = tmp_path / "bomb.npz"
    write_parts(path, metadata, arrays)
    # A row order of 12.5 million zeros: 100 MB inflated, about 100 KB deflated.
    metadata["arrays"] = sorted(arrays)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("__fastnn__.npy", npy_bytes(np.frombuffer(
            json.dumps(metadata).encode(), dtype=np.uint8)))
        for name, array in arrays.items():
            if name != "_order":
                archive.writestr(name + ".npy", npy_bytes(array))
        count = 12_500_000
        with archive.open("_order.npy", "w", force_zip64=True) as member:
            np.lib.format.write_array_header_1_0(
                member, {"descr": "<i8", "fortran_order": False, "shape": (count,)})
            zeros = bytes(1 << 20)
            for _ in range(count * 8 >> 20):
                member.write(zeros)
            member.write(bytes(count * 8 % (1 << 20)))
    assert path.stat().st_size < 1_000_000
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"is a damaged fastnn model file: the compressed "
                                             r"members would expand to \d+ bytes"):
            fastnn.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20


# -- save ---------------------------------------------------------------------
def models_for_saving():
    small = DeepNetwork((4,), max_iter=3, random_state=0).fit(X, LABELS["ints"])
    other = DeepNetwork((8, 8), max_iter=3, random_state=1).fit(X, LABELS["ints"])
    return small, other


@pytest.mark.parametrize("failure", [OSError(errno.ENOSPC, "No space left on device"),
                                     KeyboardInterrupt()], ids=["disk full", "Ctrl-C"])
def test_failed_save_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch, failure):
    small, other = models_for_saving()
    path = tmp_path / "model.npz"
    small.save(path)
    before = path.read_bytes()
    real_write_array = np.lib.format.write_array
    calls = []

    def failing_write_array(file, array, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # after a few members are written
            raise failure
        return real_write_array(file, array, *args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", failing_write_array)
    with pytest.raises(type(failure)):
        other.save(path)
    monkeypatch.undo()
    assert len(calls) == 3
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]
    np.testing.assert_array_equal(fastnn.load(path).predict_proba(X), small.predict_proba(X))


def test_save_onto_a_full_disk_keeps_the_old_file(tmp_path):
    """RLIMIT_FSIZE in a child process stands in for a full disk."""
    small, _ = models_for_saving()
    path = tmp_path / "model.npz"
    small.save(path)
    before = path.read_bytes()
    script = textwrap.dedent(f"""
        import errno, resource, signal
        import numpy as np
        from fastnn import DeepNetwork
        X = np.random.default_rng(0).standard_normal((60, 5))
        model = DeepNetwork((64, 64), max_iter=1, random_state=0).fit(X, np.arange(60) % 2)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))
        try:
            model.save({str(path)!r})
        except OSError as error:
            assert error.errno == errno.EFBIG, error
            print("refused:", error)
        else:
            print("saved")
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("refused:"), result.stdout
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]


def test_save_to_a_file_object(tmp_path):
    small, _ = models_for_saving()
    buffer = io.BytesIO()
    small.save(buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(fastnn.load(buffer).predict_proba(X), small.predict_proba(X))
    with open(tmp_path / "m.npz", "wb") as file:
        small.save(file)
    np.testing.assert_array_equal(fastnn.load(tmp_path / "m.npz").predict(X), small.predict(X))


def test_callbacks_are_stored_as_none(tmp_path):
    seen = []
    model = DeepNetwork((4,), max_iter=3, cost_every=1, random_state=0,
                        callbacks=[seen.append]).fit(X, LABELS["ints"])
    assert seen
    model.save(tmp_path / "m.npz")
    loaded = fastnn.load(tmp_path / "m.npz")
    assert loaded.callbacks is None
    assert model.callbacks == [seen.append]  # the model itself is not changed
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


@pytest.mark.parametrize("dev", [False, True], ids=["held out", "dev set"])
def test_early_stopping_warm_start_goes_on_exactly_after_loading(tmp_path, dev):
    y = LABELS["three strings"]
    kwargs = {"dev": (X[:20], y[:20])} if dev else {}
    model = DeepNetwork((6,), max_iter=4, batch_size=8, optimizer="adam", early_stopping=True,
                        n_iter_no_change=50, warm_start=True, random_state=3)
    model.fit(X, y, **kwargs)
    model.save(tmp_path / "m.npz")
    loaded = fastnn.load(tmp_path / "m.npz")
    again = fastnn.load(tmp_path / "m.npz")
    model.fit(X, y, **kwargs)
    loaded.fit(X, y, **kwargs)
    assert loaded.n_iter_ == model.n_iter_ == 8
    for a, b in zip(loaded.coefs_ + loaded.intercepts_, model.coefs_ + model.intercepts_):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(loaded.dev_costs_, model.dev_costs_)
    assert loaded.best_iteration_ == model.best_iteration_
    np.testing.assert_array_equal(loaded.costs_, model.costs_)
    # and what the file held of the first fit's early stopping
    assert len(again.dev_costs_) == 4
    assert again.best_iteration_ is not None and again.best_iteration_ < 4
    assert again._training_state.split_seed == model._training_state.split_seed


def test_save_refuses_a_state_load_would_refuse(tmp_path):
    small, other = models_for_saving()
    path = tmp_path / "model.npz"
    small.save(path)
    before = path.read_bytes()
    other.set_params(hidden_layer_sizes=(8, 3))
    with pytest.raises(ValueError, match=r"cannot save DeepNetwork to .*model.npz: the "
                                         r"parameters give hidden layer widths \(8, 3\) but the stored layers "
                                         r"have \(8, 8\)"):
        other.save(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]
