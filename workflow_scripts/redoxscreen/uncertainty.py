"""Prediction intervals and their honest coverage, at ``final.interval_level`` (95 % by default).

Two global half-widths come from out-of-fold residuals: the study's z x residual SD (1.96 at
95 %; assumes normal residuals) and the split-conformal quantile of absolute residuals (assumes only
exchangeability). Their coverage is cross-fitted: the half-width applied to fold f is computed
from the other folds' residuals.

The per-molecule interval is normalized conformal prediction on the ensemble spread: on a
calibration set that no fold model trained on, the score of a molecule is its ensemble error
divided by its spread (SD across fold models); the conformal quantile of those scores is the
``scale``, and a molecule's half-width is ``scale x spread``. Spreads below ``spread_floor``
(the calibration set's 5th percentile) are raised to it, so that models agreeing by chance
do not give a zero-width interval. Its coverage is leave-one-out over the calibration set: each
molecule is judged by the floor and the scale of all the others.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm, spearmanr

from redoxscreen.folds import MIN_CALIBRATION_MOLECULES
from redoxscreen.metrics import regression_metrics
from redoxscreen.screening import ensemble_half_widths, level_text


def normal_quantile(level: float) -> float:
    """The z of a two-sided normal interval holding ``level``: 1.96 at 95 %."""
    return float(norm.ppf(0.5 + level / 2))


def gaussian_half_width(residuals: np.ndarray, level: float = 0.95) -> float:
    return normal_quantile(level) * float(np.std(residuals, ddof=1))


def conformal_quantile(scores: np.ndarray, level: float = 0.95) -> float:
    """The finite-sample conformal quantile: the ceil((n + 1) level)-th smallest score.

    Below ``level / (1 - level)`` scores (19 at 95 %) that rank is beyond the largest score:
    the interval is unbounded, and it is refused rather than narrowed to the largest score."""
    ordered = np.sort(scores)
    rank = int(np.ceil((len(ordered) + 1) * level)) - 1
    if rank >= len(ordered):
        raise ValueError(
            f"a {level_text(level)} conformal interval needs at least {scores_needed(level)} "
            f"residuals, not {len(ordered)}: lower final.interval_level (only the intervals "
            "are computed again), or label more molecules"
        )
    return float(ordered[rank])


def scores_needed(level: float) -> int:
    """The fewest scores whose conformal quantile at ``level`` is bounded: 19 at 95 %."""
    return next(n for n in range(1, 10**6) if np.ceil((n + 1) * level) <= n)


def conformal_half_width(residuals: np.ndarray, level: float = 0.95) -> float:
    """The finite-sample conformal quantile of |residual|."""
    return conformal_quantile(np.abs(residuals), level)


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


SPREAD_FLOOR_QUANTILE = 0.05


def spread_floor_of(spread: np.ndarray) -> float:
    """The calibration spreads' 5th percentile: the least spread an interval is scaled by."""
    return float(np.quantile(spread, SPREAD_FLOOR_QUANTILE))


def normalized_scores(errors: np.ndarray, spread: np.ndarray, spread_floor: float) -> np.ndarray:
    return errors / np.maximum(spread, max(spread_floor, np.finfo(float).tiny))


