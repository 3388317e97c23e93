# redoxscreen: learn ionization energy and electron affinity from structure and screen
# candidate electrode and redox-flow-battery materials. See README.md.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "rules/report/workflow.rst"


wildcard_constraints:
    library=r"[A-Za-z0-9_.-]+",
    target=r"[A-Za-z][A-Za-z0-9_]*",
    model=r"\d+",
    fold=r"\d+",
    stage=r"grid|final",
    radius=r"\d+",
    n_bits=r"\d+",
    kind=r"count_ap|count|bit",


include: "rules/common.smk"  # config validation, input functions, wildcard constraints
include: "rules/data.smk"  # download_materials_project, label_xtb, ingest
include: "rules/features.smk"  # featurize, featurize_graphs, describe, make_folds
include: "rules/grid.smk"  # train_grid_fold, gather_grid (a checkpoint)
include: "rules/final.smk"  # train_final_fold, evaluate_final
include: "rules/predict.smk"  # predict_library (one per library under screen:)
include: "rules/screen.smk"  # screen_dataset, screen_library
include: "rules/report.smk"  # summarize_run


rule all:
    input:
        final_outputs(),
    default_target: True
