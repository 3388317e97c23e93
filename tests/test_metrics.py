"""Regression metrics: what each number is, on residuals worked out by hand."""

import numpy as np
import pytest

from redoxscreen.metrics import regression_metrics


def test_metrics_of_predictions_that_run_high():
    labels = np.array([1.0, 2.0, 3.0, 4.0])
    predictions = labels + np.array([0.1, 0.3, 0.1, 0.3])  # every prediction above its label
    metrics = regression_metrics(labels, predictions)
    assert metrics["mae"] == pytest.approx(0.2)
    assert metrics["rmse"] == pytest.approx(np.sqrt(0.05))
    assert metrics["mean_residual"] == pytest.approx(0.2)  # prediction - label
    assert metrics["residual_sd"] == pytest.approx(np.std([0.1, 0.3, 0.1, 0.3], ddof=1))
    assert metrics["r2"] == pytest.approx(1 - 0.2 / 5.0)
    assert metrics["n"] == 4
    assert regression_metrics(labels, labels - 0.5)["mean_residual"] == pytest.approx(-0.5)


def test_metrics_refuse_arrays_of_other_shapes_or_none():
    with pytest.raises(ValueError, match="need equal, non-empty arrays"):
        regression_metrics(np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match="need equal, non-empty arrays"):
        regression_metrics(np.ones(0), np.ones(0))
    one = regression_metrics(np.array([1.0]), np.array([1.5]))
    assert np.isnan(one["residual_sd"]) and np.isnan(one["r2"]) and one["mean_residual"] == 0.5
