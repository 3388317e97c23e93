"""Benchmark: accuracy of the study's recipe, the default recipe and chemprop v2 on shared sets.

For each benchmark set in ../shared/data (declared in bench/datasets.yaml), the molecules are
ingested as the workflow ingests them, split into seeded k folds (5 by default), and every
recipe is trained on k-1 folds and scored on the held-out fold, the same folds for all:

- ``study2020``: config/presets/study2020.yaml (r1 1024-bit fingerprints, 1024-512 as the
  thesis chose for IE, L2 0.003, min-max labels, batch 30000, 5000 epochs with decay);
- ``default``: config/config.yaml's training section on the default architecture below;
- ``ensemble``: the default recipe, the mean of ``--members`` networks trained with different
  seeds and early-stopping splits (``--ensemble-of seeds``, the default) or, as the workflow's
  final models predict, each on the training folds less one of ``--members`` inner folds
  (``--ensemble-of folds``);
- ``kernel`` (only when asked for): kernel ridge regression on the default recipe's
  fingerprints, without descriptors (min-max kernel, penalty chosen by inner cross-validation
  on the training folds; bench/kernel_ridge.py): a second learner on the same features, for
  sets of up to 25,000 training molecules;
- ``mpnn`` (only when asked for): the workflow's message-passing network (a grid row of
  fingerprint ``graph``; ``--mpnn-arch``, by default depth 3, width 300, a 300-unit head,
  chemprop v2's defaults; workflow_scripts/redoxscreen/message_passing.py), trained as the
  config's training section says (``--mpnn-epochs``, ``--mpnn-batch`` and
  ``--mpnn-averaging`` override its ``graph_epochs``, ``graph_batch_size`` and
  ``graph_weight_averaging``), each network capped by ``--time-limit``;
- ``mpnn_ensemble`` (only when asked for): the mean of ``--members`` such networks, by
  ``--ensemble-of`` as for ``ensemble``;
- ``chemprop``: stock chemprop v2 (D-MPNN) in its own virtual environment
  (bench/chemprop_runner.py installs it with the CPU build of torch).

Prints and writes a Markdown table (MAE and R2 over the pooled held-out predictions, training
wall time summed over folds), and each set's held-out predictions, a column per recipe, to
<out>/<set>/predictions.csv (to compare or average recipes afterwards). On a 2-core CPU use
--subsample and --sets to fit a session:

    .venv/bin/python bench/accuracy.py --sets bznsn_reduction:Ered hbe_oxidation:Potential
    .venv/bin/python bench/accuracy.py --sets radical_redox:reduction --subsample 20000 \\
        --time-limit 600 --chemprop-epochs 20
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow_scripts"))
sys.path.insert(0, str(REPO / "bench"))

from redoxscreen.chemistry import StandardizeOptions  # noqa: E402
from redoxscreen.cli import positive_int  # noqa: E402
from redoxscreen.descriptors import describe_smiles  # noqa: E402
from redoxscreen.features import FingerprintSpec, fingerprint_smiles, parse_smiles  # noqa: E402
from redoxscreen.folds import assign_folds  # noqa: E402
from redoxscreen.graphs import molecule_graph  # noqa: E402
from redoxscreen.grid import parse_layers  # noqa: E402
from redoxscreen.ingest import DatasetSpec, ingest  # noqa: E402
from redoxscreen.metrics import regression_metrics  # noqa: E402
from redoxscreen.tables import read_table  # noqa: E402
from redoxscreen.training import (  # noqa: E402
    TrainingSettings,
    configure_tensorflow,
    fit_model,
    predict,
)

ALL_SETS = [
    "bznsn_reduction:Ered",
    "hbe_oxidation:Potential",
    "qm9_orbitals:homo",
    "qm9_orbitals:lumo",
    "radical_redox:oxidation",
    "radical_redox:reduction",
]
RECIPES = ("study2020", "default", "ensemble", "kernel", "mpnn", "mpnn_ensemble", "chemprop")
DEFAULT_RECIPES = ["study2020", "default", "ensemble", "chemprop"]


@dataclass(frozen=True)
class Recipe:
    """A fingerprint, an architecture and training settings."""

    name: str
    spec: FingerprintSpec
    hidden_layers: tuple[int, ...]
    settings: TrainingSettings
    members: int = 1
    ensemble_of: str = "seeds"


def weight_averaging(text: str) -> float:
    """argparse type: a ``training.graph_weight_averaging`` the settings accept."""
    value = float(text)
    try:
        TrainingSettings(graph_weight_averaging=value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error
    return value


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=ALL_SETS, help="dataset:target pairs")
    parser.add_argument("--recipes", nargs="+", default=DEFAULT_RECIPES, choices=RECIPES)
    parser.add_argument("--folds", type=positive_int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--subsample", type=int, help="seeded sample of this many molecules")
    parser.add_argument("--only-fold", type=int, help="score one fold only (a quick look)")
    parser.add_argument("--members", type=positive_int, default=5, help="networks in the ensemble")
    parser.add_argument("--ensemble-of", choices=["seeds", "folds"], default="seeds",
                        help="ensemble members differ by seed only, or each also leaves out one "
                        "of --members inner folds of the training molecules, as the workflow's "
                        "final models do")  # fmt: skip
    parser.add_argument("--default-arch", default="2:2048:1024-512-256",
                        help="radius:bits:layers of the default recipe")  # fmt: skip
    parser.add_argument("--fingerprint", choices=["bit", "count", "count_ap"],
                        help="fingerprint kind of the default recipe (default: config's)")  # fmt: skip
    parser.add_argument("--descriptors", action="store_true",
                        help="default recipe: append RDKit descriptors (training.descriptors)")  # fmt: skip
    parser.add_argument("--time-limit", type=float, help="seconds per network (study capped)")
    parser.add_argument("--chemprop-epochs", type=positive_int, default=50)
    parser.add_argument("--chemprop-seed", type=int,
                        help="chemprop's seed (its initial weights and validation split; "
                        "default: --seed), to measure its spread on the same folds")  # fmt: skip
    parser.add_argument("--mpnn-epochs", type=positive_int,
                        help="message-passing epochs (default: config's graph_epochs)")  # fmt: skip
    parser.add_argument("--mpnn-batch", type=positive_int,
                        help="message-passing batch size (default: config's graph_batch_size)")  # fmt: skip
    parser.add_argument("--mpnn-averaging", type=weight_averaging,
                        help="message-passing weight averaging (default: config's "
                        "graph_weight_averaging; 0: the last weights)")  # fmt: skip
    parser.add_argument("--mpnn-arch", default="3:300:300",
                        help="depth:width:head layers of the message-passing network")  # fmt: skip
    parser.add_argument("--threads", type=positive_int, default=2)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "accuracy")
    return parser.parse_args()


def training_section(path: Path) -> dict:
    return yaml.safe_load(path.read_text())["training"]


def make_recipes(args: argparse.Namespace) -> dict[str, Recipe]:
    configured = training_section(REPO / "config" / "config.yaml")
    default = TrainingSettings.from_config(configured)
    study = TrainingSettings.from_config(
        configured | training_section(REPO / "config" / "presets" / "study2020.yaml")
    )
    kind = args.fingerprint or default.fingerprint
    default = replace(
        default, fingerprint=kind, descriptors=args.descriptors or default.descriptors
    )
    default_spec, default_layers = architecture(args.default_arch, kind)
    mpnn_spec, mpnn_head = architecture(args.mpnn_arch, "graph")
    given = {
        "graph_epochs": args.mpnn_epochs,
        "graph_batch_size": args.mpnn_batch,
        "graph_weight_averaging": args.mpnn_averaging,
    }
    overrides = {key: value for key, value in given.items() if value is not None}
    mpnn_settings = replace(default, descriptors=False, **overrides)
    mpnn = Recipe("mpnn", mpnn_spec, mpnn_head, mpnn_settings)
    ensemble = {"members": args.members, "ensemble_of": args.ensemble_of}
    return {
        "study2020": Recipe("study2020", FingerprintSpec(1, 1024, "bit"), (1024, 512), study),
        "default": Recipe("default", default_spec, default_layers, default),
        "ensemble": Recipe("ensemble", default_spec, default_layers, default, **ensemble),
        "kernel": Recipe("kernel", default_spec, (), replace(default, descriptors=False)),
        "mpnn": mpnn,
        "mpnn_ensemble": replace(mpnn, name="mpnn_ensemble", **ensemble),
    }


def architecture(text: str, kind: str) -> tuple[FingerprintSpec, tuple[int, ...]]:
    """``radius:bits:layers`` (a fingerprint network) or ``depth:width:head`` (a graph one)."""
    radius, bits, layers = text.split(":")
    return FingerprintSpec(int(radius), int(bits), kind), parse_layers(layers)


def load_set(name: str, target: str, subsample: int | None) -> pd.DataFrame:
    """Molecules (smiles, y) of one target, ingested exactly as the workflow ingests them."""
    declared = yaml.safe_load((REPO / "bench" / "datasets.yaml").read_text())["datasets"][name]
    source = (REPO / declared["source"]).resolve()
    if not source.exists():
        sys.exit(f"{source} not found: this benchmark needs ../shared/data beside the checkout")
    dataset = dict(declared, targets={target: declared["targets"][target]})
    options = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["ingest"]
    result = ingest(read_table(str(source)), DatasetSpec.from_config(dataset),
                    StandardizeOptions.from_config(options))  # fmt: skip
    molecules = result.molecules.dropna(subset=[target])
    if subsample and subsample < len(molecules):
        molecules = molecules.sample(n=subsample, random_state=0)
    return pd.DataFrame({"smiles": molecules["smiles"].to_numpy(), "y": molecules[target]})


def member_rows(recipe: Recipe, train_smiles: list[str], seed: int) -> list[np.ndarray]:
    """Which training molecules each member trains on: all of them (``seeds``), or all but
    one inner fold each (``folds``; inner folds seeded as the workflow seeds its folds)."""
    if recipe.ensemble_of == "seeds":
        return [np.ones(len(train_smiles), dtype=bool)] * recipe.members
    inner = assign_folds(train_smiles, recipe.members, seed)
    return [inner != member for member in range(recipe.members)]


def train_recipe(recipe: Recipe, x_train, y_train, x_test, seed: int, time_limit,
                 rows: list[np.ndarray]) -> tuple:  # fmt: skip
    """Held-out predictions (mean over members, member i trained on ``rows[i]`` of the
    training molecules) and the training wall time."""
    started = time.perf_counter()
    predictions = []
    for member, chosen in enumerate(rows):
        fit = fit_model(rows_of(x_train, chosen), y_train[chosen], recipe.spec,
                        recipe.hidden_layers, recipe.settings, seed + 1000 * member,
                        time_limit_s=time_limit)  # fmt: skip
        predictions.append(predict(fit.model, fit.scaler, x_test))
        print(f"  {recipe.name:9s} member {member}: {len(fit.history)} epochs, "
              f"{chosen.sum()} molecules", flush=True)  # fmt: skip
    return np.mean(predictions, axis=0), time.perf_counter() - started


def train_kernel(x_train, y_train, x_test, seed: int) -> tuple:
    """Kernel ridge's held-out predictions and its wall time (kernel, penalty search, fit)."""
    from kernel_ridge import fit_kernel_ridge

    started = time.perf_counter()
    model = fit_kernel_ridge(x_train, y_train, seed)
    predicted = model.predict(x_test)
    print(f"  kernel    penalty {model.penalty} (inner cross-validation)", flush=True)
    return predicted, time.perf_counter() - started


