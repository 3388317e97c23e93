import gzip
import json
import math
import re
from dataclasses import replace

import pandas as pd
import pytest

from redoxscreen.chemistry import StandardizeOptions
from redoxscreen.ingest import (
    DatasetSpec,
    IngestConfigError,
    TargetSpec,
    ingest,
    run_ingestion,
)
from redoxscreen.potentials import ImplausibleLabels, check_plausible_labels
from redoxscreen.settings import ConfigError, check_dataset_table
from redoxscreen.tables import (
    SHEET_HEADER,
    TableFormatError,
    read_table,
    sheet_header,
    write_table,
)

from molecule_fixtures import labelled_sd_file, write_zip, zip_parts

IE = TargetSpec("IE", "ie", "eV", "eV_absolute", valid_range=(3.0, 15.0))
EA = TargetSpec("EA", "ea", "eV", "eV_absolute", valid_range=(-3.0, 8.0))
DATASET = DatasetSpec(smiles_column="smiles", id_column="name", targets=(IE, EA))

# One row of every kind of bad input, plus good rows and duplicates.
ROWS = [
    ("benzene", "c1ccccc1", "9.20", "0.50"),
    ("bq", "O=C1C=CC(=O)C=C1", "10.5", "3.9"),
    ("garbage", "not_a_smiles", "9", "1"),
    ("kekule-benzene", "C1=CC=CC=C1", "9.24", "0.52"),  # duplicate, labels agree
    ("salt", "[Na+].[Cl-]", "5", "1"),
    ("cation", "CC[N+](C)(C)C", "7", "1"),
    ("naphthalene", "c1ccc2ccccc2c1", "abc", "1.2"),  # IE not numeric, EA fine
    ("selenide", "CC[Se]C", "8", "1"),
    ("ethanol", "CCO", "", ""),  # no labels at all
    ("ethylamine", "CCN", "1e9", "inf"),  # every label invalid
    ("toluene", "Cc1ccccc1", "8.8", "0.3"),
    ("toluene-again", "Cc1ccccc1", "9.8", "0.31"),  # IE conflicts, EA agrees
    ("empty", "", "9", "1"),
    ("phenol", "Oc1ccccc1", "8.5", "NaN"),  # EA missing
]


def raw_table(rows=ROWS) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["name", "smiles", "ie", "ea"])


@pytest.fixture(scope="module")
def result():
    return ingest(raw_table(), DATASET)


def reasons_of(result, name):
    rows = result.rejected[result.rejected["input_id"] == name]
    return sorted(zip(rows["target"], rows["reason"], strict=True))


def test_every_input_row_is_kept_or_explained(result):
    summary = result.summary
    assert summary["input_rows"] == len(ROWS)
    assert sum(summary["rows"].values()) == len(ROWS)
    molecule_level = result.rejected[result.rejected["target"] == ""]
    explained = set(molecule_level["input_row"])
    kept_rows = {ROWS.index(next(r for r in ROWS if r[0] == i)) + 1 for i in result.molecules["id"]}
    assert explained | kept_rows == set(range(1, len(ROWS) + 1))
    assert not explained & kept_rows


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("garbage", [("", "invalid_smiles")]),
        ("salt", [("", "multiple_fragments")]),
        ("cation", [("", "charged")]),
        ("selenide", [("", "disallowed_element")]),
        ("ethanol", [("", "no_label")]),
        (
            "ethylamine",
            [("", "no_valid_label"), ("EA", "label_not_finite"), ("IE", "label_out_of_range")],
        ),
        ("empty", [("", "missing_smiles")]),
        ("kekule-benzene", [("", "duplicate_merged")]),
        ("naphthalene", [("IE", "label_not_numeric")]),
        ("toluene", [("IE", "duplicate_label_conflict")]),
        ("toluene-again", [("", "duplicate_merged"), ("IE", "duplicate_label_conflict")]),
    ],
)
def test_each_bad_input_kind_has_its_reason(result, name, expected):
    assert reasons_of(result, name) == expected


def test_a_bad_label_drops_only_that_target(result):
    molecules = result.molecules.set_index("id")
    assert math.isnan(molecules.loc["naphthalene", "IE"])
    assert molecules.loc["naphthalene", "EA"] == pytest.approx(1.2)
    assert math.isnan(molecules.loc["phenol", "EA"])
    assert molecules.loc["phenol", "IE"] == pytest.approx(8.5)


def test_agreeing_duplicates_are_merged_with_the_mean_label(result):
    molecules = result.molecules.set_index("id")
    assert molecules.loc["benzene", "IE"] == pytest.approx(9.22)
    assert molecules.loc["benzene", "n_merged"] == 2
    assert molecules.loc["toluene", "EA"] == pytest.approx(0.305)
    assert math.isnan(molecules.loc["toluene", "IE"])


