"""Morgan (ECFP-like) fingerprints and the store every model reads them from.

Kinds: ``bit`` (Morgan bits), ``count`` (Morgan counts) and ``count_ap`` (Morgan counts followed
by ``n_bits`` atom-pair counts, which add the topological distance between atoms: ``2 n_bits``
features). A store is an ``.npz`` file aligned to the molecule ids: bit fingerprints are
bit-packed (``n_bits / 8`` bytes per molecule), counts are ``uint8`` clipped at 255.

A fourth kind, ``graph``, is a fingerprint that a network learns: a directed message-passing
network (``message_passing``) reads the molecular graph (``graphs``) and, like ECFP, gathers
each atom's surroundings up to ``radius`` bonds away, into ``n_bits`` learned features.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing import get_context

import numpy as np
from rdkit import Chem
from rdkit.Chem import rdFingerprintGenerator

from redoxscreen.tables import atomic_path

KINDS = ("bit", "count", "count_ap")
GRAPH = "graph"  # a message-passing network's learned fingerprint: radius = depth, n_bits = width
SPEC_KINDS = (*KINDS, GRAPH)
COUNT_CEILING = 255

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FingerprintSpec:
    radius: int
    n_bits: int
    kind: str = "count"

    def __post_init__(self):
        if self.kind not in SPEC_KINDS:
            raise ValueError(f"fingerprint kind must be one of {SPEC_KINDS}, not {self.kind!r}")
        if self.n_bits < 1 or self.radius < (1 if self.learned else 0):
            raise ValueError(f"radius {self.radius} or n_bits {self.n_bits} is too small")
        if self.n_bits % 8 and not self.learned:
            raise ValueError(f"n_bits must be a multiple of 8, not {self.n_bits}")

    @property
    def learned(self) -> bool:
        """A message-passing network's fingerprint, learned from the molecular graph."""
        return self.kind == GRAPH

    @property
    def name(self) -> str:
        if self.learned:
            return f"mpnn_d{self.radius}_h{self.n_bits}"
        return f"morgan_r{self.radius}_n{self.n_bits}_{self.kind}"

    @property
    def width(self) -> int:
        """Features per molecule: ``n_bits`` per generator (a learned fingerprint: ``n_bits``)."""
        return self.n_bits if self.learned else self.n_bits * len(generators(self))


def generators(spec: FingerprintSpec) -> list:
    """The RDKit generators whose fingerprints, side by side, make one row."""
    if spec.learned:
        raise ValueError(f"{spec.name} is learned by a message-passing network from the "
                         "molecular graph (graphs.py); RDKit does not compute it")  # fmt: skip
    made = [rdFingerprintGenerator.GetMorganGenerator(radius=spec.radius, fpSize=spec.n_bits)]
    if spec.kind == "count_ap":
        made.append(rdFingerprintGenerator.GetAtomPairGenerator(fpSize=spec.n_bits))
    return made


def fingerprint_mols(mols: Sequence[Chem.Mol], spec: FingerprintSpec) -> np.ndarray:
    """A ``uint8`` matrix (molecules x width) of bits or clipped counts for parsed molecules."""
    matrix = np.zeros((len(mols), spec.width), dtype=np.uint8)
    for block, make in enumerate(generators(spec)):
        columns = slice(block * spec.n_bits, (block + 1) * spec.n_bits)
        for row, mol in enumerate(mols):
            if spec.kind == "bit":
                matrix[row, columns] = make.GetFingerprintAsNumPy(mol)
            else:
                counts = make.GetCountFingerprintAsNumPy(mol)
                matrix[row, columns] = np.minimum(counts, COUNT_CEILING)
    return matrix


def parse_smiles(smiles: Sequence[str]) -> list[Chem.Mol]:
    """Molecules of ingested (canonical) SMILES; one that does not parse is named."""
    mols = []
    for text in smiles:
        mol = Chem.MolFromSmiles(text)
        if mol is None:
            raise ValueError(f"cannot parse SMILES {text!r} (ingested SMILES should all parse)")
        mols.append(mol)
    return mols


