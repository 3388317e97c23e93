"""Molecular graphs, the message-passing network, and its fold models in training and prediction."""

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from rdkit import Chem

from redoxscreen import graphs, training
from redoxscreen.features import FingerprintSpec, fingerprint_smiles
from redoxscreen.grid import mae_table, read_grid
from redoxscreen.message_passing import (
    MessagePassingNetwork,
    WeightAverage,
    averaging_start,
    forward_function,
    learning_rate_at,
    predict_scaled,
    train,
)
from redoxscreen.predict import Ensemble, features_needed, predict_smiles, predict_smiles_file
from redoxscreen.similarity import TRAINING_MOLECULES, write_training_molecules

from molecule_fixtures import labelled_molecules
from workflow_runner import REPO

SPEC = FingerprintSpec(radius=3, n_bits=32, kind="graph")
SETTINGS = training.TrainingSettings(graph_epochs=5, graph_batch_size=32)


@pytest.fixture(autouse=True, scope="module")
def tensorflow_configured_as_the_other_tests_do():
    """TensorFlow fixes its thread pools when it first runs: set them as train_fold(threads=1)."""
    training.configure_tensorflow(1, training.TrainingSettings())


def graph_of(smiles: str) -> graphs.MoleculeGraph:
    return graphs.molecule_graph(Chem.MolFromSmiles(smiles))


def test_every_bond_is_stored_both_ways_next_to_its_reverse():
    graph = graph_of("C=CC(=O)[O-]")  # 5 heavy atoms, 4 bonds
    assert graph.atoms.shape == (5, graphs.ATOM_FEATURES)
    assert len(graph.source) == len(graph.target) == len(graph.bonds) == 8
    assert np.array_equal(graph.source[0::2], graph.target[1::2])
    assert np.array_equal(graph.target[0::2], graph.source[1::2])


def test_batches_offset_atoms_and_keep_reverse_bonds_paired():
    atoms, _, source, target, reverse, molecule, count = graphs.graph_batch(
        [graph_of("CCO"), graph_of("c1ccccc1")]
    )
    assert count == 2 and len(atoms) == 3 + 6
    assert np.array_equal(molecule, [0, 0, 0, 1, 1, 1, 1, 1, 1])
    assert source[4:].min() == 3  # the benzene's bonds point at its own atoms
    assert np.array_equal(source[reverse], target) and np.array_equal(target[reverse], source)
    assert all(array.dtype == np.int32 for array in (source, target, reverse, molecule))


def test_store_gives_back_each_molecules_graph_by_id(tmp_path):
    smiles = {"a": "CCO", "b": "c1ccccc1", "c": "[Na]"}  # c: one atom, no bonds
    store = graphs.stack_graphs(list(smiles), [graph_of(text) for text in smiles.values()])
    graphs.write_store(str(tmp_path / "graphs.npz"), store)
    back = graphs.read_store(str(tmp_path / "graphs.npz")).rows_for(["c", "a"])
    assert [len(graph.atoms) for graph in back] == [1, 3]
    assert np.array_equal(back[1].bonds, graph_of("CCO").bonds)
    assert len(back[0].source) == 0
    with pytest.raises(KeyError, match="not in the graph store"):
        store.rows_for(["a", "zz"])


def test_a_store_of_other_graph_features_is_refused(tmp_path):
    store = graphs.stack_graphs(["a"], [graph_of("CCO")])
    np.savez(tmp_path / "old.npz", **store.__dict__)  # no version: written before versions
    with pytest.raises(ValueError, match="delete it and rerun"):
        graphs.read_store(str(tmp_path / "old.npz"))


def ring_columns(smiles: str) -> np.ndarray:
    """Per atom: in a ring of 3..8 atoms (6 columns), then in 0/1/2/3/more rings (one-hot)."""
    return graph_of(smiles).atoms[:, -len(graphs.RING_SIZES) - 5 :].astype(int)


