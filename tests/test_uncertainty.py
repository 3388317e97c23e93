import numpy as np
import pytest

from redoxscreen.uncertainty import (
    conformal_half_width,
    conformal_quantile,
    cross_fitted_coverage,
    ensemble_half_widths,
    ensemble_interval,
    gaussian_half_width,
    global_intervals,
    leave_one_out_coverage,
)


def test_conformal_half_width_is_the_finite_sample_quantile():
    residuals = np.arange(1, 20, dtype=float)  # 19 values: ceil(20 * 0.95) = 19th smallest
    assert conformal_half_width(residuals) == 19.0
    assert conformal_half_width(-residuals) == 19.0
    assert conformal_half_width(np.arange(1, 101, dtype=float)) == 96.0  # ceil(101 * .95) = 96
    with pytest.raises(ValueError) as error:  # ceil(19 * .95) = 19th of 18: unbounded
        conformal_half_width(np.arange(1, 19, dtype=float))
    assert str(error.value) == (
        "a 95 % conformal interval needs at least 19 residuals, not 18: lower "
        "final.interval_level (only the intervals are computed again), or label more molecules"
    )
    with pytest.raises(ValueError, match="at least 99 residuals, not 98"):
        conformal_half_width(np.arange(1, 99, dtype=float), level=0.99)


def test_gaussian_half_width_is_1_96_sd_at_95_percent():
    residuals = np.array([-1.0, 1.0, -1.0, 1.0])
    sd = np.std(residuals, ddof=1)
    assert gaussian_half_width(residuals) == pytest.approx(1.959964 * sd)
    assert gaussian_half_width(residuals, level=0.8) == pytest.approx(1.281552 * sd)


@pytest.mark.parametrize("level", [0.8, 0.95])
def test_coverage_is_near_nominal_for_normal_residuals(level):
    rng = np.random.default_rng(0)
    residuals = rng.normal(0, 0.1, 4000)
    folds = np.arange(4000) % 8
    intervals = global_intervals(residuals, folds, level)
    assert intervals["level"] == level
    for method in ("gaussian", "conformal"):
        assert cross_fitted_coverage(residuals, folds, method, level) == pytest.approx(
            level, abs=0.015
        )
        assert intervals[method]["coverage"] == cross_fitted_coverage(
            residuals, folds, method, level
        )


def test_heavy_tails_break_the_gaussian_interval_not_the_conformal_one():
    rng = np.random.default_rng(1)
    residuals = rng.standard_t(df=2, size=4000) * 0.05
    intervals = global_intervals(residuals, np.arange(4000) % 8)
    assert intervals["conformal"]["coverage"] == pytest.approx(0.95, abs=0.015)
    assert intervals["gaussian"]["coverage"] > 0.97  # 1.96 sd overshoots for t(2) tails


def brute_force_leave_one_out_coverage(errors, spread):
    """Each molecule judged by the interval that ensemble_interval calibrates without it."""
    covered = []
    for i in range(len(errors)):
        others = np.delete(np.arange(len(errors)), i)
        floor = np.quantile(spread[others], 0.05)
        scale = conformal_quantile(errors[others] / np.maximum(spread[others], floor))
        covered.append(errors[i] <= ensemble_half_widths(spread[i], scale, floor))
    return np.mean(covered)


def test_leave_one_out_coverage_matches_brute_force():
    for seed in range(30):  # in 6 of these 30 the floor without the molecule changes the answer
        rng = np.random.default_rng(seed)
        n = int(rng.integers(20, 60))  # 20: MIN_CALIBRATION_MOLECULES
        spread = rng.exponential(0.05, n)
        if seed % 2:
            spread[: n // 4] = np.sort(spread)[1]  # ties, at the floor
        errors = np.abs(rng.normal(0, 3 * spread + 0.01))
        expected = brute_force_leave_one_out_coverage(errors, spread)
        assert leave_one_out_coverage(errors, spread) == pytest.approx(expected), seed


def heteroscedastic_ensemble(n: int, seed: int):
    """Molecules whose error SD is proportional to the members' disagreement (x 3)."""
    rng = np.random.default_rng(seed)
    difficulty = rng.uniform(0.02, 0.3, n)
    truth = rng.normal(5, 1, n)
    centre = truth + rng.normal(0, 3 * difficulty)
    members = centre + rng.normal(0, difficulty, (8, n))
    return truth, members, difficulty


def test_ensemble_interval_is_calibrated_and_follows_the_spread():
    truth, members, difficulty = heteroscedastic_ensemble(4000, seed=3)
    calibrated = ensemble_interval(truth, members)
    interval = calibrated.summary
    assert calibrated.half_widths == pytest.approx(
        ensemble_half_widths(calibrated.spread, interval["scale"], interval["spread_floor"])
    )
    assert calibrated.mean == pytest.approx(members.mean(axis=0))
    assert interval["coverage"] == pytest.approx(0.95, abs=0.015)
    assert 5.0 < interval["scale"] < 7.5  # about 1.96 x 3 for this construction
    assert interval["spread_error_spearman"] > 0.3
    # fresh molecules of the same kind: covered at the nominal rate, wide where hard
    truth, members, difficulty = heteroscedastic_ensemble(4000, seed=4)
    widths = ensemble_half_widths(
        members.std(axis=0, ddof=1), interval["scale"], interval["spread_floor"]
    )
    covered = np.abs(members.mean(axis=0) - truth) <= widths
    assert covered.mean() == pytest.approx(0.95, abs=0.015)
    assert np.median(widths[difficulty > 0.2]) > 3 * np.median(widths[difficulty < 0.08])


def test_a_level_that_the_calibration_set_is_too_small_for_says_what_to_change():
    truth, members, _ = heteroscedastic_ensemble(50, seed=5)
    ensemble_interval(truth, members, level=0.95)
    with pytest.raises(ValueError) as error:
        ensemble_interval(truth, members, level=0.99)
    assert str(error.value) == (
        "the per-molecule 99 % interval needs at least 99 calibration molecules, not 50: lower "
        "final.interval_level (only the intervals are computed again), or raise "
        "final.calibration_fraction (which trains the final models again)"
    )


def test_ensemble_interval_holds_the_level_it_is_calibrated_for():
    truth, members, _ = heteroscedastic_ensemble(4000, seed=3)
    at_80 = ensemble_interval(truth, members, level=0.8)
    assert at_80.summary["coverage"] == pytest.approx(0.8, abs=0.015)
    assert at_80.summary["scale"] < ensemble_interval(truth, members).summary["scale"]
    truth, members, _ = heteroscedastic_ensemble(4000, seed=4)  # fresh molecules
    widths = ensemble_half_widths(
        members.std(axis=0, ddof=1), at_80.summary["scale"], at_80.summary["spread_floor"]
    )
    assert (np.abs(members.mean(axis=0) - truth) <= widths).mean() == pytest.approx(0.8, abs=0.015)


def test_tiny_spreads_are_raised_to_the_floor():
    assert ensemble_half_widths(np.array([0.0, 0.1, 0.5]), 2.0, 0.1).tolist() == [0.2, 0.2, 1.0]


def test_ensemble_interval_refuses_a_tiny_calibration_set():
    with pytest.raises(ValueError, match="calibration_fraction"):
        ensemble_interval(np.zeros(5), np.zeros((8, 5)))


def test_ensemble_interval_refuses_predictions_that_are_not_numbers():
    truth, members, _ = heteroscedastic_ensemble(40, seed=5)
    members[3, 7] = members[0, 9] = np.nan
    with pytest.raises(ValueError, match="2 calibration molecules have a prediction that is not"):
        ensemble_interval(truth, members)
