"""End to end: a 2-model x 2-fold grid of the real Snakefile on a small real data set."""

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from rdkit import Chem

from redoxscreen import descriptors
from redoxscreen.chemistry import StandardizeOptions
from redoxscreen.predict import read_parts

from molecule_fixtures import labelled_molecules
from workflow_runner import copy_workdir, planned_jobs, run_snakemake, with_override

# finished_grid (tests/conftest.py): one finished run of the grid, shared with test_workflow_reruns


def test_dry_run_plans_one_job_per_target_model_fold(finished_grid):
    _, plan = finished_grid
    jobs = planned_jobs(plan)
    assert jobs["train_grid_fold"] == 2 * 2 * 2  # targets x models x folds
    assert jobs["featurize"] == 1  # models 2 and 24 share radius-1 1024-bit counts
    assert jobs["make_folds"] == 4  # targets x (grid k, final k)
    assert jobs["gather_grid"] == 2
    assert jobs["ingest"] == 1


def test_the_grid_really_learns(finished_grid):
    workdir, _ = finished_grid
    molecules = pd.read_parquet(workdir / "results/data/molecules.parquet")
    for target in ("IE", "EA"):
        table = pd.read_csv(workdir / f"results/grid/{target}/mae_table.tsv", sep="\t")
        assert sorted(table["model"]) == [2, 24]
        assert (table["folds"] == 2).all()
        spread = molecules[target].std()
        assert table["val_mae_mean"].max() < 0.35 * spread, (target, table, spread)


def test_selection_and_fold_outputs(finished_grid):
    workdir, _ = finished_grid
    table = pd.read_csv(workdir / "results/grid/IE/mae_table.tsv", sep="\t")
    selected = yaml.safe_load((workdir / "results/grid/IE/selected.yaml").read_text())
    assert selected["model"] == int(table.loc[table["val_mae_mean"].idxmin(), "model"])
    metrics = json.loads((workdir / "results/grid/IE/m24/fold1/metrics.json").read_text())
    assert metrics["hidden_layers"] == "512-256"
    folds = pd.read_parquet(workdir / "results/folds/IE/grid.parquet")
    final_folds = pd.read_parquet(workdir / "results/folds/IE/final.parquet")
    calibration = set(final_folds.loc[final_folds["fold"] == -1, "id"])
    assert len(calibration) > 0  # the grid holds out the final stage's calibration set
    assert set(folds.loc[folds["fold"] == -1, "id"]) == calibration
    searched = folds[folds["fold"] != -1]
    assert set(searched["fold"]) == {0, 1}
    assert metrics["n_val"] + metrics["n_train"] + metrics["n_early_stopping"] == len(searched)
    history = pd.read_parquet(workdir / "results/grid/IE/m24/fold1/history.parquet")
    assert {"epoch", "loss", "mae", "val_loss", "val_mae"} <= set(history.columns)
    assert "held_out_mae" not in history  # the grid does not pay for the held-out curve
    assert len(history) == metrics["epochs"]
    predictions = pd.read_parquet(workdir / "results/grid/IE/m24/fold1/predictions.parquet")
    assert set(predictions["id"]) == set(folds.loc[folds["fold"] == 1, "id"])
    assert (workdir / "results/grid/IE/mae_heatmap.png").stat().st_size > 10_000


def test_finished_run_has_nothing_to_do(finished_grid):
    workdir, _ = finished_grid
    assert "Nothing to be done" in run_snakemake(workdir, "-n").stdout


def test_a_training_change_reruns_the_grid_only(finished_grid):
    workdir, _ = finished_grid
    override = {"training": {"max_epochs": 61}}  # merged key by key
    configs = with_override(workdir, workdir / "longer.yaml", override)
    plan = run_snakemake(workdir, "-n", *configs)
    jobs = planned_jobs(plan.stdout)
    assert jobs == {
        "train_grid_fold": 8,
        "gather_grid": 2,
        "train_final_fold": 6,
        "record_final_models": 2,
        "evaluate_final": 2,
        "screen_dataset": 1,
        "summarize_run": 1,
        "all": 1,
    }