def test_molecule_table_columns_and_order(result):
    assert list(result.molecules.columns) == [
        "id", "input_smiles", "smiles", "inchikey", "heavy_atoms", "n_merged", "IE", "EA",
    ]  # fmt: skip
    assert list(result.molecules["id"]) == ["benzene", "bq", "naphthalene", "toluene", "phenol"]
    assert result.molecules["inchikey"].is_unique


def test_per_target_counts(result):
    ie = result.summary["targets"]["IE"]
    assert ie["labelled_molecules"] == 3  # benzene, bq, phenol
    assert ie["labels_rejected"] == {
        "duplicate_label_conflict": 2,
        "label_not_numeric": 1,
        "label_out_of_range": 1,
    }
    # molecules kept for their other target: naphthalene ("abc") and toluene (conflict) for IE;
    # phenol ("NaN") for EA; the two toluene rows are one molecule, labelled for EA
    assert ie["unlabelled_molecules"] == 2
    ea = result.summary["targets"]["EA"]
    assert (ea["labelled_molecules"], ea["unlabelled_molecules"]) == (4, 1)
    assert result.summary["rows"]["kept"] == 5  # labelled + unlabelled, per target


def test_conflict_on_every_target_drops_the_whole_group():
    rows = [("a", "CCCC", "8.0", "1.0"), ("b", "CCCC", "9.0", "2.0")]
    result = ingest(raw_table(rows), DATASET)
    assert result.molecules.empty
    assert result.summary["rows"] == {"kept": 0, "duplicate_conflict": 2}


def test_charge_column_rejects_charged_records():
    frame = pd.DataFrame(
        {"smiles": ["CCO", "CCN"], "charge": ["0", "1"], "ie": ["9", "9"], "ea": ["1", "1"]}
    )
    dataset = DatasetSpec(smiles_column="smiles", charge_column="charge", targets=(IE, EA))
    result = ingest(frame, dataset)
    assert list(result.molecules["id"]) == ["row1"]
    assert result.rejected["reason"].tolist() == ["charged"]


def test_an_empty_charge_cell_gives_no_charge_and_text_there_is_refused():
    smiles = ["CCO", "CCN", "CCC", "CCCC", "CC[NH3+]", "CCCO", "CCCN"]
    charges = ["", None, "neutral", 0, "", "nan", "N/A"]  # missing as a label's cell would be
    frame = pd.DataFrame({"smiles": smiles, "charge": charges, "ie": "9", "ea": "1"})
    dataset = DatasetSpec(smiles_column="smiles", charge_column="charge", targets=(IE, EA))
    result = ingest(frame, dataset)
    assert list(result.molecules["smiles"]) == ["CCO", "CCN", "CCCC", "CCCO", "CCCN"]
    assert result.rejected[["input_row", "reason", "detail"]].values.tolist() == [
        [3, "charge_not_numeric", "charge='neutral' is not a number"],
        [5, "charged", "'CC[NH3+]' has net charge +1 (neutral_only)"],  # the SMILES's own
    ]


def test_largest_fragment_option_keeps_salted_molecules():
    rows = [("hydrate", "O=C1C=CC(=O)C=C1.O", "10", "3.9")]
    result = ingest(raw_table(rows), DATASET, StandardizeOptions(largest_fragment=True))
    assert result.molecules["smiles"].tolist() == ["O=C1C=CC(=O)C=C1"]


def test_missing_column_is_named():
    with pytest.raises(IngestConfigError, match=r"targets\.IE\.column='ie'"):
        ingest(raw_table().drop(columns=["ie"]), DATASET)


def test_repeated_ids_for_different_molecules_are_an_error():
    rows = [("x", "CCO", "9", "1"), ("y", "CCC", "9", "1"), ("x", "CCN", "9", "1")]
    with pytest.raises(IngestConfigError) as error:
        ingest(raw_table(rows), DATASET)  # made in code: its rows are counted
    assert str(error.value) == (
        "id_column holds the same id for different molecules: x (rows 1, 3); "
        "give each molecule its own id"
    )


def test_repeated_ids_in_a_file_name_their_lines(tmp_path):
    rows = [("x", "CCO", "9", "1"), ("y", "CCC", "9", "1"), ("x", "CCN", "9", "1")]
    (tmp_path / "t.csv").write_text("# measured 2026\n" + raw_table(rows).to_csv(index=False))
    with pytest.raises(IngestConfigError, match=r"molecules: x \(lines 3, 5\); give each"):
        ingest(read_table(tmp_path / "t.csv"), DATASET)


@pytest.mark.parametrize(
    "suffix", [".csv", ".tsv", ".xlsx", ".parquet", ".json", "/", ".csv.gz", ".zip"]
)
def test_every_table_format_ingests_the_same(tmp_path, suffix):
    path = tmp_path / f"input{suffix}"
    frame = raw_table()
    if suffix == ".xlsx":
        frame.to_excel(path, index=False)
    elif suffix == ".json":
        path.write_text(frame.to_json(orient="records"))
    elif suffix == ".csv.gz":
        frame.to_csv(path, index=False)  # compressed by its suffix
    elif suffix == ".zip":  # an archive holding one CSV file
        frame.to_csv(path, index=False, compression={"method": "zip", "archive_name": "a.csv"})
    elif suffix == "/":  # a directory of Parquet parts, whose column types differ
        path.mkdir()
        write_table(frame[:5].astype({"ea": float}), path / "part-0.parquet")  # text in part 1
        write_table(frame[5:], path / "part-1.parquet")
    else:
        write_table(frame, path)
    result = ingest(read_table(path), DATASET)
    assert list(result.molecules["id"]) == ["benzene", "bq", "naphthalene", "toluene", "phenol"]
    assert sum(result.summary["rows"].values()) == len(ROWS)


