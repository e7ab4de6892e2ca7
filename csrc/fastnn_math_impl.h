/* Fast, vectorisable exp and tanh for the element-wise kernels, generic over
 * REAL. Included once per precision by fastnn_kernels.c, which defines the
 * precision's constants (FNN_UINT, FNN_MANTISSA_BITS, FNN_EXPONENT_BIAS,
 * FNN_EXP_MIN, FNN_EXP_DEGREE, FNN_LN2_HI, FNN_LN2_LO). No libm call, no branch: gcc turns the loops
 * that use them into SIMD code (libm's exp is a scalar call per element).
 * Accuracy: within 2 ulp of libm on the ranges used (checked in
 * tests/test_kernels.py against NumPy). */

/* 1/k! for the Taylor polynomial of e^r, |r| <= ln(2)/2. */
static const REAL FNN(inverse_factorial)[14] = {
    1.0, 1.0, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040,
    1.0 / 40320, 1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600,
    1.0 / 6227020800.0,
};

/* e^x for x <= 0 (every caller passes a non-positive argument: that is how
 * sigmoid, softmax and tanh avoid overflow). x = n ln2 + r; e^r by a Taylor
 * polynomial; 2^n written straight into the exponent bits. Arguments below
 * FNN_EXP_MIN give e^FNN_EXP_MIN, a value below every use's resolution. */
static inline REAL FNN(exp_nonpositive)(REAL x)
{
    const REAL shifter = (REAL)1.5 * (REAL)((FNN_UINT)1 << FNN_MANTISSA_BITS);
    x = x < (REAL)FNN_EXP_MIN ? (REAL)FNN_EXP_MIN : x;
    /* t's low mantissa bits hold n = round(x / ln 2) (round-to-nearest by the add). */
    const REAL t = x * (REAL)1.4426950408889634 + shifter;
    const REAL n = t - shifter;
    /* ln 2 in two parts, the high part with trailing zero bits so that
     * n * ln2_hi is exact: r keeps full precision. */
    const REAL r = (x - n * FNN_LN2_HI) - n * FNN_LN2_LO;
    REAL p = FNN(inverse_factorial)[FNN_EXP_DEGREE];
    for (int k = FNN_EXP_DEGREE - 1; k >= 0; k--) {
        p = p * r + FNN(inverse_factorial)[k];
    }
    FNN_UINT bits;
    memcpy(&bits, &t, sizeof bits);
    bits = (bits + FNN_EXPONENT_BIAS) << FNN_MANTISSA_BITS;
    REAL scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
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
    const REAL x = fabs(z);
    /* Near 0, (1-e)/(1+e) cancels: use the odd Taylor series there
     * (|z| < 0.1: the first omitted term is below 1e-17 relative). */
    const REAL x2 = x * x;
    REAL series = (REAL)(-929569.0 / 638512875.0);
    series = series * x2 + (REAL)(21844.0 / 6081075.0);
    series = series * x2 + (REAL)(-1382.0 / 155925.0);
    series = series * x2 + (REAL)(62.0 / 2835.0);
    series = series * x2 + (REAL)(-17.0 / 315.0);
    series = series * x2 + (REAL)(2.0 / 15.0);
    series = series * x2 + (REAL)(-1.0 / 3.0);
    series = x + x * x2 * series;
    const REAL e = FNN(exp_nonpositive)((REAL)-2 * x);
    const REAL ratio = ((REAL)1 - e) / ((REAL)1 + e);
    const REAL t = x < (REAL)0.1 ? series : ratio;
    return z < 0 ? -t : t;
}