def test_another_interval_level_computes_the_intervals_again_and_trains_nothing(
    finished_grid, tmp_path
):
    workdir = copy_workdir(finished_grid[0], tmp_path / "level")
    before = json.loads((workdir / "results/final/EA/metrics.json").read_text())["interval"]
    configs = with_override(workdir, workdir / "level.yaml", {"final": {"interval_level": 0.8}})
    jobs = planned_jobs(run_snakemake(workdir, "-n", *configs).stdout)
    assert jobs == {"evaluate_final": 2, "screen_dataset": 1, "summarize_run": 1, "all": 1}
    run_snakemake(workdir, *configs)
    after = json.loads((workdir / "results/final/EA/metrics.json").read_text())["interval"]
    assert (before["level"], after["level"]) == (0.95, 0.8)
    for method in ("gaussian", "conformal"):
        assert after[method]["half_width"] < before[method]["half_width"]
    assert after["ensemble"]["scale"] < before["ensemble"]["scale"]
    assert after["ensemble"]["coverage"] < before["ensemble"]["coverage"]
    screened = pd.read_parquet(workdir / "results/screen/dataset/screened.parquet")
    by_fold_model = screened[screened["EA_source"] == "fold model"]  # the global conformal one
    assert by_fold_model["half_width_v"].to_numpy() == pytest.approx(
        after["conformal"]["half_width"]
    )
    summary = (workdir / "results/summary.md").read_text()
    assert "80 % interval ±" in summary and "95 % interval" not in summary


def test_descriptors_add_one_job_and_reach_training(finished_grid, tmp_path):
    workdir = copy_workdir(finished_grid[0], tmp_path / "described")
    override = {"training": {"descriptors": True}}
    configs = with_override(workdir, workdir / "described.yaml", override)
    jobs = planned_jobs(run_snakemake(workdir, "-n", *configs).stdout)
    assert jobs["describe"] == 1 and jobs["train_grid_fold"] == 8 and "featurize" not in jobs
    target = "results/grid/IE/m24/fold0/metrics.json"
    run_snakemake(workdir, target, *configs)
    metrics = json.loads((workdir / target).read_text())
    assert metrics["descriptors"] is True
    described = np.load(workdir / "results/features/rdkit_descriptors.npz")
    molecules = pd.read_parquet(workdir / "results/data/molecules.parquet")
    assert described["data"].shape == (len(molecules), len(descriptors.NAMES))


def test_grid_rows_can_search_fingerprint_kinds_through_to_the_final_models(
    finished_grid, tmp_path
):
    workdir = copy_workdir(finished_grid[0], tmp_path / "kinds")
    (workdir / "kinds.tsv").write_text(
        "model\tradius\tn_bits\thidden_layers\tfingerprint\n"
        "2\t1\t1024\t1024-512\tcount_ap\n24\t1\t1024\t512-256\tbit\n"
    )
    override = {"grid": {"architectures": str(workdir / "kinds.tsv")}}
    configs = with_override(workdir, workdir / "kinds.yaml", override)
    jobs = planned_jobs(run_snakemake(workdir, "-n", *configs).stdout)
    assert jobs["featurize"] == 2 and jobs["train_grid_fold"] == 8  # a count_ap and a bit store
    run_snakemake(workdir, "results/final/IE/fold0/recipe.json", *configs)
    table = pd.read_csv(workdir / "results/grid/IE/mae_table.tsv", sep="\t")
    assert dict(zip(table["model"], table["fingerprint"], strict=True)) == {
        2: "count_ap",
        24: "bit",
    }
    selected = yaml.safe_load((workdir / "results/grid/IE/selected.yaml").read_text())
    recipe = json.loads((workdir / "results/final/IE/fold0/recipe.json").read_text())
    assert recipe["fingerprint"]["kind"] == selected["fingerprint"] != "count"