def test_a_semicolon_separated_csv_is_read_with_decimal_commas(tmp_path):
    path = tmp_path / "excel.csv"  # Excel's CSV where the decimal mark is a comma
    path.write_text(
        "name;smiles;ie (eV, vertical);ea\n"
        "benzene;c1ccccc1;9,2;-1\nwater;O;12.1;-3,2\nmethane;C;1.234,5;0\n"
    )
    spec = DatasetSpec(
        "smiles",
        (
            TargetSpec("IE", "ie (eV, vertical)", "eV", "eV_absolute"),
            TargetSpec("EA", "ea", "eV", "eV_absolute"),
        ),
        "name",
    )
    result = ingest(read_table(path), spec)
    assert result.molecules["id"].tolist() == ["benzene", "water", "methane"]
    assert result.molecules["IE"].tolist()[:2] == [9.2, 12.1]
    assert math.isnan(result.molecules["IE"].iloc[2])
    assert result.molecules["EA"].tolist() == [-1.0, -3.2, 0.0]
    assert result.rejected[["input_id", "reason", "detail"]].values.tolist() == [
        ["methane", "label_not_numeric", "ie (eV, vertical)='1.234,5' is not a number"]
    ]  # a thousands separator is no decimal mark


@pytest.mark.parametrize("name, text", [("labels.csv", 'smiles,ie\nCCO,"10,5"\n'),
                                        ("labels.tsv", "smiles\tie\nCCO\t10,5\n")])  # fmt: skip
