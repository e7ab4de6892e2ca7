# Forward and backward passes over a dense stack (see network.pxd).
from cython cimport floating
from libc.stdint cimport uint8_t

from fastnn._core.network cimport Network
from fastnn._core.kernels cimport fnn_dropout

cdef void forward(const Network* net, const floating* params, const floating* X,
                  Py_ssize_t rows, floating* Z, floating* A,
                  uint8_t* masks, const fnn_dropout* random_bits) noexcept nogil

cdef double batch_cost_sum(const Network* net, const floating* params, const floating* Y,
                           Py_ssize_t rows, const floating* Z, const floating* A) noexcept nogil

cdef void backward(const Network* net, floating* params, floating* grads,
                   const floating* X, const floating* Y, Py_ssize_t rows,
                   const floating* Z, const floating* A, const uint8_t* masks,
                   floating* delta, floating* delta_spare,
                   double learning_rate) noexcept nogil