def test_a_message_passing_row_reads_the_graph_store_through_to_screening_a_library(
    finished_grid, tmp_path
):
    workdir = copy_workdir(finished_grid[0], tmp_path / "mpnn")
    (workdir / "mpnn.tsv").write_text(
        "model\tradius\tn_bits\thidden_layers\tfingerprint\n25\t2\t32\t16\tgraph\n"
    )
    library = "O=C1C=CC(=O)C=C1 quinone\nC1CC broken\nCCCCO.Cl salt\n[Na+].[O-]C(=O)c1ccccc1 ion\n"
    (workdir / "library.smi").write_text(library)
    override = {
        "grid": {"architectures": str(workdir / "mpnn.tsv"), "models": "all"},
        "training": {"graph_epochs": 3},
        "final": {"k": 2},
        "screen": {"lib": "library.smi"},
        "predict": {"largest_fragment": True, "neutralize": True},  # the data set: rejected
    }
    configs = with_override(workdir, workdir / "mpnn.yaml", override)
    jobs = planned_jobs(run_snakemake(workdir, "-n", *configs).stdout)
    assert jobs["featurize_graphs"] == 1 and "featurize" not in jobs
    assert jobs["train_grid_fold"] == 4 and jobs["train_final_fold"] == 4  # 2 targets x 2 folds
    run_snakemake(workdir, *configs)
    recipe = json.loads((workdir / "results/final/EA/fold1/recipe.json").read_text())
    assert recipe["fingerprint"] == {"radius": 2, "n_bits": 32, "kind": "graph"}
    history = pd.read_parquet(workdir / "results/final/EA/fold1/history.parquet")
    assert len(history) == 3 and np.isfinite(history["held_out_mae"]).all()
    predicted = pd.read_parquet(workdir / "results/predict/lib/part-00000.parquet")
    assert np.isfinite(predicted["EA_pred"][0]) and np.isnan(predicted["EA_pred"][1])
    assert predicted["smiles"][2] == "CCCCO" and np.isfinite(predicted["EA_pred"][2])
    assert predicted["smiles"][3] == "O=C(O)c1ccccc1" and np.isfinite(predicted["EA_pred"][3])
    log = (workdir / "logs/predict_library/lib.log").read_text()
    assert "TensorFlow predicts with 1 intra-op thread(s)" in log  # not every core of the machine
    summary = (workdir / "results/summary.md").read_text()
    assert "- EA (grid model 25: message passing, depth 2, width 32, head 16): " in summary
    library = summary.split("## Candidates in library `lib`\n\n")[1]
    assert library.splitlines()[0].split() == ["|", "electrolyte", "|", "role", "|",
                                               "n_screened", "|", "n_candidates", "|",
                                               "n_unfamiliar", "|", "n_distinct_candidates",
                                               "|"]  # fmt: skip
    assert recipe["training"] == {"descriptors": False, "label_scaling": "standard",
                                  "learning_rate": 1e-3, "deterministic": True, "graph_epochs": 3,
                                  "graph_batch_size": 16, "graph_weight_averaging": 0.25}  # fmt: skip
    # a fingerprint network's keys, and the chunk size, change nothing here
    override["training"] = {"graph_epochs": 3, "dropout": 0.3, "max_epochs": 61, "l2": 0.01}
    override["predict"]["chunk_size"] = 2
    ignored = with_override(workdir, workdir / "ignored.yaml", override)
    assert "Nothing to be done" in run_snakemake(workdir, "-n", *ignored).stdout


def test_same_seed_same_metrics(finished_grid, tmp_path):
    workdir, _ = finished_grid
    (tmp_path / "molecules.csv").write_bytes((workdir / "molecules.csv").read_bytes())
    (tmp_path / "config.yaml").write_bytes((workdir / "config.yaml").read_bytes())
    target = "results/grid/EA/m2/fold0/metrics.json"
    run_snakemake(tmp_path, target)
    first = json.loads((workdir / target).read_text())
    again = json.loads((tmp_path / target).read_text())
    for key in ("val_mae", "val_rmse", "best_epoch", "epochs", "n_train"):
        assert first[key] == again[key], key


def test_out_of_fold_predictions_never_come_from_a_model_that_saw_the_molecule(finished_grid):
    workdir, _ = finished_grid
    folds = pd.read_parquet(workdir / "results/folds/EA/final.parquet").set_index("id")["fold"]
    calibration = set(folds.index[folds == -1])
    assert 0.08 < len(calibration) / len(folds) < 0.12  # final.calibration_fraction 0.1
    oof = pd.read_parquet(workdir / "results/final/EA/oof_predictions.parquet")
    assert sorted(oof["id"]) == sorted(folds.index)  # every labelled molecule, exactly once
    assert (oof.set_index("id")["fold"] == folds.loc[oof["id"]].to_numpy()).all()
    assert set(oof.loc[oof["source"] == "ensemble", "id"]) == calibration
    for fold in range(3):
        fold_dir = workdir / f"results/final/EA/fold{fold}"
        metrics = json.loads((fold_dir / "metrics.json").read_text())
        trained_on = metrics["n_train"] + metrics["n_early_stopping"]
        assert trained_on == int(((folds != fold) & (folds != -1)).sum())  # other folds only
        assert (fold_dir / "model.keras").stat().st_size > 0
        history = pd.read_parquet(fold_dir / "history.parquet")  # the learning curves' data
        assert len(history) == metrics["epochs"] and history["held_out_mae"].notna().all()
        kept = history["held_out_mae"].iloc[metrics["best_epoch"] - 1]  # early stopping kept it
        assert kept == pytest.approx(metrics["val_mae"], rel=1e-4)
        predicted = pd.read_parquet(fold_dir / "calibration_predictions.parquet")
        assert set(predicted["id"]) == calibration  # every fold model meets them unseen


