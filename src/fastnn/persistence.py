"""Saving and loading fitted models in a portable format that never runs code.

A model file is a ZIP archive of NumPy ``.npy`` members, as ``np.savez``
writes it (members stored uncompressed), never holding pickled objects:

- ``__fastnn__``: UTF-8 JSON, as a 1-D uint8 array: ``{"format": "fastnn-model",
  "version": 1, "estimator": class name, "params": get_params(), "attributes":
  {...}, "n_layers": number of layers, "arrays": sorted names of the other members}``;
- ``coefs_0``, ``intercepts_0``, ... ``costs_`` and the other arrays of the
  fitted state (``classes_``, ``feature_names_in_``, ``dev_costs_``, the
  optimiser's moments ``_moment_0`` / ``_moment_1``, the row order ``_order``,
  an explicit ``init`` as ``init_coefs_<l>`` / ``init_intercepts_<l>``).

Only the four fastnn estimators can be stored and rebuilt. `load` treats a
file as hostile until it has checked all of it: the archive's structure, the
size of every member (the JSON at most 1 MiB and 32 levels deep; each array's
.npy header is read and its dtype and shape checked against what the JSON and
the model imply before any of its data is read; compressed members expand to
at most 64 MiB in all), the parameters (the estimator's own validation), the
layer chain, dtypes, finiteness, the row order (a permutation) and the random
streams. Anything wrong is a ValueError, "<file> is not a fastnn model file:
..." or "<file> is a damaged fastnn model file: ...", naming the problem; no
model is built from a file that fails any check.
"""
import errno
import io
import json
import os
import re
import struct
import tempfile
import zipfile

import numpy as np

# save copies the model while no fit swaps its state in: one fit's state, whole
from fastnn._fit_state import state_copy
from fastnn._training import TrainingState
from fastnn._constraints import MAX_LAYER_WIDTH

FORMAT = "fastnn-model"
VERSION = 1
_METADATA = "__fastnn__"
_NPY = ".npy"

# Bounds on what a file may ask of the reader.
_MAX_METADATA_BYTES = 1 << 20   # the JSON
_MAX_JSON_DEPTH = 32
_MAX_HEADER_BYTES = 10000       # one .npy header (NumPy's own limit)
_MAX_INFLATED_BYTES = 64 << 20  # all compressed members together, once expanded
_MAX_LAYERS = 10000
_MAX_COUNT = 2**62              # epochs and steps (64-bit ints in the core)

_TOP_KEYS = {"format", "version", "estimator", "params", "attributes", "n_layers", "arrays"}
_BOOLEAN_PARAMS = {"shuffle", "warm_start", "early_stopping", "verbose"}
# Fitted values kept in the JSON (arrays are stored beside them).
_COMMON_ATTRIBUTES = ("n_iter_", "n_features_in_", "_n_steps", "_split_seed",
                      "best_iteration_", "_random_streams")
# Of those, the TrainingState's (with the arrays _moment_0, _moment_1, _order).
_STATE_ATTRIBUTES = ("_n_steps", "_split_seed", "_random_streams")
_REGRESSOR_ATTRIBUTES = ("n_outputs_", "_y_is_1d")
_CLASSIFIER_ATTRIBUTES = ("classes_object_strings",)
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


class _Refused(Exception):
    """A check failed: `damaged` False means the file is not a fastnn model
    file at all, True that it is one whose contents are wrong."""

    def __init__(self, problem, damaged=True):
        super().__init__(problem)
        self.damaged = damaged


# The estimator classes a file may name, by class name: each registers
# itself when defined (fastnn._base.DenseEstimator.__init_subclass__), so
# this module imports no estimator (and the estimators can import it).
_ESTIMATOR_CLASSES = {}


def register(cls):
    """Let files store and rebuild models of class `cls`."""
    _ESTIMATOR_CLASSES[cls.__name__] = cls
    return cls


def _estimator_classes():
    return dict(_ESTIMATOR_CLASSES)


def _is_classifier(cls):
    return hasattr(cls, "predict_proba")


# -- save ------------------------------------------------------------------
def save(model, path):
    """Write a fitted fastnn model to `path` (a .npz file; see the module doc).

    `path` is a str or os.PathLike: the file is written beside the target
    under a temporary name, flushed to disk and then renamed onto `path` in
    one step, so `path` always holds either the previous file or the whole
    new one, also when the save fails (the exception propagates and the
    temporary file is removed) or the process is killed. `path` may also be a
    binary file object opened for writing: the archive is then built in
    memory and written to it in one call (no atomicity).

    `callbacks` are code and a file never holds code: the file stores
    callbacks=None, and the loaded model has callbacks=None.

    Before writing, the file's contents go through the checks `load` makes
    (a model whose parameters were set to values that do not fit its fitted
    state, e.g. other hidden_layer_sizes, is refused with a ValueError), so
    whatever `save` writes, `load` reads.
    """
    name = _describe(path)
    arrays, metadata_bytes = _serialise(state_copy(model), name)
    try:
        _rebuild(_parse_metadata(metadata_bytes), _InMemory(arrays))
    except _Refused as refused:
        raise ValueError(f"cannot save {type(model).__name__} to {name}: {refused}") from None
    if hasattr(path, "write"):
        buffer = io.BytesIO()
        _write_archive(buffer, metadata_bytes, arrays)
        path.write(buffer.getvalue())
        return
    atomic_write(os.fspath(path), lambda file: _write_archive(file, metadata_bytes, arrays))


