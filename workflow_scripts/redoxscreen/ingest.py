"""Ingestion: one clean molecule table from a raw table of SMILES and DFT labels.

Every input row ends in exactly one place: kept as a molecule, merged into an identical
molecule (same InChIKey), or rejected with a reason. Labels are checked per target, so a bad
label removes that label only and the molecule stays for its other targets.

Row numbers are 1-based record numbers of the input table (the first data row is row 1).
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import pandas as pd
from tqdm import tqdm

from redoxscreen.chemistry import MoleculeRejected, StandardizeOptions, standardize
from redoxscreen.tables import (
    DECIMAL_COMMA,
    INVALID_RECORD,
    REPEATED_COLUMNS,
    SD_COLUMNS,
    SD_PROBLEM,
    SD_RECORDS,
    SD_SMILES,
    SD_TITLE,
    SOURCE_LINE,
    read_table,
    write_json,
    write_table,
)

log = logging.getLogger(__name__)

# Molecule-level reasons decided here (chemistry.py defines the structural ones).
CHARGED_BY_COLUMN = "charged"
CHARGE_NOT_NUMERIC = "charge_not_numeric"
NO_LABEL = "no_label"
NO_VALID_LABEL = "no_valid_label"
DUPLICATE_MERGED = "duplicate_merged"
DUPLICATE_CONFLICT = "duplicate_conflict"

# Target-level reasons: the label is dropped, the molecule stays for its other targets.
LABEL_NOT_NUMERIC = "label_not_numeric"
LABEL_NOT_FINITE = "label_not_finite"
LABEL_OUT_OF_RANGE = "label_out_of_range"
LABEL_CONFLICT = "duplicate_label_conflict"

MISSING_TEXT = {"", "nan", "na", "n/a", "none", "null"}

REJECTED_COLUMNS = [
    "input_row",
    "input_line",
    "input_id",
    "input_smiles",
    "target",
    "reason",
    "detail",
]


class IngestConfigError(KeyError):
    """The data set declaration does not match the table (a column is missing)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


@dataclass(frozen=True)
class TargetSpec:
    """One label column: its name in the workflow, its source column and its checks."""

    name: str
    column: str
    unit: str
    conversion: str
    valid_range: tuple[float, float] | None = None
    duplicate_tolerance: float = 0.05

    @classmethod
    def from_config(cls, name: str, entry: Mapping) -> TargetSpec:
        valid_range = entry.get("valid_range")
        return cls(
            name=name,
            column=entry["column"],
            unit=entry["unit"],
            conversion=entry["conversion"],
            valid_range=tuple(valid_range) if valid_range else None,
            duplicate_tolerance=float(entry.get("duplicate_tolerance", 0.05)),
        )


@dataclass(frozen=True)
class DatasetSpec:
    """Where the SMILES, the ids and the labels are in the input table (an SD file's: its
    data items; ``smiles_column`` None, as each record's molecule block is read)."""

    smiles_column: str | None
    targets: tuple[TargetSpec, ...]
    id_column: str | None = None
    charge_column: str | None = None

    @classmethod
    def from_config(cls, entry: Mapping) -> DatasetSpec:
        targets = tuple(
            TargetSpec.from_config(name, target) for name, target in entry["targets"].items()
        )
        return cls(
            smiles_column=entry.get("smiles_column"),
            targets=targets,
            id_column=entry.get("id_column"),
            charge_column=entry.get("charge_column"),
        )

    def named_columns(self) -> dict[str, str]:
        """``{config key: column}`` of the columns this data set reads, e.g.
        ``{"smiles_column": "smiles", ..., "targets.IE.column": "ie"}``."""
        named = {
            "smiles_column": self.smiles_column,
            "id_column": self.id_column,
            "charge_column": self.charge_column,
        }
        named |= {f"targets.{target.name}.column": target.column for target in self.targets}
        return {key: column for key, column in named.items() if column is not None}

    def for_sd_table(self) -> DatasetSpec:
        """This data set read from an SD file's table (``tables.read_sd_table``): its records'
        molecules, and their titles as ids where ``id_column`` names no data item."""
        if self.smiles_column is not None:
            raise IngestConfigError(
                f"smiles_column={self.smiles_column!r}: an SD file has no SMILES column, as "
                "each record's molecule block is read; remove smiles_column"
            )
        return replace(self, smiles_column=SD_SMILES, id_column=self.id_column or SD_TITLE)


