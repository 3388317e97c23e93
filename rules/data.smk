rule download_materials_project:
    localrule: True  # compute nodes often cannot reach the internet; the login node can
    input:
        code=package_files("materials_project", "tables", "rulelog"),
    output:
        json=config["materials_project"]["download_path"],
    log:
        "logs/download_materials_project/download.log",
    # materials_project.chunk_size (molecules per request) is read by the script from the
    # config, not a param: it changes no molecule, so changing it downloads nothing again
    params:
        api_key_env=config["materials_project"]["api_key_env"],
    resources:
        runtime=60,
    conda:
        "../envs/redoxscreen.yaml"
    script:
        "../workflow_scripts/download_materials_project.py"


rule label_xtb:
    input:
        smiles=xtb_library,
        smiles_parts=lambda wildcards: parquet_parts_of(xtb_library(wildcards)),
        code=package_files("xtb", "tables", "rulelog"),
    output:
        labels="results/label/{library}.csv",
        failures="results/label/{library}_failures.tsv",
    log:
        "logs/label_xtb/{library}.log",
    benchmark:
        "benchmarks/label_xtb/{library}.tsv"
    params:
        xtb={key: value for key, value in config["xtb"].items() if key != "threads"},
        columns=library_columns(DATASET["source"]),
    threads: config["xtb"]["threads"]
    resources:
        mem_mb=4000,
        runtime=240,
    conda:
        "../envs/redoxscreen.yaml"
    script:
        "../workflow_scripts/label_xtb.py"


rule ingest:
    input:
        table=dataset_table(),
        table_parts=parquet_parts_of(dataset_table()),
        code=package_files("ingest", "chemistry", "potentials", "tables", "rulelog"),
    output:
        molecules="results/data/molecules.parquet",
        rejected="results/data/rejected.tsv",
        summary="results/data/summary.json",
    log:
        "logs/ingest/ingest.log",
    benchmark:
        "benchmarks/ingest/ingest.tsv"
    params:
        dataset=INGESTED_DATASET,
        ingest=config["ingest"],
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        "../envs/redoxscreen.yaml"
    script:
        "../workflow_scripts/ingest.py"
