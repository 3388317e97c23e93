import copy
import gzip
import math
import re
import shutil
from functools import reduce
from pathlib import Path

import pandas as pd
import pytest
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from redoxscreen.potentials import CONVERSION_READS, CONVERSIONS
from redoxscreen.screen_stage import ScreeningPlan, screening_is_on
from redoxscreen.settings import (
    ConfigError,
    check_config,
    check_repeated_keys,
    configured_file,
    library_runtime_minutes,
    schema_report,
)
from redoxscreen.tables import read_table

from molecule_fixtures import labelled_sd_file
from workflow_runner import REPO

SCHEMA = str(REPO / "config" / "schema.yaml")


@pytest.fixture
def config():
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def test_default_config_is_valid_and_complete(config):
    validate(config, SCHEMA)
    check_config(config, REPO)
    assert config["datasets"][config["dataset"]]["targets"].keys() == {"IE", "EA"}


def test_the_schemas_defaults_are_the_default_configs_values(config):
    """A run whose working directory has no config/config.yaml (another --directory, with
    only --configfile my.yaml) gets the schema's defaults: they must be the same run."""
    defaults = {key: config[key] for key in ("dataset", "datasets")}
    validate(defaults, SCHEMA)
    validate(config, SCHEMA)
    assert defaults == config


def test_defaults_are_filled_in(config):
    del config["xtb"]
    del config["datasets"]["demo"]["targets"]["IE"]["valid_range"]
    validate(config, SCHEMA)
    assert config["xtb"]["ipea_shift_ev"] == pytest.approx(4.8455)
    assert config["datasets"]["demo"]["targets"]["IE"]["duplicate_tolerance"] == 0.05
    assert config["datasets"]["demo"]["label_with_xtb"] is False


@pytest.mark.parametrize(
    ("edit", "key", "said"),
    [
        (
            lambda c: c["ingest"].update(neutral_onyl=True),
            "ingest.neutral_onyl",
            "unknown key; did you mean 'neutral_only'?",
        ),
        (lambda c: c.update(screning={}), "screning", "did you mean 'screening'?"),
        (
            lambda c: c["datasets"]["demo"]["targets"]["IE"].update(conversion="V_vs_Mars"),
            "datasets.demo.targets.IE.conversion",
            "'V_vs_Mars' is not one of",
        ),
        (
            lambda c: c["datasets"]["demo"].pop("targets"),
            "datasets.demo",
            "'targets' is a required property",
        ),
        (
            lambda c: c["datasets"]["demo"]["targets"]["EA"].update(valid_range=[1]),
            "datasets.demo.targets.EA.valid_range",
            "too short",
        ),
        (lambda c: c.update(seed="forty-two"), "seed", "is not of type 'integer'"),
        (
            lambda c: c["training"].update(mixed_precision="yes"),
            "training.mixed_precision",
            "'yes' is not of type 'boolean'; 'yes' is not one of ['auto']",
        ),
        (lambda c: c.update(screen_libs={}), "screen_libs", "did you mean 'screen'?"),
        (
            lambda c: c["screen"].update(mine={"path": "m.csv", "smiles_col": "SMILES"}),
            "screen.mine",
            "('smiles_col' was unexpected)",
        ),
        (
            lambda c: c["screen"].update(mine={"path": "m.csv", "smiles_column": 5}),
            "screen.mine",
            "smiles_column: 5 is not of type 'string'",
        ),
        (lambda c: c.update(zzz=1), "zzz", "unknown key; known here: seed, dataset,"),
        (  # what `snakemake --config final='{k: 3}'` gives: nested values as text
            lambda c: c["final"].update(k="3"),
            "final.k",
            "'3' is not of type 'integer'; `--config` reads a nested value as text: set nested",
        ),
        (
            lambda c: c["grid"].update(models=["24"]),
            "grid.models",
            "`--config` reads a nested value as text",
        ),
        (  # YAML 1.1 reads an exponent without a decimal point as text
            lambda c: c["training"].update(learning_rate="1e-3"),
            "training.learning_rate",
            "'1e-3' is not of type 'number'; YAML reads 1e-3 as text: write 1.0e-3 (a decimal "
            "point and a signed exponent)",
        ),
        (  # and one with a decimal point but an unsigned exponent
            lambda c: c["training"].update(l2="1.5e5"),
            "training.l2",
            "YAML reads 1.5e5 as text: write 1.5e+5 (a decimal point and a signed exponent)",
        ),
        (
            lambda c: c["grid"].update(models=[2, 2, 25]),
            "grid.models",
            "[2, 2, 25] has non-unique elements",
        ),
        (  # a screening setting under screen: that no library entry could be
            lambda c: c["screen"].update(collector_max_v=4.5),
            "screen.collector_max_v",
            "`screen:` names libraries to screen ({name: SMILES file}); did you mean "
            "screening.collector_max_v?",
        ),
        (
            lambda c: c["screening"].update(collector_max_v=-4.7),
            "screening.collector_max_v",
            "less than or equal to the minimum of 0",
        ),
        (  # each kind may be null, the whole range not
            lambda c: c["screening"].update(plausible_median_ev=None),
            "screening.plausible_median_ev",
            "None is not of type 'object'",
        ),
    ],
)
def test_schema_errors_name_the_key(config, edit, key, said):
    broken = copy.deepcopy(config)
    edit(broken)
    with pytest.raises(WorkflowError) as refusal:
        validate(copy.deepcopy(broken), SCHEMA)
    mistakes = schema_report(broken, SCHEMA, refusal.value).splitlines()[1:]
    assert len(mistakes) == 1
    assert mistakes[0].strip().startswith(f"{key}: ")
    assert said in mistakes[0]


