"""The command line: `python -m fastnn` (or `fastnn`).

With no arguments it runs the main job: a DeepNetwork on scikit-learn's
bundled handwritten digits, the notes' workflow from split to diagnosis.
`fastnn train` and `fastnn predict` work on CSV files or bundled data sets;
`fastnn export` writes a saved model as ONNX (fastnn.onnx).

Bad input (a malformed CSV, an option out of range, a refused model file)
ends with one line `fastnn: <what is wrong>` on standard error and exit
status 2, never a traceback; argparse's own usage errors also exit 2.
"""
import argparse
import csv
import math
import re
import sys
import time
import zipfile
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np

from fastnn._core.vocabulary import HIDDEN_ACTIVATIONS, OPTIMIZERS

BUNDLED = ("digits", "breast_cancer", "iris", "wine", "petal", "xnor")
MODELS = ("logistic", "shallow", "deep", "regressor")
HEADER_HELP = (
    "whether the CSV's first row is a header: yes, no, or auto (the default). auto "
    "compares the first row with the rows below it: text in a column whose other "
    "rows are numbers makes it a header, numbers there make it data, and a first "
    "row that mixes the two (one stray text cell in a row of numbers) stops with an "
    "error asking for --header yes or no instead of guessing; a first row whose "
    "columns are text in the rows below too is a header only when every cell of "
    "it is text. A first row dropped in auto mode is reported on standard error.")
# The header decision compares the first row with (at most) this many rows below.
_HEADER_SAMPLE = 1000
# Integral numbers written with an exponent (1e3) become exact integers up to
# this many digits (an exponent of 10**9 would make a gigabyte-sized int);
# integers written out in full (1.0, 123) always do.
_MAX_INTEGER_DIGITS = 64


class InputError(ValueError):
    """A bad input, with a message for the user (one line)."""


def load_bundled(name, random_state=0):
    """(X, y, description) of a bundled data set (no download)."""
    from fastnn import datasets
    if name == "petal":
        X, y = datasets.petal(400, random_state=random_state)
        return X, y, "the notes' planar petal data (400 points)"
    if name == "xnor":
        X, y = datasets.xnor()
        return X, y, "the XNOR truth table"
    import sklearn.datasets
    loader = getattr(sklearn.datasets, f"load_{name}")
    data = loader()
    return data.data, data.target, f"scikit-learn's bundled {name.replace('_', ' ')} data"


# --- CSV ------------------------------------------------------------------

def _show(text, limit=40):
    """A cell or name for a message: quoted, control characters escaped, cut short."""
    text = str(text)
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _ordinal(index):
    n = index + 1
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _number(cell):
    """float(cell), or None when the cell is not a number (empty cells included)."""
    try:
        return float(cell)
    except ValueError:
        return None


def _read_rows(path):
    """[(line number, cells)] of the non-blank rows of a UTF-8 CSV file."""
    name = str(path)
    if Path(path).is_dir():
        raise InputError(f"{name} is a directory, not a CSV file")
    rows = []
    try:
        with open(path, newline="", encoding="utf-8-sig") as file:
            reader = csv.reader(file)
            try:
                for row in reader:
                    if any(cell.strip() for cell in row):
                        rows.append((reader.line_num, row))
            except csv.Error as error:
                raise InputError(f"{name}: line {reader.line_num} is not readable as "
                                 f"CSV: {error}") from None
    except UnicodeDecodeError as error:
        byte = error.object[error.start]
        raise InputError(f"{name} is not a UTF-8 text file ({error.reason}: byte "
                         f"0x{byte:02x}); fastnn reads CSV files in UTF-8") from None
    if not rows:
        raise InputError(f"{name} is empty: no rows")
    line, first = rows[0]
    for other_line, row in rows[1:]:
        if len(row) != len(first):
            raise InputError(f"{name}: every row needs {len(first)} columns (as on line "
                             f"{line}); line {other_line} has {len(row)}")
    return rows


