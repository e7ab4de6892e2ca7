"""fastnn: logistic regression, shallow and deep networks trained by compiled code."""
