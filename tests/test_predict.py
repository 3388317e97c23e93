"""Prediction with a real, tiny model directory: two fold models trained here on real molecules."""

import dataclasses
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import zipfile

import numpy as np
import pandas as pd
import pytest
from rdkit import Chem, DataStructs
from rdkit.Chem import AllChem

from redoxscreen import console, descriptors, features, training
from redoxscreen.chemistry import MoleculeRejected, StandardizeOptions, standardize
from redoxscreen.final_record import MODELS_RECORD, RECORDED_KEYS
from redoxscreen.predict import (
    Ensemble,
    check_output_outside_input,
    features_needed,
    output_columns,
    predict_smiles,
    predict_smiles_file,
    prediction_molecule,
    read_parts,
    sparse_fingerprints,
    volts_formula,
)
from redoxscreen.screening import ensemble_half_widths
from redoxscreen.similarity import TRAINING_MOLECULES, write_training_molecules
from redoxscreen.tables import (
    HIVE_NULL,
    SdScan,
    SmilesColumns,
    SmilesLine,
    TableFormatError,
    carried_column_names,
    column_texts,
    first_molecule,
    input_columns,
    iter_smiles_file,
    molecule_count_bound,
    parsed_sheet,
    read_table,
    sd_scan,
    smiles_file_extra_columns,
)

from molecule_fixtures import labelled_molecules, write_zip, zip_parts
from workflow_runner import REPO

SPEC = features.FingerprintSpec(radius=1, n_bits=256, kind="count")
SETTINGS = training.TrainingSettings(max_epochs=5, patience=0, validation_fraction=0.0)
BAD_SMILES = ["C1CC", "", "[Na+].[Cl-]", "CC[N+](C)(C)C", "C[Fe]C", "c1cccc1"]


def train_model_dir(work, settings):
    """``results/final/logp/``: fold0 and fold1 models of Crippen logP, study fold 1."""
    molecules = labelled_molecules()
    molecules.to_parquet(work / "molecules.parquet", index=False)
    matrix = features.fingerprint_smiles(molecules["smiles"].tolist(), SPEC)
    features.write_store(str(work / "features.npz"), molecules["id"].tolist(), matrix, SPEC)
    if settings.descriptors:
        descriptors.describe_table(str(work / "molecules.parquet"), str(work / "described.npz"))
    folds = pd.DataFrame({"id": molecules["id"], "fold": np.arange(len(molecules)) % 2})
    folds.to_parquet(work / "folds.parquet", index=False)
    target_dir = work / "results" / "final" / "logp"
    for fold in (0, 1):
        job = training.FoldJob(
            molecules=str(work / "molecules.parquet"),
            features=str(work / "features.npz"),
            folds=str(work / "folds.parquet"),
            target="logp",
            model_id=0,
            fold=fold,
            hidden_layers=(32, 16),
            seed=7,
            descriptors=str(work / "described.npz") if settings.descriptors else None,
        )
        training.train_fold(job, settings, str(target_dir / f"fold{fold}"), 1, save_model=True)
    metrics = {
        "unit": "logP",
        "conversion": "V_vs_Li",
        "study_choice": {"fold": 1},
        "interval": {
            "gaussian": {"half_width": 0.5, "coverage": 0.95},
            "conformal": {"half_width": 0.6, "coverage": 0.95},
            "ensemble": {"scale": 4.0, "spread_floor": 0.05, "coverage": 0.95},
            "level": 0.95,
        },
        "out_of_fold": {},
        "fold_mae": {"0": 0.3, "1": 0.3},
    }
    (target_dir / "metrics.json").write_text(json.dumps(metrics))
    record_training_molecules(work, target_dir)
    return target_dir


def record_training_molecules(work, target_dir):
    """Every molecule of ``work``'s molecules.parquet, as record_final_models records them."""
    molecules = str(work / "molecules.parquet")
    ids = pd.read_parquet(molecules)["id"].tolist()
    write_training_molecules(molecules, ids, str(target_dir / TRAINING_MOLECULES))


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return train_model_dir(tmp_path_factory.mktemp("predict"), SETTINGS)


@pytest.fixture(scope="module")
def described_model_dir(tmp_path_factory):
    """The same, trained on fingerprints followed by RDKit descriptors."""
    settings = dataclasses.replace(SETTINGS, descriptors=True)
    return train_model_dir(tmp_path_factory.mktemp("described"), settings)


@pytest.fixture(scope="module")
def ensemble(model_dir):
    return Ensemble.load(model_dir)


