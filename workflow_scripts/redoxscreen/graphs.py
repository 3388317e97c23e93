"""Molecular graphs for the message-passing network, and the store they are read from.

Atoms and bonds get chemprop v2's kinds of features (element, degree, formal charge, chirality,
hydrogens, hybridization, radical electrons, aromaticity, ring, mass; bond order, conjugation,
ring), each one-hot with an "other" slot. Atoms also say which ring sizes (3 to 8) they are in
and in how many (smallest) rings, which messages passed for a few steps cannot tell: a strained
3- or 4-membered ring or a fused one changes orbital energies (with them QM9's HOMO and LUMO
MAE fell 14 % and 9 % on a benchmark fold; README, Benchmarks). Bonds are directed: bond ``2k``
runs ``source -> target`` and bond ``2k + 1`` runs back, so a bond's reverse is ``index ^ 1``.

A store is one ``.npz`` file aligned to the molecule ids: every molecule's atoms and bonds
concatenated, with offsets saying where each molecule's rows start.

Graphs are always built from the canonical SMILES (``canonical_graph``): RDKit's chiral tags
depend on the order atoms are written in, so two spellings of one molecule would otherwise get
different graphs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rdkit import Chem

from redoxscreen.features import map_chunks, parse_smiles, positions_of
from redoxscreen.tables import atomic_path

log = logging.getLogger(__name__)

ELEMENTS = (1, 5, 6, 7, 8, 9, 14, 15, 16, 17, 35, 53)
HYBRIDIZATIONS = ("SP", "SP2", "SP3", "SP3D", "SP3D2")
BOND_TYPES = ("SINGLE", "DOUBLE", "TRIPLE", "AROMATIC")
RING_SIZES = (3, 4, 5, 6, 7, 8)
BOND_FEATURES = len(BOND_TYPES) + 3  # one-hot with "other", conjugated, in ring
FEATURES_VERSION = 2  # raise when atom_features or bond_features change: stores and saved
# message-passing networks of another version are refused


def one_hot(value, choices) -> list[float]:
    """One-hot over choices plus a last "other" slot."""
    encoded = [0.0] * (len(choices) + 1)
    encoded[choices.index(value) if value in choices else -1] = 1.0
    return encoded


def atom_features(atom: Chem.Atom) -> list[float]:
    return (
        one_hot(atom.GetAtomicNum(), ELEMENTS)
        + one_hot(atom.GetTotalDegree(), (0, 1, 2, 3, 4, 5))
        + one_hot(atom.GetFormalCharge(), (-2, -1, 0, 1, 2))
        + one_hot(int(atom.GetChiralTag()), (0, 1, 2, 3))
        + one_hot(atom.GetTotalNumHs(), (0, 1, 2, 3, 4))
        + one_hot(str(atom.GetHybridization()), HYBRIDIZATIONS)
        + one_hot(atom.GetNumRadicalElectrons(), (0, 1, 2))
        + [float(atom.GetIsAromatic()), float(atom.IsInRing()), atom.GetMass() / 100]
        + [float(atom.IsInRingSize(size)) for size in RING_SIZES]
        + one_hot(atom.GetOwningMol().GetRingInfo().NumAtomRings(atom.GetIdx()), (0, 1, 2, 3))
    )


ATOM_FEATURES = len(atom_features(Chem.MolFromSmiles("C").GetAtomWithIdx(0)))


def bond_features(bond: Chem.Bond) -> list[float]:
    return one_hot(str(bond.GetBondType()), BOND_TYPES) + [
        float(bond.GetIsConjugated()),
        float(bond.IsInRing()),
    ]


@dataclass(frozen=True)
class MoleculeGraph:
    """Atoms and directed bonds of one molecule."""

    atoms: np.ndarray  # float32 (atoms, ATOM_FEATURES)
    bonds: np.ndarray  # float32 (directed bonds, BOND_FEATURES)
    source: np.ndarray  # int32: the atom each directed bond leaves
    target: np.ndarray  # int32: the atom each directed bond enters


def molecule_graph(mol: Chem.Mol) -> MoleculeGraph:
    """The graph of a parsed molecule (hydrogens implicit, as ingestion leaves them)."""
    source, target, bonds = [], [], []
    for bond in mol.GetBonds():
        begin, end = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        source += [begin, end]
        target += [end, begin]
        bonds += [bond_features(bond)] * 2
    return MoleculeGraph(
        atoms=np.array([atom_features(atom) for atom in mol.GetAtoms()], np.float32).reshape(
            -1, ATOM_FEATURES
        ),
        bonds=np.array(bonds, np.float32).reshape(-1, BOND_FEATURES),
        source=np.array(source, np.int32),
        target=np.array(target, np.int32),
    )


def canonical_graph(mol: Chem.Mol) -> MoleculeGraph:
    """The graph of the molecule as its canonical SMILES writes it (what training reads)."""
    return molecule_graph(Chem.MolFromSmiles(Chem.MolToSmiles(mol)))


def graph_batch(graphs: Sequence[MoleculeGraph]) -> tuple:
    """Many molecules as one disjoint graph: atom and bond features, bond ends, reverse bonds,
    the molecule of every atom, and the number of molecules (the network's inputs)."""
    if not graphs:
        raise ValueError("a batch needs at least one molecule graph")
    offsets = np.cumsum([0] + [len(graph.atoms) for graph in graphs[:-1]], dtype=np.int32)
    source = np.concatenate([g.source + o for g, o in zip(graphs, offsets, strict=True)])
    target = np.concatenate([g.target + o for g, o in zip(graphs, offsets, strict=True)])
    molecule = np.concatenate([np.full(len(g.atoms), i, np.int32) for i, g in enumerate(graphs)])
    reverse = np.arange(len(source), dtype=np.int32) ^ 1  # pairs (2k, 2k+1) survive offsets
    atoms = np.concatenate([graph.atoms for graph in graphs])
    bonds = np.concatenate([graph.bonds for graph in graphs])
    return atoms, bonds, source, target, reverse, molecule, np.int32(len(graphs))


@dataclass
class GraphStore:
    """Every molecule's graph, concatenated; ``atom_start[i]:atom_start[i + 1]`` are molecule
    ``i``'s atoms, likewise ``bond_start`` its bonds (``source``/``target`` count from 0 in each
    molecule)."""

    ids: np.ndarray
    atom_start: np.ndarray
    bond_start: np.ndarray
    atoms: np.ndarray
    bonds: np.ndarray
    source: np.ndarray
    target: np.ndarray

    def graph(self, row: int) -> MoleculeGraph:
        atoms = slice(self.atom_start[row], self.atom_start[row + 1])
        bonds = slice(self.bond_start[row], self.bond_start[row + 1])
        return MoleculeGraph(
            self.atoms[atoms], self.bonds[bonds], self.source[bonds], self.target[bonds]
        )

    def rows_for(self, ids: Sequence[str]) -> list[MoleculeGraph]:
        """The graphs of the molecules ``ids``, in that order; a clear error for unknown ids."""
        return [self.graph(row) for row in positions_of(self.ids, ids, "graph store")]


def stack_graphs(ids: Sequence[str], graphs: Sequence[MoleculeGraph]) -> GraphStore:
    def starts(sizes):
        return np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])

    def joined(name, empty_shape, dtype):
        parts = [getattr(graph, name) for graph in graphs]
        return np.concatenate(parts) if parts else np.zeros(empty_shape, dtype)

    return GraphStore(
        ids=np.asarray(ids, dtype=str),
        atom_start=starts([len(graph.atoms) for graph in graphs]),
        bond_start=starts([len(graph.source) for graph in graphs]),
        atoms=joined("atoms", (0, ATOM_FEATURES), np.float32),
        bonds=joined("bonds", (0, BOND_FEATURES), np.float32),
        source=joined("source", (0,), np.int32),
        target=joined("target", (0,), np.int32),
    )


