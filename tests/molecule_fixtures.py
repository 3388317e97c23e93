"""Small real data sets made in the tests: demo-library molecules with RDKit-computed labels.

Crippen logP and molar refractivity are additive over atom environments, so a fingerprint
network must learn them well; that makes them honest checks that training really learns.
"""

from __future__ import annotations

import zipfile
from functools import cache

import pandas as pd
from rdkit import Chem
from rdkit.Chem import Crippen

from redoxscreen.demo_library import enumerate_demo_library


@cache
def labelled_molecules(every: int = 5) -> pd.DataFrame:
    """Every ``every``-th demo molecule with columns id, smiles, logp, mr (MR / 10)."""
    rows = []
    for molecule_id, smiles in enumerate_demo_library()[::every]:
        mol = Chem.MolFromSmiles(smiles)
        rows.append((molecule_id, smiles, Crippen.MolLogP(mol), Crippen.MolMR(mol) / 10))
    return pd.DataFrame(rows, columns=["id", "smiles", "logp", "mr"])


def tiny_dataset_config(source: str, **sections) -> dict:
    """A workflow config for the table written by ``labelled_molecules``."""
    return {
        "dataset": "tiny",
        "datasets": {
            "tiny": {
                "source": source,
                "smiles_column": "smiles",
                "id_column": "id",
                "targets": {
                    "IE": {"column": "logp", "unit": "logP", "conversion": "V_vs_Li"},
                    "EA": {"column": "mr", "unit": "MR/10", "conversion": "V_vs_Li"},
                },
            }
        },
        **sections,
    }


def labelled_sd_file(path, records: list[tuple[str, str, dict[str, str]]]) -> list[int]:
    """An SD file of ``(SMILES, title, data items)`` records, 2D, written by RDKit; a record
    whose SMILES is ``Xx`` holds an element that does not exist (as a broken vendor record
    does). Returns the line where each record starts."""
    blocks = []
    for smiles, title, items in records:
        mol = Chem.MolFromSmiles("C" if smiles == "Xx" else smiles)
        mol.SetProp("_Name", title)
        block = Chem.MolToMolBlock(mol)
        if smiles == "Xx":
            block = block.replace(" C   0", " Xx  0", 1)
        data = "".join(f">  <{name}>\n{value}\n\n" for name, value in items.items())
        blocks.append(f"{block}{data}$$$$\n")
    path.write_text("".join(blocks))
    starts = [1]
    for block in blocks[:-1]:
        starts.append(starts[-1] + block.count("\n"))
    return starts


def zip_parts(path) -> dict[str, bytes]:
    """The files of a ZIP archive (an XLSX workbook's parts), by name."""
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_zip(path, parts: dict[str, bytes]) -> None:
    """A ZIP archive of these files (a workbook whose parts a test has edited)."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
