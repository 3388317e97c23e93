rule train_grid_fold:
    input:
        molecules="results/data/molecules.parquet",
        features=grid_features,
        descriptors=descriptor_store,
        folds="results/folds/{target}/grid.parquet",
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
        metrics="results/grid/{target}/m{model}/fold{fold}/metrics.json",
        history="results/grid/{target}/m{model}/fold{fold}/history.parquet",
        predictions="results/grid/{target}/m{model}/fold{fold}/predictions.parquet",
    log:
        "logs/train_grid_fold/{target}/m{model}/fold{fold}.log",
    benchmark:
        "benchmarks/train_grid_fold/{target}/m{model}/fold{fold}.tsv"
    params:
        architecture=grid_architecture,
        training=grid_training,
        seed=config["seed"],
    threads: config["grid"]["resources"]["threads"]
    resources:
        gpu=config["grid"]["resources"]["gpu"],
        mem_mb=per_attempt(config["grid"]["resources"]["mem_mb"]),
        runtime=per_attempt(config["grid"]["resources"]["runtime"]),
        # one at a time per SLURM job where profiles/slurm bundles grid jobs (unlimited else)
        bundle_slot=1,
    conda:
        "../envs/redoxscreen.yaml"
    script:
        "../workflow_scripts/train_grid_fold.py"


checkpoint gather_grid:
    localrule: True  # seconds of work: on a cluster it runs here, not through the queue
    input:
        metrics=grid_fold_metrics,
        code=package_files(
            "grid", "features", "descriptors", "graphs", "plots", "tables", "rulelog"
        ),
    output:
        table=report(
            "results/grid/{target}/mae_table.tsv",
            caption="report/mae_table.rst",
            category="Model search",
            labels={"target": "{target}", "figure": "MAE table"},
        ),
        heatmap=report(
            "results/grid/{target}/mae_heatmap.png",
            caption="report/mae_heatmap.rst",
            category="Model search",
            labels={"target": "{target}", "figure": "heatmap"},
        ),
        selected="results/grid/{target}/selected.yaml",
    log:
        "logs/gather_grid/{target}.log",
    params:
        unit=target_unit,
    conda:
        "../envs/redoxscreen.yaml"
    script:
        "../workflow_scripts/gather_grid.py"
