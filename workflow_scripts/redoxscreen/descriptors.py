"""RDKit 2D descriptors, an optional second block of features beside the fingerprint.

``training.descriptors: true`` appends RDKit's 2D descriptors (``Descriptors.descList``) to
every fingerprint. They are stored as ``sign(v) log(1 + |v|)``, which needs no fitting and
keeps descriptors such as ``Ipc`` (up to 1e20 and more) in a range a network can use; the
network then standardizes them with means and SDs of its own training molecules (a
``Normalization`` layer saved inside the ``.keras`` model, so prediction needs only this
module). A descriptor that RDKit cannot compute for a molecule, or that is not finite, is 0
there; the count of such values is logged per descriptor, never silently dropped.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rdkit import Chem
from rdkit.Chem import Descriptors

from redoxscreen.features import map_chunks, parse_smiles, rows_by_id
from redoxscreen.tables import atomic_path

log = logging.getLogger(__name__)

NAMES = tuple(name for name, _ in Descriptors.descList)
FUNCTIONS = tuple(function for _, function in Descriptors.descList)


@dataclass
class DescriptorBlock:
    """Descriptor rows of parsed molecules and the values that had to be set to 0."""

    matrix: np.ndarray  # float32, molecules x len(NAMES)
    failures: Counter

    def log_failures(self, where: str) -> None:
        log_failures(self.failures, where)


def log_failures(failures: Counter, where: str) -> None:
    """One warning per descriptor that was not computable or not finite somewhere."""
    for name, count in sorted(failures.items()):
        log.warning("%s: descriptor %s not computable or not finite for %d molecules; "
                    "set to 0 there", where, name, count)  # fmt: skip


def signed_log(values: np.ndarray) -> np.ndarray:
    return np.sign(values) * np.log1p(np.abs(values))


def descriptor_row(mol: Chem.Mol, failures: Counter) -> np.ndarray:
    """One molecule's descriptors (signed log); failures are counted by descriptor name."""
    row = np.zeros(len(NAMES), dtype=np.float64)
    for column, (name, function) in enumerate(zip(NAMES, FUNCTIONS, strict=True)):
        try:
            value = float(function(mol))
        except (ArithmeticError, ValueError, RuntimeError) as error:
            log.debug("descriptor %s failed on %s: %s", name, Chem.MolToSmiles(mol), error)
            value = np.nan
        if np.isfinite(value):
            row[column] = value
        else:
            failures[name] += 1
    return signed_log(row)


def describe_mols(mols: Sequence[Chem.Mol]) -> DescriptorBlock:
    failures: Counter = Counter()
    matrix = np.zeros((len(mols), len(NAMES)), dtype=np.float32)
    for row, mol in enumerate(mols):
        matrix[row] = descriptor_row(mol, failures)
    return DescriptorBlock(matrix, failures)


def describe_smiles_chunk(args: tuple[Sequence[str]]) -> DescriptorBlock:
    (smiles,) = args
    return describe_mols(parse_smiles(smiles))


def describe_smiles(
    smiles: Sequence[str], processes: int = 1, chunk: int = 2000
) -> DescriptorBlock:
    """Descriptors of canonical SMILES, in parallel over chunks of molecules."""
    parts = map_chunks(describe_smiles_chunk, smiles, processes, chunk)
    failures = sum((part.failures for part in parts), Counter())
    if not parts:
        return DescriptorBlock(np.zeros((0, len(NAMES)), dtype=np.float32), failures)
    return DescriptorBlock(np.concatenate([part.matrix for part in parts]), failures)


@dataclass
class DescriptorStore:
    ids: np.ndarray
    matrix: np.ndarray  # float32, molecules x descriptors

    def rows_for(self, ids: Sequence[str]) -> np.ndarray:
        return rows_by_id(self.ids, self.matrix, ids, "descriptor store")


def write_store(path: str, ids: Sequence[str], matrix: np.ndarray) -> None:
    with atomic_path(path) as temporary, open(temporary, "wb") as handle:
        np.savez(handle, ids=np.asarray(ids, dtype=str), data=matrix, names=np.asarray(NAMES))


def read_store(path: str) -> DescriptorStore:
    with np.load(path) as archive:
        names = tuple(str(name) for name in archive["names"])
        if names != NAMES:
            raise ValueError(f"{path} holds other descriptors than this RDKit computes; "
                             "delete it and rerun")  # fmt: skip
        return DescriptorStore(ids=archive["ids"], matrix=archive["data"])


def describe_table(molecules_path: str, out_path: str, processes: int = 1) -> None:
    """Descriptors of every molecule of the molecule table, as a store."""
    import pandas as pd

    molecules = pd.read_parquet(molecules_path, columns=["id", "smiles"])
    block = describe_smiles(molecules["smiles"].tolist(), processes)
    block.log_failures(molecules_path)
    write_store(out_path, molecules["id"].tolist(), block.matrix)
    log.info("%d descriptors of %d molecules", len(NAMES), len(molecules))