def test_a_decimal_comma_outside_a_semicolon_csv_is_no_number_and_says_so(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    spec = DatasetSpec("smiles", (TargetSpec("IE", "ie", "eV", "eV_absolute"),))
    result = ingest(read_table(tmp_path / name), spec)
    assert set(result.rejected["reason"]) == {"label_not_numeric", "no_valid_label"}
    assert "'10,5' is not a number (a decimal comma? only a semicolon-separated" in "".join(
        result.rejected["detail"]
    )


def test_a_charge_with_a_decimal_comma_is_read_in_a_semicolon_csv(tmp_path):
    (tmp_path / "labels.csv").write_text("smiles;ie;charge\nCCO;10,5;0,0\nCC[O-];9,5;-1,0\n")
    spec = DatasetSpec("smiles", (TargetSpec("IE", "ie", "eV", "eV_absolute"),), None, "charge")
    result = ingest(read_table(tmp_path / "labels.csv"), spec)
    assert result.molecules["IE"].tolist() == [10.5]
    assert result.rejected["reason"].tolist() == ["charged"]


def test_a_data_set_csv_is_read_as_a_library_is(tmp_path):
    (tmp_path / "labels.csv").write_text(
        "# exported 2026-12-01\n\n smiles ,ie,note,note,\nCCO,10.5,a,b\n,,,,\nCCN\n"
    )
    table = read_table(tmp_path / "labels.csv")
    assert table.to_dict("list") == {
        "smiles": ["CCO", "CCN"],
        "ie": ["10.5", ""],
        "note": ["a", ""],
        "note.1": ["b", ""],
    }


@pytest.mark.parametrize("suffix, separator", [(".csv", ","), (".tsv", "\t")])
@pytest.mark.parametrize("first", [True, False])  # pandas took a first such row as the index
def test_a_data_set_row_with_more_cells_than_its_header_is_refused(
    tmp_path, suffix, separator, first
):
    path = tmp_path / f"labels{suffix}"
    rows = [["CCO", "10.5"], ["CCN", "9", "1"]]  # a label '9,1' split in two
    rows = [["smiles", "ie"], *(rows[::-1] if first else rows)]
    path.write_text("".join(separator.join(row) + "\n" for row in rows))
    message = rf"labels\{suffix}: extra_cells: line {2 if first else 3} has 3 cells .* has 2"
    with pytest.raises(TableFormatError, match=message):
        read_table(path)


def test_empty_cells_beyond_a_data_sets_header_are_read_as_nothing(tmp_path):
    (tmp_path / "labels.csv").write_text("smiles,ie\nCCN,9,\nCCO,10.5,\n")  # trailing commas
    table = read_table(tmp_path / "labels.csv")
    assert table.to_dict("list") == {"smiles": ["CCN", "CCO"], "ie": ["9", "10.5"]}


def test_unknown_format_is_refused(tmp_path):
    path = tmp_path / "input.mol2"
    path.write_text("")
    with pytest.raises(TableFormatError, match=r"\.mol2"):
        read_table(path)
    (tmp_path / "labels").write_text("smiles,ie\nCCO,9\n")
    with pytest.raises(TableFormatError, match=r"labels: no suffix that names its format; use"):
        read_table(tmp_path / "labels")


SD_RECORDS = [
    ("O=C1C=CC(=O)C=C1", "bq", {"ie": "10.5", "ea": "3.9", "CAT": "A1"}),
    ("Xx", "broken", {"ie": "9", "ea": "1", "CAT": "A2"}),  # no element Xx
    ("c1ccccc1", "", {"ea": "0.5", "ie": "9.2", "CAT": "A3"}),  # no title; another order
    ("Oc1ccccc1", "phenol", {"ie": "abc", "CAT": "A4"}),  # no ea item; ie no number
    ("C1=CC=CC=C1", "kekule", {"ie": "9.24", "ea": "0.52", "CAT": "A5"}),  # benzene again
]
SD_DATASET = DatasetSpec(smiles_column=None, targets=(IE, EA))


def test_an_sd_file_is_a_data_set_whose_data_items_hold_the_labels(tmp_path):
    """DFT sets come as SD files too (QM9, PubChemQC): each record's molecule block is read,
    its title is its id (or the data item id_column names) and its data items are columns."""
    starts = labelled_sd_file(tmp_path / "labels.sdf", SD_RECORDS)
    result = ingest(read_table(tmp_path / "labels.sdf"), SD_DATASET)
    assert result.molecules["id"].tolist() == ["bq", f"line{starts[2]}"]  # untitled
    assert result.molecules["smiles"].tolist() == ["O=C1C=CC(=O)C=C1", "c1ccccc1"]
    assert result.molecules["IE"].tolist() == pytest.approx([10.5, 9.22])  # merged: the mean
    assert result.molecules["EA"].tolist() == pytest.approx([3.9, 0.51])
    rejected = result.rejected.set_index("input_id")
    assert rejected.loc["broken", "reason"] == "invalid_record"
    assert rejected.loc["broken", "detail"] == (
        f"the record on line {starts[1]}: RDKit cannot read the molecule block"
    )
    assert rejected["input_line"].tolist() == [starts[1], starts[3], starts[3], starts[4]]
    assert rejected["reason"].tolist() == [
        "invalid_record", "no_valid_label", "label_not_numeric", "duplicate_merged"
    ]  # fmt: skip
    assert result.summary["rows"] == {
        "kept": 2, "duplicate_merged": 1, "invalid_record": 1, "no_valid_label": 1
    }  # fmt: skip
    by_item = ingest(read_table(tmp_path / "labels.sdf"), replace(SD_DATASET, id_column="CAT"))
    assert by_item.molecules["id"].tolist() == ["A1", "A3"]
    without = [(smiles, title, {"ie": "9"}) for smiles, title, _ in SD_RECORDS[:3]]
    starts = labelled_sd_file(tmp_path / "some.sdf", [*without, SD_RECORDS[3]])
    ie_by_item = replace(SD_DATASET, targets=(IE,), id_column="CAT")  # some records lack CAT
    no_item = ingest(read_table(tmp_path / "some.sdf"), ie_by_item)
    assert no_item.molecules["id"].tolist() == [f"line{starts[0]}", f"line{starts[2]}"]


def test_a_tables_column_named_as_an_sd_records_problem_is_a_column(tmp_path):
    (tmp_path / "labels.csv").write_text("smiles,ie,ea,<problem>\nCCO,10.5,1,note: odd\n")
    result = ingest(read_table(tmp_path / "labels.csv"), replace(DATASET, id_column=None))
    assert result.summary["rows"] == {"kept": 1}


def test_an_sd_data_set_is_read_compressed_and_its_mistakes_are_named(tmp_path):
    labelled_sd_file(tmp_path / "labels.sdf", SD_RECORDS)
    with gzip.open(tmp_path / "labels.sdf.gz", "wb") as handle:
        handle.write((tmp_path / "labels.sdf").read_bytes())
    outputs = [tmp_path / name for name in ("molecules.parquet", "rejected.tsv", "summary.json")]
    dataset = {"targets": {"IE": {"column": "ie", "unit": "eV", "conversion": "eV_absolute"}}}
    options = {"allowed_elements": ["H", "C", "O"], "neutral_only": True, "largest_fragment": False}
    run_ingestion(str(tmp_path / "labels.sdf.gz"), dataset, options, *map(str, outputs))
    assert pd.read_parquet(outputs[0])["IE"].tolist() == pytest.approx([10.5, 9.22])
    frame = read_table(tmp_path / "labels.sdf")
    with pytest.raises(IngestConfigError, match=r"an SD file has no SMILES column"):
        ingest(frame, DATASET)
    missing = replace(SD_DATASET, targets=(replace(IE, column="IE"),))
    message = r"no column for targets\.IE\.column='IE'; its data items are: ie, ea, CAT$"
    with pytest.raises(IngestConfigError, match=message):
        ingest(frame, missing)
    with pytest.raises(IngestConfigError, match=r"smiles_column is missing"):
        ingest(raw_table(), replace(DATASET, smiles_column=None))


MP_RECORDS = [
    {"task_id": "mol-1", "smiles": "O=C1C=CC(=O)C=C1", "charge": 0, "ionization_energy": 7.9,
     "electron_affinity": 2.9, "pointgroup": "D2h"},
    {"task_id": "mol-2", "smiles": "c1ccccc1", "charge": 1, "ionization_energy": None,
     "electron_affinity": 6.1, "pointgroup": "D6h"},
    {"task_id": "mol-3", "smiles": "CC(=O)OC", "charge": 0, "ionization_energy": None,
     "electron_affinity": None, "pointgroup": "Cs"},
    {"task_id": "mol-4", "smiles": "C1=CC=C2C=CC=CC2=C1", "charge": 0, "ionization_energy": 7.2,
     "electron_affinity": None},
]  # fmt: skip


def test_materials_project_export_ingests_through_config(tmp_path):
    export = tmp_path / "mp.json"
    export.write_text(json.dumps({"data": MP_RECORDS}))
    dataset = {
        "source": str(export),
        "smiles_column": "smiles",
        "id_column": "task_id",
        "charge_column": "charge",
        "targets": {
            "IE": {"column": "ionization_energy", "unit": "eV", "conversion": "eV_absolute"},
            "EA": {"column": "electron_affinity", "unit": "eV", "conversion": "eV_absolute"},
        },
    }
    options = {
        "allowed_elements": ["H", "C", "N", "O"],
        "neutral_only": True,
        "largest_fragment": False,
    }
    outputs = {name: tmp_path / name for name in ("m.parquet", "r.tsv", "s.json")}
    result = run_ingestion(str(export), dataset, options, *map(str, outputs.values()))
    assert result.molecules["id"].tolist() == ["mol-1", "mol-4"]
    assert result.summary["rows"] == {"kept": 2, "charged": 1, "no_label": 1}
    written = pd.read_parquet(outputs["m.parquet"])
    assert written["IE"].tolist() == [7.9, 7.2]
    assert math.isnan(written["EA"].iloc[1])
    rejected = pd.read_csv(outputs["r.tsv"], sep="\t", keep_default_na=False)
    assert rejected["input_id"].tolist() == ["mol-2", "mol-3"]
    assert json.loads(outputs["s.json"].read_text())["input_rows"] == 4


def test_an_empty_table_file_is_named(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(TableFormatError, match=r"empty\.csv: the file is empty"):
        read_table(tmp_path / "empty.csv")


def test_a_target_that_keeps_no_label_stops_ingestion(tmp_path):
    table = tmp_path / "t.csv"
    raw_table().to_csv(table, index=False)
    dataset = {
        "smiles_column": "smiles",
        "id_column": "name",
        "targets": {
            "IE": {"column": "ie", "unit": "eV", "conversion": "eV_absolute"},
            # the range in Hartree, the labels in eV: every EA label is out of range
            "EA": {"column": "ea", "unit": "eV", "conversion": "eV_absolute",
                   "valid_range": [-0.1, 0.2]},
        },
    }  # fmt: skip
    options = {"allowed_elements": ["H", "C", "N", "O"], "neutral_only": True,
               "largest_fragment": False}  # fmt: skip
    outputs = [str(tmp_path / name) for name in ("m.parquet", "r.tsv", "s.json")]
    with pytest.raises(IngestConfigError, match=r"targets\.EA: no molecule kept a label .*'ea'.*"
                       r"label_out_of_range.*molecules kept for other targets: 4\); "
                       r".*valid_range"):  # fmt: skip
        run_ingestion(str(table), dataset, options, *outputs)


def written_with_gaps(path, suffix):
    """The table of ROWS[2:5] with a comment (text only), a blank row before each record and a
    quoted SMILES cell that spans two lines; returns where each record starts in the file."""
    frame = raw_table(ROWS[2:5])
    if suffix == ".xlsx":
        gapped = pd.DataFrame([[""] * 4, *frame.values.tolist()], columns=frame.columns)
        pd.concat([gapped.iloc[:2], gapped.iloc[:1], gapped.iloc[2:]]).to_excel(path, index=False)
        return {"garbage": 3, "kekule-benzene": 5, "salt": 6}  # the sheet's rows
    separator = "," if suffix == ".csv" else "\t"
    lines = ["# exported by hand", separator.join(frame.columns)]
    for number, row in enumerate(frame.values.tolist()):
        row[1] = f'"{row[1]}\n"' if number == 0 else row[1]
        lines += [separator * 3, separator.join(row)]
    path.write_text("\n".join(lines) + "\n")
    return {"garbage": 4, "kekule-benzene": 7, "salt": 9}  # garbage's record spans 4–5


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".xlsx"])
def test_a_rejected_row_names_its_line_in_the_file(tmp_path, suffix):
    path = tmp_path / f"labels{suffix}"
    where = written_with_gaps(path, suffix)
    result = ingest(read_table(path), DATASET)
    assert result.summary["input_rows"] == 3  # the rows of empty cells are no input rows
    rejected = result.rejected.set_index("input_id")
    assert rejected["input_row"].to_dict() == {"garbage": 1, "salt": 3}
    assert rejected["input_line"].to_dict() == {"garbage": where["garbage"], "salt": where["salt"]}


