"""config/presets/study2020.yaml: the thesis's recipe, and that it runs end to end on the demo data."""

import json

import pandas as pd
import pytest
import yaml

from redoxscreen.training import TrainingSettings

from workflow_runner import REPO, run_snakemake, write_config

MAIN = REPO / "config" / "config.yaml"
STUDY = REPO / "config" / "presets" / "study2020.yaml"
# an epoch cap, one grid row and 2 final folds (test_study_preset_states_the_thesis_recipe checks
# that the preset itself says 8): its run takes half the time
TINY = {"training": {"max_epochs": 3}, "grid": {"models": [24]}, "final": {"k": 2}}


def test_study_preset_states_the_thesis_recipe():
    preset = yaml.safe_load(STUDY.read_text())
    settings = TrainingSettings.from_config(preset["training"])
    assert (settings.fingerprint, settings.l2, settings.dropout) == ("bit", 0.003, 0.1)
    assert (settings.learning_rate, settings.batch_size, settings.max_epochs) == (
        0.003,
        30000,
        5000,
    )
    assert (settings.label_scaling, settings.lr_schedule, settings.decay_start_epoch) == (
        "minmax", "exponential_decay", 500,
    )  # fmt: skip
    assert settings.patience == 0 and settings.validation_fraction == 0  # no early stopping
    assert settings.descriptors is False  # the fingerprint is the only input
    assert (preset["grid"]["k"], preset["final"]["k"]) == (2, 8)
    assert preset["final"]["calibration_fraction"] == 0
    assert preset["final"]["interval_level"] == 0.95  # the thesis's 95 % margin
    assert preset["screening"]["interval"] == "gaussian"  # the thesis's 1.96 sigma


@pytest.fixture(scope="module")
def study_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("study2020")
    write_config(workdir, TINY)  # layered last: main config, the preset, the epoch cap
    run_snakemake(workdir, "--configfile", str(MAIN), str(STUDY), str(workdir / "config.yaml"))
    return workdir


def test_study_preset_runs_end_to_end_on_the_demo_data(study_run):
    assert "## Candidates" in (study_run / "results/summary.md").read_text()
    molecules = pd.read_parquet(study_run / "results/data/molecules.parquet")
    assert len(molecules) == 1685  # the bundled demo set
    for target in ("IE", "EA"):
        metrics = json.loads((study_run / f"results/final/{target}/metrics.json").read_text())
        assert metrics["folds"] == TINY["final"]["k"]
        assert metrics["interval"]["ensemble"] is None  # no calibration set, as in the thesis
        assert metrics["out_of_fold"]["n"] == molecules[target].notna().sum()
        recipe = json.loads((study_run / f"results/final/{target}/fold0/recipe.json").read_text())
        assert recipe["fingerprint"]["kind"] == "bit"
        assert (recipe["scaler"]["kind"], recipe["training"]["l2"]) == ("minmax", 0.003)
        table = pd.read_csv(study_run / f"results/grid/{target}/mae_table.tsv", sep="\t")
        assert (table["folds"] == 2).all()


def test_study_preset_screens_with_the_gaussian_interval(study_run):
    candidates = pd.read_parquet(study_run / "results/screen/dataset/screened.parquet")
    metrics = json.loads((study_run / "results/final/EA/metrics.json").read_text())
    gaussian = metrics["interval"]["gaussian"]["half_width"]
    reduction = candidates[candidates["potential"] == "reduction"]
    assert reduction["half_width_v"].to_numpy() == pytest.approx(gaussian)  # EA in eV: 1 eV = 1 V