def test_schema_report_lists_every_mistake(config):
    config["training"]["l2"] = "light"
    config["grid"]["k"] = 1
    mistakes = schema_report(config, SCHEMA, WorkflowError("")).splitlines()[1:]
    assert [line.split(":")[0].strip() for line in mistakes] == ["grid.k", "training.l2"]


def test_schema_report_keeps_snakemakes_message_when_the_values_are_valid(config):
    refusal = WorkflowError("cannot read the schema")
    assert schema_report(config, SCHEMA, refusal) == "cannot read the schema"


def test_schema_report_keeps_snakemakes_message_for_a_broken_schema(config, tmp_path: Path):
    broken = tmp_path / "schema.yaml"
    broken.write_text("type: object\nproperties: {seed: {type: integer}\n")  # unclosed brace
    refusal = WorkflowError("Error validating config file: the schema does not parse")
    assert schema_report(config, broken, refusal) == str(refusal)


def test_unknown_dataset_is_named(config):
    config["dataset"] = "qm10"
    with pytest.raises(ConfigError, match="'qm10' is not declared under datasets"):
        check_config(config, REPO)


def test_missing_source_file_is_named(config, tmp_path: Path):
    with pytest.raises(ConfigError, match=r"datasets\.demo\.source"):
        check_config(config, tmp_path)


def test_reversed_valid_range_is_named(config):
    config["datasets"]["demo"]["targets"]["IE"]["valid_range"] = [15, 3]
    with pytest.raises(ConfigError, match=r"targets\.IE\.valid_range"):
        check_config(config, REPO)


@pytest.mark.parametrize(
    ("unit", "conversion", "advice"),
    [
        ("Hartree", "eV_absolute", "choose the conversion that reads the labels"),
        ("hartrees", "V_vs_SHE", "choose the conversion that reads the labels"),
        ("E_h", "eV_absolute", "choose the conversion that reads the labels"),
        ("atomic units", "eV_absolute", "choose the conversion that reads the labels"),
        ("eV", "hartree_orbital", "choose the conversion that reads the labels"),
        ("kcal mol^-1", "eV_absolute", "no conversion reads kcal mol^-1: convert the labels"),
        ("meV", "V_vs_Li", "no conversion reads meV: convert the labels"),
        ("MeV", "eV_absolute", "no conversion reads MeV: convert the labels"),
        ("mHa", "hartree_orbital", "no conversion reads mHa: convert the labels"),
    ],
)
def test_a_known_unit_that_contradicts_the_conversion_is_refused(config, unit, conversion, advice):
    """The conversion alone decides the arithmetic: Hartree labels read as eV would give
    potentials 27 times too small, and every molecule would be screened on them."""
    config["datasets"]["demo"]["targets"]["EA"].update(unit=unit, conversion=conversion)
    with pytest.raises(ConfigError) as refusal:
        check_config(config, REPO)
    message = str(refusal.value)
    assert message.startswith(f"datasets.demo.targets.EA: unit {unit!r} (")
    assert f"does not fit conversion {conversion!r}, which reads" in message
    assert f"; {advice}" in message and "hartree_orbital reads orbital energies" in message


@pytest.mark.parametrize(
    ("unit", "conversion"),
    [("V", "eV_absolute"), ("eV", "V_vs_SHE"), ("a.u.", "hartree_orbital"), ("logP", "V_vs_Li")],
)
def test_a_unit_that_agrees_with_the_conversion_or_is_unknown_is_accepted(config, unit, conversion):
    """An electronvolt per electron is a volt; a unit without a known scale only labels."""
    config["datasets"]["demo"]["targets"]["EA"].update(unit=unit, conversion=conversion)
    check_config(config, REPO)


