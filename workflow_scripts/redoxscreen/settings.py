"""Checks on the configuration that a JSON schema cannot express, with errors naming the key."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from textwrap import shorten
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from redoxscreen.tables import SdScan

MATERIALS_PROJECT = "materials_project"


class ConfigError(ValueError):
    """The configuration is inconsistent; the message names the key to fix."""


def selected_dataset(config: Mapping) -> dict:
    """The entry of ``datasets`` that ``dataset`` names."""
    name = config["dataset"]
    datasets = config["datasets"]
    if name not in datasets:
        known = ", ".join(sorted(datasets))
        raise ConfigError(f"dataset: {name!r} is not declared under datasets (declared: {known})")
    return datasets[name]


def check_repeated_keys(paths: Sequence[str | Path]) -> None:
    """Raise ``ConfigError`` naming the file, the key and where, where a config file sets one
    key twice in a mapping: JSON and YAML keep the last without a word, so
    ``training: {dropout: 0.2}`` above ``training: {l2: 0.1}`` would lose the dropout. A file
    is read as Snakemake reads it: as JSON, else as YAML."""
    import json

    import yaml

    for path in paths:
        text = Path(path).read_text(encoding="utf-8")
        try:
            json.loads(text, object_pairs_hook=refuse_repeated_json_keys)
        except RepeatedKey as repeated:
            raise ConfigError(f"{path}: {repeated}, and only the last would count") from None
        except ValueError:  # not JSON: YAML
            if repeated := repeated_key(yaml.compose(text)):
                key, lines = repeated
                raise ConfigError(
                    f"{path}: {key} is set twice (lines {lines[0]} and {lines[1]}), and only "
                    "the last would count: set it once"
                ) from None


class RepeatedKey(Exception):
    """A JSON object that holds one key twice."""


def refuse_repeated_json_keys(pairs: list[tuple[str, object]]) -> dict:
    """``json.loads``'s ``object_pairs_hook``: the object, or ``RepeatedKey``."""
    seen = set()
    for key, _ in pairs:
        if key in seen:
            raise RepeatedKey(f"the key {key!r} is set twice in one object")
        seen.add(key)
    return dict(pairs)


MERGE_TAG = "tag:yaml.org,2002:merge"


def repeated_key(node, path: str = "") -> tuple[str, tuple[int, int]] | None:
    """The first key that a YAML node's mappings hold twice, as a dotted path, and the lines
    of its two entries; None where none repeats."""
    import yaml

    if isinstance(node, yaml.SequenceNode):
        children = [(f"{path}[{index}]", child) for index, child in enumerate(node.value)]
    elif isinstance(node, yaml.MappingNode):
        first_line, children = {}, []
        for key_node, value in node.value:
            key = f"{path}.{key_node.value}".lstrip(".")
            children.append((key, value))
            if key_node.tag == MERGE_TAG:  # `<<:` merges its mappings: it may repeat
                continue
            line = key_node.start_mark.line + 1
            if (key_node.tag, key) in first_line:  # 1 and "1" are different keys
                return key, (first_line[key_node.tag, key], line)
            first_line[key_node.tag, key] = line
    else:
        return None
    return next(filter(None, (repeated_key(child, where) for where, child in children)), None)


def schema_report(config: Mapping, schema_path: str | Path, refusal: Exception) -> str:
    """What Snakemake's validation against the JSON schema refused (``refusal``), one line per
    mistake ("key.path: what is wrong"), instead of its dump of the whole schema."""
    import jsonschema
    import yaml

    try:
        schema = yaml.safe_load(Path(schema_path).read_text())
        errors = list(jsonschema.Draft202012Validator(schema).iter_errors(config))
    except Exception:  # an unreadable or broken schema: Snakemake's message says so
        return str(refusal)
    screening_keys = schema.get("properties", {}).get("screening", {}).get("properties", {})
    lines = sorted(
        line + misplaced_screening_hint(error.absolute_path, screening_keys)
        for error in errors
        for line in describe_schema_error(error)
    )
    if not lines:  # not a mistake in the config's values: keep Snakemake's own message
        return str(refusal)
    return f"the configuration does not match {Path(schema_path).name}:\n  " + "\n  ".join(lines)


