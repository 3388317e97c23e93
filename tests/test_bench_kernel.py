"""bench/kernel_ridge.py: the min-max kernel and kernel ridge used as a second learner."""

import numpy as np
import pytest

from redoxscreen.features import FingerprintSpec, fingerprint_smiles

from kernel_ridge import fit_kernel_ridge, minmax_kernel
from molecule_fixtures import labelled_molecules


def test_minmax_kernel_equals_sum_of_minima_over_sum_of_maxima():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 4, size=(6, 30)).astype(np.uint8)
    b = rng.integers(0, 9, size=(5, 30)).astype(np.uint8)  # larger counts than a's
    expected = np.minimum(a[:, None], b[None]).sum(-1) / np.maximum(a[:, None], b[None]).sum(-1)
    assert np.allclose(minmax_kernel(a, b), expected)
    assert np.allclose(np.diag(minmax_kernel(a, a)), 1.0)


def test_kernel_ridge_learns_an_additive_property_of_held_out_molecules():
    molecules = labelled_molecules()
    counts = fingerprint_smiles(molecules["smiles"].tolist(), FingerprintSpec(2, 1024, "count"))
    labels = molecules["logp"].to_numpy()
    held_out = np.arange(len(labels)) % 5 == 0
    model = fit_kernel_ridge(counts[~held_out], labels[~held_out], seed=0)
    error = np.abs(model.predict(counts[held_out]) - labels[held_out]).mean()
    baseline = np.abs(labels[~held_out].mean() - labels[held_out]).mean()
    assert error < 0.3 * baseline


def test_too_many_training_molecules_are_refused_with_the_limit(monkeypatch):
    import kernel_ridge

    monkeypatch.setattr(kernel_ridge, "MAX_TRAINING_MOLECULES", 10)
    with pytest.raises(ValueError, match="11 training molecules.*limit 10.*--subsample"):
        fit_kernel_ridge(np.ones((11, 4), np.uint8), np.arange(11.0), seed=0)
