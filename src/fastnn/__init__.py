"""fastnn: logistic regression, shallow and deep networks trained by compiled code."""
from fastnn.linear import LogisticRegression

__all__ = ["LogisticRegression"]
__version__ = "0.1.0"
