"""Rule summarize_run: a short Markdown summary of accuracy and candidate counts."""

from redoxscreen.rulelog import rule_log
from redoxscreen.summary import run_summary
from redoxscreen.tables import atomic_path

with rule_log(snakemake.log[0]):
    text = run_summary(
        dict(zip(snakemake.params.targets, snakemake.input.metrics, strict=True)),
        snakemake.input.counts[0] if snakemake.input.counts else None,
        dict(zip(snakemake.params.libraries, snakemake.input.library_counts, strict=True)),
    )
    with atomic_path(snakemake.output.summary) as temporary:
        temporary.write_text(text)
