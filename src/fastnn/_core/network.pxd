# The shape of a dense stack as the compiled passes see it: plain C data,
# independent of the precision. Layers are numbered 0 .. n_layers-1; layer l
# maps sizes[l] inputs to sizes[l+1] units:
#     Z_l = A_{l-1} W_l + b_l,  A_l = g_l(Z_l),  A_{-1} = X.
# All parameters live in ONE flat vector (W_0, b_0, W_1, b_1, ...), so an
# optimiser step is one pass and the gradient check sees one theta.

cdef struct Network:
    Py_ssize_t n_layers
    const Py_ssize_t* sizes              # n_layers + 1 widths, sizes[0] = features
    const Py_ssize_t* coef_offsets       # W_l (sizes[l] x sizes[l+1]) at params + coef_offsets[l]
    const Py_ssize_t* intercept_offsets  # b_l (sizes[l+1],) at params + intercept_offsets[l]
    const Py_ssize_t* unit_offsets       # Z_l, A_l at Z + capacity * unit_offsets[l]
    const int* activations               # activation code of each layer (last = output)
    const double* keep_probs             # dropout keep probability of the INPUT of each layer
                                         # (keep_probs[0]: the data; never the output layer)
    int loss                             # loss code (csrc/fastnn_kernels.h)
    double leaky_slope
    double l2
    Py_ssize_t capacity                  # rows the activation buffers hold
