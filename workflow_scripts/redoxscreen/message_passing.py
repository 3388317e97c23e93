"""A directed message-passing network (chemprop's D-MPNN) that learns a molecule's fingerprint.

Messages live on directed bonds. Each of ``depth`` steps sums the messages entering a bond's
source atom (less the one coming back along the bond itself), so after ``depth`` steps an atom
has seen its surroundings ``depth`` bonds away, as an ECFP of that radius does; the atoms'
states are averaged into a ``hidden``-wide fingerprint that a feed-forward head maps to the
label. Defaults are chemprop v2's (hidden 300, depth 3, one 300-unit head layer, the
learning rate warmed up from a tenth of its peak over 2 epochs, then decayed back to a tenth at
the last epoch). The network trains on every training molecule for a fixed number of epochs,
no validation split, no early stopping; it keeps the mean of its weights at the ends of the last
epochs (stochastic weight averaging, Izmailov et al. 2018), or the last weights.

Every layer computes in float32, whatever the mixed-precision policy: sums over bonds in
bfloat16 would lose the messages' small differences.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import keras
import numpy as np

from redoxscreen.graphs import (
    ATOM_FEATURES,
    BOND_FEATURES,
    FEATURES_VERSION,
    MoleculeGraph,
    graph_batch,
)

PREDICT_BATCH = 256  # molecules per forward pass; results do not depend on it


def float32_dense(units: int, **options) -> keras.layers.Dense:
    return keras.layers.Dense(units, dtype="float32", **options)


@keras.saving.register_keras_serializable(package="redoxscreen")
class MessagePassingNetwork(keras.Model):
    """Bond messages, atom states, mean over atoms, feed-forward head: one number per molecule.

    Called on ``graphs.graph_batch(...)``'s tuple.
    """

    def __init__(
        self,
        depth: int = 3,
        hidden: int = 300,
        head_layers=(300,),
        features_version: int | None = None,
        **options,
    ):
        if features_version not in (None, FEATURES_VERSION):
            raise ValueError(
                f"this network was trained on graph features of version {features_version}, "
                f"but this code builds version {FEATURES_VERSION} (graphs.FEATURES_VERSION): "
                "retrain it with this code"
            )
        super().__init__(**(options | {"dtype": "float32"}))
        self.depth, self.hidden, self.head_layers = int(depth), int(hidden), tuple(head_layers)
        self.bond_input = float32_dense(hidden, use_bias=False)
        self.bond_update = float32_dense(hidden, use_bias=False)
        self.atom_output = float32_dense(hidden, activation="relu")
        self.head = [float32_dense(width, activation="relu") for width in self.head_layers]
        self.head.append(float32_dense(1))
        # built here, so that loading a saved model finds the variables its weights fill
        self.bond_input.build((None, ATOM_FEATURES + BOND_FEATURES))
        self.bond_update.build((None, hidden))
        self.atom_output.build((None, ATOM_FEATURES + hidden))
        for layer, width in zip(self.head, (hidden, *self.head_layers), strict=True):
            layer.build((None, width))
        self.built = True

    def call(self, inputs):
        import tensorflow as tf

        atoms, bonds, source, target, reverse, molecule, molecules = inputs
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

    def get_config(self) -> dict:
        return super().get_config() | {
            "depth": self.depth,
            "hidden": self.hidden,
            "head_layers": list(self.head_layers),
            "features_version": FEATURES_VERSION,
        }

    @classmethod
    def from_config(cls, config: dict):
        # networks saved before the config recorded it read graph features of version 1
        return cls(**({"features_version": 1} | config))


def batch_signature() -> list:
    import tensorflow as tf

    return [
        tf.TensorSpec([None, ATOM_FEATURES], tf.float32),
        tf.TensorSpec([None, BOND_FEATURES], tf.float32),
        *[tf.TensorSpec([None], tf.int32)] * 4,
        tf.TensorSpec([], tf.int32),
    ]


def forward_function(models: Sequence[keras.Model]):
    """One traced forward pass of every model: a batch's tuple -> (models x molecules)."""
    import tensorflow as tf

    @tf.function(input_signature=batch_signature())
    def forward(*batch):
        return tf.stack([model(batch, training=False) for model in models])

    return forward


def predict_scaled(forward, graphs: Sequence[MoleculeGraph], n_models: int) -> np.ndarray:
    """``forward_function`` of ``n_models`` models over the graphs, ``PREDICT_BATCH`` at a
    time: an array of ``n_models x len(graphs)``."""
    parts = [
        forward(*graph_batch(graphs[start : start + PREDICT_BATCH])).numpy()
        for start in range(0, len(graphs), PREDICT_BATCH)
    ]
    return np.concatenate(parts, axis=1) if parts else np.zeros((n_models, 0), np.float32)


