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
from itertools import chain
from pathlib import Path

import numpy as np
import pandas as pd
from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator
from scipy import sparse

from redoxscreen.tables import write_table

log = logging.getLogger(__name__)

TRAINING_MOLECULES = "training_molecules.parquet"
RADIUS, N_BITS = 2, 2048  # ECFP4
GENERATOR = rdFingerprintGenerator.GetMorganGenerator(radius=RADIUS, fpSize=N_BITS)


def similarity_fingerprint(mol: Chem.Mol) -> DataStructs.ExplicitBitVect:
    return GENERATOR.GetFingerprint(mol)


class TrainingNeighbours:
    """The molecules a target's models trained on, to find each new molecule's nearest.

    Their ECFP4 bits are held as one sparse matrix, so a batch of new molecules is compared
    with all of them by one sparse product (their common bits); the Tanimoto similarities are
    the exact fractions that RDKit's ``BulkTanimotoSimilarity`` gives, several times faster
    for thousands of training molecules."""

    def __init__(self, ids: Sequence[str], smiles: Sequence[str]):
        self.ids = np.asarray(ids, dtype=str)
        self.by_smiles: dict[str, str] = {}  # canonical SMILES -> the first id that has it
        fingerprints = []
        for molecule_id, text in zip(self.ids, smiles, strict=True):
            mol = Chem.MolFromSmiles(text)
            if mol is None:
                raise ValueError(f"training molecule {molecule_id}: SMILES {text!r} does not parse")
            fingerprints.append(similarity_fingerprint(mol))
            self.by_smiles.setdefault(text, str(molecule_id))
        if not fingerprints:
            raise ValueError("no training molecules to compare with")
        self.bits = bit_matrix(fingerprints).T.tocsr()  # bits x molecules, as the queries
        self.bit_counts = np.asarray(self.bits.sum(axis=0), dtype=np.float64).ravel()

    def __len__(self) -> int:
        return len(self.ids)

    def nearest(
        self, fingerprints: Sequence, smiles: Sequence[str]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per molecule (its ECFP4 ``fingerprints`` and canonical ``smiles``): the Tanimoto
        similarity of the most similar training molecule and that molecule's id. A training
        molecule is its own nearest (1.0), even where another one has the same bits (positional
        isomers may); otherwise the first of the most similar, in the stored order."""
        similarity = np.empty(len(fingerprints))
        nearest = np.empty(len(fingerprints), dtype=object)
        known = np.array([text in self.by_smiles for text in smiles], dtype=bool)
        for row in np.flatnonzero(known):
            similarity[row], nearest[row] = 1.0, self.by_smiles[smiles[row]]
        unknown = np.flatnonzero(~known)
        queries = bit_matrix([fingerprints[row] for row in unknown])
        batch = max(1, SCORES_PER_BATCH // len(self))  # bounds the memory of the scores
        for start in range(0, len(unknown), batch):
            rows = unknown[start : start + batch]
            scores = self.tanimoto(queries[start : start + batch])
            best = scores.argmax(axis=1)  # the first of the highest
            similarity[rows] = scores[np.arange(len(rows)), best]
            nearest[rows] = self.ids[best]
        return similarity, nearest

    def tanimoto(self, queries: sparse.csr_matrix) -> np.ndarray:
        """Tanimoto similarity of each query row to each training molecule: common bits over
        the bits of either."""
        common = (queries @ self.bits).toarray().astype(np.float64)
        query_counts = np.asarray(queries.sum(axis=1), dtype=np.float64)
        return common / (query_counts + self.bit_counts - common)

    @classmethod
    def from_table(cls, table: pd.DataFrame) -> TrainingNeighbours:
        return cls(table["id"].tolist(), table["smiles"].tolist())


SCORES_PER_BATCH = 250_000  # similarities computed at once (2 MB): about the fastest measured


def bit_matrix(fingerprints: Sequence) -> sparse.csr_matrix:
    """The ECFP4 bit vectors as rows of a sparse 0/1 matrix."""
    on_bits = [list(fingerprint.GetOnBits()) for fingerprint in fingerprints]
    starts = np.cumsum([0, *map(len, on_bits)])
    columns = np.fromiter(chain.from_iterable(on_bits), dtype=np.int32, count=starts[-1])
    values = np.ones(len(columns), dtype=np.float32)
    return sparse.csr_matrix((values, columns, starts), shape=(len(on_bits), N_BITS))


def read_training_molecules(model_dir: str | Path) -> pd.DataFrame | None:
    """The id and canonical SMILES of the molecules that ``model_dir``'s models trained on, or
    None with a warning where it records none (a directory made before they were recorded)."""
    path = Path(model_dir) / TRAINING_MOLECULES
    if not path.exists():
        log.warning(
            "%s: no %s (made before training molecules were recorded), so its similarity "
            "and nearest columns stay empty; `snakemake %s` writes it",
            model_dir, TRAINING_MOLECULES, path,
        )  # fmt: skip
        return None
    table = pd.read_parquet(path, columns=["id", "smiles"])
    return table.astype({"id": str})


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