def _serialise(model, name):
    """(arrays, JSON bytes) of the file for `model`."""
    from sklearn.utils.validation import check_is_fitted
    check_is_fitted(model, "coefs_")
    for attribute in ("intercepts_", "costs_", "n_iter_"):
        if not hasattr(model, attribute):
            raise ValueError(f"cannot save {type(model).__name__} to {name}: it has coefs_ "
                             f"but no {attribute} (fit it, or set every fitted attribute)")
    arrays = {}
    params = model.get_params(deep=False)
    if "callbacks" in params:
        params["callbacks"] = None  # code is never stored
    if not isinstance(params["init"], str):
        try:
            coefs, intercepts = params["init"]
            coefs, intercepts = list(coefs), list(intercepts)
        except (TypeError, ValueError):
            raise ValueError(f"cannot save to {name}: init must be a string or a pair "
                             "(coefs, intercepts) of lists of arrays") from None
        if len(coefs) != len(intercepts):
            raise ValueError(f"cannot save to {name}: init holds {len(coefs)} weight "
                             f"matrices but {len(intercepts)} bias vectors")
        for l, (W, b) in enumerate(zip(coefs, intercepts)):
            arrays[f"init_coefs_{l}"] = _plain_array(W, f"init coefs[{l}]", name)
            arrays[f"init_intercepts_{l}"] = _plain_array(b, f"init intercepts[{l}]", name)
        params["init"] = {"explicit_layers": len(coefs)}
    if not (params["random_state"] is None
            or (isinstance(params["random_state"], (int, np.integer))
                and not isinstance(params["random_state"], bool))):
        raise TypeError("save() stores random_state only as an int or None; "
                        f"got {type(params['random_state']).__name__}")
    params = {key: _jsonable(value) for key, value in params.items()}
    for l, (W, b) in enumerate(zip(model.coefs_, model.intercepts_)):
        arrays[f"coefs_{l}"] = np.asarray(W)
        arrays[f"intercepts_{l}"] = np.asarray(b)
    arrays["costs_"] = np.asarray(model.costs_)
    attributes = {key: _jsonable(getattr(model, key))
                  for key in _COMMON_ATTRIBUTES + _REGRESSOR_ATTRIBUTES
                  if key not in _STATE_ATTRIBUTES and hasattr(model, key)}
    if hasattr(model, "dev_costs_"):
        arrays["dev_costs_"] = np.asarray(model.dev_costs_)
        attributes.setdefault("best_iteration_", None)
    if hasattr(model, "classes_"):
        classes = np.asarray(model.classes_)
        if classes.dtype == object:
            if not all(isinstance(label, str) for label in classes):
                raise TypeError("save() stores class labels that are numbers, booleans or "
                                "strings; these are of mixed or other types")
            attributes["classes_object_strings"] = True
            classes = classes.astype(str)
        arrays["classes_"] = classes
    if hasattr(model, "feature_names_in_"):
        arrays["feature_names_in_"] = np.asarray(model.feature_names_in_).astype(str)
    state = getattr(model, "_training_state", None)
    if state is not None:
        # The TrainingState, whole (its epochs are n_iter_).
        if state.epochs != model.n_iter_:
            raise ValueError(f"cannot save {type(model).__name__} to {name}: n_iter_ is "
                             f"{model.n_iter_} but its training state counts {state.epochs} epochs")
        attributes["_n_steps"] = int(state.steps)
        attributes["_split_seed"] = int(state.split_seed)
        attributes["_random_streams"] = [state.shuffle_stream.state, state.dropout_stream.state]
        for slot, moment in enumerate(state.moments or ()):
            if moment is not None:
                arrays[f"_moment_{slot}"] = np.asarray(moment)
        if state.order is not None:
            arrays["_order"] = np.asarray(state.order)
    metadata = {"format": FORMAT, "version": VERSION, "estimator": type(model).__name__,
                "params": params, "attributes": attributes,
                "n_layers": len(model.coefs_), "arrays": sorted(arrays)}
    try:
        text = json.dumps(metadata, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"cannot save {type(model).__name__} to {name}: a parameter or "
                         f"attribute cannot be stored as JSON ({error})") from None
    return arrays, text.encode("utf-8")


def _plain_array(value, what, name):
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"cannot save to {name}: {what} must be a real numeric array; "
                         f"got dtype {array.dtype}")
    return array


