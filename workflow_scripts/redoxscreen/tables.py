"""Reading and writing tables: every format a lab exports, and atomic writes.

A file is written under a temporary name in the same folder and renamed into place at the end,
so a killed job never leaves a half-written file that looks finished.
"""

from __future__ import annotations

import bz2
import csv
import functools
import gzip
import json
import logging
import lzma
import os
import re
import tempfile
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import NamedTuple
from xml.etree.ElementTree import ParseError

import pandas as pd

log = logging.getLogger(__name__)

READERS = {
    ".csv": lambda path: read_comma_separated(path),
    ".tsv": lambda path: read_text_table(path, ".tsv"),
    ".txt": lambda path: read_text_table(path, ".tsv"),
    ".xlsx": lambda path: read_excel_sheet(path),
    ".parquet": lambda path: read_parquet_columns(path),
    ".json": lambda path: read_json_records(path),
    ".sdf": lambda path: read_sd_table(path),
}


class TableFormatError(ValueError):
    """A file cannot be read as a table or SMILES file: its format, encoding, header or a
    record (named with its line)."""


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read CSV, TSV, XLSX, Parquet or JSON records into a DataFrame.

    Text formats are read as strings, so that a bad label ("n/a", "1.2.3") reaches the
    ingestion checks as it was written instead of being coerced silently. A CSV, TSV or XLSX
    frame is indexed by where each row is in the file (``SOURCE_LINE``: its line, or its row
    in the sheet), and its rows of empty cells are skipped.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"input table not found: {path}")
    return table_reader(path)(path)


def table_reader(path: str | os.PathLike):
    """The ``READERS`` function that reads this table; an unknown format is refused."""
    kind = table_kind(path)
    if kind == ".zip":  # holding no one file that is read
        raise TableFormatError(f"{path}: {NOT_SMILES_FILES['.zip']}")
    if kind not in READERS:
        raise TableFormatError(
            f"{path}: {unknown_format(path, kind)}; use one of {', '.join(sorted(READERS))} (a "
            ".csv, .tsv or .sdf also compressed: .gz, .bz2, .xz, .zip)"
        )
    return READERS[kind]


def unknown_format(path: str | os.PathLike, kind: str) -> str:
    """Why no reader reads a table of this ``table_kind``."""
    if kind:
        return f"unknown table format {kind!r}"
    if Path(path).suffix.lower() == ".zip":
        return f"its one file {zip_member(path)!r} has no suffix that names its format"
    return "no suffix that names its format"


def read_comma_separated(path: str | os.PathLike) -> pd.DataFrame:
    """A CSV table. One whose header holds more semicolons than commas is read as
    semicolon-separated, as Excel writes a CSV where the decimal mark is a comma; its
    ``attrs[DECIMAL_COMMA]`` is then True (labels such as ``9,1`` are read as 9.1)."""
    frame = read_text_table(path, ".csv")
    _, lines = lines_from_the_header(path)
    frame.attrs[DECIMAL_COMMA] = table_delimiter(".csv", next(lines, "")) == ";"
    return frame


DECIMAL_COMMA = "decimal_comma"  # a table's numbers may have a decimal comma


SOURCE_LINE = "line"  # index name: where each row is in its file (``read_table``)


def read_text_table(path: str | os.PathLike, suffix: str) -> pd.DataFrame:
    """A comma- (``.csv``) or tab-separated table, every cell as text, read as the libraries
    are (``table_records``), indexed by the line where each row starts (``SOURCE_LINE``). A
    row with filled cells beyond the header is refused with its line; a row of empty cells is
    skipped, a short one is filled with empty cells."""
    header, rows = text_table_rows(path, suffix)
    lines, cells = [], []
    for line, record in rows:
        lines.append(line)
        cells.append(record)
    index = pd.Index(lines, dtype="int64", name=SOURCE_LINE)
    frame = pd.DataFrame(cells, columns=distinct_column_names(header), index=index, dtype=str)
    frame.attrs[REPEATED_COLUMNS] = repeated_names(header)
    return frame


def read_excel_sheet(path: str | os.PathLike) -> pd.DataFrame:
    """An XLSX file's first sheet (other sheets are named in a warning), every cell as text
    (``cell_text``: its saved value, an id in number format ``00000`` as shown), its header
    the first row that is not empty, named as a text table's header is (the names as written,
    stripped, in ``attrs[SHEET_HEADER]``); indexed by each row's number in the sheet
    (``SOURCE_LINE``), rows of empty cells skipped as in a text table. A workbook is parsed
    once while it is unchanged (``parsed_sheet``)."""
    return parsed_sheet(str(path), file_version(path)).copy(deep=False)


@functools.lru_cache(maxsize=2)
def parsed_sheet(path: str, version: tuple[int, ...]) -> pd.DataFrame:
    """``read_excel_sheet`` of the workbook at ``path`` in this ``file_version``."""
    lines, rows = first_sheet_rows(path)
    header = [name.strip() for name in rows[0]] if rows else []
    index = pd.Index(lines[1:], dtype="int64", name=SOURCE_LINE)
    frame = pd.DataFrame(rows[1:], columns=distinct_column_names(header), index=index, dtype=str)
    frame.attrs[REPEATED_COLUMNS] = repeated_names(header)
    frame.attrs[SHEET_HEADER] = header
    return frame


SHEET_HEADER = "sheet_header"  # an XLSX frame's attrs: its header as written, stripped


# what openpyxl raises for a file it cannot read as a workbook (OSError: a ZIP of another
# Office file, a .docx renamed, which holds no workbook part)
UNREADABLE_WORKBOOK = (zipfile.BadZipFile, OSError, ValueError, KeyError, ImportError, ParseError)


def first_sheet_rows(path: str) -> tuple[list[int], list[list[str]]]:
    """The rows of a workbook's first sheet that are not empty, with their numbers in the sheet
    (``sheet_rows``); the other sheets are named in a warning."""
    with first_sheet(path, warn_of_others=True) as sheet:
        return sheet_rows(sheet)


def sheet_header(path: str | os.PathLike) -> list[str]:
    """The header of a workbook's first sheet, its first row that is not empty, stripped, as
    ``read_excel_sheet`` gives it in ``attrs[SHEET_HEADER]`` but without reading the rows below
    it (a quick check of a data set's columns), and up to its last cell with a value, where
    ``read_excel_sheet`` pads it with empty names to the sheet's widest row."""
    with first_sheet(str(path), warn_of_others=False) as sheet:
        sheet.reset_dimensions()
        for cells in sheet.rows:
            texts = [cell_text(cell).strip() for cell in cells[: written_width(cells)]]
            if any(texts):
                return texts
    return []