def test_atoms_say_which_ring_sizes_they_are_in_and_how_many_rings():
    rings = ring_columns("C1CC1C1CCCCC1")
    assert rings[0].tolist() == [1, 0, 0, 0, 0, 0] + [0, 1, 0, 0, 0]  # cyclopropane
    assert rings[3].tolist() == [0, 0, 0, 1, 0, 0] + [0, 1, 0, 0, 0]  # cyclohexane
    fused = ring_columns("C1CCC2CC2C1")  # norcarane: atom 3 is shared by the 3- and 6-ring
    assert fused[3].tolist() == [1, 0, 0, 1, 0, 0] + [0, 0, 1, 0, 0]
    assert ring_columns("CCO").tolist() == [[0] * 6 + [1, 0, 0, 0, 0]] * 3


def test_a_network_saved_with_other_graph_features_is_refused(tmp_path):
    import zipfile

    import keras

    path = tmp_path / "model.keras"
    MessagePassingNetwork(2, 8, (4,)).save(path)
    with zipfile.ZipFile(path) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(files["config.json"])
    assert config["config"]["features_version"] == graphs.FEATURES_VERSION == 2
    del config["config"]["features_version"]  # as saved before ring sizes: version 1
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in (files | {"config.json": json.dumps(config)}).items():
            archive.writestr(name, content)
    with pytest.raises(
        Exception, match="trained on graph features of version 1, .* builds version 2.*retrain"
    ):
        keras.saving.load_model(path)


def test_a_learned_fingerprint_is_named_by_depth_and_width_and_rdkit_refuses_it():
    assert SPEC.learned and SPEC.name == "mpnn_d3_h32" and SPEC.width == 32
    assert FingerprintSpec(3, 300, "graph").n_bits == 300  # no multiple of 8 needed
    with pytest.raises(ValueError, match="too small"):
        FingerprintSpec(0, 300, "graph")
    with pytest.raises(ValueError, match="learned by a message-passing network"):
        fingerprint_smiles(["CCO"], SPEC)


def test_training_on_no_molecules_is_refused():
    with pytest.raises(ValueError, match="nothing to train on"):
        training.fit_graph_network([], np.zeros(0), SPEC, (16,), SETTINGS, seed=0)


def test_learning_rate_warms_up_then_decays_to_a_tenth_of_its_peak():
    assert learning_rate_at(0, 10, 50, 1e-3) == pytest.approx(1e-4)
    assert learning_rate_at(20, 10, 50, 1e-3) == pytest.approx(1e-3)
    assert learning_rate_at(500, 10, 50, 1e-3) == pytest.approx(1e-4)


def test_weights_are_averaged_over_the_last_part_of_the_epochs():
    assert averaging_start(50, 0.25) == 37  # the last 13 epochs
    assert averaging_start(4, 0.01) == 3  # at least the last epoch
    assert (averaging_start(50, 0.0), averaging_start(10, 1.0)) == (50, 0)
    with pytest.raises(ValueError, match="graph_weight_averaging must be from 0 to 1"):
        training.TrainingSettings.from_config({"graph_weight_averaging": 1.5})


def test_a_weight_average_puts_the_mean_of_what_it_saw_into_the_variables():
    import keras

    variables = [keras.Variable(np.array([1.0, 2.0])), keras.Variable(np.array(3.0))]
    average = WeightAverage(variables)
    for shift in (0.0, 1.0, 5.0):
        variables[0].assign(np.array([1.0, 2.0]) + shift)
        variables[1].assign(3.0 - shift)
        average.add()
    variables[0].assign(np.zeros(2))
    average.apply()
    assert np.allclose(variables[0].numpy(), [3.0, 4.0]) and variables[1].numpy() == 1.0


