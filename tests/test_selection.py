"""fastnn.split and fastnn.diagnose (SPEC 5) against the reference's rules."""
import numpy as np
import pytest

import fastnn
from fastnn import LogisticRegression, ShallowNetwork
from fastnn import reference as ref
from fastnn.datasets import petal


@pytest.mark.parametrize("n, ratios, sizes", [(1000, None, (600, 200, 200)),
                                              (20000, None, (19600, 200, 200)),
                                              (101, (0.5, 0.3, 0.2), (51, 30, 20))])
def test_split_sizes_and_partition(n, ratios, sizes):
    X = np.arange(n * 2).reshape(n, 2)
    y = np.arange(n)
    parts = fastnn.split(X, y, ratios, random_state=0)
    assert tuple(len(part_y) for _, part_y in parts) == sizes
    expected = ref.split(X, y, ratios, random_state=0)
    assert tuple(len(part_y) for _, part_y in expected) == sizes
    together = np.concatenate([part_y for _, part_y in parts])
    np.testing.assert_array_equal(np.sort(together), y)
    for part_X, part_y in parts:
        np.testing.assert_array_equal(part_X[:, 0] // 2, part_y)  # rows stay paired


def test_split_refuses_bad_ratios():
    with pytest.raises(ValueError, match="summing to 1"):
        fastnn.split(np.ones((10, 1)), np.ones(10), (0.5, 0.5, 0.5))


def test_diagnose_agrees_with_the_reference_rule():
    X, y = petal(400, random_state=1)
    train, dev, _ = fastnn.split(X, y, random_state=0)
    linear = LogisticRegression(max_iter=500).fit(*train)
    verdict = fastnn.diagnose(linear, train, dev, tolerance=0.05)
    expected = ref.diagnose(verdict.train_error, verdict.dev_error, 0.05)
    assert (verdict.high_bias, verdict.high_variance) == expected[:2]
    assert verdict.high_bias  # a straight line cannot separate the petals
    assert "bigger network" in str(verdict)
    shallow = ShallowNetwork(4, learning_rate=1.2, max_iter=5000, optimizer="gd",
                             batch_size=None, init="small", random_state=3).fit(*train)
    better = fastnn.diagnose(shallow, train, dev, tolerance=0.15)
    assert not better.high_bias and better.train_error < verdict.train_error
    with pytest.raises(TypeError, match="classifier"):
        fastnn.diagnose(fastnn.DeepRegressor((2,), max_iter=1).fit(X, X[:, 0]), train, dev)
