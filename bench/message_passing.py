"""A directed message-passing network (chemprop's D-MPNN) in TensorFlow, for bench/accuracy.py.

A prototype to measure what a learned molecular representation adds over fingerprints, with the
project's own tools. It follows chemprop v2's defaults: messages live on directed bonds, hidden
size 300, depth 3, mean aggregation over atoms, one 300-unit feed-forward layer, batch 64, and a
learning rate warmed up from 1e-4 to 1e-3 over 2 epochs, then decayed to 1e-4 at the last epoch.
Unlike chemprop it keeps no validation split: it trains on every training molecule for a fixed
number of epochs (or until the time limit) and predicts with the last weights.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from rdkit import Chem

ELEMENTS = (1, 5, 6, 7, 8, 9, 14, 15, 16, 17, 35, 53)
HYBRIDIZATIONS = ("SP", "SP2", "SP3", "SP3D", "SP3D2")
BOND_TYPES = ("SINGLE", "DOUBLE", "TRIPLE", "AROMATIC")
BOND_FEATURES = len(BOND_TYPES) + 3  # one-hot with "other", conjugated, in ring


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
    )


def bond_features(bond: Chem.Bond) -> list[float]:
    return one_hot(str(bond.GetBondType()), BOND_TYPES) + [
        float(bond.GetIsConjugated()),
        float(bond.IsInRing()),
    ]


@dataclass(frozen=True)
class MoleculeGraph:
    """Atoms and directed bonds; bond 2k runs source->target and bond 2k+1 runs back."""

    atoms: np.ndarray  # (atoms, atom features)
    bonds: np.ndarray  # (directed bonds, bond features)
    source: np.ndarray  # atom index each directed bond leaves
    target: np.ndarray  # atom index each directed bond enters


def molecule_graph(smiles: str) -> MoleculeGraph:
    molecule = Chem.MolFromSmiles(smiles)
    if molecule is None:
        raise ValueError(f"RDKit cannot parse SMILES {smiles!r}")
    source, target, bonds = [], [], []
    for bond in molecule.GetBonds():
        begin, end = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        source += [begin, end]
        target += [end, begin]
        bonds += [bond_features(bond)] * 2
    return MoleculeGraph(
        atoms=np.array([atom_features(atom) for atom in molecule.GetAtoms()], np.float32),
        bonds=np.array(bonds, np.float32).reshape(-1, BOND_FEATURES),
        source=np.array(source, np.int32),
        target=np.array(target, np.int32),
    )


def batch_graphs(graphs: list[MoleculeGraph]) -> tuple:
    """One disjoint graph: atom and bond features, bond ends, reverse bonds, molecule per atom."""
    offsets = np.cumsum([0] + [len(graph.atoms) for graph in graphs[:-1]], dtype=np.int32)
    source = np.concatenate([g.source + o for g, o in zip(graphs, offsets, strict=True)])
    target = np.concatenate([g.target + o for g, o in zip(graphs, offsets, strict=True)])
    molecule = np.concatenate([np.full(len(g.atoms), i, np.int32) for i, g in enumerate(graphs)])
    reverse = np.arange(len(source), dtype=np.int32) ^ 1  # pairs (2k, 2k+1) survive offsets
    atoms = np.concatenate([graph.atoms for graph in graphs])
    bonds = np.concatenate([graph.bonds for graph in graphs])
    return atoms, bonds, source, target, reverse, molecule, np.int32(len(graphs))


class DirectedMPNN:
    """Bond messages, atom readout, mean over atoms, feed-forward head: one number per molecule."""

    def __init__(self, hidden: int = 300, depth: int = 3):
        import keras

        def dense(units, **options):  # float32 whatever the global mixed-precision policy
            return keras.layers.Dense(units, dtype="float32", **options)

        self.depth = depth
        self.bond_input = dense(hidden, use_bias=False)
        self.bond_update = dense(hidden, use_bias=False)
        self.atom_output = dense(hidden, activation="relu")
        self.head = [dense(hidden, activation="relu"), dense(1)]

    def layers(self) -> list:
        return [self.bond_input, self.bond_update, self.atom_output, *self.head]

    def __call__(self, atoms, bonds, source, target, reverse, molecule, molecules):
        import tensorflow as tf

        n_atoms = tf.shape(atoms)[0]
        initial = self.bond_input(tf.concat([tf.gather(atoms, source), bonds], axis=1))
        hidden = tf.nn.relu(initial)
        for _ in range(self.depth - 1):
            into_atoms = tf.math.unsorted_segment_sum(hidden, target, n_atoms)
            message = tf.gather(into_atoms, source) - tf.gather(hidden, reverse)
            hidden = tf.nn.relu(initial + self.bond_update(message))
        into_atoms = tf.math.unsorted_segment_sum(hidden, target, n_atoms)
        atom_states = self.atom_output(tf.concat([atoms, into_atoms], axis=1))
        sizes = tf.math.unsorted_segment_sum(tf.ones_like(atom_states[:, :1]), molecule, molecules)
        pooled = tf.math.unsorted_segment_sum(atom_states, molecule, molecules) / sizes
        for layer in self.head:
            pooled = layer(pooled)
        return pooled[:, 0]


def learning_rate(step: int, steps_per_epoch: int, epochs: int) -> float:
    """chemprop's schedule: 1e-4 -> 1e-3 linearly over 2 epochs, then exponentially to 1e-4."""
    warmup, total = 2 * steps_per_epoch, epochs * steps_per_epoch
    if step < warmup:
        return 1e-4 + 9e-4 * step / warmup
    return 1e-3 * 0.1 ** ((step - warmup) / max(total - warmup, 1))


