"""The final models' record (models.json) and training molecules, written before evaluation."""

import json

import pandas as pd
import pytest

from redoxscreen.final_record import MODELS_RECORD, RECORDED_KEYS, record_final_models

ARCHITECTURE = {"model": 2, "radius": 1, "n_bits": 1024, "hidden_layers": "1024-512",
                "fingerprint": "count", "descriptors": False}  # fmt: skip


def write_folds(tmp_path, held_out: dict[int, list[str]], val_mae: dict[int, float]):
    """Per fold its out-of-fold predictions and metrics.json, as train_final_fold writes them."""
    predictions, metrics = [], []
    for fold, ids in held_out.items():
        path = tmp_path / f"fold{fold}_predictions.parquet"
        pd.DataFrame({"id": ids, "y_true": 1.0, "y_pred": 1.1, "fold": fold}).to_parquet(path)
        predictions.append(str(path))
        path = tmp_path / f"fold{fold}_metrics.json"
        path.write_text(json.dumps({"fold": fold, "val_mae": val_mae[fold], **ARCHITECTURE}))
        metrics.append(str(path))
    return predictions, metrics


def test_the_record_names_the_studys_fold_and_the_molecules_trained_on(tmp_path):
    molecules = tmp_path / "molecules.parquet"
    pd.DataFrame({"id": ["a", "b", "c", "d", "e"],
                  "smiles": ["C", "CC", "CCC", "CCCC", "CCCCC"]}).to_parquet(molecules)  # fmt: skip
    # e is a calibration molecule: no fold held it out, so no fold model trained on it either
    predictions, metrics = write_folds(
        tmp_path, {0: ["c", "a"], 1: ["b"], 2: ["d"]}, {0: 0.2, 1: 0.1, 2: 0.1}
    )
    out = {
        "record": str(tmp_path / MODELS_RECORD),
        "training_molecules": str(tmp_path / "t.parquet"),
    }
    ingest = {"neutral_only": True}
    record_final_models("IE", "eV", predictions, metrics, str(molecules), ingest, out)
    record = json.loads((tmp_path / MODELS_RECORD).read_text())
    assert tuple(record) == RECORDED_KEYS
    assert record["study_choice"]["fold"] == 1  # the lowest held-out MAE; ties: the lower fold
    assert record["fold_mae"] == {"0": 0.2, "1": 0.1, "2": 0.1}
    assert (record["target"], record["unit"], record["folds"]) == ("IE", "eV", 3)
    assert record["architecture"] == ARCHITECTURE and record["ingest"] == ingest
    trained = pd.read_parquet(out["training_molecules"])
    assert trained.values.tolist() == [["a", "C"], ["b", "CC"], ["c", "CCC"], ["d", "CCCC"]]


def test_a_molecule_held_out_by_two_folds_is_refused(tmp_path):
    predictions, metrics = write_folds(tmp_path, {0: ["a", "b"], 1: ["b"]}, {0: 0.2, 1: 0.1})
    out = {
        "record": str(tmp_path / MODELS_RECORD),
        "training_molecules": str(tmp_path / "t.parquet"),
    }
    with pytest.raises(ValueError, match=r"more than one fold model: \['b'\]"):
        record_final_models("IE", "eV", predictions, metrics, "unused.parquet", {}, out)
