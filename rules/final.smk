rule train_final_fold:
    input:
        molecules="results/data/molecules.parquet",
        selected="results/grid/{target}/selected.yaml",
        features=final_features,
        descriptors=descriptor_store,
        folds="results/folds/{target}/final.parquet",
        code=package_files(
            "training",
            "model",
            "message_passing",
            "graphs",
            "features",
            "descriptors",
            "folds",
            "gpu_slots",
            "metrics",
            "tables",
            "rulelog",
        ),
    output:
        model="results/final/{target}/fold{fold}/model.keras",
        recipe="results/final/{target}/fold{fold}/recipe.json",
        metrics="results/final/{target}/fold{fold}/metrics.json",
        history="results/final/{target}/fold{fold}/history.parquet",
        predictions="results/final/{target}/fold{fold}/predictions.parquet",
        calibration="results/final/{target}/fold{fold}/calibration_predictions.parquet",
    log:
        "logs/train_final_fold/{target}/fold{fold}.log",
    benchmark:
        "benchmarks/train_final_fold/{target}/fold{fold}.tsv"
    params:
        training=final_training,
        seed=config["seed"],
    threads: config["final"]["resources"]["threads"]
    resources:
        gpu=config["final"]["resources"]["gpu"],
        mem_mb=per_attempt(config["final"]["resources"]["mem_mb"]),
        runtime=per_attempt(config["final"]["resources"]["runtime"]),
    conda:
        "../envs/redoxscreen.yaml"
    script:
        "../workflow_scripts/train_final_fold.py"


# What the models are, apart from their evaluation: library predictions read this record, not
# metrics.json, so that evaluating again (another interval level, other potentials) predicts
# no library again.
rule record_final_models:
    localrule: True  # seconds of work: on a cluster it runs here, not through the queue
    input:
        predictions=final_fold_files("predictions.parquet"),
        metrics=final_fold_files("metrics.json"),
        molecules="results/data/molecules.parquet",
        code=package_files("final_record", "similarity", "tables", "rulelog"),
    output:
        record="results/final/{target}/models.json",
        training_molecules="results/final/{target}/training_molecules.parquet",
    log:
        "logs/record_final_models/{target}.log",
    params:
        unit=target_unit,
        ingest=config["ingest"],
    conda:
        "../envs/redoxscreen.yaml"
    script:
        "../workflow_scripts/record_final_models.py"


rule evaluate_final:
    localrule: True  # seconds of work: on a cluster it runs here, not through the queue
    input:
        record="results/final/{target}/models.json",
        predictions=final_fold_files("predictions.parquet"),
        metrics=final_fold_files("metrics.json"),
        histories=final_fold_files("history.parquet"),
        calibration=final_fold_files("calibration_predictions.parquet"),
        code=package_files(
            "final",
            "final_record",
            "uncertainty",
            "folds",
            "metrics",
            "plots",
            "potentials",
            "screening",
            "similarity",
            "tables",
            "rulelog",
        ),
    output:
        predictions="results/final/{target}/oof_predictions.parquet",
        metrics="results/final/{target}/metrics.json",
        parity=report(
            "results/final/{target}/parity.png",
            caption="report/parity.rst",
            category="Final models",
            labels={"target": "{target}", "figure": "parity"},
        ),
        learning_curves=report(
            "results/final/{target}/learning_curves.png",
            caption="report/learning_curves.rst",
            category="Final models",
            labels={"target": "{target}", "figure": "learning curves"},
        ),
    log:
        "logs/evaluate_final/{target}.log",
    params:
        conversion=target_conversion,
        references=config["potentials"],
        interval_level=config["final"]["interval_level"],
    conda:
        "../envs/redoxscreen.yaml"
    script:
        "../workflow_scripts/evaluate_final.py"
