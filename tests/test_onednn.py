"""The training team's float32 products through oneDNN (csrc/fastnn_onednn.c):
the same products as NumPy's in float64, views and alpha/beta included, and
the same models as with BLAS alone. Skipped where oneDNN is not installed."""
import os
import subprocess
import sys

import numpy as np
import pytest

from fastnn import DeepNetwork, _onednn
from fastnn._core import blas
from fastnn._core.blas import gemm_checked

needs_onednn = pytest.mark.skipif(not blas.onednn_available(),
                                  reason=f"oneDNN: {_onednn.status()}")

# the step's shapes (batch x inputs x units) and their transposes, past the
# size where oneDNN takes over (ONEDNN_MIN_PRODUCT) and below it
SHAPES = [(64, 256, 128), (64, 10, 128), (200, 100, 64), (33, 17, 65), (209, 20, 1537),
          (16, 16, 16), (8, 5, 3)]
# (alpha, beta): a forward product, a weight gradient, the fused
# gradient-descent step, and a general pair (which BLAS computes)
SCALES = [(1.0, 0.0), (1 / 64, 0.0), (-0.01, 1.0), (0.5, 0.7)]


def product_case(m, n, k, trans_a, trans_b, seed):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((k, m) if trans_a else (m, k)).astype(np.float32)
    B = rng.standard_normal((n, k) if trans_b else (k, n)).astype(np.float32)
    C = rng.standard_normal((m, n)).astype(np.float32)
    exact = (A.T if trans_a else A).astype(np.float64) @ (B.T if trans_b else B).astype(np.float64)
    return A, B, C, exact


@needs_onednn
@pytest.mark.parametrize("m, n, k", SHAPES)
@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
@pytest.mark.parametrize("alpha, beta", SCALES)
def test_onednn_product_matches_float64(m, n, k, trans_a, trans_b, alpha, beta):
    A, B, C, exact = product_case(m, n, k, trans_a, trans_b, m * n + k)
    expected = alpha * exact + beta * C.astype(np.float64)
    gemm_checked(trans_a, trans_b, alpha, A, B, beta, C, kernel="onednn")
    scale = np.abs(alpha) * np.abs(exact).max() + abs(beta) * 4
    np.testing.assert_allclose(C, expected, rtol=0, atol=2e-6 * scale * np.sqrt(k))


@needs_onednn
@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
def test_onednn_honours_row_strides(trans_a, trans_b):
    """Views into wider arrays: strides become oneDNN's, and what lies
    outside C's view is left as it was."""
    m, n, k = 48, 40, 72
    rng = np.random.default_rng(3)
    big_A = rng.standard_normal((k + m, k + m + 5)).astype(np.float32)
    big_B = rng.standard_normal((k + n, k + n + 7)).astype(np.float32)
    big_C = rng.standard_normal((m + 2, n + 9)).astype(np.float32)
    A = big_A[:k, :m] if trans_a else big_A[:m, :k]
    B = big_B[:n, :k] if trans_b else big_B[:k, :n]
    C = big_C[1:m + 1, 3:n + 3]
    outside = big_C.copy()
    expected = (A.T if trans_a else A).astype(np.float64) @ (B.T if trans_b else B).astype(np.float64)
    gemm_checked(trans_a, trans_b, 1.0, A, B, 0.0, C, kernel="onednn")
    np.testing.assert_allclose(C, expected, rtol=0, atol=2e-6 * np.abs(expected).max() * np.sqrt(k))
    outside[1:m + 1, 3:n + 3] = C
    np.testing.assert_array_equal(big_C, outside)


@needs_onednn
def test_onednn_runs_its_own_kernel():
    """The library answers for the step's shapes (a kernel name), so the
    tests above did exercise it, not BLAS."""
    assert blas.onednn_kernel(False, False, 64, 128, 256) != ""


def fit_in_subprocess(onednn):
    """A float32 team fit in a fresh interpreter with FASTNN_ONEDNN set."""
    code = (
        "import numpy as np\n"
        "from fastnn import DeepNetwork\n"
        "rng = np.random.default_rng(0)\n"
        "X = rng.standard_normal((600, 40)).astype(np.float32)\n"
        "y = (X[:, 0] * X[:, 1] + X[:, 2] > 0).astype(int) + (X[:, 3] > 1)\n"
        "m = DeepNetwork(hidden_layer_sizes=(64, 32), batch_size=100, max_iter=5,\n"
        "                learning_rate=0.05, optimizer='gd', dtype=np.float32,\n"
        "                random_state=1, n_threads=2).fit(X, y)\n"
        "import sys; np.save(sys.stdout.buffer, m.predict_proba(X))\n")
    env = dict(os.environ, FASTNN_ONEDNN="1" if onednn else "0")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            check=True)
    import io
    return np.load(io.BytesIO(result.stdout))


@needs_onednn
def test_a_fit_with_onednn_trains_the_model_blas_trains():
    with_onednn, with_blas = fit_in_subprocess(True), fit_in_subprocess(False)
    assert with_onednn.shape == with_blas.shape == (600, 3)
    np.testing.assert_allclose(with_onednn, with_blas, rtol=0, atol=1e-4)


def test_a_bad_fastnn_onednn_setting_is_named():
    env = dict(os.environ, FASTNN_ONEDNN="yes")
    result = subprocess.run([sys.executable, "-c", "import fastnn"], env=env,
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert "FASTNN_ONEDNN='yes'" in result.stderr


def test_fastnn_onednn_0_keeps_blas():
    env = dict(os.environ, FASTNN_ONEDNN="0")
    code = ("from fastnn._core import blas; from fastnn import _onednn\n"
            "print(blas.onednn_available(), _onednn.status())")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, check=True)
    assert result.stdout.split()[0] == "False"
    assert "FASTNN_ONEDNN=0" in result.stdout


def test_a_library_that_is_not_onednn_is_refused(tmp_path):
    """A file that does not load, or loads without oneDNN's API, leaves BLAS
    in charge and says why (the real library is loaded once per process, so
    this runs in a fresh one)."""
    bogus = tmp_path / "libdnnl.so.3"
    bogus.write_bytes(b"not a library")
    code = ("from fastnn._core import blas\n"
            f"print(repr(blas.load_onednn({str(bogus)!r})))\n"
            "import ctypes.util; libm = ctypes.util.find_library('m')\n"
            "print(repr(blas.load_onednn('libm.so.6')))\n")
    env = dict(os.environ, FASTNN_ONEDNN="0")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, check=True)
    first, second = result.stdout.strip().splitlines()
    assert "libdnnl.so.3" in first and first != "None"
    assert "no symbol dnnl_version" in second
