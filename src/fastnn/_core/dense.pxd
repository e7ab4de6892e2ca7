# Forward and backward passes over a dense stack (see network.pxd).
#
# A batch may be shared by several threads: each runs `forward` and
# `backward_deltas` on its own rows (first_row, rows), then, after a barrier,
# the update (weight_gradients, gradient_descent_step or optimizer_update) on
# its own block of every weight matrix.
from cython cimport floating
from libc.stdint cimport uint8_t, uint64_t

from fastnn._core.network cimport Network
from fastnn._core.inputs cimport Input, ColumnScratch
from fastnn._core.kernels cimport fnn_step

cdef void forward(const Network* net, const floating* params, const Input* X,
                  Py_ssize_t first_row, Py_ssize_t rows, floating* Z, floating* A,
                  uint8_t* masks, uint64_t dropout_seed, Py_ssize_t step) noexcept nogil

cdef double loss_sum(const Network* net, const floating* Y_rows, const floating* weights,
                     Py_ssize_t first_row, Py_ssize_t rows, const floating* Z,
                     const floating* A) noexcept nogil

cdef double l2_term(const Network* net, const floating* params) noexcept nogil

cdef void backward_deltas(const Network* net, const floating* params, const floating* Y_rows,
                          const floating* weights, Py_ssize_t first_row, Py_ssize_t rows,
                          const floating* Z, const floating* A, const uint8_t* masks,
                          floating* deltas) noexcept nogil

cdef void weight_gradients(const Network* net, const floating* params, floating* grads,
                           const Input* X, Py_ssize_t rows, double weight_sum,
                           const floating* A, const floating* deltas, int thread,
                           int n_threads) noexcept nogil

cdef void gradient_descent_step(const Network* net, floating* params, floating* grads,
                                const Input* X, Py_ssize_t rows, double weight_sum,
                                const floating* A, const floating* deltas,
                                double learning_rate, int thread,
                                int n_threads) noexcept nogil

cdef void optimizer_update(const Network* net, floating* params, floating* grads,
                           const Input* X, Py_ssize_t rows, double weight_sum,
                           const floating* A, const floating* deltas, const fnn_step* step,
                           floating* moment1, floating* moment2, int thread,
                           int n_threads, ColumnScratch* scratch) noexcept nogil
