from fastnn._core.network cimport Network

cdef class DenseStack:
    cdef Network net
    cdef readonly object layer_sizes
    cdef readonly object keep_probs
    cdef readonly Py_ssize_t n_features
    cdef readonly Py_ssize_t n_outputs
    cdef readonly Py_ssize_t n_params
    cdef readonly Py_ssize_t max_width
    cdef readonly Py_ssize_t total_units
    cdef readonly bint has_dropout
    cdef readonly object coef_offsets, intercept_offsets, unit_offsets
    cdef object activation_codes

    cdef Network with_capacity(self, Py_ssize_t capacity)
