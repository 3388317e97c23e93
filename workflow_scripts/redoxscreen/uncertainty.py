"""95 % prediction intervals from out-of-fold residuals, and their honest coverage.

Two global half-widths are reported: the study's 1.96 x residual SD (assumes normal residuals)
and the split-conformal quantile of absolute residuals (assumes only exchangeability). Coverage
is cross-fitted: the half-width applied to fold f is computed from the other folds' residuals.
"""

from __future__ import annotations

import numpy as np

Z_95 = 1.959964


def gaussian_half_width(residuals: np.ndarray, level: float = 0.95) -> float:
    if not np.isclose(level, 0.95):
        from scipy.stats import norm

        return float(norm.ppf(0.5 + level / 2) * np.std(residuals, ddof=1))
    return float(Z_95 * np.std(residuals, ddof=1))


def conformal_half_width(residuals: np.ndarray, level: float = 0.95) -> float:
    """The finite-sample conformal quantile of |residual|."""
    scores = np.sort(np.abs(residuals))
    rank = int(np.ceil((len(scores) + 1) * level)) - 1
    return float(scores[min(rank, len(scores) - 1)])


HALF_WIDTHS = {"gaussian": gaussian_half_width, "conformal": conformal_half_width}


def cross_fitted_coverage(
    residuals: np.ndarray, folds: np.ndarray, method: str, level: float = 0.95
) -> float:
    """Share of molecules inside an interval whose width never saw their own fold."""
    covered = np.zeros(len(residuals), dtype=bool)
    for fold in np.unique(folds):
        held = folds == fold
        width = HALF_WIDTHS[method](residuals[~held], level)
        covered[held] = np.abs(residuals[held]) <= width
    return float(covered.mean())


def global_intervals(residuals: np.ndarray, folds: np.ndarray, level: float = 0.95) -> dict:
    return {
        method: {
            "half_width": function(residuals, level),
            "coverage": cross_fitted_coverage(residuals, folds, method, level),
        }
        for method, function in HALF_WIDTHS.items()
    } | {"level": level}
