"""Property-based fuzz (hypothesis) of fastnn.load over damaged model files.

Valid files of every estimator family are mutated: JSON fields (other values
and types, nudged numbers, missing and extra keys, deep nesting, raw text),
member arrays (shapes, dtypes, NaN / huge / negative values, wrong ints),
members dropped, added or given lying .npy headers, compression, and byte
flips, insertions and truncation of the whole file. Whatever comes of it,
`load` raises only its ValueError ("<file> is not a fastnn model file: ..." or
"<file> is a damaged fastnn model file: ...") or returns a model that can
predict, predict_proba (classifiers), partial_fit and be saved and loaded
again, with no exception but the documented one for inputs a network
overflows on. A crash would take the test process down with it.

CI draws 500 examples (about 5 s); HYPOTHESIS_PROFILE=thorough draws ten times more.
"""
import copy
import io
import json
import os
import tempfile
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import fastnn
from fastnn import DeepNetwork, DeepRegressor, LogisticRegression, ShallowNetwork

EXAMPLES = 5000 if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else 500

RNG = np.random.default_rng(5)
X = RNG.standard_normal((48, 4))
INTS = np.arange(48) % 2
WORDS = np.array(["a", "b", "c"])[np.arange(48) % 3]


def _families():
    init = ([np.full((4, 3), 0.1), np.full((3, 2), -0.1)], [np.zeros(3), np.zeros(2)])
    frame = pd.DataFrame(X, columns=["w", "x", "y", "z"])
    fits = {
        "logistic": lambda: LogisticRegression(
            max_iter=4, optimizer="momentum", batch_size=16, l2=0.1, cost_every=1).fit(
            X, np.array(["no", "yes"])[INTS]),
        "shallow": lambda: ShallowNetwork(
            3, max_iter=4, optimizer="adam", batch_size=16, keep_prob=0.8,
            random_state=0).fit(frame, INTS),
        "deep": lambda: DeepNetwork(
            (5, 3), max_iter=4, optimizer="rmsprop", batch_size=16, keep_prob=(0.9, 0.8, 0.7),
            early_stopping=True, n_iter_no_change=50, dtype="float32", cost_every=2,
            random_state=0).fit(X, WORDS),
        "regressor": lambda: DeepRegressor(
            (3,), output="tanh", max_iter=4, init=init, optimizer="adam", batch_size=20,
            random_state=0).fit(X, np.tanh(X[:, :2])),
        "linear regressor": lambda: DeepRegressor(
            (), max_iter=3, learning_rate_schedule="inverse", decay_rate=0.1,
            random_state=0).fit(X, X[:, 0]),
    }
    parts = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, fit in fits.items():
            path = os.path.join(folder, "model.npz")
            fit().save(path)
            with np.load(path, allow_pickle=False) as archive:
                arrays = {key: archive[key] for key in archive.files}
            metadata = json.loads(arrays.pop("__fastnn__").tobytes())
            parts[name] = (metadata, arrays)
    return parts


FAMILIES = _families()


def npy_bytes(array):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=False)
    return buffer.getvalue()


# -- strategies ---------------------------------------------------------------
WORDS_SEEN = ["relu", "tanh", "sigmoid", "identity", "softmax", "leaky_relu", "adam", "gd",
              "rmsprop", "momentum", "float32", "float64", "float16", "zeros", "auto", "he",
              "constant", "inverse", "PCG64", "MT19937", "fastnn-model", "DeepNetwork",
              "DeepRegressor", "LogisticRegression", "ShallowNetwork", "explicit_layers",
              "coefs_0", "classes_", "_order", "", "x"]
INTERESTING = [0, 1, -1, 2, 3, 7, 10**12, -10**9, 2**31, 2**32, 2**53 + 1, 2**63, -2**63,
               2**64, 2**128, 0.0, 0.5, -0.5, 1e-320, 1e308, -1e308, True, False, None]
json_scalars = (st.none() | st.booleans() | st.integers(-2**70, 2**70)
                | st.floats() | st.text(max_size=6) | st.sampled_from(WORDS_SEEN)
                | st.sampled_from(INTERESTING))
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=4) | st.sampled_from(WORDS_SEEN), children, max_size=3),
    max_leaves=8)
SPECIAL = [np.nan, np.inf, -np.inf, 1e300, -1e300, 3e38, -1.0, 0.0, 10**12, -10**9, 2**62]
DTYPES = ["int8", "int32", "int64", "uint64", "float16", "float32", "float64", "bool",
          "complex128", "<U3", "S2", ">f8", ">i8", "<U1"]
MEMBER_NAMES = ["coefs_0", "coefs_1", "coefs_5", "intercepts_2", "costs_", "dev_costs_",
                "_moment_0", "_moment_1", "_order", "classes_", "feature_names_in_",
                "init_coefs_0", "init_intercepts_0", "weights", "__fastnn__"]


