"""fastnn's estimators as skl2onnx operators (fastnn.onnx.register_skl2onnx).

Each estimator class gets a shape calculator and one converter, which emits
fastnn.onnx's graph into skl2onnx's container. As skl2onnx's own converters
do, the network computes in the input's type (float64 for double input,
float32 otherwise), and classifiers go through skl2onnx's default classifier
parser, which handles the zipmap option (and nocl: labels 0..n_classes-1).
This module imports skl2onnx: only register_skl2onnx imports it.
"""
import numpy as np
from onnx import TensorProto
from onnx.helper import np_dtype_to_tensor_dtype
from sklearn.base import ClassifierMixin
from skl2onnx import update_registered_converter
from skl2onnx.common.data_types import (
    DoubleTensorType,
    FloatTensorType,
    Int64TensorType,
    StringTensorType,
)
from skl2onnx.common.utils import check_input_and_output_numbers
from skl2onnx.common.utils_classifier import get_label_classes

from fastnn.onnx import MIN_OPSET, Emitter, describe, emit, estimator_classes, label_values

_CLASSIFIER_OPTIONS = {"zipmap": [True, False, "columns"], "nocl": [True, False]}


def register():
    for cls in estimator_classes():
        if issubclass(cls, ClassifierMixin):
            update_registered_converter(cls, f"Fastnn{cls.__name__}", _classifier_shapes,
                                        _convert, options=_CLASSIFIER_OPTIONS)
        else:
            update_registered_converter(cls, f"Fastnn{cls.__name__}", _regressor_shapes,
                                        _convert)


def _float_type(operator):
    """skl2onnx's rule: double input computes in double, any other in float."""
    if isinstance(operator.inputs[0].type, DoubleTensorType):
        return DoubleTensorType
    return FloatTensorType


def _classes(operator):
    """The labels the graph outputs: classes_, or 0..n-1 with option nocl."""
    return label_values(get_label_classes(operator.scope_inst, operator.raw_operator))


def _classifier_shapes(operator):
    check_input_and_output_numbers(operator, input_count_range=1, output_count_range=2)
    network = describe(operator.raw_operator)
    classes = _classes(operator)
    N = operator.inputs[0].get_first_dimension()
    label = StringTensorType if classes.dtype == object else Int64TensorType
    operator.outputs[0].type = label([N, len(classes)] if network.task == "multilabel" else [N])
    operator.outputs[1].type = _float_type(operator)([N, len(classes)])


def _regressor_shapes(operator):
    check_input_and_output_numbers(operator, input_count_range=1, output_count_range=1)
    network = describe(operator.raw_operator)
    N = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = _float_type(operator)([N, network.n_outputs])


class _ContainerEmitter(Emitter):
    """Nodes and initializers into skl2onnx's container, named by its scope."""

    def __init__(self, scope, container, dtype):
        super().__init__(dtype)
        self._scope, self._container = scope, container

    def constant(self, base, array):
        array = np.asarray(array)
        name = self._scope.get_unique_variable_name(base)
        if array.dtype == object:   # label strings, as UTF-8 bytes
            self._container.add_initializer(name, TensorProto.STRING, list(array.shape),
                                            array.tolist())
        else:
            self._container.add_initializer(name, np_dtype_to_tensor_dtype(array.dtype),
                                            list(array.shape), array.ravel())
        return name

    def node(self, op, inputs, output=None, **attributes):
        output = output or self._scope.get_unique_variable_name(op.lower())
        self._container.add_node(op, list(inputs), [output],
                                 name=self._scope.get_unique_operator_name(op), **attributes)
        return output


def _convert(scope, operator, container):
    opset = container.target_opset
    if opset is not None and opset < MIN_OPSET:
        raise RuntimeError(f"fastnn's converters need target_opset >= {MIN_OPSET}; "
                           f"got {opset}")
    network = describe(operator.raw_operator)
    float_type = _float_type(operator)
    g = _ContainerEmitter(scope, container,
                          np.float64 if float_type is DoubleTensorType else np.float32)
    X = operator.inputs[0].full_name
    if not isinstance(operator.inputs[0].type, float_type):   # ints, booleans
        X = g.node("Cast", [X], to=np_dtype_to_tensor_dtype(g.dtype))
    if network.task == "regression":
        outputs = {"variable": operator.outputs[0].full_name}
    else:
        network = network._replace(classes=get_label_classes(scope, operator.raw_operator))
        outputs = {"label": operator.outputs[0].full_name,
                   "probabilities": operator.outputs[1].full_name}
    emit(network, g, X, outputs)