def test_every_conversion_says_what_it_reads():
    assert CONVERSION_READS.keys() == CONVERSIONS.keys()


def test_materials_project_source_needs_no_local_file(config, tmp_path: Path):
    config["dataset"] = "materials_project"
    check_config(config, tmp_path, workflow_dir=REPO)  # the API, not a file named so
    config["datasets"]["materials_project"]["source"] = "materials_project.json"
    with pytest.raises(ConfigError, match=r"materials_project\.source: .* does not exist"):
        check_config(config, tmp_path, workflow_dir=REPO)


@pytest.mark.parametrize(
    ("key", "edit"),
    [
        ("grid.architectures", lambda c: c["grid"].update(architectures="config/nogrid.tsv")),
        (
            "screening.electrolytes_table",
            lambda c: c["screening"].update(electrolytes_table="e.tsv"),
        ),
        ("screen.mine", lambda c: c["screen"].update(mine="data/mine.smi")),
    ],
)
def test_a_missing_configured_file_is_named_with_its_key(config, tmp_path: Path, key, edit):
    edit(config)
    with pytest.raises(ConfigError, match=rf"{key}: .* does not exist .*{tmp_path}"):
        check_config(config, tmp_path, workflow_dir=REPO)


def test_a_library_is_found_in_the_workflow_directory_too(config, tmp_path: Path):
    config["screen"] = {"demo": "resources/demo_library.smi"}
    check_config(config, tmp_path, workflow_dir=REPO)  # not in tmp_path: beside the Snakefile
    found = configured_file("resources/demo_library.smi", tmp_path, REPO)
    assert found == REPO / "resources/demo_library.smi"
    (tmp_path / "resources").mkdir()
    (tmp_path / "resources/demo_library.smi").write_text("CCO\n")  # the working directory's
    assert configured_file("resources/demo_library.smi", tmp_path, REPO).parent.parent == tmp_path


def test_a_large_library_gets_more_time_on_a_cluster(tmp_path: Path):
    small, large = tmp_path / "small.smi", tmp_path / "large.smi"
    small.write_text("CCO a\nCCN b")  # no newline at the end: still two lines
    large.write_bytes(b"C\n" * 1_500_000)
    assert library_runtime_minutes(small) == 120  # the least
    assert library_runtime_minutes(large) == 180  # 120 minutes per million lines
    pd.DataFrame({"smiles": ["C"] * 2_500_000}).to_parquet(tmp_path / "large.parquet")
    assert library_runtime_minutes(tmp_path / "large.parquet") == 300  # per million rows
    # the nearest-training-molecule search: 1.5 million x 69,000 pairs at 3.5e-8 s
    trained = []
    for rows in (1_000, 68_000):
        trained.append(tmp_path / f"trained{rows}.parquet")
        pd.DataFrame({"id": [str(i) for i in range(rows)]}).to_parquet(trained[-1])
    assert library_runtime_minutes(large, trained) == math.ceil(180 + 60.375)
    # a target trained on the same molecules as another shares its search
    shared = tmp_path / "shared.parquet"
    shutil.copy(trained[1], shared)
    assert library_runtime_minutes(large, [*trained, shared]) == math.ceil(180 + 60.375)
    assert library_runtime_minutes(large, [trained[1], shared]) == math.ceil(180 + 59.5)
    assert library_runtime_minutes(small, trained) == 120
    # a dry run before the final models are trained: their tables are not made yet
    assert library_runtime_minutes(large, [tmp_path / "IE" / "training_molecules.parquet"]) == 180


@pytest.mark.parametrize(
    ("name", "text"),
    [("empty.smi", "# exported 2026-12-06\n\n"), ("empty.csv", "CID,smiles\n"), ("empty.sdf", "")],
)
def test_a_library_without_a_molecule_is_refused_before_any_job(config, tmp_path, name, text):
    (tmp_path / name).write_text(text)
    config["screen"] = {"empty": name}
    with pytest.raises(ConfigError, match=rf"^screen\.empty: .*{name} holds no molecule"):
        check_config(config, tmp_path, workflow_dir=REPO)