def sorted_with_positions(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The values sorted, and each value's position in that order (equal values in theirs)."""
    order = np.argsort(values, kind="stable")
    position = np.empty(len(values), dtype=np.int64)
    position[order] = np.arange(len(values))
    return values[order], position


def quantiles_without_each(scores: np.ndarray, level: float = 0.95) -> np.ndarray:
    """For every score, the conformal quantile of all the other scores (their largest where
    they are too few for ``conformal_quantile``: at 95 %, ``MIN_CALIBRATION_MOLECULES`` prevents
    it; at higher levels the calibration set may be just large enough for all of its scores
    and one short without one)."""
    n = len(scores)
    ordered, position = sorted_with_positions(scores)
    rank = min(int(np.ceil(n * level)) - 1, n - 2)  # the quantile's rank among n - 1 scores
    return np.where(position <= rank, ordered[min(rank + 1, n - 1)], ordered[rank])


def spread_floors_without_each(spread: np.ndarray) -> np.ndarray:
    """For every molecule, the spread floor of all the other molecules. Leaving one out moves
    the interpolated percentile in one of three ways (the molecule is the lower of the two
    spreads it interpolates or below it, is the upper one, or lies above both), so three
    quantiles give every floor."""
    n = len(spread)
    ordered, position = sorted_with_positions(spread)
    lower = int(np.floor((n - 2) * SPREAD_FLOOR_QUANTILE))  # the lower one's rank among n - 1
    below, upper, above = (spread_floor_of(np.delete(ordered, at)) for at in (0, lower + 1, n - 1))
    return np.where(position <= lower, below, np.where(position == lower + 1, upper, above))


def leave_one_out_coverage(errors: np.ndarray, spread: np.ndarray, level: float = 0.95) -> float:
    """Share of calibration molecules inside the interval calibrated on all the others: its
    spread floor and its scale computed without the molecule."""
    floors = spread_floors_without_each(spread)
    covered = np.zeros(len(errors), dtype=bool)
    for floor in np.unique(floors):
        scores = normalized_scores(errors, spread, floor)
        judged = floors == floor
        covered[judged] = (scores <= quantiles_without_each(scores, level))[judged]
    return float(covered.mean())


@dataclass(frozen=True)
class CalibratedEnsemble:
    """The ensemble's calibration-set predictions and the interval they calibrate."""

    mean: np.ndarray
    spread: np.ndarray
    half_widths: np.ndarray
    summary: dict


def ensemble_interval(
    y_true: np.ndarray, member_predictions: np.ndarray, level: float = 0.95
) -> CalibratedEnsemble:
    """Calibrate the ensemble-spread interval on molecules none of the models trained on.

    ``member_predictions`` is models x molecules. The summary holds the ``scale`` and
    ``spread_floor`` that ``ensemble_half_widths`` needs, the leave-one-out coverage, and the
    ensemble's own accuracy on the calibration molecules.
    """
    if member_predictions.shape[0] < 2 or len(y_true) < MIN_CALIBRATION_MOLECULES:
        raise ValueError(
            f"the ensemble interval needs at least 2 fold models and {MIN_CALIBRATION_MOLECULES} "
            "calibration molecules, "
            f"not {member_predictions.shape[0]} and {len(y_true)}; raise final.calibration_fraction"
        )
    if len(y_true) < scores_needed(level):
        raise ValueError(
            f"the per-molecule {level_text(level)} interval needs at least "
            f"{scores_needed(level)} calibration molecules, not {len(y_true)}: lower "
            "final.interval_level (only the intervals are computed again), or raise "
            "final.calibration_fraction (which trains the final models again)"
        )
    if not (np.isfinite(member_predictions).all() and np.isfinite(y_true).all()):
        bad_predictions = int((~np.isfinite(member_predictions)).any(axis=0).sum())
        raise ValueError(f"the ensemble interval needs finite numbers: {bad_predictions} "
                         "calibration molecules have a prediction that is not finite, "
                         f"{int((~np.isfinite(y_true)).sum())} a label")  # fmt: skip
    mean = member_predictions.mean(axis=0)
    spread = member_predictions.std(axis=0, ddof=1)
    spread_floor = spread_floor_of(spread)
    errors = np.abs(y_true - mean)
    scale = conformal_quantile(normalized_scores(errors, spread, spread_floor), level)
    half_widths = ensemble_half_widths(spread, scale, spread_floor)
    summary = {
        "scale": scale,
        "spread_floor": spread_floor,
        "coverage": leave_one_out_coverage(errors, spread, level),
        "n_calibration": int(len(y_true)),
        "median_half_width": float(np.median(half_widths)),
        "half_width_5_95": [float(np.quantile(half_widths, q)) for q in (0.05, 0.95)],
        "spread_error_spearman": float(spearmanr(spread, errors).statistic),
        "ensemble_metrics": regression_metrics(y_true, mean),
    }
    return CalibratedEnsemble(mean, spread, half_widths, summary)