def write_store(path: str, store: GraphStore) -> None:
    with atomic_path(path) as temporary, open(temporary, "wb") as handle:
        np.savez(handle, **store.__dict__, version=FEATURES_VERSION)


def read_store(path: str) -> GraphStore:
    with np.load(path) as archive:
        version = int(archive["version"]) if "version" in archive else 0
        if version != FEATURES_VERSION:
            raise ValueError(f"{path} holds graph features of version {version}, this code "
                             f"computes version {FEATURES_VERSION}; delete it and rerun")  # fmt: skip
        return GraphStore(**{name: archive[name] for name in GraphStore.__dataclass_fields__})


def graph_smiles_chunk(args: tuple[Sequence[str]]) -> list[MoleculeGraph]:
    (smiles,) = args
    return [molecule_graph(mol) for mol in parse_smiles(smiles)]


def graph_table(molecules_path: str, out_path: str, processes: int = 1) -> dict:
    """The graph of every molecule of the molecule table, as a store; returns throughput."""
    import pandas as pd

    molecules = pd.read_parquet(molecules_path, columns=["id", "smiles"])
    started = time.perf_counter()
    parts = map_chunks(graph_smiles_chunk, molecules["smiles"].tolist(), processes, 2000)
    graphs = [graph for part in parts for graph in part]
    seconds = time.perf_counter() - started
    write_store(out_path, stack_graphs(molecules["id"].tolist(), graphs))
    rate = len(molecules) / seconds if seconds > 0 else float("inf")
    log.info("graphs of %d molecules in %.2f s (%.0f mol/s, %d processes)",
             len(molecules), seconds, rate, processes)  # fmt: skip
    return {"molecules": len(molecules), "seconds": seconds, "molecules_per_second": rate}
