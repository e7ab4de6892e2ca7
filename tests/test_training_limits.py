"""What a long or interrupted fit may cost: the cost record grows with the
epochs run (not with max_iter), Ctrl-C leaves one dev cost per epoch, fit
imports no extension module lazily, and the core refuses a row order that
is not a permutation."""
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest

from fastnn import DeepNetwork, LogisticRegression
from fastnn._core import train as core
from fastnn._training import Optimizer, TrainingPlan, TrainingState
from fastnn._core.stack import DenseStack

RNG = np.random.default_rng(0)
X = RNG.standard_normal((200, 5))
y = (X[:, 0] + 0.3 * X[:, 1] > 0).astype(int)


def test_a_huge_max_iter_trains_until_a_callback_stops_it():
    # The cost buffer was sized by max_iter: 10**12 epochs asked 7.3 TiB up front.
    def enough(progress):
        return progress.iteration >= 2500

    model = LogisticRegression(max_iter=10**12, cost_every=1, callbacks=[enough]).fit(X, y)
    assert model.n_iter_ == 2501
    assert model.costs_.shape == (2501,)    # past two doublings of the buffer
    same = LogisticRegression(max_iter=2501, cost_every=1).fit(X, y)
    np.testing.assert_array_equal(model.costs_, same.costs_)
    np.testing.assert_array_equal(model.coefs_[0], same.coefs_[0])


def test_ctrl_c_leaves_one_dev_cost_per_epoch(ctrl_c_raises):
    main = threading.get_ident()
    timer = threading.Timer(0.3, signal.pthread_kill, (main, signal.SIGINT))
    model = DeepNetwork((16,), max_iter=10**7, cost_every=None, early_stopping=True,
                        n_iter_no_change=10**7, random_state=0)
    timer.start()
    try:
        with pytest.warns(UserWarning, match="interrupted"):
            model.fit(X, y)
    finally:
        timer.cancel()
    assert model.n_iter_ > 1
    assert len(model.dev_costs_) == model.n_iter_


def test_fit_imports_no_extension_module():
    # A Ctrl-C landing in a first import of an extension module inside fit
    # left it half-initialised: every later early-stopping fit failed.
    script = """
import sys
import numpy as np
import fastnn
before = set(sys.modules)
X = np.random.default_rng(0).standard_normal((60, 4)); y = (X[:, 0] > 0).astype(int)
fastnn.DeepNetwork((4,), max_iter=3, early_stopping=True, n_threads=2).fit(X, y)
fastnn.DeepRegressor((4,), max_iter=3, early_stopping=True).fit(X, X[:, 1])
fastnn.LogisticRegression(max_iter=3).partial_fit(X, y).predict_proba(X)
new = [name for name in set(sys.modules) - before
       if str(getattr(sys.modules[name], "__file__", "")).endswith((".so", ".pyd"))]
print(sorted(new))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("order", [np.full(50, 10**12), np.full(50, -10**9), np.zeros(50)],
                         ids=["too large", "negative", "all zeros"])
def test_the_core_refuses_a_row_order_that_is_not_a_permutation(order):
    stack = DenseStack((5, 1), ["sigmoid"], "log_loss", 0.01, 0.0, None)
    params = np.zeros(stack.n_params)
    Y = y[:50, None].astype(np.float64)
    with pytest.raises(ValueError, match="not a permutation"):
        core.train(stack, params, X[:50], Y,
                   TrainingPlan(epochs=2, batch_size=10, shuffle=True, cost_every=1),
                   Optimizer(learning_rate=0.1),
                   TrainingState(np.random.PCG64(0), np.random.PCG64(1), order=order))
    np.testing.assert_array_equal(params, 0)