def test_a_rejected_row_of_a_parquet_file_has_no_line(tmp_path):
    write_table(raw_table(ROWS[2:5]), tmp_path / "labels.parquet")
    result = ingest(read_table(tmp_path / "labels.parquet"), DATASET)
    assert result.rejected["input_row"].tolist() == [1, 3]
    assert result.rejected["input_line"].isna().all()


@pytest.mark.parametrize("suffix", [".parquet", ".json"])
def test_whole_number_ids_beside_a_missing_one_stay_whole(tmp_path, suffix):
    # pandas holds integers beside a null as floats: 702 would have become the id "702.0"
    records = [
        {"name": 702, "smiles": "CCO", "ie": 10.48, "ea": None},
        {"name": None, "smiles": "CCC", "ie": 11, "ea": -1.5},
        {"name": 9, "smiles": "c1ccccc1", "ie": None, "ea": 1.1},
    ]
    path = tmp_path / f"labels{suffix}"
    if suffix == ".parquet":
        pd.DataFrame(records).to_parquet(path)  # "name" is stored as floats
    else:
        path.write_text(json.dumps(records))
    result = ingest(read_table(path), DATASET)
    molecules = result.molecules.set_index("smiles")
    assert molecules["id"].to_dict() == {"CCO": "702", "CCC": "row2", "c1ccccc1": "9"}
    assert molecules.loc["CCO", "IE"] == 10.48 and molecules.loc["c1ccccc1", "EA"] == 1.1
    assert molecules[["IE", "EA"]].isna().sum().tolist() == [1, 1]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_column_named_twice_is_refused_where_the_data_set_reads_it(tmp_path, suffix):
    path = tmp_path / f"labels{suffix}"

    def ingested(*columns):
        frame = pd.DataFrame([["ethanol", "CCO", "9.1", "1.0", "7.5"]], columns=columns)
        frame.to_excel(path, index=False) if suffix == ".xlsx" else frame.to_csv(path, index=False)
        return ingest(read_table(path), DATASET)

    with pytest.raises(IngestConfigError, match=r"targets\.IE\.column='ie' more than once"):
        ingested("name", "smiles", "ie", "ea", "ie")
    with pytest.raises(IngestConfigError, match=r"id_column='name' more than once"):
        ingested("name", "smiles", "ie", "ea", "name")
    assert ingested("name", "smiles", "ie", "ea", "note").molecules["IE"].tolist() == [9.1]


