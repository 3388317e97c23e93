"""Rule evaluate_final: out-of-fold metrics, intervals (final.interval_level), parity plot, learning curves."""

from redoxscreen.final import evaluate_final
from redoxscreen.rulelog import rule_log

with rule_log(snakemake.log[0]):
    evaluate_final(
        record_path=snakemake.input.record,
        conversion=snakemake.params.conversion,
        references=snakemake.params.references,
        prediction_paths=snakemake.input.predictions,
        metric_paths=snakemake.input.metrics,
        history_paths=snakemake.input.histories,
        calibration_paths=snakemake.input.calibration,
        out=dict(snakemake.output.items()),
        level=snakemake.params.interval_level,
    )