def describe_schema_error(error) -> list[str]:
    """One line per mistake in a jsonschema ``ValidationError``; an unknown key gets the
    nearest known one as a suggestion."""
    where = ".".join(str(part) for part in error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        known = list(error.schema.get("properties", {}))
        prefix = f"{where}." if where else ""
        return [
            f"{prefix}{key}: unknown key; {unknown_key_hint(str(key), known)}"
            for key in error.instance
            if key not in known
        ]
    message = error.message
    if error.validator in ("oneOf", "anyOf"):  # say what each alternative wanted, and where
        wanted = [
            f"{'.'.join(map(str, alternative.relative_path))}: {alternative.message}"
            if alternative.relative_path
            else alternative.message
            for alternative in error.context
        ]
        message += f" ({'; '.join(wanted)})"
    message = shorten(message, 300, placeholder=" ...")
    if is_text_for_a_value(error):
        message += text_value_hint(error.instance)
    return [f"{where or '(top level)'}: {message}"]


# YAML 1.1, which PyYAML and Snakemake read, takes an exponent's number for text unless it has
# a decimal point and a signed exponent (1.0e-3, 1.0e+3)
EXPONENT_NUMBER = re.compile(r"^([+-]?\d+)(?:\.(\d*))?[eE]([+-]?)(\d+)$")


def text_value_hint(value: object) -> str:
    """Why a nested number reached the schema as text, and how to write it: 1e-3 in a YAML
    file, or any nested value given on the command line with ``--config``."""
    if isinstance(value, str) and (match := EXPONENT_NUMBER.match(value)):
        number, fraction, sign, exponent = match.groups()
        written = f"{number}.{fraction or 0}e{sign or '+'}{exponent}"
        return (
            f"; YAML reads {value} as text: write {written} (a decimal point and a signed exponent)"
        )
    return "; `--config` reads a nested value as text: set nested keys in a --configfile"


def misplaced_screening_hint(path: Sequence, screening_keys: Mapping) -> str:
    """A hint for a ``screen:`` entry named like a ``screening:`` key, as in
    ``screen: {collector_max_v: 4.5}``; empty otherwise."""
    if len(path) == 2 and path[0] == "screen" and path[1] in screening_keys:
        return "; " + screening_key_hint(path[1])
    return ""


def screening_key_hint(name: str) -> str:
    return (
        f"`screen:` names libraries to screen ({{name: SMILES file}}); did you mean "
        f"screening.{name}?"
    )


def is_text_for_a_value(error) -> bool:
    """Whether a schema error is a nested number or truth value given as text, as Snakemake's
    ``--config final='{k: 3}'`` gives it (top-level values it reads as numbers)."""
    if error.validator in ("oneOf", "anyOf"):  # e.g. grid.models: ['24'] for [24]
        return any(is_text_for_a_value(alternative) for alternative in error.context)
    wanted = error.validator_value if error.validator == "type" else None
    wanted = set(wanted) if isinstance(wanted, list) else {wanted}
    return (
        isinstance(error.instance, str)
        and len(error.absolute_path) > 1
        and bool(wanted & {"integer", "number", "boolean"})
    )


def unknown_key_hint(key: str, known: list[str]) -> str:
    """The known key nearest to ``key``, or all of them when none is near."""
    close = difflib.get_close_matches(key, known, n=1)
    return f"did you mean {close[0]!r}?" if close else f"known here: {', '.join(known)}"


def check_config(
    config: Mapping, workdir: str | Path = ".", workflow_dir: str | Path | None = None
) -> None:
    """Raise ``ConfigError`` for settings that contradict each other or cannot be read."""
    from redoxscreen.screen_stage import screening_is_on

    if (
        screening_is_on(config["screening"])
        and config["screening"]["interval"] == "ensemble"
        and config["final"]["calibration_fraction"] == 0
    ):
        raise ConfigError(
            "screening.interval: 'ensemble' needs a calibration set to calibrate the ensemble "
            "spread; set final.calibration_fraction above 0 (e.g. 0.1) or use 'conformal'"
        )
    check_training(config["training"])
    check_dataset(config, workdir, workflow_dir)
    check_config_files(config, workdir, workflow_dir)
    check_libraries(config, workdir, workflow_dir)
    check_screening(config, workdir, workflow_dir)


def check_training(training: Mapping) -> None:
    """Raise ``ConfigError`` for training settings that every training job would refuse."""
    from redoxscreen.training import TrainingSettings

    try:
        TrainingSettings.from_config(dict(training))
    except (KeyError, ValueError) as error:
        raise ConfigError(error.args[0]) from error


def check_dataset(
    config: Mapping, workdir: str | Path = ".", workflow_dir: str | Path | None = None
) -> None:
    """Raise ``ConfigError`` for a selected data set that cannot be read as declared."""
    from redoxscreen.tables import TableFormatError, table_kind

    name = config["dataset"]
    dataset = selected_dataset(config)
    for target, entry in dataset["targets"].items():
        check_target(f"datasets.{name}.targets.{target}", entry)
    entry = dataset["source"]
    if entry == MATERIALS_PROJECT:
        if dataset.get("label_with_xtb"):
            raise ConfigError(
                f"datasets.{name}: label_with_xtb needs a SMILES file as source, "
                "not materials_project"
            )
        check_smiles_column_named(name, dataset)
        return
    if not isinstance(entry, str) and not dataset.get("label_with_xtb"):
        raise ConfigError(
            f"datasets.{name}.source: {{path, smiles_column, id_column}} names the columns of a "
            f"SMILES file to label with xTB (label_with_xtb: true); a labelled table's columns "
            f"are datasets.{name}.smiles_column and id_column, so give source as a path"
        )
    source = library_path(entry)
    check_file_exists(f"datasets.{name}.source", source, workdir, workflow_dir)
    path = configured_file(source, workdir, workflow_dir)
    try:
        kind = table_kind(path)  # a ZIP archive's: its one file's
    except TableFormatError as error:  # its message names the file
        raise ConfigError(f"datasets.{name}.source: {error}") from error
    if kind == ".sdf" and not dataset.get("label_with_xtb"):
        check_sd_dataset(name, dataset, source, path)
        return
    check_smiles_column_named(name, dataset)
    if dataset.get("label_with_xtb"):
        check_xtb_source(name, dataset, path)
    elif kind in MOLECULES_ONLY:
        raise ConfigError(
            f"datasets.{name}.source: {source!r} is {MOLECULES_ONLY[kind]}, which "
            f"holds no label columns; set datasets.{name}.label_with_xtb: true to label it with "
            "xTB, or give a table with label columns"
        )
    else:
        check_dataset_table(name, dataset, source, path)


def check_target(key: str, entry: Mapping) -> None:
    """Raise ``ConfigError`` for a target whose valid range is empty, or whose known unit
    contradicts its conversion (Hartree labels read as eV would be 27 times too small)."""
    from redoxscreen.potentials import unit_contradiction

    low, high = entry.get("valid_range", (float("-inf"), float("inf")))
    if low >= high:
        raise ConfigError(f"{key}.valid_range: min {low} is not below max {high}")
    if contradiction := unit_contradiction(entry["unit"], entry["conversion"]):
        raise ConfigError(f"{key}: {contradiction}")


MOLECULES_ONLY = {".smi": "a SMILES file"}  # data-set sources with no labels


def check_smiles_column_named(name: str, dataset: Mapping) -> None:
    """Raise ``ConfigError`` where a data set names no SMILES column of the table that
    ingestion reads (all but an SD file's have one)."""
    if "smiles_column" not in dataset:
        table = "the xTB labels (smiles)" if dataset.get("label_with_xtb") else "the table"
        raise ConfigError(
            f"datasets.{name}.smiles_column is missing: name the SMILES column of {table}"
        )


def check_sd_dataset(name: str, dataset: Mapping, source: str, path: Path) -> None:
    """Raise ``ConfigError`` for an SD data set that names a SMILES column (its records'
    molecule blocks are read), that holds no record, or whose named data items no record
    holds, some records spell otherwise, or a record holds twice."""
    from redoxscreen.tables import TableFormatError, first_molecule, sd_scan

    if "smiles_column" in dataset:
        raise ConfigError(
            f"datasets.{name}.smiles_column: {source!r} is an SD file, whose records' molecule "
            "blocks are read; remove smiles_column (id_column, charge_column and the targets' "
            "columns name data items; without id_column the ids are the records' titles)"
        )
    try:
        if first_molecule(path) is None:
            raise ConfigError(f"datasets.{name}.source: {source!r} holds no SD record")
        scan = sd_scan(path)
    except TableFormatError as error:  # its message names the file
        raise ConfigError(f"datasets.{name}.source: {error}") from error
    items = list(scan.item_names)
    table = f"{source} (the data items of its records: {', '.join(items)})"
    check_dataset_columns(name, dataset, items, table, holds="a data item")
    for key, item in dataset_columns(dataset).items():
        check_sd_item_spelt_once(f"datasets.{name}.{key}", item, scan, source)


def check_sd_item_spelt_once(key: str, item: str, scan: SdScan, source: str) -> None:
    """Raise ``ConfigError`` where some of the SD file's records (``scan``: ``tables.SdScan``)
    spell the data item ``item`` in another case alone, or one record holds it twice: some of
    its values would be lost."""
    spellings = [name for name in scan.item_names if name.casefold() == item.casefold()]
    if others := [name for name in spellings if name != item and name in scan.alone]:
        raise ConfigError(
            f"{key}: {source} spells the data item {item!r} also {', '.join(map(repr, others))} "
            "(in some records); a data set's items are read in their exact case, so those "
            "records' values would not be read: spell it one way"
        )
    if item in scan.repeated:
        raise ConfigError(
            f"{key}: a record of {source} holds the data item {item!r} twice; only one value "
            "would be read: keep one"
        )


def check_xtb_source(name: str, dataset: Mapping, path: Path) -> None:
    """Raise ``ConfigError`` for an xTB data set whose source cannot be read as declared, or
    which names a column that the xTB labels lack: ingestion reads them, not the source."""
    from redoxscreen.xtb import LABEL_COLUMNS

    check_first_molecule(f"datasets.{name}.source", path, library_columns(dataset["source"]))
    labels = (
        f"the xTB labels ({', '.join(LABEL_COLUMNS)}), which ingestion reads (a SMILES file's "
        f"own columns are named in datasets.{name}.source: {{path, smiles_column, id_column}})"
    )
    check_dataset_columns(name, dataset, LABEL_COLUMNS, labels)


def check_dataset_table(name: str, dataset: Mapping, source: str, path: Path) -> None:
    """Raise ``ConfigError`` for a labelled table whose header lacks a named column or names
    one twice."""
    from redoxscreen.tables import (
        SHEET_HEADER,
        TableFormatError,
        distinct_column_names,
        read_excel_sheet,
        repeated_names,
        table_kind,
    )

    sheet = table_kind(path) == ".xlsx"
    try:
        header = table_header(path)
        named = set(dataset_columns(dataset).values())
        if sheet and not named <= set(distinct_column_names(header)):
            # the header row alone does not name a column<N> that only wider rows below reach
            header = read_excel_sheet(path).attrs[SHEET_HEADER]
    except TableFormatError as error:  # its message names the file
        raise ConfigError(f"datasets.{name}.source: {error}") from error
    except (OSError, ValueError) as error:  # pyarrow's ArrowInvalid
        raise ConfigError(f"datasets.{name}.source: {source}: {error}") from error
    if header is not None:
        columns = distinct_column_names(header)
        where = "first sheet, whose header is its first row that is not empty; " * sheet
        table = f"{source} ({where}columns: {', '.join(columns)})"
        check_dataset_columns(name, dataset, columns, table, path)
        check_columns_named_once(name, dataset, repeated_names(header), source)


def table_header(path: Path) -> list[str] | None:
    """A data-set table's header as written, without reading its rows; None for JSON, whose
    records are read whole when ingested (its columns are checked then). A format that no
    reader reads is refused (``tables.table_reader``)."""
    from redoxscreen.tables import (
        parquet_columns,
        sheet_header,
        table_kind,
        table_reader,
        text_table_header,
    )

    table_reader(path)
    suffix = table_kind(path)
    if suffix in (".csv", ".tsv", ".txt"):
        return text_table_header(path, ".csv" if suffix == ".csv" else ".tsv")
    if suffix == ".parquet":
        return parquet_columns(path)
    if suffix == ".xlsx":
        return sheet_header(path)
    return None


def check_dataset_columns(
    name: str,
    dataset: Mapping,
    columns: list[str],
    table: str,
    path: Path | None = None,
    holds: str = "a column",
) -> None:
    """Raise ``ConfigError`` naming the key of a column that the data set's table (a text
    table at ``path``, whose ``#`` lines may hold the real header) lacks; ``holds`` says what
    a column is (an SD file's: ``a data item``)."""
    from redoxscreen.tables import commented_header_hint

    for key, column in dataset_columns(dataset).items():
        if column not in columns:
            nearest = [other for other in columns if other.lower() == column.lower()]
            nearest = nearest or difflib.get_close_matches(column, columns, n=1)
            hint = f"; did you mean {nearest[0]!r}?" if nearest else ""
            if path is not None:
                hint = commented_header_hint(path, column) or hint
            raise ConfigError(f"datasets.{name}.{key}: {column!r} is not {holds} of {table}{hint}")


def check_columns_named_once(name: str, dataset: Mapping, repeated: list[str], source: str) -> None:
    """Raise ``ConfigError`` naming the key of a column that the table's header names more
    than once: only the first would be read."""
    for key, column in dataset_columns(dataset).items():
        if column in repeated:
            raise ConfigError(
                f"datasets.{name}.{key}: {source} names the column {column!r} more than once "
                f"(the later ones would be read as '{column}.1' …, and ignored); rename them"
            )


def dataset_columns(dataset: Mapping) -> dict[str, str]:
    """``{key: column}`` of the columns a data set's config names, e.g. ``smiles_column``."""
    from redoxscreen.ingest import DatasetSpec

    return DatasetSpec.from_config(dataset).named_columns()


def check_file_exists(
    key: str, path: str, workdir: str | Path = ".", workflow_dir: str | Path | None = None
) -> None:
    """Raise ``ConfigError`` naming ``key`` when the configured file is in neither place that
    the workflow reads relative paths from."""
    if configured_file(path, workdir, workflow_dir) is None:
        raise ConfigError(
            f"{key}: {path!r} does not exist (relative paths are read from the working "
            f"directory {Path(workdir).resolve()}, then the workflow's own directory)"
        )


def configured_file(
    path: str, workdir: str | Path = ".", workflow_dir: str | Path | None = None
) -> Path | None:
    """Where a configured relative path is found: the working directory, then the workflow's
    own directory; None if in neither."""
    places = [Path(workdir)] + ([Path(workflow_dir)] if workflow_dir else [])
    return next((place / path for place in places if (place / path).exists()), None)


def check_config_files(
    config: Mapping, workdir: str | Path = ".", workflow_dir: str | Path | None = None
) -> None:
    """Raise ``ConfigError`` for a grid table, electrolytes table or library that is missing
    (a missing library named like a ``screening:`` key is pointed there)."""
    misplaced = [
        name
        for name, entry in config["screen"].items()
        if name in config["screening"]
        and (not isinstance(entry, str) or configured_file(entry, workdir, workflow_dir) is None)
    ]
    if misplaced:  # `screen:` lists libraries; `screening:` says how to screen
        raise ConfigError(f"screen.{misplaced[0]}: {screening_key_hint(misplaced[0])}")
    files = {
        "grid.architectures": config["grid"]["architectures"],
        "screening.electrolytes_table": config["screening"]["electrolytes_table"],
        **{f"screen.{name}": library_path(entry) for name, entry in config["screen"].items()},
    }
    for key, path in files.items():
        check_file_exists(key, path, workdir, workflow_dir)


def library_path(entry: str | Mapping) -> str:
    """The SMILES file of a ``screen:`` entry (or of an xTB-labelled data set's ``source``):
    the entry itself, or its ``path``."""
    return entry if isinstance(entry, str) else entry["path"]


def library_columns(entry: str | Mapping) -> dict[str, str]:
    """The table columns that a ``screen:`` entry (or an xTB-labelled data set's ``source``)
    names, as ``tables.SmilesColumns`` keywords."""
    if isinstance(entry, str):
        return {}
    return {key: entry[f"{key}_column"] for key in ("smiles", "id") if f"{key}_column" in entry}


def check_libraries(
    config: Mapping, workdir: str | Path = ".", workflow_dir: str | Path | None = None
) -> None:
    """Raise ``ConfigError`` for a library whose first molecule cannot be read as configured
    (a column missing, a comma-separated .smi file, not UTF-8): before any model trains, not
    when the trained models are about to predict it."""
    for name, entry in config["screen"].items():
        path = configured_file(library_path(entry), workdir, workflow_dir)
        check_first_molecule(f"screen.{name}", path, library_columns(entry))


LIBRARY_MINUTES_PER_MILLION = 120  # twice 2 CPU cores' hour with message-passing models
# twice the seconds per (library molecule, training molecule) pair of the nearest-molecule
# search, measured on one core of two loaded ones (77,000 training molecules: 760 mol/s;
# bench/similarity.py)
SIMILARITY_SECONDS_PER_PAIR = 3.5e-8


def library_runtime_minutes(
    path: str | Path, training_molecules: Sequence[str | Path] = (), least: int = 120
) -> int:
    """Minutes to give a library's prediction job: ``least``, or more for a library of more
    than a million lines (measured: 274 molecules/s on 2 cores with the demo run's models),
    plus the search for each molecule's nearest among the ``training_molecules`` tables' rows
    (one table per target; targets trained on the same molecules share one search).
    Snakemake asks when the job is about to run, once the tables exist; a dry run asks before
    the final models are trained, and then gets the minutes without the search."""
    from redoxscreen.tables import molecule_count_bound

    molecules = molecule_count_bound(path)
    made = [table for table in training_molecules if Path(table).exists()]
    pairs = molecules * sum(len(table) for table in distinct_tables(made))
    minutes = (
        molecules / 1e6 * LIBRARY_MINUTES_PER_MILLION + pairs * SIMILARITY_SECONDS_PER_PAIR / 60
    )
    return max(least, math.ceil(minutes))


def distinct_tables(paths: Sequence[str | Path]) -> list[pd.DataFrame]:
    """The Parquet tables at ``paths``, each content once."""
    import pandas as pd

    distinct: list[pd.DataFrame] = []
    for path in paths:
        table = pd.read_parquet(path)
        if not any(table.equals(known) for known in distinct):
            distinct.append(table)
    return distinct


def check_first_molecule(key: str, path: Path, columns: Mapping[str, str] | None = None) -> None:
    """Raise ``ConfigError`` naming ``key`` when the first molecule of a SMILES file cannot
    be read with these columns (``tables.SmilesColumns`` keywords)."""
    from redoxscreen.tables import SmilesColumns, required_first_molecule

    try:  # a directory, a column missing, no molecule
        required_first_molecule(path, SmilesColumns(**(columns or {})))
    except (OSError, ValueError) as error:
        raise ConfigError(f"{key}: {error}") from error


def check_plausible_ranges(screening: Mapping) -> None:
    """Refuse a ``screening.plausible_median_ev`` or ``plausible_spread_ev`` range that is not
    two finite numbers, the first below the second: every data set would be refused."""
    for key in ("plausible_median_ev", "plausible_spread_ev"):
        for kind, bounds in screening[key].items():
            if bounds is not None and not (
                all(map(math.isfinite, bounds)) and bounds[0] < bounds[1]
            ):
                raise ConfigError(f"screening.{key}.{kind}: {bounds} is no range: give [low, "
                                  "high] in eV, low below high, or null for no check")  # fmt: skip


def check_screening(
    config: Mapping, workdir: str | Path = ".", workflow_dir: str | Path | None = None
) -> None:
    """Raise ``ConfigError`` for a screening section that the screening stage would refuse
    (targets the data set lacks, roles, electrolytes), by building its plan now; where it
    screens nothing (both targets null), for libraries that would not be screened."""
    from redoxscreen.screen_stage import ScreeningPlan, screening_is_on

    if not screening_is_on(config["screening"]):
        if config["screen"]:
            raise ConfigError(
                f"screen: {', '.join(config['screen'])} would not be screened: "
                "screening.oxidation_target and screening.reduction_target are both null; name "
                "a target there, or predict the library with `.venv/bin/redoxscreen predict`"
            )
        return
    check_plausible_ranges(config["screening"])
    if (
        config["screen"]  # it judges libraries alone
        and config["screening"].get("min_similarity") is not None
        and not config["predict"]["similarity"]
    ):
        raise ConfigError(
            f"screening.min_similarity: {config['screening']['min_similarity']} judges library "
            "molecules by their nearest training molecule, which predict.similarity: false does "
            "not look for; set predict.similarity: true, or screening.min_similarity: null"
        )
    electrolytes = configured_file(config["screening"]["electrolytes_table"], workdir, workflow_dir)
    targets = selected_dataset(config)["targets"]
    try:
        ScreeningPlan.from_config(config["screening"], targets, config["potentials"], electrolytes)
    except (KeyError, ValueError) as error:
        raise ConfigError(error.args[0]) from error
