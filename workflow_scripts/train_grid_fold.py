"""Rule train_grid_fold: one (target, model, fold) job of the model search."""

from pathlib import Path

from redoxscreen.rulelog import rule_log
from redoxscreen.training import FoldJob, TrainingSettings, train_fold

with rule_log(snakemake.log[0]):
    job = FoldJob(
        molecules=snakemake.input.molecules,
        features=snakemake.input.features,
        folds=snakemake.input.folds,
        target=snakemake.wildcards.target,
        model_id=int(snakemake.wildcards.model),
        fold=int(snakemake.wildcards.fold),
        hidden_layers=tuple(snakemake.params.hidden_layers),
        seed=snakemake.params.seed,
    )
    train_fold(
        job,
        TrainingSettings.from_config(snakemake.params.training),
        out_dir=str(Path(snakemake.output.metrics).parent),
        threads=snakemake.threads,
    )