def test_final_metrics_are_out_of_fold_and_honest(finished_grid):
    workdir, _ = finished_grid
    metrics = json.loads((workdir / "results/final/IE/metrics.json").read_text())
    selected = yaml.safe_load((workdir / "results/grid/IE/selected.yaml").read_text())
    predictions = pd.read_parquet(workdir / "results/final/IE/oof_predictions.parquet")
    oof = predictions[predictions["source"] == "fold model"]
    assert metrics["folds"] == 3
    assert metrics["out_of_fold"]["n"] == len(oof)
    assert metrics["out_of_fold"]["mae"] == pytest.approx((oof.y_pred - oof.y_true).abs().mean())
    assert metrics["out_of_fold"]["r2"] > 0.8
    assert metrics["architecture"]["hidden_layers"] == selected["hidden_layers"]
    assert metrics["study_choice"]["fold"] in {0, 1, 2}
    assert StandardizeOptions.from_config(metrics["ingest"]) == StandardizeOptions()  # defaults
    for method in ("gaussian", "conformal", "ensemble"):
        assert 0.85 < metrics["interval"][method]["coverage"] <= 1.0
    assert metrics["interval"]["level"] == 0.95  # final.interval_level
    ensemble = metrics["interval"]["ensemble"]
    calibration = predictions[predictions["source"] == "ensemble"]
    assert ensemble["n_calibration"] == len(calibration)
    assert ensemble["ensemble_metrics"]["mae"] == pytest.approx(
        (calibration.y_pred - calibration.y_true).abs().mean()
    )
    widths = ensemble["scale"] * calibration["spread"].clip(lower=ensemble["spread_floor"])
    assert calibration["half_width"].to_numpy() == pytest.approx(widths.to_numpy())
    for figure in ("parity.png", "learning_curves.png"):
        assert (workdir / f"results/final/IE/{figure}").stat().st_size > 10_000


def test_screening_of_the_data_set_and_the_summary(finished_grid):
    workdir, _ = finished_grid
    screened = pd.read_parquet(workdir / "results/screen/dataset/screened.parquet")
    molecules = pd.read_parquet(workdir / "results/data/molecules.parquet")
    counts = pd.read_csv(workdir / "results/screen/dataset/counts.tsv", sep="\t")
    # the default screening: (acetonitrile, propylene carbonate) x (cathode, anode)
    assert len(screened) == len(molecules) * 2 * 2
    assert set(counts["role"]) == {"cathode", "anode"}
    assert set(counts["electrolyte"]) == {"acetonitrile", "propylene_carbonate"}
    passing = screened[screened["passes"]]
    candidates = pd.read_csv(workdir / "results/screen/dataset/candidates.csv")
    assert candidates["id"].tolist() == passing["id"].tolist() and candidates["passes"].all()
    assert 0 < len(candidates) < len(screened)
    assert (passing["low_v"] >= passing["reduction_limit_v"] - 1e-9).all()
    assert (passing["high_v"] <= passing["upper_limit_v"] + 1e-9).all()
    assert (passing.loc[passing["role"] == "anode", "potential_v_li"] >= 1.8).all()
    labels = molecules.set_index("id").loc[screened["id"]]  # each row's own labels, to compare
    assert screened["IE_label"].tolist() == labels["IE"].tolist()
    assert (screened["potential"] == "reduction").all()  # both roles read EA's (V vs Li/Li+)
    assert screened["label_v_li"].tolist() == labels["EA"].tolist()
    assert set(screened["EA_source"]) == {"fold model", "ensemble"}  # calibration molecules
    assert set(candidates.columns) >= {"IE_label", "EA_label", "label_v_li", "EA_source"}
    for kind in ("oxidation", "reduction"):
        for electrolyte in ("acetonitrile", "propylene_carbonate"):
            assert (workdir / f"results/screen/dataset/{kind}_{electrolyte}.png").exists()
    summary = (workdir / "results/summary.md").read_text()
    assert "out-of-fold MAE" in summary and "acetonitrile" in summary