def test_a_library_is_read_as_configured_before_any_job(config, tmp_path: Path):
    (tmp_path / "mine.csv").write_text("CID,IsomericSMILES\n702,CCO\n")
    config["screen"] = {"mine": {"path": "mine.csv", "smiles_column": "IsomericSMILES"}}
    check_config(config, tmp_path, workflow_dir=REPO)
    config["screen"]["mine"]["id_column"] = "Name"
    with pytest.raises(ConfigError, match=r"screen\.mine: .*mine\.csv: no 'Name' column"):
        check_config(config, tmp_path, workflow_dir=REPO)
    config["screen"] = {"mine": "mine.csv"}
    with pytest.raises(ConfigError, match=r"screen\.mine: .*no 'smiles' column"):
        check_config(config, tmp_path, workflow_dir=REPO)
    config["screen"] = {"mine": str(tmp_path)}
    with pytest.raises(ConfigError, match=r"screen\.mine: .*a directory without \.parquet files"):
        check_config(config, tmp_path, workflow_dir=REPO)
    (tmp_path / "mine.parquet").write_bytes(b"PAR1")
    config["screen"] = {"mine": "mine.parquet"}
    with pytest.raises(ConfigError, match=r"screen\.mine: .*not a Parquet file that can be read"):
        check_config(config, tmp_path, workflow_dir=REPO)
    pd.DataFrame({"CID": [702], "IsomericSMILES": ["CCO"]}).to_parquet(tmp_path / "mine.parquet")
    with pytest.raises(ConfigError, match=r"screen\.mine: .*no 'smiles' column"):
        check_config(config, tmp_path, workflow_dir=REPO)
    config["screen"] = {"mine": {"path": "mine.parquet", "smiles_column": "IsomericSMILES"}}
    check_config(config, tmp_path, workflow_dir=REPO)
    pd.DataFrame({"CID": [702], "IsomericSMILES": ["CCO"]}).to_excel(tmp_path / "mine.xlsx")
    config["screen"] = {"mine": {"path": "mine.xlsx", "smiles_column": "IsomericSMILES"}}
    check_config(config, tmp_path, workflow_dir=REPO)
    config["screen"]["mine"]["id_column"] = "Name"
    with pytest.raises(ConfigError, match=r"screen\.mine: .*mine\.xlsx: no 'Name' column"):
        check_config(config, tmp_path, workflow_dir=REPO)


def test_a_screening_key_under_screen_is_pointed_to_screening(config, tmp_path: Path):
    config["screen"] = {"interval": "conformal"}
    with pytest.raises(ConfigError, match=r"screen\.interval: .*did you mean screening\.interval"):
        check_config(config, REPO)
    (tmp_path / "electrolytes.smi").write_text("C1COC(=O)O1 EC\n")  # a library of that name
    config["screen"] = {"electrolytes": "electrolytes.smi"}
    check_config(config, tmp_path, workflow_dir=REPO)


def test_ensemble_interval_without_a_calibration_set_is_refused(config):
    config["screening"]["interval"] = "ensemble"
    config["final"]["calibration_fraction"] = 0
    with pytest.raises(ConfigError, match=r"final\.calibration_fraction"):
        check_config(config, REPO)
    config["screening"]["interval"] = "conformal"
    check_config(config, REPO)


def test_screening_target_missing_from_the_dataset_is_named(config):
    config["datasets"]["demo"]["targets"]["Ered"] = config["datasets"]["demo"]["targets"].pop("EA")
    with pytest.raises(ConfigError, match=r"screening\.reduction_target: 'EA' .*targets: IE, Ered"):
        check_config(config, REPO)
    config["screening"]["reduction_target"] = "Ered"
    check_config(config, REPO)


def test_role_on_a_potential_without_a_target_is_named(config):
    config["screening"]["reduction_target"] = None
    with pytest.raises(ConfigError, match=r"screening\.roles\.cathode\.potential: 'reduction'"):
        check_config(config, REPO)
    config["screening"]["roles"] = {"donor": {"potential": "oxidation", "band_max_v": 4.0}}
    check_config(config, REPO)


def test_screening_no_potential_screens_nothing_and_no_library(config, tmp_path: Path):
    config["screening"].update(oxidation_target=None, reduction_target=None)
    check_config(config, REPO)  # config.yaml's roles are not needed then
    assert not screening_is_on(config["screening"])
    (tmp_path / "mine.smi").write_text("CCO\n")
    config["screen"] = {"mine": "mine.smi"}
    with pytest.raises(ConfigError, match=r"screen: mine would not be screened: screening\.ox"):
        check_config(config, tmp_path, workflow_dir=REPO)


@pytest.mark.parametrize("roles", [{}, {"cathode": None, "anode": None}])
def test_screening_no_role_is_refused(config, roles):
    config["screening"]["roles"] = roles
    with pytest.raises(ConfigError, match=r"screening\.roles: no role is left"):
        check_config(config, REPO)


