"""A fit swaps its whole fitted state in at once: predictions made while a
fit runs in another thread come from one model, old or new, never a mix; a
second fit of the same object while one runs is refused; a later
partial_fit may not change the classes."""
import threading

import numpy as np
import pytest

from fastnn import DeepNetwork, LogisticRegression

RNG = np.random.default_rng(0)
X = RNG.standard_normal((300, 6))
Y_OLD = (X[:, 0] > 0).astype(int)
Y_NEW = np.array(["a", "b", "c"])[np.argmax(X[:, :3], axis=1)]


def test_predict_during_a_background_refit_sees_one_whole_model():
    model = DeepNetwork((16,), max_iter=30, random_state=0).fit(X, Y_OLD)
    old = model.predict(X)
    settings = dict(max_iter=3000, optimizer="adam", batch_size=32, cost_every=None,
                    random_state=1)
    new = DeepNetwork((16,), **settings).fit(X, Y_NEW).predict(X)
    model.set_params(**settings)
    refit = threading.Thread(target=model.fit, args=(X, Y_NEW))
    refit.start()
    seen = []
    while refit.is_alive():
        seen.append(model.predict(X))
    refit.join()
    assert len(seen) > 10
    for predictions in seen:
        assert np.array_equal(predictions, old) or np.array_equal(predictions, new)
    np.testing.assert_array_equal(model.predict(X), new)


def test_a_second_fit_of_the_same_object_while_one_runs_is_refused():
    fitting, go_on = threading.Event(), threading.Event()

    def hold(progress):
        fitting.set()
        go_on.wait(10)

    model = DeepNetwork((8,), max_iter=5, cost_every=1, callbacks=[hold], random_state=0)
    first = threading.Thread(target=model.fit, args=(X, Y_OLD))
    first.start()
    try:
        assert fitting.wait(10)
        with pytest.raises(RuntimeError, match="already being fitted"):
            model.fit(X, Y_NEW)
        with pytest.raises(RuntimeError, match="already being fitted"):
            model.partial_fit(X, Y_NEW)
    finally:
        go_on.set()
        first.join()
    # The first fit's model, whole: its labels with its weights.
    assert model.classes_.tolist() == [0, 1] and model.n_iter_ == 5
    same = DeepNetwork((8,), max_iter=5, random_state=0).fit(X, Y_OLD)
    np.testing.assert_array_equal(model.coefs_[0], same.coefs_[0])
    # and, once it is done, the object can be fitted again
    model.set_params(callbacks=None).fit(X, Y_NEW)
    assert model.classes_.tolist() == ["a", "b", "c"]


def test_a_fit_from_a_callback_of_the_same_model_is_refused_and_changes_nothing():
    model = LogisticRegression(max_iter=10).fit(X, Y_OLD)
    before = [W.copy() for W in model.coefs_]

    def refit(progress):
        model.fit(X, Y_OLD)

    with pytest.raises(RuntimeError, match="already being fitted"):
        model.set_params(cost_every=1, callbacks=[refit]).fit(X, Y_OLD)
    np.testing.assert_array_equal(model.coefs_[0], before[0])


def test_a_fresh_fit_keeps_nothing_of_the_last_one():
    model = DeepNetwork((4,), max_iter=5, early_stopping=True, random_state=0).fit(X, Y_OLD)
    assert hasattr(model, "dev_costs_")
    model.set_params(early_stopping=False).fit(X, Y_OLD)
    assert not hasattr(model, "dev_costs_") and not hasattr(model, "best_iteration_")


def test_partial_fit_refuses_other_classes_than_the_first_call():
    model = DeepNetwork((4,), random_state=0).partial_fit(X, Y_OLD, classes=[0, 1])
    coefs = model.coefs_[0].copy()
    with pytest.raises(ValueError, match=r"classes=\[0, 1, 2\] is not the same as on the first "
                                         r"call to partial_fit, was: \[0, 1\]"):
        model.partial_fit(X, Y_OLD, classes=[0, 1, 2])
    np.testing.assert_array_equal(model.coefs_[0], coefs)
    model.partial_fit(X, Y_OLD, classes=[1, 0])   # the same set, in any order
    model.partial_fit(X, Y_OLD)                   # or none


@pytest.mark.parametrize("hidden, activation", [((), "relu"), ((8,), "identity"),
                                                ((32, 32), "relu")])
def test_an_overflowing_prediction_is_an_error_not_nan(hidden, activation):
    # float32 input near the dtype's limit: NaN rows in predict_proba, and
    # predict answered classes_[0] for them; through relu layers the NaN
    # became 0 and a made-up answer.
    rng = np.random.default_rng(1)
    X32 = rng.standard_normal((100, 5)).astype(np.float32)
    y = np.arange(100) % 3
    # the notes' settings (the defaults before issue 14), whose weights overflow there
    model = DeepNetwork(hidden, activation=activation, max_iter=20, optimizer="gd",
                        batch_size=None, init="auto", random_state=0).fit(X32, y)
    assert model.coefs_[0].dtype == np.float32
    huge = np.full((4, 5), 3e38, dtype=np.float32)
    huge[0] = X32[0]    # one ordinary row among them
    for method in (model.predict, model.predict_proba):
        with pytest.raises(ValueError, match=r"overflowed \(float32\) on 3 of 4 rows \(first: "
                                             r"row 1\).*train in float64"):
            method(huge)
    assert model.predict(huge[:1]).shape == (1,)