def test_only_an_xlsx_files_first_sheet_is_read_and_the_others_are_named(tmp_path, caplog):
    path = tmp_path / "labels.xlsx"
    with pd.ExcelWriter(path) as workbook:
        raw_table(ROWS[:2]).to_excel(workbook, sheet_name="batch1", index=False)
        raw_table(ROWS[10:11]).to_excel(workbook, sheet_name="batch2", index=False)
        pd.DataFrame({"note": ["eV"]}).to_excel(workbook, sheet_name="notes", index=False)
    with caplog.at_level("WARNING", logger="redoxscreen.tables"):
        table = read_table(path)
    assert table["name"].tolist() == ["benzene", "bq"]
    assert "its first sheet 'batch1' is read; its other sheets 'batch2', 'notes' are not" in (
        caplog.text
    )


def test_an_xlsx_data_sets_zero_padded_ids_are_read_as_shown_and_its_labels_as_saved(tmp_path):
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["name", "smiles", "ie", "ea"])
    sheet.append([702, "CCO", 10.48123, -0.5])
    sheet.append([7, "CCN", 9.5, 0.25])
    sheet["A2"].number_format = sheet["A3"].number_format = "00000"
    sheet["C2"].number_format = sheet["D2"].number_format = "0.00"  # shown 10.48 and -0.50
    sheet["D3"].number_format = "0%"  # shown 25%
    workbook.save(tmp_path / "labels.xlsx")
    table = read_table(tmp_path / "labels.xlsx")
    assert table.values.tolist() == [
        ["00702", "CCO", "10.48123", "-0.5"], ["00007", "CCN", "9.5", "0.25"]
    ]  # fmt: skip
    molecules = ingest(table, DATASET).molecules.set_index("id")
    assert molecules.loc[["00702", "00007"], ["IE", "EA"]].values.tolist() == [
        [10.48123, -0.5], [9.5, 0.25]
    ]  # fmt: skip


