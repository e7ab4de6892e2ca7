"""Saving and loading fitted models in a portable format that never runs code.

A model file is a NumPy ``.npz`` archive (loaded with ``allow_pickle=False``):

- ``__fastnn__``: UTF-8 JSON, as bytes: ``{"format": "fastnn-model", "version": 1,
  "estimator": class name, "params": get_params(), "attributes": {...},
  "arrays": {...}}``;
- ``coefs_0``, ``intercepts_0``, ... and the other arrays the JSON names.

Only the four fastnn estimators can be stored and rebuilt; anything else in a
file (another class, another format version, a damaged archive) is refused
with a ValueError that says what is wrong.
"""
import json
import zipfile

import numpy as np

FORMAT = "fastnn-model"
VERSION = 1
_METADATA = "__fastnn__"
# Fitted scalars kept as JSON (arrays are stored beside them).
_SCALARS = ("n_iter_", "n_features_in_", "n_outputs_", "_y_is_1d", "_n_steps")


def _estimator_classes():
    from fastnn.linear import LogisticRegression
    from fastnn.network import DeepNetwork, ShallowNetwork
    from fastnn.regressor import DeepRegressor
    return {cls.__name__: cls for cls in (LogisticRegression, ShallowNetwork, DeepNetwork,
                                          DeepRegressor)}


def save(model, path):
    """Write a fitted fastnn model to `path` (an .npz file)."""
    from sklearn.utils.validation import check_is_fitted
    check_is_fitted(model, "coefs_")
    arrays = {}
    params = model.get_params(deep=False)
    if not isinstance(params["init"], str):
        coefs, intercepts = params["init"]
        for l, (W, b) in enumerate(zip(coefs, intercepts)):
            arrays[f"init_coefs_{l}"] = np.asarray(W)
            arrays[f"init_intercepts_{l}"] = np.asarray(b)
        params["init"] = {"explicit_layers": len(coefs)}
    if not (params["random_state"] is None or isinstance(params["random_state"], (int, np.integer))):
        raise TypeError("save() stores random_state only as an int or None; "
                        f"got {type(params['random_state']).__name__}")
    params = {name: _jsonable(value) for name, value in params.items()}
    for l, (W, b) in enumerate(zip(model.coefs_, model.intercepts_)):
        arrays[f"coefs_{l}"] = W
        arrays[f"intercepts_{l}"] = b
    arrays["costs_"] = model.costs_
    attributes = {name: _jsonable(getattr(model, name)) for name in _SCALARS
                  if hasattr(model, name)}
    if hasattr(model, "classes_"):
        classes = model.classes_
        if classes.dtype == object:
            if not all(isinstance(label, str) for label in classes):
                raise TypeError("save() stores class labels that are numbers, booleans or "
                                "strings; these are of mixed or other types")
            attributes["classes_object_strings"] = True
            classes = classes.astype(str)
        arrays["classes_"] = classes
    if hasattr(model, "feature_names_in_"):
        arrays["feature_names_in_"] = model.feature_names_in_.astype(str)
    for slot, moment in enumerate(getattr(model, "_moments", None) or ()):
        if moment is not None:
            arrays[f"_moment_{slot}"] = moment
    if getattr(model, "_order", None) is not None:
        arrays["_order"] = model._order
    if hasattr(model, "_random_streams"):
        attributes["_random_streams"] = [stream.state for stream in model._random_streams]
    metadata = {"format": FORMAT, "version": VERSION, "estimator": type(model).__name__,
                "params": params, "attributes": attributes,
                "n_layers": len(model.coefs_), "arrays": sorted(arrays)}
    arrays[_METADATA] = np.frombuffer(json.dumps(metadata).encode("utf-8"), dtype=np.uint8)
    with open(path, "wb") as file:
        np.savez(file, **arrays)


def load(path):
    """Read a model written by `save`; never executes code from the file."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            if _METADATA not in archive.files:
                raise ValueError(f"{path!s} is not a fastnn model file (no {_METADATA} entry)")
            metadata = json.loads(archive[_METADATA].tobytes().decode("utf-8"))
            arrays = {name: archive[name] for name in archive.files if name != _METADATA}
    except (zipfile.BadZipFile, EOFError, OSError, UnicodeDecodeError,
            json.JSONDecodeError) as error:
        raise ValueError(f"{path!s} is not a readable fastnn model file: {error}") from None
    except ValueError as error:
        if "fastnn model file" in str(error):
            raise
        raise ValueError(f"{path!s} is not a readable fastnn model file: {error}") from None
    return _rebuild(metadata, arrays, path)


def _rebuild(metadata, arrays, path):
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise ValueError(f"{path!s} is not a fastnn model file (unknown format)")
    if metadata.get("version") != VERSION:
        raise ValueError(f"{path!s} has format version {metadata.get('version')!r}; this "
                         f"fastnn reads version {VERSION}")
    classes = _estimator_classes()
    name = metadata.get("estimator")
    if name not in classes:
        raise ValueError(f"{path!s} holds an unknown estimator {name!r}")
    try:
        params = dict(metadata["params"])
        if isinstance(params.get("init"), dict):
            layers = int(params["init"]["explicit_layers"])
            params["init"] = ([arrays[f"init_coefs_{l}"] for l in range(layers)],
                              [arrays[f"init_intercepts_{l}"] for l in range(layers)])
        for key in ("hidden_layer_sizes", "keep_prob"):
            if isinstance(params.get(key), list):
                params[key] = tuple(params[key])
        model = classes[name](**params)
        n_layers = int(metadata["n_layers"])
        model.coefs_ = [arrays[f"coefs_{l}"] for l in range(n_layers)]
        model.intercepts_ = [arrays[f"intercepts_{l}"] for l in range(n_layers)]
        model.costs_ = arrays["costs_"]
        attributes = metadata["attributes"]
        for key in _SCALARS:
            if key in attributes:
                setattr(model, key, attributes[key])
        if "classes_" in arrays:
            model.classes_ = arrays["classes_"]
            if attributes.get("classes_object_strings"):
                model.classes_ = model.classes_.astype(object)
        if "feature_names_in_" in arrays:
            model.feature_names_in_ = arrays["feature_names_in_"].astype(object)
        model._moments = tuple(arrays.get(f"_moment_{slot}") for slot in range(2))
        model._order = arrays.get("_order")
        if "_random_streams" in attributes:
            streams = []
            for state in attributes["_random_streams"]:
                stream = np.random.PCG64()
                stream.state = state
                streams.append(stream)
            model._random_streams = tuple(streams)
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{path!s} is a damaged fastnn model file: {error!r}") from None
    _check_shapes(model, path)
    return model


def _check_shapes(model, path):
    """The layers must chain and hold finite real numbers of one dtype."""
    coefs, intercepts = model.coefs_, model.intercepts_
    dtype = coefs[0].dtype
    ok = dtype in (np.float32, np.float64) and all(
        W.ndim == 2 and b.shape == (W.shape[1],) and W.dtype == dtype and b.dtype == dtype
        and np.all(np.isfinite(W)) and np.all(np.isfinite(b))
        for W, b in zip(coefs, intercepts))
    ok = ok and all(a.shape[1] == b.shape[0] for a, b in zip(coefs[:-1], coefs[1:]))
    ok = ok and coefs[0].shape[0] == getattr(model, "n_features_in_", coefs[0].shape[0])
    if not ok:
        raise ValueError(f"{path!s} is a damaged fastnn model file: inconsistent layers")


def _jsonable(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (tuple, list)):
        return [_jsonable(item) for item in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, type):
        return np.dtype(value).name
    if isinstance(value, np.dtype):
        return value.name
    return value