def _has_header(rows, path, mode):
    if mode in ("yes", "no"):
        return mode == "yes"
    first = [cell.strip() for cell in rows[0][1]]
    below = [row for _, row in rows[1:1 + _HEADER_SAMPLE]]
    numeric_below = [all(_number(row[j]) is not None for row in below if row[j].strip())
                     for j in range(len(first))]
    text_over_numbers = [j for j, cell in enumerate(first)
                         if cell and numeric_below[j] and _number(cell) is None]
    numbers_over_numbers = [j for j, cell in enumerate(first)
                            if cell and numeric_below[j] and _number(cell) is not None]
    if text_over_numbers and numbers_over_numbers:
        raise InputError(
            f"{path}: cannot tell whether the first row (line {rows[0][0]}) is a header: it "
            f"has text in the {', '.join(_ordinal(j) for j in text_over_numbers[:5])} "
            "column(s), where the rows below have numbers, but numbers in the "
            f"{', '.join(_ordinal(j) for j in numbers_over_numbers[:5])}; "
            "use --header yes or --header no")
    if text_over_numbers or numbers_over_numbers:
        return bool(text_over_numbers)
    cells = [cell for cell in first if cell]
    return bool(cells) and all(_number(cell) is None for cell in cells)


def _column_index(target, header, width, path):
    """The index of the --target column (name or index; default the last)."""
    if target is None:
        return width - 1
    if header is not None:
        for names in (header, [name.strip() for name in header]):
            if names.count(target) > 1:
                raise InputError(f"{path}: the header names {names.count(target)} columns "
                                 f"{_show(target)}; give --target as an index")
            if target in names:
                return names.index(target)
    if re.fullmatch(r"\s*[+-]?[0-9]+\s*", target):
        index = int(target)
        if not -width <= index < width:
            raise InputError(f"--target {target.strip()}: no such column; {path} has {width} "
                             f"columns (indices 0..{width - 1}, or -{width}..-1)")
        return index % width
    if header is None:
        raise InputError(f"--target {_show(target)}: {path} has no header row to look the "
                         f"name up in; give the column's index (0..{width - 1}) or use "
                         "--header yes")
    names = ", ".join(_show(name, 20) for name in header[:10]) + (", ..." if width > 10 else "")
    raise InputError(f"--target {_show(target)}: {path} has no such column; its columns "
                     f"are {names}")


def _features(rows, columns, path, header):
    """The float64 matrix of the given columns; every cell a finite number."""
    table = np.array([[row[j] for j in columns] for _, row in rows], dtype=object)
    table = table.reshape(len(rows), len(columns))
    try:
        X = table.astype(np.float64)
        if np.all(np.isfinite(X)):
            return X
    except ValueError:
        pass
    for line, row in rows:  # find the first bad cell, for the message
        for j in columns:
            value = _number(row[j])
            if value is None or not math.isfinite(value):
                where = f"line {line}, {_ordinal(j)} column" + (
                    f" ({_show(header[j], 20)})" if header is not None else "")
                what = ("is empty" if not row[j].strip() else
                        "is not a number" if value is None else "is not a finite number")
                raise InputError(f"{path}: {where}: {_show(row[j])} {what}; feature "
                                 "columns must hold numbers")
    raise AssertionError("a cell failed to convert but none is bad")  # pragma: no cover


def _target(rows, index, path, column):
    """The target column: exact integers (int64, uint64, or Python ints when
    they fit neither), float64, or strings."""
    cells = [row[index] for _, row in rows]
    for line, row in rows:
        if not row[index].strip():
            raise InputError(f"{path}: line {line}: the target cell ({column}) is empty")
    numbers = []
    for cell in cells:
        try:
            numbers.append(Decimal(cell.strip()))
        except InvalidOperation:
            return np.array(cells, dtype=str)
    for (line, _), cell, number in zip(rows, cells, numbers):
        if not number.is_finite():
            raise InputError(f"{path}: line {line}: the target {_show(cell)} ({column}) is "
                             "not a finite number")
    if all(number == number.to_integral_value()
           and (number.as_tuple().exponent <= 0 or number.adjusted() < _MAX_INTEGER_DIGITS)
           for number in numbers):
        integers = [int(number) for number in numbers]
        low, high = min(integers), max(integers)
        if -2**63 <= low and high < 2**63:
            return np.array(integers, dtype=np.int64)
        if low >= 0 and high < 2**64:
            return np.array(integers, dtype=np.uint64)
        return np.array(integers, dtype=object)
    y = np.array([float(number) for number in numbers], dtype=np.float64)
    if not np.all(np.isfinite(y)):
        line = rows[int(np.argmin(np.isfinite(y)))][0]
        raise InputError(f"{path}: line {line}: the target ({column}) is too large for a "
                         "float64")
    return y


