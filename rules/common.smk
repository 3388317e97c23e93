import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

sys.path.insert(0, f"{workflow.basedir}/workflow_scripts")
from redoxscreen.features import GRAPH  # noqa: E402
from redoxscreen.grid import read_grid  # noqa: E402
from redoxscreen.screen_stage import screened_kinds  # noqa: E402
from redoxscreen.tables import parquet_parts  # noqa: E402
from redoxscreen.training import training_read_by  # noqa: E402
from redoxscreen.settings import (  # noqa: E402
    MATERIALS_PROJECT,
    ConfigError,
    check_config,
    check_repeated_keys,
    configured_file,
    library_columns,
    library_path,
    library_runtime_minutes,
    schema_report,
    selected_dataset,
)

SCHEMA = f"{workflow.basedir}/config/schema.yaml"
check_repeated_keys(workflow.configfiles)  # which Snakemake merged, keeping a key's last value
try:
    validate(config, schema=SCHEMA)
except WorkflowError as refusal:  # its message prints the whole schema: name the keys instead
    raise ConfigError(schema_report(config, SCHEMA, refusal)) from None
try:
    check_config(config, workflow_dir=workflow.basedir)
except ConfigError as refusal:  # the message names the key: no traceback through the package
    raise ConfigError(str(refusal)) from None
DATASET = selected_dataset(config)
TARGETS = list(DATASET["targets"])
# what ingestion reads of the data set: its description, for people, reruns nothing
INGESTED_DATASET = {key: value for key, value in DATASET.items() if key != "description"}


def workflow_file(path):
    """A configured file: in the working directory if there, else the workflow's own copy."""
    return str(configured_file(path, ".", workflow.basedir) or Path(workflow.basedir) / path)


try:
    GRID_ALL = read_grid(workflow_file(config["grid"]["architectures"]))
except ValueError as refusal:  # the message names the file and line: no traceback
    raise ConfigError(f"grid.architectures: {refusal}") from None
GRID_MODELS = (
    sorted(GRID_ALL) if config["grid"]["models"] == "all" else list(config["grid"]["models"])
)
_unknown_models = sorted(set(GRID_MODELS) - set(GRID_ALL))
if _unknown_models:
    raise ConfigError(f"grid.models: ids {_unknown_models} are not in {config['grid']['architectures']}")
GRID = {model: GRID_ALL[model] for model in GRID_MODELS}
FINGERPRINT = config["training"]["fingerprint"]
_message_passing_models = [model for model, row in GRID.items() if row.fingerprint == GRAPH]
if config["training"]["descriptors"] and _message_passing_models:
    raise ConfigError(
        f"grid models {_message_passing_models} are message-passing networks (fingerprint graph), "
        "which take no descriptors: with training.descriptors: true, search fingerprint networks "
        "only (grid.architectures: config/grid.tsv, or grid.models without those ids)"
    )


def per_attempt(limit):
    """A job's time or memory limit, times its attempt: a job resubmitted after it hit the
    limit (SLURM's TIMEOUT or OUT_OF_MEMORY; profiles/slurm retries twice) gets more."""
    return lambda wildcards, attempt: limit * attempt


def package_files(*modules):
    """The package modules that a job runs, as inputs, so that editing one reruns its jobs."""
    package = Path(workflow.basedir) / "workflow_scripts" / "redoxscreen"
    return [str(package / f"{module}.py") for module in ("__init__", *modules)]


def dataset_table(wildcards=None):
    """The raw table ingestion reads: a local file, the MP download, or xTB labels."""
    source = DATASET["source"]
    if source == MATERIALS_PROJECT:
        return config["materials_project"]["download_path"]
    if DATASET["label_with_xtb"]:
        return f"results/label/{Path(library_path(source)).stem}.csv"
    return workflow_file(source)


def parquet_parts_of(path):
    """A directory of Parquet parts' files, as inputs beside it: its own time changes only when
    parts come or go, not when one is rewritten in place; none for a file."""
    return [str(part) for part in parquet_parts(path)] if Path(path).is_dir() else []


def xtb_library(wildcards):
    """The SMILES file that rule label_xtb labels for results/label/{library}.csv."""
    source = library_path(DATASET["source"])
    if not DATASET["label_with_xtb"] or Path(source).stem != wildcards.library:
        raise ValueError(
            f"results/label/{wildcards.library}.csv is made only for the selected data set's "
            f"SMILES file when label_with_xtb is true (dataset={config['dataset']!r})"
        )
    return workflow_file(source)


def fingerprint_store(radius, n_bits, kind):
    """A model's feature store; every message-passing network reads the one graph store."""
    if kind == GRAPH:
        return "results/features/molecule_graphs.npz"
    return f"results/features/morgan_r{radius}_n{n_bits}_{kind}.npz"