@contextmanager
def first_sheet(path: str, warn_of_others: bool) -> Iterator:
    """A workbook's first sheet, opened read-only for the body (its other sheets named in a
    warning where ``warn_of_others``); a file that openpyxl cannot read as a workbook, there or
    in the body, raises ``TableFormatError``."""
    with open(path, "rb") as file:  # a read-only workbook reads it until it is closed
        try:
            from openpyxl import load_workbook  # imported where a workbook is read, as pandas

            workbook = load_workbook(file, read_only=True, data_only=True, keep_links=False)
            first, *others = workbook.worksheets
            if others and warn_of_others:
                names = ", ".join(repr(sheet.title) for sheet in others)
                log.warning("%s: its first sheet %r is read; its other sheets %s are not",
                            path, first.title, names)  # fmt: skip
            yield first
        except UNREADABLE_WORKBOOK as error:
            raise TableFormatError(
                f"{path}: not an XLSX workbook that can be read ({error}); is it "
                "password-protected, or an .xls file renamed?"
            ) from error


def sheet_rows(sheet) -> tuple[list[int], list[list[str]]]:
    """A read-only sheet's rows that are not empty (a cell of spaces is empty) and their numbers
    in the sheet, each cell as ``cell_text``, each row as wide as the widest the sheet holds (up
    to its last cell with a value, as pandas reads a sheet)."""
    sheet.reset_dimensions()  # the dimensions a sheet declares may be wrong (pandas GH 39486)
    lines, rows, width = [], [], 0
    for line, cells in enumerate(sheet.rows, start=1):
        width = max(width, written_width(cells))
        texts = [cell_text(cell) for cell in cells]
        if any(text.strip() for text in texts):
            lines.append(line)
            rows.append(texts)
    return lines, [(texts + [""] * width)[:width] for texts in rows]


def written_width(cells: Sequence) -> int:
    """How far a row's cells reach: to its last cell with a value (an error cell's too)."""
    width = len(cells)
    while width and cells[width - 1].value in (None, ""):
        width -= 1
    return width


def cell_text(cell) -> str:
    """A cell's saved value as text, as pandas reads it with ``dtype=str`` (a whole number
    without ``.0``, a date as ``2021-03-04 00:00:00``, an error cell such as ``#N/A`` empty),
    but for a whole number whose number format is zeros only (``00000``), which is written as
    Excel shows it (``zero_padded``: 702 as ``00702``). Other number formats are not applied."""
    value = cell.value
    if value is None or cell.data_type == "e":
        return ""
    if cell.data_type != "n" or int(value) != value:
        return str(value)
    return zero_padded(int(value), number_format(cell))


def number_format(cell) -> str:
    """A cell's number format; ``General`` (its digits alone) where its style points past the
    workbook's list of styles, which openpyxl cannot look up, but pandas read the cell."""
    try:
        return cell.number_format
    except IndexError:
        return "General"


def zero_padded(number: int, format_code: str) -> str:
    """A whole number as Excel shows it in a number format of zeros only (``00000``): padded
    with zeros to the format's width (``-00702``), all its digits where it is longer; in any
    other format, its digits alone."""
    width = len(format_code) if ZEROS_ONLY.fullmatch(format_code) else 0
    return "-" * (number < 0) + str(abs(number)).zfill(width)


ZEROS_ONLY = re.compile(r"0+")  # Excel's number formats of zero-padded integers: 00000, 000000


def text_table_rows(
    path: str | os.PathLike, suffix: str
) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """A table's header and its rows with their lines, each as wide as the header (a short
    row filled with empty cells); rows of empty cells are skipped, and a row with filled
    cells beyond the header is refused with its line."""
    header, records = headed_table_records(path, suffix)

    def rows() -> Iterator[tuple[int, list[str]]]:
        for number, record in records:
            if problem := extra_cells_problem(number, record, len(header)):
                raise TableFormatError(f"{path}: {problem}")
            if any(field.strip() for field in record):
                yield number, (record + [""] * len(header))[: len(header)]

    return header, rows()


def text_table_header(path: str | os.PathLike, suffix: str) -> list[str]:
    """A table's header as written (``distinct_column_names`` gives ``read_text_table``'s
    column names), read without its rows."""
    header, _ = headed_table_records(path, suffix)
    return header


REPEATED_COLUMNS = "repeated_columns"  # a frame's attrs: the names its file's header repeats


def repeated_names(header: Sequence[str]) -> list[str]:
    """The names a header holds more than once (the later ones read as ``<name>.1`` …)."""
    counts = Counter(str(name).strip() for name in header)
    return sorted(name for name, count in counts.items() if name and count > 1)


def headed_table_records(path: str | os.PathLike, suffix: str):
    """``table_records`` of a table that has a header; an empty file is refused."""
    header, records = table_records(path, suffix)
    if not header:
        raise TableFormatError(f"{path}: the file is empty (no header, no rows)")
    return header, records


def distinct_column_names(header: list[str]) -> list[str]:
    """A header's names, an unnamed column called ``column<N>`` (as a library's is) and a
    repeated name ``<name>.1``, ``<name>.2`` … (as pandas numbers them)."""
    names, seen = [], set()
    for position, name in enumerate(header, start=1):
        name = name or f"column{position}"
        stem, repeat = name, 0
        while name in seen:
            repeat += 1
            name = f"{stem}.{repeat}"
        seen.add(name)
        names.append(name)
    return names


def read_parquet_columns(path: str | os.PathLike) -> pd.DataFrame:
    """A Parquet table (or a directory of parts, whose column types may differ), every cell
    as text as a library's is (``parquet_text_batches``); a named pandas index (e.g. written
    by ``to_parquet`` from a frame indexed by ``name``) is a column, as in the file's schema;
    a range index (pandas' row numbers, even named) is not."""
    header = parquet_columns(path)
    texts: list[list[str]] = [[] for _ in header]
    for batch in parquet_text_batches(path, header):
        for cells, batch_cells in zip(texts, batch, strict=True):
            cells.extend(batch_cells)
    frame = pd.DataFrame(dict(enumerate(texts)), dtype=str)
    frame.columns = distinct_column_names(header)
    frame.attrs[REPEATED_COLUMNS] = repeated_names(header)
    return frame


def read_json_records(path: str | os.PathLike) -> pd.DataFrame:
    """Read a JSON list of records, or an object holding one under ``data`` / ``docs``.

    This covers the Materials Project molecules export (records with ``task_id``, ``smiles``,
    ``charge``, ``ionization_energy``, ``electron_affinity``, many of them null).
    """
    with open(path) as handle:
        payload = json.load(handle)
    if isinstance(payload, dict):
        for key in ("data", "docs", "records"):
            if isinstance(payload.get(key), list):
                payload = payload[key]
                break
    if not isinstance(payload, list) or not all(isinstance(row, dict) for row in payload):
        raise TableFormatError(
            f"{path}: expected a JSON list of records (or an object with a 'data' list)"
        )
    return pd.DataFrame(payload, dtype=object)  # 702 stays 702 beside a null, not 702.0


