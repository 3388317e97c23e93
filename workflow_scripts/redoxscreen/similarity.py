"""How like the training molecules a new molecule is: its nearest training molecule.

An ensemble can agree confidently on a molecule unlike any it learned from, so a prediction's
interval says little there. Each prediction therefore carries the Tanimoto similarity of its
molecule to the most similar molecule that the target's final models trained on, and that
molecule's id, on ECFP4 bits (Morgan radius 2, 2048 bits), the usual measure of an
applicability domain. A target's final model directory holds those molecules
(``training_molecules.parquet``: id, canonical SMILES; the calibration set is not among them).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator

from redoxscreen.tables import write_table

log = logging.getLogger(__name__)

TRAINING_MOLECULES = "training_molecules.parquet"
RADIUS, N_BITS = 2, 2048  # ECFP4
GENERATOR = rdFingerprintGenerator.GetMorganGenerator(radius=RADIUS, fpSize=N_BITS)


def similarity_fingerprint(mol: Chem.Mol) -> DataStructs.ExplicitBitVect:
    return GENERATOR.GetFingerprint(mol)


class TrainingNeighbours:
    """The molecules a target's models trained on, to find each new molecule's nearest."""

    def __init__(self, ids: Sequence[str], smiles: Sequence[str]):
        self.ids = np.asarray(ids, dtype=str)
        self.fingerprints = []
        self.by_smiles: dict[str, str] = {}  # canonical SMILES -> the first id that has it
        for molecule_id, text in zip(self.ids, smiles, strict=True):
            mol = Chem.MolFromSmiles(text)
            if mol is None:
                raise ValueError(f"training molecule {molecule_id}: SMILES {text!r} does not parse")
            self.fingerprints.append(similarity_fingerprint(mol))
            self.by_smiles.setdefault(text, str(molecule_id))
        if not self.fingerprints:
            raise ValueError("no training molecules to compare with")

    def __len__(self) -> int:
        return len(self.fingerprints)

    def same_molecules(self, other: TrainingNeighbours) -> bool:
        """Both hold the same molecules in the same order (IE and EA labelled alike)."""
        return np.array_equal(self.ids, other.ids) and self.by_smiles == other.by_smiles

    def nearest(
        self, fingerprints: Sequence, smiles: Sequence[str]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per molecule (its ECFP4 ``fingerprints`` and canonical ``smiles``): the Tanimoto
        similarity of the most similar training molecule and that molecule's id. A training
        molecule is its own nearest (1.0), even where another one has the same bits (positional
        isomers may); otherwise the first of the most similar, in the stored order."""
        similarity = np.empty(len(fingerprints))
        nearest = np.empty(len(fingerprints), dtype=object)
        for row, (fingerprint, text) in enumerate(zip(fingerprints, smiles, strict=True)):
            if text in self.by_smiles:
                similarity[row], nearest[row] = 1.0, self.by_smiles[text]
                continue
            scores = DataStructs.BulkTanimotoSimilarity(fingerprint, self.fingerprints)
            best = int(np.argmax(scores))
            similarity[row], nearest[row] = scores[best], self.ids[best]
        return similarity, nearest

    @classmethod
    def load(cls, model_dir: str | Path) -> TrainingNeighbours | None:
        """The neighbours that ``model_dir`` records, or None with a warning where it records
        none (a directory made before they were recorded)."""
        path = Path(model_dir) / TRAINING_MOLECULES
        if not path.exists():
            log.warning(
                "%s: no %s (made before training molecules were recorded), so its similarity "
                "and nearest columns stay empty; `snakemake %s` writes it",
                model_dir, TRAINING_MOLECULES, path,
            )  # fmt: skip
            return None
        table = pd.read_parquet(path, columns=["id", "smiles"])
        return cls(table["id"].astype(str).tolist(), table["smiles"].tolist())


def write_training_molecules(
    molecules_path: str, trained_ids: Sequence[str], out_path: str
) -> pd.DataFrame:
    """The id and canonical SMILES of the molecules ``trained_ids`` names, in their order."""
    molecules = pd.read_parquet(molecules_path, columns=["id", "smiles"]).set_index("id")
    missing = pd.Index(trained_ids).difference(molecules.index)
    if len(missing):
        raise ValueError(f"{len(missing)} trained molecules are not in {molecules_path}: "
                         f"{list(missing[:5])}")  # fmt: skip
    table = molecules.loc[list(trained_ids)].reset_index()
    write_table(table, out_path)
    return table
