rule predict_library:
    input:
        smiles=library_smiles,
        smiles_parts=lambda wildcards: parquet_parts_of(library_smiles(wildcards)),
        # the models' record, not metrics.json: evaluating again predicts nothing again
        records=expand("results/final/{target}/models.json", target=SCREEN_TARGETS),
        models=final_models(SCREEN_TARGETS),
        training_molecules=expand(
            "results/final/{target}/training_molecules.parquet", target=SCREEN_TARGETS
        ),
        code=package_files(
            "predict",
            "final_record",
            "similarity",
            "features",
            "descriptors",
            "graphs",
            "message_passing",
            "chemistry",
            "training",
            "folds",
            "gpu_slots",
            "screening",
            "potentials",
            "uncertainty",
            "metrics",
            "tables",
            "rulelog",
        ),
    output:
        parts=directory("results/predict/{library}"),
    log:
        "logs/predict_library/{library}.log",
    benchmark:
        "benchmarks/predict_library/{library}.tsv"
    # predict.chunk_size is read by the script from the config, not a param: it sets memory and
    # the parts' sizes, not a prediction, so changing it reruns nothing
    params:
        model_dirs={target: f"results/final/{target}" for target in SCREEN_TARGETS},
        columns=library_csv_columns,
        largest_fragment=config["predict"]["largest_fragment"],
        neutralize=config["predict"]["neutralize"],
        similarity=config["predict"]["similarity"],
    threads: config["predict"]["threads"]
    resources:
        mem_mb=4000,
        runtime=lambda wildcards, input, attempt: attempt
        * library_runtime_minutes(
            input.smiles,
            input.training_molecules if config["predict"]["similarity"] else [],
        ),
    conda:
        "../envs/redoxscreen.yaml"
    script:
        "../workflow_scripts/predict_library.py"
