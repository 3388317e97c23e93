"""Rule gather_grid: the MAE table, its heatmap and the selected model of one target."""

from redoxscreen.grid import select_and_report
from redoxscreen.rulelog import rule_log

with rule_log(snakemake.log[0]):
    select_and_report(
        metric_paths=snakemake.input.metrics,
        target=snakemake.wildcards.target,
        unit=snakemake.params.unit,
        table_path=snakemake.output.table,
        heatmap_path=snakemake.output.heatmap,
        selected_path=snakemake.output.selected,
    )