@dataclass
class IngestResult:
    molecules: pd.DataFrame
    rejected: pd.DataFrame
    summary: dict = field(default_factory=dict)


class LabelRejected(ValueError):
    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def parse_label(raw: object, target: TargetSpec, decimal_comma: bool = False) -> float:
    """A label as a float, NaN when missing; ``LabelRejected`` when it cannot be trusted.
    With ``decimal_comma`` (a semicolon-separated table) ``9,1`` reads as 9.1."""
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):
        return math.nan
    text = str(raw).strip()
    if text.lower() in MISSING_TEXT:
        return math.nan
    try:
        value = as_number(text, decimal_comma)
    except ValueError:
        hint = "" if decimal_comma or not DECIMAL_COMMA_NUMBER.match(text) else DECIMAL_COMMA_HINT
        raise LabelRejected(
            LABEL_NOT_NUMERIC, f"{target.column}={text!r} is not a number{hint}"
        ) from None
    if not math.isfinite(value):
        raise LabelRejected(LABEL_NOT_FINITE, f"{target.column}={text} is not finite")
    if target.valid_range is not None:
        low, high = target.valid_range
        if not low <= value <= high:
            raise LabelRejected(
                LABEL_OUT_OF_RANGE,
                f"{target.column}={value:g} {target.unit} is outside the physical range "
                f"[{low:g}, {high:g}]",
            )
    return value


def check_columns(frame: pd.DataFrame, dataset: DatasetSpec) -> None:
    wanted = dataset.named_columns()
    repeated = set(frame.attrs.get(REPEATED_COLUMNS, ()))
    if twice := {key: column for key, column in wanted.items() if column in repeated}:
        described = ", ".join(f"{key}={column!r}" for key, column in twice.items())
        raise IngestConfigError(
            f"the input table names the column of {described} more than once (the later ones "
            "read as '<name>.1' …, and ignored); rename them"
        )
    missing = {key: column for key, column in wanted.items() if column not in frame.columns}
    if missing:
        described = ", ".join(f"{key}={column!r}" for key, column in missing.items())
        held = [str(column) for column in frame.columns if column not in SD_COLUMNS]
        kind = "data items" if frame.attrs.get(SD_RECORDS) else "columns"
        raise IngestConfigError(
            f"the input table has no column for {described}; its {kind} are: "
            f"{', '.join(held) or 'none'}"
        )


def spec_for_frame(frame: pd.DataFrame, dataset: DatasetSpec) -> DatasetSpec:
    """The data set as ``frame`` holds it: an SD file's table (``for_sd_table``), or a
    table whose SMILES column the data set must name."""
    if frame.attrs.get(SD_RECORDS):
        return dataset.for_sd_table()
    if dataset.smiles_column is None:
        raise IngestConfigError("smiles_column is missing: name the table's column of SMILES")
    return dataset


def as_text(raw: object) -> str:
    """A cell as stripped text; empty for None and NaN."""
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):
        return ""
    return str(raw).strip()


DECIMAL_COMMA_NUMBER = re.compile(r"^[+-]?\d+,\d+$")
DECIMAL_COMMA_HINT = (
    " (a decimal comma? only a semicolon-separated .csv, as Excel writes it where the decimal "
    "mark is a comma, is read with decimal commas)"
)


def as_number(text: str, decimal_comma: bool) -> float:
    """``float(text)``, reading a comma as the decimal mark where ``decimal_comma``."""
    return float(text.replace(",", ".") if decimal_comma else text)


