/* Generic body of the fused pass of tiny networks (fastnn_tiny.h), included
 * once per precision by fastnn_instantiate.h after fastnn_kernels_impl.h,
 * whose inline activate, derivative and row_loss it uses: the mathematics
 * is stated once, only the loops around it are this file's.
 *
 * Layout: within a tile, unit j of a layer holds its FNN_TINY_ROWS rows
 * contiguously (lane r = the tile's row r), so every loop below is over
 * the lanes, of constant length, and vectorises into whole-vector
 * operations for any layer width, one unit included. The helpers are
 * always inlined: an outlined copy would be compiled for the baseline
 * instruction set, not for the entry point's AVX2/AVX-512 clone.
 * No include guard on purpose: this file is meant to be included twice. */

#define FNN_TINY_INLINE static inline __attribute__((always_inline))

/* out[r] = g(z[r]) over `count` values (units x lanes), g a constant. */
FNN_TINY_INLINE void FNN(tiny_activate_values)(const REAL *restrict z, REAL *restrict a,
                                               ptrdiff_t count, const int activation,
                                               REAL slope)
{
    for (ptrdiff_t k = 0; k < count; k++) {
        a[k] = FNN(activate)(z[k], activation, slope);
    }
}

/* softmax_row's arithmetic (fastnn_kernels_impl.h) for every lane at once:
 * each lane's units are a row of the batch. */
FNN_TINY_INLINE void FNN(tiny_softmax)(const REAL *restrict z, REAL *restrict a, ptrdiff_t units)
{
    REAL zmax[FNN_TINY_ROWS], total[FNN_TINY_ROWS];
    for (ptrdiff_t r = 0; r < FNN_TINY_ROWS; r++) {
        zmax[r] = z[r];
        total[r] = 0;
    }
    for (ptrdiff_t j = 1; j < units; j++) {
        for (ptrdiff_t r = 0; r < FNN_TINY_ROWS; r++) {
            const REAL value = z[j * FNN_TINY_ROWS + r];
            zmax[r] = value > zmax[r] ? value : zmax[r];
        }
    }
    for (ptrdiff_t j = 0; j < units; j++) {
        for (ptrdiff_t r = 0; r < FNN_TINY_ROWS; r++) {
            const ptrdiff_t k = j * FNN_TINY_ROWS + r;
            a[k] = FNN(exp_nonpositive)(z[k] - zmax[r]);
            total[r] += a[k];
        }
    }
    for (ptrdiff_t j = 0; j < units; j++) {
        for (ptrdiff_t r = 0; r < FNN_TINY_ROWS; r++) {
            a[j * FNN_TINY_ROWS + r] /= total[r];
        }
    }
}

/* A_l = g_l(Z_l) of a tile, the switch outside the loop so that each case
 * is one loop specialised for its activation. */
FNN_TINY_INLINE void FNN(tiny_activate)(const REAL *z, REAL *a, ptrdiff_t units, int activation,
                                        REAL slope)
{
    const ptrdiff_t count = units * FNN_TINY_ROWS;
    switch (activation) {
#define FNN_CASE(CODE) \
    case CODE: FNN(tiny_activate_values)(z, a, count, CODE, slope); break;
    FNN_ELEMENTWISE_ACTIVATIONS(FNN_CASE)
#undef FNN_CASE
    case FNN_SOFTMAX: FNN(tiny_softmax)(z, a, units); break;
    default: FNN(tiny_activate_values)(z, a, count, FNN_IDENTITY, slope);
    }
}

/* delta[k] *= g'(z[k]) over `count` values, g a constant. */
FNN_TINY_INLINE void FNN(tiny_derivative_values)(REAL *restrict delta, const REAL *restrict z,
                                                 const REAL *restrict a, ptrdiff_t count,
                                                 const int activation, REAL slope)
{
    for (ptrdiff_t k = 0; k < count; k++) {
        delta[k] *= FNN(derivative)(z[k], a[k], activation, slope);
    }
}

/* delta *= g'(Z) of an element-wise activation (identity: nothing to do). */
FNN_TINY_INLINE void FNN(tiny_derivative)(REAL *delta, const REAL *z, const REAL *a,
                                          ptrdiff_t units, int activation, REAL slope)
{
    const ptrdiff_t count = units * FNN_TINY_ROWS;
    switch (activation) {
#define FNN_CASE(CODE) \
    case CODE: FNN(tiny_derivative_values)(delta, z, a, count, CODE, slope); break;
    FNN_ELEMENTWISE_ACTIVATIONS(FNN_CASE)
#undef FNN_CASE
    default: break; /* FNN_IDENTITY */
    }
}

/* out[i] = bias[i] + sum_m M[i, m] in[m] for every lane,
 * M[i, m] = W[i * i_stride + m * m_stride]: with W_l (n_in x n_out,
 * row-major), i_stride 1 and m_stride n_out give the forward
 * Z_l = A_{l-1} W_l + b_l; i_stride n_out and m_stride 1 the backward
 * delta_l @ W_l.T. */
