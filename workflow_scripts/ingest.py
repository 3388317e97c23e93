"""Rule ingest: the raw data set table -> molecules.parquet, rejected.tsv and summary.json."""

from pathlib import Path

from redoxscreen.ingest import run_ingestion
from redoxscreen.potentials import check_plausible_labels
from redoxscreen.rulelog import kept_on_failure, rule_log

# a refusal after the reports are written (a target without labels, implausible labels)
# keeps rejected.tsv and summary.json beside the log, which Snakemake does not delete
reports = [snakemake.output.rejected, snakemake.output.summary]
with rule_log(snakemake.log[0]), kept_on_failure(reports, Path(snakemake.log[0]).parent):
    result = run_ingestion(
        table_path=snakemake.input.table,
        dataset=snakemake.params.dataset,
        ingest_options=snakemake.params.ingest,
        molecules_path=snakemake.output.molecules,
        rejected_path=snakemake.output.rejected,
        summary_path=snakemake.output.summary,
    )
    # a check, not a param: changing screening or potentials settings reruns no ingestion
    # (rule screen_dataset, which they rerun, checks again)
    check_plausible_labels(
        result.molecules,
        snakemake.config["screening"],
        snakemake.params.dataset["targets"],
        snakemake.config["potentials"],
    )