def row_charge(raw: object, decimal_comma: bool) -> float | None:
    """A charge cell's number; None where the cell is empty or says missing (``MISSING_TEXT``,
    as a label's would: no charge given); ValueError where it holds text that is no number."""
    text = as_text(raw)
    return None if text.lower() in MISSING_TEXT else as_number(text, decimal_comma)


class Ingestion:
    """One pass over the input rows; collects kept rows, rejections and per-target counts."""

    def __init__(
        self,
        dataset: DatasetSpec,
        options: StandardizeOptions,
        decimal_comma: bool,
        sd_records: bool = False,
    ):
        self.dataset = dataset
        self.options = options
        self.decimal_comma = decimal_comma
        self.sd_records = sd_records  # the rows are an SD file's records (read_sd_table)
        self.rejected: list[dict] = []
        self.row_fate: Counter = Counter()
        self.target_counts = {t.name: Counter() for t in dataset.targets}

    def reject(self, row: dict, reason: str, detail: str, target: str = "") -> None:
        self.rejected.append(
            {
                "input_row": row["input_row"],
                "input_line": row["input_line"],
                "input_id": row["input_id"],
                "input_smiles": row["input_smiles"],
                "target": target,
                "reason": reason,
                "detail": detail,
            }
        )

    def reject_row(self, row: dict, reason: str, detail: str) -> None:
        self.reject(row, reason, detail)
        self.row_fate[reason] += 1

    def charge_rejection(self, record: Mapping) -> tuple[str, str] | None:
        """(reason, detail) where the charge column's cell rules the row out under
        ``neutral_only``; None where it is 0 or empty (the SMILES's own charge is checked)."""
        column = self.dataset.charge_column
        if not column or not self.options.neutral_only:
            return None
        cell = record[column]
        try:
            charge = row_charge(cell, self.decimal_comma)
        except ValueError:
            return CHARGE_NOT_NUMERIC, f"{column}={as_text(cell)!r} is not a number"
        if charge is not None and charge != 0:
            return CHARGED_BY_COLUMN, f"{column}={as_text(cell)} (neutral_only)"
        return None

    def read_labels(self, row: dict, record: Mapping) -> tuple[dict[str, float], int]:
        """The row's labels (NaN where missing or rejected) and how many were rejected."""
        labels, rejected = {}, 0
        for target in self.dataset.targets:
            try:
                labels[target.name] = parse_label(record[target.column], target, self.decimal_comma)
            except LabelRejected as rejection:
                labels[target.name] = math.nan
                rejected += 1
                self.target_counts[target.name][rejection.reason] += 1
                self.reject(row, rejection.reason, rejection.detail, target=target.name)
        return labels, rejected

    def process_row(self, number: int, line: int | None, record: Mapping) -> dict | None:
        """Standardize one row (the ``number``-th record, on ``line`` of its file where that is
        known); returns the candidate molecule or None when it was rejected."""
        raw_id = as_text(record[self.dataset.id_column]) if self.dataset.id_column else ""
        row = {
            "input_row": number,
            "input_line": line,
            "input_id": raw_id or (f"line{line}" if self.sd_records else f"row{number}"),
            "input_smiles": as_text(record[self.dataset.smiles_column]),
        }
        if self.sd_records and (problem := record[SD_PROBLEM]):  # a record without a molecule
            self.reject_row(row, INVALID_RECORD, problem)
            return None
        try:
            molecule = standardize(row["input_smiles"], self.options)
        except MoleculeRejected as rejection:
            self.reject_row(row, rejection.reason, rejection.detail)
            return None
        if rejection := self.charge_rejection(record):
            self.reject_row(row, *rejection)
            return None
        labels, rejected_labels = self.read_labels(row, record)
        if all(math.isnan(value) for value in labels.values()):
            if rejected_labels:
                self.reject_row(row, NO_VALID_LABEL, "every label of this row was rejected")
            else:
                self.reject_row(row, NO_LABEL, "the row has no label for any target")
            return None
        return row | {
            "smiles": molecule.smiles,
            "inchikey": molecule.inchikey,
            "heavy_atoms": molecule.heavy_atoms,
            **labels,
        }

    def merge_duplicates(self, candidates: list[dict]) -> list[dict]:
        """Merge rows with the same InChIKey; conflicting labels are dropped and reported."""
        groups: dict[str, list[dict]] = {}
        for candidate in candidates:
            groups.setdefault(candidate["inchikey"], []).append(candidate)
        molecules = []
        for group in groups.values():
            merged = self.merge_group(group)
            if merged is not None:
                molecules.append(merged)
        return molecules

    def merge_group(self, group: list[dict]) -> dict | None:
        keeper = dict(group[0])
        keeper["n_merged"] = len(group)
        if len(group) == 1:
            return keeper
        for target in self.dataset.targets:
            values = [row[target.name] for row in group if not math.isnan(row[target.name])]
            keeper[target.name] = self.agreed_label(group, target, values)
        if all(math.isnan(keeper[t.name]) for t in self.dataset.targets):
            for row in group:
                self.reject_row(
                    row,
                    DUPLICATE_CONFLICT,
                    f"{len(group)} rows share InChIKey {keeper['inchikey']} and no label agrees",
                )
            return None
        for row in group[1:]:
            self.reject_row(
                row,
                DUPLICATE_MERGED,
                f"same InChIKey as row {keeper['input_row']} ({keeper['input_id']}); labels merged",
            )
        return keeper

    def agreed_label(self, group: list[dict], target: TargetSpec, values: list[float]) -> float:
        if not values:
            return math.nan
        spread = max(values) - min(values)
        if spread <= target.duplicate_tolerance + 1e-9:  # tolerate float rounding
            return sum(values) / len(values)
        shown = ", ".join(f"{value:g}" for value in values)
        for row in group:
            if not math.isnan(row[target.name]):
                self.target_counts[target.name][LABEL_CONFLICT] += 1
                self.reject(
                    row,
                    LABEL_CONFLICT,
                    f"duplicates of InChIKey {row['inchikey']} disagree ({shown} {target.unit}; "
                    f"spread {spread:g} > tolerance {target.duplicate_tolerance:g})",
                    target=target.name,
                )
        return math.nan