@contextmanager
def atomic_path(final_path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``final_path``; move it into place only on success."""
    final_path = Path(final_path)
    final_path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        prefix=f".{final_path.name}.", suffix=".part", dir=final_path.parent
    )
    os.close(handle)
    temporary = Path(temporary)
    umask = os.umask(0)
    os.umask(umask)
    temporary.chmod(0o666 & ~umask)  # mkstemp creates 0600; give the file the usual mode
    try:
        yield temporary
        os.replace(temporary, final_path)
    finally:
        temporary.unlink(missing_ok=True)


def write_table(frame: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write Parquet, CSV or TSV (chosen by suffix) atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    with atomic_path(path) as temporary:
        if suffix == ".parquet":
            frame.to_parquet(temporary, index=False)
        elif suffix == ".csv":
            frame.to_csv(temporary, index=False)
        elif suffix == ".tsv":
            frame.to_csv(temporary, sep="\t", index=False)
        else:
            raise TableFormatError(f"{path}: cannot write format {suffix!r}")


def write_json(payload: object, path: str | os.PathLike) -> None:
    """Write JSON atomically, indented for people."""
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n")


@dataclass(frozen=True)
class SmilesLine:
    """One molecule line of a SMILES file: its 1-based line number, SMILES and id, a table's
    other cells (in the order of ``smiles_file_extra_columns``), and why the line cannot be
    read as a molecule (``reason: detail``; empty when it can)."""

    line: int
    smiles: str
    id: str
    extra: tuple[str, ...] = ()
    problem: str = ""


EXTRA_CELLS = "extra_cells"  # a table row with filled cells beyond its header's columns


# Files that are no SMILES file, SD file or table, and what to do with them.
COMPRESSED_HINT = "decompress it first: of compressed files, .smi, .csv, .tsv and .sdf are read"
TO_TEXT = "save it as CSV UTF-8 (.csv), tab-separated text (.tsv), XLSX or Parquet"
NOT_SMILES_FILES = {
    ".xls": TO_TEXT,
    ".json": TO_TEXT,
    ".mol2": "convert it to SMILES (e.g. `obabel in.mol2 -osmi -O out.smi`)",
    ".gz": COMPRESSED_HINT,
    ".bz2": COMPRESSED_HINT,
    ".xz": COMPRESSED_HINT,
    ".zip": "a ZIP archive is read when it holds one .smi, .csv, .tsv, .cxsmiles or .sdf file "
    "(macOS's __MACOSX/ aside); unzip it and name one of its files",
}

SMILES_COLUMN = "smiles"
SMILES_ID_COLUMNS = ("id", "name")  # the first one present gives the ids


@dataclass(frozen=True)
class SmilesColumns:
    """Which columns of a ``.csv`` or ``.tsv`` library hold the SMILES and the ids (in any
    case; where the header holds a name in two cases, the exact case decides).

    ``id=None`` takes the ``id`` column, else the ``name`` column, else none (ids ``line<N>``;
    ``row<N>`` in a Parquet table).
    """

    smiles: str = SMILES_COLUMN
    id: str | None = None

    def __post_init__(self) -> None:
        for kind, name in (("SMILES", self.smiles), ("id", self.id)):
            if name is not None and not name.strip():
                raise ValueError(f"the {kind} column's name is empty")

    def smiles_is_named(self) -> bool:
        """Whether the SMILES column is named otherwise than by default."""
        return self.smiles.strip().lower() != SMILES_COLUMN

    def named(self) -> list[str]:
        """The columns named otherwise than by default, e.g. ``["id column 'CID'"]``."""
        named = []
        if self.smiles_is_named():
            named.append(f"SMILES column {self.smiles!r}")
        if self.id is not None:
            named.append(f"id column {self.id!r}")
        return named


def iter_smiles_file(
    path: str | os.PathLike, columns: SmilesColumns | None = None
) -> Iterator[SmilesLine]:
    """Yield the molecules of a SMILES file: ``SMILES [id]`` per line, an SD file
    (``iter_smiles_sdf``), or a ``.csv``, ``.tsv``, ``.xlsx`` (its first sheet) or ``.parquet``
    table (or a directory of Parquet parts); a SMILES file, an SD file or a text table may be
    compressed (``COMPRESSED``: ``lib.smi.gz``).

    Blank lines and lines starting with ``#`` are skipped. A line without an id gets
    ``line<N>`` as its id. A first line ``smiles [id]`` is a header and skipped. A table needs
    a header with a ``smiles`` column (or ``columns.smiles``); its ``id`` column, else its
    ``name`` column (or ``columns.id``), gives the ids (in any case; see ``SmilesColumns``). A ``.csv`` whose
    header holds more semicolons than commas is read as semicolon-separated. Files are UTF-8
    (a byte-order mark is allowed).
    """
    columns = columns or SmilesColumns()
    suffix = table_kind(path)
    if suffix in NOT_SMILES_FILES:
        raise TableFormatError(
            f"{path}: a {suffix} file cannot be read as molecules; they are read from a SMILES "
            f"file (SMILES [id] per line), an SD file or a .csv, .tsv, .xlsx or .parquet table: "
            f"{NOT_SMILES_FILES[suffix]}"
        )
    if suffix in (".csv", ".tsv"):
        yield from iter_smiles_table(path, columns, suffix)
        return
    if suffix == ".parquet":
        yield from iter_smiles_parquet(path, columns)
        return
    if suffix == ".xlsx":
        yield from iter_smiles_excel(path, columns)
        return
    if suffix == ".sdf":
        yield from iter_smiles_sdf(path, columns)
        return
    if columns.named():
        raise TableFormatError(
            f"{path}: a file of SMILES [id] lines has no columns to name "
            f"({', '.join(columns.named())}); leave them out, or give a table (.csv, .tsv, .xlsx, "
            ".parquet)"
        )
    header_checked = comma_checked = False
    for number, raw in enumerate(decoded_lines(path), start=1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        fields = text.split(maxsplit=1)
        if not header_checked:
            header_checked = True
            if is_smiles_lines_header(path, number, text):
                continue
        if not comma_checked and "," in fields[0]:  # no SMILES holds a comma
            raise TableFormatError(
                f"{path}: line {number} {text!r} is comma-separated; "
                "name the file .csv (with a smiles column) to read it as a table"
            )
        comma_checked = True
        molecule_id = fields[1].strip() if len(fields) > 1 else f"line{number}"
        yield SmilesLine(line=number, smiles=fields[0], id=molecule_id)


def is_smiles_lines_header(path, number: int, text: str) -> bool:
    """Whether the first line of a SMILES file is its header ``smiles [id]``. A header with
    ``smiles`` after another column (whose name is no SMILES) is refused: every line after it
    would be read with its first column as the SMILES."""
    from redoxscreen.chemistry import MoleculeRejected, parse_smiles

    words = text.split()
    if words[0].lower() == SMILES_COLUMN:
        return True
    if SMILES_COLUMN in (word.lower() for word in words[1:]):
        try:
            parse_smiles(words[0])  # a molecule whose id holds the word "smiles" is fine
        except MoleculeRejected:
            raise TableFormatError(
                f"{path}: line {number} {text!r} reads as a header whose smiles column is not "
                "the first; a SMILES file holds SMILES [id] per line: put the SMILES first, or "
                "name the file .tsv (tab-separated) or .csv to read it as a table"
            ) from None
    return False


def iter_smiles_table(
    path: str | os.PathLike, columns: SmilesColumns, suffix: str
) -> Iterator[SmilesLine]:
    """The molecules of a CSV or TSV table with a header: its SMILES and optional id column,
    and its other cells. Blank and ``#`` lines before the header are skipped."""
    header, records = table_records(path, suffix)
    layout = TableLayout.of(path, header, columns)
    for number, record in records:
        if any(field.strip() for field in record):
            problem = extra_cells_problem(number, record, len(header))
            yield layout.molecule(number, record, "line", problem)


def iter_smiles_parquet(path: str | os.PathLike, columns: SmilesColumns) -> Iterator[SmilesLine]:
    """The molecules of a Parquet table, read in batches: as a CSV table's (``SmilesLine.line``
    is the 1-based row; an id defaults to ``row<N>``), every cell as text; a row whose stored
    cells are empty is skipped, whatever its partition's values."""
    header = parquet_columns(path)
    layout = TableLayout.of(path, header, columns)
    stored = len(header) - len(partition_values(path, parquet_parts(path)[0]))
    number = 0
    for batch in parquet_text_batches(path, header):
        for record in zip(*batch, strict=True):
            number += 1
            if any(record[:stored]):
                yield layout.molecule(number, record, "row")


def parquet_text_batches(path: str | os.PathLike, header: list[str]) -> Iterator[list[list[str]]]:
    """A Parquet table's (or its parts') batches of ``PARQUET_BATCH_ROWS`` rows, in order, each
    as its ``header`` columns' cells as text (``column_texts``; a partition column's cells
    its part's value)."""
    import pyarrow.parquet as pq

    for part in parquet_parts(path):
        partition = partition_values(path, part)
        stored = header[: len(header) - len(partition)]
        batches = pq.ParquetFile(part).iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=stored)
        for batch in batches:
            values = [[value] * batch.num_rows for value in partition.values()]
            yield [column_texts(column) for column in batch.columns] + values