def _write_archive(file, metadata_bytes, arrays):
    """The archive np.savez writes (members stored), without pickles."""
    members = {_METADATA: np.frombuffer(metadata_bytes, dtype=np.uint8), **arrays}
    with zipfile.ZipFile(file, mode="w", compression=zipfile.ZIP_STORED,
                         allowZip64=True) as archive:
        for key, array in members.items():
            with archive.open(key + _NPY, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asarray(array), allow_pickle=False)


def atomic_write(target, write):
    """Replace the file `target` in one step: `write(file)` fills a
    temporary file beside it (binary), which is flushed to disk and renamed
    onto `target`, so `target` holds either its previous contents or the whole
    new file, also when `write` fails (the exception propagates and the
    temporary file is removed) or the process is killed. The new file keeps
    the old one's permissions (a new one gets the umask's). `save` and the
    command line's `export` write through it."""
    target = os.path.realpath(target)  # a symbolic link stays one, pointing at the new file
    folder, base = os.path.split(target)
    try:
        mode = os.stat(target).st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=f".{base}.", suffix=".tmp", dir=folder)
    except FileNotFoundError:  # as open(target, "wb") would say
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), target) from None
    try:
        with os.fdopen(descriptor, "wb") as file:
            write(file)
            file.flush()
            if hasattr(os, "fchmod"):
                os.fchmod(file.fileno(), mode)  # mkstemp's 0600 would be private
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    _fsync_folder(folder)


def _umask():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_folder(folder):
    """Make the rename itself durable, where the system allows it."""
    try:
        descriptor = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _jsonable(value):
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, (tuple, list)):
        return [_jsonable(item) for item in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, type):
        return np.dtype(value).name
    if isinstance(value, np.dtype):
        return value.name
    return value


# -- load ------------------------------------------------------------------
def load(path):
    """Read a model written by `save`; never executes code from the file.

    `path` is a str, an os.PathLike or a seekable binary file object. A
    missing file raises FileNotFoundError; a file that is not a fastnn model,
    or a damaged one, raises ValueError naming the file and the problem
    (see the module doc for what is checked).
    """
    name = _describe(path)
    if hasattr(path, "read"):
        return _load(path, name)
    with open(os.fspath(path), "rb") as file:
        return _load(file, name)


def _describe(path):
    if hasattr(path, "read") or hasattr(path, "write"):
        return str(getattr(path, "name", repr(path)))
    try:
        return os.fsdecode(os.fspath(path))
    except TypeError:
        raise TypeError(f"path must be a str, an os.PathLike or a binary file object; got "
                        f"{type(path).__name__}") from None


def _load(file, name):
    try:
        try:
            size = file.seek(0, io.SEEK_END)
            file.seek(0)
        except (OSError, ValueError) as error:
            raise ValueError(f"cannot load {name}: it is not a seekable binary file "
                             f"({error})") from None
        try:
            archive = zipfile.ZipFile(file)
        except Exception as error:  # whatever the zip reader makes of arbitrary bytes
            raise _Refused(f"not a ZIP archive (or a truncated one): {error}",
                           damaged=False) from None
        with archive:
            return _rebuild_from_archive(archive, size)
    except _Refused as refused:
        kind = "a damaged" if refused.damaged else "not a"
        raise ValueError(f"{name} is {kind} fastnn model file: {refused}") from None


class _InMemory:
    """The arrays `save` is about to write, seen as load sees an archive."""

    def __init__(self, arrays):
        self.arrays = arrays

    def names(self):
        return set(self.arrays)

    def verify(self):
        pass

    def header(self, key):
        array = self.arrays[key]
        if array.dtype.hasobject:
            raise _Refused(f"{key} holds Python objects (dtype {array.dtype})")
        return array.dtype, array.shape

    def data(self, key):
        return self.arrays[key]


