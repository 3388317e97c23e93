"""bench/message_passing.py: molecular graphs and the directed message-passing network."""

import numpy as np
import pytest

from redoxscreen.training import TrainingSettings, configure_tensorflow

from message_passing import (
    DirectedMPNN,
    batch_graphs,
    fit_mpnn,
    learning_rate,
    molecule_graph,
)
from molecule_fixtures import labelled_molecules


@pytest.fixture(autouse=True, scope="module")
def tensorflow_configured_as_the_other_tests_do():
    """TensorFlow fixes its thread pools when it first runs: set them as train_fold(threads=1)."""
    configure_tensorflow(1, TrainingSettings())


def test_every_bond_is_stored_both_ways_next_to_its_reverse():
    graph = molecule_graph("C=CC(=O)[O-]")  # 5 heavy atoms, 4 bonds
    assert graph.atoms.shape[0] == 5
    assert len(graph.source) == len(graph.target) == len(graph.bonds) == 8
    assert np.array_equal(graph.source[0::2], graph.target[1::2])
    assert np.array_equal(graph.target[0::2], graph.source[1::2])


def test_batches_offset_atoms_and_keep_reverse_bonds_paired():
    graphs = [molecule_graph("CCO"), molecule_graph("c1ccccc1")]
    atoms, bonds, source, target, reverse, molecule, count = batch_graphs(graphs)
    assert count == 2 and len(atoms) == 3 + 6
    assert np.array_equal(molecule, [0, 0, 0, 1, 1, 1, 1, 1, 1])
    assert source[4:].min() == 3  # the benzene's bonds point at its own atoms
    assert np.array_equal(source[reverse], target) and np.array_equal(target[reverse], source)
    assert all(array.dtype == np.int32 for array in (source, target, reverse, molecule))


def test_unparsable_smiles_is_named():
    with pytest.raises(ValueError, match="C1CC"):
        molecule_graph("C1CC")


def test_learning_rate_warms_up_then_decays_to_a_tenth():
    assert learning_rate(0, 10, 50) == pytest.approx(1e-4)
    assert learning_rate(20, 10, 50) == pytest.approx(1e-3)
    assert learning_rate(500, 10, 50) == pytest.approx(1e-4)


def test_network_learns_an_additive_property_of_held_out_molecules():
    molecules = labelled_molecules()
    smiles, labels = molecules["smiles"].tolist(), molecules["logp"].to_numpy()
    held_out = np.arange(len(labels)) % 5 == 0
    train_smiles = [text for text, out in zip(smiles, held_out, strict=True) if not out]
    test_smiles = [text for text, out in zip(smiles, held_out, strict=True) if out]
    fitted = fit_mpnn(train_smiles, labels[~held_out], seed=0, epochs=30)
    error = np.abs(fitted.predict(test_smiles) - labels[held_out]).mean()
    baseline = np.abs(labels[~held_out].mean() - labels[held_out]).mean()
    assert fitted.epochs_run == 30
    assert error < 0.3 * baseline


def test_network_stays_float32_under_a_mixed_precision_policy():
    import keras

    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        output = DirectedMPNN(hidden=8)(*batch_graphs([molecule_graph("CCO")]))
    finally:
        keras.mixed_precision.set_global_policy(previous)
    assert output.dtype.name == "float32" and output.shape == (1,)