def test_an_xlsx_sheet_is_read_as_far_as_its_cells_hold_values(tmp_path):
    """Not as far as the sheet declares (its dimension may be wrong) or as its formatted empty
    cells reach; a row of spaces is empty."""
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in (["smiles", "ie"], ["CCO", 10.5], ["  ", " "], ["CCN", 9.5]):
        sheet.append(row)
    sheet["F2"].number_format = "0.00"  # formatted, but empty
    workbook.save(tmp_path / "book.xlsx")
    parts = zip_parts(tmp_path / "book.xlsx")
    sheet_xml = "xl/worksheets/sheet1.xml"
    parts[sheet_xml] = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1"', parts[sheet_xml])
    assert b'<dimension ref="A1"' in parts[sheet_xml]
    write_zip(tmp_path / "declared.xlsx", parts)
    for name in ("book.xlsx", "declared.xlsx"):
        table = read_table(tmp_path / name)
        assert table.columns.tolist() == ["smiles", "ie"], name
        assert table.index.tolist() == [2, 4] and table.values.tolist() == [
            ["CCO", "10.5"], ["CCN", "9.5"]
        ]  # fmt: skip


def test_an_xlsx_header_is_named_as_a_text_tables_is(tmp_path):
    path = tmp_path / "labels.xlsx"
    rows = [["name", " smiles ", "ie", "ea", ""], ["ethanol", "CCO", 9.1, 1, "x"]]
    pd.DataFrame(rows).to_excel(path, index=False, header=False)
    table = read_table(path)
    assert table.columns.tolist() == ["name", "smiles", "ie", "ea", "column5"]
    assert ingest(table, DATASET).molecules["IE"].tolist() == [9.1]


def test_an_xlsx_header_is_read_alone_as_the_whole_sheet_reads_it(tmp_path):
    """Snakemake's start-up check reads the first sheet's header row without its rows: the
    same names, stripped, from the first row that is not empty, without the empty names that
    pad it to a wider row below."""
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    rows = [[], [" "], ["name", " smiles ", None, "ie"], ["ethanol", "CCO", "", 9.1, "x"]]
    for row in rows:
        sheet.append(row)
    workbook.create_sheet("notes").append(["not read"])
    workbook.save(tmp_path / "labels.xlsx")
    header = read_table(tmp_path / "labels.xlsx").attrs[SHEET_HEADER]
    assert header == ["name", "smiles", "", "ie", ""]
    assert sheet_header(tmp_path / "labels.xlsx") == ["name", "smiles", "", "ie"]
    pd.DataFrame().to_excel(tmp_path / "empty.xlsx")
    assert sheet_header(tmp_path / "empty.xlsx") == []
    (tmp_path / "renamed.xlsx").write_text("id,smiles\n")
    with pytest.raises(TableFormatError, match="not an XLSX workbook that can be read"):
        sheet_header(tmp_path / "renamed.xlsx")
    # a column that only the rows below reach is read, as ingestion reads it, where it is named
    dataset = {"source": "labels.xlsx", "smiles_column": "smiles", "id_column": "column5",
               "targets": {"IE": {"column": "ie", "unit": "eV", "conversion": "eV_absolute"}}}  # fmt: skip
    check_dataset_table("mine", dataset, "labels.xlsx", tmp_path / "labels.xlsx")
    with pytest.raises(ConfigError, match=r"'column6' is not a column of .*column5"):
        check_dataset_table("mine", dataset | {"id_column": "column6"}, "labels.xlsx",
                            tmp_path / "labels.xlsx")  # fmt: skip


PLAUSIBLE = {"oxidation": [3.0, 20.0], "reduction": [-10.0, 10.0]}
SPREAD = {"oxidation": [0.1, 5.0], "reduction": [0.1, 5.0]}
SCREENED = {
    "oxidation_target": "IE",
    "reduction_target": "EA",
    "plausible_median_ev": PLAUSIBLE,
    "plausible_spread_ev": SPREAD,
}


def with_ranges(median: dict | None = None, spread: dict | None = None) -> dict:
    """SCREENED with some kinds' ranges replaced."""
    return {
        **SCREENED,
        "plausible_median_ev": PLAUSIBLE | (median or {}),
        "plausible_spread_ev": SPREAD | (spread or {}),
    }


def plausibility_refusal(ie: list, ea: list, targets: dict, screening=SCREENED) -> str | None:
    molecules = pd.DataFrame({"IE": ie, "EA": ea})
    try:
        check_plausible_labels(molecules, screening, targets, {"li_absolute_ev": 1.4})
    except ImplausibleLabels as refusal:
        return str(refusal)
    return None