class _Archive:
    """The members of a zip archive, read only as far as asked for."""

    def __init__(self, archive, size):
        self.archive = archive
        self.members = {}
        self.headers = {}
        # The first problem of the archive's structure, said once the
        # metadata has shown the file is a fastnn model (until then a file
        # with odd members is just not one).
        self.problem = None
        compressed_bytes = inflated_bytes = 0
        for info in archive.infolist():
            filename = info.filename
            if not filename.endswith(_NPY) or info.is_dir() or "/" in filename:
                self._note(f"unexpected member {_short(filename)} (every member is a .npy "
                           "array)")
                continue
            key = filename[:-len(_NPY)]
            if key in self.members:
                self._note(f"the member {_short(filename)} appears twice")
                continue
            if info.flag_bits & 0x1:
                self._note(f"the member {_short(filename)} is encrypted")
            if info.compress_type == zipfile.ZIP_STORED:
                if info.compress_size != info.file_size:
                    self._note(f"the stored member {_short(filename)} declares "
                               f"{info.file_size} bytes but occupies {info.compress_size}")
            elif info.compress_type == zipfile.ZIP_DEFLATED:
                inflated_bytes += info.file_size
            else:
                self._note(f"the member {_short(filename)} uses compression method "
                           f"{info.compress_type} (only stored or deflated members)")
            if info.header_offset < 0 or info.header_offset + info.compress_size > size:
                self._note(f"the member {_short(filename)} claims bytes beyond the file's end")
            compressed_bytes += info.compress_size
            self.members[key] = info
        if compressed_bytes > size:
            self._note(f"the members claim {compressed_bytes} bytes in a file of {size} "
                       "(overlapping members)")
        if inflated_bytes > _MAX_INFLATED_BYTES:
            self._note(f"the compressed members would expand to {inflated_bytes} bytes, more "
                       f"than the {_MAX_INFLATED_BYTES} allowed (fastnn writes members "
                       "uncompressed)")

    def _note(self, problem):
        if self.problem is None:
            self.problem = problem

    def verify(self):
        if self.problem is not None:
            raise _Refused(self.problem)

    def names(self):
        return set(self.members) - {_METADATA}

    def header(self, key):
        """(dtype, shape) from the member's .npy header; its data unread."""
        if key not in self.headers:
            self.headers[key] = self._read_header(key)
        dtype, shape, _, _ = self.headers[key]
        return dtype, shape

    def _read_header(self, key):
        info = self.members[key]
        try:
            with self.archive.open(info) as member:
                prefix = member.read(8)
                if len(prefix) < 8 or prefix[:6] != b"\x93NUMPY":
                    raise _Refused(f"the member {key} is not a .npy array")
                version = tuple(prefix[6:8])
                if version not in ((1, 0), (2, 0)):
                    raise _Refused(f"the member {key} has .npy format version "
                                   f"{version[0]}.{version[1]} (only 1.0 and 2.0)")
                length_format = "<H" if version == (1, 0) else "<I"
                length_bytes = member.read(struct.calcsize(length_format))
                if len(length_bytes) != struct.calcsize(length_format):
                    raise _Refused(f"the member {key} ends inside its .npy header")
                (length,) = struct.unpack(length_format, length_bytes)
                if length > _MAX_HEADER_BYTES:
                    raise _Refused(f"the member {key} has a .npy header of {length} bytes "
                                   f"(at most {_MAX_HEADER_BYTES})")
                header = member.read(length)
                if len(header) != length:
                    raise _Refused(f"the member {key} ends inside its .npy header")
        except _Refused:
            raise
        except Exception as error:  # zip-level damage: CRC, truncation, bad local header
            raise _Refused(f"the member {key} cannot be read: {error}") from None
        stream = io.BytesIO(prefix + length_bytes + header)
        try:
            np.lib.format.read_magic(stream)
            reader = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                      else np.lib.format.read_array_header_2_0)
            shape, fortran_order, dtype = reader(stream, max_header_size=_MAX_HEADER_BYTES)
        except Exception as error:  # NumPy's parse of an arbitrary header
            raise _Refused(f"the member {key} has an unreadable .npy header: {error}") from None
        if (not isinstance(shape, tuple) or not all(
                isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
                or not isinstance(fortran_order, bool)):
            raise _Refused(f"the member {key} has an invalid .npy header")
        if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
            raise _Refused(f"the member {key} has dtype {dtype}, not plain numbers or text")
        offset = len(prefix) + len(length_bytes) + len(header)
        count = 1
        for d in shape:
            count *= d
        if info.file_size != offset + count * dtype.itemsize:
            raise _Refused(f"the member {key} declares {info.file_size} bytes, but its header "
                           f"(shape {shape}, dtype {dtype}) implies "
                           f"{offset + count * dtype.itemsize}")
        return dtype, shape, fortran_order, offset

    def data(self, key):
        """The member's array, read after its header has been checked."""
        dtype, shape, fortran_order, offset = self.headers[key]
        nbytes = self.members[key].file_size - offset
        try:
            with self.archive.open(self.members[key]) as member:
                member.read(offset)
                data = member.read(nbytes)
                if len(data) != nbytes or member.read(1):
                    raise _Refused(f"the member {key} does not hold the {nbytes} bytes of "
                                   "data its header implies")
        except _Refused:
            raise
        except Exception as error:
            raise _Refused(f"the member {key} cannot be read: {error}") from None
        array = np.frombuffer(bytearray(data), dtype=dtype)
        if fortran_order:
            return np.ascontiguousarray(array.reshape(shape[::-1]).T)
        return array.reshape(shape)

    def metadata(self):
        if _METADATA not in self.members:
            raise _Refused(f"no {_METADATA} member", damaged=False)
        try:
            dtype, shape = self.header(_METADATA)
            if dtype != np.uint8 or len(shape) != 1:
                raise _Refused(f"its {_METADATA} member is not a 1-D uint8 array")
            if shape[0] > _MAX_METADATA_BYTES:
                raise _Refused(f"its {_METADATA} member holds {shape[0]} bytes of JSON "
                               f"(at most {_MAX_METADATA_BYTES})")
            return _parse_metadata(self.data(_METADATA).tobytes())
        except _Refused as refused:
            # Until the JSON names the format, the file is not known to be one.
            raise _Refused(str(refused), damaged=False) from None


def _rebuild_from_archive(archive, size):
    archive = _Archive(archive, size)
    return _rebuild(archive.metadata(), archive)


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)