PARQUET_BATCH_ROWS = 8192


def iter_smiles_excel(path: str | os.PathLike, columns: SmilesColumns) -> Iterator[SmilesLine]:
    """The molecules of an XLSX file's first sheet, read whole, as a CSV table's
    (``SmilesLine.line`` is the row in the sheet; rows of empty cells are skipped)."""
    frame = read_excel_sheet(path)
    layout = TableLayout.of(path, frame.attrs[SHEET_HEADER], columns)
    for line, values in zip(frame.index, frame.itertuples(index=False, name=None), strict=True):
        yield layout.molecule(int(line), [str(value) for value in values], "line")


def first_molecule(
    path: str | os.PathLike, columns: SmilesColumns | None = None
) -> SmilesLine | None:
    """The first molecule of a file as ``iter_smiles_file`` reads it, None where it holds none:
    a quick check that it can be read with these columns. An SD file's is read without the
    items it would carry, which take a scan of the whole file."""
    columns = columns or SmilesColumns()
    if table_kind(path) == ".sdf":
        return next(iter_smiles_sdf(path, columns, carried=[]), None)
    return next(iter_smiles_file(path, columns), None)


def required_first_molecule(
    path: str | os.PathLike, columns: SmilesColumns | None = None
) -> SmilesLine:
    """``first_molecule``, refused (``TableFormatError``) where the file holds none."""
    first = first_molecule(path, columns)
    if first is None:
        raise TableFormatError(f"{path} holds no molecule (no line after its header and "
                               "comments, or no SD record): nothing to read")  # fmt: skip
    return first


def iter_smiles_sdf(
    path: str | os.PathLike, columns: SmilesColumns, carried: list[str] | None = None
) -> Iterator[SmilesLine]:
    """The molecules of an SD file, each record's as a SMILES that RDKit writes from its
    molecule block (hydrogens removed, stereochemistry kept); ``SmilesLine.line`` is where
    the record starts. The id is the record's title line, or its data item ``columns.id`` (in
    any case), which the first record must hold; where that is empty, ``line<N>``. The file's
    other data items, those of every record, are carried as ``SmilesLine.extra``
    (``sd_extra_items``, or those ``carried``; empty where a record lacks one). A record that
    gives no molecule has the problem ``invalid_record``."""
    if columns.smiles_is_named():
        raise TableFormatError(
            f"{path}: an SD file has no SMILES column to name ({columns.smiles!r}): each "
            "record's molecule block is read"
        )
    carried = sd_extra_items(path, columns.id) if carried is None else carried
    for number, (line, record) in enumerate(sd_records(path), start=1):
        items = sd_data_items(record)
        id_name = sd_id_item(path, items, columns.id)
        if number == 1 and columns.id is not None and id_name is None:
            raise TableFormatError(
                f"{path}: the first record (line {line}) has no data item {columns.id!r} "
                f"for the ids (its items: {list(items)})"
            )
        title = record.split("\n", 1)[0].strip()
        molecule_id = title if columns.id is None else items.get(id_name, "")
        extra = tuple("" if name == id_name else items.get(name, "") for name in carried)
        yield sd_molecule(line, record, molecule_id or f"line{line}", extra)


# The columns of an SD file read as a data set's table (``read_sd_table``) beside its data
# items; none can be an item's name, which holds no ">" (``SD_ITEM_HEADER``).
SD_SMILES = "<smiles>"  # the SMILES RDKit writes from its molecule block; empty where none
SD_TITLE = "<title>"  # its title line, else line<N>
SD_PROBLEM = "<problem>"  # why the record gives no molecule (an ``invalid_record``)
SD_COLUMNS = (SD_SMILES, SD_TITLE, SD_PROBLEM)
SD_RECORDS = "sd_records"  # a frame's attrs: it holds an SD file's records (``read_sd_table``)


def read_sd_table(path: str | os.PathLike) -> pd.DataFrame:
    """An SD file as a labelled data set's table: a row per record as ``iter_smiles_sdf``
    reads it, indexed by the line where it starts (``SOURCE_LINE``), with its SMILES, its id
    (its title, else ``line<N>``) and its problem (``SD_COLUMNS``), then every data item that
    a record holds, as spelt, in the order they first appear (``sd_scan``), as text: empty
    where a record lacks one. A progress bar counts the records on a terminal."""
    from tqdm import tqdm

    scan = sd_scan(path)
    names = list(scan.item_names)
    molecules = tqdm(iter_smiles_sdf(path, SmilesColumns(), carried=names), desc="read",
                     total=scan.record_bound - 1,  # its $$$$ lines, as a file ends with one
                     unit=" records", disable=None)  # fmt: skip
    lines, rows = [], []
    for molecule in molecules:
        lines.append(molecule.line)
        problem = molecule.problem.removeprefix(f"{INVALID_RECORD}: ")  # its detail alone
        rows.append([molecule.smiles, molecule.id, problem, *molecule.extra])
    index = pd.Index(lines, dtype="int64", name=SOURCE_LINE)
    frame = pd.DataFrame(rows, columns=[*SD_COLUMNS, *names], index=index, dtype=str)
    frame.attrs[SD_RECORDS] = True
    return frame


