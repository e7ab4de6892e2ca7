# The compiled core. Before any of its products runs, oneDNN (if installed)
# is loaded for the training team's float32 products (fastnn/_onednn.py).
from fastnn import _onednn
from fastnn._core import blas as _blas

_onednn.load(_blas)