FNN_TINY_INLINE void FNN(tiny_lane_product)(const REAL *restrict in, ptrdiff_t n_in,
                                            const REAL *restrict W, ptrdiff_t i_stride,
                                            ptrdiff_t m_stride, const REAL *restrict bias,
                                            ptrdiff_t n_out, REAL *restrict out)
{
    for (ptrdiff_t i = 0; i < n_out; i++) {
        REAL sum[FNN_TINY_ROWS];
        for (ptrdiff_t r = 0; r < FNN_TINY_ROWS; r++) {
            sum[r] = bias[i];
        }
        for (ptrdiff_t m = 0; m < n_in; m++) {
            const REAL w = W[i * i_stride + m * m_stride];
            for (ptrdiff_t r = 0; r < FNN_TINY_ROWS; r++) {
                sum[r] += w * in[m * FNN_TINY_ROWS + r];
            }
        }
        for (ptrdiff_t r = 0; r < FNN_TINY_ROWS; r++) {
            out[i * FNN_TINY_ROWS + r] = sum[r];
        }
    }
}

/* Lane-wise partial sums of the layer's gradient: gW[k, j] += in[k] delta[j],
 * gb[j] += delta[j] (A_{l-1}.T @ delta_l and delta_l.sum(0), one row per lane). */
FNN_TINY_INLINE void FNN(tiny_accumulate)(const REAL *restrict in, ptrdiff_t n_in,
                                          const REAL *restrict delta, ptrdiff_t n_out,
                                          REAL *restrict gW, REAL *restrict gb)
{
    for (ptrdiff_t j = 0; j < n_out; j++) {
        for (ptrdiff_t r = 0; r < FNN_TINY_ROWS; r++) {
            gb[j * FNN_TINY_ROWS + r] += delta[j * FNN_TINY_ROWS + r];
        }
    }
    for (ptrdiff_t k = 0; k < n_in; k++) {
        for (ptrdiff_t j = 0; j < n_out; j++) {
            REAL *restrict g = gW + (k * n_out + j) * FNN_TINY_ROWS;
            for (ptrdiff_t r = 0; r < FNN_TINY_ROWS; r++) {
                g[r] += in[k * FNN_TINY_ROWS + r] * delta[j * FNN_TINY_ROWS + r];
            }
        }
    }
}

/* delta_L = n dJ/dZ_L of a tile (SPEC 2), times each lane's weight: A_L - Y
 * for the canonical links (log-loss, cross-entropy, poisson); for the
 * squared loss times g'(Z_L), through softmax its Jacobian-vector product
 * (as fnn_output_delta). */
FNN_TINY_INLINE void FNN(tiny_output_delta)(REAL *restrict delta, const REAL *restrict z,
                                            const REAL *restrict a, const REAL *restrict y,
                                            const REAL *restrict lane_weight, ptrdiff_t units,
                                            int loss, int activation, REAL slope)
{
    const ptrdiff_t count = units * FNN_TINY_ROWS;
    for (ptrdiff_t k = 0; k < count; k++) {
        delta[k] = a[k] - y[k];
    }
    if (loss == FNN_SQUARED && activation == FNN_SOFTMAX) {
        REAL dot[FNN_TINY_ROWS] = {0};
        for (ptrdiff_t j = 0; j < units; j++) {
            for (ptrdiff_t r = 0; r < FNN_TINY_ROWS; r++) {
                dot[r] += delta[j * FNN_TINY_ROWS + r] * a[j * FNN_TINY_ROWS + r];
            }
        }
        for (ptrdiff_t j = 0; j < units; j++) {
            for (ptrdiff_t r = 0; r < FNN_TINY_ROWS; r++) {
                const ptrdiff_t k = j * FNN_TINY_ROWS + r;
                delta[k] = a[k] * (delta[k] - dot[r]);
            }
        }
    } else if (loss == FNN_SQUARED) {
        FNN(tiny_derivative)(delta, z, a, units, activation, slope);
    }
    for (ptrdiff_t j = 0; j < units; j++) {
        for (ptrdiff_t r = 0; r < FNN_TINY_ROWS; r++) {
            delta[j * FNN_TINY_ROWS + r] *= lane_weight[r];
        }
    }
}