def test_report_is_created(finished_grid):
    workdir, _ = finished_grid
    run_snakemake(workdir, "--report", "results/report.html")
    html = (workdir / "results/report.html").read_text(errors="ignore")
    assert "mae_heatmap.png" in html and "parity.png" in html


def written_otherwise(smiles: str) -> str:
    """The same molecule in another SMILES: atoms in another order."""
    mol = Chem.MolFromSmiles(smiles)
    return next(
        text
        for seed in range(1, 100)
        if (text := Chem.MolToRandomSmilesVect(mol, 1, randomSeed=seed)[0]) != smiles
    )


def test_library_screening_in_chunks_equals_one_chunk(finished_grid):
    workdir, _ = finished_grid
    molecules = labelled_molecules(every=9)["smiles"].tolist()[:40]
    copies = {
        f"lib{42 + i}": (f"lib{i}", written_otherwise(smiles))
        for i, smiles in enumerate(molecules[:8])
    }
    lines = [f"{smiles} lib{i}" for i, smiles in enumerate(molecules)] + ["C1CC broken"]
    lines += [f"{smiles} {copy}" for copy, (_, smiles) in copies.items()]
    (workdir / "library.smi").write_text("\n".join(lines) + "\n")
    rows = [f'{i},"{smiles}",lib{i}' for i, smiles in enumerate(molecules)]
    rows += ["40,C1CC,broken", "41,CCO,shifted,9"]  # the second has a cell beyond the header
    rows += [f'{copy[3:]},"{smiles}",{copy}' for copy, (_, smiles) in copies.items()]
    (workdir / "library.csv").write_text("\n".join(["Row,IsomericSMILES,CID", *rows]) + "\n")
    table = {"path": "library.csv", "smiles_column": "IsomericSMILES", "id_column": "CID"}
    for name, library, chunk in (("chunked", "library.smi", 7), ("whole", table, 1000)):
        override = {"screen": {name: library}, "predict": {"chunk_size": chunk}}
        configs = with_override(workdir, workdir / f"{name}.yaml", override)
        run_snakemake(workdir, *configs, "--", f"results/screen/libraries/{name}/counts.tsv")
    parts = sorted((workdir / "results/predict/chunked").glob("part-*.parquet"))
    assert len(parts) == 7  # 49 lines in chunks of 7
    screened = {
        name: pd.concat(
            pd.read_parquet(path)
            for path in sorted(
                (workdir / f"results/screen/libraries/{name}/screened").glob("*.parquet")
            )
        ).reset_index(drop=True)
        for name in ("chunked", "whole")
    }
    order = ["electrolyte", "role", "id"]  # parts are screened one by one: compare as row sets
    chunked, whole = (screened[name].sort_values(order, ignore_index=True) for name in screened)
    assert (whole["Row"] == whole["id"].str.removeprefix("lib")).all()  # the table's column
    for name, rows in (("chunked", chunked), ("whole", whole)):  # each row's line in its file
        predicted = read_parts(workdir / f"results/predict/{name}")
        assert rows["line"].tolist() == predicted.set_index("id")["line"].loc[rows["id"]].tolist()
        # volts and half-widths are the screening's: the predictions hold neither
        assert not {"IE_v_li", "IE_half_width"} & set(predicted.columns)
        target_of = {"oxidation": "IE", "reduction": "EA"}
        for potential, judged in rows.groupby("potential"):  # labels in V vs Li+: volts as such
            predicted_mean = predicted.set_index("line")[f"{target_of[potential]}_pred"]
            np.testing.assert_allclose(judged["potential_v_li"], predicted_mean.loc[judged["line"]])
    assert chunked.loc[chunked["id"] == "lib0", "line"].iloc[0] == 1  # a .smi without header
    assert whole.loc[whole["id"] == "lib0", "line"].iloc[0] == 2  # below the CSV's header
    pd.testing.assert_frame_equal(chunked.drop(columns="line"), whole.drop(columns=["Row", "line"]))
    assert len(screened["whole"]) == 48 * 2 * 2  # molecules x electrolytes x roles
    for name in ("chunked", "whole"):  # the passing rows, part after part
        library = workdir / f"results/screen/libraries/{name}"
        candidates = pd.read_csv(library / "candidates.csv", dtype=str, keep_default_na=False)
        passing = screened[name][screened[name]["passes"]]
        assert candidates["id"].tolist() == passing["id"].tolist() and len(candidates) > 0
        expected = candidates["id"].map(lambda id_: copies.get(id_, ("",))[0])
        assert candidates["duplicate_of"].tolist() == expected.tolist()
        repeated = candidates[candidates["duplicate_of"] != ""]
        assert len(repeated) > 0  # a copy passes where its first listing passes
        counts = pd.read_csv(library / "counts.tsv", sep="\t").set_index(["electrolyte", "role"])
        repeats = repeated.groupby(["electrolyte", "role"]).size()
        distinct = counts["n_candidates"] - repeats.reindex(counts.index, fill_value=0)
        assert counts["n_distinct_candidates"].tolist() == distinct.tolist()
        assert (library / "similarity.png").stat().st_size > 10_000
    for target in ("IE", "EA"):  # each row's nearest training molecule, as predict gives it
        trained = pd.read_parquet(workdir / f"results/final/{target}/training_molecules.parquet")
        nearest = dict(zip(whole["id"], whole[f"{target}_nearest"], strict=True))
        similarity = dict(zip(whole["id"], whole[f"{target}_similarity"], strict=True))
        assert set(nearest.values()) <= set(trained["id"])
        assert all(0 < value <= 1 for value in similarity.values())
        smiles_of = dict(zip(trained["id"], trained["smiles"], strict=True))
        known = whole[whole["smiles"].isin(set(trained["smiles"]))]
        assert len(known) > 0 and (known[f"{target}_similarity"] == 1.0).all()
        assert (known[f"{target}_nearest"].map(smiles_of) == known["smiles"]).all()
        predicted = read_parts(workdir / "results/predict/whole").set_index("id")
        assert predicted.loc[list(nearest), f"{target}_nearest"].tolist() == list(nearest.values())
    rejected = pd.read_csv(workdir / "results/screen/libraries/whole/rejected.tsv", sep="\t")
    assert rejected["id"].tolist() == ["broken", "shifted"]
    assert rejected["line"].tolist() == [42, 43]  # the CSV's header is line 1
    assert rejected["error"].str.split(":").str[0].tolist() == ["invalid_smiles", "extra_cells"]
    assert rejected["Row"].tolist() == [40, 41]  # the table's other columns come along


