"""The fully connected network that maps a fingerprint to one label."""

from __future__ import annotations

from collections.abc import Sequence

import keras


def build_network(
    n_inputs: int, hidden_layers: Sequence[int], l2: float, dropout: float
) -> keras.Model:
    """ReLU layers, each followed by dropout; L2 on every layer's weights; one linear output."""
    regularizer = keras.regularizers.L2(l2) if l2 > 0 else None
    layers: list = [keras.Input(shape=(n_inputs,))]
    for width in hidden_layers:
        layers.append(keras.layers.Dense(width, activation="relu", kernel_regularizer=regularizer))
        if dropout > 0:
            layers.append(keras.layers.Dropout(dropout))
    layers.append(keras.layers.Dense(1, kernel_regularizer=regularizer, dtype="float32"))
    return keras.Sequential(layers)
