import numpy as np
import pytest

from redoxscreen.uncertainty import (
    conformal_half_width,
    cross_fitted_coverage,
    gaussian_half_width,
    global_intervals,
)


def test_conformal_half_width_is_the_finite_sample_quantile():
    residuals = np.arange(1, 20, dtype=float)  # 19 values: ceil(20 * 0.95) = 19th smallest
    assert conformal_half_width(residuals) == 19.0
    assert conformal_half_width(-residuals) == 19.0
    assert conformal_half_width(np.arange(1, 101, dtype=float)) == 96.0  # ceil(101 * .95) = 96


def test_gaussian_half_width_is_1_96_sd():
    residuals = np.array([-1.0, 1.0, -1.0, 1.0])
    assert gaussian_half_width(residuals) == pytest.approx(1.959964 * np.std(residuals, ddof=1))


def test_coverage_is_near_nominal_for_normal_residuals():
    rng = np.random.default_rng(0)
    residuals = rng.normal(0, 0.1, 4000)
    folds = np.arange(4000) % 8
    for method in ("gaussian", "conformal"):
        assert cross_fitted_coverage(residuals, folds, method) == pytest.approx(0.95, abs=0.015)


def test_heavy_tails_break_the_gaussian_interval_not_the_conformal_one():
    rng = np.random.default_rng(1)
    residuals = rng.standard_t(df=2, size=4000) * 0.05
    intervals = global_intervals(residuals, np.arange(4000) % 8)
    assert intervals["conformal"]["coverage"] == pytest.approx(0.95, abs=0.015)
    assert intervals["gaussian"]["coverage"] > 0.97  # 1.96 sd overshoots for t(2) tails