def library(n: int, bad: bool = True) -> list[str]:
    """``n`` real molecules, with an unparsable SMILES in the middle when ``bad``."""
    smiles = labelled_molecules()["smiles"].tolist()[:n]
    return smiles[: n // 2] + ["C1CC"] + smiles[n // 2 :] if bad else smiles


def write_smiles(path, smiles: list[str]):
    path.write_text(
        "smiles id\n# a comment line\n" + "".join(f"{s} m{i}\n" for i, s in enumerate(smiles))
    )
    return path


def fold_predictions(model_dir, fold, mols):
    model, scaler, recipe = training.load_fitted(str(model_dir / f"fold{fold}"))
    x = features.fingerprint_mols(mols, features.FingerprintSpec(**recipe["fingerprint"]))
    return training.predict(model, scaler, x)


def run_cli(*args, cwd=REPO):
    environment = {**os.environ, "PYTHONPATH": str(REPO / "workflow_scripts")}
    return subprocess.run(
        [sys.executable, "-m", "redoxscreen", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
    )


def test_ensemble_loads_folds_spec_and_metrics(ensemble, model_dir):
    assert ensemble.folds == [0, 1]
    assert ensemble.target == "logp"
    assert ensemble.spec == SPEC
    assert ensemble.study_fold == 1
    assert ensemble.unit == "logP"
    assert ensemble.interval_half_width == {"gaussian": 0.5, "conformal": 0.6}


def test_models_of_an_older_run_keep_their_95_percent_intervals(model_dir, tmp_path):
    """Runs from before final.interval_level recorded the intervals as ``interval_95``."""
    intervals = json.loads((model_dir / "metrics.json").read_text())["interval"]
    intervals.pop("level")  # some older runs did not record it
    older = models_with_metrics(
        model_dir, tmp_path / "older", {"interval": None, "interval_95": intervals}
    )
    ensemble = Ensemble.load(older)
    assert ensemble.interval_half_width == {"gaussian": 0.5, "conformal": 0.6}
    assert ensemble.per_molecule_interval == intervals["ensemble"]
    assert "_half_width (of a 95 % interval)" in ensemble.units_note()


def test_ensemble_equals_the_fold_models_of_training(ensemble, model_dir):
    mols = [Chem.MolFromSmiles(s) for s in labelled_molecules()["smiles"]]
    result = ensemble.predict_mols(mols)
    per_fold = np.stack([fold_predictions(model_dir, fold, mols) for fold in (0, 1)])
    np.testing.assert_array_equal(result["pred"], per_fold.mean(axis=0))
    np.testing.assert_array_equal(result["spread"], per_fold.std(axis=0, ddof=1))
    np.testing.assert_array_equal(result["study"], per_fold[1])  # the study's fold 1
    expected_widths = 4.0 * np.maximum(per_fold.std(axis=0, ddof=1), 0.05)  # scale x spread
    np.testing.assert_allclose(result["half_width"], expected_widths)
    assert np.abs(per_fold[0] - per_fold[1]).max() > 0  # two distinct models


def test_screening_features_match_training_features():
    smiles = labelled_molecules()["smiles"].tolist()[:40] + ["[H]OC([H])([H])[H]", "[2H]C"]
    options = StandardizeOptions()
    parsed = [prediction_molecule(s, options) for s in smiles]
    assert [canonical for _, canonical in parsed] == [standardize(s).smiles for s in smiles]
    training_mols = [Chem.MolFromSmiles(canonical) for _, canonical in parsed]  # as featurize
    specs = (
        SPEC,
        features.FingerprintSpec(2, 512, "bit"),
        features.FingerprintSpec(2, 512, "count_ap"),
    )
    for spec in specs:
        fast = sparse_fingerprints([mol for mol, _ in parsed], spec).dense()
        np.testing.assert_array_equal(fast, features.fingerprint_mols(training_mols, spec))


@pytest.mark.parametrize("smiles", BAD_SMILES)
def test_rejections_are_those_of_standardize(smiles):
    with pytest.raises(MoleculeRejected) as expected:
        standardize(smiles)
    with pytest.raises(MoleculeRejected) as rejected:
        prediction_molecule(smiles, StandardizeOptions())
    assert (rejected.value.reason, rejected.value.detail) == (
        expected.value.reason,
        expected.value.detail,
    )


def test_largest_fragment_option_is_honoured():
    options = StandardizeOptions(largest_fragment=True)
    mol, canonical = prediction_molecule("CCCCO.Cl", options)
    assert canonical == standardize("CCCCO.Cl", options).smiles == "CCCCO"
    assert mol.GetNumAtoms() == 5


def test_the_quick_path_neutralizes_as_standardize_does():
    options = StandardizeOptions(largest_fragment=True, neutralize=True)
    smiles = ["[NH3+]CC(=O)[O-]", "O=[N+]([O-])c1ccccc1", "CC(=O)[O-].[K+]", "CCO",
              "c1cc[nH+]cc1", "[H][N+]([H])([H])C", "[H]c1ccccc1", "[2H]C[O-]"]  # fmt: skip
    parsed = [prediction_molecule(text, options) for text in smiles]
    canonical = [text for _, text in parsed]
    assert canonical == [standardize(text, options).smiles for text in smiles]
    assert canonical == ["[NH3+]CC(=O)[O-]", "O=[N+]([O-])c1ccccc1", "CC(=O)O", "CCO",
                         "c1ccncc1", "CN", "c1ccccc1", "[2H]CO"]  # fmt: skip
    for mol, text in parsed:
        assert Chem.MolToSmiles(mol) == text


def models_recording(model_dir, copy, ingest_options):
    """A copy of ``model_dir`` whose metrics.json records these ``ingest`` options."""
    return models_with_metrics(model_dir, copy, {"ingest": ingest_options})


def models_with_metrics(model_dir, copy, entries: dict):
    """A copy of ``model_dir`` whose metrics.json holds these entries (None: without it)."""
    shutil.copytree(model_dir, copy)
    metrics = json.loads((copy / "metrics.json").read_text()) | entries
    metrics = {key: value for key, value in metrics.items() if value is not None}
    (copy / "metrics.json").write_text(json.dumps(metrics))
    return copy


@pytest.mark.parametrize(
    ("conversion", "references", "expected"),
    [
        ("eV_absolute", None, "IE_pred - 1.40"),
        ("eV_absolute", {"li_absolute_ev": 1.405}, "IE_pred - 1.405"),
        ("V_vs_SHE", {"she_vs_li_v": 3.0}, "IE_pred + 3.00"),
        ("V_vs_Li", None, "IE_pred"),
        ("hartree_orbital", None, "-27.211 x IE_pred - 1.40"),
        ("eV_absolute", {"li_absolute_ev": 1.4412345}, "IE_pred - 1.4412345"),
    ],
)
def test_the_volts_formula_is_read_off_the_conversion(conversion, references, expected):
    assert volts_formula("IE_pred", conversion, references) == expected


def test_predictions_carry_volts_as_the_run_converted_its_labels(model_dir, tmp_path):
    smiles = library(4, bad=False)
    absolute = {"unit": "eV", "conversion": "eV_absolute"}
    recorded = models_with_metrics(model_dir, tmp_path / "recorded", absolute | {
        "potentials": {"li_absolute_ev": 1.5, "she_vs_li_v": 3.04}})  # fmt: skip
    table = predict_smiles(smiles, recorded)
    np.testing.assert_allclose(table["logp_v_li"], table["logp_pred"] - 1.5)
    assert Ensemble.load(recorded).units_note() == (
        "logp_pred, _spread, _half_width (of a 95 % interval) and _study in eV (absolute "
        "energies in eV); logp_v_li = logp_pred - 1.50 in V vs Li/Li+ (the offsets of the run "
        "that trained them)"
    )
    older = models_with_metrics(model_dir, tmp_path / "older", absolute | {"potentials": None})
    np.testing.assert_allclose(predict_smiles(smiles, older)["logp_v_li"], table["logp_pred"] - 1.4)
    note = Ensemble.load(older).units_note()
    assert note.endswith(
        "logp_v_li = logp_pred - 1.40 in V vs Li/Li+ (the default potentials: metrics.json "
        "records none)"
    )
    unknown = models_with_metrics(model_dir, tmp_path / "unknown", {"conversion": None})
    assert predict_smiles(smiles, unknown)["logp_v_li"].isna().all()
    assert Ensemble.load(unknown).units_note() == (
        "logp_pred, _spread, _half_width (of a 95 % interval) and _study in logP (metrics.json "
        "records no conversion)"
    )


CHNO_IONS_SALTS = {
    "allowed_elements": list("CHNO"),
    "neutral_only": False,
    "largest_fragment": True,
}


def reasons(predicted: pd.DataFrame) -> list[str]:
    return [error.split(":")[0] for error in predicted["error"]]


def test_molecules_are_checked_as_the_models_training_molecules_were(model_dir, tmp_path):
    models = models_recording(model_dir, tmp_path / "chno", CHNO_IONS_SALTS)
    smiles = ["CCS", "CC[N+](C)(C)C", "CCCCO.Cl", "CCO"]
    assert reasons(predict_smiles(smiles, models)) == ["disallowed_element", "", "", ""]
    salts = predict_smiles(smiles, models, largest_fragment=False)
    assert reasons(salts) == ["disallowed_element", "", "multiple_fragments", ""]
    unrecorded = predict_smiles(smiles, model_dir)  # no ingest in metrics.json: the defaults
    assert reasons(unrecorded) == ["", "charged", "multiple_fragments", ""]
    assert "predict.largest_fragment or --largest-fragment" in unrecorded["error"][2]
    with pytest.raises(ValueError, match="not both"):
        predict_smiles(smiles, models, options=StandardizeOptions(), largest_fragment=True)


def test_models_trained_on_differently_checked_molecules_do_not_mix(model_dir, tmp_path):
    chno = models_recording(model_dir, tmp_path / "chno", CHNO_IONS_SALTS)
    defaults = {"allowed_elements": ["C", "H", "N", "O", "S"], "neutral_only": True,
                "largest_fragment": False}  # fmt: skip
    other = models_recording(model_dir, tmp_path / "other", defaults)
    with pytest.raises(ValueError, match=r"different ingest options .*chno.*other"):
        predict_smiles(["CCO"], {"a": chno, "b": other})
    for recipe in other.glob("fold*/recipe.json"):  # the CLI takes one directory per target
        recipe.write_text(json.dumps(json.loads(recipe.read_text()) | {"target": "other"}))
    inputs = write_smiles(tmp_path / "in.smi", ["CCO"])
    spellings = (["--model-dir", chno, "--model-dir", other], ["--model-paths", chno, other],
                 ["--model", chno, "--model-path", other])  # fmt: skip
    for names in spellings:
        result = run_cli("predict", *names, "-i", inputs, "-o", tmp_path / "o.csv")  # chemprop's
        assert result.returncode == 2 and "different ingest options" in result.stderr


def test_cli_keeps_a_salts_largest_fragment_and_neutralizes_it_when_asked(model_dir, tmp_path):
    inputs = write_smiles(tmp_path / "in.smi", ["CCCCO.Cl", "CCO", "[Na+].[O-]C(=O)CCC"])
    runs = (
        ([], ["multiple_fragments", "", "multiple_fragments"]),
        (["--largest-fragment"], ["", "", "charged"]),
        (["--largest-fragment", "--neutralize"], ["", "", ""]),
    )
    for flags, expected in runs:
        out = tmp_path / f"out{len(flags)}.csv"
        result = run_cli(
            "predict", "--model-dir", model_dir, "--smiles", inputs, "--out", out, *flags
        )
        assert result.returncode == 0, result.stderr
        predicted = pd.read_csv(out, keep_default_na=False)
        assert reasons(predicted) == expected
    assert predicted["smiles"].tolist() == ["CCCCO", "CCO", "CCCC(=O)O"]
    neutralizable = pd.read_csv(tmp_path / "out1.csv", keep_default_na=False)["error"][2]
    assert neutralizable.endswith("; predict.neutralize (--neutralize) predicts its neutral form")


def test_a_charge_that_no_proton_removes_gets_no_advice_to_neutralize(model_dir):
    smiles = ["C[N+](C)(C)C", "CC(=O)[O-]", "F[P-](F)(F)(F)(F)F"]
    predicted = predict_smiles(smiles, model_dir)
    assert reasons(predicted) == ["charged", "charged", "charged"]
    advised = ["neutralize" in error for error in predicted["error"]]
    assert advised == [False, True, False]
    neutralized = predict_smiles(smiles, model_dir, neutralize=True)
    assert reasons(neutralized) == ["charged", "", "charged"]
    with pytest.raises(ValueError, match="not both"):
        predict_smiles(["CCO"], model_dir, options=StandardizeOptions(), neutralize=True)


def test_rows_that_repeat_an_earlier_rows_id_are_warned_of(ensemble, tmp_path, caplog):
    lines = ["CCO a", "CCN b", "CCC a", "c1ccccc1 c", "CCCl b", "CCBr a"]  # on lines 2 to 7
    (tmp_path / "ids.smi").write_text("smiles id\n" + "\n".join(lines) + "\n")
    with caplog.at_level(logging.WARNING, logger="redoxscreen.predict"):
        counts = predict_smiles_file(tmp_path / "ids.smi", {"logp": ensemble}, tmp_path / "out",
                                     chunk_size=2, progress=False)  # fmt: skip
    assert counts["repeated_ids"] == 3  # across chunks
    assert ("3 rows repeat the id of an earlier row (the first: line 4 repeats the id 'a' of "
            "line 2); the predictions tell them apart by their line") in caplog.text  # fmt: skip
    caplog.clear()
    (tmp_path / "unique.smi").write_text("CCO a\nCCN b\nCCC\n")  # the third: id line3
    counts = predict_smiles_file(tmp_path / "unique.smi", {"logp": ensemble}, tmp_path / "out",
                                 chunk_size=2, progress=False)  # fmt: skip
    assert counts["repeated_ids"] == 0 and "repeat" not in caplog.text


def test_cli_round_trip_one_parquet_file(model_dir, tmp_path):
    smiles = library(20)
    inputs = write_smiles(tmp_path / "in.smi", smiles)
    out = tmp_path / "sub" / "predictions.parquet"
    result = run_cli("predict", "--model-dir", model_dir, "--smiles", inputs, "--out", out,
                     "--chunk-size", 6, "--no-progress")  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary, units = result.stderr.strip().splitlines()[-2:]
    assert re.fullmatch(
        r"predicted 20 of 21 molecules \(1 failed\) in [\d.]+ s, \d+ mol/s", summary
    )
    assert units == (
        "logp_pred, _spread, _half_width (of a 95 % interval) and _study in logP (potentials "
        "in V vs Li/Li+); logp_v_li = logp_pred in V vs Li/Li+"
    )
    assert "oneDNN" not in result.stderr and "absl" not in result.stderr  # TensorFlow's notes
    table = pd.read_parquet(out)
    assert list(table.columns) == output_columns(["logp"])
    assert len(table) == len(smiles)  # one row per molecule line
    assert table["line"].tolist() == list(range(3, 3 + len(smiles)))  # header, comment skipped
    assert table["id"].tolist() == [f"m{i}" for i in range(len(smiles))]
    bad = table[table["input_smiles"] == "C1CC"].iloc[0]
    assert bad["error"].startswith("invalid_smiles: ") and bad["smiles"] == ""
    assert bad[["logp_pred", "logp_spread", "logp_half_width", "logp_study"]].isna().all()
    good = table[table["input_smiles"] != "C1CC"]
    assert (good["error"] == "").all() and good["logp_pred"].notna().all()
    assert good["logp_v_li"].tolist() == good["logp_pred"].tolist()  # already V vs Li/Li+
    assert os.listdir(out.parent) == ["predictions.parquet"]  # the parts folder is gone
    expected = predict_smiles(smiles, model_dir, ids=table["id"].tolist())
    np.testing.assert_allclose(table["logp_pred"], expected["logp_pred"], rtol=1e-6)


def test_cli_directory_output_keeps_parts(model_dir, tmp_path):
    smiles = library(11, bad=False)
    listed = smiles + [respelled(smiles[10]), smiles[10]]  # the third part lists it thrice
    inputs = write_smiles(tmp_path / "in.smi", listed)
    result = run_cli("predict", "--model-dir", model_dir, "--smiles", inputs,
                     "--out", f"{tmp_path / 'parts'}/", "--chunk-size", 5,
                     "--no-similarity")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(tmp_path / "parts")) == [f"part-0000{i}.parquet" for i in range(3)]
    table = read_parts(tmp_path / "parts")
    assert len(table) == 13 and table["logp_similarity"].isna().all()  # not looked for
    assert re.search(r"predicted 13 of 13 molecules \(0 failed; 2 listed again, predicted "
                     r"once\) in ", result.stderr)  # fmt: skip


@pytest.mark.parametrize("suffix, separator", [(".csv", ","), (".tsv", "\t")])
def test_cli_reads_a_table_and_writes_one_of_the_same_kind(model_dir, tmp_path, suffix, separator):
    smiles = library(6)
    rows = "".join(
        separator.join([str(i), f'"{s}"', f"3.{i}", f"note {i}", "x", "y"]) + "\n"
        for i, s in enumerate(smiles)
    )
    # 'error' and 'logp_similarity' (in any case) are outputs' names, 'familiar' screening's
    header = separator.join(["Name", "SMILES", "score", "error", "LogP_Similarity", "Familiar"])
    (tmp_path / f"in{suffix}").write_text(f"{header}\n{rows}{separator * 5}\n")
    out = tmp_path / f"predictions{suffix}"
    result = run_cli("predict", "--model-dir", model_dir, "--smiles", tmp_path / f"in{suffix}",
                     "--out", out, "--no-progress")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert out.read_text().startswith(separator.join(["line", "id", "input_smiles"]))  # unquoted
    table = pd.read_csv(out, sep=separator, dtype={"id": str}, keep_default_na=False,
                        na_values=[""])  # fmt: skip  # as the README says
    assert list(table.columns) == [
        *output_columns(["logp"]),
        "score",
        "input_error",
        "input_LogP_Similarity",
        "input_Familiar",
    ]
    assert table["score"].tolist() == [3 + i / 10 for i in range(len(smiles))]  # carried over
    assert table["input_error"].tolist() == [f"note {i}" for i in range(len(smiles))]
    assert table["id"].tolist() == [str(i) for i in range(len(smiles))]
    assert table["line"].tolist() == list(range(2, 2 + len(smiles)))  # the blank row is skipped
    rejected = table["error"].notna()
    assert rejected.sum() == 1
    assert table.loc[rejected, "error"].str.startswith("invalid_smiles").all()
    assert table.loc[rejected, "logp_pred"].isna().all()
    expected = predict_smiles(smiles, model_dir)
    np.testing.assert_allclose(table["logp_pred"], expected["logp_pred"], rtol=1e-5)
    np.testing.assert_allclose(table["logp_similarity"], expected["logp_similarity"])
    nearest = table["logp_nearest"].fillna("")  # the failed row's is empty
    assert nearest.tolist() == expected["logp_nearest"].tolist()


def test_a_parquet_library_is_read_in_batches_as_a_table(ensemble, tmp_path):
    smiles = library(6)  # the unparsable SMILES is row 4
    price = [1.5, None, 3.0, 4.0, 5.0, 6.25, 7.0]
    table = pd.DataFrame({"CID": range(700, 707), "IsomericSMILES": smiles, "price": price})
    table.loc[2, "IsomericSMILES"] = None
    table.index = range(7, 0, -1)  # pandas writes such an index as __index_level_0__
    table.to_parquet(tmp_path / "pubchem.parquet")
    columns = SmilesColumns(smiles="IsomericSMILES", id="CID")
    lines = list(iter_smiles_file(tmp_path / "pubchem.parquet", columns))
    assert lines[0] == SmilesLine(1, smiles[0], "700", extra=("1.5",))
    assert (lines[1].extra, lines[2].smiles, len(lines)) == (("",), "", 7)  # nulls are empty
    assert smiles_file_extra_columns(tmp_path / "pubchem.parquet", columns) == ["price"]
    predict_smiles_file(tmp_path / "pubchem.parquet", {"logp": ensemble}, tmp_path / "out",
                        chunk_size=3, columns=columns, progress=False)  # fmt: skip
    predicted = read_parts(tmp_path / "out")
    assert predicted["line"].tolist() == list(range(1, 8))  # the row in the table
    assert predicted["error"].str.split(":").str[0].tolist() == [
        "", "", "missing_smiles", "invalid_smiles", "", "", ""
    ]  # fmt: skip
    assert predicted["price"].tolist() == ["1.5", "", "3", "4", "5", "6.25", "7"]  # Arrow's text
    kept = predicted["error"] == ""
    expected = predict_smiles([s for s, ok in zip(smiles, kept, strict=True) if ok], ensemble)
    np.testing.assert_allclose(predicted.loc[kept, "logp_pred"], expected["logp_pred"], rtol=1e-5)
    assert molecule_count_bound(tmp_path / "pubchem.parquet") == 7


def test_a_directory_of_parquet_parts_is_read_as_one_table(model_dir, tmp_path):
    smiles = library(6)
    table = pd.DataFrame({"CID": range(700, 707), "IsomericSMILES": smiles, "price": 1.5})
    table.to_parquet(tmp_path / "whole.parquet", index=False)
    parts = tmp_path / "pubchem"  # as Dask and Spark write a table: parts, a marker, temporaries
    parts.mkdir()
    table[:4].to_parquet(parts / "part.9.parquet", index=False)
    table[4:].to_parquet(parts / "part.10.parquet", index=False)  # after part.9
    table[:1].to_parquet(parts / ".part.11.parquet", index=False)
    (parts / "_SUCCESS").touch()
    columns = SmilesColumns(smiles="IsomericSMILES", id="CID")
    whole = list(iter_smiles_file(tmp_path / "whole.parquet", columns))
    assert list(iter_smiles_file(parts, columns)) == whole
    without_id = list(iter_smiles_file(parts, SmilesColumns(smiles="IsomericSMILES")))
    assert without_id[4] == SmilesLine(5, smiles[4], "row5", ("704", "1.5"))  # rows go on
    with pytest.raises(TableFormatError, match=r"pubchem: no 'smiles' column in the header"):
        next(iter_smiles_file(parts))
    assert smiles_file_extra_columns(parts, columns) == ["price"]
    assert molecule_count_bound(parts) == 7
    out = tmp_path / "predicted.csv"
    result = run_cli("predict", "--model-dir", model_dir, "--smiles", parts, "--out", out,
                     "--smiles-column", "IsomericSMILES", "--id-column", "CID")  # fmt: skip
    assert result.returncode == 0, result.stderr
    predicted = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert predicted["id"].tolist() == [str(cid) for cid in range(700, 707)]
    assert predicted["line"].tolist() == [str(row) for row in range(1, 8)]
    for inside in (f"{parts}/", parts / "predicted.parquet"):  # would remove or join the parts
        result = run_cli("predict", "--model-dir", model_dir, "--smiles", parts, "--out", inside,
                         "--smiles-column", "IsomericSMILES")  # fmt: skip
        assert result.returncode == 2 and "the output is" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert sorted(path.name for path in parts.iterdir()) == [
        ".part.11.parquet", "_SUCCESS", "part.10.parquet", "part.9.parquet"
    ]  # fmt: skip
    earlier = tmp_path / "earlier"  # a part of an earlier prediction, as the input beside it
    earlier.mkdir()
    table.to_parquet(earlier / "part-00000.parquet", index=False)
    for inputs, written in ((earlier / "part-00000.parquet", f"{earlier}/"), (out, out)):
        with pytest.raises(ValueError, match="write the predictions elsewhere"):
            check_output_outside_input(inputs, written)
    assert (earlier / "part-00000.parquet").exists()


@pytest.mark.parametrize("compression", [".gz", ".bz2", ".xz"])
def test_a_compressed_text_library_is_read_as_its_plain_twin(model_dir, tmp_path, compression):
    import bz2
    import gzip
    import lzma

    opener = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}[compression]
    smiles = library(6)
    plain = {
        "lib.smi": "".join(f"{s} m{i}\n" for i, s in enumerate(smiles)),
        "lib.csv": "id,SMILES,score\n" + "".join(f'{i},"{s}",0.{i}\n' for i, s in enumerate(smiles)),
    }  # fmt: skip
    for name, text in plain.items():
        (tmp_path / name).write_text(text)
        with opener(tmp_path / f"{name}{compression}", "wt") as handle:
            handle.write(text)
        lines = list(iter_smiles_file(tmp_path / f"{name}{compression}"))
        assert lines == list(iter_smiles_file(tmp_path / name)) and len(lines) == 7
        assert molecule_count_bound(tmp_path / f"{name}{compression}") == text.count("\n")
    assert smiles_file_extra_columns(tmp_path / f"lib.csv{compression}") == ["score"]
    out = tmp_path / "predicted.csv"
    result = run_cli("predict", "--model-dir", model_dir, "--smiles",
                     tmp_path / f"lib.csv{compression}", "--out", out)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert pd.read_csv(out, dtype=str)["id"].tolist() == [str(i) for i in range(7)]
    whole = (tmp_path / f"lib.smi{compression}").read_bytes()
    (tmp_path / f"cut.smi{compression}").write_bytes(whole[: len(whole) // 2])
    for read in (lambda path: list(iter_smiles_file(path)), molecule_count_bound):
        with pytest.raises(TableFormatError, match=r"cut\.smi\.\w+: cannot be decompressed"):
            read(tmp_path / f"cut.smi{compression}")


def test_a_zip_archive_holding_one_file_is_read_as_that_file(model_dir, tmp_path):
    """Vendors ship catalogues zipped: an archive holding one SMILES, text-table or SD file
    (a directory entry and macOS's __MACOSX/ aside) is read as that file."""
    smiles = library(6)
    text = "id,SMILES,score\n" + "".join(f'{i},"{s}",0.{i}\n' for i, s in enumerate(smiles))
    (tmp_path / "lib.csv").write_text(text)
    with zipfile.ZipFile(tmp_path / "catalogue.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.mkdir("catalogue")
        archive.writestr("catalogue/lib.csv", text)
        archive.writestr("__MACOSX/catalogue/._lib.csv", b"\x00\x05")
    lines = list(iter_smiles_file(tmp_path / "catalogue.zip"))
    assert lines == list(iter_smiles_file(tmp_path / "lib.csv")) and len(lines) == 7
    assert smiles_file_extra_columns(tmp_path / "catalogue.zip") == ["score"]
    assert molecule_count_bound(tmp_path / "catalogue.zip") == 8
    with zipfile.ZipFile(tmp_path / "lib.csv.zip", "w") as archive:
        archive.writestr("lib", text)  # a file without a suffix: as the archive's name says
    with zipfile.ZipFile(tmp_path / "lib-v1.2.zip", "w") as archive:
        archive.writestr("lib", "CCO a\n")  # ".2" names no format: SMILES lines
    assert list(iter_smiles_file(tmp_path / "lib-v1.2.zip")) == [SmilesLine(1, "CCO", "a")]
    message = r"lib-v1\.2\.zip: its one file 'lib' has no suffix that names its format"
    with pytest.raises(TableFormatError, match=message):
        read_table(tmp_path / "lib-v1.2.zip")  # as a data set
    with zipfile.ZipFile(tmp_path / "book.xlsm.zip", "w") as archive:
        archive.writestr("book", b"PK")  # a workbook in a ZIP is refused, not read as text
    with pytest.raises(TableFormatError, match=r"book\.xlsm\.zip: .*a ZIP archive is read when"):
        list(iter_smiles_file(tmp_path / "book.xlsm.zip"))
    assert list(iter_smiles_file(tmp_path / "lib.csv.zip")) == lines
    assert read_table(tmp_path / "lib.csv.zip").equals(read_table(tmp_path / "lib.csv"))
    written_sd_file(tmp_path / "vendor.sdf", smiles[:3])
    with zipfile.ZipFile(tmp_path / "vendor.zip", "w", zipfile.ZIP_LZMA) as archive:
        archive.write(tmp_path / "vendor.sdf", "vendor.sdf")
    assert list(iter_smiles_file(tmp_path / "vendor.zip")) == list(
        iter_smiles_file(tmp_path / "vendor.sdf")
    )
    assert smiles_file_extra_columns(tmp_path / "vendor.zip") == ["IDNUMBER", "price"]
    out = tmp_path / "predicted.csv"
    result = run_cli("predict", "--model-dir", model_dir, "--smiles", tmp_path / "catalogue.zip",
                     "--out", out)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert pd.read_csv(out, dtype=str)["id"].tolist() == [str(i) for i in range(7)]


def test_a_zip_archive_that_holds_no_one_readable_file_is_refused(tmp_path):
    with zipfile.ZipFile(tmp_path / "two.zip", "w") as archive:
        archive.writestr("a.smi", "CCO a\n")
        archive.writestr("b.smi", "CCN b\n")
    with zipfile.ZipFile(tmp_path / "sheet.zip", "w") as archive:
        archive.writestr("lib.xlsx", b"PK")
    (tmp_path / "fake.zip").write_text("CCO a\n")
    with zipfile.ZipFile(tmp_path / "crc.zip", "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("lib.smi", "CCO a\nCCN b\n")
    damaged = (tmp_path / "crc.zip").read_bytes().replace(b"CCN b", b"CCX b")
    (tmp_path / "crc.zip").write_bytes(damaged)  # its checksum no longer matches
    whole = (tmp_path / "crc.zip").read_bytes()
    (tmp_path / "header.zip").write_bytes(b"XX" + whole[2:])  # its file's header is damaged
    with zipfile.ZipFile(tmp_path / "empty.zip", "w"):
        pass
    refusals = {
        "two.zip": r"two\.zip: .*a ZIP archive is read when it holds one \.smi",
        "sheet.zip": r"sheet\.zip: .*a ZIP archive is read when it holds one \.smi",
        "empty.zip": r"empty\.zip: .*a ZIP archive is read when it holds one \.smi",
        "fake.zip": r"fake\.zip: not a ZIP archive that can be read \(File is not a zip file\)",
        "crc.zip": r"crc\.zip: cannot be decompressed \(Bad CRC-32 for file 'lib\.smi'\)",
        "header.zip": r"header\.zip: its file cannot be read \(Bad magic number",
    }
    for name, message in refusals.items():
        for read in (lambda path: list(iter_smiles_file(path)), molecule_count_bound):
            with pytest.raises(TableFormatError, match=message):
                read(tmp_path / name)
    with pytest.raises(TableFormatError, match=r"two\.zip: a ZIP archive is read when"):
        read_table(tmp_path / "two.zip")  # as a data set


def written_sd_file(path, smiles: list[str]) -> list[int]:
    """An SD file of these molecules (3D, hydrogens explicit; titled m<i>, data item CAT-<i>),
    the third record's block broken; returns the line where each record starts."""
    from rdkit.Chem import AllChem

    writer = Chem.SDWriter(str(path))
    for i, text in enumerate(smiles):
        mol = Chem.AddHs(Chem.MolFromSmiles(text))
        AllChem.EmbedMolecule(mol, randomSeed=i)
        mol.SetProp("_Name", f"m{i}" if i != 1 else "")  # a blank title line
        mol.SetProp("IDNUMBER", f"CAT-{i}")
        if i != 4:  # a record without the item: its cell is empty
            mol.SetProp("price", f"{i}.5")
        writer.write(mol)
    writer.close()
    records = path.read_text().split("$$$$\n")[:-1]
    broken = records[2].splitlines()
    broken[4] = broken[4][:31] + "Xx" + broken[4][33:]  # an element that does not exist
    records[2] = "\n".join(broken) + "\n"
    path.write_text("".join(f"{record}$$$$\n" for record in records))
    starts = [1]
    for record in records[:-1]:
        starts.append(starts[-1] + record.count("\n") + 1)
    return starts


def test_an_sd_file_is_read_record_by_record(model_dir, tmp_path):
    import gzip

    smiles = ["C[C@H](N)C(=O)O", *library(5, bad=False)]
    starts = written_sd_file(tmp_path / "vendor.sdf", smiles)
    lines = list(iter_smiles_file(tmp_path / "vendor.sdf"))
    assert [line.line for line in lines] == starts
    assert [line.id for line in lines] == ["m0", f"line{starts[1]}", "m2", "m3", "m4", "m5"]
    canonical = [Chem.MolToSmiles(Chem.MolFromSmiles(text)) for text in smiles]
    assert [line.smiles for line in lines] == [*canonical[:2], "", *canonical[3:]]  # stereo kept
    assert lines[2].problem == (
        f"invalid_record: the record on line {starts[2]}: RDKit cannot read the molecule block"
    )
    with_items = list(iter_smiles_file(tmp_path / "vendor.sdf", SmilesColumns(id="idnumber")))
    assert [line.id for line in with_items] == [f"CAT-{i}" for i in range(6)]  # broken one too
    assert [line.extra for line in with_items] == [("0.5",), ("1.5",), ("2.5",), ("3.5",), ("",),
                                                   ("5.5",)]  # fmt: skip
    assert lines[0].extra == ("CAT-0", "0.5")  # with ids from the titles, every item is carried
    assert smiles_file_extra_columns(tmp_path / "vendor.sdf", SmilesColumns(id="IDNUMBER")) == [
        "price"
    ]
    assert molecule_count_bound(tmp_path / "vendor.sdf") == 7  # an upper bound
    with gzip.open(tmp_path / "vendor.sdf.gz", "wb") as handle:
        handle.write((tmp_path / "vendor.sdf").read_bytes())
    out = tmp_path / "predicted.csv"
    result = run_cli("predict", "--model-dir", model_dir, "--smiles", tmp_path / "vendor.sdf.gz",
                     "--out", out, "--id-column", "IDNUMBER")  # fmt: skip
    assert result.returncode == 0, result.stderr
    predicted = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert predicted["id"].tolist() == [line.id for line in with_items]
    assert predicted["price"].tolist() == [line.extra[0] for line in with_items]
    assert predicted["error"].str.split(":").str[0].tolist() == ["", "", "invalid_record",
                                                                 "", "", ""]  # fmt: skip
    refusals = {
        SmilesColumns(smiles="structure"): r"an SD file has no SMILES column to name",
        SmilesColumns(id="CID"): r"the first record \(line 1\) has no data item 'CID'",
    }
    for columns, message in refusals.items():
        with pytest.raises(TableFormatError, match=message):
            next(iter_smiles_file(tmp_path / "vendor.sdf", columns))


def test_an_sd_files_data_items_are_those_of_every_record(model_dir, tmp_path):
    """Catalogues and PubChem's SD files hold some items in some records only: an item that
    the first record lacks is carried too, empty where a record lacks it."""
    import bz2

    writer = Chem.SDWriter(str(tmp_path / "catalogue.sdf"))
    items = [{"ID": "A1"}, {"ID": "A2", "price": "12"}, {"stock": "3 g", "ID": "A3", "price": "9"}]
    for text, record_items in zip(["CCO", "c1ccccc1O", "CC(=O)C"], items, strict=True):
        mol = Chem.MolFromSmiles(text)
        for name, value in record_items.items():
            mol.SetProp(name, value)
        writer.write(mol)
    writer.close()
    (tmp_path / "catalogue.sdf.bz2").write_bytes(
        bz2.compress((tmp_path / "catalogue.sdf").read_bytes())
    )
    for name in ("catalogue.sdf", "catalogue.sdf.bz2"):
        path = tmp_path / name
        lines = list(iter_smiles_file(path, SmilesColumns(id="ID")))
        assert smiles_file_extra_columns(path, SmilesColumns(id="ID")) == ["price", "stock"]
        assert [line.extra for line in lines] == [("", ""), ("12", ""), ("9", "3 g")]
        assert smiles_file_extra_columns(path) == ["ID", "price", "stock"]  # ids: titles
    out = tmp_path / "predicted.csv"
    result = run_cli("predict", "--model-dir", model_dir, "--smiles",
                     tmp_path / "catalogue.sdf.bz2", "--out", out, "--id-column", "ID")  # fmt: skip
    assert result.returncode == 0, result.stderr
    predicted = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert predicted[["id", "price", "stock"]].values.tolist() == [
        ["A1", "", ""], ["A2", "12", ""], ["A3", "9", "3 g"]
    ]  # fmt: skip


def test_an_sd_files_scan_finds_its_items_as_its_records_are_read(tmp_path):
    """The scan for the items to carry reads the data items of each record after its molecule
    block (a title line that looks like an item header is none), as the records are read; an
    id item spelt in another case by another record is the id, not carried."""
    records = []
    for title, items in [("> <from vendor>", {"ID": "A1"}), ("b", {"id": "B1", "price": "7"})]:
        mol = Chem.MolFromSmiles("CCO")
        mol.SetProp("_Name", title)
        for name, value in items.items():
            mol.SetProp(name, value)
        records.append(Chem.MolToMolBlock(mol) + "".join(
            f"> <{name}>\n{value}\n\n" for name, value in items.items()) + "$$$$\n")  # fmt: skip
    (tmp_path / "merged.sdf").write_text("".join(records).replace("\n", "\r\n"))
    path = tmp_path / "merged.sdf"
    assert sd_scan(path) == SdScan(
        3, ("ID", "id", "price"), spelt_twice=frozenset(), alone=frozenset({"ID", "id", "price"})
    )
    for id_item in ("ID", "Id"):
        lines = list(iter_smiles_file(path, SmilesColumns(id=id_item)))
        assert [(line.id, line.extra) for line in lines] == [("A1", ("",)), ("B1", ("7",))]
        assert smiles_file_extra_columns(path, SmilesColumns(id=id_item)) == ["price"]
    assert [line.id for line in iter_smiles_file(path)] == ["> <from vendor>", "b"]
    assert first_molecule(path, SmilesColumns(id="id")) == SmilesLine(1, "CCO", "A1", ())
    repeated = "".join(records).replace("> <price>\n7\n", "> <price>\n7\n\n> <price>\n8\n")
    (tmp_path / "repeated.sdf").write_text(repeated)
    assert sd_scan(tmp_path / "repeated.sdf").repeated == {"price"}  # in one record
    both = "".join(records).replace("> <ID>\nA1\n", "> <ID>\nA1\n\n> <id>\nA0\n")
    (tmp_path / "both.sdf").write_text(both)  # a record with ID and id, one with id alone
    both_scan = sd_scan(tmp_path / "both.sdf")
    assert both_scan.spelt_twice == {"id"} and both_scan.repeated == set()
    assert both_scan.alone == {"id", "price"}


def test_an_sd_files_id_item_in_two_cases_is_the_id_and_the_other_case_a_column(tmp_path):
    """A record that holds its id item in the id's exact case and another spelling carries
    the other; a record whose only spelling is the other has it as its id, its cell empty."""
    writer = Chem.SDWriter(str(tmp_path / "two.sdf"))
    for items in [{"ID": "A1", "id": "internal-7", "price": "5"}, {"id": "B1"}]:
        mol = Chem.MolFromSmiles("CCO")
        for name, value in items.items():
            mol.SetProp(name, value)
        writer.write(mol)
    writer.close()
    path = tmp_path / "two.sdf"
    for id_item in ("ID", " ID "):
        columns = SmilesColumns(id=id_item)
        assert smiles_file_extra_columns(path, columns) == ["id", "price"]
        lines = list(iter_smiles_file(path, columns))
        assert [(line.id, line.extra) for line in lines] == [
            ("A1", ("internal-7", "5")), ("B1", ("", ""))
        ]  # fmt: skip
    replaced = tmp_path / "replaced.sdf"  # the same size and time: the scan is made again
    replaced.write_text(path.read_text().replace("price", "batch"))
    stat = path.stat()
    os.utime(replaced, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert sd_scan(path).item_names == ("ID", "id", "price")
    os.replace(replaced, path)
    assert sd_scan(path).item_names == ("ID", "id", "batch")


def test_an_sd_records_last_data_item_ends_before_its_dollar_line(tmp_path):
    atom = "    0.0000    0.0000    0.0000 {}   0  0  0  0  0  0  0  0  0  0  0  0\n"
    block = "{}\n     RDKit          2D\n\n  {}  0  0  0  0  0  0  0  0  0999 V2000\n{}M  END\n"
    items = "> <IDNUMBER>\n{}\n"  # no blank line before $$$$, as some vendors write it
    records = [
        block.format("methane", 1, atom.format("C")) + items.format("X6") + "$$$$\n$$$$\n",
        block.format("empty", 0, "") + items.format("X7") + "$$$$\n",
        block.format("ammonia", 1, atom.format("N")) + items.format("X8"),  # no last $$$$
    ]
    (tmp_path / "vendor.sdf").write_text("".join(records))
    lines = list(iter_smiles_file(tmp_path / "vendor.sdf", SmilesColumns(id="IDNUMBER")))
    assert [(line.line, line.smiles, line.id) for line in lines] == [
        (1, "C", "X6"), (11, "", "X7"), (19, "N", "X8")
    ]  # fmt: skip  # the empty text between two $$$$ lines is no record
    assert lines[1].problem.endswith("the record on line 11: its molecule block holds no atom")


def test_an_enamine_cxsmiles_file_is_read_as_a_tab_separated_table(model_dir, tmp_path):
    import bz2

    rows = ["smiles\tidnumber\tMW", "C[C@H](N)C(=O)O |&1:1|\tZ100\t89.09",  # CXSMILES
            "c1ccccc1\tZ101\t78.11", "C1CC\tZ102\t0"]  # fmt: skip
    path = tmp_path / "Enamine_REAL.cxsmiles.bz2"
    path.write_bytes(bz2.compress(("\n".join(rows) + "\n").encode()))
    out = tmp_path / "predicted.csv"
    result = run_cli("predict", "--model-dir", model_dir, "--smiles", path, "--out", out,
                     "--id-column", "idnumber")  # fmt: skip
    assert result.returncode == 0, result.stderr
    predicted = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert predicted[["line", "id", "MW"]].values.tolist() == [
        ["2", "Z100", "89.09"], ["3", "Z101", "78.11"], ["4", "Z102", "0"]
    ]  # fmt: skip
    assert predicted["smiles"].tolist() == ["C[C@H](N)C(=O)O", "c1ccccc1", ""]
    assert predicted["error"].str.split(":").str[0].tolist() == ["", "", "invalid_smiles"]


def test_a_directory_of_hive_partitions_is_read_as_one_table(model_dir, tmp_path):
    """Spark and Dask write a table partitioned by a column as directories key=value: their
    files are the table's parts, and each key is a column holding its directory's value."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    smiles = library(6)
    table = pa.table({"smiles": smiles, "id": [f"m{i}" for i in range(7)]})
    pq.write_to_dataset(table.slice(0, 3), tmp_path / "lib" / "vendor=enamine" / "batch=9")
    pq.write_to_dataset(table.slice(3, 2), tmp_path / "lib" / "vendor=enamine" / "batch=10")
    pq.write_to_dataset(table.slice(5, 2), tmp_path / "lib" / "vendor=a%2Fb" / "batch=9")
    (tmp_path / "lib" / "_SUCCESS").touch()
    lines = list(iter_smiles_file(tmp_path / "lib"))
    assert [line.id for line in lines] == ["m5", "m6", "m0", "m1", "m2", "m3", "m4"]
    assert [line.line for line in lines] == list(range(1, 8))  # rows go on across the parts
    assert [line.extra for line in lines] == [("a/b", "9")] * 2 + [("enamine", "9")] * 3 + [
        ("enamine", "10")
    ] * 2  # "a%2Fb" as Spark escapes "a/b"; batch=9 before batch=10
    assert lines[2].smiles == smiles[0] and lines[0].smiles == smiles[5]
    assert smiles_file_extra_columns(tmp_path / "lib") == ["vendor", "batch"]
    assert molecule_count_bound(tmp_path / "lib") == 7
    pq.write_to_dataset(table.slice(0, 1), tmp_path / "nulls" / f"vendor={HIVE_NULL}")
    empty_row = pa.table({"smiles": [None], "id": [None]}, schema=table.schema)
    pq.write_to_dataset(empty_row, tmp_path / "nulls" / "vendor=x")  # skipped, as in a file
    assert list(iter_smiles_file(tmp_path / "nulls")) == [
        SmilesLine(1, smiles[0], "m0", ("",))
    ]  # fmt: skip
    out = tmp_path / "predicted.csv"
    result = run_cli("predict", "--model-dir", model_dir, "--smiles", tmp_path / "lib",
                     "--out", out)  # fmt: skip
    assert result.returncode == 0, result.stderr
    predicted = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert predicted[["id", "vendor", "batch"]].values.tolist()[1:3] == [
        ["m6", "a/b", "9"], ["m0", "enamine", "9"]
    ]  # fmt: skip


def test_a_directory_that_is_no_parquet_table_is_refused_saying_why(tmp_path):
    def write(relative: str, smiles: str = "CCO", column: str = "smiles"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame({column: [smiles]}).to_parquet(tmp_path / relative)

    (tmp_path / "empty" / "_temporary").mkdir(parents=True)
    write("empty/_temporary/part-0.parquet")  # Spark's unfinished task: not read
    write("nested/backup/a.parquet")
    write("mixed/a.parquet")
    write("mixed/b.parquet", column="SMILES")
    write("both/a.parquet")
    write("both/year=2026/b.parquet")
    write("stray/year=2026/a.parquet")
    write("stray/old/b.parquet")
    write("keys/year=2026/a.parquet")
    write("keys/month=1/b.parquet")
    refusals = {
        "empty": r"empty: a directory without \.parquet files in it; a directory is read as",
        "nested": r"nested: backup/a\.parquet is in a subdirectory that is no Hive partition",
        "mixed": r"b\.parquet: its columns \['SMILES'\] are not those of a\.parquet \(\['smiles'\]\)",
        "both": r"both: holds both parts \(a\.parquet\) and Hive partitions \(year=2026/\)",
        "stray": r"stray: old/b\.parquet is in a subdirectory that is no Hive partition",
        "keys": r"year=2026/a\.parquet: its columns \['smiles', 'year'\] are not those of "
        r"month=1/b\.parquet \(\['smiles', 'month'\]\)",
    }
    for name, message in refusals.items():
        with pytest.raises(TableFormatError, match=message):
            next(iter_smiles_file(tmp_path / name))


def test_a_parquet_librarys_cells_are_read_as_text_whatever_their_type(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = {
        "smiles": pa.array([b"CCO", b"CCN", None]),  # binary, as some tools write text
        "score": pa.array([1.1, float("nan"), 0.3], pa.float32()),
        "made": pa.array([0, 253402297199999999, None], pa.timestamp("us", tz="Asia/Tokyo")),
        "tags": pa.array([[1, 2], None, []]),  # no text cast: Python's text of the value
        "cid": pa.array([12345678901.0, None, 7.0]),  # integers that met a null, as pandas has them
    }
    pq.write_table(pa.table(columns), tmp_path / "typed.parquet")
    assert list(iter_smiles_file(tmp_path / "typed.parquet")) == [
        SmilesLine(1, "CCO", "row1",
                   ("1.1", "1970-01-01 09:00:00.000000+0900", "[1, 2]", "12345678901")),
        SmilesLine(2, "CCN", "row2", ("", "10000-01-01 07:59:59.999999+0900", "", "")),
        SmilesLine(3, "", "row3", ("0.3", "", "[]", "7")),
    ]  # fmt: skip


def test_a_whole_number_reads_as_an_integer_whatever_its_neighbours():
    import pyarrow as pa

    mixed = [12345678901.0, 0.5, None, float("nan"), 2.0**60, -3.0]  # one batch or another
    assert column_texts(pa.array(mixed)) == [
        "12345678901", "0.5", "", "", "1.152921504606847e+18", "-3"
    ]  # fmt: skip
    assert column_texts(pa.array(mixed[:1])) == ["12345678901"]


def test_an_xlsx_library_is_read_as_its_csv_twin_is(ensemble, tmp_path):
    rows = [["CID", "IsomericSMILES", "price"], [702, "CCO", 1.5], ["", "", ""], [703, "C1CC", 2]]
    rows += [["", "c1ccccc1", ""]]
    pd.DataFrame(rows).to_excel(tmp_path / "shop.xlsx", index=False, header=False)
    pd.DataFrame(rows).to_csv(tmp_path / "shop.csv", index=False, header=False)
    columns = SmilesColumns(smiles="isomericsmiles", id="CID")
    parsed_sheet.cache_clear()
    from_sheet = list(iter_smiles_file(tmp_path / "shop.xlsx", columns))
    assert from_sheet == list(iter_smiles_file(tmp_path / "shop.csv", columns))
    assert [(line.line, line.id, line.extra) for line in from_sheet] == [
        (2, "702", ("1.5",)), (4, "703", ("2",)), (5, "line5", ("",))
    ]  # fmt: skip
    assert smiles_file_extra_columns(tmp_path / "shop.xlsx", columns) == ["price"]
    assert molecule_count_bound(tmp_path / "shop.xlsx") == 3
    assert parsed_sheet.cache_info().misses == 1  # the workbook is parsed once
    predict_smiles_file(tmp_path / "shop.xlsx", {"logp": ensemble}, tmp_path / "out",
                        columns=columns, progress=False)  # fmt: skip
    predicted = read_parts(tmp_path / "out")
    assert predicted["error"].str.split(":").str[0].tolist() == ["", "invalid_smiles", ""]


def test_an_xlsx_sheets_header_may_follow_blank_rows_and_its_error_cells_are_empty(tmp_path):
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["A3"], sheet["B3"], sheet["A4"], sheet["B4"] = "smiles", "id", "CCO", "#N/A"
    sheet["B4"].data_type = "e"  # an error cell, as Excel writes #N/A
    sheet["A6"], sheet["B6"] = "CCN", "b"
    workbook.save(tmp_path / "sheet.xlsx")
    assert list(iter_smiles_file(tmp_path / "sheet.xlsx")) == [
        SmilesLine(4, "CCO", "line4"), SmilesLine(6, "CCN", "b")  # the rows Excel shows
    ]  # fmt: skip
    (tmp_path / "locked.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    with pytest.raises(TableFormatError, match=r"locked\.xlsx: not an XLSX .* password-protected"):
        list(iter_smiles_file(tmp_path / "locked.xlsx"))  # an encrypted workbook is OLE2
    parts = zip_parts(tmp_path / "sheet.xlsx")
    sheet_xml = "xl/worksheets/sheet1.xml"
    parts[sheet_xml] = parts[sheet_xml][: len(parts[sheet_xml]) // 2]  # cut in half
    write_zip(tmp_path / "cut.xlsx", parts)
    with pytest.raises(TableFormatError, match=r"cut\.xlsx: not an XLSX workbook that can be"):
        list(iter_smiles_file(tmp_path / "cut.xlsx"))
    parts["[Content_Types].xml"] = re.sub(  # another Office file (a .docx renamed)
        rb'<Override PartName="/xl/workbook.xml"[^>]*/>', b"", parts["[Content_Types].xml"]
    )
    write_zip(tmp_path / "letter.xlsx", parts)
    message = r"letter\.xlsx: not an XLSX workbook .*no valid workbook part"
    with pytest.raises(TableFormatError, match=message):
        list(iter_smiles_file(tmp_path / "letter.xlsx"))


def test_an_xlsx_librarys_zero_padded_ids_are_read_as_excel_shows_them(tmp_path):
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["smiles", "id"])
    for smiles, number in [("CCO", 702), ("CCN", 1234567), ("CCC", -702), ("CO", 702.5)]:
        sheet.append([smiles, number])
        sheet.cell(sheet.max_row, 2).number_format = "00000"  # Excel's "zero-padded" ids
    sheet.append(["C", 703])  # General
    sheet.append(["CS", 704])
    sheet.cell(sheet.max_row, 2).number_format = "0.00"  # only zeros-only formats are applied
    workbook.save(tmp_path / "shop.xlsx")
    assert [line.id for line in iter_smiles_file(tmp_path / "shop.xlsx")] == [
        "00702", "1234567", "-00702", "702.5", "703", "704"
    ]  # fmt: skip
    parts = zip_parts(tmp_path / "shop.xlsx")
    sheet_xml = "xl/worksheets/sheet1.xml"  # a style index past the workbook's styles
    parts[sheet_xml] = re.sub(rb'(<c r="B2"[^>]*?) s="\d+"', rb'\1 s="99"', parts[sheet_xml])
    assert b's="99"' in parts[sheet_xml]
    write_zip(tmp_path / "styled.xlsx", parts)
    assert next(iter_smiles_file(tmp_path / "styled.xlsx")).id == "702"  # its digits alone
    workbook.save(tmp_path / "shop.xlsm")  # a macro-enabled workbook is read as an .xlsx
    assert list(iter_smiles_file(tmp_path / "shop.xlsm")) == list(
        iter_smiles_file(tmp_path / "shop.xlsx")
    )


def test_a_csv_library_is_read_by_its_smiles_and_id_columns(tmp_path):
    (tmp_path / "a.csv").write_text('ID,Smiles\nq1,"c1ccccc1"\n\n,CCO\nq3\n')
    (tmp_path / "b.csv").write_text("smiles\nCCO\n")
    assert list(iter_smiles_file(tmp_path / "a.csv")) == [
        SmilesLine(line=2, smiles="c1ccccc1", id="q1"),
        SmilesLine(line=4, smiles="CCO", id="line4"),  # an empty id: the line names it
        SmilesLine(line=5, smiles="", id="q3"),  # a short row: rejected later as missing_smiles
    ]
    assert list(iter_smiles_file(tmp_path / "b.csv")) == [SmilesLine(2, "CCO", "line2")]


def test_a_row_with_cells_beyond_its_header_is_rejected_not_shifted(ensemble, tmp_path):
    # "2,4-dinitrophenol" unquoted: every cell after it moves one column to the right
    table = "name,smiles,price\na,CCO,1\n2,4-dinitrophenol,Oc1ccccc1,3\nb,CCN,2,,\n"
    (tmp_path / "shop.csv").write_text(table)
    lines = list(iter_smiles_file(tmp_path / "shop.csv"))
    assert [line.problem for line in lines] == [
        "",
        "extra_cells: line 3 has 4 cells where the header has 3 (beyond it: ['3']); "
        "is a field holding the separator unquoted?",
        "",  # empty cells beyond the header (Excel writes them) shift nothing
    ]
    # Excel re-saving such a file names no trailing column: the unnamed ones are not columns
    (tmp_path / "resaved.csv").write_text("smiles,name,price,\nOc1ccccc1,2,4-dinitrophenol,3\n")
    assert smiles_file_extra_columns(tmp_path / "resaved.csv") == ["price"]
    [resaved] = iter_smiles_file(tmp_path / "resaved.csv")
    assert resaved.problem.startswith("extra_cells: line 2 has 4 cells where the header has 3")
    predict_smiles_file(tmp_path / "shop.csv", {"logp": ensemble}, tmp_path / "out", progress=False)
    predicted = read_parts(tmp_path / "out")
    assert predicted["error"].str.split(":").str[0].tolist() == ["", "extra_cells", ""]
    assert predicted["logp_pred"].isna().tolist() == [False, True, False]
    assert predicted["price"].tolist() == ["1", "Oc1ccccc1", "2"]  # as read, for the report


def test_a_csv_library_is_read_by_the_columns_it_is_given(tmp_path):
    (tmp_path / "pubchem.csv").write_text("CID,IsomericSMILES,id\n702,CCO,x\n")
    named = SmilesColumns(smiles="isomericsmiles", id="CID")  # case does not matter
    assert list(iter_smiles_file(tmp_path / "pubchem.csv", named)) == [
        SmilesLine(2, "CCO", "702", extra=("x",))  # the column 'id', not the ids here
    ]
    assert smiles_file_extra_columns(tmp_path / "pubchem.csv", named) == ["id"]
    (tmp_path / "a.smi").write_text("CCO a\n")
    refused = {
        ("pubchem.csv", SmilesColumns(smiles="smiles")): "no 'smiles' column .*'IsomericSMILES'",
        ("pubchem.csv", SmilesColumns(smiles="IsomericSMILES", id="Name")): "no 'Name' column",
        ("a.smi", SmilesColumns(id="CID")): r"has no columns to name \(id column 'CID'\)",
    }
    for (name, columns), message in refused.items():
        with pytest.raises(TableFormatError, match=message):
            list(iter_smiles_file(tmp_path / name, columns))
    assert list(iter_smiles_file(tmp_path / "a.smi", SmilesColumns(smiles="SMILES"))) == [
        SmilesLine(1, "CCO", "a")  # the default column, in another case: nothing named
    ]
    with pytest.raises(ValueError, match="the SMILES column's name is empty"):
        SmilesColumns(smiles=" ")


def test_a_tsv_library_is_read_as_a_table(tmp_path):
    chembl = 'ChEMBL ID\tName\tSmiles\nCHEMBL545\tethanol\tCCO\n\t\t\nCHEMBL17564\t"x, y"\tC\n'
    (tmp_path / "chembl.tsv").write_text(chembl)
    assert list(iter_smiles_file(tmp_path / "chembl.tsv")) == [
        SmilesLine(2, "CCO", "ethanol", extra=("CHEMBL545",)),  # the name column, as in a .csv
        SmilesLine(4, "C", "x, y", extra=("CHEMBL17564",)),
    ]
    assert smiles_file_extra_columns(tmp_path / "chembl.tsv") == ["ChEMBL ID"]
    named = SmilesColumns(id="chembl id")
    assert [line.id for line in iter_smiles_file(tmp_path / "chembl.tsv", named)] == [
        "CHEMBL545",
        "CHEMBL17564",
    ]
    (tmp_path / "preamble.tsv").write_text("\n# from ChEMBL\nsmiles\tid\nCCO\ta\n")
    assert list(iter_smiles_file(tmp_path / "preamble.tsv")) == [SmilesLine(4, "CCO", "a")]
    refused = {
        "commas.tsv": ("id,smiles\na,CCO\n", r"no 'smiles' column .*\['id,smiles'\]"),
        "open_quote.tsv": (
            'id\tsmiles\n"5-ring lactone\tC1CCOC1=O\nb\tCCN\n',
            r"the record that starts on line 2 is malformed .*quote left open",
        ),
    }
    for name, (content, message) in refused.items():
        (tmp_path / name).write_text(content)
        with pytest.raises(TableFormatError, match=message):
            list(iter_smiles_file(tmp_path / name))


def test_a_smiles_file_header_is_its_first_line_with_the_smiles_first(tmp_path):
    (tmp_path / "commented.smi").write_text("# from the lab\n\nSMILES\tName\nCCO\tethanol\n")
    assert list(iter_smiles_file(tmp_path / "commented.smi")) == [SmilesLine(4, "CCO", "ethanol")]
    (tmp_path / "late.smi").write_text("CCO a\nsmiles b\n")  # only the first line is a header
    assert [line.smiles for line in iter_smiles_file(tmp_path / "late.smi")] == ["CCO", "smiles"]
    (tmp_path / "id.smi").write_text("CCO ethanol, smiles form\n")  # a SMILES first: a molecule
    assert list(iter_smiles_file(tmp_path / "id.smi")) == [
        SmilesLine(1, "CCO", "ethanol, smiles form")
    ]
    (tmp_path / "table.smi").write_text("# export\nName\tSMILES\nethanol\tCCO\n")
    with pytest.raises(TableFormatError, match=r"table.smi: line 2 .* smiles column is not the"):
        list(iter_smiles_file(tmp_path / "table.smi"))


def test_excel_exports_are_read_or_refused_by_name(tmp_path):
    bom_crlf = '\ufeffName,SMILES\r\nq1,CCO\r\n"two\r\nlines",CCN\r\n'
    (tmp_path / "excel.csv").write_text(bom_crlf, encoding="utf-8", newline="")
    (tmp_path / "bom.smi").write_text("\ufeffsmiles id\nCCO a\n", encoding="utf-8")
    assert list(iter_smiles_file(tmp_path / "excel.csv")) == [
        SmilesLine(2, "CCO", "q1"),
        SmilesLine(3, "CCN", "two\r\nlines"),  # the line where the record starts
    ]
    assert list(iter_smiles_file(tmp_path / "bom.smi")) == [SmilesLine(2, "CCO", "a")]
    semicolons = '"Name";"Smiles";"Mass, Da"\n"ethanol; 96 %";CCO;46,07\n1,5;CCN;45,08\n'
    (tmp_path / "chembl.csv").write_text(semicolons)  # a decimal-comma locale's "CSV"
    assert list(iter_smiles_file(tmp_path / "chembl.csv")) == [
        SmilesLine(2, "CCO", "ethanol; 96 %", extra=("46,07",)),
        SmilesLine(3, "CCN", "1,5", extra=("45,08",)),
    ]
    refused = {
        "cp1252.csv": ("smiles,id\nCCO,caf\xe9\n".encode("cp1252"), "line 2 is not UTF-8 text"),
        "twice.csv": (b"smiles,id,smiles\nCCO,a,CCN\n", "'smiles' is named twice"),
        "in_two_cases.csv": (b"Smiles,id,SMILES\nCCO,a,CCN\n", "'smiles' is named twice"),
        "header.smi": (b"smiles id\nCCO,a\n", "line 2 'CCO,a' is comma-separated"),
        "library.xlsx": (b"PK\x03\x04", r"not an XLSX workbook that can be read"),
        "library.xls": (b"\xd0\xcf", r"a \.xls file cannot .* save it as CSV UTF-8"),
        "library.parquet": (b"PAR1", r"not a Parquet file that can be read"),
        "library.smi.gz": (b"\x1f\x8b", r"cannot be decompressed .* cut short or corrupt"),
        "library.parquet.gz": (b"\x1f\x8b", r"a \.gz file cannot .* decompress it first"),
    }
    for name, (content, message) in refused.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(TableFormatError, match=message) as refusal:
            list(iter_smiles_file(tmp_path / name))
        assert name in str(refusal.value)


def test_chunked_prediction_equals_one_chunk(model_dir, tmp_path):
    inputs = write_smiles(tmp_path / "in.smi", library(40))
    counts = predict_smiles_file(inputs, {"logp": model_dir}, tmp_path / "c7", chunk_size=7,
                                 progress=False)  # fmt: skip
    predict_smiles_file(inputs, {"logp": model_dir}, tmp_path / "c1", progress=False)
    assert counts["molecules"] == 41 and counts["failed"] == 1 and counts["parts"] == 6
    assert len(list((tmp_path / "c7").glob("part-*.parquet"))) == 6
    pd.testing.assert_frame_equal(read_parts(tmp_path / "c7"), read_parts(tmp_path / "c1"))


def respelled(smiles: str) -> str:
    """The same molecule written otherwise: rooted at its last atom, Kekulé form."""
    mol = Chem.MolFromSmiles(smiles)
    Chem.Kekulize(mol, clearAromaticFlags=True)
    return Chem.MolToSmiles(mol, rootedAtAtom=mol.GetNumAtoms() - 1, kekuleSmiles=True)


def test_a_molecule_listed_again_is_predicted_once_in_its_chunk(model_dir, tmp_path):
    distinct = library(12, bad=False)
    copies = [respelled(distinct[i]) for i in (2, 5, 7, 9)] + [distinct[2]]
    assert all(copy not in distinct for copy in copies[:4])
    listed = distinct + ["C1CC"] + copies  # 18 lines, 5 copies: 4 spelt otherwise
    inputs = write_smiles(tmp_path / "in.smi", listed)
    once = predict_smiles(distinct, model_dir).set_index("smiles")
    prediction_columns = [column for column in once.columns if column.startswith("logp_")]
    for chunk_size, repeated in ((50, 5), (9, 2)):  # chunks of 9: 2 copies share a chunk
        out = tmp_path / f"c{chunk_size}"
        counts = predict_smiles_file(inputs, {"logp": model_dir}, out, chunk_size=chunk_size,
                                     progress=False)  # fmt: skip
        assert (counts["molecules"], counts["failed"], counts["repeated"]) == (18, 1, repeated)
        table = read_parts(out)
        assert table["input_smiles"].tolist() == listed
        predicted = table[table["error"] == ""]
        expected = once.loc[predicted["smiles"], prediction_columns].reset_index(drop=True)
        pd.testing.assert_frame_equal(
            predicted[prediction_columns].reset_index(drop=True), expected
        )
        assert predicted["smiles"].tolist() == once.index[[*range(12), 2, 5, 7, 9, 2]].tolist()


def test_each_prediction_names_its_nearest_training_molecule(model_dir, tmp_path):
    """A training molecule is its own nearest (similarity 1); another molecule's nearest is the
    training molecule of the highest ECFP4 Tanimoto similarity."""
    trained = pd.read_parquet(model_dir / TRAINING_MOLECULES)
    assert trained["id"].tolist() == labelled_molecules()["id"].tolist()
    novel = ["CCCCCCCCCCCCCCCCCCCC(=O)O", "OCC1OC(O)C(O)C(O)C1O"]  # unlike the demo library
    table = predict_smiles([trained["smiles"][5], *novel, "C1CC"], model_dir)
    assert table["logp_similarity"][0] == 1.0
    assert table["logp_nearest"][0] == trained["id"][5]
    reference = [
        AllChem.GetMorganFingerprintAsBitVect(Chem.MolFromSmiles(text), 2, nBits=2048)
        for text in trained["smiles"]
    ]
    for row, text in enumerate(novel, start=1):
        query = AllChem.GetMorganFingerprintAsBitVect(Chem.MolFromSmiles(text), 2, nBits=2048)
        scores = np.array(DataStructs.BulkTanimotoSimilarity(query, reference))
        assert table["logp_similarity"][row] == pytest.approx(scores.max())
        assert scores.max() < 0.5
        assert table["logp_nearest"][row] == trained["id"][int(scores.argmax())]
    assert np.isnan(table["logp_similarity"][3]) and table["logp_nearest"][3] == ""
    assert list(table.columns) == output_columns(["logp"])


def test_models_without_training_molecules_predict_with_empty_neighbour_columns(
    model_dir, tmp_path, caplog
):
    copied = shutil.copytree(model_dir, tmp_path / "logp")
    (copied / TRAINING_MOLECULES).unlink()
    with caplog.at_level(logging.WARNING, logger="redoxscreen.similarity"):
        table = predict_smiles(["CCO", "c1ccccc1O"], copied)
    assert f"no {TRAINING_MOLECULES} (made before training molecules were recorded)" in caplog.text
    assert table["logp_similarity"].isna().all() and (table["logp_nearest"] == "").all()
    assert table["logp_pred"].notna().all()
    unsought = predict_smiles(["CCO", "c1ccccc1O"], model_dir, similarity=False)  # --no-similarity
    assert unsought["logp_similarity"].isna().all() and (unsought["logp_nearest"] == "").all()
    pd.testing.assert_frame_equal(unsought, table)


def test_targets_trained_on_the_same_molecules_share_one_search(model_dir, tmp_path):
    other = shutil.copytree(model_dir, tmp_path / "other")
    trained = pd.read_parquet(other / TRAINING_MOLECULES)
    trained.iloc[:100].to_parquet(
        other / TRAINING_MOLECULES
    )  # other molecules: a search of its own
    ensembles = {name: Ensemble.load(model_dir) for name in ("a", "b")}
    ensembles["c"] = Ensemble.load(other)
    (a, first), (b, second), (c, third) = features_needed(ensembles).neighbours
    assert (a, b, c) == ("a", "b", "c") and first is second and third is not first
    again = features_needed(ensembles).neighbours  # a later call (predict_smiles) reuses them
    assert all(
        later is earlier for (_, later), earlier in zip(again, [first, second, third], strict=True)
    )
    assert features_needed(ensembles, similarity=False).neighbours == ()
    table = predict_smiles(["CCO", "c1ccccc1O", trained["smiles"][150]], ensembles)
    pd.testing.assert_series_equal(table["a_similarity"], table["b_similarity"], check_names=False)
    assert table["c_similarity"][2] < 1.0 == table["a_similarity"][2]
    alone = predict_smiles(["CCO", "c1ccccc1O", trained["smiles"][150]], other)
    np.testing.assert_array_equal(table["c_similarity"], alone["logp_similarity"])


def test_worker_processes_give_the_same_rows(model_dir, tmp_path):
    inputs = write_smiles(tmp_path / "in.smi", library(30))
    predict_smiles_file(inputs, {"logp": model_dir}, tmp_path / "p1", chunk_size=8,
                        progress=False)  # fmt: skip
    predict_smiles_file(inputs, {"logp": model_dir}, tmp_path / "p2", chunk_size=8,
                        progress=False, processes=2)  # fmt: skip
    pd.testing.assert_frame_equal(read_parts(tmp_path / "p1"), read_parts(tmp_path / "p2"))


def test_rerun_with_fewer_molecules_leaves_no_stale_parts(ensemble, tmp_path):
    out = tmp_path / "out"
    predict_smiles_file(write_smiles(tmp_path / "a.smi", library(30)), {"logp": ensemble}, out,
                        chunk_size=7, progress=False)  # fmt: skip
    assert len(list(out.glob("part-*.parquet"))) == 5
    predict_smiles_file(write_smiles(tmp_path / "b.smi", library(8, bad=False)),
                        {"logp": ensemble}, out, chunk_size=7, progress=False)  # fmt: skip
    assert sorted(path.name for path in out.iterdir()) == [
        "part-00000.parquet",
        "part-00001.parquet",
    ]
    assert len(read_parts(out)) == 8


def test_empty_library_gives_an_empty_table(ensemble, tmp_path):
    inputs = tmp_path / "empty.smi"
    inputs.write_text("# nothing here\n")
    counts = predict_smiles_file(inputs, {"logp": ensemble}, tmp_path / "out", progress=False)
    assert counts["molecules"] == 0
    table = read_parts(tmp_path / "out")
    assert list(table.columns) == output_columns(["logp"]) and len(table) == 0
    header = "smiles\tvendor\tnote\tEA_pred\tduplicate_of\n"  # a header only
    (tmp_path / "empty.tsv").write_text(header)
    predict_smiles_file(tmp_path / "empty.tsv", {"logp": ensemble}, tmp_path / "t", progress=False)
    carried = ["vendor", "input_note", "EA_pred", "input_duplicate_of"]  # screening columns
    table = read_parts(tmp_path / "t")
    assert list(table.columns) == [*output_columns(["logp"]), *carried]
    assert input_columns(table) == carried  # recorded in the Parquet file, not guessed


def test_the_workflows_predictions_read_the_models_record_and_leave_the_rest_to_screening(
    model_dir, tmp_path
):
    # rule predict_library reads models.json, not metrics.json (absent here), and writes no
    # <T>_half_width or <T>_v_li: screening computes them with the run's level and offsets
    recorded = tmp_path / "logp"
    shutil.copytree(model_dir, recorded)
    metrics = json.loads((recorded / "metrics.json").read_text())
    record = {key: metrics[key] for key in RECORDED_KEYS if key in metrics}
    (recorded / MODELS_RECORD).write_text(json.dumps(record))
    (recorded / "metrics.json").unlink()
    inputs = write_smiles(tmp_path / "a.smi", library(9))
    predict_smiles_file(inputs, {"logp": model_dir}, tmp_path / "all", progress=False)
    predict_smiles_file(inputs, {"logp": recorded}, tmp_path / "models", progress=False,
                        record=MODELS_RECORD)  # fmt: skip
    every, by_models = read_parts(tmp_path / "all"), read_parts(tmp_path / "models")
    left_out = {"logp_half_width", "logp_v_li"}
    expected = [name for name in output_columns(["logp"]) if name not in left_out]
    assert list(by_models.columns) == expected
    pd.testing.assert_frame_equal(by_models, every[expected])  # the study's fold 1 too
    # screening's half-widths from the spreads are predict's, as metrics.json calibrated them
    widths = ensemble_half_widths(by_models["logp_spread"], 4.0, 0.05)
    np.testing.assert_array_equal(widths, every["logp_half_width"])
    (tmp_path / "empty.smi").write_text("# nothing here\n")
    predict_smiles_file(tmp_path / "empty.smi", {"logp": recorded}, tmp_path / "none",
                        progress=False, record=MODELS_RECORD)  # fmt: skip
    assert list(read_parts(tmp_path / "none").columns) == expected


def test_a_tables_other_columns_are_named_in_the_output(tmp_path):
    (tmp_path / "t.csv").write_text("smiles,,note,Note,note\n")
    assert smiles_file_extra_columns(tmp_path / "t.csv") == ["column2", "note", "Note", "note"]
    assert smiles_file_extra_columns(tmp_path / "t.smi") == []  # SMILES lines: none
    names = ["note", "error", "Note", "input_error", "ID", "SMILES"]
    assert carried_column_names(names, output_columns(["IE"])) == [
        "note",
        "input_error",
        "input_Note",  # names are compared in any case, as a spreadsheet would
        "input_input_error",
        "input_ID",
        "input_input_SMILES",  # not input_SMILES beside input_smiles
    ]


def test_a_column_in_two_cases_is_found_by_its_exact_case(tmp_path):
    (tmp_path / "t.csv").write_text("SMILES,smiles,ID\nCCO,C,x\n")
    named = SmilesColumns(smiles="SMILES", id="id")
    assert list(iter_smiles_file(tmp_path / "t.csv", named)) == [SmilesLine(2, "CCO", "x", ("C",))]
    assert [line.smiles for line in iter_smiles_file(tmp_path / "t.csv")] == ["C"]  # 'smiles'


def test_predict_smiles_in_memory(ensemble):
    table = predict_smiles(["CCO", "C1CC", "c1ccccc1O"], ensemble)
    assert table["line"].tolist() == [1, 2, 3]
    assert table["id"].tolist() == ["line1", "line2", "line3"]
    assert table["smiles"].tolist() == ["CCO", "", "Oc1ccccc1"]
    assert table["logp_pred"].isna().tolist() == [False, True, False]


def test_missing_model_dir_is_a_clear_error(model_dir, tmp_path):
    final = tmp_path / "results" / "final"
    with pytest.raises(FileNotFoundError, match=r"snakemake .*final/nope/metrics\.json`$"):
        Ensemble.load(final / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=r"no fold models .*; a target's final models "
                       r"are in fold<N>/model\.keras of results/final/<target>$"):  # fmt: skip
        Ensemble.load(tmp_path / "empty")
    for target in ("IE", "EA"):  # the directory above the targets' own
        shutil.copytree(model_dir, final / target)
    with pytest.raises(FileNotFoundError) as named:
        Ensemble.load(final)
    assert str(named.value) == (
        f"no fold models (fold<N>/model.keras) in {final}; it holds the fold models of the "
        f"targets EA, IE: name each target's directory ({final / 'EA'}, {final / 'IE'})"
    )


def test_mismatched_fingerprints_are_a_clear_error(model_dir, tmp_path):
    copy = shutil.copytree(model_dir, tmp_path / "logp")
    recipe_path = copy / "fold1" / "recipe.json"
    recipe = json.loads(recipe_path.read_text())
    recipe["fingerprint"]["n_bits"] = 512
    recipe_path.write_text(json.dumps(recipe))
    with pytest.raises(ValueError, match="different fingerprints.*fold 1: morgan_r1_n512_count"):
        Ensemble.load(copy)


def test_fold_models_that_metrics_did_not_evaluate_are_skipped(model_dir, tmp_path, caplog):
    copy = shutil.copytree(model_dir, tmp_path / "logp")
    left_over = shutil.copytree(copy / "fold1", copy / "fold2")  # from an earlier final.k = 3
    recipe = json.loads((left_over / "recipe.json").read_text())
    recipe["fingerprint"]["n_bits"] = 512  # the earlier run chose another architecture
    (left_over / "recipe.json").write_text(json.dumps(recipe))
    with caplog.at_level(logging.WARNING, logger="redoxscreen.predict"):
        ensemble = Ensemble.load(copy)
    assert ensemble.folds == [0, 1]
    assert "skipping fold models [2]" in caplog.text
    shutil.rmtree(copy / "fold1")
    with pytest.raises(
        FileNotFoundError, match=r"evaluated folds \[0, 1\].*folds \[1\] are missing"
    ):
        Ensemble.load(copy)


def test_without_metrics_the_study_column_is_fold0_with_a_warning(model_dir, tmp_path, caplog):
    copy = shutil.copytree(model_dir, tmp_path / "logp")
    (copy / "metrics.json").unlink()
    with caplog.at_level(logging.WARNING, logger="redoxscreen.predict"):
        ensemble = Ensemble.load(copy)
    assert ensemble.study_fold == 0 and ensemble.unit is None
    assert "no metrics.json" in caplog.text


def test_cli_errors_are_one_line_with_status_2(model_dir, tmp_path):
    inputs = write_smiles(tmp_path / "in.smi", library(3))
    (tmp_path / "no_smiles.csv").write_text("structure,id\nCCO,a\n")
    (tmp_path / "table.smi").write_text("# exported\nCCO,a\n")
    (tmp_path / "header.csv").write_text("smiles,id\n")
    (tmp_path / "empty.csv").write_text("")
    mistakes = {  # (model dir, SMILES file, output) -> what the one line names
        (tmp_path / "final" / "IE", inputs, "o.parquet"): "snakemake",
        (model_dir, tmp_path / "x.smi", "o.parquet"): "x.smi",
        (model_dir, tmp_path / "no_smiles.csv", "o.parquet"): "no 'smiles' column in the "
        "header (columns: ['structure', 'id']); name the smiles column with --smiles-column",
        (model_dir, tmp_path / "header.csv", "o.parquet"): "header.csv holds no molecule",
        (model_dir, tmp_path / "empty.csv", "o.parquet"): "empty.csv: the file is empty",
        (model_dir / "fold0" / "model.keras", inputs, "o.parquet"): "model.keras is a file: "
        f"name its target's model directory, which holds every fold<N>/ ({model_dir})",
        (model_dir, tmp_path / "table.smi", "o.parquet"): "name the file .csv",
        (model_dir, inputs, "o.xlsx"): ".parquet, .csv or .tsv",
        (model_dir, tmp_path / "no_smiles.csv", "o.parquet", "--smiles-column", "structure",
         "--id-column", "CID"): "no 'CID' column",
    }  # fmt: skip
    for (models, smiles, out, *options), needle in mistakes.items():
        result = run_cli("predict", "--model-dir", models, "--smiles", smiles,
                         "--out", tmp_path / out, *options)  # fmt: skip
        assert result.returncode == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "error:" in lines[0] and needle in lines[0], result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "o.parquet").exists() and not (tmp_path / "o.xlsx").exists()


def test_cli_help():
    result = run_cli("predict", "--help")
    assert result.returncode == 0
    for option in ("--model-dir", "--smiles", "--out", "--chunk-size", "snakemake"):
        assert option in result.stdout
    assert run_cli("--help").returncode == 0


def test_the_redoxscreen_command_predicts_as_python_m_redoxscreen_does(model_dir, tmp_path):
    """The script `make venv` writes runs from any directory, without PYTHONPATH, with worker
    processes; a `pandas.py` where the user stands does not shadow pandas."""
    command = console.write_console_script(tmp_path / "redoxscreen")
    assert "PYTHONPATH" not in command.read_text()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "pandas.py").write_text("raise ImportError('shadowed')\n")
    inputs = write_smiles(tmp_path / "in.smi", library(12))
    arguments = ["predict", "--model-dir", model_dir, "--smiles", inputs, "--chunk-size", 4,
                 "--processes", 2, "--no-progress"]  # fmt: skip
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run(
        [command, *map(str, arguments), "--out", tmp_path / "command.csv"],
        capture_output=True, text=True, cwd=elsewhere, env=environment,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert run_cli(*arguments, "--out", tmp_path / "module.csv").returncode == 0
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "command.csv"), pd.read_csv(tmp_path / "module.csv")
    )
    usage = subprocess.run([command, "predict", "--help"], capture_output=True, text=True)
    assert usage.stdout.startswith("usage: redoxscreen predict ")
    assert "\n  redoxscreen predict --model-dir results/final/IE --smiles big.smi" in usage.stdout
    assert run_cli("predict", "--help").stdout.startswith("usage: python -m redoxscreen predict")


def test_descriptor_models_predict_as_in_training(described_model_dir, tmp_path):
    """Library prediction computes descriptors itself and gives the held-out predictions that
    training made from the stored descriptors; worker processes change nothing."""
    ensemble = Ensemble.load(described_model_dir)
    assert ensemble.descriptors
    held = pd.read_parquet(described_model_dir / "fold0" / "predictions.parquet")
    smiles = labelled_molecules().set_index("id").loc[held["id"], "smiles"].tolist()
    members = ensemble.predict_members(
        sparse_fingerprints([Chem.MolFromSmiles(s) for s in smiles], SPEC),
        descriptors.describe_smiles(smiles).matrix,
    )
    np.testing.assert_allclose(members[0], held["y_pred"], rtol=1e-5, atol=1e-5)
    inputs = write_smiles(tmp_path / "in.smi", library(30))
    for processes in (1, 2):
        predict_smiles_file(inputs, {"logp": described_model_dir}, tmp_path / f"p{processes}",
                            chunk_size=8, progress=False, processes=processes)  # fmt: skip
    pd.testing.assert_frame_equal(read_parts(tmp_path / "p1"), read_parts(tmp_path / "p2"))
    in_memory = predict_smiles(library(30), ensemble)
    # float32 networks: chunks of 8 and one batch of 30 may round the last digit differently
    np.testing.assert_allclose(
        read_parts(tmp_path / "p1")["logp_pred"], in_memory["logp_pred"], rtol=1e-5, atol=1e-5
    )


def test_descriptors_are_standardized_on_the_fitted_molecules(described_model_dir):
    model, _, recipe = training.load_fitted(str(described_model_dir / "fold1"))
    normalization = model.layers[0]
    assert type(normalization).__name__ == "Normalization"
    mean = np.asarray(normalization.mean).ravel()
    n_fingerprint = SPEC.width
    assert recipe["training"]["descriptors"] is True
    assert np.all(mean[:n_fingerprint] == 0)  # fingerprint counts pass unchanged
    store = descriptors.read_store(str(described_model_dir.parents[2] / "described.npz"))
    trained_on = store.matrix[np.arange(len(store.ids)) % 2 == 0]  # fold 1 trains on fold 0
    np.testing.assert_allclose(mean[n_fingerprint:], trained_on.mean(axis=0), rtol=1e-4, atol=1e-4)


def test_descriptor_models_need_descriptor_rows(described_model_dir):
    ensemble = Ensemble.load(described_model_dir)
    fingerprints = sparse_fingerprints([Chem.MolFromSmiles("CCO")], SPEC)
    with pytest.raises(ValueError, match="trained with descriptors"):
        ensemble.predict_features(fingerprints)


def test_fold_models_with_and_without_descriptors_do_not_mix(model_dir, described_model_dir,
                                                              tmp_path):  # fmt: skip
    mixed = shutil.copytree(model_dir, tmp_path / "logp")
    shutil.rmtree(mixed / "fold1")
    shutil.copytree(described_model_dir / "fold1", mixed / "fold1")
    with pytest.raises(ValueError, match="fold 1: morgan_r1_n256_count \\+ descriptors"):
        Ensemble.load(mixed)


def test_a_job_without_its_descriptor_store_is_refused(tmp_path):
    job = training.FoldJob(
        molecules="m.parquet", features="f.npz", folds="k.parquet", target="logp",
        model_id=0, fold=0, hidden_layers=(8,), seed=1,
    )  # fmt: skip
    settings = dataclasses.replace(SETTINGS, descriptors=True)
    with pytest.raises(ValueError, match="training.descriptors is True, but the job has no"):
        training.train_fold(job, settings, str(tmp_path), 1)
