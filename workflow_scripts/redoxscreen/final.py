"""Final models: k-fold CV of the selected architecture, judged on out-of-fold predictions only.

Each molecule's out-of-fold prediction comes from the one fold model that never saw it, so the
reported R2, MAE and residual SD are honest estimates for new molecules of the same kind (up to
the small bias of the grid having chosen the architecture on the same molecules). Molecules of
the calibration set were seen by no fold model and by no grid job: the ensemble predicts them,
and they calibrate the per-molecule interval from the ensemble spread.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from redoxscreen.final_record import RECORDED_KEYS, gather_out_of_fold
from redoxscreen.metrics import regression_metrics
from redoxscreen.plots import learning_curves, parity_plot
from redoxscreen.potentials import with_defaults
from redoxscreen.screening import level_text
from redoxscreen.tables import write_json, write_table
from redoxscreen.uncertainty import ensemble_interval, global_intervals

log = logging.getLogger(__name__)


def calibration_ensemble(
    calibration_paths: Sequence[str], level: float
) -> tuple[pd.DataFrame, dict | None]:
    """The ensemble's predictions of the calibration molecules and the interval they calibrate
    (holding ``level`` of new molecules).

    Returns rows (id, y_true, y_pred = ensemble mean, spread, half_width) and the interval's
    parameters, or an empty table and None when there is no calibration set.
    """
    long = pd.concat([pd.read_parquet(path) for path in calibration_paths], ignore_index=True)
    if long.empty:
        return pd.DataFrame(columns=["id", "y_true", "y_pred", "spread", "half_width"]), None
    members = long.pivot(index="id", columns="fold", values="y_pred").sort_index()
    y_true = long.groupby("id")["y_true"].first().loc[members.index].to_numpy()
    calibrated = ensemble_interval(y_true, members.to_numpy().T, level)
    rows = pd.DataFrame({
        "id": members.index,
        "y_true": y_true,
        "y_pred": calibrated.mean,
        "spread": calibrated.spread,
        "half_width": calibrated.half_widths,
    })  # fmt: skip
    return rows, calibrated.summary


def all_predictions(oof: pd.DataFrame, calibration: pd.DataFrame) -> pd.DataFrame:
    """Every labelled molecule's honest prediction, with ``source`` naming where it came from."""
    by_fold = oof.assign(source="fold model")
    by_ensemble = calibration.assign(fold=-1, source="ensemble")
    return pd.concat([by_fold, by_ensemble], ignore_index=True).sort_values("id", ignore_index=True)


def evaluate_final(
    record_path: str,
    prediction_paths: Sequence[str],
    metric_paths: Sequence[str],
    history_paths: Sequence[str],
    calibration_paths: Sequence[str],
    out: dict[str, str],
    level: float,
    conversion: str | None = None,
    references: Mapping[str, float] | None = None,
) -> dict:
    """Out-of-fold metrics, intervals holding ``level`` (``final.interval_level``; in
    ``metrics.json``'s ``interval``), parity plot and learning curves. ``metrics.json`` repeats
    the models' record (``record_path``, see ``final_record``: target, unit, folds, the study's
    best fold, ingest options), and records the labels' ``conversion`` and the ``references``
    it reads (the config's ``potentials``), so that ``redoxscreen predict`` says what its
    predictions are, in volts too."""
    record = json.loads(Path(record_path).read_text())
    target, unit = record["target"], record["unit"]
    oof = gather_out_of_fold(prediction_paths)
    calibration, ensemble = calibration_ensemble(calibration_paths, level)
    residuals = (oof["y_pred"] - oof["y_true"]).to_numpy()
    overall = regression_metrics(oof["y_true"], oof["y_pred"])
    fold_metrics = [json.loads(Path(path).read_text()) for path in metric_paths]
    summary = {
        "target": target,
        "unit": unit,
        "conversion": conversion,
        "potentials": with_defaults(references),
        "out_of_fold": overall,
        "interval": global_intervals(residuals, oof["fold"].to_numpy(), level)
        | {"ensemble": ensemble},
        **{key: record[key] for key in RECORDED_KEYS},
    }
    write_table(all_predictions(oof, calibration), out["predictions"])
    write_json(summary, out["metrics"])
    parity_plot(
        oof["y_true"].to_numpy(), oof["y_pred"].to_numpy(), target, unit, overall, out["parity"]
    )
    histories = {
        int(m["fold"]): pd.read_parquet(path)
        for m, path in zip(fold_metrics, history_paths, strict=True)
    }
    kept = {int(m["fold"]): (int(m["best_epoch"]), m["val_mae"]) for m in fold_metrics}
    learning_curves(histories, target, unit, out["learning_curves"], kept)
    log.info(
        "%s out-of-fold: MAE %.4f %s, R2 %.3f, residual SD %.4f; %s conformal +-%.3f (coverage %.3f)",
        target, overall["mae"], unit, overall["r2"], overall["residual_sd"], level_text(level),
        summary["interval"]["conformal"]["half_width"], summary["interval"]["conformal"]["coverage"],
    )  # fmt: skip
    if ensemble is not None:
        log.info(
            "%s ensemble on %d calibration molecules: MAE %.4f %s; %s interval scale x spread "
            "(scale %.2f, median half-width %.3f), leave-one-out coverage %.3f",
            target, ensemble["n_calibration"], ensemble["ensemble_metrics"]["mae"], unit,
            level_text(level), ensemble["scale"], ensemble["median_half_width"], ensemble["coverage"],
        )  # fmt: skip
    return summary