def test_a_role_set_to_null_is_removed(config):
    """A layered config file cannot delete config.yaml's roles, so null removes one."""
    config["screening"]["reduction_target"] = None
    config["screening"]["roles"].update(
        cathode=None, anode=None, donor={"potential": "oxidation", "band_max_v": 4.0}
    )
    validate(config, SCHEMA)
    check_config(config, REPO)
    plan = ScreeningPlan.from_config(
        config["screening"],
        config["datasets"]["demo"]["targets"],
        config["potentials"],
        REPO / config["screening"]["electrolytes_table"],
    )
    assert [role.name for role in plan.roles] == ["donor"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda s: s.update(electrolytes=["acetonitrile", "ethylene_carbonate"]),
            r"screening\.electrolytes: \['ethylene_carbonate'\] not in",
        ),
        (
            lambda s: s["roles"]["cathode"].update(band_min_v=3.5, band_max_v=3.0),
            r"screening\.roles\.cathode\.band_min_v: 3\.5 V is above band_max_v 3\.0 V",
        ),
        (
            lambda s: s["plausible_median_ev"].update(oxidation=[20.0, 3.0]),
            r"screening\.plausible_median_ev\.oxidation: \[20\.0, 3\.0\] is no range: give "
            r"\[low, high\] in eV",
        ),
        (
            lambda s: s["plausible_median_ev"].update(reduction=[float("-inf"), 10.0]),
            r"screening\.plausible_median_ev\.reduction: \[-inf, 10\.0\] is no range",
        ),
        (
            lambda s: s["plausible_spread_ev"].update(reduction=[5.0, 0.1]),
            r"screening\.plausible_spread_ev\.reduction: \[5\.0, 0\.1\] is no range",
        ),
        (  # propylene carbonate is reduced at 1.0 V
            lambda s: s.update(collector_max_v=0.9),
            r"screening\.collector_max_v: 0\.9 V caps propylene_carbonate's window at or below "
            r"its reduction limit, 1\.0 V: no molecule can pass there",
        ),
        (
            lambda s: s["roles"]["cathode"].update(band_min_v=4.8, band_max_v=5.0),
            r"screening\.roles\.cathode: its band \(4\.8–5 V\) lies outside every "
            r"electrolyte's window \(acetonitrile 0\.44–4\.7 V; propylene_carbonate 1–4\.7 V; up "
            r"to the lower of the oxidation limit and collector_max_v\): no molecule can pass; "
            r"change the band or the electrolytes, or remove the role \(in a layered config "
            r"file: cathode: null\)",
        ),
        (
            lambda s: s["roles"]["anode"].update(band_min_v=None, band_max_v=0.4),
            r"screening\.roles\.anode: its band \(≤ 0\.4 V\) lies outside every",
        ),
    ],
)
def test_screening_settings_are_checked_before_any_job(config, edit, message):
    edit(config["screening"])
    with pytest.raises(ConfigError, match=message):
        check_config(config, REPO)


def test_a_band_that_meets_one_electrolytes_window_is_screened(config):
    """Reduced at 0.44 V in acetonitrile, not in propylene carbonate (1.0 V): its counts there
    show 0 beside the window and band; so do bands that touch a window's edge."""
    config["screening"]["roles"].update(
        low={"potential": "reduction", "band_max_v": 0.44},
        edge={"potential": "reduction", "band_min_v": 4.7, "margin_on_band": True},
    )
    check_config(config, REPO)
    config["screening"]["collector_max_v"] = None  # the electrolytes' own limits
    check_config(config, REPO)


def test_a_similarity_threshold_needs_the_similarity_search(config):
    config["screening"]["min_similarity"] = 0.5
    validate(config, SCHEMA)
    check_config(config, REPO)
    config["predict"]["similarity"] = False
    check_config(config, REPO)  # it judges libraries alone: none is listed
    config["screen"] = {"demo": "resources/demo_library.smi"}
    with pytest.raises(ConfigError) as refusal:
        check_config(config, REPO)
    assert str(refusal.value) == (
        "screening.min_similarity: 0.5 judges library molecules by their nearest training "
        "molecule, which predict.similarity: false does not look for; set predict.similarity: "
        "true, or screening.min_similarity: null"
    )
    config["screening"]["min_similarity"] = 1.5  # a Tanimoto similarity is at most 1
    with pytest.raises(WorkflowError, match="min_similarity"):
        validate(config, SCHEMA)


def test_a_smiles_file_source_needs_xtb_labels(config):
    config["datasets"]["demo"]["source"] = "resources/demo_library.smi"
    with pytest.raises(
        ConfigError, match=r"datasets\.demo\.source: .* datasets\.demo\.label_with_xtb: true"
    ):
        check_config(config, REPO)
    config["datasets"]["demo"]["label_with_xtb"] = True
    check_config(config, REPO)


