rule screen_dataset:
    input:
        molecules="results/data/molecules.parquet",
        oof=expand("results/final/{target}/oof_predictions.parquet", target=SCREEN_TARGETS),
        metrics=expand("results/final/{target}/metrics.json", target=SCREEN_TARGETS),
        electrolytes=workflow_file(config["screening"]["electrolytes_table"]),
        code=package_files(
            "screen_stage", "screening", "screening_plots", "potentials", "tables", "rulelog"
        ),
    output:
        candidates="results/screen/dataset/candidates.parquet",
        candidates_csv="results/screen/dataset/candidates.csv",
        counts=report(
            "results/screen/dataset/counts.tsv",
            caption="report/screen_counts.rst",
            category="Screening",
        ),
        figures=report(
            expand("results/screen/dataset/{figure}", figure=screening_figures()),
            caption="report/screen_figure.rst",
            category="Screening",
        ),
    log:
        "logs/screen_dataset/screen.log",
    params:
        screening=config["screening"],
        targets=SCREEN_TARGETS,
        dataset_targets=DATASET["targets"],
        references=config["potentials"],
    conda:
        "../envs/redoxscreen.yaml"
    script:
        "../workflow_scripts/screen_dataset.py"
