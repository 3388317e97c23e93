"""Rule summarize_run: a short Markdown summary of accuracy and candidate counts."""

from redoxscreen.rulelog import rule_log
from redoxscreen.summary import run_summary
from redoxscreen.tables import atomic_path

with rule_log(snakemake.log[0]):
    text = run_summary(
        dict(zip(snakemake.params.targets, snakemake.input.metrics, strict=True)),
        snakemake.input.counts[0] if snakemake.input.counts else None,
        dict(zip(snakemake.params.libraries, snakemake.input.library_counts, strict=True)),
        selections={
            target: (selected, table)
            for target, selected, table in zip(
                snakemake.params.targets,
                snakemake.input.selected,
                snakemake.input.mae_tables,
                strict=True,
            )
        },
        collector_max_v=snakemake.params.collector_max_v,
    )
    with atomic_path(snakemake.output.summary) as temporary:
        temporary.write_text(text)