def read_csv(path, target_column=None, header="auto", notes=None, features_only=False):
    """(X, y) from a CSV file with an optional header row; y is the
    `target_column` (name or index, default the last column), or None with
    features_only (prediction input: every column a feature). `header` is 'auto', 'yes' or
    'no' (see HEADER_HELP); in auto mode a dropped first row is reported by a
    line appended to the list `notes` (printed on standard error when None).
    Bad input raises InputError."""
    rows = _read_rows(path)
    names = None
    if _has_header(rows, path, header or "auto"):
        names = rows[0][1]
        rows = rows[1:]
        if (header or "auto") == "auto":
            shown = ",".join(name if name.isprintable() else repr(name)[1:-1]
                             for name in (name[:40] for name in names[:20]))
            note = (f"fastnn: {path}: first row taken as a header: {shown}"
                    + (",..." if len(names) > 20 else "")
                    + " (use --header no to read it as data)")
            if notes is None:
                print(note, file=sys.stderr)
            else:
                notes.append(note)
        if not rows:
            raise InputError(f"{path} has a header row but no data rows")
    width = len(rows[0][1])
    if features_only:
        return _features(rows, range(width), path, names), None
    index = _column_index(target_column, names, width, path)
    if width < 2:
        raise InputError(f"{path} has one column, the target: no feature columns")
    column = (f"{_ordinal(index)} column" + (f", {_show(names[index], 20)}" if names else ""))
    y = _target(rows, index, path, column)
    return _features(rows, [j for j in range(width) if j != index], path, names), y


# --- options ----------------------------------------------------------------

def _layers(text):
    widths = []
    for piece in text.split(","):
        piece = piece.strip()
        if not re.fullmatch(r"[0-9]+", piece) or int(piece) < 1:
            raise InputError(f"--layers {_show(text)}: give the hidden widths as whole "
                             "numbers of at least 1, separated by commas (e.g. 64,32)")
        widths.append(int(piece))
    return tuple(widths)


def _check_train_options(args):
    def need(ok, message):
        if not ok:
            raise InputError(message)
    if args.data in BUNDLED:
        need(args.target is None, f"--target is for CSV files; {args.data} is a bundled "
                                  "data set with its own target")
        need(args.header is None, f"--header is for CSV files; {args.data} is a bundled "
                                  "data set")
    args.hidden = _layers(args.layers) if args.layers is not None else (64,)
    need(not (args.model == "logistic" and args.layers is not None),
         "--layers: logistic regression has no hidden layers; use --model shallow or deep")
    need(not (args.model == "shallow" and len(args.hidden) > 1),
         f"--layers {args.layers}: a shallow network has one hidden layer; give one width "
         "or use --model deep")
    need(args.epochs >= 1, f"--epochs {args.epochs}: give at least 1")
    need(args.batch_size >= 0, f"--batch-size {args.batch_size}: give a size of at least 1, "
                               "or 0 for full batch")
    need(0 < args.keep_prob <= 1, f"--keep-prob {args.keep_prob}: the probability of "
                                  "keeping a unit must be in (0, 1]")
    need(math.isfinite(args.learning_rate) and args.learning_rate > 0,
         f"--learning-rate {args.learning_rate}: give a positive number")
    need(math.isfinite(args.l2) and args.l2 >= 0,
         f"--l2 {args.l2}: give a non-negative number")
    need(args.cost_every >= 1, f"--cost-every {args.cost_every}: give at least 1")
    need(0 <= args.tolerance < 1, f"--tolerance {args.tolerance}: give an error rate in [0, 1)")
    need(0 <= args.seed < 2**32, f"--seed {args.seed}: give a whole number in 0..2**32-1")


def make_model(args, n_classes):
    import fastnn
    common = dict(learning_rate=args.learning_rate, max_iter=args.epochs,
                  batch_size=args.batch_size or None, l2=args.l2, optimizer=args.optimizer,
                  cost_every=args.cost_every, early_stopping=args.early_stopping,
                  random_state=args.seed, verbose=0 if args.quiet else 1)
    layers = getattr(args, "hidden", None) or _layers(args.layers or "64")
    if args.model == "logistic":
        if n_classes is not None and n_classes > 2:
            raise InputError(f"logistic regression takes two classes; the target has "
                             f"{n_classes}: use --model deep")
        return fastnn.LogisticRegression(**common)
    hidden = dict(activation=args.activation, keep_prob=args.keep_prob)
    if args.model == "shallow":
        return fastnn.ShallowNetwork(layers[0], **hidden, **common)
    if args.model == "regressor":
        return fastnn.DeepRegressor(layers, **hidden, **common)
    return fastnn.DeepNetwork(layers, **hidden, **common)


