"""The command line on bad input (issue 12): one line `fastnn: ...` on
standard error and exit status 2, never a traceback or a silent wrong answer."""
import csv
import shutil

import numpy as np
import pytest

from fastnn.cli import main, read_csv

TINY = ["--epochs", "5", "--quiet"]


def write_csv(path, rows, header=None):
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        if header:
            writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def features(n=30, width=4, seed=0):
    return np.random.default_rng(seed).normal(size=(n, width)).round(6)


def error_line(code, capsys):
    """The single `fastnn: ...` line a refused input leaves on stderr."""
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fastnn: "), err
    assert "Traceback" not in err and "[Errno" not in err, err
    return lines[0]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A DeepNetwork trained (5 epochs) on 4 features, with its scaling.npz."""
    folder = tmp_path_factory.mktemp("model")
    X = features()
    data = write_csv(folder / "train.csv", [list(x) + [int(x[0] > 0)] for x in X])
    assert main(["train", "--data", data, *TINY, "--output", str(folder / "out")]) == 0
    return folder / "out"


# --- predict: the column count and scaling.npz --------------------------------

@pytest.mark.parametrize("width", [1, 3, 5])
def test_predict_checks_the_column_count_against_the_model(model_dir, tmp_path, capsys, width):
    rows = write_csv(tmp_path / "rows.csv", features(6, width).tolist())
    capsys.readouterr()
    line = error_line(main(["predict", str(model_dir / "model.npz"), rows]), capsys)
    plural = "" if width == 1 else "s"
    assert line.startswith(f"fastnn: {rows} has {width} feature column{plural}; "
                           "the model takes 4")


def _npy(path):
    np.save(path.with_suffix(".npy"), np.ones(4))
    path.with_suffix(".npy").rename(path)


SCALINGS = {
    "narrow": lambda p: np.savez(p, mean=np.zeros(3), scale=np.ones(3)),
    "two_d": lambda p: np.savez(p, mean=np.zeros((1, 4)), scale=np.ones((1, 4))),
    "integers": lambda p: np.savez(p, mean=np.zeros(4, int), scale=np.ones(4, int)),
    "nan_mean": lambda p: np.savez(p, mean=np.array([0, np.nan, 0, 0]), scale=np.ones(4)),
    "zero_scale": lambda p: np.savez(p, mean=np.zeros(4), scale=np.array([1, 0, 1, 1.])),
    "no_scale": lambda p: np.savez(p, mean=np.zeros(4)),
    "pickled": lambda p: np.savez(p, mean=np.array([0.0, 0, 0, 0], dtype=object),
                                  scale=np.ones(4)),
    "npy": _npy,
    "junk": lambda p: p.write_bytes(b"\x93NUMPY junk" * 10),
    "empty": lambda p: p.write_bytes(b""),
}


@pytest.mark.parametrize("kind", sorted(SCALINGS))
def test_predict_refuses_a_hostile_scaling_file(model_dir, tmp_path, capsys, kind):
    folder = tmp_path / "model"
    folder.mkdir()
    shutil.copy(model_dir / "model.npz", folder / "model.npz")
    SCALINGS[kind](folder / "scaling.npz")
    rows = write_csv(tmp_path / "rows.csv", features(6).tolist())
    line = error_line(main(["predict", str(folder / "model.npz"), rows]), capsys)
    assert str(folder / "scaling.npz") in line


# --- target values ------------------------------------------------------------

def test_integer_targets_are_kept_exactly(tmp_path):
    X = features(8)
    cases = {  # cells -> (dtype, values)
        "int64": ([-2**63, 2**63 - 1], np.int64),
        "uint64": ([2**63 + 5, 2**64 - 1], np.uint64),
        "python_ints": ([-1, 2**64 + 7], object),
        "huge": ([10**30, 10**30 + 1], object),
        "seventy_digits": ([10**69 + 1, 10**69 + 2], object),
    }
    for name, (labels, dtype) in cases.items():
        cells = [labels[k % 2] for k in range(8)]
        path = write_csv(tmp_path / f"{name}.csv", [list(x) + [c] for x, c in zip(X, cells)])
        _, y = read_csv(path)
        assert y.dtype == dtype, name
        assert [int(v) for v in y] == cells, name
    # integral floats stay integers (as before); other numbers stay float64; text stays text
    for cells, expected in ((["1.0", "2"], np.array([1, 2])),
                            (["0.5", "2"], np.array([0.5, 2.0])),
                            (["1e3", "7"], np.array([1000, 7])),
                            (["a", "1"], np.array(["a", "1"]))):
        path = write_csv(tmp_path / "mixed.csv", [list(x) + [cells[k % 2]]
                                                  for k, x in enumerate(X)])
        _, y = read_csv(path)
        assert y.dtype.kind == expected.dtype.kind and list(y[:2]) == list(expected), cells


@pytest.mark.parametrize("labels", [[2**63 + 5, 2**63 + 7], [2**64 + 5, 2**64 + 7]],
                         ids=["uint64", "beyond_uint64"])
def test_large_integer_classes_train_and_predict_back_exactly(tmp_path, capsys, labels):
    X = features(40)
    y = [labels[int(x[0] > 0)] for x in X]
    data = write_csv(tmp_path / "train.csv", [list(x) + [t] for x, t in zip(X, y)])
    assert main(["train", "--data", data, *TINY, "--output", str(tmp_path / "out")]) == 0
    assert ", 2 classes" in capsys.readouterr().out
    rows = write_csv(tmp_path / "rows.csv", X.tolist())
    assert main(["predict", str(tmp_path / "out" / "model.npz"), rows]) == 0
    printed = capsys.readouterr().out.split()
    assert printed[0] == "prediction" and len(printed) == 41
    assert set(printed[1:]) <= {str(label) for label in labels}


def test_a_regression_target_beyond_float64_is_refused(tmp_path, capsys):
    rows = [list(x) + [k] for k, x in enumerate(features(10))]
    rows[2][-1] = 10**400
    data = write_csv(tmp_path / "t.csv", rows)
    line = error_line(main(["train", "--data", data, "--model", "regressor", *TINY,
                            "--output", str(tmp_path / "out")]), capsys)
    assert "too large for a float64" in line


def test_empty_and_non_finite_target_cells_are_refused(tmp_path, capsys):
    X = features(10)
    for bad, words in (("", "empty"), ("nan", "not a finite number"),
                       ("inf", "not a finite number"), ("1e400", "too large")):
        cells = [k % 2 for k in range(10)]
        rows = [list(x) + [c] for x, c in zip(X, cells)]
        rows[3][-1] = bad
        data = write_csv(tmp_path / "t.csv", rows)
        line = error_line(main(["train", "--data", data, *TINY, "--output",
                                str(tmp_path / "out")]), capsys)
        assert "line 4" in line and words in line, line


# --- header detection -----------------------------------------------------------

def test_a_bom_is_not_data_and_not_a_header(tmp_path):
    X = features(10)
    text = "\n".join(",".join(str(v) for v in list(x) + [k % 2]) for k, x in enumerate(X))
    (tmp_path / "bom.csv").write_text(text + "\n", encoding="utf-8-sig")
    features_read, y = read_csv(str(tmp_path / "bom.csv"))
    assert features_read.shape == (10, 4) and np.allclose(features_read, X)
    (tmp_path / "bom_header.csv").write_text("a,b,c,d,label\n" + text + "\n",
                                             encoding="utf-8-sig")
    features_read, y = read_csv(str(tmp_path / "bom_header.csv"), "a")
    assert features_read.shape == (10, 4) and np.allclose(y, X[:, 0])


def test_auto_header_is_announced_on_stderr(tmp_path, capsys):
    X = features(10)
    rows = write_csv(tmp_path / "rows.csv", X.tolist(), header=["a", "b", "c", "d"])
    read_csv(rows, features_only=True)
    assert capsys.readouterr().err == (f"fastnn: {rows}: first row taken as a header: a,b,c,d "
                                       "(use --header no to read it as data)\n")


def test_a_stray_text_cell_in_the_first_row_is_not_swallowed(tmp_path, capsys):
    X = features(10).tolist()
    X[0][1] = "x"
    data = write_csv(tmp_path / "stray.csv", [x + [k % 2] for k, x in enumerate(X)])
    out = str(tmp_path / "out")
    line = error_line(main(["train", "--data", data, *TINY, "--output", out]), capsys)
    assert "header" in line and "--header yes or --header no" in line
    line = error_line(main(["train", "--data", data, "--header", "no", *TINY, "--output", out]),
                      capsys)
    assert "line 1, 2nd column" in line and "'x' is not a number" in line


def test_header_option_yes_and_no(tmp_path, capsys):
    X = features(10)
    data = write_csv(tmp_path / "numbers.csv", X.tolist())
    rows, _ = read_csv(data, header="yes", features_only=True)
    assert rows.shape == (9, 4) and np.allclose(rows, X[1:])
    rows, _ = read_csv(data, header="no", features_only=True)
    assert rows.shape == (10, 4)
    named = write_csv(tmp_path / "named.csv", X.tolist(), header=["a", "b", "c", "d"])
    line = error_line(main(["train", "--data", named, "--header", "no", "--target", "3",
                            *TINY]), capsys)
    assert "line 1, 1st column" in line and "'a' is not a number" in line


def test_help_documents_the_header_option(capsys):
    for command in ("train", "predict"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert "--header {auto,yes,no}" in text
        assert "stray text cell" in text and "every cell of it is text" in text


def test_a_one_row_prediction_file_with_text(model_dir, tmp_path, capsys):
    model = str(model_dir / "model.npz")
    line = error_line(main(["predict", model, write_csv(tmp_path / "a.csv", [[1, "x", 3, 4]])]),
                      capsys)
    assert "--header" in line
    line = error_line(main(["predict", model, write_csv(tmp_path / "b.csv", [list("abcd")])]),
                      capsys)
    assert "has a header row but no data rows" in line


# --- unreadable files, columns, cells --------------------------------------------------

def test_feature_text_cells_are_named_by_line_and_column(tmp_path, capsys):
    rows = [list(x) + [k % 2] for k, x in enumerate(features(10))]
    for bad, words in (("abc", "'abc' is not a number"), ("", "is empty"),
                       ("nan", "is not a finite number")):
        rows[4][2] = bad
        data = write_csv(tmp_path / "t.csv", rows, header=["a", "b", "c", "d", "y"])
        line = error_line(main(["train", "--data", data, "--header", "yes", *TINY]), capsys)
        assert "line 6, 3rd column ('c')" in line and words in line, line


@pytest.mark.parametrize("target", ["99", "5", "-6", "zz"])
def test_target_column_must_exist(tmp_path, capsys, target):
    data = write_csv(tmp_path / "t.csv", [list(x) + [k % 2] for k, x in enumerate(features(10))],
                     header=["a", "b", "c", "d", "y"])
    line = error_line(main(["train", "--data", data, "--target", target, *TINY]), capsys)
    assert f"--target {target}" in line.replace("'", "") and "no such column" in line


def test_target_name_without_a_header(tmp_path, capsys):
    data = write_csv(tmp_path / "t.csv", [list(x) + [k % 2] for k, x in enumerate(features(10))])
    line = error_line(main(["train", "--data", data, "--target", "label", *TINY]), capsys)
    assert "no header row" in line


def _huge(path):
    write_csv(path, [[1, 2, "9" * 140_000], [1, 2, 3]])


FILES = {
    "header_only": lambda p: write_csv(p, [], header=["a", "b", "y"]),
    "blank_lines": lambda p: p.write_text("\n   \n\n"),
    "huge_cell": _huge,
    "binary": lambda p: p.write_bytes(bytes(range(256)) * 4),
    "directory": lambda p: p.mkdir(),
    "missing": lambda p: None,
}


@pytest.mark.parametrize("kind", sorted(FILES))
def test_unreadable_data_files(tmp_path, capsys, kind):
    path = tmp_path / "data.csv"
    FILES[kind](path)
    line = error_line(main(["train", "--data", str(path), *TINY]), capsys)
    assert str(path) in line


def test_a_model_file_that_load_refuses(tmp_path, capsys):
    rows = write_csv(tmp_path / "rows.csv", features(3).tolist())
    for model in (tmp_path / "missing.npz", tmp_path, tmp_path / "rows.csv"):
        line = error_line(main(["predict", str(model), rows]), capsys)
        assert str(model) in line


# --- options --------------------------------------------------------------------

@pytest.mark.parametrize("options", [
    ["--layers", "4,x"], ["--layers", "0"], ["--layers", ""], ["--epochs", "-1"],
    ["--epochs", "0"], ["--keep-prob", "0"], ["--keep-prob", "2"], ["--batch-size", "-5"],
    ["--learning-rate", "-1"], ["--learning-rate", "nan"], ["--l2", "-1"],
    ["--cost-every", "0"], ["--seed", "-1"], ["--tolerance", "1"],
    ["--model", "shallow", "--layers", "4,8"], ["--model", "logistic", "--layers", "4"],
], ids=lambda options: " ".join(options))
def test_bad_options_name_the_option(tmp_path, capsys, options):
    data = write_csv(tmp_path / "t.csv", [list(x) + [k % 2] for k, x in enumerate(features(10))])
    line = error_line(main(["train", "--data", data, *TINY, "--output", str(tmp_path / "out"),
                            *options]), capsys)
    assert [option for option in options if option.startswith("--")][-1] in line
    assert not (tmp_path / "out").exists()


def test_target_options_are_refused_for_bundled_data(capsys):
    line = error_line(main(["train", "--data", "iris", "--target", "0", *TINY]), capsys)
    assert "--target" in line and "bundled" in line


# --- targets a model cannot take ----------------------------------------------------

def test_a_regression_target_must_be_numeric(tmp_path, capsys):
    data = write_csv(tmp_path / "t.csv", [list(x) + ["abc"] for x in features(10)])
    line = error_line(main(["train", "--data", data, "--model", "regressor", *TINY]), capsys)
    assert "--model regressor needs a numeric target" in line and "'abc'" in line


def test_a_classifier_needs_labels_not_measurements(tmp_path, capsys):
    data = write_csv(tmp_path / "t.csv", [list(x) for x in features(10)])
    line = error_line(main(["train", "--data", data, *TINY]), capsys)
    assert "non-integer numbers" in line and "--model regressor" in line


def test_a_one_class_target(tmp_path, capsys):
    data = write_csv(tmp_path / "t.csv", [list(x) + [1] for x in features(10)])
    line = error_line(main(["train", "--data", data, *TINY]), capsys)
    assert data in line and "one class (1)" in line


def test_logistic_regression_with_three_classes(tmp_path, capsys):
    data = write_csv(tmp_path / "t.csv", [list(x) + [k % 3] for k, x in enumerate(features(12))])
    line = error_line(main(["train", "--data", data, "--model", "logistic", *TINY]), capsys)
    assert "two classes" in line and "3" in line


def test_too_little_data_for_early_stopping(tmp_path, capsys):
    line = error_line(main(["train", "--data", "xnor", *TINY]), capsys)
    assert "--no-early-stopping" in line
    assert main(["train", "--data", "xnor", *TINY, "--no-early-stopping",
                 "--output", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "model.npz").exists()


def test_the_command_exits_2_with_one_line(tmp_path):
    import subprocess
    import sys
    data = write_csv(tmp_path / "t.csv", [list(x) + [k % 2] for k, x in enumerate(features(10))])
    done = subprocess.run([sys.executable, "-m", "fastnn", "train", "--data", data,
                           "--target", "99", *TINY], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (f"fastnn: --target 99: no such column; {data} has 5 columns "
                           "(indices 0..4, or -5..-1)\n")
