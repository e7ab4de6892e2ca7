# cython: language_level=3
"""`DenseStack`: a network's shape in the form the compiled passes read."""
import numpy as np

from fastnn._core.vocabulary import ACTIVATION_CODES, LOSS_CODES


cdef class DenseStack:
    """Layer sizes, activations, loss, L2 strength and dropout of a dense
    network, held as the C arrays of network.pxd.

    The parameter vector is flat: W_0 (row-major), b_0, W_1, b_1, ...
    keep_probs[l] is the keep probability of the input of layer l
    (keep_probs[0]: the data); default 1 everywhere (no dropout).
    """

    def __cinit__(self, layer_sizes, activations, str loss, double leaky_slope=0.01,
                  double l2=0.0, keep_probs=None):
        sizes = np.ascontiguousarray(layer_sizes, dtype=np.intp)
        cdef Py_ssize_t n_layers = sizes.shape[0] - 1
        if n_layers < 1 or sizes.min() < 1:
            raise ValueError("a network needs at least one layer and every width >= 1")
        if len(activations) != n_layers:
            raise ValueError("one activation per layer is required")
        keep = np.ones(n_layers) if keep_probs is None else np.ascontiguousarray(keep_probs, dtype=np.float64)
        if keep.shape != (n_layers,) or not np.all((keep > 0) & (keep <= 1)):
            raise ValueError("keep_probs needs one value in (0, 1] per layer input")
        codes = np.array([ACTIVATION_CODES[name] for name in activations], dtype=np.intc)
        weights = sizes[:n_layers] * sizes[1:]
        ends = np.cumsum(weights + sizes[1:])
        self.intercept_offsets = np.ascontiguousarray(ends - sizes[1:], dtype=np.intp)
        self.coef_offsets = np.ascontiguousarray(self.intercept_offsets - weights, dtype=np.intp)
        self.unit_offsets = np.ascontiguousarray(np.cumsum(sizes[1:]) - sizes[1:], dtype=np.intp)
        self.activation_codes = codes
        self.keep_probs = keep
        self.layer_sizes = sizes
        self.n_features = sizes[0]
        self.n_outputs = sizes[n_layers]
        self.n_params = int(ends[n_layers - 1])
        self.max_width = int(sizes[1:].max())
        self.total_units = int(sizes[1:].sum())
        self.has_dropout = bool(np.any(keep < 1))

        cdef Py_ssize_t[::1] sizes_view = sizes
        cdef Py_ssize_t[::1] coef_view = self.coef_offsets
        cdef Py_ssize_t[::1] intercept_view = self.intercept_offsets
        cdef Py_ssize_t[::1] unit_view = self.unit_offsets
        cdef int[::1] code_view = codes
        cdef double[::1] keep_view = keep
        self.net.n_layers = n_layers
        self.net.sizes = &sizes_view[0]
        self.net.coef_offsets = &coef_view[0]
        self.net.intercept_offsets = &intercept_view[0]
        self.net.unit_offsets = &unit_view[0]
        self.net.activations = &code_view[0]
        self.net.keep_probs = &keep_view[0]
        self.net.loss = LOSS_CODES[loss]
        self.net.leaky_slope = leaky_slope
        self.net.l2 = l2
        self.net.capacity = 0

    def unpack(self, params):
        """Views (coefs, intercepts) into the flat parameter vector."""
        coefs, intercepts = [], []
        sizes = self.layer_sizes
        for l in range(self.net.n_layers):
            start = self.coef_offsets[l]
            coefs.append(params[start:start + sizes[l] * sizes[l + 1]].reshape(sizes[l], sizes[l + 1]))
            start = self.intercept_offsets[l]
            intercepts.append(params[start:start + sizes[l + 1]])
        return coefs, intercepts

    def pack(self, coefs, intercepts, dtype):
        """The flat parameter vector of (coefs, intercepts), a new array."""
        params = np.empty(self.n_params, dtype=dtype)
        coef_views, intercept_views = self.unpack(params)
        for view, value in zip(coef_views + intercept_views, list(coefs) + list(intercepts)):
            view[...] = value
        return params

    cdef Network with_capacity(self, Py_ssize_t capacity):
        """A copy of the network description for buffers of `capacity` rows
        (a copy, so concurrent calls on one stack never share state)."""
        cdef Network net = self.net
        net.capacity = capacity
        return net
