rule screen_dataset:
    localrule: True  # seconds of work: on a cluster it runs here, not through the queue
    input:
        molecules="results/data/molecules.parquet",
        oof=expand("results/final/{target}/oof_predictions.parquet", target=SCREEN_TARGETS),
        metrics=expand("results/final/{target}/metrics.json", target=SCREEN_TARGETS),
        electrolytes=workflow_file(config["screening"]["electrolytes_table"]),
        code=package_files(
            "screen_stage", "screening", "screening_plots", "plots", "potentials", "tables", "rulelog"
        ),
    output:
        screened="results/screen/dataset/screened.parquet",
        candidates="results/screen/dataset/candidates.csv",
        counts=report(
            "results/screen/dataset/counts.tsv",
            caption="report/screen_counts.rst",
            category="Screening",
            subcategory="data set",
        ),
        figures=report(
            expand("results/screen/dataset/{figure}", figure=screening_figures()),
            caption="report/screen_figure.rst",
            category="Screening",
            subcategory="data set",
        ),
    log:
        "logs/screen_dataset/screen.log",
    params:
        screening=dataset_screening_settings(),
        targets=SCREEN_TARGETS,
        dataset_targets=DATASET["targets"],
        references=config["potentials"],
    conda:
        "../envs/redoxscreen.yaml"
    script:
        "../workflow_scripts/screen_dataset.py"


rule screen_library:
    input:
        parts="results/predict/{library}",
        metrics=expand("results/final/{target}/metrics.json", target=SCREEN_TARGETS),
        electrolytes=workflow_file(config["screening"]["electrolytes_table"]),
        code=package_files(
            "screen_stage", "screening", "screening_plots", "plots", "potentials", "tables", "rulelog"
        ),
    output:
        screened=directory("results/screen/libraries/{library}/screened"),
        candidates="results/screen/libraries/{library}/candidates.csv",
        counts=report(
            "results/screen/libraries/{library}/counts.tsv",
            caption="report/screen_counts.rst",
            category="Screening",
            subcategory="library {library}",
        ),
        rejected="results/screen/libraries/{library}/rejected.tsv",
        figures=report(
            expand("results/screen/libraries/{{library}}/{figure}", figure=screening_figures()),
            caption="report/screen_figure.rst",
            category="Screening",
            subcategory="library {library}",
        ),
        similarity=report(
            "results/screen/libraries/{library}/similarity.png",
            caption="report/library_similarity.rst",
            category="Screening",
            subcategory="library {library}",
        ),
    log:
        "logs/screen_library/{library}.log",
    params:
        screening=config["screening"],
        targets=SCREEN_TARGETS,
        dataset_targets=DATASET["targets"],
        references=config["potentials"],
    resources:
        mem_mb=4000,
    conda:
        "../envs/redoxscreen.yaml"
    script:
        "../workflow_scripts/screen_library.py"