def assign_ids(molecules: pd.DataFrame) -> pd.Series:
    """Input ids where unique; otherwise a clear error naming the repeated ids."""
    repeated = molecules["input_id"][molecules["input_id"].duplicated()].unique()
    if len(repeated):
        lines_known = molecules["input_line"].notna().all()  # not in Parquet, JSON, frames
        where, noun = ("input_line", "lines") if lines_known else ("input_row", "rows")
        places = molecules.groupby("input_id")[where].apply(lambda found: sorted(map(int, found)))
        shown = "; ".join(
            f"{name} ({noun} {', '.join(map(str, places[name]))})" for name in repeated[:10]
        )
        raise IngestConfigError(
            f"id_column holds the same id for different molecules: {shown}"
            + (" ..." if len(repeated) > 10 else "")
            + "; give each molecule its own id"
        )
    return molecules["input_id"]


def ingest(
    frame: pd.DataFrame,
    dataset: DatasetSpec,
    options: StandardizeOptions | None = None,
    progress: bool = False,
) -> IngestResult:
    """Standardize, check and deduplicate a raw table into the molecule table."""
    dataset = spec_for_frame(frame, dataset)
    check_columns(frame, dataset)
    decimal_comma = frame.attrs.get(DECIMAL_COMMA, False)
    sd_records = frame.attrs.get(SD_RECORDS, False)
    run = Ingestion(dataset, options or StandardizeOptions(), decimal_comma, sd_records)
    rows = zip(source_lines(frame), frame.to_dict("records"), strict=True)
    candidates = []
    progress_bar = tqdm(rows, total=len(frame), disable=not progress, desc="ingest")
    for number, (line, record) in enumerate(progress_bar, start=1):
        candidate = run.process_row(number, line, record)
        if candidate is not None:
            candidates.append(candidate)
    kept = run.merge_duplicates(candidates)
    target_names = [t.name for t in dataset.targets]
    columns = ["id", "input_smiles", "smiles", "inchikey", "heavy_atoms", "n_merged", *target_names]
    molecules = pd.DataFrame(kept, columns=[*columns[1:], "input_id", "input_row", "input_line"])
    molecules["id"] = assign_ids(molecules) if len(molecules) else pd.Series(dtype=str)
    molecules = molecules.sort_values("input_row")[columns].reset_index(drop=True)
    molecules = molecules.astype({name: "float64" for name in target_names})
    rejected = pd.DataFrame(run.rejected, columns=REJECTED_COLUMNS).sort_values(
        ["input_row", "target"], kind="stable"
    )
    rejected["input_line"] = rejected["input_line"].astype("Int64")
    summary = summarize(len(frame), molecules, run, dataset)
    return IngestResult(
        molecules=molecules, rejected=rejected.reset_index(drop=True), summary=summary
    )