def test_averaging_changes_the_kept_weights_but_not_the_training_itself():
    import keras

    molecules = labelled_molecules(every=20)
    molecule_graphs = [graph_of(text) for text in molecules["smiles"]]
    labels = molecules["logp"].to_numpy()
    runs = {}
    for fraction in (0.0, 0.01, 0.5):
        keras.utils.set_random_seed(0)
        model = MessagePassingNetwork(2, 8, (8,))
        history = train(model, molecule_graphs, labels - labels.mean(), epochs=4, batch_size=8,
                        peak_learning_rate=1e-3, seed=0, average_last=fraction)  # fmt: skip
        runs[fraction] = history, [weights.copy() for weights in model.get_weights()]
    assert runs[0.0][0] == runs[0.01][0] == runs[0.5][0]
    assert all(np.array_equal(a, b) for a, b in zip(runs[0.0][1], runs[0.01][1], strict=True))
    assert not all(np.allclose(a, b) for a, b in zip(runs[0.0][1], runs[0.5][1], strict=True))


def test_the_epoch_hook_sees_each_epochs_weights_before_they_are_averaged():
    import keras

    molecules = labelled_molecules(every=20)
    molecule_graphs = [graph_of(text) for text in molecules["smiles"]]
    labels = molecules["logp"].to_numpy()
    keras.utils.set_random_seed(0)
    model = MessagePassingNetwork(2, 8, (8,))
    seen = []
    train(model, molecule_graphs, labels - labels.mean(), epochs=4, batch_size=8,
          peak_learning_rate=1e-3, seed=0, average_last=0.5,
          on_epoch_end=lambda: seen.append(model.get_weights()))  # fmt: skip
    assert len(seen) == 4  # once per epoch; the last two epochs' weights are averaged:
    for kept, third, fourth in zip(model.get_weights(), seen[2], seen[3], strict=True):
        assert np.allclose(kept, (third + fourth) / 2)


def test_watching_held_out_molecules_records_their_mae_and_changes_nothing_else():
    molecules = labelled_molecules(every=20)
    molecule_graphs = [graph_of(text) for text in molecules["smiles"]]
    labels = molecules["logp"].to_numpy()
    watched_graphs, watched_labels = molecule_graphs[:7], labels[:7]
    settings = training.TrainingSettings(graph_epochs=3, graph_batch_size=8, learning_rate=1e-3,
                                         graph_weight_averaging=0.0)  # fmt: skip
    fits = {}
    for watched in (None, (watched_graphs, watched_labels), ([], np.zeros(0))):
        fits[len(watched[0]) if watched else None] = training.fit_graph_network(
            molecule_graphs[7:], labels[7:], FingerprintSpec(2, 8, "graph"), (8,), settings,
            seed=0, held_out=watched)  # fmt: skip
    plain, with_held_out = fits[None], fits[7]
    curve = with_held_out.history.pop("held_out_mae")
    assert (with_held_out.history.pop("held_out_seconds") > 0).all()  # left out of fit.seconds
    assert "held_out_mae" not in plain.history and "held_out_mae" not in fits[0].history
    pd.testing.assert_frame_equal(with_held_out.history, plain.history)  # epoch by epoch
    weights = zip(plain.model.get_weights(), with_held_out.model.get_weights(), strict=True)
    assert all(np.array_equal(a, b) for a, b in weights)
    assert len(curve) == 3  # the last epoch's value is the kept model's (no averaging):
    kept = training.predict(with_held_out.model, with_held_out.scaler, watched_graphs)
    assert curve.iloc[-1] == pytest.approx(np.abs(kept - watched_labels).mean(), rel=1e-5)


def test_network_stays_float32_under_a_mixed_precision_policy():
    import keras

    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        output = MessagePassingNetwork(hidden=8)(graphs.graph_batch([graph_of("CCO")]))
    finally:
        keras.mixed_precision.set_global_policy(previous)
    assert output.dtype.name == "float32" and output.shape == (1,)


