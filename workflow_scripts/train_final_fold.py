"""Rule train_final_fold: one fold of the final cross-validation, saved as a .keras model."""

from pathlib import Path

import yaml

from redoxscreen.grid import parse_layers
from redoxscreen.rulelog import rule_log
from redoxscreen.training import FoldJob, TrainingSettings, train_fold

with rule_log(snakemake.log[0]):
    selected = yaml.safe_load(Path(snakemake.input.selected).read_text())
    job = FoldJob(
        molecules=snakemake.input.molecules,
        features=snakemake.input.features,
        folds=snakemake.input.folds,
        target=snakemake.wildcards.target,
        model_id=selected["model"],
        fold=int(snakemake.wildcards.fold),
        hidden_layers=parse_layers(selected["hidden_layers"]),
        seed=snakemake.params.seed,
    )
    train_fold(
        job,
        TrainingSettings.from_config(snakemake.params.training),
        out_dir=str(Path(snakemake.output.metrics).parent),
        threads=snakemake.threads,
        save_model=True,
    )
