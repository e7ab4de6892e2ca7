"""fastnn.plot (optional matplotlib extra)."""
import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from fastnn import DeepNetwork, ShallowNetwork  # noqa: E402
from fastnn.datasets import petal  # noqa: E402
from fastnn.plot import decision_boundary, learning_curve  # noqa: E402


def test_learning_curve_draws_the_recorded_costs(tmp_path):
    X, y = petal(200, random_state=0)
    model = DeepNetwork((6,), max_iter=40, cost_every=5, early_stopping=True,
                        n_iter_no_change=100, random_state=0).fit(X, y)
    ax = learning_curve(model)
    lines = {line.get_label(): line for line in ax.get_lines()}
    np.testing.assert_array_equal(lines["training cost"].get_ydata(), model.costs_)
    np.testing.assert_array_equal(lines["training cost"].get_xdata(), np.arange(8) * 5)
    np.testing.assert_array_equal(lines["development cost"].get_ydata(), model.dev_costs_)
    ax.figure.savefig(tmp_path / "curve.png")
    assert (tmp_path / "curve.png").stat().st_size > 1000


def test_decision_boundary_colours_the_predicted_classes(tmp_path):
    X, y = petal(200, random_state=0)
    model = ShallowNetwork(4, learning_rate=1.2, max_iter=500, optimizer="gd",
                           batch_size=None, init="small", random_state=3).fit(X, y)
    ax = decision_boundary(model, X, y, resolution=50)
    assert len(ax.collections) >= 2  # the filled regions and the points
    ax.figure.savefig(tmp_path / "boundary.png")
    with pytest.raises(ValueError, match="2-D data"):
        decision_boundary(model, np.c_[X, X], y)