def source_lines(frame: pd.DataFrame) -> list[int | None]:
    """Where each row is in its file: its line in a CSV or TSV, its row in an XLSX sheet
    (``read_table``'s ``SOURCE_LINE`` index); None for Parquet, JSON and frames made in code."""
    if frame.index.name == SOURCE_LINE:
        return [int(line) for line in frame.index]
    return [None] * len(frame)


def summarize(
    input_rows: int, molecules: pd.DataFrame, run: Ingestion, dataset: DatasetSpec
) -> dict:
    rows = {"kept": len(molecules), **dict(sorted(run.row_fate.items()))}
    accounted = sum(rows.values())
    if accounted != input_rows:  # a bug, never a data problem: fail loudly
        raise AssertionError(f"ingestion accounted for {accounted} of {input_rows} input rows")
    targets = {}
    for target in dataset.targets:
        labelled = int(molecules[target.name].notna().sum()) if len(molecules) else 0
        targets[target.name] = {
            "column": target.column,
            "unit": target.unit,
            "conversion": target.conversion,
            "labelled_molecules": labelled,
            "unlabelled_molecules": len(molecules) - labelled,
            "labels_rejected": dict(sorted(run.target_counts[target.name].items())),
        }
    return {"input_rows": input_rows, "rows": rows, "targets": targets}


def run_ingestion(
    table_path: str,
    dataset: Mapping,
    ingest_options: Mapping,
    molecules_path: str,
    rejected_path: str,
    summary_path: str,
) -> IngestResult:
    """Read a table, ingest it and write the three outputs; logs the counts per reason."""
    frame = read_table(table_path)
    log.info("read %d rows from %s", len(frame), table_path)
    if frame.attrs.get(DECIMAL_COMMA):
        log.info("the table is semicolon-separated: a comma in a label is its decimal mark")
    result = ingest(
        frame,
        DatasetSpec.from_config(dataset),
        StandardizeOptions.from_config(ingest_options),
        progress=True,
    )
    write_table(result.molecules, molecules_path)
    write_table(result.rejected, rejected_path)
    write_json(result.summary | {"source": str(table_path)}, summary_path)
    log.info("row fates: %s", result.summary["rows"])
    for target, counts in result.summary["targets"].items():
        log.info("%s: %s", target, counts)
    check_every_target_labelled(result.summary)
    return result


def check_every_target_labelled(summary: Mapping) -> None:
    """Raise ``IngestConfigError`` when a target kept no label: nothing could learn it."""
    for target, counts in summary["targets"].items():
        if counts["labelled_molecules"] == 0:
            raise IngestConfigError(
                f"targets.{target}: no molecule kept a label (column {counts['column']!r}; "
                f"rows: {summary['rows']}; labels rejected: {counts['labels_rejected']}; "
                f"molecules kept for other targets: {counts['unlabelled_molecules']}); "
                "check the target's column, unit and valid_range"
            )