def _parse_metadata(raw):
    if len(raw) > _MAX_METADATA_BYTES:
        raise _Refused(f"its metadata is {len(raw)} bytes (at most {_MAX_METADATA_BYTES})",
                       damaged=False)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _Refused(f"its metadata is not UTF-8 ({error})", damaged=False) from None
    # Nesting depth, counted outside strings, before the (recursive) parser runs.
    skeleton = np.frombuffer(_JSON_STRING.sub("", text).encode("utf-8"), dtype=np.uint8)
    steps = (np.isin(skeleton, (ord("["), ord("{"))).astype(np.int64)
             - np.isin(skeleton, (ord("]"), ord("}"))))
    if steps.size and np.cumsum(steps).max() > _MAX_JSON_DEPTH:
        raise _Refused(f"its metadata nests deeper than {_MAX_JSON_DEPTH} levels",
                       damaged=False)

    def no_constant(constant):
        raise ValueError(f"{constant} is not a number a model file holds")

    def finite_float(literal):
        value = float(literal)
        if not np.isfinite(value):
            raise ValueError(f"{literal} is out of range")
        return value

    def no_duplicates(pairs):
        result = dict(pairs)
        if len(result) != len(pairs):
            raise ValueError("an object names a key twice")
        return result

    try:
        return json.loads(text, parse_constant=no_constant, parse_float=finite_float,
                          object_pairs_hook=no_duplicates)
    except (ValueError, RecursionError) as error:
        raise _Refused(f"its metadata is not valid JSON ({error})", damaged=False) from None


# -- the checks ------------------------------------------------------------
def _int(value, what, low, high):
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise _Refused(f"{what} must be an int in [{low}, {high}]; got {_short(value)}")
    return value


