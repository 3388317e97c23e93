"""Small real data sets made in the tests: demo-library molecules with RDKit-computed labels.

Crippen logP and molar refractivity are additive over atom environments, so a fingerprint
network must learn them well; that makes them honest checks that training really learns.
"""

from __future__ import annotations

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