def test_a_source_to_label_with_xtb_is_read_before_any_job(config, tmp_path: Path):
    (tmp_path / "mine.csv").write_text("CID,IsomericSMILES\n702,CCO\n")
    config["datasets"]["demo"].update(source="mine.csv", label_with_xtb=True)
    with pytest.raises(ConfigError, match=r"datasets\.demo\.source: .*no 'smiles' column"):
        check_config(config, tmp_path, workflow_dir=REPO)
    named = {"path": "mine.csv", "smiles_column": "IsomericSMILES", "id_column": "CID"}
    config["datasets"]["demo"]["source"] = named  # as a library names its columns
    check_config(config, tmp_path, workflow_dir=REPO)
    config["datasets"]["demo"]["source"] = named | {"id_column": "cid_"}
    with pytest.raises(ConfigError, match=r"datasets\.demo\.source: .*no 'cid_' column"):
        check_config(config, tmp_path, workflow_dir=REPO)
    config["datasets"]["demo"].update(source=named, label_with_xtb=False)
    with pytest.raises(ConfigError, match=r"datasets\.demo\.source: .*label_with_xtb: true"):
        check_config(config, tmp_path, workflow_dir=REPO)


@pytest.mark.parametrize(
    "name, message",
    [
        ("mols.smi", r"'mols\.smi' is a SMILES file, which holds no label columns; set "
                     r"datasets\.demo\.label_with_xtb: true"),
        ("labels.parquet.gz", r".*labels\.parquet\.gz: unknown table format '\.gz'; use one of "
                              r"\.csv, \.json, \.parquet"),
        ("labels.mol2", r".*labels\.mol2: unknown table format '\.mol2'"),
        ("labels.zip", r".*labels\.zip: not a ZIP archive that can be read"),
    ],
)  # fmt: skip
def test_a_data_set_source_that_holds_no_labels_is_refused_before_any_job(
    config, tmp_path, name, message
):
    (tmp_path / name).write_bytes(b"CCO ethanol\n")
    config["datasets"]["demo"]["source"] = name
    with pytest.raises(ConfigError, match=r"datasets\.demo\.source: " + message):
        check_config(config, tmp_path, workflow_dir=REPO)


def test_an_sd_data_sets_data_items_are_read_before_any_job(config, tmp_path: Path):
    items = {"IE_eV": "10.5", "EA_eV": "3.9", "CAT": "A1"}
    labelled_sd_file(tmp_path / "labels.sdf", [("O=C1C=CC(=O)C=C1", "bq", items)])
    dataset = config["datasets"]["demo"]
    dataset.update(source="labels.sdf", id_column="CAT")
    dataset["targets"]["IE"]["column"], dataset["targets"]["EA"]["column"] = "IE_eV", "EA_eV"
    message = r"datasets\.demo\.smiles_column: 'labels\.sdf' is an SD file, whose records' "
    with pytest.raises(ConfigError, match=message + r"molecule blocks are read; remove"):
        check_config(config, tmp_path, workflow_dir=REPO)
    dataset.pop("smiles_column")
    check_config(config, tmp_path, workflow_dir=REPO)
    dataset["targets"]["EA"]["column"] = "EA_ev"
    message = (
        r"datasets\.demo\.targets\.EA\.column: 'EA_ev' is not a data item of labels\.sdf "
        r"\(the data items of its records: IE_eV, EA_eV, CAT\); did you mean 'EA_eV'\?"
    )
    with pytest.raises(ConfigError, match=message):
        check_config(config, tmp_path, workflow_dir=REPO)
    dataset["targets"]["EA"]["column"] = "EA_eV"
    variants = {
        "spelt.sdf": [("CCO", "a", items), ("CCN", "b", {"ie_eV": "9", "EA_eV": "1"})],
        "twice.sdf": [("CCO", "a", items), ("CCN", "b", {"IE_eV": "9"})],
        "both.sdf": [("CCO", "a", items | {"ie_eV": "1"}), ("CCN", "b", items | {"ie_eV": "2"})],
    }
    for name, records in variants.items():
        labelled_sd_file(tmp_path / name, records)
    twice = (
        (tmp_path / "twice.sdf")
        .read_text()
        .replace(">  <IE_eV>\n9\n", ">  <IE_eV>\n9\n\n>  <IE_eV>\n8\n")
    )
    (tmp_path / "twice.sdf").write_text(twice)
    (tmp_path / "empty.sdf").write_text("")
    (tmp_path / "cut.sdf.gz").write_bytes(
        gzip.compress((tmp_path / "labels.sdf").read_bytes())[:-30]
    )
    refusals = {
        "spelt.sdf": r"targets\.IE\.column: spelt\.sdf spells the data item 'IE_eV' also 'ie_eV'",
        "twice.sdf": r"targets\.IE\.column: a record of twice\.sdf holds the data item 'IE_eV' twice",
        "empty.sdf": r"source: 'empty\.sdf' holds no SD record",
        "cut.sdf.gz": r"source: .*cut\.sdf\.gz: cannot be decompressed",
    }
    dataset["source"] = "both.sdf"  # every record holds IE_eV beside ie_eV: nothing is lost
    check_config(config, tmp_path, workflow_dir=REPO)
    for name, message in refusals.items():
        dataset["source"] = name
        with pytest.raises(ConfigError, match=r"datasets\.demo\." + message):
            check_config(config, tmp_path, workflow_dir=REPO)