def sd_extra_items(path, id_item: str | None) -> list[str]:
    """The data items an SD file's records carry: every item that a record holds, in the
    order they first appear (``sd_scan``), but the id item in any case (one record may spell
    it ``ID``, another ``id``); where one record holds two spellings, only the id's exact one.
    A record's cell of a carried item that is its id (``sd_id_item``) is empty."""
    scan = sd_scan(path)
    if id_item is None:
        return list(scan.item_names)
    wanted = id_item.strip()
    if wanted.casefold() in scan.spelt_twice:
        return [name for name in scan.item_names if name != wanted]
    return [name for name in scan.item_names if name.casefold() != wanted.casefold()]


class SdScan(NamedTuple):
    """What a scan of an SD file's bytes finds (``sd_scan``)."""

    record_bound: int  # an upper bound on its records: its $$$$ lines, and one more
    item_names: tuple[str, ...]  # its data items' names, in the order they first appear
    # names (case-folded) that one record holds in two spellings: "ID" and "id"
    spelt_twice: frozenset[str] = frozenset()
    repeated: frozenset[str] = frozenset()  # names that one record holds twice, as spelt
    # names that some record holds in no other spelling: their values would be read only as
    # spelt ("ie" alone in a record, where "IE" is read, loses its value)
    alone: frozenset[str] = frozenset()


def sd_scan(path: str | os.PathLike) -> SdScan:
    """An SD file's ``SdScan``, made once while the file is unchanged (``scanned_sd_file``)."""
    return scanned_sd_file(str(path), file_version(path))


def file_version(path: str | os.PathLike) -> tuple[int, ...]:
    """What changes when a file is rewritten or replaced, even by one of the same size and
    modification time (``cp -p``): its inode, size and modification and change times."""
    stat = os.stat(path)
    return stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns


SD_LANDMARK = re.compile(  # the lines that a scan of an SD file looks for
    rb"^(?:[^\S\n]*(?P<block_end>M  END)[^\S\n]*$|[^\S\n]*(?P<record_end>\$\$\$\$)[^\S\n]*$"
    rb"|>[^\n]*?<(?P<item>[^>\n]*)>)",  # as SD_ITEM_HEADER
    re.MULTILINE,
)


@functools.lru_cache(maxsize=4)
def scanned_sd_file(path: str, version: tuple[int, ...]) -> SdScan:
    """``sd_scan`` of the file at ``path`` in this ``file_version``: its whole lines are
    searched block by block for ``$$$$`` (each counted, a bound however a line holds it) and
    for data item headers after ``M  END``, as ``sd_records`` and ``sd_data_items`` read
    them."""
    tally = SdItemTally()
    records, after_block, tail = 0, False, b""
    for block in chain(byte_blocks(path), [b"\n"]):
        text = tail + block
        whole_lines = text.rfind(b"\n") + 1
        records += text.count(b"$$$$", 0, whole_lines)
        for landmark in SD_LANDMARK.finditer(text, 0, whole_lines):
            if landmark["block_end"]:
                after_block = True
            elif landmark["record_end"]:
                after_block = False
                tally.end_record()
            elif after_block:
                tally.add(landmark["item"].decode("utf-8", "replace").strip())
        tail = text[whole_lines:]
    tally.end_record()  # a last record without $$$$
    return SdScan(
        records + 1,
        tuple(tally.names),
        frozenset(tally.spelt_twice),
        frozenset(tally.repeated),
        frozenset(tally.alone),
    )


class SdItemTally:
    """The data items of an SD file's records, as a scan meets their names record by record
    (``scanned_sd_file``; the fields of ``SdScan``)."""

    def __init__(self) -> None:
        self.names: dict[str, None] = {}  # in the order they first appear
        self.spelt_twice: set[str] = set()
        self.repeated: set[str] = set()
        self.alone: set[str] = set()
        self.record: dict[str, list[str]] = {}  # this record's spellings by case-folded name

    def add(self, name: str) -> None:
        """One item header of the record that is being scanned."""
        self.names.setdefault(name, None)
        spellings = self.record.setdefault(name.casefold(), [])
        if name in spellings:
            self.repeated.add(name)
        else:
            spellings.append(name)

    def end_record(self) -> None:
        """Tally the record whose ``$$$$`` (or the file's end) was met: which of its names
        stand alone, and which it spells twice."""
        for folded, spellings in self.record.items():
            if len(spellings) == 1:
                self.alone.add(spellings[0])
            else:
                self.spelt_twice.add(folded)
        self.record = {}


INVALID_RECORD = "invalid_record"  # an SD record that gives no molecule


def sd_records(path: str | os.PathLike) -> Iterator[tuple[int, str]]:
    """An SD file's records (their text without the ``$$$$`` line, which RDKit would read as
    part of a data item that ends the record; the first line, the title, may be blank) and
    the line where each starts; a last record without ``$$$$`` is read too; blank text (at
    the end, between two ``$$$$``) is no record."""
    start, lines = 1, []
    for number, line in enumerate(decoded_lines(path), start=1):
        if line.strip() != "$$$$":
            lines.append(line)
            continue
        if any(text.strip() for text in lines):
            yield start, "".join(lines)
        start, lines = number + 1, []
    if any(text.strip() for text in lines):
        yield start, "".join(lines)


def sd_molecule(
    line: int, record: str, molecule_id: str, extra: tuple[str, ...] = ()
) -> SmilesLine:
    """One SD record as a ``SmilesLine`` (see ``iter_smiles_sdf``)."""
    from rdkit import Chem, rdBase

    supplier = Chem.SDMolSupplier()
    supplier.SetData(record, sanitize=False, removeHs=False)
    with rdBase.BlockLogs():  # its stack trace on the console; the reason is reported instead
        mol = supplier[0]
    if mol is None:
        why = "RDKit cannot read the molecule block"
    elif mol.GetNumAtoms() == 0:
        why = "its molecule block holds no atom"
    else:
        try:
            with rdBase.BlockLogs():  # the reason is reported
                Chem.SanitizeMol(mol)
                return SmilesLine(line, Chem.MolToSmiles(Chem.RemoveHs(mol)), molecule_id, extra)
        except ValueError as error:  # RDKit's MolSanitizeException
            why = f"RDKit cannot sanitize its molecule: {error}"
    problem = f"{INVALID_RECORD}: the record on line {line}: {why}"
    return SmilesLine(line, "", molecule_id, extra, problem)


def sd_id_item(path, items: Mapping[str, str], id_item: str | None) -> str | None:
    """The name of a record's data item ``id_item`` as the record spells it (in any case, as a
    table's column; ``items``: ``sd_data_items``); None where it has none, or ids are titles."""
    if id_item is None:
        return None
    names = list(items)
    position = header_position(path, names, id_item)
    return None if position is None else names[position]


SD_ITEM_HEADER = re.compile(r"^>.*?<([^>]*)>")  # "> <IDNUMBER>", ">  <ID>  (MD-12)"


