import pytest

from redoxscreen.chemistry import (
    CHARGED,
    DISALLOWED_ELEMENT,
    INVALID_SMILES,
    MISSING_SMILES,
    MULTIPLE_FRAGMENTS,
    MoleculeRejected,
    StandardizeOptions,
    standardize,
)


def test_kekule_and_aromatic_forms_share_one_identity():
    aromatic = standardize("c1ccccc1")
    kekule = standardize("C1=CC=CC=C1")
    assert aromatic == kekule
    assert aromatic.smiles == "c1ccccc1"
    assert aromatic.inchikey == "UHOVQNZJYSORNB-UHFFFAOYSA-N"
    assert aromatic.heavy_atoms == 6


@pytest.mark.parametrize(
    ("smiles", "reason"),
    [
        ("", MISSING_SMILES),
        (None, MISSING_SMILES),
        ("C1CC", INVALID_SMILES),  # unclosed ring
        ("C(C)(C)(C)(C)C", INVALID_SMILES),  # pentavalent carbon fails sanitization
        ("[Na+].[Cl-]", MULTIPLE_FRAGMENTS),
        ("C[N+](C)(C)C", CHARGED),
        ("CC[Se]CC", DISALLOWED_ELEMENT),
    ],
)
def test_rejections_name_their_reason(smiles, reason):
    with pytest.raises(MoleculeRejected) as caught:
        standardize(smiles)
    assert caught.value.reason == reason
    assert caught.value.detail


def test_sanitization_message_comes_from_rdkit():
    with pytest.raises(MoleculeRejected, match="valence"):
        standardize("C(C)(C)(C)(C)C")


def test_options_from_config_do_not_depend_on_the_order_of_elements():
    entry = {"allowed_elements": ["O", "C", "H"], "neutral_only": True, "largest_fragment": False}
    reordered = entry | {"allowed_elements": ["C", "H", "O"]}
    assert StandardizeOptions.from_config(entry) == StandardizeOptions.from_config(reordered)


def test_largest_fragment_option_keeps_the_organic_part():
    options = StandardizeOptions(largest_fragment=True)
    molecule = standardize("O=C1C=CC(=O)C=C1.O", options)
    assert molecule.smiles == "O=C1C=CC(=O)C=C1"


def test_a_kept_fragment_that_is_rejected_is_quoted_beside_the_input():
    """Sodium benzoate's largest fragment is the benzoate anion: its charge is the reason."""
    options = StandardizeOptions(largest_fragment=True)
    with pytest.raises(MoleculeRejected) as rejected:
        standardize("[Na+].[O-]C(=O)c1ccccc1", options)
    assert (rejected.value.reason, rejected.value.detail) == (
        CHARGED,
        "'O=C([O-])c1ccccc1' (from '[Na+].[O-]C(=O)c1ccccc1') has net charge -1 (neutral_only)",
    )
    with pytest.raises(
        MoleculeRejected,
        match=r"^disallowed_element: 'CC\[Se\]C' \(from 'CC\[Se\]C\.O'\) contains Se",
    ):
        standardize("CC[Se]C.O", options)  # selenium is not in the default elements
    with pytest.raises(MoleculeRejected, match=r"^charged: 'C\[N\+\]\(C\)\(C\)C' has net charge"):
        standardize("C[N+](C)(C)C")  # one fragment: the input alone


@pytest.mark.parametrize(
    ("smiles", "neutral"),
    [
        ("[Na+].[O-]C(=O)c1ccccc1", "O=C(O)c1ccccc1"),  # sodium benzoate: benzoic acid
        ("C[NH3+].[Cl-]", "CN"),  # methylammonium chloride: methylamine
        ("[H][N+]([H])([H])C.[Cl-]", "CN"),  # hydrogen atoms written out
        ("[NH3+]CC(=O)[O-]", "[NH3+]CC(=O)[O-]"),  # a zwitterion, neutral overall: as written
        ("O=[N+]([O-])c1ccccc1", "O=[N+]([O-])c1ccccc1"),  # a nitro group's charges stay
        ("Oc1ccccc1", "Oc1ccccc1"),
    ],
)
def test_neutralize_adds_or_removes_protons_after_keeping_the_largest_fragment(smiles, neutral):
    options = StandardizeOptions(largest_fragment=True, neutralize=True)
    assert standardize(smiles, options).smiles == neutral


@pytest.mark.parametrize(
    ("smiles", "kept", "charge"),
    [
        ("C[N+](C)(C)C.[Cl-]", "C[N+](C)(C)C", "+1"),  # a quaternary ammonium: no proton
        ("[CH2+]c1ccccc1", None, "+1"),  # a benzyl cation: toluene would need a hydride
        ("[Na+].[BH4-]", "[BH4-]", "-1"),  # borohydride: borane would lose a hydride
        ("[Li+].F[P-](F)(F)(F)(F)F", "F[P-](F)(F)(F)(F)F", "-1"),  # HPF6's P: impossible valence
    ],
)
def test_a_charge_that_no_proton_removes_is_still_refused_with_neutralize(smiles, kept, charge):
    options = StandardizeOptions(largest_fragment=True, neutralize=True)
    with pytest.raises(MoleculeRejected) as rejected:
        standardize(smiles, options)
    named = f"{kept!r} (from {smiles!r})" if kept else repr(smiles)
    assert (rejected.value.reason, rejected.value.detail) == (
        CHARGED,
        f"{named} has net charge {charge} (neutral_only)",
    )


def test_hydrogen_atoms_written_out_are_implicit_in_the_canonical_smiles():
    assert standardize("[H]c1ccccc1").smiles == standardize("c1ccccc1").smiles == "c1ccccc1"
    assert standardize("[H]OC([H])([H])[H]").smiles == "CO"
    assert standardize("[2H]C").smiles == "[2H]C"  # an isotope stays


def test_an_unchanged_molecule_is_named_as_written():
    options = StandardizeOptions(largest_fragment=True, neutralize=True)
    with pytest.raises(MoleculeRejected, match=r"^disallowed_element: 'CC\[Se\]C' contains Se"):
        standardize("CC[Se]C", options)  # unchanged: named as written


def test_charged_molecules_pass_when_neutral_only_is_off():
    molecule = standardize("C[N+](C)(C)C", StandardizeOptions(neutral_only=False))
    assert molecule.formal_charge == 1


def test_allowed_elements_are_configurable():
    options = StandardizeOptions(allowed_elements=("C", "H", "O"))
    with pytest.raises(MoleculeRejected, match="N"):
        standardize("CCN", options)
    assert standardize("CCO", options).heavy_atoms == 3
