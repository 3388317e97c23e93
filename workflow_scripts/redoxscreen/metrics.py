"""Regression metrics in the label's unit."""

from __future__ import annotations

import numpy as np


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """MAE, RMSE, R2, the mean residual (prediction - label: a bias, which a centred interval
    such as 1.96 x residual SD assumes away) and the residual standard deviation (ddof=1)."""
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    if y_true.shape != y_pred.shape or y_true.size == 0:
        raise ValueError(f"need equal, non-empty arrays, got {y_true.shape} and {y_pred.shape}")
    residual = y_pred - y_true
    total = np.sum((y_true - y_true.mean()) ** 2)
    return {
        "mae": float(np.mean(np.abs(residual))),
        "rmse": float(np.sqrt(np.mean(residual**2))),
        "r2": float(1.0 - np.sum(residual**2) / total) if total > 0 else float("nan"),
        "mean_residual": float(np.mean(residual)),
        "residual_sd": float(np.std(residual, ddof=1)) if residual.size > 1 else float("nan"),
        "n": int(y_true.size),
    }
