"""End to end: the data stage of the real Snakefile on tiny inputs in a temporary folder."""

import json

import pandas as pd
import pytest

from molecule_fixtures import labelled_sd_file
from workflow_runner import planned_jobs, run_snakemake, with_override, write_config

TARGETS = {
    "IE": {"column": "ie_ev", "unit": "eV", "conversion": "eV_absolute", "valid_range": [3, 15]},
    "EA": {"column": "ea_ev", "unit": "eV", "conversion": "eV_absolute", "valid_range": [-3, 8]},
}
DATA_OUTPUTS = (
    "results/data/molecules.parquet",
    "results/data/rejected.tsv",
    "results/data/summary.json",
)
TABLE = """id,smiles,ie_ev,ea_ev
benzene,c1ccccc1,9.2,0.5
bq,O=C1C=CC(=O)C=C1,7.6,4.1
broken,C1CC,8,1
naphthalene,c1ccc2ccccc2c1,8.1,1.3
"""


@pytest.fixture
def table_workdir(tmp_path):
    (tmp_path / "molecules.csv").write_text(TABLE)
    write_config(
        tmp_path,
        {
            "dataset": "tiny",
            "datasets": {
                "tiny": {
                    "source": "molecules.csv",
                    "smiles_column": "smiles",
                    "id_column": "id",
                    "targets": TARGETS,
                }
            },
        },
    )
    return tmp_path


def test_dry_run_prints_the_plan(table_workdir):
    plan = run_snakemake(table_workdir, "-n", *DATA_OUTPUTS).stdout
    assert "ingest" in plan
    assert not (table_workdir / "results").exists()


def test_data_stage_runs_and_explains_every_row(table_workdir):
    run_snakemake(table_workdir, *DATA_OUTPUTS)
    molecules = pd.read_parquet(table_workdir / "results/data/molecules.parquet")
    rejected = pd.read_csv(table_workdir / "results/data/rejected.tsv", sep="\t")
    summary = json.loads((table_workdir / "results/data/summary.json").read_text())
    assert molecules["id"].tolist() == ["benzene", "bq", "naphthalene"]
    assert rejected["input_id"].tolist() == ["broken"]
    assert summary["rows"] == {"kept": 3, "invalid_smiles": 1}
    assert (table_workdir / "logs/ingest/ingest.log").read_text().count("row fates") == 1
    assert (table_workdir / "benchmarks/ingest/ingest.tsv").exists()

    second = run_snakemake(table_workdir, *DATA_OUTPUTS)
    assert "Nothing to be done" in second.stdout + second.stderr


def test_labels_in_hartree_declared_as_ev_stop_ingestion(table_workdir):
    """The same table with IE in Hartree: nothing downstream trains on it."""
    hartree = TABLE.replace(",9.2,", ",0.338,").replace(",7.6,", ",0.279,")
    (table_workdir / "molecules.csv").write_text(hartree.replace(",8.1,", ",0.298,"))
    override = {"datasets": {"tiny": {"targets": {"IE": {"valid_range": [0, 15]}}}}}
    configs = with_override(table_workdir, table_workdir / "hartree.yaml", override)
    result = run_snakemake(table_workdir, *configs, "--", *DATA_OUTPUTS, check=False)
    assert result.returncode != 0
    assert ("screening.oxidation_target IE: its median label 0.298 eV (eV_absolute) is an "
            "ionization energy of 0.298 eV") in result.stderr  # fmt: skip
    assert not (table_workdir / "results/data/molecules.parquet").exists()
    kept = table_workdir / "logs/ingest"  # the reports of a refused ingestion, for reading
    assert pd.read_csv(kept / "rejected.tsv", sep="\t")["input_id"].tolist() == ["broken"]
    assert json.loads((kept / "summary.json").read_text())["rows"]["kept"] == 3
    assert "kept for reading" in (kept / "ingest.log").read_text()
    override["screening"] = {"plausible_median_ev": {"oxidation": None}}
    configs = with_override(table_workdir, table_workdir / "hartree.yaml", override)
    result = run_snakemake(table_workdir, *configs, "--", *DATA_OUTPUTS, check=False)
    assert result.returncode != 0  # their spread, 0.0295 eV, is none of ionization energies
    assert ("screening.oxidation_target IE: the interquartile range of its 3 labels, 0.0295 eV "
            "(eV_absolute), lies outside the 0.1 to 5 eV") in result.stderr  # fmt: skip
    override["screening"]["plausible_spread_ev"] = {"oxidation": None}
    configs = with_override(table_workdir, table_workdir / "hartree.yaml", override)
    run_snakemake(table_workdir, *configs, "--", *DATA_OUTPUTS)  # the user's choice
    assert sorted(path.name for path in kept.iterdir()) == ["ingest.log"]  # no stale copies


def test_an_sd_data_set_runs_through_ingest(tmp_path):
    records = [
        ("c1ccccc1", "benzene", {"ie_ev": "9.2", "ea_ev": "0.5"}),
        ("Xx", "broken", {"ie_ev": "8", "ea_ev": "1"}),
        ("O=C1C=CC(=O)C=C1", "bq", {"ea_ev": "4.1", "ie_ev": "7.6"}),
    ]
    starts = labelled_sd_file(tmp_path / "molecules.sdf", records)
    dataset = {"source": "molecules.sdf", "targets": TARGETS}
    write_config(tmp_path, {"dataset": "sd", "datasets": {"sd": dataset}})
    run_snakemake(tmp_path, *DATA_OUTPUTS)
    molecules = pd.read_parquet(tmp_path / "results/data/molecules.parquet")
    rejected = pd.read_csv(tmp_path / "results/data/rejected.tsv", sep="\t")
    assert molecules["id"].tolist() == ["benzene", "bq"]
    assert molecules["EA"].tolist() == [0.5, 4.1]
    assert rejected[["input_id", "input_line", "reason"]].values.tolist() == [
        ["broken", starts[1], "invalid_record"]
    ]