FNN_MULTIVERSION
double FNN(fnn_tiny_gradient)(const fnn_tiny_network *net, const REAL *params, const REAL *X,
                              const REAL *Y, const REAL *weights, ptrdiff_t rows,
                              double weight_sum, int with_loss, REAL *scratch, REAL *grads)
{
    enum { T = FNN_TINY_ROWS };
    const ptrdiff_t n_layers = net->n_layers, last = n_layers - 1;
    const ptrdiff_t *sizes = net->sizes;
    const ptrdiff_t n_features = sizes[0], n_outputs = sizes[n_layers];
    const ptrdiff_t n_params = net->intercept_offsets[last] + n_outputs;
    const REAL slope = (REAL)net->leaky_slope;
    ptrdiff_t total_units = 0;
    for (ptrdiff_t l = 1; l <= n_layers; l++) {
        total_units += sizes[l];
    }
    /* the scratch's parts, as fnn_tiny_scratch_values counts them */
    REAL *x = scratch;                           /* the tile's input, n_features x T */
    REAL *Z = x + n_features * T;                /* layer l's units from unit offset sum_{m<l} sizes[m+1] */
    REAL *A = Z + total_units * T;
    REAL *D = A + total_units * T;               /* deltas, laid out like Z */
    REAL *y = D + total_units * T;               /* the tile's targets */
    REAL *lane_weight = y + n_outputs * T;       /* the row's sample weight; 0 in unused lanes */
    REAL *partial = lane_weight + T;             /* gradient partial sums, laid out like params x T */
    const ptrdiff_t output_offset = (total_units - n_outputs) * T;
    const REAL no_bias[FNN_TINY_MAX_UNITS] = {0};  /* the backward product's */
    double loss_total = 0.0;

    for (ptrdiff_t k = 0; k < n_params * T; k++) {
        partial[k] = 0;
    }
    for (ptrdiff_t first = 0; first < rows; first += T) {
        const ptrdiff_t count = rows - first < T ? rows - first : T;
        /* Lanes past the batch's end repeat its first row with weight 0: they
         * add nothing, and compute nothing a real row does not. */
        for (ptrdiff_t r = 0; r < T; r++) {
            const ptrdiff_t row = first + (r < count ? r : 0);
            for (ptrdiff_t k = 0; k < n_features; k++) {
                x[k * T + r] = X[row * n_features + k];
            }
            for (ptrdiff_t j = 0; j < n_outputs; j++) {
                y[j * T + r] = Y[row * n_outputs + j];
            }
            lane_weight[r] = r >= count ? (REAL)0 : weights != NULL ? weights[row] : (REAL)1;
        }
        /* forward: Z_l = A_{l-1} W_l + b_l, A_l = g_l(Z_l), A_{-1} = X */
        const REAL *in = x;
        ptrdiff_t offset = 0;
        for (ptrdiff_t l = 0; l < n_layers; l++) {
            FNN(tiny_lane_product)(in, sizes[l], params + net->coef_offsets[l], 1,
                                   sizes[l + 1], params + net->intercept_offsets[l],
                                   sizes[l + 1], Z + offset);
            FNN(tiny_activate)(Z + offset, A + offset, sizes[l + 1], net->activations[l], slope);
            in = A + offset;
            offset += sizes[l + 1] * T;
        }
        if (with_loss) {
            /* row_loss reads one row's units contiguously */
            REAL z_row[FNN_TINY_MAX_UNITS], a_row[FNN_TINY_MAX_UNITS], y_row[FNN_TINY_MAX_UNITS];
            for (ptrdiff_t r = 0; r < count; r++) {
                for (ptrdiff_t j = 0; j < n_outputs; j++) {
                    z_row[j] = Z[output_offset + j * T + r];
                    a_row[j] = A[output_offset + j * T + r];
                    y_row[j] = y[j * T + r];
                }
                const double row_loss = FNN(row_loss)(z_row, a_row, y_row, n_outputs, net->loss);
                loss_total += weights != NULL ? (double)lane_weight[r] * row_loss : row_loss;
            }
        }
        /* backward: delta_L, then delta_{l-1} = (delta_l W_l.T) * g'(Z_{l-1}),
         * each layer's gradient gathered on the way */
        offset = output_offset;
        FNN(tiny_output_delta)(D + offset, Z + offset, A + offset, y, lane_weight, n_outputs,
                               net->loss, net->activations[last], slope);
        for (ptrdiff_t l = last; l >= 0; l--) {
            const ptrdiff_t below = l > 0 ? offset - sizes[l] * T : 0;
            FNN(tiny_accumulate)(l > 0 ? A + below : x, sizes[l], D + offset, sizes[l + 1],
                                 partial + net->coef_offsets[l] * T,
                                 partial + net->intercept_offsets[l] * T);
            if (l > 0) {
                FNN(tiny_lane_product)(D + offset, sizes[l + 1], params + net->coef_offsets[l],
                                       sizes[l + 1], 1, no_bias, sizes[l], D + below);
                FNN(tiny_derivative)(D + below, Z + below, A + below, sizes[l],
                                     net->activations[l - 1], slope);
            }
            offset = below;
        }
    }
    /* the lanes' sums over n, and the L2 term of the weights (never the biases) */
    const REAL inv_rows = (REAL)(1.0 / weight_sum);
    const REAL l2_scale = (REAL)(net->l2 / weight_sum);
    for (ptrdiff_t l = 0; l < n_layers; l++) {
        const ptrdiff_t start = net->coef_offsets[l], weights_end = net->intercept_offsets[l];
        const ptrdiff_t end = weights_end + sizes[l + 1];
        for (ptrdiff_t p = start; p < end; p++) {
            REAL sum = 0;
            for (ptrdiff_t r = 0; r < T; r++) {
                sum += partial[p * T + r];
            }
            grads[p] = sum * inv_rows + (p < weights_end ? l2_scale * params[p] : (REAL)0);
        }
    }
    return loss_total;
}

#undef FNN_TINY_INLINE
