import re

import numpy as np
import pandas as pd
import pytest

from redoxscreen.folds import (
    CALIBRATION_FOLD,
    assign_folds,
    calibration_mask,
    calibration_needed,
    folds_with_calibration,
    scaffold_of,
    write_target_folds,
)

from molecule_fixtures import labelled_molecules


@pytest.fixture(scope="module")
def smiles():
    return labelled_molecules()["smiles"].tolist()


@pytest.mark.parametrize("split", ["random", "scaffold"])
def test_same_seed_same_folds_other_seed_other_folds(smiles, split):
    first = assign_folds(smiles, k=4, seed=7, split=split)
    assert np.array_equal(first, assign_folds(smiles, k=4, seed=7, split=split))
    assert not np.array_equal(first, assign_folds(smiles, k=4, seed=8, split=split))
    assert set(first) == {0, 1, 2, 3}


def test_random_folds_are_balanced(smiles):
    sizes = np.bincount(assign_folds(smiles, k=8, seed=1))
    assert sizes.max() - sizes.min() <= 1


def test_no_scaffold_straddles_two_folds(smiles):
    folds = assign_folds(smiles, k=4, seed=3, split="scaffold")
    frame = pd.DataFrame({"scaffold": [scaffold_of(s) for s in smiles], "fold": folds})
    assert frame.groupby("scaffold")["fold"].nunique().max() == 1
    assert frame["scaffold"].nunique() > 10
    sizes = np.bincount(folds)
    assert sizes.min() > 0.5 * sizes.max()  # greedy assignment keeps folds comparable


def test_bad_arguments_are_refused(smiles):
    with pytest.raises(ValueError, match="k >= 2"):
        assign_folds(smiles, k=1, seed=0)
    with pytest.raises(ValueError, match="split"):
        assign_folds(smiles, k=2, seed=0, split="temporal")
    with pytest.raises(ValueError, match="cannot split 1 molecules"):
        assign_folds(smiles[:1], k=2, seed=0)


def test_folds_cover_only_the_target_labelled_molecules(tmp_path):
    molecules = pd.DataFrame(
        {"id": ["a", "b", "c", "d"], "smiles": ["C", "CC", "CCC", "CCCC"], "IE": [1, None, 3, 4]}
    )
    molecules.to_parquet(tmp_path / "m.parquet")
    write_target_folds(
        str(tmp_path / "m.parquet"), "IE", 2, 0, "random", str(tmp_path / "f.parquet")
    )
    folds = pd.read_parquet(tmp_path / "f.parquet")
    assert folds["id"].tolist() == ["a", "c", "d"]
    with pytest.raises(KeyError, match="EA"):
        write_target_folds(str(tmp_path / "m.parquet"), "EA", 2, 0, "random", str(tmp_path / "x"))
    with pytest.raises(ValueError, match="final.k = 5 for IE: cannot split 3 molecules"):
        write_target_folds(
            str(tmp_path / "m.parquet"), "IE", 5, 0, "random", str(tmp_path / "x"), k_key="final.k"
        )


@pytest.mark.parametrize("split", ["random", "scaffold"])
def test_calibration_set_is_held_out_of_every_fold(smiles, split):
    folds = folds_with_calibration(smiles, k=4, seed=5, split=split, calibration_fraction=0.1)
    held = folds == CALIBRATION_FOLD
    assert held.mean() == pytest.approx(0.1, abs=0.02 if split == "random" else 0.04)
    assert set(folds[~held]) == {0, 1, 2, 3}
    again = folds_with_calibration(smiles, k=4, seed=5, split=split, calibration_fraction=0.1)
    assert np.array_equal(folds, again)
    if split == "scaffold":
        scaffolds = pd.Series([scaffold_of(s) for s in smiles])
        assert scaffolds.groupby(held).apply(set).pipe(lambda sets: not (sets[True] & sets[False]))


def test_no_calibration_fraction_gives_the_plain_folds(smiles):
    plain = assign_folds(smiles, k=3, seed=9)
    assert np.array_equal(folds_with_calibration(smiles, 3, 9, "random", 0.0), plain)