def run_set(label: str, args, recipes: dict[str, Recipe], out: Path) -> list[dict]:
    name, target = label.split(":")
    data = load_set(name, target, args.subsample)
    folds = assign_folds(data["smiles"].tolist(), args.folds, args.seed)
    scored = [args.only_fold] if args.only_fold is not None else range(args.folds)
    print(f"\n{label}: {len(data)} molecules, {args.folds} folds", flush=True)
    features = {}
    rows = []
    held_out = data.assign(fold=folds).query("fold in @scored").sort_values("fold", kind="stable")
    for recipe_name in args.recipes:
        oof_true, oof_pred, seconds = [], [], 0.0
        for fold in scored:
            train, test = data[folds != fold], data[folds == fold]
            if recipe_name == "chemprop":
                predicted, took = run_chemprop(train, test, out / label / f"fold{fold}", args)
            else:
                recipe = recipes[recipe_name]
                x = recipe_features(data["smiles"].tolist(), recipe, features)
                x_train, x_test = rows_of(x, folds != fold), rows_of(x, folds == fold)
                chosen = member_rows(recipe, train["smiles"].tolist(), args.seed)
                predicted, took = train_and_predict(recipe, x_train, train["y"].to_numpy(),
                                                    x_test, args.seed + fold, args, chosen)  # fmt: skip
            oof_true.append(test["y"].to_numpy())
            oof_pred.append(predicted)
            seconds += took
            fold_mae = np.mean(np.abs(predicted - test["y"].to_numpy()))
            print(f"  {recipe_name:9s} fold {fold}: MAE {fold_mae:.4f}, {took:.0f} s", flush=True)
        metrics = regression_metrics(np.concatenate(oof_true), np.concatenate(oof_pred))
        held_out[recipe_name] = np.concatenate(oof_pred)  # fold by fold, as held_out is sorted
        (out / label).mkdir(parents=True, exist_ok=True)
        held_out.to_csv(out / label / "predictions.csv", index=False)
        rows.append({"set": label, "n": len(data), "recipe": recipe_name, "mae": metrics["mae"],
                     "r2": metrics["r2"], "train_seconds": seconds, "folds": len(scored)})  # fmt: skip
    return rows


