"""bench/accuracy.py: the message-passing recipes it compares with chemprop."""

import sys
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from redoxscreen import training
from redoxscreen.features import FingerprintSpec, parse_smiles
from redoxscreen.graphs import molecule_graph
from redoxscreen.grid import read_grid

import accuracy
from molecule_fixtures import labelled_molecules


def arguments(monkeypatch, *flags: str):
    monkeypatch.setattr(sys, "argv", ["accuracy.py", *flags])
    return accuracy.parse_args()


def recipes_for(monkeypatch, *flags: str) -> dict:
    return accuracy.make_recipes(arguments(monkeypatch, *flags))


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


def test_chemprop_is_seeded_by_its_own_seed_when_given_on_the_same_folds(monkeypatch):
    assert accuracy.chemprop_seed(arguments(monkeypatch, "--seed", "3")) == 3
    args = arguments(monkeypatch, "--seed", "3", "--chemprop-seed", "7")
    assert (args.seed, accuracy.chemprop_seed(args)) == (3, 7)


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
    rows = accuracy.member_rows(recipe, molecules["smiles"].tolist()[5:], 0)
    assert len(rows) == 2 and all(chosen.all() for chosen in rows)
    mean, _ = accuracy.train_recipe(recipe, graphs[5:], labels[5:], graphs[:5], 0, None, rows)
    members = []
    for seed in (0, 1000):
        fit = training.fit_model(graphs[5:], labels[5:], recipe.spec, recipe.hidden_layers,
                                 recipe.settings, seed)  # fmt: skip
        members.append(training.predict(fit.model, fit.scaler, graphs[:5]))
    assert not np.allclose(members[0], members[1])
    assert np.allclose(mean, np.mean(members, axis=0), rtol=1e-4, atol=1e-5)


def test_a_fold_ensemble_leaves_out_one_inner_fold_per_member_as_the_workflow_folds(monkeypatch):
    smiles = labelled_molecules(every=20)["smiles"].tolist()
    recipe = recipes_for(monkeypatch, "--members", "4", "--ensemble-of", "folds")["ensemble"]
    rows = accuracy.member_rows(recipe, smiles, 7)
    inner = accuracy.assign_folds(smiles, 4, 7)
    assert len(rows) == 4
    for member, chosen in enumerate(rows):
        assert np.array_equal(chosen, inner != member)
    left_out = np.sum([~chosen for chosen in rows], axis=0)
    assert (left_out == 1).all()  # every molecule is left out by exactly one member


def test_rows_of_every_row_is_the_features_themselves_not_a_copy():
    matrix, graphs = np.arange(12.0).reshape(4, 3), ["a", "b", "c", "d"]
    every, some = np.ones(4, dtype=bool), np.array([True, False, True, True])
    assert accuracy.rows_of(matrix, every) is matrix and accuracy.rows_of(graphs, every) is graphs
    assert np.array_equal(accuracy.rows_of(matrix, some), matrix[[0, 2, 3]])
    assert accuracy.rows_of(graphs, some) == ["a", "c", "d"]


def test_a_fold_ensemble_is_scored_on_the_held_out_fold_and_written(monkeypatch, tmp_path):
    molecules = labelled_molecules(every=20)
    data = molecules.rename(columns={"logp": "y"})[["smiles", "y"]]
    monkeypatch.setattr(accuracy, "load_set", lambda name, target, subsample: data)
    args = arguments(monkeypatch, "--recipes", "mpnn_ensemble", "--mpnn-arch", "2:8:8",
                     "--members", "2", "--ensemble-of", "folds", "--mpnn-epochs", "2",
                     "--only-fold", "0", "--threads", "1")  # fmt: skip
    rows = accuracy.run_set("demo:logp", args, accuracy.make_recipes(args), tmp_path)
    held_out = accuracy.assign_folds(data["smiles"].tolist(), 5, 0) == 0
    assert [(row["recipe"], row["n"], row["folds"]) for row in rows] == [
        ("mpnn_ensemble", len(data), 1)
    ]
    written = pd.read_csv(tmp_path / "demo:logp" / "predictions.csv")
    assert len(written) == held_out.sum() and written["mpnn_ensemble"].notna().all()
    mae = np.mean(np.abs(written["mpnn_ensemble"] - written["y"]))
    assert rows[0]["mae"] == pytest.approx(mae)