def fingerprint_smiles_chunk(args: tuple[Sequence[str], FingerprintSpec]) -> np.ndarray:
    smiles, spec = args
    return fingerprint_mols(parse_smiles(smiles), spec)


def map_chunks(function, items: Sequence, processes: int, chunk: int, *extra) -> list:
    """``function((items[a:b], *extra))`` for consecutive chunks, in spawned worker processes
    when ``processes > 1``; the results in order."""
    chunks = [(items[start : start + chunk], *extra) for start in range(0, len(items), chunk)]
    if processes <= 1 or len(chunks) <= 1:
        return [function(part) for part in chunks]
    with get_context("spawn").Pool(processes) as pool:
        return pool.map(function, chunks)


def positions_of(ids: np.ndarray, wanted: Sequence[str], store: str) -> list[int]:
    """Positions in ``ids`` of ``wanted``, in that order; a clear error naming unknown ids."""
    position = {molecule_id: row for row, molecule_id in enumerate(ids)}
    missing = [molecule_id for molecule_id in wanted if molecule_id not in position]
    if missing:
        raise KeyError(f"{len(missing)} ids are not in the {store}, e.g. {missing[:5]}")
    return [position[molecule_id] for molecule_id in wanted]


def rows_by_id(ids: np.ndarray, matrix: np.ndarray, wanted: Sequence[str], store: str):
    """Rows of ``matrix`` (aligned to ``ids``) for ``wanted``, in that order."""
    return matrix[positions_of(ids, wanted, store)]


def fingerprint_smiles(
    smiles: Sequence[str], spec: FingerprintSpec, processes: int = 1, chunk: int = 2000
) -> np.ndarray:
    """Fingerprints of canonical SMILES, in parallel over chunks of molecules."""
    parts = map_chunks(fingerprint_smiles_chunk, smiles, processes, chunk, spec)
    if not parts:
        return np.zeros((0, spec.width), dtype=np.uint8)
    return np.concatenate(parts)


@dataclass
class FingerprintStore:
    ids: np.ndarray
    matrix: np.ndarray  # uint8, molecules x n_bits
    spec: FingerprintSpec

    def rows_for(self, ids: Sequence[str]) -> np.ndarray:
        """Rows of the molecules ``ids``, in that order; a clear error for unknown ids."""
        return rows_by_id(self.ids, self.matrix, ids, "fingerprint store")


def write_store(path: str, ids: Sequence[str], matrix: np.ndarray, spec: FingerprintSpec) -> None:
    stored = np.packbits(matrix, axis=1) if spec.kind == "bit" else matrix
    with atomic_path(path) as temporary, open(temporary, "wb") as handle:
        np.savez(
            handle,
            ids=np.asarray(ids, dtype=str),
            data=stored,
            radius=spec.radius,
            n_bits=spec.n_bits,
            kind=spec.kind,
        )


def read_store(path: str) -> FingerprintStore:
    with np.load(path) as archive:
        spec = FingerprintSpec(int(archive["radius"]), int(archive["n_bits"]), str(archive["kind"]))
        data = archive["data"]
        matrix = np.unpackbits(data, axis=1, count=spec.n_bits) if spec.kind == "bit" else data
        return FingerprintStore(ids=archive["ids"], matrix=matrix, spec=spec)


def featurize_table(
    molecules_path: str, out_path: str, spec: FingerprintSpec, processes: int
) -> dict:
    """Fingerprint every molecule of the molecule table into a store; returns throughput."""
    import pandas as pd

    molecules = pd.read_parquet(molecules_path, columns=["id", "smiles"])
    started = time.perf_counter()
    matrix = fingerprint_smiles(molecules["smiles"].tolist(), spec, processes)
    seconds = time.perf_counter() - started
    write_store(out_path, molecules["id"].tolist(), matrix, spec)
    rate = len(molecules) / seconds if seconds > 0 else float("inf")
    log.info("%s: %d molecules in %.2f s (%.0f mol/s, %d processes)",
             spec.name, len(molecules), seconds, rate, processes)  # fmt: skip
    return {"molecules": len(molecules), "seconds": seconds, "molecules_per_second": rate}