def test_xtb_labelled_dataset_runs_through_label_xtb(tmp_path):
    (tmp_path / "library.csv").write_text(  # a PubChem-style table, its columns named
        "CID,IsomericSMILES\nbenzene,c1ccccc1\nbq,O=C1C=CC(=O)C=C1\nbroken,C1CC\nshifted,C,9\n"
    )
    source = {"path": "library.csv", "smiles_column": "IsomericSMILES", "id_column": "CID"}
    write_config(
        tmp_path,
        {
            "dataset": "mine",
            "datasets": {
                "mine": {
                    "source": source,
                    "label_with_xtb": True,
                    "smiles_column": "smiles",
                    "id_column": "id",
                    "targets": TARGETS,
                }
            },
        },
    )
    run_snakemake(tmp_path, *DATA_OUTPUTS)
    labels = pd.read_csv(tmp_path / "results/label/library.csv")
    failures = pd.read_csv(tmp_path / "results/label/library_failures.tsv", sep="\t")
    molecules = pd.read_parquet(tmp_path / "results/data/molecules.parquet").set_index("id")
    assert labels["id"].tolist() == ["benzene", "bq"]
    assert failures["id"].tolist() == ["shifted", "broken"]  # extra_cells, then xTB's failure
    # benzoquinone is far easier to reduce than benzene (EA difference > 2 eV)
    assert molecules.loc["bq", "EA"] - molecules.loc["benzene", "EA"] > 2.0
    assert "IPEA1-xTB" in (tmp_path / "logs/label_xtb/library.log").read_text()


def test_a_mistyped_key_stops_snakemake_with_a_short_message(table_workdir):
    override = {"screning": {"interval": "conformal"}}
    configs = with_override(table_workdir, table_workdir / "mistyped.yaml", override)
    result = run_snakemake(table_workdir, "-n", *configs, check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "screning: unknown key; did you mean 'screening'?" in output
    assert len(output.splitlines()) < 20  # not Snakemake's dump of the whole schema
    repeated = table_workdir / "repeated.yaml"  # YAML would keep the last training: alone
    repeated.write_text("training:\n  dropout: 0.2\nseed: 3\ntraining:\n  l2: 0.1\n")
    result = run_snakemake(table_workdir, "-n", "--configfile", "config.yaml", repeated.name,
                           check=False)  # fmt: skip
    assert result.returncode != 0
    assert ("repeated.yaml: training is set twice (lines 1 and 4), and only the last would "
            "count: set it once") in result.stdout + result.stderr  # fmt: skip


def test_a_library_without_its_column_stops_snakemake_without_a_traceback(table_workdir):
    (table_workdir / "chembl.tsv").write_text("ChEMBL ID\tSmiles\nCHEMBL545\tCCO\n")
    override = {"screen": {"chembl": {"path": "chembl.tsv", "id_column": "CID"}}}
    configs = with_override(table_workdir, table_workdir / "library.yaml", override)
    result = run_snakemake(table_workdir, "-n", *configs, check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "screen.chembl: chembl.tsv: no 'CID' column in the header" in output
    assert "settings.py" not in output  # the key and the file say it all


def test_a_layered_file_removes_a_role_with_null(table_workdir):
    shuttle = {"potential": "oxidation", "band_min_v": 4.0}
    override = {
        "screening": {
            "reduction_target": None,
            "roles": {"cathode": None, "anode": None, "shuttle": shuttle},
        }
    }
    configs = with_override(table_workdir, table_workdir / "oxidation_only.yaml", override)
    # with config.yaml's cathode and anode kept, their reduction potential (target null now)
    # would stop Snakemake before planning
    assert "screen_dataset" in run_snakemake(table_workdir, "-n", *configs).stdout


def test_a_dry_run_plans_a_library_before_any_model_is_trained(table_workdir):
    """Its prediction job's cluster runtime counts training molecules that do not exist yet."""
    (table_workdir / "mine.smi").write_text("CCO\n")
    override = {"screen": {"mine": "mine.smi"}}
    configs = with_override(table_workdir, table_workdir / "libraries.yaml", override)
    plan = run_snakemake(table_workdir, "-n", *configs).stdout
    assert planned_jobs(plan)["predict_library"] == 1
    assert planned_jobs(plan)["screen_library"] == 1


def test_both_screening_targets_null_plans_no_screening(table_workdir):
    override = {"screening": {"oxidation_target": None, "reduction_target": None}}
    configs = with_override(table_workdir, table_workdir / "no_screening.yaml", override)
    plan = run_snakemake(table_workdir, "-n", *configs).stdout
    assert "summarize_run" in plan and "evaluate_final" in plan
    assert "screen_dataset" not in plan  # config.yaml's roles are not needed then
    (table_workdir / "libraries.yaml").write_text("screen: {mine: mine.smi}\n")
    (table_workdir / "mine.smi").write_text("CCO\n")
    configs = [*configs, str(table_workdir / "libraries.yaml")]
    result = run_snakemake(table_workdir, "-n", *configs, check=False)
    assert result.returncode != 0
    assert "screen: mine would not be screened: screening.oxidation_target and" in result.stdout