def sd_data_items(record: str) -> dict[str, str]:
    """An SD record's data items, read from its text after ``M  END`` (so that a record RDKit
    cannot read still has them): ``{name: value}``, a value's lines joined, stripped."""
    items: dict[str, str] = {}
    name, value, after_block = None, [], False
    for text in record.splitlines():
        if not after_block:
            after_block = text.strip() == "M  END"
        elif header := SD_ITEM_HEADER.match(text):
            name, value = header.group(1).strip(), []
            items.setdefault(name, "")
        elif name is not None and text.strip():
            value.append(text.strip())
            items[name] = "\n".join(value)
        else:
            name = None
    return items


def column_texts(column) -> list[str]:
    """A Parquet column's cells as text, cast by Arrow (a number as its shortest text, a
    UTF-8 binary as its text, a date in ISO form), stripped; a null or NaN is empty. A whole
    number in a float column (an integer column that held a null, as pandas writes it) is
    read as an integer: ``12345678901``, not ``1.2345678901e+10``. A column Arrow cannot cast
    to text (lists, structs, binary that is no UTF-8) is Python's text of each value."""
    import pyarrow as pa

    if pa.types.is_floating(column.type):
        column = float_texts(column)
    try:
        values = column.cast(pa.string()).to_pylist()
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        values = column.to_pylist()
    return ["" if value is None else str(value).strip() for value in values]


def float_texts(column):
    """A float column's cells as Arrow text, a whole number (up to 2**53) as an integer's, a
    NaN as a null."""
    import pyarrow as pa
    import pyarrow.compute as pc

    wide = column.cast(pa.float64())
    exact = pc.and_(pc.equal(pc.floor(wide), wide), pc.less_equal(pc.abs(wide), 2.0**53))
    whole = pc.fill_null(exact, False)
    integers = pc.if_else(whole, wide, pa.scalar(None, pa.float64())).cast(pa.int64())
    texts = pc.if_else(whole, integers.cast(pa.string()), column.cast(pa.string()))
    return pc.if_else(pc.is_nan(wide), pa.scalar(None, pa.string()), texts)


def parquet_columns(path: str | os.PathLike) -> list[str]:
    """A Parquet table's column names, without pandas' unnamed index (``__index_level_0__``);
    the parts of a directory (``parquet_parts``) must all have the same ones, and its Hive
    partitions the same keys, which follow as columns."""
    first, *others = parquet_parts(path)
    header = parquet_part_columns(first) + list(partition_values(path, first))
    for part in others:
        columns = parquet_part_columns(part) + list(partition_values(path, part))
        if columns != header:
            raise TableFormatError(
                f"{part}: its columns {columns} are not those of "
                f"{first.relative_to(path)} ({header}); the parts of {path} are read as one table"
            )
    return header


def parquet_part_columns(path: Path) -> list[str]:
    """One Parquet file's column names, without pandas' unnamed index."""
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(path).names
    except (OSError, ValueError) as error:  # pyarrow's ArrowInvalid is a ValueError
        raise TableFormatError(f"{path}: not a Parquet file that can be read ({error})") from error
    return [name for name in names if not name.startswith("__index_level_")]


def table_kind(path: str | os.PathLike) -> str:
    """How a table is read: its suffix in lower case; for a compressed text file (``COMPRESSED``:
    ``lib.smi.gz``, ``labels.csv.xz``) the suffix under the compression's, for a ZIP archive
    its one file's (``catalogue.zip`` holding ``catalogue.sdf``); ``.parquet`` for a
    directory (of Parquet parts, as Spark, Dask or ``predict_library`` write a large table);
    ``.tsv`` for Enamine's ``.cxsmiles`` (a tab-separated table, CXSMILES in its ``smiles``
    column), ``.xlsx`` for an ``.xlsm`` workbook (``SAME_FORMAT``)."""
    path = Path(path)
    if path.is_dir():
        return ".parquet"
    suffix = path.suffix.lower()
    if suffix in COMPRESSED:
        inner = held_suffix(path)
        suffix = inner if inner in COMPRESSED_TEXT else suffix  # ".gz": refused, saying why
    return SAME_FORMAT.get(suffix, suffix)


# suffixes read as another's: Enamine's CXSMILES tables, macro-enabled workbooks (not run)
SAME_FORMAT = {".cxsmiles": ".tsv", ".xlsm": ".xlsx"}


def held_suffix(path: Path) -> str | None:
    """The suffix of the file a compressed file holds, in lower case: the name's under the
    compression's (``lib.csv.gz``: ``.csv``); a ZIP archive's one member's, or where that
    has none (``lib``), the archive's under ``.zip`` (``lib.csv.zip``: ``.csv``); None for an
    archive that holds no one file."""
    if path.suffix.lower() != ".zip":
        return Path(path.stem).suffix.lower()
    member = zip_member(path)
    return None if member is None else member_suffix(path, member)


def member_suffix(archive: Path, member: str) -> str:
    """A ZIP archive's member's suffix; where it has none, the archive's under ``.zip`` where
    that names a format (``lib.csv.zip``, but not ``lib-v1.2.zip``: SMILES lines)."""
    inner = Path(archive.stem).suffix.lower()
    return Path(member).suffix.lower() or (inner if inner in FORMAT_SUFFIXES else "")


def zip_member(path: str | os.PathLike) -> str | None:
    """The name of the one file a ZIP archive holds (its directories, macOS's ``__MACOSX/``
    and names starting with ``.`` aside); None where it holds none or several."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [
                info.filename
                for info in archive.infolist()
                if not info.is_dir()
                and not info.filename.startswith("__MACOSX/")
                and not Path(info.filename).name.startswith(".")
            ]
    except zipfile.BadZipFile as error:
        raise TableFormatError(f"{path}: not a ZIP archive that can be read ({error})") from error
    return names[0] if len(names) == 1 else None


def open_zip_member(path: str | os.PathLike, mode: str = "rb"):
    """The one file of a ZIP archive (``zip_member``), opened for reading bytes."""
    member = zip_member(path)
    if member is None or member_suffix(Path(path), member) not in COMPRESSED_TEXT:  # table_kind
        raise TableFormatError(f"{path}: {NOT_SMILES_FILES['.zip']}")
    with zipfile.ZipFile(path) as archive:  # the member keeps the file open until it closes
        try:
            return archive.open(member, "r")
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError) as error:  # damaged;
            # encrypted; compressed by Deflate64 or zstd
            raise TableFormatError(f"{path}: its file cannot be read ({error})") from error


# read as the text they hold (a ZIP archive: its one file, ``zip_member``)
COMPRESSED = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open, ".zip": open_zip_member}
COMPRESSED_TEXT = ("", ".smi", ".txt", ".csv", ".tsv", ".cxsmiles", ".sdf")  # what one holds
FORMAT_SUFFIXES = {*COMPRESSED_TEXT, *READERS, *NOT_SMILES_FILES, *SAME_FORMAT} - {""}


def open_bytes(path: str | os.PathLike):
    """A file opened for reading bytes, decompressed where its suffix is in ``COMPRESSED``."""
    suffix = Path(path).suffix.lower()
    return COMPRESSED[suffix](path, "rb") if suffix in COMPRESSED else open(path, "rb")


def parquet_parts(path: str | os.PathLike) -> list[Path]:
    """The Parquet files of a table: the file itself, or a directory's ``*.parquet`` files in
    name order, numbers by their value (Dask's ``part.2`` before ``part.10``; its other
    subdirectories are not read); where it holds none, the files of its Hive partitions
    (``vendor=enamine/year=2026/``, ``nested_parts``). Names starting with ``.`` or ``_`` are
    skipped, as Spark's ``_SUCCESS``, ``_temporary/`` and unfinished files."""
    path = Path(path)
    if not path.is_dir():
        return [path]
    parts = sorted(visible_parquet_files(path, path.glob("*.parquet")), key=natural_order)
    partitioned, elsewhere = nested_parts(path)
    if parts and partitioned:
        raise TableFormatError(
            f"{path}: holds both parts ({parts[0].name}) and Hive partitions "
            f"({partitioned[0].parent.relative_to(path)}/); a directory is read as one table, "
            "split either into parts or into partitions"
        )
    if not parts and elsewhere:
        raise TableFormatError(
            f"{path}: {elsewhere[0]} is in a subdirectory that is no Hive "
            "partition (key=value); a directory is read as one table, split into the parts "
            "in it or into partitions: name the file or its directory instead"
        )
    if not parts and not partitioned:
        raise TableFormatError(
            f"{path}: a directory without .parquet files in it; a directory is read as one "
            "Parquet table split into parts"
        )
    return parts or partitioned


