"""The fully connected network that maps a fingerprint to one label."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np


def build_network(
    n_inputs: int,
    hidden_layers: Sequence[int],
    l2: float,
    dropout: float,
    input_scaling: tuple[np.ndarray, np.ndarray] | None = None,
) -> keras.Model:
    """ReLU layers, each followed by dropout; L2 on every layer's weights; one linear output.

    ``input_scaling`` (mean, variance per input) puts a fixed ``Normalization`` layer first, so
    that the saved model takes raw features.
    """
    regularizer = keras.regularizers.L2(l2) if l2 > 0 else None
    layers: list = [keras.Input(shape=(n_inputs,))]
    if input_scaling is not None:
        mean, variance = input_scaling
        # float32 even under mixed precision: bfloat16 would cancel (x - mean) to noise
        layers.append(keras.layers.Normalization(mean=mean, variance=variance, dtype="float32"))
    for width in hidden_layers:
        layers.append(keras.layers.Dense(width, activation="relu", kernel_regularizer=regularizer))
        if dropout > 0:
            layers.append(keras.layers.Dropout(dropout))
    layers.append(keras.layers.Dense(1, kernel_regularizer=regularizer, dtype="float32"))
    return keras.Sequential(layers)
