"""xTB labels (redoxscreen.xtb), the Snakemake labelling script and the demo library."""

from __future__ import annotations

import pandas as pd
import pytest
from rdkit import Chem

from redoxscreen.demo_library import ALLOWED_ELEMENTS, enumerate_demo_library, write_smiles_file
from redoxscreen.tables import SmilesColumns
from redoxscreen.xtb import (
    FAILURE_COLUMNS,
    LABEL_COLUMNS,
    LabellingError,
    XtbSettings,
    label_molecules,
    label_smiles_file,
    vertical_ie_ea,
)

# Potential of the Li+/Li electrode on the absolute (vacuum) scale, in V: E(vs Li) = E_abs - 1.40
LI_OFFSET_V = 1.40

MOLECULES = [
    ("benzene", "c1ccccc1"),
    ("bad", "C1CC(("),  # not parseable: must fail alone at stage "parse"
    ("benzoquinone", "O=C1C=CC(=O)C=C1"),
    ("fluoranil", "O=C1C(F)=C(F)C(=O)C(F)=C1F"),
    ("naphthalene", "c1ccc2ccccc2c1"),
]


@pytest.fixture(scope="module")
def labelled() -> tuple[pd.DataFrame, pd.DataFrame]:
    return label_molecules(MOLECULES, XtbSettings(), processes=1, progress=False)


def _row(labels: pd.DataFrame, molecule_id: str) -> pd.Series:
    return labels.set_index("id").loc[molecule_id]


def test_tables_have_the_documented_columns(labelled):
    labels, failures = labelled
    assert list(labels.columns) == LABEL_COLUMNS
    assert list(failures.columns) == FAILURE_COLUMNS
    assert list(labels["id"]) == ["benzene", "benzoquinone", "fluoranil", "naphthalene"]
    assert set(labels["force_field"]) == {"MMFF94"}


def test_unparseable_smiles_fails_alone_at_parse(labelled):
    labels, failures = labelled
    assert len(labels) == len(MOLECULES) - 1
    assert failures.to_dict("records")[0]["id"] == "bad"
    assert failures.to_dict("records")[0]["stage"] == "parse"
    assert len(failures) == 1


def test_benzene_oxidation_potential(labelled):
    # Benzene is oxidised around 5.5-6 V vs Li in carbonate / nitrile electrolytes; a vertical,
    # force-field-geometry label overshoots the adiabatic value by a few tenths of a volt.
    ie = _row(labelled[0], "benzene")["ie_ev"]
    assert 4.5 < ie - LI_OFFSET_V < 6.5


def test_benzoquinone_reduction_potential(labelled):
    # 1,4-benzoquinone: first reduction ~2.7-2.9 V vs Li in aprotic electrolyte.
    ea = _row(labelled[0], "benzoquinone")["ea_ev"]
    assert 2.2 < ea - LI_OFFSET_V < 3.2


def test_relative_trends(labelled):
    labels = labelled[0]
    benzene, quinone = _row(labels, "benzene"), _row(labels, "benzoquinone")
    fluoranil, naphthalene = _row(labels, "fluoranil"), _row(labels, "naphthalene")
    # a quinone takes an electron far more readily than an arene (> 2 eV in solution)
    assert quinone["ea_ev"] - benzene["ea_ev"] > 2.0
    # four fluorines withdraw electrons: a stronger oxidant than the parent quinone
    assert fluoranil["ea_ev"] > quinone["ea_ev"]
    # the larger pi system ionises more easily (gas-phase IE 8.14 vs 9.24 eV)
    assert naphthalene["ie_ev"] < benzene["ie_ev"]
    assert (labels["ie_ev"] > labels["ea_ev"]).all()


def test_labels_are_deterministic(labelled):
    again = label_molecules(MOLECULES, XtbSettings(), processes=1, progress=False)
    pd.testing.assert_frame_equal(again[0], labelled[0], check_exact=True)
    pd.testing.assert_frame_equal(again[1], labelled[1], check_exact=True)


def test_two_processes_give_the_same_tables(labelled):
    parallel = label_molecules(MOLECULES, XtbSettings(), processes=2, progress=False)
    pd.testing.assert_frame_equal(parallel[0], labelled[0], check_exact=True)
    pd.testing.assert_frame_equal(parallel[1], labelled[1], check_exact=True)