def visible_parquet_files(table: Path, paths: Iterable[Path]) -> Iterator[Path]:
    """The files among ``paths`` below ``table`` with no name on the way starting with ``.``
    or ``_``."""
    for part in paths:
        names = part.relative_to(table).parts
        if part.is_file() and not any(name.startswith((".", "_")) for name in names):
            yield part


def natural_order(path: Path) -> list:
    """A sort key of a path's parts, numbers in them by their value."""
    return [
        [int(piece) if piece.isdigit() else piece for piece in re.split(r"(\d+)", name)]
        for name in path.parts
    ]


HIVE_PARTITION = re.compile(r"^([^=]+)=(.*)$")  # a directory "key=value"


def nested_parts(path: Path) -> tuple[list[Path], list[Path]]:
    """The Parquet files in a directory's subdirectories: those of its Hive partitions (every
    subdirectory on the way named ``key=value``), in the order of their directories' names and
    their own (``natural_order``), and the others."""
    partitioned, elsewhere = [], []
    for part in visible_parquet_files(path, path.glob("*/**/*.parquet")):
        names = part.relative_to(path).parts[:-1]
        is_partition = all(HIVE_PARTITION.match(name) for name in names)
        (partitioned if is_partition else elsewhere).append(part.relative_to(path))
    return [path / part for part in sorted(partitioned, key=natural_order)], sorted(elsewhere)


HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"  # Spark's and Arrow's name for a null partition value


def partition_values(table: str | os.PathLike, part: Path) -> dict[str, str]:
    """A part's partition columns and their values, from the directories between the
    ``table`` directory and it (Spark's escapes undone, a null empty); none for a file."""
    from urllib.parse import unquote

    if not Path(table).is_dir():
        return {}
    pairs = (HIVE_PARTITION.match(name).groups() for name in part.relative_to(table).parts[:-1])
    return {unquote(key): "" if value == HIVE_NULL else unquote(value) for key, value in pairs}


def extra_cells_problem(number: int, record: list[str], width: int) -> str:
    """Why the record on line ``number``, with filled cells beyond the header's ``width``
    columns, is not read (a field holding the separator unquoted shifts every cell after
    it), or ``""``."""
    beyond = [field for field in record[width:] if field.strip()]
    if not beyond:
        return ""
    return (
        f"{EXTRA_CELLS}: line {number} has {len(record)} cells where the header has {width} "
        f"(beyond it: {beyond[:3]}); is a field holding the separator unquoted?"
    )


def smiles_file_extra_columns(
    path: str | os.PathLike, columns: SmilesColumns | None = None
) -> list[str]:
    """The names of a table's columns other than its SMILES and id columns (an unnamed one is
    ``column<N>``), as ``SmilesLine.extra`` holds them (an SD file's: its data
    items, every record's, but the id's); none for a file of SMILES lines."""
    suffix = table_kind(path)
    if suffix == ".sdf":
        return sd_extra_items(path, (columns or SmilesColumns()).id)
    if suffix == ".parquet":
        header = parquet_columns(path)
    elif suffix == ".xlsx":
        header = read_excel_sheet(path).attrs[SHEET_HEADER]
    elif suffix in (".csv", ".tsv"):
        header, _ = table_records(path, suffix)
    else:
        return []
    layout = TableLayout.of(path, header, columns or SmilesColumns())
    return [header[position] or f"column{position + 1}" for position in layout.extra_at]


def carried_column_names(names: Sequence[str], taken: Iterable[str]) -> list[str]:
    """Names for an input table's columns carried into an output: their own, prefixed
    ``input_`` where the output (or an earlier one of them) already has that name in any
    case (``ID`` beside the output's ``id`` would read as one column in a spreadsheet)."""
    taken = {name.lower() for name in taken}
    carried = []
    for name in names:
        while name.lower() in taken:
            name = f"input_{name}"
        taken.add(name.lower())
        carried.append(name)
    return carried


@dataclass(frozen=True)
class TableLayout:
    """Where a table's SMILES, id (None: no id column) and other columns are."""

    smiles_at: int
    id_at: int | None
    extra_at: tuple[int, ...]

    @classmethod
    def of(cls, path, header: list[str], columns: SmilesColumns) -> TableLayout:
        smiles_at = required_position(path, header, columns.smiles, "smiles")
        if columns.id is None:
            lowered = [name.lower() for name in header]
            id_column = next((name for name in SMILES_ID_COLUMNS if name in lowered), None)
            id_at = header_position(path, header, id_column)
        else:
            id_at = required_position(path, header, columns.id, "id")
        extra_at = tuple(at for at in range(len(header)) if at not in (smiles_at, id_at))
        return cls(smiles_at, id_at, extra_at)

    def molecule(
        self, line: int, record: Sequence[str], id_stem: str, problem: str = ""
    ) -> SmilesLine:
        """The molecule of a record on ``line``, its cells stripped; where its id cell is
        empty, its id is ``<id_stem><line>`` (``line4``, ``row4``)."""
        given_id = cell(record, self.id_at)
        extra = tuple(cell(record, position) for position in self.extra_at)
        return SmilesLine(
            line, cell(record, self.smiles_at), given_id or f"{id_stem}{line}", extra, problem
        )


def table_records(
    path: str | os.PathLike, suffix: str
) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """A CSV or TSV table's header (names stripped; unnamed columns at its end, as Excel
    writes them, left out) and its records with their lines."""
    skipped, lines = lines_from_the_header(path)
    header_line = next(lines, "")
    reader = csv.reader(
        chain([header_line], lines), delimiter=table_delimiter(suffix, header_line), strict=True
    )
    records = numbered_records(path, reader, skipped)
    _, header = next(records, (0, []))
    names = [name.strip() for name in header]
    while names and not names[-1]:
        names.pop()
    return names, records


