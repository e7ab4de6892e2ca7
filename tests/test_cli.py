"""The command line: the main job, train/predict on CSV, errors."""
import csv

import numpy as np
import pytest

import fastnn
from fastnn.cli import main


def test_main_job_writes_model_and_reports(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["--quiet"]) == 0
    out = capsys.readouterr().out
    assert "test accuracy" in out and "bias" in out
    model = fastnn.load(tmp_path / "fastnn-output" / "model.npz")
    assert isinstance(model, fastnn.DeepNetwork)
    accuracy = float(out.split("test accuracy")[1].split()[0])
    assert accuracy >= 0.95
    try:
        import matplotlib  # noqa: F401
        assert (tmp_path / "fastnn-output" / "learning_curve.png").stat().st_size > 1000
    except ImportError:
        assert "no learning-curve PNG" in out


def write_csv(path, header, rows):
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        if header:
            writer.writerow(header)
        writer.writerows(rows)


def test_train_and_predict_round_trip_on_csv(tmp_path, capsys):
    from sklearn.datasets import load_breast_cancer
    data = load_breast_cancer()
    labels = data.target_names[data.target]
    write_csv(tmp_path / "train.csv", list(data.feature_names) + ["diagnosis"],
              [list(x) + [label] for x, label in zip(data.data, labels)])
    code = main(["train", "--data", str(tmp_path / "train.csv"), "--target", "diagnosis",
                 "--model", "logistic", "--epochs", "100", "--learning-rate", "0.1",
                 "--batch-size", "0", "--optimizer", "gd", "--quiet",
                 "--output", str(tmp_path / "out")])
    assert code == 0
    write_csv(tmp_path / "features.csv", list(data.feature_names), data.data[:25].tolist())
    assert main(["predict", str(tmp_path / "out" / "model.npz"), str(tmp_path / "features.csv"),
                 "--output", str(tmp_path / "predictions.csv")]) == 0
    with open(tmp_path / "predictions.csv") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["prediction"] and len(rows) == 26
    model = fastnn.load(tmp_path / "out" / "model.npz")
    with np.load(tmp_path / "out" / "scaling.npz") as scaling:
        expected = model.predict((data.data[:25] - scaling["mean"]) / scaling["scale"])
    assert [row[0] for row in rows[1:]] == list(expected)
    assert np.mean(expected == labels[:25]) >= 0.9


@pytest.mark.parametrize("optimizer", ["heavy_ball", "nesterov", "adam_step_corrected"])
def test_train_takes_scikit_learn_s_optimizers(tmp_path, optimizer):
    assert main(["train", "--data", "petal", "--model", "shallow", "--layers", "4",
                 "--activation", "tanh", "--optimizer", optimizer, "--epochs", "5",
                 "--learning-rate", "0.01", "--no-early-stopping", "--quiet",
                 "--output", str(tmp_path / "out")]) == 0
    model = fastnn.load(tmp_path / "out" / "model.npz")
    assert model.optimizer == optimizer and model.n_iter_ == 5
    assert model._training_state.moments[0] is not None


def test_bad_input_gives_a_message_and_exit_code(tmp_path, capsys):
    write_csv(tmp_path / "bad.csv", ["a", "b"], [["1", "x"], ["2", "y"], ["3"]])
    assert main(["train", "--data", str(tmp_path / "bad.csv"), "--quiet",
                 "--output", str(tmp_path / "out")]) == 2
    assert "every row needs 2 columns" in capsys.readouterr().err
    assert main(["predict", str(tmp_path / "missing.npz"), str(tmp_path / "bad.csv")]) == 2


def test_help_lists_every_option(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for option in ("--data", "--model", "--layers", "--activation", "--optimizer", "--epochs",
                   "--batch-size", "--keep-prob", "--l2", "--output"):
        assert option in text
