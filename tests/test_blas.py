"""The row-major GEMM wrapper against NumPy's matmul."""
import numpy as np
import pytest

from fastnn._core.blas import gemm_checked

SHAPES = [(3, 4, 5), (1, 7, 3), (6, 1, 2), (5, 4, 1), (1, 1, 1), (17, 9, 33),
          (400, 4, 2), (2, 4, 400), (70, 65, 40), (1, 300, 90), (300, 1, 90), (129, 70, 1),
          # small outputs, which the weight-gradient product (trans_a, not
          # trans_b) computes without BLAS: both orientations, widths past one
          # vector and past FNN_CONSTANT_WIDTHS, row counts not a multiple of 4
          (8, 2, 50), (2, 8, 51), (9, 3, 7), (3, 11, 61), (20, 1, 203), (1, 20, 3), (5, 7, 2)]


# gemm's own choice (as the training team makes it), and each kernel forced
# (the narrow kernel leaves a transposed B to BLAS)
KERNELS = ["auto", "blas", "narrow"]


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("m, n, k", SHAPES)
@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
def test_gemm_matches_matmul(m, n, k, trans_a, trans_b, kernel, dtype):
    rng = np.random.default_rng(m * 100 + n * 10 + k)
    A = rng.standard_normal((k, m) if trans_a else (m, k)).astype(dtype)
    B = rng.standard_normal((n, k) if trans_b else (k, n)).astype(dtype)
    C = rng.standard_normal((m, n)).astype(dtype)
    alpha, beta = 1.5, -0.25
    op_A = A.T if trans_a else A
    op_B = B.T if trans_b else B
    expected = alpha * (op_A.astype(np.float64) @ op_B.astype(np.float64)) + beta * C
    gemm_checked(trans_a, trans_b, dtype(alpha), A, B, dtype(beta), C, kernel=kernel)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(C, expected, rtol=rtol, atol=rtol * np.abs(expected).max())


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("m, n, k", [(4, 3, 5), (40, 30, 50), (7, 1, 5), (6, 4, 1)],
                         ids=["small", "large", "one column", "rank one"])
@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
def test_gemm_honours_leading_dimensions(trans_a, trans_b, m, n, k, kernel, dtype):
    """Views into wider arrays: the row stride becomes lda/ldb/ldc, and the
    columns outside the view are neither read nor written."""
    rng = np.random.default_rng(7)
    big_A = rng.standard_normal((k + m + 3, k + m + 6)).astype(dtype)
    big_B = rng.standard_normal((k + n + 3, k + n + 8)).astype(dtype)
    big_C = rng.standard_normal((m + 2, n + 7)).astype(dtype)
    A = big_A[:k, 2:2 + m] if trans_a else big_A[:m, 2:2 + k]
    B = big_B[:n, 1:1 + k] if trans_b else big_B[:k, 1:1 + n]
    C = big_C[1:1 + m, 3:3 + n]
    untouched = big_C.copy()
    expected = (A.T if trans_a else A).astype(np.float64) @ (B.T if trans_b else B).astype(np.float64)
    gemm_checked(trans_a, trans_b, 1.0, A, B, 0.0, C, kernel=kernel)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(C, expected, rtol=rtol, atol=rtol * np.abs(expected).max())
    mask = np.ones_like(big_C, dtype=bool)
    mask[1:1 + m, 3:3 + n] = False
    np.testing.assert_array_equal(big_C[mask], untouched[mask])


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("size", [2, 40], ids=["small", "large"])
@pytest.mark.parametrize("trans_a", [False, True])
def test_gemm_beta_zero_ignores_nan_in_output(size, trans_a, kernel, dtype):
    """beta = 0 means C is overwritten, never read: the loop relies on it."""
    A = np.ones((3 * size, size) if trans_a else (size, 3 * size), dtype=dtype)
    B = np.ones((3 * size, size), dtype=dtype)
    C = np.full((size, size), np.nan, dtype=dtype)
    gemm_checked(trans_a, False, 1.0, A, B, 0.0, C, kernel=kernel)
    np.testing.assert_array_equal(C, np.full((size, size), 3.0 * size))


def test_gemm_rejects_mismatched_shapes():
    A = np.ones((2, 3))
    B = np.ones((4, 2))
    C = np.ones((2, 2))
    with pytest.raises(ValueError, match="op\\(B\\)"):
        gemm_checked(False, False, 1.0, A, B, 0.0, C)


@pytest.mark.parametrize("trans_a, trans_b", [(False, False), (True, False), (False, True)])
def test_gemm_seconds_times_the_product_it_computes(trans_a, trans_b, dtype):
    """benchmarks/kernels.py's timer runs the real product into C (so the
    figure is of a product, not of a call that did nothing) and refuses
    operands that do not fit."""
    from fastnn._core.blas import gemm_seconds
    rng = np.random.default_rng(5)
    m, k, n = 9, 14, 6
    A = rng.standard_normal((k, m) if trans_a else (m, k)).astype(dtype)
    B = rng.standard_normal((n, k) if trans_b else (k, n)).astype(dtype)
    C = np.full((m, n), np.nan, dtype)
    seconds = gemm_seconds(trans_a, trans_b, A, B, C, 3)
    assert 0 < seconds < 1
    expected = (A.T if trans_a else A).astype(np.float64) @ (B.T if trans_b else B)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(C, expected, rtol=rtol, atol=rtol * np.abs(expected).max())
    with pytest.raises(ValueError, match="does not fit"):
        gemm_seconds(trans_a, trans_b, A, B, np.empty((m, n + 1), dtype), 1)