def test_a_data_set_that_is_no_sd_file_names_its_smiles_column(config, tmp_path: Path):
    tables = [
        ("demo", "the table"),
        ("demo_xtb", r"the xTB labels \(smiles\)"),
        ("materials_project", "the table"),
    ]
    for name, table in tables:
        config["dataset"] = name
        config["datasets"][name].pop("smiles_column")
        message = rf"datasets\.{name}\.smiles_column is missing: name the SMILES column of {table}"
        with pytest.raises(ConfigError, match=message):
            check_config(config, tmp_path, workflow_dir=REPO)


def test_an_sd_file_to_label_with_xtb_names_the_labels_smiles_column(config, tmp_path: Path):
    labelled_sd_file(tmp_path / "lib.sdf", [("O=C1C=CC(=O)C=C1", "bq", {})])
    config["dataset"] = "demo_xtb"
    config["datasets"]["demo_xtb"]["source"] = "lib.sdf"
    check_config(config, tmp_path, workflow_dir=REPO)  # its smiles_column: the xTB labels'


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet", "_parts", ".xlsx"])
def test_a_data_sets_columns_are_read_before_any_job(config, tmp_path: Path, suffix):
    table = pd.DataFrame({"SMILES": ["CCO"], "ie_ev": ["10.5"], "ea_ev": ["-1"], "name": ["e"]})
    path = tmp_path / f"labels{suffix}"
    if suffix == ".parquet":
        table.set_index("name").to_parquet(path)  # a named index is read as a column
        assert read_table(path).columns.tolist() == ["SMILES", "ie_ev", "ea_ev", "name"]
    elif suffix == "_parts":  # a directory of Parquet parts
        path.mkdir()
        table.to_parquet(path / "part-0.parquet", index=False)
    elif suffix == ".xlsx":
        table.to_excel(path, index=False)
    else:
        table.to_csv(path, sep="," if suffix == ".csv" else "\t", index=False)
    dataset = config["datasets"]["demo"]
    dataset.update(source=path.name, smiles_column="SMILES", id_column="name")
    dataset["targets"]["IE"]["column"], dataset["targets"]["EA"]["column"] = "ie_ev", "ea_ev"
    check_config(config, tmp_path, workflow_dir=REPO)
    dataset.update(smiles_column="smiles", charge_column="charge")
    message = rf"datasets\.demo\.smiles_column: 'smiles' is not a column of labels\{suffix} "
    sheet = "first sheet, whose header is its first row that is not empty; " * (suffix == ".xlsx")
    with pytest.raises(ConfigError, match=message + rf"\({sheet}columns: SMILES, .*did you mean"):
        check_config(config, tmp_path, workflow_dir=REPO)
    dataset["smiles_column"] = "SMILES"
    with pytest.raises(ConfigError, match=r"datasets\.demo\.charge_column: 'charge' is not a"):
        check_config(config, tmp_path, workflow_dir=REPO)
    dataset.pop("charge_column")
    dataset["targets"]["EA"]["column"] = "ea_eV"
    with pytest.raises(ConfigError, match=r"targets\.EA\.column: .*did you mean 'ea_ev'"):
        check_config(config, tmp_path, workflow_dir=REPO)
    (path / "part-0.parquet" if path.is_dir() else path).write_bytes(b"")
    with pytest.raises(ConfigError, match=r"datasets\.demo\.source: .*labels[._]\w+"):
        check_config(config, tmp_path, workflow_dir=REPO)