@pytest.mark.parametrize(
    ("smiles", "reason"),
    [
        ("not a smiles", "parse"),
        ("C[N+](C)(C)C", "net charge"),
        ("[CH3]", "unpaired"),
        ("", "empty"),  # an empty smiles cell of a .csv source
    ],
)
def test_vertical_ie_ea_rejects_bad_input(smiles, reason):
    with pytest.raises(LabellingError, match=reason) as caught:
        vertical_ie_ea(smiles, XtbSettings())
    assert caught.value.stage == "parse"
    assert smiles in str(caught.value)


def test_gas_phase_and_shift_are_configurable():
    shifted = vertical_ie_ea("O=C1C=CC(=O)C=C1", XtbSettings())
    unshifted = vertical_ie_ea("O=C1C=CC(=O)C=C1", XtbSettings(ipea_shift_ev=0.0))
    assert unshifted.ie_ev - shifted.ie_ev == pytest.approx(4.8455)
    assert unshifted.ea_ev - shifted.ea_ev == pytest.approx(4.8455)
    gas = vertical_ie_ea("O=C1C=CC(=O)C=C1", XtbSettings(solvent=None))
    # the solvent stabilises the anion: a larger EA in acetonitrile than in the gas phase
    assert shifted.ea_ev > gas.ea_ev + 1.0


SOURCES = {
    "in.smi": ("# two molecules\nc1ccccc1 benzene\nC1CC(( broken\n", ["broken"], ["parse"]),
    "in.csv": (
        "CID,IsomericSMILES\nbenzene,c1ccccc1\nbroken,C1CC((\nshifted,C,x\n",
        ["shifted", "broken"],  # the lines that could not be read come first
        ["input", "parse"],
    ),
}


@pytest.mark.parametrize("name", SOURCES)
def test_label_smiles_file_writes_tables(tmp_path, name):
    text, failed_ids, stages = SOURCES[name]
    smiles = tmp_path / name
    smiles.write_text(text)
    columns = SmilesColumns("IsomericSMILES", "CID") if name.endswith(".csv") else None
    counts = label_smiles_file(
        smiles,
        tmp_path / "labels.csv",
        tmp_path / "failures.tsv",
        XtbSettings(),
        processes=1,
        progress=False,
        columns=columns,
    )
    assert {key: counts[key] for key in ("molecules", "labelled", "failed")} == {
        "molecules": 1 + len(failed_ids),
        "labelled": 1,
        "failed": len(failed_ids),
    }
    assert list(pd.read_csv(tmp_path / "labels.csv")["id"]) == ["benzene"]
    failures = pd.read_csv(tmp_path / "failures.tsv", sep="\t")
    assert failures["id"].tolist() == failed_ids
    assert failures["stage"].tolist() == stages


def test_demo_library(tmp_path):
    library = enumerate_demo_library()
    assert len(library) >= 1300
    ids = [molecule_id for molecule_id, _ in library]
    assert ids[:2] == ["demo-0001", "demo-0002"]
    assert len(set(ids)) == len(ids)
    canonical = []
    for _, smiles in library:
        molecule = Chem.MolFromSmiles(smiles)
        assert molecule is not None, smiles
        assert Chem.GetFormalCharge(molecule) == 0, smiles
        assert len(Chem.GetMolFrags(molecule)) == 1, smiles
        assert not any(atom.GetNumRadicalElectrons() for atom in molecule.GetAtoms()), smiles
        assert {atom.GetSymbol() for atom in molecule.GetAtoms()} <= ALLOWED_ELEMENTS, smiles
        canonical.append(Chem.MolToSmiles(molecule))
    assert len(set(canonical)) == len(canonical)
    assert enumerate_demo_library() == library  # deterministic ids and order

    count = write_smiles_file(tmp_path / "demo.smi")
    lines = (tmp_path / "demo.smi").read_text().splitlines()
    assert count == len(library) == len(lines) - 1
    assert lines[0] == (
        f"# redoxscreen demo library: {count} molecules (python -m redoxscreen.demo_library)"
    )
    assert lines[1] == f"{library[0][1]} {library[0][0]}"


def test_a_misspelt_solvent_stops_before_any_molecule_is_labelled():
    with pytest.raises(ValueError, match=r"xtb\.solvent: tblite does not know 'acetonitril'"):
        label_molecules(MOLECULES, XtbSettings(solvent="acetonitril"), progress=False)