# --- commands ---------------------------------------------------------------

def _label(value):
    """A class label for a message: text quoted, numbers as they are."""
    value = value.item() if isinstance(value, np.generic) else value
    return _show(value) if isinstance(value, str) else str(value)


def _classification_target(y, source):
    """y as class labels: integers too large for int64/uint64 become their
    decimal strings (scikit-learn takes no object array of ints as labels, and
    the predictions print back the same digits)."""
    if y.dtype == object:
        return y.astype(str)
    if y.dtype.kind == "f" and not np.all(y == np.round(y)):
        example = float(y[y != np.round(y)][0])
        raise InputError(f"{source}: the target has non-integer numbers (e.g. {example!r}); "
                         "classifiers need class labels: use --model regressor, or --target "
                         "for another column")
    return y


def train(args):
    import fastnn
    regression = args.model == "regressor"
    notes = []
    if args.data in BUNDLED:
        X, y, description = load_bundled(args.data, args.seed)
    else:
        X, y = read_csv(args.data, args.target, args.header, notes)
        description = f"{args.data}"
        if regression and y.dtype.kind == "U":  # text labels (object: exact ints)
            example = next(label for label in y if _number(label) is None)
            raise InputError(f"{args.data}: --model regressor needs a numeric target; the "
                             f"target column holds text (e.g. {_show(example)})")
        if regression:
            try:
                y = y.astype(np.float64)
            except OverflowError:  # Python ints beyond float64
                raise InputError(f"{args.data}: the target has integers too large for a "
                                 "float64 (the regressor's precision)") from None
        else:
            y = _classification_target(y, args.data)
    n_classes = None if regression else len(np.unique(y))
    if n_classes is not None and n_classes < 2:
        raise InputError(f"{description}: the target has one class ({_label(y[0])}); a "
                         "classifier needs at least two")
    model = make_model(args, n_classes)
    train_part, dev_part, test_part = fastnn.split(X, y, random_state=args.seed)
    if not len(dev_part[1]) and args.early_stopping:
        raise InputError(f"{description}: {len(y)} examples leave no development set for "
                         "early stopping; use --no-early-stopping (or more data)")
    if not regression:
        missing = np.setdiff1d(np.unique(y), train_part[1])
        if missing.size:
            raise InputError(f"{description}: the split (60 % train) left no training example "
                             f"of class {', '.join(_label(label) for label in missing[:5])}; "
                             "every class needs more examples")
    for note in notes:
        print(note, file=sys.stderr)
    print(f"data: {description}: {X.shape[0]} examples, {X.shape[1]} features"
          + ("" if regression else f", {n_classes} classes"))
    # Standardise with the training part's statistics (stored in the model's
    # pipeline would be nicer; here the scale is applied before fitting).
    mean, scale = train_part[0].mean(axis=0), train_part[0].std(axis=0)
    scale[scale == 0] = 1.0
    standardise = lambda part: ((part[0] - mean) / scale, part[1])  # noqa: E731
    train_part, dev_part, test_part = map(standardise, (train_part, dev_part, test_part))
    print(f"split (SPEC 5): {len(train_part[1])} train, {len(dev_part[1])} dev, "
          f"{len(test_part[1])} test")
    print(f"model: {model}")
    start = time.perf_counter()
    model.fit(*train_part, dev=dev_part if len(dev_part[1]) else None)
    seconds = time.perf_counter() - start
    print(f"trained {model.n_iter_} epochs in {seconds:.2f} s"
          + (f" (best dev cost at epoch {model.best_iteration_})" if args.early_stopping else ""))
    metric = "R^2" if regression else "accuracy"
    for name, part in (("train", train_part), ("dev", dev_part), ("test", test_part)):
        if len(part[1]):
            print(f"{name:>5} {metric} {model.score(*part):.4f}")
    if not regression and len(dev_part[1]):
        print(fastnn.diagnose(model, train_part, dev_part, tolerance=args.tolerance))
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    model.save(output / "model.npz")
    np.savez(output / "scaling.npz", mean=mean, scale=scale)
    print(f"wrote {output / 'model.npz'} (and the feature scaling, {output / 'scaling.npz'})")
    try:
        from fastnn.plot import learning_curve
        ax = learning_curve(model)
        ax.figure.savefig(output / "learning_curve.png", dpi=100, bbox_inches="tight")
        print(f"wrote {output / 'learning_curve.png'}")
    except ImportError:
        print("(no learning-curve PNG: matplotlib is not installed; pip install fastnn[plot])")
    return 0