def train_and_predict(recipe: Recipe, x_train, y_train, x_test, seed: int, args,
                      rows: list[np.ndarray]) -> tuple:  # fmt: skip
    if recipe.name == "kernel":
        return train_kernel(x_train, y_train, x_test, seed)
    configure_tensorflow(args.threads, recipe.settings, float32=recipe.spec.learned)
    return train_recipe(recipe, x_train, y_train, x_test, seed, args.time_limit, rows)


def rows_of(x: np.ndarray | list, chosen: np.ndarray) -> np.ndarray | list:
    """Rows of a feature matrix, or items of a list of molecule graphs, where ``chosen``; ``x``
    itself, not a copy, where every row is chosen (a seed ensemble's members)."""
    if len(chosen) == len(x) and chosen.all():
        return x
    return (
        [item for item, keep in zip(x, chosen, strict=True) if keep]
        if isinstance(x, list)
        else x[chosen]
    )


def recipe_features(smiles: list[str], recipe: Recipe, cache: dict) -> np.ndarray | list:
    """The recipe's fingerprints, followed by RDKit descriptors when its settings ask; for a
    message-passing network, the molecules' graphs."""
    if recipe.spec.learned:
        if "graphs" not in cache:
            cache["graphs"] = [molecule_graph(mol) for mol in parse_smiles(smiles)]
        return cache["graphs"]
    if recipe.spec not in cache:
        cache[recipe.spec] = fingerprint_smiles(smiles, recipe.spec, processes=2)
    if not recipe.settings.descriptors:
        return cache[recipe.spec]
    if "descriptors" not in cache:
        cache["descriptors"] = describe_smiles(smiles, processes=2).matrix
    return np.hstack([cache[recipe.spec].astype(np.float32), cache["descriptors"]])


