"""fastnn's own kernel for products with a narrow result
(csrc/fastnn_narrow_impl.h), forced through gemm_checked(kernel="narrow"),
against NumPy's product in float64: every width across the vector and
column-block boundaries, both orientations of A, alpha/beta, long inner
dimensions (B read in chunks), and B ending at an unreadable page (the
kernel reads whole vectors past a row's end only inside the matrix)."""
import ctypes
import ctypes.util
import mmap

import numpy as np
import pytest

from fastnn._core.blas import gemm_checked

LANES = {np.float32: 8, np.float64: 4}


def product_case(m, n, k, trans_a, dtype, seed):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((k, m) if trans_a else (m, k)).astype(dtype)
    B = rng.standard_normal((k, n)).astype(dtype)
    exact = (A.T if trans_a else A).astype(np.float64) @ B.astype(np.float64)
    return A, B, exact


def assert_product(C, expected, k, dtype):
    # float32: each sum rounds k times; the bound scales with sqrt(k)
    eps = 1e-13 if dtype == np.float64 else 2e-6
    np.testing.assert_allclose(C, expected, rtol=0,
                               atol=eps * np.sqrt(k) * max(1.0, np.abs(expected).max()))


def widths(dtype):
    """1 .. past the kernel's four vectors, into a second column block."""
    return range(1, 5 * LANES[dtype] + 2)


@pytest.mark.parametrize("trans_a", [False, True], ids=["A", "A.T"])
@pytest.mark.parametrize("m", [1, 5, 13])
@pytest.mark.parametrize("k", [1, 6, 37])
def test_every_width_matches_matmul(m, k, trans_a, dtype):
    for n in widths(dtype):
        A, B, exact = product_case(m, n, k, trans_a, dtype, seed=m * 1000 + n * 10 + k)
        C = np.random.default_rng(n).standard_normal((m, n)).astype(dtype)
        expected = 1.5 * exact - 0.25 * C.astype(np.float64)
        gemm_checked(trans_a, False, 1.5, A, B, -0.25, C, kernel="narrow")
        assert_product(C, expected, k, dtype)


@pytest.mark.parametrize("trans_a", [False, True], ids=["A", "A.T"])
def test_beta_zero_overwrites_nan(trans_a, dtype):
    """beta = 0: C is written, never read (BLAS's rule)."""
    for n in (3, LANES[dtype], 3 * LANES[dtype] + 1):
        A, B, exact = product_case(11, n, 9, trans_a, dtype, seed=n)
        C = np.full((11, n), np.nan, dtype)
        gemm_checked(trans_a, False, 0.5, A, B, 0.0, C, kernel="narrow")
        assert_product(C, 0.5 * exact, 9, dtype)


@pytest.mark.parametrize("trans_a", [False, True], ids=["A", "A.T"])
def test_long_inner_dimension_is_summed_in_chunks(trans_a, dtype):
    """Past FNN_NARROW_CHUNK_BYTES of B (16384 rows of one float vector,
    4096 of four double vectors) the later chunks add to the first."""
    for n, k in ((3, 16384 * 2 + 5), (4 * LANES[dtype], 4096 * 2 + 3)):
        A, B, exact = product_case(3, n, k, trans_a, dtype, seed=k)
        C = np.ones((3, n), dtype)
        gemm_checked(trans_a, False, 1.0, A, B, 2.0, C, kernel="narrow")
        assert_product(C, exact + 2.0, k, dtype)


@pytest.mark.parametrize("trans_a", [False, True], ids=["A", "A.T"])
def test_leading_dimensions_and_untouched_neighbours(trans_a, dtype):
    rng = np.random.default_rng(2)
    m, n, k = 14, 2 * LANES[dtype] + 3, 23
    big_A = rng.standard_normal((k + m + 3, k + m + 5)).astype(dtype)
    big_B = rng.standard_normal((k + 2, n + 6)).astype(dtype)
    big_C = rng.standard_normal((m + 2, n + 5)).astype(dtype)
    A = big_A[:k, 1:1 + m] if trans_a else big_A[:m, 1:1 + k]
    B, C = big_B[1:1 + k, 2:2 + n], big_C[1:1 + m, 2:2 + n]
    outside = big_C.copy()
    expected = (A.T if trans_a else A).astype(np.float64) @ B.astype(np.float64)
    gemm_checked(trans_a, False, 1.0, A, B, 0.0, C, kernel="narrow")
    assert_product(C, expected, k, dtype)
    outside[1:1 + m, 2:2 + n] = C
    np.testing.assert_array_equal(big_C, outside)


def array_before_guard_page(shape, dtype):
    """A C-ordered array whose last byte is the last byte before a page that
    may not be read (mprotect PROT_NONE): reading past it would crash."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    itemsize = np.dtype(dtype).itemsize
    nbytes = int(np.prod(shape)) * itemsize
    page = mmap.PAGESIZE
    pages = -(-nbytes // page) + 1
    buffer = mmap.mmap(-1, pages * page, prot=mmap.PROT_READ | mmap.PROT_WRITE)
    start = ctypes.addressof(ctypes.c_char.from_buffer(buffer))
    guard = start + (pages - 1) * page
    if libc.mprotect(ctypes.c_void_p(guard), ctypes.c_size_t(page), 0) != 0:
        pytest.skip(f"mprotect failed: errno {ctypes.get_errno()}")
    array = np.frombuffer(buffer, dtype, count=int(np.prod(shape)),
                          offset=(pages - 1) * page - nbytes).reshape(shape)
    return array, buffer


@pytest.mark.parametrize("trans_a", [False, True], ids=["A", "A.T"])
def test_never_reads_past_the_end_of_b(trans_a, dtype):
    for n in (1, 3, LANES[dtype] - 1, LANES[dtype] + 1, 4 * LANES[dtype] - 1):
        for k in (1, 2, 9):
            A, B_values, exact = product_case(7, n, k, trans_a, dtype, seed=n * 10 + k)
            B, keep_alive = array_before_guard_page((k, n), dtype)
            B[...] = B_values
            C = np.empty((7, n), dtype)
            gemm_checked(trans_a, False, 1.0, A, B, 0.0, C, kernel="narrow")
            assert_product(C, exact, k, dtype)
            del B, keep_alive


def test_an_unknown_kernel_is_named():
    A = np.ones((2, 2))
    with pytest.raises(ValueError, match="kernel must be one of"):
        gemm_checked(False, False, 1.0, A, A, 0.0, A.copy(), kernel="mkl")