def descriptor_store(wildcards=None):
    """The descriptor store when training.descriptors is true, else no input."""
    return ["results/features/rdkit_descriptors.npz"] if config["training"]["descriptors"] else []


def grid_features(wildcards):
    """The feature store that the grid model in the wildcards reads."""
    architecture = grid_architecture(wildcards)
    return fingerprint_store(architecture["radius"], architecture["n_bits"], architecture["fingerprint"])


def grid_fold_metrics(wildcards):
    return expand(
        "results/grid/{target}/m{model}/fold{fold}/metrics.json",
        target=wildcards.target,
        model=GRID_MODELS,
        fold=range(config["grid"]["k"]),
    )


def grid_outputs():
    return expand(
        "results/grid/{target}/{name}",
        target=TARGETS,
        name=["mae_table.tsv", "mae_heatmap.png", "selected.yaml"],
    )


def final_outputs():
    return [
        "results/data/molecules.parquet",
        "results/data/rejected.tsv",
        "results/data/summary.json",
        *grid_outputs(),
        *final_model_outputs(),
        *screening_outputs(),
        *library_outputs(),
        "results/summary.md",
    ]


def grid_architecture(wildcards):
    """The grid row of the model in the wildcards, its fingerprint kind resolved."""
    row = GRID[int(wildcards.model)]
    return {
        "model": row.model,
        "radius": row.radius,
        "n_bits": row.n_bits,
        "fingerprint": row.fingerprint or FINGERPRINT,
        "hidden_layers": row.layers_text,
    }


def target_unit(wildcards):
    return DATASET["targets"][wildcards.target]["unit"]


def target_conversion(wildcards):
    """How the target's labels become potentials vs Li/Li+ (``potentials.CONVERSIONS``)."""
    return DATASET["targets"][wildcards.target]["conversion"]


def selected_architecture(target):
    """The architecture that gather_grid selected for the target (selected.yaml)."""
    import yaml

    selected_path = checkpoints.gather_grid.get(target=target).output.selected
    return yaml.safe_load(Path(selected_path).read_text())


def final_features(wildcards):
    """The fingerprint store of the architecture that gather_grid selected for the target."""
    selected = selected_architecture(wildcards.target)
    return fingerprint_store(selected["radius"], selected["n_bits"], selected["fingerprint"])


def grid_training(wildcards):
    """The training settings that the grid row's network reads: a key it ignores reruns nothing."""
    return training_read_by(config["training"], GRID[int(wildcards.model)].fingerprint == GRAPH)


def final_training(wildcards):
    """The training settings that the selected architecture's network reads."""
    selected = selected_architecture(wildcards.target)
    return training_read_by(config["training"], selected["fingerprint"] == GRAPH)


def final_fold_files(name):
    def files(wildcards):
        return expand(
            "results/final/{target}/fold{fold}/{name}",
            target=wildcards.target,
            fold=range(config["final"]["k"]),
            name=name,
        )

    return files


def final_model_outputs():
    return expand(
        "results/final/{target}/{name}",
        target=TARGETS,
        name=[
            "models.json",
            "metrics.json",
            "oof_predictions.parquet",
            "training_molecules.parquet",
            "parity.png",
            "learning_curves.png",
        ],
    )


SCREEN_TARGETS = [
    config["screening"][f"{kind}_target"] for kind in screened_kinds(config["screening"])
]


def screening_figures():
    kinds = screened_kinds(config["screening"])
    return [f"{kind}_{name}.png" for name in config["screening"]["electrolytes"] for kind in kinds]


def dataset_screening_settings():
    """`screening` without what judges libraries alone (min_similarity), so that changing it
    reruns no data set screening."""
    return {key: value for key, value in config["screening"].items() if key != "min_similarity"}


def screening_outputs():
    """The data set's screening, where `screening` names a target (both null: none)."""
    if not SCREEN_TARGETS:
        return []
    return [
        "results/screen/dataset/screened.parquet",
        "results/screen/dataset/counts.tsv",
    ]


def screening_counts():
    """The data set's candidate counts for the run summary, where it screens (else none)."""
    return screening_outputs()[1:]


def library_smiles(wildcards):
    """The SMILES file that config `screen` names for this library."""
    libraries = config["screen"]
    if wildcards.library not in libraries:
        raise ValueError(f"screen: no library named {wildcards.library!r} (known: {list(libraries)})")
    return workflow_file(library_path(libraries[wildcards.library]))


def library_csv_columns(wildcards):
    """The table columns that config `screen` names for this library (tables.SmilesColumns)."""
    return library_columns(config["screen"][wildcards.library])


def final_models(targets):
    return expand(
        "results/final/{target}/fold{fold}/model.keras",
        target=targets,
        fold=range(config["final"]["k"]),
    )


def library_outputs():
    return expand("results/screen/libraries/{library}/counts.tsv", library=config["screen"])
