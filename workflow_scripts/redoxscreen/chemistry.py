"""Parsing and standardizing molecules from SMILES with RDKit.

``standardize`` turns an input SMILES into the canonical form every later stage uses, or raises
``MoleculeRejected`` with a machine-readable reason and a sentence a person can act on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rdkit import Chem, RDLogger
from rdkit.Chem.MolStandardize import rdMolStandardize

DEFAULT_ALLOWED_ELEMENTS = ("H", "B", "C", "N", "O", "F", "Si", "P", "S", "Cl", "Br", "I")

# Reasons a whole molecule (input row) is rejected.
MISSING_SMILES = "missing_smiles"
INVALID_SMILES = "invalid_smiles"
MULTIPLE_FRAGMENTS = "multiple_fragments"
CHARGED = "charged"
DISALLOWED_ELEMENT = "disallowed_element"
NO_INCHIKEY = "no_inchikey"

RDLogger.DisableLog("rdApp.*")  # failures are reported per row with a reason instead


class MoleculeRejected(ValueError):
    """A SMILES that cannot enter the data set, with the reason code and a readable detail."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class StandardizedMolecule:
    """The canonical identity of one molecule."""

    smiles: str
    inchikey: str
    heavy_atoms: int
    formal_charge: int


@dataclass(frozen=True)
class StandardizeOptions:
    """What counts as an acceptable molecule."""

    allowed_elements: tuple[str, ...] = DEFAULT_ALLOWED_ELEMENTS
    neutral_only: bool = True
    largest_fragment: bool = False
    neutralize: bool = False  # libraries only: a data set's label is the species' as written

    def __post_init__(self) -> None:  # options compare equal whatever the elements' order
        object.__setattr__(self, "allowed_elements", tuple(sorted(self.allowed_elements)))

    @classmethod
    def from_config(cls, entry: Mapping) -> StandardizeOptions:
        """From the config's ``ingest:`` section (which a model directory's metrics.json
        records)."""
        return cls(
            allowed_elements=tuple(entry["allowed_elements"]),
            neutral_only=bool(entry["neutral_only"]),
            largest_fragment=bool(entry["largest_fragment"]),
        )


def parse_smiles(smiles: str) -> Chem.Mol:
    """Parse and sanitize a SMILES string, raising ``MoleculeRejected`` with RDKit's reason.
    Hydrogen atoms written out (``[H]c1ccccc1``) become implicit, as in every other way of
    writing the molecule; an isotope's (``[2H]``) stay."""
    text = "" if smiles is None else str(smiles).strip()
    if not text or text.lower() in {"nan", "none", "null"}:
        raise MoleculeRejected(MISSING_SMILES, "the SMILES cell is empty")
    mol = Chem.MolFromSmiles(text, sanitize=False)
    if mol is None:
        raise MoleculeRejected(INVALID_SMILES, f"RDKit cannot parse {text!r}")
    try:
        Chem.SanitizeMol(mol)
        return mol if mol.GetNumAtoms() == mol.GetNumHeavyAtoms() else Chem.RemoveHs(mol)
    except ValueError as error:  # RDKit's sanitization errors are MolSanitizeException(ValueError)
        raise MoleculeRejected(
            INVALID_SMILES, f"RDKit cannot sanitize {text!r}: {error}"
        ) from error


def keep_largest_fragment(mol: Chem.Mol, smiles: str, allowed: bool) -> Chem.Mol:
    """Return the molecule, or its largest fragment when allowed; reject salts and mixtures."""
    fragments = Chem.GetMolFrags(mol, asMols=True)
    if len(fragments) == 1:
        return mol
    if not allowed:
        raise MoleculeRejected(
            MULTIPLE_FRAGMENTS,
            f"{smiles!r} has {len(fragments)} fragments (largest_fragment keeps the largest "
            "one: ingest.largest_fragment for the data set, predict.largest_fragment or "
            "--largest-fragment for a library)",
        )
    return rdMolStandardize.LargestFragmentChooser().choose(mol)


def neutralized(mol: Chem.Mol) -> Chem.Mol:
    """A charged molecule made neutral by protons added or removed (benzoate to benzoic acid,
    methylammonium to methylamine; RDKit's ``Uncharger`` with ``protonationOnly``), or the
    molecule as it is: one of net charge 0 (a zwitterion, a nitro group), one whose charge no
    proton removes (a quaternary ammonium, a benzyl cation) or one that a proton would leave
    with an impossible valence (hexafluorophosphate)."""
    if Chem.GetFormalCharge(mol) == 0:
        return mol
    uncharged = rdMolStandardize.Uncharger(protonationOnly=True).uncharge(mol)
    try:
        Chem.SanitizeMol(uncharged)
    except ValueError:  # MolSanitizeException: the charged molecule is refused as charged
        return mol
    return uncharged


def check_elements(mol: Chem.Mol, named: str, allowed_elements: Iterable[str]) -> None:
    """Reject ``mol`` (``named`` in the message, quoted) for an element outside the list."""
    present = {atom.GetSymbol() for atom in mol.GetAtoms()}
    outside = sorted(present - set(allowed_elements))
    if outside:
        raise MoleculeRejected(
            DISALLOWED_ELEMENT,
            f"{named} contains {', '.join(outside)} (not in allowed_elements)",
        )


def standardize(smiles: str, options: StandardizeOptions | None = None) -> StandardizedMolecule:
    """Canonical SMILES, InChIKey and heavy-atom count of an input SMILES, or a rejection."""
    options = options or StandardizeOptions()
    whole = parse_smiles(smiles)
    mol = keep_largest_fragment(whole, smiles, options.largest_fragment)
    if options.neutralize:
        mol = neutralized(mol)
    canonical = Chem.MolToSmiles(mol)
    changed = mol is not whole and canonical != Chem.MolToSmiles(whole)
    named = f"{canonical!r} (from {smiles!r})" if changed else repr(smiles)
    charge = Chem.GetFormalCharge(mol)
    if options.neutral_only and charge != 0:
        raise MoleculeRejected(CHARGED, f"{named} has net charge {charge:+d} (neutral_only)")
    check_elements(mol, named, options.allowed_elements)
    inchikey = Chem.MolToInchiKey(mol)
    if not inchikey:
        raise MoleculeRejected(NO_INCHIKEY, f"RDKit could not compute an InChIKey for {smiles!r}")
    return StandardizedMolecule(
        smiles=canonical,
        inchikey=inchikey,
        heavy_atoms=mol.GetNumHeavyAtoms(),
        formal_charge=charge,
    )
