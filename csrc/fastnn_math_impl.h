/* Fast, vectorisable exp and tanh for the element-wise kernels, generic over
 * REAL. Included once per precision by fastnn_kernels.c, which defines the
 * precision's constants (FNN_UINT, FNN_MANTISSA_BITS, FNN_EXPONENT_BIAS,
 * FNN_EXP_MIN, FNN_EXP_DEGREE, FNN_LN2_HI, FNN_LN2_LO). No libm call, no branch: gcc turns the loops
 * that use them into SIMD code (libm's exp is a scalar call per element).
 *
 * Accuracy, in ulp of the exact result, measured against long-double libm
 * (float32: every input; float64: 4e6 inputs), the worst of the baseline
 * build and the x86-64-v3 clone (which contracts to FMA; the v4 clone was
 * not measured):
 *                        float32   float64
 *   exp_nonpositive       1.22      1.13    on [FNN_EXP_MIN, 0]
 *   expm1_nonpositive     1.39      1.47    on [FNN_EXP_MIN, 0]
 *   tanh                  2.60      2.77    everywhere
 *   sigmoid               2.82      2.70    for z >= FNN_EXP_MIN
 * Below FNN_EXP_MIN, e^x comes out as e^FNN_EXP_MIN (1.65e-38 in float32,
 * 3.31e-308 in float64): an absolute error of at most that, in sigmoid too.
 * tests/test_kernels.py holds tanh and sigmoid to 3 ulp and checks the
 * clamp. */

/* 1/k! for the Taylor polynomial of e^r, |r| <= ln(2)/2. */
static const REAL FNN(inverse_factorial)[14] = {
    1.0, 1.0, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040,
    1.0 / 40320, 1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600,
    1.0 / 6227020800.0,
};

/* 2^n as REAL for the integer n held in t's low mantissa bits (t = x/ln2
 * + shifter, see below); n must be a normal exponent. */
static inline REAL FNN(two_to_the)(REAL t)
{
    FNN_UINT bits;
    memcpy(&bits, &t, sizeof bits);
    bits = (bits + FNN_EXPONENT_BIAS) << FNN_MANTISSA_BITS;
    REAL scale;
    memcpy(&scale, &bits, sizeof scale);
    return scale;
}

/* Range reduction x = n ln2 + r, |r| <= ln2 / 2, for x <= 0 (clamped below
 * at FNN_EXP_MIN, where e^x is below every use's resolution). Returns r;
 * *t holds n in its low mantissa bits for two_to_the. */
static inline REAL FNN(reduce)(REAL x, REAL *t)
{
    const REAL shifter = (REAL)1.5 * (REAL)((FNN_UINT)1 << FNN_MANTISSA_BITS);
    x = x < (REAL)FNN_EXP_MIN ? (REAL)FNN_EXP_MIN : x;
    /* round-to-nearest of x / ln2 by the add of the shifter */
    *t = x * (REAL)1.4426950408889634 + shifter;
    const REAL n = *t - shifter;
    /* ln 2 in two parts, the high part with trailing zero bits so that
     * n * ln2_hi is exact: r keeps full precision. */
    return (x - n * FNN_LN2_HI) - n * FNN_LN2_LO;
}

/* e^r - 1 for |r| <= ln2 / 2: Taylor polynomial without its constant term. */
static inline REAL FNN(expm1_reduced)(REAL r)
{
    REAL p = FNN(inverse_factorial)[FNN_EXP_DEGREE];
    for (int k = FNN_EXP_DEGREE - 1; k >= 1; k--) {
        p = p * r + FNN(inverse_factorial)[k];
    }
    return p * r;
}

/* e^x for x <= 0 (every caller passes a non-positive argument: that is how
 * sigmoid, softmax and tanh avoid overflow), to full relative precision
 * down to tiny results: 2^n (1 + (e^r - 1)). */
static inline REAL FNN(exp_nonpositive)(REAL x)
{
    REAL t;
    const REAL r = FNN(reduce)(x, &t);
    return FNN(two_to_the)(t) * ((REAL)1 + FNN(expm1_reduced)(r));
}

/* e^x - 1 for x <= 0, without cancellation near 0:
 * 2^n (e^r - 1) + (2^n - 1). */
static inline REAL FNN(expm1_nonpositive)(REAL x)
{
    REAL t;
    const REAL r = FNN(reduce)(x, &t);
    const REAL scale = FNN(two_to_the)(t);
    return scale * FNN(expm1_reduced)(r) + (scale - (REAL)1);
}

static inline REAL FNN(sigmoid)(REAL z)
{
    /* e = e^-|z| <= 1 never overflows; sigma(z) = 1/(1+e) for z >= 0 and
     * e/(1+e) below. */
    const REAL e = FNN(exp_nonpositive)(-fabs(z));
    const REAL s = (REAL)1 / ((REAL)1 + e);
    return z >= 0 ? s : e * s;
}

static inline REAL FNN(tanh)(REAL z)
{
    /* tanh|z| = -m / (2 + m) with m = e^(-2|z|) - 1: no cancellation near 0,
     * no overflow anywhere. */
    const REAL m = FNN(expm1_nonpositive)((REAL)-2 * fabs(z));
    const REAL t = -m / ((REAL)2 + m);
    return z < 0 ? -t : t;
}