def run_chemprop(train: pd.DataFrame, test: pd.DataFrame, workdir: Path, args) -> tuple:
    from chemprop_runner import ensure_venv, train_and_predict

    ensure_venv()
    result = train_and_predict(train, test, workdir, epochs=args.chemprop_epochs,
                               seed=chemprop_seed(args), threads=args.threads)  # fmt: skip
    return result.predictions, result.train_seconds


def chemprop_seed(args: argparse.Namespace) -> int:
    return args.seed if args.chemprop_seed is None else args.chemprop_seed


def markdown(rows: list[dict]) -> str:
    table = pd.DataFrame(rows)
    chemprop = table[table["recipe"] == "chemprop"].set_index("set")["mae"]
    table["vs_chemprop"] = table["set"].map(chemprop)
    table["vs_chemprop"] = (table["mae"] / table["vs_chemprop"]).round(2)
    table["mae"] = table["mae"].map("{:.4f}".format)
    table["r2"] = table["r2"].map("{:.3f}".format)
    table["train_seconds"] = table["train_seconds"].round(0).astype(int)
    return table.to_markdown(index=False)


def main() -> None:
    args = parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    recipes = make_recipes(args)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    rows = []
    for label in args.sets:
        rows += run_set(label, args, recipes, args.out)
        (args.out / f"accuracy-{stamp}.json").write_text(json.dumps(rows, indent=1))
    text = markdown(rows)
    (args.out / "accuracy.md").write_text(text + "\n")
    print("\n" + text)


if __name__ == "__main__":
    main()
