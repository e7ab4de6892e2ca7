# cython: language_level=3
"""fastnn's vocabulary, read from the C tables of csrc/fastnn_kernels.h (the
one source): the names of the activations, losses and optimisers with the
codes the compiled core takes, and the thread limit of the core.

Everything that names one of them - the estimators' parameter checks, the
network description (`DenseStack`) and the command line - reads it from
here. fastnn.reference spells the same names on its own (it stays
independent of the core); tests/test_vocabulary.py holds the two together.
The estimators' docstrings list them as plain text, in this order;
tests/test_docstrings.py holds them to it.
"""
from fastnn._core.kernels cimport (
    FNN_N_ACTIVATIONS, FNN_N_LOSSES, FNN_N_OPTIMIZERS, FNN_MAX_THREADS,
    fnn_activation_names, fnn_loss_names, fnn_optimizer_names,
)

# name -> code, in code order
ACTIVATION_CODES = {fnn_activation_names[code].name.decode(): code
                    for code in range(FNN_N_ACTIVATIONS)}
LOSS_CODES = {fnn_loss_names[code].name.decode(): code for code in range(FNN_N_LOSSES)}
OPTIMIZER_CODES = {fnn_optimizer_names[code].decode(): code for code in range(FNN_N_OPTIMIZERS)}

#: Activations a hidden layer may use (element-wise ones).
HIDDEN_ACTIVATIONS = tuple(fnn_activation_names[code].name.decode()
                           for code in range(FNN_N_ACTIVATIONS) if fnn_activation_names[code].hidden)
#: Activations an output layer may use.
OUTPUT_ACTIVATIONS = tuple(fnn_activation_names[code].name.decode()
                           for code in range(FNN_N_ACTIVATIONS) if fnn_activation_names[code].output)
#: Hidden activations whose layers init="auto" starts at he's scale.
RELU_LIKE_ACTIVATIONS = tuple(fnn_activation_names[code].name.decode()
                              for code in range(FNN_N_ACTIVATIONS)
                              if fnn_activation_names[code].relu_like)
LOSSES = tuple(LOSS_CODES)
OPTIMIZERS = tuple(OPTIMIZER_CODES)
#: loss -> the output activation it needs (None: any output activation).
LOSS_OUTPUT_ACTIVATION = {
    fnn_loss_names[code].name.decode():
        None if fnn_loss_names[code].output_activation < 0
        else fnn_activation_names[fnn_loss_names[code].output_activation].name.decode()
    for code in range(FNN_N_LOSSES)}

#: Most threads one fit's team may have.
MAX_THREADS = FNN_MAX_THREADS