def _short(value):
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _rebuild(metadata, source):
    """The model the metadata and arrays describe, after every check."""
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise _Refused(f"no {FORMAT!r} format marker in its metadata", damaged=False)
    version = metadata.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version != VERSION:
        raise _Refused(f"format version {_short(version)}, and this fastnn reads only "
                       f"version {VERSION}", damaged=False)
    classes = _estimator_classes()
    estimator = metadata.get("estimator")
    if not isinstance(estimator, str) or estimator not in classes:
        raise _Refused(f"unknown estimator {_short(estimator)} (known: "
                       f"{', '.join(sorted(classes))})", damaged=False)
    cls = classes[estimator]
    source.verify()
    _same_keys(metadata, _TOP_KEYS, "its metadata")
    model, explicit_layers = _model_with_params(cls, metadata["params"])
    hidden = _family_check(model, model._hidden_layer_sizes, "hidden layer sizes")
    n_layers = _int(metadata["n_layers"], "n_layers", 1, _MAX_LAYERS)
    if n_layers != len(hidden) + 1:
        raise _Refused(f"n_layers is {n_layers} but the parameters give {len(hidden)} hidden "
                       f"layers, so {len(hidden) + 1} layers")
    _family_check(model, lambda: model._keep_probs(n_layers), "keep_prob")
    attributes = _checked_attributes(cls, metadata["attributes"])

    # Which members there must be, may be, and nothing else.
    names = metadata["arrays"]
    if (not isinstance(names, list) or not all(isinstance(n, str) for n in names)
            or names != sorted(set(names))):
        raise _Refused("its list of arrays is not a sorted list of distinct names")
    required = {f"{part}_{l}" for part in ("coefs", "intercepts") for l in range(n_layers)}
    required.add("costs_")
    if explicit_layers is not None:
        required |= {f"init_{part}_{l}" for part in ("coefs", "intercepts")
                     for l in range(explicit_layers)}
    if _is_classifier(cls):
        required.add("classes_")
    if "best_iteration_" in attributes:
        required.add("dev_costs_")
    optional = {"feature_names_in_", "_moment_0", "_moment_1", "_order"}
    present = source.names()
    if set(names) != present:
        raise _Refused(f"its metadata lists the arrays {_names(set(names))} but it holds "
                       f"{_names(present)}")
    if required - present:
        raise _Refused(f"missing arrays: {_names(required - present)}")
    if present - required - optional:
        raise _Refused(f"unexpected arrays: {_names(present - required - optional)}")

    # Every shape and dtype, from the headers alone, before any data is read.
    n_features = attributes["n_features_in_"]
    if _is_classifier(cls):
        dtype, shape = source.header("classes_")
        if len(shape) != 1 or dtype.kind not in "biufUS":
            raise _Refused(f"classes_ must be a 1-D array of numbers or strings; got shape "
                           f"{shape}, dtype {dtype}")
        n_classes = shape[0]
        if n_classes < 2 or (cls._max_classes is not None and n_classes > cls._max_classes):
            most = "" if cls._max_classes is None else f" and at most {cls._max_classes}"
            raise _Refused(f"{estimator} needs at least 2 classes{most}; classes_ holds "
                           f"{n_classes}")
        if attributes.get("classes_object_strings") and dtype.kind != "U":
            raise _Refused("classes_object_strings is set but classes_ are not strings")
        n_outputs = 1 if n_classes == 2 else n_classes
    else:
        n_outputs = attributes["n_outputs_"]
        if attributes["_y_is_1d"] and n_outputs != 1:
            raise _Refused(f"_y_is_1d is set but n_outputs_ is {n_outputs}")
    sizes = (n_features, *hidden, n_outputs)
    weights = [source.header(f"coefs_{l}") for l in range(n_layers)]
    dtype = weights[0][0]
    if dtype not in _FLOATS:
        raise _Refused(f"coefs_0 has dtype {dtype}; the weights must be float32 or float64")
    for l, (layer_dtype, shape) in enumerate(weights):
        if len(shape) != 2:
            raise _Refused(f"coefs_{l} has shape {shape}; weight matrices are 2-D")
        if layer_dtype != dtype:
            raise _Refused(f"coefs_{l} has dtype {layer_dtype} but coefs_0 has {dtype} (one "
                           "dtype for all layers)")
        if l and shape[0] != weights[l - 1][1][1]:
            raise _Refused(f"the layers do not chain: coefs_{l - 1} has shape "
                           f"{weights[l - 1][1]} and coefs_{l} has shape {shape}")
    stored = (weights[0][1][0], *(shape[1] for _, shape in weights))
    if stored[0] != n_features:
        raise _Refused(f"n_features_in_ is {n_features} but coefs_0 has {stored[0]} rows")
    if stored[1:-1] != hidden:
        raise _Refused(f"the parameters give hidden layer widths {hidden} but the stored "
                       f"layers have {stored[1:-1]}")
    if stored[-1] != n_outputs:
        if _is_classifier(cls):
            raise _Refused(f"classes_ holds {n_classes} labels, which need {n_outputs} output "
                           f"unit{'s' if n_outputs > 1 else ''}, but the last layer has "
                           f"{stored[-1]}")
        raise _Refused(f"n_outputs_ is {n_outputs} but the last layer has {stored[-1]} units")
    for l in range(n_layers):
        _expect(source, f"intercepts_{l}", (dtype,), (sizes[l + 1],))
    n_params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    n_iter = attributes["n_iter_"]
    _expect(source, "costs_", (np.dtype(np.float64),), None, most=n_iter)
    if "dev_costs_" in present:
        # one per epoch counted (of the last call with a development set)
        _expect(source, "dev_costs_", (np.dtype(np.float64),), None, most=n_iter)
    for slot in (0, 1):
        if f"_moment_{slot}" in present:
            _expect(source, f"_moment_{slot}", (dtype,), (n_params,))
    if "feature_names_in_" in present:
        names_dtype, shape = source.header("feature_names_in_")
        if names_dtype.kind != "U" or shape != (n_features,):
            raise _Refused(f"feature_names_in_ must be {n_features} strings; got shape "
                           f"{shape}, dtype {names_dtype}")
    if "_order" in present:
        order_dtype, shape = source.header("_order")
        if (order_dtype.kind not in "iu" or order_dtype.itemsize > 8 or len(shape) != 1
                or not order_dtype.isnative):
            raise _Refused(f"_order must be a 1-D array of native integers; got shape "
                           f"{shape}, dtype {order_dtype}")
    for l in range(explicit_layers or 0):
        for part, shape in (("coefs", (sizes[l], sizes[l + 1])), ("intercepts", (sizes[l + 1],))):
            init_dtype, init_shape = source.header(f"init_{part}_{l}")
            if init_dtype.kind not in "biuf" or init_dtype.itemsize > 8 or init_shape != shape:
                raise _Refused(f"init_{part}_{l} must be real numbers of shape {shape} (the "
                               f"fitted layers); got shape {init_shape}, dtype {init_dtype}")
    if explicit_layers is not None and explicit_layers != n_layers:
        raise _Refused(f"init holds {explicit_layers} layers but the model has {n_layers}")

    # The data, and what it must hold.
    arrays = {key: source.data(key) for key in sorted(present)}
    for key in [f"{part}_{l}" for l in range(n_layers) for part in ("coefs", "intercepts")] + [
            key for key in ("_moment_0",) if key in arrays]:
        if not np.all(np.isfinite(arrays[key])):
            raise _Refused(f"{key} holds NaN or infinite values")
    # The running mean of squared gradients is >= 0; it may be +inf: training
    # leaves that where a gradient's square overflowed (its steps are then 0).
    if "_moment_1" in arrays and not np.all(arrays["_moment_1"] >= 0):
        raise _Refused("_moment_1 (running mean of squared gradients) holds negative values "
                       "or NaN")
    for key in [k for k in arrays if k.startswith("init_")]:
        if not np.all(np.isfinite(arrays[key])):
            raise _Refused(f"{key} holds NaN or infinite values")
    if _is_classifier(cls):
        labels = arrays["classes_"]
        if labels.dtype.kind == "f" and not np.all(np.isfinite(labels)):
            raise _Refused("classes_ holds NaN or infinite labels")
        if not np.array_equal(np.unique(labels), labels):
            raise _Refused("classes_ must be distinct and sorted")
    if "_order" in arrays:
        order = arrays["_order"]
        seen = np.zeros(order.shape[0], dtype=bool)
        if order.size and (order.min() < 0 or order.max() >= order.shape[0]):
            raise _Refused(f"_order must be a permutation of range({order.shape[0]}); it holds "
                           f"values from {order.min()} to {order.max()}")
        seen[order] = True
        if not seen.all():
            raise _Refused(f"_order must be a permutation of range({order.shape[0]}); it "
                           "repeats rows")
    best = attributes.get("best_iteration_")
    if best is not None and len(arrays["dev_costs_"]) == 0:
        raise _Refused("best_iteration_ is set but dev_costs_ is empty")
    streams = [_stream(state, f"_random_streams[{i}]")
               for i, state in enumerate(attributes.get("_random_streams", ()))]
    stray = [key for key in ("_n_steps", "_split_seed") if key in attributes] + [
        key for key in ("_moment_0", "_moment_1", "_order") if key in arrays]
    if stray and not streams:
        raise _Refused(f"{', '.join(stray)} without _random_streams (a training state "
                       "comes whole)")

    # The model.
    if explicit_layers is not None:
        model.init = ([arrays[f"init_coefs_{l}"] for l in range(explicit_layers)],
                      [arrays[f"init_intercepts_{l}"] for l in range(explicit_layers)])
    model.coefs_ = [arrays[f"coefs_{l}"] for l in range(n_layers)]
    model.intercepts_ = [arrays[f"intercepts_{l}"] for l in range(n_layers)]
    model.costs_ = arrays["costs_"]
    for key in _COMMON_ATTRIBUTES + _REGRESSOR_ATTRIBUTES:
        if key in attributes and key not in _STATE_ATTRIBUTES:
            setattr(model, key, attributes[key])
    if "dev_costs_" in arrays:
        model.dev_costs_ = arrays["dev_costs_"]
    if _is_classifier(cls):
        model.classes_ = arrays["classes_"]
        if attributes.get("classes_object_strings"):
            model.classes_ = model.classes_.astype(object)
    if "feature_names_in_" in arrays:
        model.feature_names_in_ = arrays["feature_names_in_"].astype(object)
    if streams:
        moments = None
        if "_moment_0" in arrays or "_moment_1" in arrays:
            moments = (arrays.get("_moment_0"), arrays.get("_moment_1"))
        model._training_state = TrainingState(
            *streams, split_seed=attributes.get("_split_seed", 0), epochs=n_iter,
            steps=attributes.get("_n_steps", 0), moments=moments,
            order=arrays["_order"].astype(np.intp, copy=False) if "_order" in arrays else None)
    _family_check(model, lambda: model._fitted_stack_and_params(dropout=True), "the network")
    return model


