"""scikit-learn's own tests of its MLP (sklearn/neural_network/tests/test_mlp.py,
the copy installed with scikit-learn, unchanged) run against fastnn's
MLPClassifier and MLPRegressor: the module's source is read, its one import
of the two estimators is pointed at fastnn, and its tests are defined here.

Left out, as they drive scikit-learn's private internals rather than the
estimators: test_gradient (calls `_loss_grad_lbfgs` with scikit-learn's
activation/delta buffers).
"""
import pathlib

import pytest
import sklearn

SOURCE = pathlib.Path(sklearn.__file__).parent / "neural_network" / "tests" / "test_mlp.py"
SKLEARN_IMPORT = "from sklearn.neural_network import MLPClassifier, MLPRegressor"
PRIVATE_INTERNALS = ("test_gradient",)

_source = SOURCE.read_text()
# The swap must find exactly the one import it replaces: a changed file fails here.
assert _source.count(SKLEARN_IMPORT) == 1, f"{SOURCE} no longer imports the estimators as expected"
exec(compile(_source.replace(SKLEARN_IMPORT, "from fastnn import MLPClassifier, MLPRegressor"),
             str(SOURCE), "exec"))
for _name in PRIVATE_INTERNALS:
    del globals()[_name]


@pytest.fixture(params=[42])
def global_random_seed(request):
    """scikit-learn's fixture (its conftest.py), at its default seed."""
    return request.param


def test_the_suite_runs_against_fastnn():
    import fastnn
    assert MLPClassifier is fastnn.MLPClassifier and MLPRegressor is fastnn.MLPRegressor  # noqa: F821
