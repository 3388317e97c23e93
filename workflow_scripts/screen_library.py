"""Rule screen_library: a predicted library screened against the electrolyte windows."""

import json
from pathlib import Path

from redoxscreen.predict import part_paths
from redoxscreen.rulelog import rule_log
from redoxscreen.screen_stage import ScreeningPlan, screen_library

with rule_log(snakemake.log[0]):
    plan = ScreeningPlan.from_config(
        snakemake.params.screening,
        targets=snakemake.params.dataset_targets,
        references=snakemake.params.references,
        electrolytes_path=snakemake.input.electrolytes,
    )
    interval = snakemake.params.screening["interval"]
    half_widths = {
        target: json.loads(Path(path).read_text())["interval_95"][interval]["half_width"]
        for target, path in zip(snakemake.params.targets, snakemake.input.metrics, strict=True)
    }
    screen_library(
        [str(path) for path in part_paths(snakemake.input.parts)],
        plan,
        half_widths,
        out_dir=snakemake.output.candidates,
        counts_path=snakemake.output.counts,
        rejected_path=snakemake.output.rejected,
        figure_paths=snakemake.output.figures,
    )
