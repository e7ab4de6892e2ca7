"""Plots of a trained model (optional: pip install fastnn[plot], matplotlib).

Both functions draw into a matplotlib Axes (a new figure when none is given)
and return it; save it with ax.figure.savefig(path).
"""
import numpy as np
from sklearn.utils.validation import check_is_fitted


def _pyplot():
    try:
        import matplotlib.pyplot as plt  # headless machines fall back to Agg by themselves
    except ImportError:
        raise ImportError("fastnn.plot needs matplotlib: pip install fastnn[plot]") from None
    return plt


def learning_curve(model, ax=None):
    """The recorded training costs (and development costs, if any) against the
    iteration: the notes' picture of gradient descent at work."""
    check_is_fitted(model, "coefs_")
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    cost_every = model.cost_every or 1
    if len(model.costs_):
        ax.plot(np.arange(len(model.costs_)) * cost_every, model.costs_, label="training cost")
    if getattr(model, "dev_costs_", None) is not None and len(model.dev_costs_):
        ax.plot(np.arange(len(model.dev_costs_)), model.dev_costs_, label="development cost")
        if getattr(model, "best_iteration_", None) is not None and model.early_stopping:
            ax.axvline(model.best_iteration_, color="gray", linestyle=":", label="best weights")
    ax.set_xlabel("iteration (epoch)")
    ax.set_ylabel("cost")
    ax.set_title(f"{type(model).__name__}: learning curve")
    ax.legend()
    return ax


def decision_boundary(model, X, y, ax=None, resolution=300):
    """The classes a 2-feature classifier predicts over the plane, with the
    data on top (the notes' planar-data picture)."""
    check_is_fitted(model, "coefs_")
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"decision_boundary draws 2-D data; X has shape {X.shape}")
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    margin = 0.1 * (X.max(axis=0) - X.min(axis=0)) + 1e-9
    low, high = X.min(axis=0) - margin, X.max(axis=0) + margin
    grid_x, grid_y = np.meshgrid(np.linspace(low[0], high[0], resolution),
                                 np.linspace(low[1], high[1], resolution))
    labels = model.predict(np.c_[grid_x.ravel(), grid_y.ravel()])
    codes = np.searchsorted(model.classes_, labels).reshape(grid_x.shape)
    ax.contourf(grid_x, grid_y, codes, alpha=0.3, cmap="coolwarm")
    ax.scatter(X[:, 0], X[:, 1], c=np.searchsorted(model.classes_, np.asarray(y)), s=12,
               cmap="coolwarm", edgecolors="k", linewidths=0.3)
    ax.set_title(f"{type(model).__name__}: decision boundary")
    return ax