def test_the_grid_counts_the_networks_weights():
    grid = read_grid(str(REPO / "config" / "grid_mpnn.tsv"))
    row = grid[25]
    assert (row.fingerprint, row.radius, row.n_bits, row.hidden_layers) == ("graph", 3, 300, (300,))
    metrics = pd.DataFrame([{"model": 25, "radius": 3, "n_bits": 300, "hidden_layers": "300",
                             "fingerprint": "graph", "descriptors": False, "val_mae": 0.1,
                             "val_r2": 0.9, "fold": 0, "epochs": 50, "train_seconds": 1.0}])  # fmt: skip
    assert mae_table(metrics).n_weights[0] == MessagePassingNetwork(3, 300, (300,)).count_params()


def test_network_learns_an_additive_property_of_held_out_molecules(caplog):
    molecules = labelled_molecules()
    molecule_graphs = [graph_of(text) for text in molecules["smiles"]]
    labels = molecules["logp"].to_numpy()
    held_out = np.arange(len(labels)) % 5 == 0
    train = [graph for graph, out in zip(molecule_graphs, held_out, strict=True) if not out]
    test = [graph for graph, out in zip(molecule_graphs, held_out, strict=True) if out]
    settings = training.TrainingSettings(graph_epochs=30)
    with caplog.at_level("INFO", logger="redoxscreen.training"):
        fit = training.fit_graph_network(train, labels[~held_out], FingerprintSpec(3, 300, "graph"),
                                         (300,), settings, seed=0)  # fmt: skip
    assert "the keys l2, dropout, batch_size, max_epochs" in caplog.text  # they do nothing here
    error = np.abs(training.predict(fit.model, fit.scaler, test) - labels[held_out]).mean()
    baseline = np.abs(labels[~held_out].mean() - labels[held_out]).mean()
    assert len(fit.history) == 30 and fit.history["learning_rate"].iloc[-1] < 1.1e-4
    assert error < 0.3 * baseline


# --- fold models in the workflow's training and prediction -------------------------------------


@pytest.fixture(scope="module")
def graph_model_dir(tmp_path_factory):
    """``results/final/logp/``: two message-passing fold models of Crippen logP."""
    work = tmp_path_factory.mktemp("mpnn")
    molecules = labelled_molecules()
    molecules.to_parquet(work / "molecules.parquet", index=False)
    graphs.graph_table(str(work / "molecules.parquet"), str(work / "graphs.npz"))
    folds = pd.DataFrame({"id": molecules["id"], "fold": np.arange(len(molecules)) % 2})
    folds.to_parquet(work / "folds.parquet", index=False)
    target_dir = work / "results" / "final" / "logp"
    for fold in (0, 1):
        training.train_fold(
            fold_job(work, fold), SETTINGS, str(target_dir / f"fold{fold}"), 1, save_model=True
        )
    metrics = {"unit": "logP", "study_choice": {"fold": 0}, "out_of_fold": {}}
    (target_dir / "metrics.json").write_text(json.dumps(metrics))
    ids = molecules["id"].tolist()
    write_training_molecules(
        str(work / "molecules.parquet"), ids, str(target_dir / TRAINING_MOLECULES)
    )
    return target_dir


def fold_job(work, fold: int, **changes) -> training.FoldJob:
    job = training.FoldJob(
        molecules=str(work / "molecules.parquet"),
        features=str(work / "graphs.npz"),
        folds=str(work / "folds.parquet"),
        target="logp",
        model_id=25,
        fold=fold,
        hidden_layers=(16,),
        seed=7,
        spec=SPEC,
    )
    return dataclasses.replace(job, **changes)


def test_fold_models_record_their_architecture_and_held_out_predictions(graph_model_dir):
    recipe = json.loads((graph_model_dir / "fold0" / "recipe.json").read_text())
    metrics = json.loads((graph_model_dir / "fold0" / "metrics.json").read_text())
    assert recipe["fingerprint"] == {"radius": 3, "n_bits": 32, "kind": "graph"}
    assert metrics["fingerprint"] == "graph" and metrics["epochs"] == 5
    assert metrics["device"].endswith("float32")  # whatever training.mixed_precision says
    assert metrics["n_early_stopping"] == 0  # trains on every training molecule
    held = pd.read_parquet(graph_model_dir / "fold0" / "predictions.parquet")
    assert len(held) == (len(labelled_molecules()) + 1) // 2 and held["y_pred"].notna().all()


