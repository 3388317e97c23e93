"""Rule screen_library: a predicted library screened against the electrolyte windows."""

from redoxscreen.rulelog import rule_log
from redoxscreen.screen_stage import (
    ScreeningPlan,
    library_half_widths,
    library_parts,
    screen_library,
)

with rule_log(snakemake.log[0]):
    plan = ScreeningPlan.from_config(
        snakemake.params.screening,
        targets=snakemake.params.dataset_targets,
        references=snakemake.params.references,
        electrolytes_path=snakemake.input.electrolytes,
    )
    half_widths = library_half_widths(
        dict(zip(snakemake.params.targets, snakemake.input.metrics, strict=True)),
        snakemake.params.screening["interval"],
    )
    screen_library(
        library_parts(snakemake.input.parts),
        plan,
        half_widths,
        out_dir=snakemake.output.screened,
        candidates_path=snakemake.output.candidates,
        counts_path=snakemake.output.counts,
        rejected_path=snakemake.output.rejected,
        figure_paths=snakemake.output.figures,
        similarity_figure=snakemake.output.similarity,
    )