def _scaling(path, width):
    """(mean, scale) from a scaling.npz, checked: 1-D finite floats of the
    model's width, scale nonzero; anything else is refused naming the file."""
    not_scaling = f"{path} is not a scaling file (an .npz archive with 'mean' and 'scale')"
    try:
        stored = np.load(path, allow_pickle=False)
        if not isinstance(stored, np.lib.npyio.NpzFile):
            raise InputError(not_scaling)
        with stored:
            missing = [name for name in ("mean", "scale") if name not in stored.files]
            if missing:
                raise InputError(f"{not_scaling}: it has no "
                                 f"{' or '.join(repr(name) for name in missing)}")
            mean, scale = stored["mean"], stored["scale"]
    except InputError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        raise InputError(f"{path} is not a readable scaling file: {error}") from None
    for name, values in (("mean", mean), ("scale", scale)):
        if values.dtype.kind != "f" or values.shape != (width,):
            raise InputError(f"{path}: {name!r} must be a 1-D float array of the model's "
                             f"{width} features; it is {values.dtype} of shape {values.shape}")
        if not np.all(np.isfinite(values)):
            raise InputError(f"{path}: {name!r} holds values that are not finite")
    if np.any(scale == 0):
        raise InputError(f"{path}: 'scale' holds zeros")
    return mean, scale


def predict(args):
    import fastnn
    model = fastnn.load(args.model)
    notes = []
    X, _ = read_csv(args.data, header=args.header, notes=notes, features_only=True)
    width = getattr(model, "n_features_in_", None)  # load checks it against the weights
    if not isinstance(width, (int, np.integer)) or isinstance(width, bool):
        width = model.coefs_[0].shape[0]
    width = int(width)
    if X.shape[1] != width:
        hint = " (is the target column still in it?)" if X.shape[1] == width + 1 else ""
        raise InputError(f"{args.data} has {X.shape[1]} feature column"
                         f"{'' if X.shape[1] == 1 else 's'}; the model takes {width}{hint}")
    scaling = Path(args.model).with_name("scaling.npz")
    if scaling.exists():
        mean, scale = _scaling(scaling, width)
        X = (X - mean) / scale
    for note in notes:
        print(note, file=sys.stderr)
    predictions = model.predict(X)
    out = open(args.output, "w", newline="") if args.output else sys.stdout
    try:
        writer = csv.writer(out)
        writer.writerow(["prediction"] if predictions.ndim == 1
                        else [f"output_{k}" for k in range(predictions.shape[1])])
        for value in predictions:
            writer.writerow(np.atleast_1d(value).tolist())
    finally:
        if args.output:
            out.close()
    if args.output:
        print(f"wrote {len(predictions)} predictions to {args.output}", file=sys.stderr)
    return 0


def export(args):
    import fastnn
    from fastnn import persistence
    from fastnn.onnx import to_onnx
    model = fastnn.load(args.model)
    width = model.coefs_[0].shape[0]   # load checks n_features_in_ against it
    # The graph takes the raw feature columns, as `predict` does: the scaling
    # `train` stored beside the model is its first step.
    scaling = Path(args.model).with_name("scaling.npz")
    input_scaling = _scaling(scaling, width) if scaling.exists() else None
    try:
        proto = to_onnx(model, input_scaling=input_scaling)
    except ImportError as error:   # onnx is an optional dependency
        raise InputError(str(error)) from None
    data = proto.SerializeToString()
    # A failed write leaves whatever args.output held before.
    persistence.atomic_write(args.output, lambda file: file.write(data))
    outputs = ", ".join(output.name for output in proto.graph.output)
    print(f"wrote {args.output}: {type(model).__name__}, {model.coefs_[0].dtype.name}, "
          f"input X (n x {width}), outputs {outputs}"
          + (f"; {scaling} applied first" if input_scaling is not None else ""))
    return 0


