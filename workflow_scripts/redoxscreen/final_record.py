"""What a target's final models are, recorded once they are trained: ``models.json`` (the
folds, each fold's held-out MAE, the fold the study would keep, the architecture, the labels'
unit and the ingest options their molecules passed) and the molecules they trained on.

Predicting a library reads these alone, not ``metrics.json``: evaluating the models again (the
intervals at another level, other potentials, an edit of the evaluation's code) then predicts
nothing again. ``metrics.json`` repeats them beside the evaluation, for ``redoxscreen predict``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from redoxscreen.similarity import write_training_molecules
from redoxscreen.tables import write_json

MODELS_RECORD = "models.json"
RECORDED_KEYS = ("target", "unit", "folds", "fold_mae", "study_choice", "architecture", "ingest")
ARCHITECTURE_KEYS = ("model", "radius", "n_bits", "hidden_layers", "fingerprint", "descriptors")

log = logging.getLogger(__name__)


def gather_out_of_fold(prediction_paths: Sequence[str]) -> pd.DataFrame:
    predictions = pd.concat([pd.read_parquet(path) for path in prediction_paths], ignore_index=True)
    repeated = predictions["id"][predictions["id"].duplicated()]
    if len(repeated):  # every molecule belongs to exactly one held-out fold
        raise ValueError(f"molecules predicted by more than one fold model: {list(repeated[:5])}")
    return predictions.sort_values("id").reset_index(drop=True)


def models_record(target: str, unit: str, fold_metrics: Sequence[Mapping], ingest: Mapping) -> dict:
    """``RECORDED_KEYS`` of a target's final models, from their folds' ``metrics.json``."""
    best_fold = min(fold_metrics, key=lambda metrics: (metrics["val_mae"], metrics["fold"]))
    return {
        "target": target,
        "unit": unit,
        "folds": len(fold_metrics),
        "fold_mae": {int(m["fold"]): m["val_mae"] for m in fold_metrics},
        "study_choice": {
            "fold": int(best_fold["fold"]),
            "val_mae": best_fold["val_mae"],
            "note": "the fold model with the lowest held-out MAE, as the original study kept",
        },
        "architecture": {key: fold_metrics[0][key] for key in ARCHITECTURE_KEYS},
        "ingest": dict(ingest),
    }


def record_final_models(
    target: str,
    unit: str,
    prediction_paths: Sequence[str],
    metric_paths: Sequence[str],
    molecules_path: str,
    ingest: Mapping,
    out: Mapping[str, str],
) -> dict:
    """Write ``out["record"]`` (``models_record``) and ``out["training_molecules"]``: every
    out-of-fold molecule (id and canonical SMILES, read from ``molecules_path``), to which new
    molecules are compared."""
    oof = gather_out_of_fold(prediction_paths)
    trained = write_training_molecules(
        molecules_path, oof["id"].tolist(), out["training_molecules"]
    )
    fold_metrics = [json.loads(Path(path).read_text()) for path in metric_paths]
    record = models_record(target, unit, fold_metrics, ingest)
    write_json(record, out["record"])
    log.info("%s: %d fold models (the study's: fold %d), trained on %d molecules", target,
             record["folds"], record["study_choice"]["fold"], len(trained))  # fmt: skip
    return record
