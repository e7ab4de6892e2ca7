"""One vocabulary: the names of activations, losses and optimisers come from
the C tables (fastnn._core.vocabulary), and everything that names them agrees."""
import inspect

import numpy as np
import pytest

import fastnn
from fastnn import reference
from fastnn._core import vocabulary
from fastnn._core.stack import DenseStack


def test_the_reference_spells_the_core_s_names():
    # The reference stays independent of the core (it imports only NumPy),
    # so its names are its own: they must be the core's, in the core's order.
    assert reference.HIDDEN_ACTIVATIONS == vocabulary.HIDDEN_ACTIVATIONS
    assert reference.OUTPUT_ACTIVATIONS == vocabulary.OUTPUT_ACTIVATIONS
    assert reference.LOSSES == vocabulary.LOSSES
    assert reference.OPTIMIZERS == vocabulary.OPTIMIZERS
    assert "fastnn" not in inspect.getsource(reference).split('"""', 2)[2].split("\ndef ")[0]


def test_codes_are_the_c_enums_in_order():
    assert list(vocabulary.ACTIVATION_CODES.values()) == list(range(len(vocabulary.ACTIVATION_CODES)))
    assert list(vocabulary.LOSS_CODES.values()) == list(range(len(vocabulary.LOSS_CODES)))
    assert list(vocabulary.OPTIMIZER_CODES.values()) == list(range(len(vocabulary.OPTIMIZER_CODES)))
    assert set(vocabulary.HIDDEN_ACTIVATIONS) | set(vocabulary.OUTPUT_ACTIVATIONS) == set(
        vocabulary.ACTIVATION_CODES)
    for loss, output in vocabulary.LOSS_OUTPUT_ACTIVATION.items():
        assert loss in vocabulary.LOSS_CODES
        assert output is None or output in vocabulary.OUTPUT_ACTIVATIONS


@pytest.mark.parametrize("name", vocabulary.HIDDEN_ACTIVATIONS)
def test_every_hidden_activation_is_accepted_by_the_estimators(name):
    assert fastnn.DeepNetwork(activation=name)._parameter_constraints["activation"][0] \
        .is_satisfied_by(name)


def test_estimators_and_cli_offer_exactly_the_vocabulary():
    from fastnn import cli
    constraints = fastnn.DeepRegressor._parameter_constraints
    assert constraints["activation"][0].options == set(vocabulary.HIDDEN_ACTIVATIONS)
    assert constraints["output"][0].options == set(vocabulary.OUTPUT_ACTIVATIONS)
    assert constraints["optimizer"][0].options == set(vocabulary.OPTIMIZERS)
    fit = cli.parser()._subparsers._group_actions[0].choices["train"]
    choices = {option: action.choices for action in fit._actions
               for option in action.option_strings}
    assert tuple(choices["--activation"]) == vocabulary.HIDDEN_ACTIVATIONS
    assert tuple(choices["--optimizer"]) == vocabulary.OPTIMIZERS


def test_the_scikit_learn_entries():
    # exp: an output unit only (the poisson loss's log link), not relu-like;
    # poisson needs it; the three rules of scikit-learn's optimisers go last.
    assert "exp" in vocabulary.OUTPUT_ACTIVATIONS and "exp" not in vocabulary.HIDDEN_ACTIVATIONS
    assert "exp" not in vocabulary.RELU_LIKE_ACTIVATIONS
    assert vocabulary.LOSS_OUTPUT_ACTIVATION["poisson"] == "exp"
    assert vocabulary.OPTIMIZERS[-3:] == ("heavy_ball", "nesterov", "adam_step_corrected")
    from fastnn._training import Optimizer
    slots = {kind: Optimizer(kind=kind).moment_slots for kind in vocabulary.OPTIMIZERS}
    assert slots["heavy_ball"] == slots["nesterov"] == slots["momentum"] == (True, False)
    assert slots["adam_step_corrected"] == slots["adam"] == (True, True)


def test_the_stack_refuses_a_name_outside_the_vocabulary():
    with pytest.raises(KeyError):
        DenseStack([2, 3, 1], ["swish", "sigmoid"], "log_loss")
    with pytest.raises(KeyError):
        DenseStack([2, 1], ["sigmoid"], "hinge")


def test_auto_init_follows_the_vocabulary_s_relu_like_units():
    from fastnn import _init
    for name in vocabulary.HIDDEN_ACTIVATIONS:
        auto, _ = _init.initial_parameters("auto", (400, 3, 1), name,
                                           np.random.default_rng(0), float)
        scheme = "he" if name in vocabulary.RELU_LIKE_ACTIVATIONS else "xavier"
        expected, _ = _init.initial_parameters(scheme, (400, 3, 1), name,
                                               np.random.default_rng(0), float)
        assert all((a == e).all() for a, e in zip(auto, expected)), name
    assert set(vocabulary.RELU_LIKE_ACTIVATIONS) == {"relu", "leaky_relu"}


def test_the_thread_limit_is_the_core_s():
    from fastnn import _constraints
    assert _constraints.MAX_THREADS == vocabulary.MAX_THREADS == 64
