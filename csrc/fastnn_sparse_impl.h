/* Generic body of the sparse kernels (fastnn_sparse.h). Included by
 * fastnn_sparse.c once per (value, index) type pair with REAL, INDEX,
 * FNN(name) (adds the suffixes) and FNN_OPTIMIZER_STEP (the precision's
 * fnn_optimizer_step) defined.
 * No include guard on purpose: this file is meant to be included four times. */

/* z[0..n) += x * w[0..n): one nonzero's share of a row of Z, or of a row of a
 * weight gradient. restrict: z never overlaps w (Z or the gradient against W
 * or delta), so the loop vectorises without a run-time overlap test. */
static inline void FNN(add_scaled)(REAL *restrict z, REAL x, const REAL *restrict w, ptrdiff_t n)
{
    for (ptrdiff_t j = 0; j < n; j++) {
        z[j] += x * w[j];
    }
}

FNN_MULTIVERSION
void FNN(fnn_csr_forward_product)(const REAL *data, const INDEX *indices, const INDEX *indptr,
                                  const ptrdiff_t *order, ptrdiff_t first, ptrdiff_t rows,
                                  const REAL *W, ptrdiff_t n_out, REAL *Z)
{
    for (ptrdiff_t i = 0; i < rows; i++) {
        const ptrdiff_t r = order != NULL ? order[i] : first + i;
        const ptrdiff_t end = (ptrdiff_t)indptr[r + 1];
        ptrdiff_t p = (ptrdiff_t)indptr[r];
        REAL *restrict z = Z + i * n_out;
        memset(z, 0, (size_t)n_out * sizeof(REAL));
        /* Four nonzeros per pass over z: z is loaded and stored once for four
         * rows of W instead of once for each. */
        for (; p + 4 <= end; p += 4) {
            const REAL x0 = data[p], x1 = data[p + 1], x2 = data[p + 2], x3 = data[p + 3];
            const REAL *restrict w0 = W + (ptrdiff_t)indices[p] * n_out;
            const REAL *restrict w1 = W + (ptrdiff_t)indices[p + 1] * n_out;
            const REAL *restrict w2 = W + (ptrdiff_t)indices[p + 2] * n_out;
            const REAL *restrict w3 = W + (ptrdiff_t)indices[p + 3] * n_out;
            for (ptrdiff_t j = 0; j < n_out; j++) {
                z[j] += (x0 * w0[j] + x1 * w1[j]) + (x2 * w2[j] + x3 * w3[j]);
            }
        }
        for (; p < end; p++) {
            FNN(add_scaled)(z, data[p], W + (ptrdiff_t)indices[p] * n_out, n_out);
        }
    }
}

FNN_MULTIVERSION
void FNN(fnn_csr_weight_product)(const REAL *data, const INDEX *indices, const INDEX *indptr,
                                 const ptrdiff_t *order, ptrdiff_t first, ptrdiff_t rows,
                                 double alpha, const REAL *delta, ptrdiff_t ldd,
                                 ptrdiff_t first_in, ptrdiff_t end_in, ptrdiff_t n,
                                 double beta, REAL *C, ptrdiff_t ldc)
{
    const ptrdiff_t m = end_in - first_in;
    const REAL scale = (REAL)beta;
    if (m <= 0 || n <= 0) {
        return;
    }
    /* Whole rows (a block of W_0 split by its rows) are one contiguous run:
     * one memset (streaming stores for a large W_0) or one loop. */
    const ptrdiff_t runs = n == ldc ? 1 : m;
    const ptrdiff_t run = n == ldc ? m * n : n;
    if (beta == 0.0) {
        for (ptrdiff_t k = 0; k < runs; k++) {
            memset(C + k * ldc, 0, (size_t)run * sizeof(REAL));
        }
    } else if (beta != 1.0) {
        for (ptrdiff_t k = 0; k < runs; k++) {
            REAL *restrict c = C + k * ldc;
            for (ptrdiff_t j = 0; j < run; j++) {
                c[j] *= scale;
            }
        }
    }
    /* Batch rows in order, so every entry of C sums its terms in the same
     * order whatever the blocks are: threads change no result. */
    for (ptrdiff_t i = 0; i < rows; i++) {
        const ptrdiff_t r = order != NULL ? order[i] : first + i;
        const ptrdiff_t end = (ptrdiff_t)indptr[r + 1];
        const REAL *restrict d = delta + i * ldd;
        for (ptrdiff_t p = (ptrdiff_t)indptr[r]; p < end; p++) {
            const ptrdiff_t k = (ptrdiff_t)indices[p] - first_in;
            /* one unsigned comparison: k < 0 wraps to a huge value */
            if ((size_t)k >= (size_t)m) {
                continue;
            }
            FNN(add_scaled)(C + k * ldc, (REAL)alpha * data[p], d, n);
        }
    }
}