def paths_into(value, prefix=()):
    """The paths (tuples of keys / indices) into a JSON value, 8 levels deep at most."""
    yield prefix
    if len(prefix) >= 8:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths_into(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value[:6]):
            yield from paths_into(item, prefix + (index,))


def get_at(value, path):
    for key in path:
        value = value[key]
    return value


def nudged(draw, value):
    """A value near `value` of the same kind: what a careful attacker tries."""
    if isinstance(value, bool):
        return draw(st.sampled_from([not value, int(value), None, str(value)]))
    if isinstance(value, int):
        return draw(st.sampled_from([value + 1, value - 1, -value, 0, -1, value * 2,
                                     value + 2**64, float(value), str(value)]))
    if isinstance(value, float):
        return draw(st.sampled_from([value * 2, -value, 0.0, value + 1, 1e300, 5e-324,
                                     int(value) if np.isfinite(value) else 0, str(value)]))
    if isinstance(value, str):
        return draw(st.sampled_from(WORDS_SEEN + [value.upper(), value + " ", value[:-1]]))
    if isinstance(value, list):
        if value and draw(st.booleans()):
            index = draw(st.integers(0, len(value) - 1))
            return value[:index] + value[index + 1:]
        return value + [value[-1] if value else 1]
    if isinstance(value, dict):
        return list(value.values())
    return draw(json_scalars)


@st.composite
def json_mutation(draw, metadata):
    paths = list(paths_into(metadata))
    path = draw(st.sampled_from(paths))
    kind = draw(st.sampled_from(["replace", "nudge", "nudge", "delete", "add", "deep"]))
    if not path:
        kind = "add"
    target = get_at(metadata, path)
    if kind == "add":
        container = target if isinstance(target, dict) else metadata
        container[draw(st.sampled_from(WORDS_SEEN + ["n_iter_", "_n_steps", "comment"]))] = \
            draw(json_values)
        return
    parent, key = get_at(metadata, path[:-1]), path[-1]
    if kind == "delete":
        del parent[key]
    elif kind == "replace":
        parent[key] = draw(json_values)
    elif kind == "nudge":
        parent[key] = nudged(draw, target)
    else:  # deep nesting around the value
        depth = draw(st.sampled_from([2, 30, 40, 300]))
        for _ in range(depth):
            target = [target]
        parent[key] = target


@st.composite
def array_mutation(draw, draft):
    arrays = draft["arrays"]
    kind = draw(st.sampled_from(["values", "values", "shape", "dtype", "drop", "add",
                                 "lying header", "truncate", "order"]))
    if kind == "add" or not arrays:
        name = draw(st.sampled_from(MEMBER_NAMES))
        arrays[name] = draw(st.sampled_from([np.ones(3), np.zeros((4, 3)), np.arange(48),
                                             np.array(["a", "b"]), np.ones(0)]))
        return
    name = draw(st.sampled_from(sorted(arrays)))
    array = np.array(arrays[name])
    if kind == "values":
        if array.size:
            flat = array.reshape(-1).copy()
            value = draw(st.sampled_from(SPECIAL))
            count = draw(st.sampled_from([1, flat.size]))
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                try:
                    flat[:count] = np.asarray(value).astype(flat.dtype)
                except (ValueError, TypeError, OverflowError):
                    flat = np.full(flat.shape, value)
            arrays[name] = flat.reshape(array.shape)
    elif kind == "shape":
        shape = list(array.shape)
        change = draw(st.sampled_from(["grow", "shrink", "add axis", "drop axis", "transpose"]))
        if change == "grow" and shape:
            shape[draw(st.integers(0, len(shape) - 1))] += 1
            arrays[name] = np.resize(array, shape)
        elif change == "shrink" and shape:
            axis = draw(st.integers(0, len(shape) - 1))
            arrays[name] = np.take(array, range(max(shape[axis] - 1, 0)), axis=axis)
        elif change == "add axis":
            arrays[name] = array[np.newaxis]
        elif change == "drop axis":
            arrays[name] = array.reshape(-1)
        else:
            arrays[name] = array.T
    elif kind == "dtype":
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                arrays[name] = array.astype(draw(st.sampled_from(DTYPES)))
            except (ValueError, TypeError, OverflowError):
                pass
    elif kind == "drop":
        del arrays[name]
    elif kind == "order":  # the row order and other integer arrays: wrong ints
        if array.dtype.kind in "iu" and array.size:
            flat = array.reshape(-1).copy()
            value = draw(st.sampled_from([0, -1, flat.size, flat.size - 1, 10**12, 2**62]))
            limits = np.iinfo(flat.dtype)
            if limits.min <= value <= limits.max:
                flat[draw(st.integers(0, flat.size - 1))] = value
                arrays[name] = flat.reshape(array.shape)
    else:
        data = npy_bytes(array)
        del arrays[name]
        if kind == "truncate":
            draft["raw"][name] = data[:draw(st.integers(0, len(data) - 1))] if data else data
        else:  # a header that declares another shape than the data holds
            header = io.BytesIO()
            shape = draw(st.sampled_from([(10**12,), (2**40, 2**40), (0,), (3, 0),
                                          tuple(d + 1 for d in array.shape)]))
            np.lib.format.write_array_header_1_0(
                header, {"descr": np.lib.format.dtype_to_descr(array.dtype),
                         "fortran_order": False, "shape": shape})
            draft["raw"][name] = header.getvalue() + array.tobytes()


