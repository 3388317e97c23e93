rule featurize:
    input:
        molecules="results/data/molecules.parquet",
        code=package_files("features", "tables", "rulelog"),
    output:
        store="results/features/morgan_r{radius}_n{n_bits}_{kind}.npz",
    log:
        "logs/featurize/morgan_r{radius}_n{n_bits}_{kind}.log",
    benchmark:
        "benchmarks/featurize/morgan_r{radius}_n{n_bits}_{kind}.tsv"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        "../envs/redoxscreen.yaml"
    script:
        "../workflow_scripts/featurize.py"


rule featurize_graphs:
    input:
        molecules="results/data/molecules.parquet",
        code=package_files("graphs", "features", "tables", "rulelog"),
    output:
        store="results/features/molecule_graphs.npz",
    log:
        "logs/featurize_graphs/molecule_graphs.log",
    benchmark:
        "benchmarks/featurize_graphs/molecule_graphs.tsv"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        "../envs/redoxscreen.yaml"
    script:
        "../workflow_scripts/featurize_graphs.py"


rule describe:
    input:
        molecules="results/data/molecules.parquet",
        code=package_files("descriptors", "features", "tables", "rulelog"),
    output:
        store="results/features/rdkit_descriptors.npz",
    log:
        "logs/describe/rdkit_descriptors.log",
    benchmark:
        "benchmarks/describe/rdkit_descriptors.tsv"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=60,
    conda:
        "../envs/redoxscreen.yaml"
    script:
        "../workflow_scripts/describe.py"


rule make_folds:
    localrule: True  # seconds of work: on a cluster it runs here, not through the queue
    input:
        molecules="results/data/molecules.parquet",
        code=package_files("folds", "tables", "rulelog"),
    output:
        folds="results/folds/{target}/{stage}.parquet",
    log:
        "logs/make_folds/{target}_{stage}.log",
    params:
        seed=config["seed"],
        split=config["grid"]["split"],
        k=lambda wildcards: config[wildcards.stage]["k"],
        calibration_fraction=config["final"]["calibration_fraction"],  # held out of both stages
    conda:
        "../envs/redoxscreen.yaml"
    script:
        "../workflow_scripts/make_folds.py"