@pytest.mark.parametrize(
    "key, column",
    [("smiles_column", "IsomericSMILES"), ("id_column", "CID"), ("targets.IE.column", "ie")],
)
def test_an_xtb_set_reads_the_labels_columns(config, key, column):
    dataset = config["datasets"]["demo"]
    dataset.update(source="resources/demo_library.smi", label_with_xtb=True)
    *parents, last = key.split(".")
    reduce(dict.__getitem__, parents, dataset)[last] = column
    message = rf"datasets\.demo\.{key}: '{column}' is not a column of the xTB labels \(id, smil"
    with pytest.raises(ConfigError, match=message):
        check_config(config, REPO)


@pytest.mark.parametrize("key", ["datasets", "screen"])
def test_a_header_written_as_a_comment_is_named(config, tmp_path: Path, key):
    (tmp_path / "labels.csv").write_text(
        "# from the group's notebook\n#smiles,ie,ea\nCCO,10.5,-1\n"
    )
    if key == "datasets":
        config["datasets"]["demo"]["source"] = "labels.csv"
        where = r"datasets\.demo\.smiles_column: 'smiles' is not a column of labels\.csv"
    else:
        config["screen"] = {"mine": "labels.csv"}
        where = r"screen\.mine: .*labels\.csv: no 'smiles' column in the header"
    message = where + r".*; line 2 \('#smiles,ie,ea'\) names it but starts with '#'"
    with pytest.raises(ConfigError, match=message):
        check_config(config, tmp_path, workflow_dir=REPO)


def test_a_data_set_column_named_twice_is_refused_before_any_job(config, tmp_path: Path):
    (tmp_path / "labels.csv").write_text("smiles,ie,ea,ie\nCCO,9.1,1.0,7.5\n")
    dataset = config["datasets"]["demo"]
    dataset.update(source="labels.csv", smiles_column="smiles", id_column=None)
    dataset["targets"]["IE"]["column"], dataset["targets"]["EA"]["column"] = "ie", "ea"
    message = r"datasets\.demo\.targets\.IE\.column: labels\.csv names the column 'ie' more than"
    with pytest.raises(ConfigError, match=message):
        check_config(config, tmp_path, workflow_dir=REPO)


def test_training_settings_that_every_job_would_refuse_stop_snakemake_first(config):
    config["training"] = {"patience": 5, "validation_fraction": 0.0}
    with pytest.raises(ConfigError, match=r"training\.patience > 0 needs training\.validation"):
        check_config(config, REPO)


def test_with_nothing_screened_no_calibration_set_is_needed(config):
    config["screening"].update(oxidation_target=None, reduction_target=None, interval="ensemble")
    config["final"]["calibration_fraction"] = 0
    check_config(config, REPO)  # the ensemble interval is the screening's alone
    config["screening"]["reduction_target"] = "EA"
    config["screening"]["roles"] = {"anode": {"potential": "reduction", "band_min_v": 1.8}}
    with pytest.raises(ConfigError, match=r"screening\.interval: 'ensemble' needs a calibration"):
        check_config(config, REPO)


def test_a_key_set_twice_in_a_config_file_is_refused_naming_its_lines(tmp_path: Path):
    """YAML keeps a repeated key's last value without a word."""
    files = {
        "top.yaml": "training:\n  dropout: 0.2\nseed: 3\ntraining:\n  l2: 0.1\n",
        "nested.yaml": "training:\n  dropout: 0.2\n  l2: 0.1\n  dropout: 0.3\n",
        "listed.yaml": "grid:\n  models: [{a: 1, a: 2}]\n",
        "settings.json": '{"seed": 1, "final": {"k": 3, "k": 4}}',
        "fine.yaml": "training: {dropout: 0.2}\nscreening: {dropout: 0.2}\n",
        # JSON indented with tabs, which YAML cannot read; merge keys, which may repeat; 1 and "1"
        "tabs.json": '{\n\t"seed": 1,\n\t"final": {\n\t\t"k": 3\n\t}\n}\n',
        "merged.yaml": "a: &a {x: 1}\nb: &b {y: 1}\nt:\n  <<: *a\n  <<: *b\n",
        "numbers.yaml": "t:\n  1: a\n  '1': b\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    said = {
        "top.yaml": "training is set twice (lines 1 and 4)",
        "nested.yaml": "training.dropout is set twice (lines 2 and 4)",
        "listed.yaml": "grid.models[0].a is set twice (lines 2 and 2)",
        "settings.json": "the key 'k' is set twice in one object",
    }
    for name, message in said.items():
        with pytest.raises(ConfigError, match=re.escape(f"{name}: {message}, and only the last")):
            check_repeated_keys([tmp_path / "fine.yaml", tmp_path / name])
    fine = ["fine.yaml", "tabs.json", "merged.yaml", "numbers.yaml"]
    check_repeated_keys([tmp_path / name for name in fine] + [REPO / "config/config.yaml"])
