/* Matrix products with a narrow result, C (m x n) = alpha op(A) B + beta C,
 * where each row of C is a few SIMD vectors: the products into a layer of
 * few units (10 classes, W5's 20 hidden units) and their weight gradients.
 * BLAS's kernels are built for wide tiles of C; on these shapes they run at
 * a third to a half of the core's peak (benchmarks/KERNELS.md).
 *
 * op(A) is read through two strides, op(A)[i, r] = A[i * a_row + r * a_col]:
 * (lda, 1) for A itself (a layer's forward product A W), (1, lda) for A's
 * transpose (a weight gradient A^T delta). B is row-major, k x n, row
 * stride ldb.
 *
 * A tile of C, `rows` rows by `vectors` vectors, is held in registers over
 * the whole inner dimension: each step loads one row of B as vectors and
 * adds a(i, r) * B[r, :] into every row of the tile, so the sums never go
 * through memory. Every C[i, j] adds its k products in the order r = 0, 1,
 * ..., one accumulator each: the result depends on nothing but the operands
 * (not on the tile, block or thread that computed it).
 *
 * Included once per precision by fastnn_narrow.c (REAL, FNN(name)). */
#include "fastnn_lanes_impl.h"

/* A vector loaded from or stored to any REAL's address. */
typedef REAL FNN(unaligned_lanes) __attribute__((vector_size(32), aligned(sizeof(REAL)), may_alias));
/* The tile's loops, unrolled whole: their indices become constants, and the
 * sums registers (left as loops, GCC kept the sums on the stack: 6 GFLOP/s
 * instead of 40). */
#ifndef FNN_UNROLLED
#define FNN_UNROLLED _Pragma("GCC unroll 16")
#endif

/* sum[i] += op(A)[i, r] * B[r, :] for the tile's rows i, B[r, :] loaded as
 * whole vectors from `row`: where they reach past the row's end they read
 * into the next row, and those lanes of the tile are never stored. A macro,
 * not a function, so that the sums are never addressed (and stay in
 * registers). */
#define FNN_NARROW_STEP(ROWS, VECTORS, row)                                                  \
    do {                                                                                     \
        FNN(lanes) b[VECTORS];                                                               \
        FNN_UNROLLED for (int v = 0; v < VECTORS; v++) {                                     \
            b[v] = *(const FNN(unaligned_lanes) *)((row) + v * lanes);                       \
        }                                                                                    \
        FNN_UNROLLED for (int i = 0; i < ROWS; i++) {                                        \
            const REAL a = A[i * a_row + r * a_col];                                         \
            FNN_UNROLLED for (int v = 0; v < VECTORS; v++) {                                 \
                sum[i][v] += a * b[v];                                                       \
            }                                                                                \
        }                                                                                    \
    } while (0)

/* One tile, ROWS x VECTORS, as a function of its own: C[0:ROWS, 0:n] =
 * alpha op(A)[0:ROWS, :] B + beta C[0:ROWS, 0:n]; rows of B below
 * whole_rows may be loaded as whole vectors. beta == 0 ignores C (BLAS's
 * rule: it may hold anything, NaN included). The sums are an array of
 * exactly ROWS x VECTORS, indexed by constants once the loops unroll. */
#define FNN_NARROW_TILE(ROWS, VECTORS)                                                       \
static inline __attribute__((always_inline)) void FNN(narrow_tile_##ROWS##x##VECTORS)(     \
    ptrdiff_t k, ptrdiff_t whole_rows, const REAL *A, ptrdiff_t a_row, ptrdiff_t a_col,     \
    const REAL *B, ptrdiff_t ldb, ptrdiff_t n, REAL alpha, REAL beta, REAL *C, ptrdiff_t ldc) \
{                                                                                            \
    const ptrdiff_t lanes = FNN_LANES_OF(REAL);                                              \
    FNN(lanes) sum[ROWS][VECTORS];                                                           \
    FNN_UNROLLED for (int i = 0; i < ROWS; i++) {                                            \
        FNN_UNROLLED for (int v = 0; v < VECTORS; v++) {                                     \
            sum[i][v] = (FNN(lanes)){0};                                                     \
        }                                                                                    \
    }                                                                                        \
    ptrdiff_t r = 0;                                                                         \
    for (; r < whole_rows && r < k; r++) {                                                   \
        FNN_NARROW_STEP(ROWS, VECTORS, B + r * ldb);                                         \
    }                                                                                        \
    for (; r < k; r++) {                                                                     \
        /* the last rows: their n values, padded, so whole vectors stay inside */          \
        REAL padded[VECTORS * FNN_LANES_OF(REAL)] = {0};                                     \
        for (ptrdiff_t j = 0; j < n; j++) {                                                  \
            padded[j] = B[r * ldb + j];                                                      \
        }                                                                                    \
        FNN_NARROW_STEP(ROWS, VECTORS, padded);                                              \
    }                                                                                        \
    FNN_UNROLLED for (int i = 0; i < ROWS; i++) {                                            \
        REAL *c = C + i * ldc;                                                               \
        FNN_UNROLLED for (int v = 0; v < VECTORS; v++) {                                     \
            const ptrdiff_t first = v * lanes;                                               \
            FNN(lanes) x = alpha * sum[i][v];                                                \
            if (n - first >= lanes) {                                                        \
                if (beta != 0) {                                                             \
                    x += beta * *(FNN(unaligned_lanes) *)(c + first);                        \
                }                                                                            \
                *(FNN(unaligned_lanes) *)(c + first) = x;                                    \
            } else {                                                                         \
                for (ptrdiff_t j = first; j < n; j++) {                                      \
                    c[j] = beta == 0 ? x[j - first] : x[j - first] + beta * c[j];            \
                }                                                                            \
            }                                                                                \
        }                                                                                    \
    }                                                                                        \
}

