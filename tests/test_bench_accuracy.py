"""bench/accuracy.py: the message-passing recipes it compares with chemprop."""

import sys
from dataclasses import replace

import numpy as np
import pytest

from redoxscreen import training
from redoxscreen.features import FingerprintSpec, parse_smiles
from redoxscreen.graphs import molecule_graph
from redoxscreen.grid import read_grid

import accuracy
from molecule_fixtures import labelled_molecules


def recipes_for(monkeypatch, *flags: str) -> dict:
    monkeypatch.setattr(sys, "argv", ["accuracy.py", *flags])
    return accuracy.make_recipes(accuracy.parse_args())


def test_mpnn_recipes_take_the_architecture_epochs_batch_and_ensemble_size(monkeypatch):
    recipes = recipes_for(monkeypatch, "--mpnn-arch", "4:600:600-300", "--members", "3",
                          "--mpnn-epochs", "7", "--mpnn-batch", "64",
                          "--mpnn-averaging", "0")  # fmt: skip
    single, ensemble = recipes["mpnn"], recipes["mpnn_ensemble"]
    assert single.spec == FingerprintSpec(4, 600, "graph") and single.hidden_layers == (600, 300)
    assert (single.members, ensemble.members) == (1, 3)
    assert single.settings.graph_epochs == 7 and single.settings.graph_batch_size == 64
    assert single.settings.graph_weight_averaging == 0
    assert not single.settings.descriptors
    assert replace(ensemble, name="mpnn", members=1) == single


@pytest.mark.parametrize(("flag", "value", "message"), [
    ("--mpnn-epochs", "0", "must be at least 1, not 0"),
    ("--mpnn-batch", "0", "must be at least 1, not 0"),
    ("--members", "0", "must be at least 1, not 0"),
    ("--mpnn-averaging", "1.5", "training.graph_weight_averaging must be from 0 to 1, got 1.5"),
])  # fmt: skip
def test_a_value_out_of_range_is_refused_not_replaced_by_the_default(monkeypatch, capsys, flag,
                                                                      value, message):  # fmt: skip
    with pytest.raises(SystemExit):
        recipes_for(monkeypatch, flag, value)
    assert f"argument {flag}: {message}" in capsys.readouterr().err


def test_the_default_mpnn_is_the_grids_width_300_network_trained_as_config_says(monkeypatch):
    single = recipes_for(monkeypatch)["mpnn"]
    assert (single.spec, single.hidden_layers) == (FingerprintSpec(3, 300, "graph"), (300,))
    config = training.TrainingSettings.from_config(
        accuracy.training_section(accuracy.REPO / "config" / "config.yaml")
    )
    assert single.settings == replace(config, descriptors=False)
    row = read_grid(str(accuracy.REPO / "config" / "grid_mpnn.tsv"))[25]
    assert (row.fingerprint, row.radius, row.n_bits, row.hidden_layers) == ("graph", 3, 300, (300,))


def test_an_mpnn_ensemble_predicts_the_mean_of_its_members(monkeypatch):
    molecules = labelled_molecules(every=20)
    graphs = [molecule_graph(mol) for mol in parse_smiles(molecules["smiles"].tolist())]
    labels = molecules["logp"].to_numpy()
    recipe = recipes_for(monkeypatch, "--mpnn-arch", "2:8:8", "--members", "2",
                         "--mpnn-epochs", "2")["mpnn_ensemble"]  # fmt: skip
    training.configure_tensorflow(1, recipe.settings, float32=True)
    mean, _ = accuracy.train_recipe(recipe, graphs[5:], labels[5:], graphs[:5], 0, None)
    members = []
    for seed in (0, 1000):
        fit = training.fit_model(graphs[5:], labels[5:], recipe.spec, recipe.hidden_layers,
                                 recipe.settings, seed)  # fmt: skip
        members.append(training.predict(fit.model, fit.scaler, graphs[:5]))
    assert not np.allclose(members[0], members[1])
    assert np.allclose(mean, np.mean(members, axis=0), rtol=1e-4, atol=1e-5)