@pytest.mark.parametrize("split", ["random", "scaffold"])
def test_the_same_molecules_in_another_row_order_get_the_same_folds(smiles, split, tmp_path):
    molecules = pd.DataFrame({"id": [f"m{i}" for i in range(len(smiles))], "smiles": smiles})
    molecules["IE"] = 1.0
    shuffled = molecules.sample(frac=1, random_state=3)
    folds = {}
    for name, table in (("given", molecules), ("shuffled", shuffled)):
        table.to_parquet(tmp_path / f"{name}.parquet")
        out = tmp_path / f"{name}_folds.parquet"
        write_target_folds(str(tmp_path / f"{name}.parquet"), "IE", 4, 5, split, str(out), 0.1)
        written = pd.read_parquet(out)
        assert written["id"].tolist() == table["id"].tolist()  # in the data set's order
        folds[name] = written.set_index("id")["fold"]
    assert folds["given"].equals(folds["shuffled"].loc[folds["given"].index])
    assert set(folds["given"]) == {CALIBRATION_FOLD, 0, 1, 2, 3}


def test_a_calibration_set_too_small_to_calibrate_is_refused_before_any_training(tmp_path, caplog):
    molecules = labelled_molecules(every=25).head(60).rename(columns={"logp": "IE"})
    molecules.to_parquet(tmp_path / "m.parquet")
    out = str(tmp_path / "f.parquet")
    with pytest.raises(ValueError) as error:
        write_target_folds(str(tmp_path / "m.parquet"), "IE", 8, 0, "random", out, 0.1)
    assert str(error.value) == (
        "IE: final.calibration_fraction holds out 6 of its 60 labelled molecules for "
        "calibration, and the ensemble's interval needs at least 20: raise "
        "final.calibration_fraction to 0.33, or set it to 0 (no calibration set; then "
        "screening.interval: conformal or gaussian)"
    )
    write_target_folds(str(tmp_path / "m.parquet"), "IE", 8, 0, "random", out, 0.33)
    assert (pd.read_parquet(out)["fold"] == CALIBRATION_FOLD).sum() == 20
    molecules.head(30).to_parquet(
        tmp_path / "m.parquet"
    )  # 20 would need more than the schema's 0.5
    with pytest.raises(ValueError, match=r"needs at least 20: set it to 0 \(no calibration"):
        write_target_folds(str(tmp_path / "m.parquet"), "IE", 8, 0, "random", out, 0.1)
    # a share that rounds to no molecule leaves this target without a calibration set, as before
    molecules.head(24).to_parquet(tmp_path / "m.parquet")
    write_target_folds(str(tmp_path / "m.parquet"), "IE", 8, 0, "random", out, 0.02)
    assert (pd.read_parquet(out)["fold"] != CALIBRATION_FOLD).all()
    assert "holds out none: no calibration set" in caplog.text
    # unless the per-molecule interval, which screening would refuse after training, needs one
    with pytest.raises(ValueError) as error:
        write_target_folds(
            str(tmp_path / "m.parquet"), "IE", 8, 0, "random", out, 0.02, needs_calibration=True
        )
    assert str(error.value) == (
        "IE: final.calibration_fraction 0.02 holds out none of its 24 labelled molecules, and "
        "screening.interval 'ensemble' needs a calibration set of at least 20: set "
        "screening.interval: conformal or gaussian"
    )
    molecules.to_parquet(tmp_path / "m.parquet")  # where 20 are within reach, it says how
    with pytest.raises(
        ValueError,
        match=r"none of its 60 .*raise final.calibration_fraction to 0.33, or set screening.interval",
    ):
        write_target_folds(
            str(tmp_path / "m.parquet"), "IE", 8, 0, "random", out, 0.005, needs_calibration=True
        )


def test_the_fraction_a_refusal_offers_holds_out_enough_in_a_scaffold_split(smiles):
    subset = smiles[:100]
    with pytest.raises(ValueError) as error:
        folds_with_calibration(subset, k=4, seed=42, split="scaffold", calibration_fraction=0.1)
    offered = float(
        re.search(r"raise final.calibration_fraction to ([0-9.]+)", str(error.value))[1]
    )
    assert calibration_mask(subset, offered, 42, "scaffold").sum() >= 20
    assert calibration_mask(subset, offered - 0.01, 42, "scaffold").sum() < 20  # the least


def test_only_a_target_screened_with_the_per_molecule_interval_needs_a_calibration_set():
    screening = {"oxidation_target": "IE", "reduction_target": "EA", "interval": "ensemble"}
    assert calibration_needed("IE", screening) and calibration_needed("EA", screening)
    assert not calibration_needed("HOMO", screening)  # trained and evaluated, never screened
    assert not calibration_needed("IE", screening | {"oxidation_target": None})
    assert not calibration_needed("IE", screening | {"interval": "conformal"})