def _names(names):
    return "{" + ", ".join(sorted(names)) + "}" if names else "none"


def _same_keys(mapping, expected, what):
    if not isinstance(mapping, dict):
        raise _Refused(f"{what} is not a JSON object")
    missing, extra = set(expected) - set(mapping), set(mapping) - set(expected)
    if missing:
        raise _Refused(f"{what} lacks {_names(missing)}")
    if extra:
        raise _Refused(f"{what} has unexpected keys {_names(map(_short, extra))}")


def _family_check(model, check, what):
    """Run one of the estimator's own checks; its complaint becomes a refusal."""
    try:
        return check()
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError) as error:
        raise _Refused(f"{what}: {error}") from None


def _model_with_params(cls, params):
    """(unfitted model with the stored parameters, number of explicit init
    layers or None), the parameters checked by the estimator's validation."""
    _same_keys(params, set(cls().get_params(deep=False)), "its parameters")
    params = dict(params)
    for key, value in params.items():
        if key not in _BOOLEAN_PARAMS and _holds_bool(value):
            raise _Refused(f"parameter {key} is {_short(value)}; booleans only for "
                           f"{', '.join(sorted(_BOOLEAN_PARAMS))}")
    explicit_layers = None
    init = params["init"]
    if not isinstance(init, (str, dict)):
        raise _Refused(f"parameter init is {_short(init)}; a file stores a scheme's name or "
                       "{\"explicit_layers\": n} with the arrays beside it")
    if isinstance(init, dict):
        _same_keys(init, {"explicit_layers"}, "parameter init")
        explicit_layers = _int(init["explicit_layers"], "init's explicit_layers", 1, _MAX_LAYERS)
        params["init"] = "auto"  # the arrays take its place once checked
    if params["callbacks"] not in (None, []):
        raise _Refused("callbacks are stored as None (a file holds no code); got "
                       f"{_short(params['callbacks'])}")
    for key in ("hidden_layer_sizes", "keep_prob"):
        if isinstance(params.get(key), list):
            params[key] = tuple(params[key])
    model = cls(**params)
    _family_check(model, model._validate_params, "parameters")
    return model, explicit_layers