/* All of C's m rows in tiles of ROWS, the rest one row at a time. */
#define FNN_NARROW_PANEL(ROWS, VECTORS)                                                      \
FNN_NARROW_TILE(ROWS, VECTORS)                                                               \
FNN_NARROW_TILE(1, VECTORS)                                                                  \
static inline __attribute__((always_inline)) void FNN(narrow_panel_##VECTORS)(              \
    ptrdiff_t m, ptrdiff_t k, ptrdiff_t whole_rows, const REAL *A, ptrdiff_t a_row,          \
    ptrdiff_t a_col, const REAL *B, ptrdiff_t ldb, ptrdiff_t n, REAL alpha, REAL beta,       \
    REAL *C, ptrdiff_t ldc)                                                                  \
{                                                                                            \
    ptrdiff_t i = 0;                                                                         \
    for (; i + ROWS <= m; i += ROWS) {                                                       \
        FNN(narrow_tile_##ROWS##x##VECTORS)(k, whole_rows, A + i * a_row, a_row, a_col, B,   \
                                            ldb, n, alpha, beta, C + i * ldc, ldc);          \
    }                                                                                        \
    for (; i < m; i++) {                                                                     \
        FNN(narrow_tile_1x##VECTORS)(k, whole_rows, A + i * a_row, a_row, a_col, B, ldb, n,  \
                                     alpha, beta, C + i * ldc, ldc);                         \
    }                                                                                        \
}

/* The tile for each row width (FNN_NARROW_MAX_ROWS is the largest). */
FNN_NARROW_PANEL(8, 1)
FNN_NARROW_PANEL(6, 2)
FNN_NARROW_PANEL(4, 3)
FNN_NARROW_PANEL(3, 4)
#undef FNN_NARROW_STEP
#undef FNN_NARROW_TILE
#undef FNN_NARROW_PANEL

FNN_MULTIVERSION
void FNN(fnn_narrow_gemm)(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, double alpha, const REAL *A,
                          ptrdiff_t a_row, ptrdiff_t a_col, const REAL *B, ptrdiff_t ldb,
                          double beta, REAL *C, ptrdiff_t ldc)
{
    const ptrdiff_t lanes = FNN_LANES_OF(REAL);
    const ptrdiff_t block = FNN_NARROW_MAX_VECTORS * lanes;
    /* Wider results in blocks of columns, each a narrow product of its own. */
    for (ptrdiff_t first = 0; first < n; first += block) {
        const ptrdiff_t width = n - first < block ? n - first : block;
        const int vectors = (int)((width + lanes - 1) / lanes);
        const REAL *B_block = B + first;
        /* rows r of the block with r * ldb + vectors * lanes <= the values
         * that follow B_block in B: loadable as whole vectors */
        const ptrdiff_t readable = k > 0 ? (k - 1) * ldb + width : 0;
        const ptrdiff_t whole_rows = readable >= vectors * lanes
                                     ? (readable - vectors * lanes) / ldb + 1 : 0;
        /* B's rows in chunks that stay in L2 while every tile of C passes
         * over them (W5: 12288 rows of 20 floats would not) */
        ptrdiff_t chunk = FNN_NARROW_CHUNK_BYTES / (vectors * lanes * (ptrdiff_t)sizeof(REAL));
        ptrdiff_t k0 = 0;
        do {
            const ptrdiff_t count = k - k0 < chunk ? k - k0 : chunk;
            /* later chunks add to what the first wrote */
            const REAL chunk_beta = k0 == 0 ? (REAL)beta : (REAL)1;
            ptrdiff_t chunk_whole = whole_rows - k0;
            chunk_whole = chunk_whole < 0 ? 0 : chunk_whole > count ? count : chunk_whole;
            const REAL *Ak = A + k0 * a_col, *Bk = B_block + k0 * ldb;
            REAL *Cb = C + first;
            switch (vectors) {
            case 1:
                FNN(narrow_panel_1)(m, count, chunk_whole, Ak, a_row, a_col, Bk, ldb, width,
                                    (REAL)alpha, chunk_beta, Cb, ldc);
                break;
            case 2:
                FNN(narrow_panel_2)(m, count, chunk_whole, Ak, a_row, a_col, Bk, ldb, width,
                                    (REAL)alpha, chunk_beta, Cb, ldc);
                break;
            case 3:
                FNN(narrow_panel_3)(m, count, chunk_whole, Ak, a_row, a_col, Bk, ldb, width,
                                    (REAL)alpha, chunk_beta, Cb, ldc);
                break;
            default:
                FNN(narrow_panel_4)(m, count, chunk_whole, Ak, a_row, a_col, Bk, ldb, width,
                                    (REAL)alpha, chunk_beta, Cb, ldc);
                break;
            }
            k0 += count;
        } while (k0 < k);
    }
}
