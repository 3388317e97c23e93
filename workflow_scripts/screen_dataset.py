"""Rule screen_dataset: the data set's molecules screened with their out-of-fold predictions."""

import pandas as pd

from redoxscreen.potentials import check_plausible_labels
from redoxscreen.rulelog import rule_log
from redoxscreen.screen_stage import ScreeningPlan, out_of_fold_predictions, run_screening

with rule_log(snakemake.log[0]):
    settings = snakemake.params.screening
    # ingestion checked the labels with the config of its run; these settings may be newer
    check_plausible_labels(
        pd.read_parquet(snakemake.input.molecules, columns=list(snakemake.params.targets)),
        settings,
        snakemake.params.dataset_targets,
        snakemake.params.references,
    )
    predictions = out_of_fold_predictions(
        molecules_path=snakemake.input.molecules,
        oof_paths=dict(zip(snakemake.params.targets, snakemake.input.oof, strict=True)),
        metric_paths=dict(zip(snakemake.params.targets, snakemake.input.metrics, strict=True)),
        interval=settings["interval"],
    )
    plan = ScreeningPlan.from_config(
        settings,
        targets=snakemake.params.dataset_targets,
        references=snakemake.params.references,
        electrolytes_path=snakemake.input.electrolytes,
    )
    run_screening(
        predictions, plan, out=dict(snakemake.output.items()), figure_paths=snakemake.output.figures
    )