def test_a_similarity_threshold_judges_library_molecules_and_reruns_their_screening_alone(
    finished_grid, tmp_path
):
    workdir = copy_workdir(finished_grid[0], tmp_path / "judged")
    molecules = labelled_molecules(every=9)["smiles"].tolist()[:20]
    unlike = ["CCCCCCCCCCCCCCCCCC(=O)O", "OC[C@H]1OC(O)[C@H](O)[C@@H](O)[C@@H]1O"]
    lines = [f"{smiles} lib{i}" for i, smiles in enumerate([*molecules, *unlike])]
    (workdir / "library.smi").write_text("\n".join(lines) + "\n")
    override = {"screen": {"judged": "library.smi"}, "screening": {"min_similarity": 0.6}}
    configs = with_override(workdir, workdir / "judged.yaml", override)
    run_snakemake(workdir, *configs)  # the whole run, the library's screening and summary too
    run_snakemake(workdir, *configs, "--report", "results/report.html")
    html = (workdir / "results/report.html").read_text(errors="ignore")
    assert "libraries/judged/similarity.png" in html  # with its caption:
    assert "How like the training molecules a library is" in html
    # Screening: one subcategory for the data set and one per library, each with its counts
    assert '"data set": ["results/screen/dataset/counts.tsv"' in html
    assert '"library judged": ["results/screen/libraries/judged/counts.tsv"' in html
    library = workdir / "results/screen/libraries/judged"
    screened = pd.concat(
        pd.read_parquet(path) for path in sorted(library.glob("screened/part-*.parquet"))
    )
    target = screened["potential"].map({"oxidation": "IE", "reduction": "EA"})
    similarity = np.where(target == "IE", screened["IE_similarity"], screened["EA_similarity"])
    assert (screened["familiar"] == (similarity >= 0.6)).all()
    assert screened["familiar"].any() and not screened["familiar"].all()
    assert (screened["passes"] == screened[["in_window", "in_band", "familiar"]].all(axis=1)).all()
    counts = pd.read_csv(library / "counts.tsv", sep="\t").set_index(["electrolyte", "role"])
    unfamiliar = screened[screened["in_window"] & screened["in_band"] & ~screened["familiar"]]
    by_pair = unfamiliar.groupby(["electrolyte", "role"]).size()
    assert counts["n_unfamiliar"].tolist() == by_pair.reindex(counts.index, fill_value=0).tolist()
    # another threshold screens the library again, but predicts nothing and screens no data set
    override["screening"]["min_similarity"] = 0.7
    configs = with_override(workdir, workdir / "judged.yaml", override)
    jobs = planned_jobs(run_snakemake(workdir, "-n", *configs).stdout)
    assert jobs["screen_library"] == 1
    assert "predict_library" not in jobs and "screen_dataset" not in jobs


