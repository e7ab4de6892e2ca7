"""The command line: `python -m fastnn` (or `fastnn`).

With no arguments it runs the main job: a DeepNetwork on scikit-learn's
bundled handwritten digits, the notes' workflow from split to diagnosis.
`fastnn train` and `fastnn predict` work on CSV files or bundled data sets.
"""
import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

BUNDLED = ("digits", "breast_cancer", "iris", "wine", "petal", "xnor")
MODELS = ("logistic", "shallow", "deep", "regressor")


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


def read_csv(path, target_column=None):
    """(X, y) from a CSV file with an optional header row; y is the
    `target_column` (name or index, default the last column), or None when
    target_column is 'none' (prediction input)."""
    with open(path, newline="") as file:
        rows = [row for row in csv.reader(file) if row]
    if not rows:
        raise ValueError(f"{path} is empty")
    header = None
    try:
        [float(cell) for cell in rows[0] if cell != ""]
    except ValueError:
        header, rows = rows[0], rows[1:]
    width = len(rows[0])
    if any(len(row) != width for row in rows):
        raise ValueError(f"{path}: every row needs {width} columns")
    table = np.array(rows, dtype=object)
    if target_column == "none":
        return _numeric(table, path), None
    index = width - 1
    if target_column is not None:
        if header is not None and target_column in header:
            index = header.index(target_column)
        else:
            try:
                index = int(target_column)
            except ValueError:
                raise ValueError(f"{path}: no column {target_column!r}") from None
    y = table[:, index]
    try:
        y = y.astype(np.float64)
        if np.all(y == np.round(y)):
            y = y.astype(np.int64)
    except ValueError:
        y = y.astype(str)
    return _numeric(np.delete(table, index, axis=1), path), y


def _numeric(table, path):
    try:
        return table.astype(np.float64)
    except ValueError as error:
        raise ValueError(f"{path}: the feature columns must be numbers ({error})") from None


def make_model(args, n_classes):
    import fastnn
    common = dict(learning_rate=args.learning_rate, max_iter=args.epochs,
                  batch_size=args.batch_size, l2=args.l2, optimizer=args.optimizer,
                  cost_every=args.cost_every, early_stopping=args.early_stopping,
                  random_state=args.seed, verbose=0 if args.quiet else 1)
    layers = tuple(int(width) for width in args.layers.split(",") if width) if args.layers else (64,)
    if args.model == "logistic":
        if n_classes is not None and n_classes > 2:
            raise SystemExit("fastnn: logistic regression takes two classes; use --model deep")
        return fastnn.LogisticRegression(**common)
    hidden = dict(activation=args.activation, keep_prob=args.keep_prob)
    if args.model == "shallow":
        return fastnn.ShallowNetwork(layers[0], **hidden, **common)
    if args.model == "regressor":
        return fastnn.DeepRegressor(layers, **hidden, **common)
    return fastnn.DeepNetwork(layers, **hidden, **common)


def train(args):
    import fastnn
    if args.data in BUNDLED:
        X, y, description = load_bundled(args.data, args.seed)
    else:
        X, y = read_csv(args.data, args.target)
        description = f"{args.data}"
    regression = args.model == "regressor"
    n_classes = None if regression else len(np.unique(y))
    print(f"data: {description}: {X.shape[0]} examples, {X.shape[1]} features"
          + ("" if regression else f", {n_classes} classes"))
    train_part, dev_part, test_part = fastnn.split(X, y, random_state=args.seed)
    # Standardise with the training part's statistics (stored in the model's
    # pipeline would be nicer; here the scale is applied before fitting).
    mean, scale = train_part[0].mean(axis=0), train_part[0].std(axis=0)
    scale[scale == 0] = 1.0
    standardise = lambda part: ((part[0] - mean) / scale, part[1])  # noqa: E731
    train_part, dev_part, test_part = map(standardise, (train_part, dev_part, test_part))
    print(f"split (SPEC 5): {len(train_part[1])} train, {len(dev_part[1])} dev, "
          f"{len(test_part[1])} test")
    model = make_model(args, n_classes)
    print(f"model: {model}")
    start = time.perf_counter()
    model.fit(*train_part, dev=dev_part)
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


def predict(args):
    import fastnn
    model = fastnn.load(args.model)
    X, _ = read_csv(args.data, "none")
    scaling = Path(args.model).with_name("scaling.npz")
    if scaling.exists():
        with np.load(scaling, allow_pickle=False) as stored:
            X = (X - stored["mean"]) / stored["scale"]
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


def parser():
    main = argparse.ArgumentParser(
        prog="fastnn",
        description="Train and use fastnn models. With no command: the main job, a deep "
                    "network on the bundled handwritten digits (split, train with early "
                    "stopping, accuracy, bias/variance diagnosis, model and learning curve "
                    "written to ./fastnn-output).")
    commands = main.add_subparsers(dest="command")
    fit = commands.add_parser("train", help="train a model on a CSV file or a bundled data set")
    fit.add_argument("--data", default="digits",
                     help=f"CSV path (header optional) or one of {', '.join(BUNDLED)} (default digits)")
    fit.add_argument("--target", default=None,
                     help="CSV target column: name or index (default: the last column)")
    fit.add_argument("--model", choices=MODELS, default="deep", help="model family (default deep)")
    fit.add_argument("--layers", default="64", help="hidden widths, comma-separated (default 64)")
    fit.add_argument("--activation", default="relu",
                     choices=("relu", "leaky_relu", "tanh", "sigmoid", "arctan", "identity"))
    fit.add_argument("--optimizer", default="adam", choices=("gd", "momentum", "rmsprop", "adam"))
    fit.add_argument("--learning-rate", type=float, default=0.005)
    fit.add_argument("--epochs", type=int, default=200, help="maximum epochs (default 200)")
    fit.add_argument("--batch-size", type=int, default=32, help="0 for full batch (default 32)")
    fit.add_argument("--keep-prob", type=float, default=1.0, help="dropout keep probability")
    fit.add_argument("--l2", type=float, default=0.0, help="L2 strength lambda")
    fit.add_argument("--no-early-stopping", dest="early_stopping", action="store_false",
                     help="train all epochs instead of stopping on the dev cost")
    fit.add_argument("--cost-every", type=int, default=1, help="record the cost every k epochs")
    fit.add_argument("--tolerance", type=float, default=0.05,
                     help="acceptable error for the bias/variance diagnosis (default 0.05)")
    fit.add_argument("--seed", type=int, default=0, help="random_state (default 0)")
    fit.add_argument("--output", default="fastnn-output", help="folder for model and plot")
    fit.add_argument("--quiet", action="store_true", help="no progress bar")
    use = commands.add_parser("predict", help="predict with a saved model on a CSV of features")
    use.add_argument("model", help="model.npz written by 'train' (scaling.npz beside it is applied)")
    use.add_argument("data", help="CSV of feature columns (header optional)")
    use.add_argument("--output", default=None, help="predictions CSV (default: standard output)")
    return main


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ("train", "predict", "-h", "--help"):
        argv = ["train"] + argv  # the main job: train with the defaults
    arguments = parser().parse_args(argv)
    if arguments.command == "train" and arguments.batch_size == 0:
        arguments.batch_size = None
    try:
        return train(arguments) if arguments.command == "train" else predict(arguments)
    except (ValueError, OSError) as error:
        print(f"fastnn: {error}", file=sys.stderr)
        return 2
