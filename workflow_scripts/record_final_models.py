"""Rule record_final_models: what the final models are (models.json) and the molecules they trained on."""

from redoxscreen.final_record import record_final_models
from redoxscreen.rulelog import rule_log

with rule_log(snakemake.log[0]):
    record_final_models(
        target=snakemake.wildcards.target,
        unit=snakemake.params.unit,
        prediction_paths=snakemake.input.predictions,
        metric_paths=snakemake.input.metrics,
        molecules_path=snakemake.input.molecules,
        ingest=snakemake.params.ingest,
        out=dict(snakemake.output.items()),
    )