def _holds_bool(value):
    if isinstance(value, bool):
        return True
    return isinstance(value, (list, tuple)) and any(_holds_bool(v) for v in value)


def _checked_attributes(cls, attributes):
    if not isinstance(attributes, dict):
        raise _Refused("its attributes are not a JSON object")
    allowed = set(_COMMON_ATTRIBUTES) | set(
        _CLASSIFIER_ATTRIBUTES if _is_classifier(cls) else _REGRESSOR_ATTRIBUTES)
    required = {"n_iter_", "n_features_in_"} | (
        set() if _is_classifier(cls) else set(_REGRESSOR_ATTRIBUTES))
    if required - set(attributes):
        raise _Refused(f"its attributes lack {_names(required - set(attributes))}")
    if set(attributes) - allowed:
        raise _Refused(f"unexpected attributes {_names(map(_short, set(attributes) - allowed))}")
    _int(attributes["n_iter_"], "n_iter_", 0, _MAX_COUNT)
    _int(attributes["n_features_in_"], "n_features_in_", 1, MAX_LAYER_WIDTH)
    if "_n_steps" in attributes:
        _int(attributes["_n_steps"], "_n_steps", 0, _MAX_COUNT)
    if "_split_seed" in attributes:
        _int(attributes["_split_seed"], "_split_seed", 0, 2**32 - 1)
    if attributes.get("best_iteration_") is not None:
        _int(attributes["best_iteration_"], "best_iteration_", 0, attributes["n_iter_"])
    if "n_outputs_" in attributes:
        _int(attributes["n_outputs_"], "n_outputs_", 1, MAX_LAYER_WIDTH)
    for key in ("_y_is_1d", "classes_object_strings"):
        if key in attributes and not isinstance(attributes[key], bool):
            raise _Refused(f"{key} must be true or false; got {_short(attributes[key])}")
    if "_random_streams" in attributes:
        streams = attributes["_random_streams"]
        if not isinstance(streams, list) or len(streams) != 2:
            raise _Refused("_random_streams must be a list of two bit generator states")
    return attributes


def _stream(state, what):
    """A PCG64 bit generator in the stored state, which must be a valid one."""
    _same_keys(state, {"bit_generator", "state", "has_uint32", "uinteger"}, what)
    if state["bit_generator"] != "PCG64":
        raise _Refused(f"{what} is a {_short(state['bit_generator'])} state, not PCG64")
    _same_keys(state["state"], {"state", "inc"}, f"{what}'s state")
    _int(state["state"]["state"], f"{what}'s state", 0, 2**128 - 1)
    increment = _int(state["state"]["inc"], f"{what}'s increment", 0, 2**128 - 1)
    if increment % 2 == 0:
        raise _Refused(f"{what}'s increment must be odd (as every PCG64 stream's is)")
    _int(state["has_uint32"], f"{what}'s has_uint32", 0, 1)
    _int(state["uinteger"], f"{what}'s uinteger", 0, 2**32 - 1)
    stream = np.random.PCG64()
    try:
        stream.state = state
    except (ValueError, TypeError, OverflowError) as error:
        raise _Refused(f"{what} is not a valid PCG64 state: {error}") from None
    if stream.state != state:
        raise _Refused(f"{what} is not a valid PCG64 state")
    return stream


def _expect(source, key, dtypes, shape, most=None):
    """The member's header must give one of `dtypes` and `shape` (or, with
    shape None, 1-D of at most `most` entries)."""
    dtype, actual = source.header(key)
    if dtype not in dtypes:
        raise _Refused(f"{key} has dtype {dtype}; expected {' or '.join(map(str, dtypes))}")
    if shape is not None and actual != shape:
        raise _Refused(f"{key} has shape {actual}; the model implies {shape}")
    if shape is None and (len(actual) != 1 or actual[0] > most):
        raise _Refused(f"{key} has shape {actual}; expected 1-D with at most {most} entries")