def test_a_screened_targets_labels_in_another_unit_are_refused():
    def targets(ie_conversion="eV_absolute"):
        ie_unit = "Hartree" if ie_conversion == "hartree_orbital" else "eV"
        return {
            "IE": {"column": "ie", "unit": ie_unit, "conversion": ie_conversion},
            "EA": {"column": "ea", "unit": "eV", "conversion": "eV_absolute"},
        }

    assert plausibility_refusal([7.1, 8.0, float("nan")], [1.2, -0.5, 2.0], targets()) is None
    hartree = plausibility_refusal([0.26, 0.29, 0.31], [1.2, -0.5, 2.0], targets())
    assert hartree.startswith(
        "screening.oxidation_target IE: its median label 0.29 eV (eV_absolute) is an ionization "
        "energy of 0.29 eV (oxidation potential -1.11 V vs Li/Li+), outside the 3 to 20 eV of "
        "screening.plausible_median_ev.oxidation: is column 'ie' in another unit"
    )
    assert hartree.endswith(
        "To use these labels, set screening.plausible_median_ev.oxidation: null"
    )
    # an ionization energy given where a HOMO energy (Hartree, negative) is expected
    homo = plausibility_refusal([0.26, 0.29], [1.2, 2.0], targets("hartree_orbital"))
    assert (
        "median label 0.275 Hartree (hartree_orbital) is an ionization energy of -7.48 eV" in homo
    )
    assert plausibility_refusal([-0.26, -0.29], [1.2, 2.0], targets("hartree_orbital")) is None
    kcal = plausibility_refusal([160.0, 170.0], [30.0, 40.0], targets())  # both; IE first
    assert kcal.startswith("screening.oxidation_target IE: its median label 165 eV")
    only_ea = plausibility_refusal([7.0, 8.0], [30.0, 40.0], targets())
    assert "screening.reduction_target EA: its median label 35 eV" in only_ea
    assert "an electron affinity of 35 eV" in only_ea
    unchecked = with_ranges(median={"oxidation": None}, spread={"oxidation": None})
    assert plausibility_refusal([0.26, 0.29], [1.2, 2.0], targets(), unchecked) is None
    unchecked = with_ranges(median={"oxidation": None, "reduction": None},
                            spread={"oxidation": None, "reduction": None})  # fmt: skip
    assert plausibility_refusal([0.26], [300.0], targets(), unchecked) is None
    unscreened = {**SCREENED, "oxidation_target": None}
    assert plausibility_refusal([0.26, 0.29], [1.2, 2.0], targets(), unscreened) is None
    assert plausibility_refusal([float("nan")], [1.2], targets()) is None  # no label: other check


def test_labels_whose_spread_is_no_energies_are_refused():
    """An electron affinity in Hartree has a median near 0 eV, which the median check cannot
    tell from eV; its interquartile range (0.018 for 0.5 eV) tells."""
    targets = {
        "IE": {"column": "ie", "unit": "eV", "conversion": "eV_absolute"},
        "EA": {"column": "ea", "unit": "eV", "conversion": "eV_absolute"},
    }
    ie = [7.1, 8.0, 8.4, 9.0, 7.7]
    assert plausibility_refusal(ie, [0.2, 1.1, 2.3, -0.4, 0.9], targets) is None
    ea_hartree = [0.007, 0.040, 0.085, -0.015, 0.033]
    refusal = plausibility_refusal(ie, ea_hartree, targets)
    assert refusal == (
        "screening.reduction_target EA: the interquartile range of its 5 labels, 0.033 eV "
        "(eV_absolute), lies outside the 0.1 to 5 eV of "
        "screening.plausible_spread_ev.reduction for electron affinity labels: is column 'ea' "
        "in another unit (1 Hartree = 27.211 eV; 1 eV = 23.06 kcal/mol = 96.49 kJ/mol)? To use "
        "these labels, set "
        "screening.plausible_spread_ev.reduction: null"
    )
    kcal = [value * 23.06 for value in [0.2, 1.1, 2.3, -0.4, 0.9]]  # median 20.8 eV
    median_unchecked = with_ranges(median={"reduction": None})
    refusal = plausibility_refusal(ie, kcal, targets, median_unchecked)
    assert "its 5 labels, 20.8 eV (eV_absolute), lies outside the 0.1 to 5 eV" in refusal
    assert (
        plausibility_refusal(ie, ea_hartree, targets, with_ranges(spread={"reduction": None}))
        is None
    )
    # the spread is read in eV: HOMO energies in Hartree span 0.015 Hartree = 0.41 eV
    homo = {**targets, "IE": {"column": "homo", "unit": "Hartree", "conversion": "hartree_orbital"}}
    assert plausibility_refusal([-0.26, -0.29, -0.28], [0.2, 1.1, 2.3], homo) is None
    refusal = plausibility_refusal([-0.2600, -0.2602, -0.2604], [0.2, 1.1, 2.3], homo)
    assert "its 3 labels, 0.0002 Hartree (hartree_orbital), is 0.00544 eV, lies outside" in refusal
    # a row without a label is no label; fewer than three labels are not checked
    refusal = plausibility_refusal([7.0, float("nan"), 7.01, 7.02], [0.2, 1.1, 2.3, 3.0], targets)
    assert "interquartile range of its 3 labels, 0.01 eV" in refusal
    assert plausibility_refusal([7.0, float("nan"), 7.01], [0.2, 1.1, 2.3], targets) is None