def parser():
    main = argparse.ArgumentParser(
        prog="fastnn",
        description="Train and use fastnn models. With no command: the main job, a deep "
                    "network on the bundled handwritten digits (split, train with early "
                    "stopping, accuracy, bias/variance diagnosis, model and learning curve "
                    "written to ./fastnn-output). Bad input ends with one line "
                    "'fastnn: <what is wrong>' on standard error and exit status 2.")
    commands = main.add_subparsers(dest="command")
    fit = commands.add_parser("train", help="train a model on a CSV file or a bundled data set")
    fit.add_argument("--data", default="digits",
                     help=f"UTF-8 CSV path or one of {', '.join(BUNDLED)} (default digits). "
                          "Feature columns must hold numbers; the target column may hold "
                          "numbers (integers are kept exactly) or text labels")
    fit.add_argument("--target", default=None,
                     help="CSV target column: its header name or its index counting from 0 "
                          "(negative counts from the end; default: the last column)")
    fit.add_argument("--header", choices=("auto", "yes", "no"), default=None,
                     help=HEADER_HELP)
    fit.add_argument("--model", choices=MODELS, default="deep", help="model family (default deep)")
    fit.add_argument("--layers", default=None,
                     help="hidden widths, comma-separated (default 64; shallow takes one, "
                          "logistic none)")
    fit.add_argument("--activation", default="relu",
                     choices=HIDDEN_ACTIVATIONS)
    fit.add_argument("--optimizer", default="adam", choices=OPTIMIZERS)
    fit.add_argument("--learning-rate", type=float, default=0.005, help="positive (default 0.005)")
    fit.add_argument("--epochs", type=int, default=200, help="maximum epochs, at least 1 "
                                                              "(default 200)")
    fit.add_argument("--batch-size", type=int, default=32, help="0 for full batch (default 32)")
    fit.add_argument("--keep-prob", type=float, default=1.0,
                     help="dropout keep probability, in (0, 1] (default 1: no dropout)")
    fit.add_argument("--l2", type=float, default=0.0, help="L2 strength lambda, >= 0")
    fit.add_argument("--no-early-stopping", dest="early_stopping", action="store_false",
                     help="train all epochs instead of stopping on the dev cost")
    fit.add_argument("--cost-every", type=int, default=1, help="record the cost every k epochs")
    fit.add_argument("--tolerance", type=float, default=0.05,
                     help="acceptable error for the bias/variance diagnosis, in [0, 1) "
                          "(default 0.05)")
    fit.add_argument("--seed", type=int, default=0, help="random_state, 0..2**32-1 (default 0)")
    fit.add_argument("--output", default="fastnn-output", help="folder for model and plot")
    fit.add_argument("--quiet", action="store_true", help="no progress bar")
    use = commands.add_parser("predict", help="predict with a saved model on a CSV of features")
    use.add_argument("model", help="model.npz written by 'train' (scaling.npz beside it is applied)")
    use.add_argument("data", help="UTF-8 CSV of the model's feature columns, numbers only")
    use.add_argument("--header", choices=("auto", "yes", "no"), default="auto", help=HEADER_HELP)
    use.add_argument("--output", default=None, help="predictions CSV (default: standard output)")
    convert = commands.add_parser(
        "export", help="write a saved model as an ONNX file (needs pip install fastnn[onnx])")
    convert.add_argument("model", help="model.npz written by 'train' or save(); scaling.npz "
                                       "beside it becomes the graph's first step")
    convert.add_argument("output", help="the ONNX file to write (replaced whole, or left as "
                                        "it was)")
    return main


def _message(error):
    """One line for the user from an exception a bad input raised."""
    if isinstance(error, OSError) and error.strerror:
        where = error.filename if error.filename is not None else ""
        text = f"{where}: {error.strerror}" if where else error.strerror
    else:
        text = str(error) or type(error).__name__
    return " ".join(text.split())


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ("train", "predict", "export", "-h", "--help"):
        argv = ["train"] + argv  # the main job: train with the defaults
    arguments = parser().parse_args(argv)
    try:
        if arguments.command == "train":
            _check_train_options(arguments)
            return train(arguments)
        if arguments.command == "export":
            return export(arguments)
        return predict(arguments)
    except (ValueError, OSError, csv.Error) as error:
        # ValueError covers scikit-learn's validation errors (InvalidParameterError
        # is a ValueError too), fastnn.load's refusals and UnicodeDecodeError.
        print(f"fastnn: {_message(error)}", file=sys.stderr)
        return 2