def test_ensemble_of_graph_models_predicts_as_the_saved_fold_models(graph_model_dir):
    smiles = labelled_molecules()["smiles"].tolist()[:40]
    ensemble = Ensemble.load(graph_model_dir)
    assert features_needed({"logp": ensemble}).graphs
    table = predict_smiles(smiles + ["C1CC"], ensemble)
    fitted = [training.load_fitted(graph_model_dir / f"fold{fold}") for fold in (0, 1)]
    models, scalers = [model for model, _, _ in fitted], [scaler for _, scaler, _ in fitted]
    scaled = predict_scaled(forward_function(models), [graph_of(text) for text in smiles], 2)
    per_fold = np.stack([scalers[fold].inverse(scaled[fold]) for fold in (0, 1)])
    np.testing.assert_allclose(table["logp_pred"][:40], per_fold.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(table["logp_study"][:40], per_fold[0], rtol=1e-6)
    assert table["error"].iloc[40].startswith("invalid_smiles") and np.isnan(table["logp_pred"][40])


def test_two_spellings_of_a_chiral_molecule_get_one_prediction(graph_model_dir):
    # RDKit tags these chiral centres clockwise and anticlockwise: the atom order differs
    spellings = ["Cl[C@@H](F)Br", "F[C@H](Cl)Br", "N[C@@H](C)C(=O)O", "C[C@H](N)C(=O)O"]
    tags = [int(Chem.MolFromSmiles(text).GetAtomWithIdx(1).GetChiralTag()) for text in spellings]
    assert tags[0] != tags[1] and tags[2] != tags[3]
    mols = [Chem.MolFromSmiles(text) for text in spellings]
    canonical = [Chem.MolToSmiles(mol) for mol in mols]
    assert canonical[0] == canonical[1] and canonical[2] == canonical[3]
    table = predict_smiles(spellings, graph_model_dir)  # a chunk predicts a molecule once
    predicted = table["logp_pred"].to_numpy()
    assert predicted[0] == predicted[1] and predicted[2] == predicted[3]
    ensemble = Ensemble.load(graph_model_dir)
    alone = [ensemble.predict_mols([mol])["pred"][0] for mol in mols]  # the same graph
    assert alone[0] == alone[1] and alone[2] == alone[3]
    # in one batch a molecule's place may change the last float32 bits (on AMD EPYC, measured)
    from_mols = ensemble.predict_mols(mols)["pred"]
    np.testing.assert_allclose(from_mols, predicted, rtol=1e-6)


def test_a_smiles_file_is_screened_with_graph_models(graph_model_dir, tmp_path):
    smiles = labelled_molecules()["smiles"].tolist()[:30]
    (tmp_path / "library.smi").write_text(
        "".join(f"{text} m{i}\n" for i, text in enumerate(smiles))
    )
    counts = predict_smiles_file(tmp_path / "library.smi", {"logp": graph_model_dir},
                                 tmp_path / "out", chunk_size=7, progress=False)  # fmt: skip
    parts = pd.concat([pd.read_parquet(path) for path in sorted((tmp_path / "out").iterdir())])
    in_memory = predict_smiles(smiles, graph_model_dir)
    assert counts["predicted"] == 30 and counts["parts"] == 5
    np.testing.assert_allclose(parts["logp_pred"], in_memory["logp_pred"], rtol=1e-6)


def test_descriptors_are_refused_for_a_graph_model(graph_model_dir, tmp_path):
    work = graph_model_dir.parents[2]
    job = fold_job(work, 0, descriptors=str(work / "described.npz"))
    settings = dataclasses.replace(SETTINGS, descriptors=True)
    with pytest.raises(ValueError, match="takes no descriptors"):
        training.train_fold(job, settings, str(tmp_path), 1)
