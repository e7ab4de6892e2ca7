import signal

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

# Agreement with fastnn.reference (float64) that each precision must reach.
TOLERANCE = {np.float64: 1e-10, np.float32: 1e-4}


def relative_error(actual, expected):
    """max |actual - expected| / max |expected|: a norm-wise relative error,
    meaningful even where single entries are near zero."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape
    scale = np.max(np.abs(expected))
    return np.max(np.abs(actual - expected)) / (scale if scale > 0 else 1.0)


@pytest.fixture
def ctrl_c_raises():
    """SIGINT raises KeyboardInterrupt for the test, as at an interactive
    prompt, also where the suite was started with SIGINT ignored (a
    background job of a non-interactive shell inherits SIG_IGN, and Python
    then installs no handler: a test's Ctrl-C would be lost)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.fixture(params=[np.float64, np.float32], ids=["float64", "float32"])
def dtype(request):
    return request.param


@pytest.fixture(scope="session")
def breast_cancer():
    """scikit-learn's bundled breast-cancer data, stratified 80/20 split with a
    fixed seed, standardised on the training part."""
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, stratify=y, random_state=0)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test