def cell(record: Sequence[str], position: int | None) -> str:
    """A record's cell, stripped; empty where the record is short or there is no column."""
    return record[position].strip() if position is not None and position < len(record) else ""


def lines_from_the_header(path: str | os.PathLike) -> tuple[int, Iterator[str]]:
    """A table's lines from its first line that is neither blank nor a ``#`` comment, and
    how many lines came before it."""
    lines = decoded_lines(path)
    for skipped, line in enumerate(lines):
        if line.strip() and not line.lstrip().startswith("#"):
            return skipped, chain([line], lines)
    return 0, iter(())


def commented_header_hint(path: str | os.PathLike, column: str) -> str:
    """Where ``column`` is missing from a table's header because the real header was written
    as a ``#`` line (skipped as a comment), a hint naming that line; otherwise empty."""
    if table_kind(path) in (".parquet", ".xlsx"):  # no text lines
        return ""
    comments = []
    for number, line in enumerate(decoded_lines(path), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            break
        comments.append((number, line.strip()))
    for number, line in reversed(comments):
        cells = line.lstrip("#").replace(";", ",").replace("\t", ",").split(",")
        if column.strip().lower() in (cell.strip().strip('"').lower() for cell in cells):
            return (
                f"; line {number} ({line[:60]!r}) names it but starts with '#', so it was "
                "skipped as a comment: remove the '#' if it is the header"
            )
    return ""


def table_delimiter(suffix: str, header_line: str) -> str:
    """A tab in a ``.tsv``; in a ``.csv`` a comma, or a semicolon where the header holds more
    semicolons than commas (Excel where the decimal mark is a comma; ChEMBL's export)."""
    if suffix == ".tsv":
        return "\t"
    return ";" if header_line.count(";") > header_line.count(",") else ","


def numbered_records(
    path: str | os.PathLike, reader, skipped: int
) -> Iterator[tuple[int, list[str]]]:
    """Each record of a CSV reader with the line where it starts (a quoted field may span
    lines); a malformed record, e.g. a quote that is never closed, is refused with its line."""
    while True:
        number = skipped + reader.line_num + 1
        try:
            yield number, next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise TableFormatError(
                f"{path}: the record that starts on line {number} is malformed ({error}); "
                "is a quote left open?"
            ) from error


def required_position(path, header: list[str], column: str, kind: str) -> int:
    """Where ``column`` (the ``kind`` column: smiles or id) is in the header; a column that is
    missing or named twice is refused, saying how to name another."""
    position = header_position(path, header, column)
    if position is None and not header:
        raise TableFormatError(f"{path}: the file is empty (no header, no molecule)")
    if position is None:
        raise TableFormatError(
            f"{path}: no {column!r} column in the header (columns: {header})"
            + (
                commented_header_hint(path, column)
                or f"; name the {kind} column with "
                f"--{kind}-column (in a screen: entry, {kind}_column:)"
            )  # fmt: skip
        )
    return position


def header_position(path, header: list[str], column: str | None) -> int | None:
    """Where ``column`` is in the header, whatever the case (None if absent); where the header
    holds it in several cases, the one in ``column``'s exact case; a column named twice is
    refused."""
    lowered = [name.lower() for name in header]
    wanted = column.strip().lower() if column is not None else None
    if wanted not in lowered:
        return None
    if lowered.count(wanted) == 1:
        return lowered.index(wanted)
    if header.count(column.strip()) == 1:
        return header.index(column.strip())
    raise TableFormatError(
        f"{path}: the column {column!r} is named twice (columns: {header}); "
        "name one that the header holds once, in its exact case"
    )


def decoded_lines(path: str | os.PathLike) -> Iterator[str]:
    """The lines of a UTF-8 text file (decompressed, ``open_bytes``), line endings kept; a
    line in another encoding, or compressed data that is cut short or corrupt, is refused."""
    with open_bytes(path) as handle:
        for number, raw in enumerate(decompressed(path, handle), start=1):
            try:
                yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as error:
                raise TableFormatError(
                    f"{path}: line {number} is not UTF-8 text ({error.reason}); save it as UTF-8"
                ) from error


def decompressed(path, chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The chunks (lines, blocks) read from a file; where it is compressed, data that is cut
    short or corrupt is refused naming the file."""
    if Path(path).suffix.lower() not in COMPRESSED:
        yield from chunks
        return
    try:
        yield from chunks
    except (EOFError, OSError, lzma.LZMAError, zlib.error, zipfile.BadZipFile) as error:
        raise TableFormatError(
            f"{path}: cannot be decompressed ({error}); is it cut short or corrupt?"
        ) from error


def molecule_count_bound(path: str | os.PathLike) -> int:
    """An upper bound on a SMILES file's molecules: a Parquet table's or an XLSX sheet's rows,
    an SD file's records, a text file's lines (compressed files decompressed)."""
    suffix = table_kind(path)
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        return sum(pq.ParquetFile(part).metadata.num_rows for part in parquet_parts(path))
    if suffix == ".xlsx":
        return len(read_excel_sheet(path))
    if suffix == ".sdf":
        return sd_record_bound(path)
    return line_count(path)


def sd_record_bound(path: str | os.PathLike) -> int:
    """An upper bound on an SD file's records: its ``$$$$`` lines, and one more."""
    return sd_scan(path).record_bound


def line_count(path: str | os.PathLike) -> int:
    """Lines in a text file (an upper bound on a SMILES file's molecules)."""
    count, last = 0, b"\n"
    for block in byte_blocks(path):
        count += block.count(b"\n")
        last = block[-1:]
    return count + (last != b"\n")


def byte_blocks(path: str | os.PathLike) -> Iterator[bytes]:
    """A file's bytes, decompressed (``open_bytes``), in blocks of 16 MiB."""
    with open_bytes(path) as handle:
        yield from decompressed(path, iter(lambda: handle.read(1 << 24), b""))


# --- prediction parts ------------------------------------------------------------------------

PART_NAME = re.compile(r"^part-(\d+)\.parquet$")  # a library's predictions: one per chunk
CARRIED = "carried_columns"  # a part's frame attribute (kept in Parquet): the input's columns
# a prediction's nearest training molecule (see ``similarity``): <target>_similarity, _nearest
NEIGHBOUR_COLUMNS = ("similarity", "nearest")


def part_path(out_dir: Path, number: int) -> Path:
    """Where the part numbered ``number`` (from 0, one per chunk) of a prediction or screening
    folder is written."""
    return out_dir / f"part-{number:05d}.parquet"


def part_paths(out_dir: str | os.PathLike) -> list[Path]:
    """The ``part-<N>.parquet`` files of a prediction folder, in the order of ``N``."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise FileNotFoundError(f"no prediction folder {out_dir}")
    found = [
        (int(m.group(1)), path) for path in out_dir.iterdir() if (m := PART_NAME.match(path.name))
    ]
    return [path for _, path in sorted(found)]


def input_columns(frame: pd.DataFrame) -> list[str]:
    """The columns of a prediction table carried over from the input table, as its writer
    recorded them."""
    return list(frame.attrs.get(CARRIED, []))
