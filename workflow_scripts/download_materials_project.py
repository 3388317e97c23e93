"""Rule download_materials_project: the Materials Project molecules set as JSON records."""

from redoxscreen.materials_project import download_molecules
from redoxscreen.rulelog import rule_log

with rule_log(snakemake.log[0]):
    download_molecules(
        out_path=snakemake.output.json,
        key_variable=snakemake.params.api_key_env,
        chunk_size=snakemake.config["materials_project"]["chunk_size"],
    )