FNN_MULTIVERSION
void FNN(fnn_csr_optimizer_rows)(const REAL *data, const INDEX *indices, const INDEX *indptr,
                                 const ptrdiff_t *order, ptrdiff_t first, ptrdiff_t rows,
                                 double alpha, const REAL *delta, ptrdiff_t n,
                                 ptrdiff_t first_in, ptrdiff_t end_in, REAL *param,
                                 REAL *first_moment, REAL *second_moment, const fnn_step *step,
                                 ptrdiff_t *starts, ptrdiff_t *entry_rows, REAL *entry_values,
                                 REAL *chunk, ptrdiff_t chunk_rows)
{
    const ptrdiff_t m = end_in - first_in;
    if (m <= 0) {
        return;
    }
    /* The block's nonzeros bucketed by column (a counting sort, stable: each
     * column's entries stay in batch order, so every gradient entry sums
     * its terms in the order fnn_csr_weight_product does, bit for bit).
     * starts[k] ends as the end of column k's entries, the start of k + 1's. */
    memset(starts, 0, (size_t)(m + 1) * sizeof(ptrdiff_t));
    for (ptrdiff_t i = 0; i < rows; i++) {
        const ptrdiff_t r = order != NULL ? order[i] : first + i;
        for (ptrdiff_t p = (ptrdiff_t)indptr[r]; p < (ptrdiff_t)indptr[r + 1]; p++) {
            const ptrdiff_t k = (ptrdiff_t)indices[p] - first_in;
            if ((size_t)k < (size_t)m) {
                starts[k + 1]++;
            }
        }
    }
    for (ptrdiff_t k = 0; k < m; k++) {
        starts[k + 1] += starts[k];
    }
    for (ptrdiff_t i = 0; i < rows; i++) {
        const ptrdiff_t r = order != NULL ? order[i] : first + i;
        for (ptrdiff_t p = (ptrdiff_t)indptr[r]; p < (ptrdiff_t)indptr[r + 1]; p++) {
            const ptrdiff_t k = (ptrdiff_t)indices[p] - first_in;
            if ((size_t)k < (size_t)m) {
                const ptrdiff_t e = starts[k]++;
                entry_rows[e] = i;
                entry_values[e] = data[p];
            }
        }
    }
    /* Chunk by chunk of rows: their gradient in the cache-sized `chunk`,
     * then the rule on those rows of W_0 and its moments in one pass. */
    for (ptrdiff_t k0 = 0; k0 < m; k0 += chunk_rows) {
        const ptrdiff_t count = m - k0 < chunk_rows ? m - k0 : chunk_rows;
        memset(chunk, 0, (size_t)(count * n) * sizeof(REAL));
        for (ptrdiff_t k = k0; k < k0 + count; k++) {
            for (ptrdiff_t e = k == 0 ? 0 : starts[k - 1]; e < starts[k]; e++) {
                FNN(add_scaled)(chunk + (k - k0) * n, (REAL)alpha * entry_values[e],
                                delta + entry_rows[e] * n, n);
            }
        }
        const ptrdiff_t offset = k0 * n;
        FNN_OPTIMIZER_STEP(param + offset, chunk,
                           first_moment != NULL ? first_moment + offset : NULL,
                           second_moment != NULL ? second_moment + offset : NULL,
                           count * n, step);
    }
}