# evaluated and screened again, the library too, but not trained or predicted again
EVALUATION_AND_SCREENING_AGAIN = {
    "evaluate_final": 2,
    "screen_dataset": 1,
    "screen_library": 1,
    "summarize_run": 1,
    "all": 1,
}


def test_another_interval_level_screens_a_library_again_and_predicts_nothing(
    finished_grid, tmp_path
):
    workdir = copy_workdir(finished_grid[0], tmp_path / "library_level")
    molecules = labelled_molecules(every=9)["smiles"].tolist()[:12]
    lines = [f"{smiles} lib{i}" for i, smiles in enumerate(molecules)]
    (workdir / "library.smi").write_text("\n".join(lines) + "\n")
    override = {"screen": {"lib": "library.smi"}}
    run_snakemake(workdir, *with_override(workdir, workdir / "lib.yaml", override))
    parts = workdir / "results/predict/lib"
    predicted = read_parts(parts).set_index("line")
    assert not {"EA_half_width", "EA_v_li"} & set(predicted.columns)  # computed at screening
    written = {path.name: path.stat().st_mtime_ns for path in parts.iterdir()}
    override["final"] = {"interval_level": 0.8}
    configs = with_override(workdir, workdir / "lib.yaml", override)
    jobs = planned_jobs(run_snakemake(workdir, "-n", *configs).stdout)
    assert jobs == EVALUATION_AND_SCREENING_AGAIN
    run_snakemake(workdir, *configs)
    assert {path.name: path.stat().st_mtime_ns for path in parts.iterdir()} == written
    metrics = json.loads((workdir / "results/final/EA/metrics.json").read_text())
    assert list(metrics) == ["target", "unit", "conversion", "potentials", "out_of_fold",
                             "interval", "folds", "fold_mae", "study_choice", "architecture",
                             "ingest"]  # fmt: skip
    record = json.loads((workdir / "results/final/EA/models.json").read_text())
    assert record == {key: metrics[key] for key in record}  # metrics.json repeats the record
    interval = metrics["interval"]
    assert interval["level"] == 0.8
    scale, floor = interval["ensemble"]["scale"], interval["ensemble"]["spread_floor"]
    screened = read_parts(workdir / "results/screen/libraries/lib/screened")
    reduction = screened[screened["potential"] == "reduction"]  # EA as V_vs_Li: 1 unit, 1 V
    spread = predicted.loc[reduction["line"], "EA_spread"].to_numpy()
    np.testing.assert_allclose(reduction["half_width_v"], scale * np.maximum(spread, floor))
    assert "Nothing to be done" in run_snakemake(workdir, "-n", *configs).stdout
    # nor do other offsets: the volts are the screening's too
    override["potentials"] = {"li_absolute_ev": 1.44}
    configs = with_override(workdir, workdir / "lib.yaml", override)
    jobs = planned_jobs(run_snakemake(workdir, "-n", *configs).stdout)
    assert jobs == EVALUATION_AND_SCREENING_AGAIN
    # a prediction setting changed beside them still predicts the library again
    override["predict"] = {"neutralize": True}
    configs = with_override(workdir, workdir / "lib.yaml", override)
    jobs = planned_jobs(run_snakemake(workdir, "-n", *configs).stdout)
    assert jobs["predict_library"] == 1 and jobs["evaluate_final"] == 2
