/* Fisher-Yates shuffle on a 64-bit generator. fastnn.reference mirrors this
 * draw for draw (bounded_uint, shuffle_in_place), so tests can replay the
 * permutations the compiled training loop used. */
#include "fastnn_kernels.h"

/* Uniform integer in [0, high] by masked rejection: unbiased, and simple
 * enough to reproduce exactly in Python. */
static uint64_t bounded_uint(uint64_t high, uint64_t (*next_uint64)(void *), void *state)
{
    if (high == 0) {
        return 0;
    }
    uint64_t mask = high;
    mask |= mask >> 1;
    mask |= mask >> 2;
    mask |= mask >> 4;
    mask |= mask >> 8;
    mask |= mask >> 16;
    mask |= mask >> 32;
    for (;;) {
        uint64_t u = next_uint64(state) & mask;
        if (u <= high) {
            return u;
        }
    }
}

void fnn_shuffle(ptrdiff_t *order, ptrdiff_t n, uint64_t (*next_uint64)(void *state),
                 void *state)
{
    for (ptrdiff_t i = n - 1; i > 0; i--) {
        ptrdiff_t j = (ptrdiff_t)bounded_uint((uint64_t)i, next_uint64, state);
        ptrdiff_t tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }
}