def held_out_watcher(model: keras.Model, graphs: Sequence[MoleculeGraph], scaled_labels):
    """A function that gives the model's MAE on these graphs as its weights are now; their
    batches are built once."""
    forward = forward_function([model])
    starts = range(0, len(graphs), PREDICT_BATCH)
    batches = [graph_batch(graphs[start : start + PREDICT_BATCH]) for start in starts]
    labels = np.asarray(scaled_labels, dtype=np.float64)

    def mae() -> float:
        predicted = np.concatenate([forward(*batch).numpy()[0] for batch in batches])
        return float(np.mean(np.abs(predicted - labels)))

    return mae


def learning_rate_at(step: int, steps_per_epoch: int, epochs: int, peak: float) -> float:
    """chemprop's schedule: peak/10 -> peak linearly over 2 epochs, then exponentially to
    peak/10 at the last step."""
    warmup, total = 2 * steps_per_epoch, epochs * steps_per_epoch
    if step < warmup:
        return peak * (0.1 + 0.9 * step / warmup)
    return peak * 0.1 ** ((step - warmup) / max(total - warmup, 1))


def averaging_start(epochs: int, fraction: float) -> int:
    """The first epoch (0-based) whose end-of-epoch weights enter the average: the last
    ``fraction`` of the epochs, at least one when ``fraction`` > 0; ``epochs`` (none) when 0."""
    return epochs - max(1, math.ceil(epochs * fraction)) if fraction > 0 else epochs


class WeightAverage:
    """Running mean of variables' values, put into the variables by ``apply``."""

    def __init__(self, variables):
        self.variables, self.mean, self.count = variables, None, 0

    def add(self) -> None:
        current = [variable.numpy() for variable in self.variables]
        self.count += 1
        if self.mean is None:
            self.mean = current
            return
        count = self.count
        self.mean = [old + (new - old) / count for old, new in zip(self.mean, current, strict=True)]

    def apply(self) -> None:
        """Put the mean into the variables; nothing when nothing was added."""
        if self.mean is None:
            return
        for variable, value in zip(self.variables, self.mean, strict=True):
            variable.assign(value)


def train(
    model: MessagePassingNetwork,
    graphs: Sequence[MoleculeGraph],
    scaled_labels: np.ndarray,
    epochs: int,
    batch_size: int,
    peak_learning_rate: float,
    seed: int,
    time_limit_s: float | None = None,
    average_last: float = 0.0,
    on_epoch_end: Callable[[], None] | None = None,
) -> dict[str, list[float]]:
    """Adam on the mean squared error of scaled labels, seeded shuffles; per-epoch training
    ``loss`` and ``mae`` (scaled). Stops after ``epochs`` or the first epoch past the limit.
    The model ends with the mean of its weights over the last ``average_last`` of the epochs
    (those it reached), or its last weights when that is 0 or the limit came first.

    ``on_epoch_end()`` is called after every epoch's training, before its weights enter the
    average: to watch the model (``training.held_out_recording``), never to change it."""
    import tensorflow as tf

    if not graphs or batch_size < 1:
        raise ValueError(f"nothing to train on: {len(graphs)} molecules, batch size {batch_size}")
    optimizer = keras.optimizers.Adam(peak_learning_rate)
    variables = model.trainable_variables

    @tf.function(input_signature=[*batch_signature(), tf.TensorSpec([None], tf.float32)])
    def train_step(*batch_and_labels):
        with tf.GradientTape() as tape:
            error = model(batch_and_labels[:-1], training=True) - batch_and_labels[-1]
            loss = tf.reduce_mean(tf.square(error))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return tf.reduce_sum(tf.square(error)), tf.reduce_sum(tf.abs(error))

    labels = np.asarray(scaled_labels, dtype=np.float32)
    rng = np.random.default_rng(seed)
    steps_per_epoch = -(-len(graphs) // batch_size)
    history: dict[str, list[float]] = {"loss": [], "mae": [], "learning_rate": []}
    average, first_averaged = WeightAverage(variables), averaging_start(epochs, average_last)
    started, step = time.perf_counter(), 0
    while len(history["loss"]) < epochs:
        if time_limit_s is not None and time.perf_counter() - started > time_limit_s:
            break
        squared = absolute = 0.0
        order = rng.permutation(len(graphs))
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            rate = learning_rate_at(step, steps_per_epoch, epochs, peak_learning_rate)
            optimizer.learning_rate.assign(rate)
            sums = train_step(*graph_batch([graphs[i] for i in chosen]), labels[chosen])
            squared, absolute = squared + float(sums[0]), absolute + float(sums[1])
            step += 1
        history["loss"].append(squared / len(graphs))
        history["mae"].append(absolute / len(graphs))
        history["learning_rate"].append(rate)
        if on_epoch_end:
            on_epoch_end()
        if len(history["loss"]) > first_averaged:
            average.add()
    average.apply()
    return history