@st.composite
def damaged_files(draw):
    family = draw(st.sampled_from(sorted(FAMILIES)))
    metadata, arrays = FAMILIES[family]
    draft = {"metadata": copy.deepcopy(metadata), "arrays": dict(arrays), "raw": {}}
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.booleans()):
            draw(json_mutation(draft["metadata"]))
        else:
            draw(array_mutation(draft))
    if draw(st.integers(0, 9)):  # mostly keep the list of arrays true, to get deeper
        if isinstance(draft["metadata"], dict) and "arrays" in draft["metadata"]:
            draft["metadata"]["arrays"] = sorted(set(draft["arrays"]) | set(draft["raw"]))
    text = json.dumps(draft["metadata"])
    if not draw(st.integers(0, 14)):
        cut = draw(st.integers(0, len(text)))
        text = text[:cut] + draw(st.sampled_from(["", "NaN", "]", "{", "\\", '"', "1e999"])) \
            + text[cut:]
    members = {"__fastnn__": npy_bytes(np.frombuffer(text.encode(), dtype=np.uint8))}
    members.update({name: npy_bytes(array) for name, array in draft["arrays"].items()})
    members.update(draft["raw"])
    compression = zipfile.ZIP_DEFLATED if not draw(st.integers(0, 7)) else zipfile.ZIP_STORED
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name + ".npy", data)
    data = bytearray(buffer.getvalue())
    byte_damage = draw(st.sampled_from(["none"] * 9 + ["flip", "truncate", "insert"]))
    if byte_damage == "flip":
        for _ in range(draw(st.integers(1, 4))):
            position = draw(st.integers(0, len(data) - 1))
            data[position] ^= draw(st.integers(1, 255))
    elif byte_damage == "truncate":
        data = data[:draw(st.integers(0, len(data) - 1))]
    elif byte_damage == "insert":
        position = draw(st.integers(0, len(data)))
        data[position:position] = draw(st.binary(min_size=1, max_size=16))
    return family, bytes(data)


# -- the property ---------------------------------------------------------------
@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


def exercise(model, folder):
    """Everything a loaded model must do without an exception."""
    rng = np.random.default_rng(0)
    X_new = rng.standard_normal((30, model.n_features_in_))
    is_classifier = hasattr(model, "classes_")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning, feature names
        for method in ("predict", "predict_proba") if is_classifier else ("predict",):
            try:
                getattr(model, method)(X_new)
            except ValueError as error:  # the documented refusal for overflowing inputs
                assert "the network overflowed" in str(error), error
        if is_classifier:
            y = np.resize(model.classes_, 30)
        else:
            y = np.zeros(30) if model._y_is_1d else np.zeros((30, model.n_outputs_))
        model.partial_fit(X_new, y)
        model.save(folder / "again.npz")
        again = fastnn.load(folder / "again.npz")
        assert type(again) is type(model) and again.n_iter_ == model.n_iter_


def archive_bytes(metadata, arrays):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("__fastnn__.npy", npy_bytes(np.frombuffer(
            json.dumps(metadata).encode(), dtype=np.uint8)))
        for name, array in arrays.items():
            archive.writestr(name + ".npy", npy_bytes(array))
    return buffer.getvalue()


# The starting points, unmutated: these must load and work (so the fuzz
# explores around real files, not around files refused anyway).
PRISTINE = {family: archive_bytes(*parts) for family, parts in FAMILIES.items()}


def with_pristine_examples(test):
    for family in sorted(PRISTINE):
        test = example(case=(family, PRISTINE[family]))(test)
    return test


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@with_pristine_examples
@given(damaged_files())
def test_load_refuses_damage_or_returns_a_working_model(folder, case):
    family, data = case
    path = folder / "candidate.npz"
    path.write_bytes(data)
    try:
        model = fastnn.load(path)
    except ValueError as error:
        assert data != PRISTINE[family], f"a valid {family} file was refused: {error}"
        message = str(error)
        assert (message.startswith(f"{path} is not a fastnn model file: ")
                or message.startswith(f"{path} is a damaged fastnn model file: ")), message
        return
    exercise(model, folder)