@dataclass
class FittedMPNN:
    network: DirectedMPNN
    infer: object  # the traced forward pass
    mean: float
    scale: float
    epochs_run: int

    def predict(self, smiles: list[str], batch_size: int = 256) -> np.ndarray:
        graphs = [molecule_graph(text) for text in smiles]
        outputs = [
            self.infer(*batch_graphs(graphs[start : start + batch_size])).numpy()
            for start in range(0, len(graphs), batch_size)
        ]
        return np.concatenate(outputs) * self.scale + self.mean


def fit_mpnn(smiles: list[str], labels: np.ndarray, seed: int, epochs: int = 50,
             batch_size: int = 64, time_limit_s: float | None = None) -> FittedMPNN:  # fmt: skip
    """Train on standardized labels; stop after `epochs` or the first epoch past the limit."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    graphs = [molecule_graph(text) for text in smiles]
    mean, scale = float(np.mean(labels)), float(np.std(labels)) or 1.0
    targets = ((np.asarray(labels) - mean) / scale).astype(np.float32)
    network = DirectedMPNN()
    optimizer = keras.optimizers.Adam(1e-3)
    signature = [
        tf.TensorSpec([None, graphs[0].atoms.shape[1]], tf.float32),
        tf.TensorSpec([None, BOND_FEATURES], tf.float32),
        *[tf.TensorSpec([None], tf.int32)] * 4,
        tf.TensorSpec([], tf.int32),
    ]

    @tf.function(input_signature=signature)
    def infer(*batch):
        return network(*batch)

    @tf.function(input_signature=[*signature, tf.TensorSpec([None], tf.float32)])
    def train_step(*batch_and_targets):
        with tf.GradientTape() as tape:
            predicted = network(*batch_and_targets[:-1])
            loss = tf.reduce_mean(tf.square(predicted - batch_and_targets[-1]))
        variables = [v for layer in network.layers() for v in layer.trainable_variables]
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return loss

    infer(*batch_graphs(graphs[:2]))  # builds the layers before the first gradient step
    rng = np.random.default_rng(seed)
    steps_per_epoch = -(-len(graphs) // batch_size)
    started, step, epochs_run = time.perf_counter(), 0, 0
    while epochs_run < epochs:
        if time_limit_s is not None and time.perf_counter() - started > time_limit_s:
            break
        order = rng.permutation(len(graphs))
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            optimizer.learning_rate.assign(learning_rate(step, steps_per_epoch, epochs))
            train_step(*batch_graphs([graphs[i] for i in chosen]), targets[chosen])
            step += 1
        epochs_run += 1
    return FittedMPNN(network, infer, mean, scale, epochs_run)
