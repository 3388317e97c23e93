"""Train and evaluate stock chemprop v2 (D-MPNN) on our folds, in a venv of its own.

chemprop pulls torch, lightning and rdkit, none of which the project's .venv has, so it lives in
bench/.chemprop-venv (git-ignored), made by `ensure_venv`:

    python3 -m venv bench/.chemprop-venv
    bench/.chemprop-venv/bin/python -m pip install torch==2.13.0            # the local CPU wheel
    bench/.chemprop-venv/bin/python -m pip install -c <torch==2.13.0> "chemprop>=2.3,<2.4"

torch goes in first and stays pinned by a constraints file: a plain `torch` (asked for by chemprop
or lightning) would pull the CUDA build and gigabytes of nvidia-* packages. After the install,
`pip list` must show no nvidia-* (or triton) package, or `ensure_venv` fails.

`train_and_predict` runs chemprop's own CLI with its defaults (D-MPNN with directed bond
messages, depth 3, hidden 300, ReLU, "norm" aggregation (sum / 100), one FFN layer of 300, dropout
0, batch 64, no descriptors, targets standardised, Noam schedule 1e-4 -> 1e-3 -> 1e-4 with 2
warm-up epochs, no early stopping, the epoch with the lowest validation MSE kept as best.pt):

    chemprop train --data-path train.csv --smiles-columns smiles --target-columns y
        --task-type regression --splits-file splits.json --epochs E
        --data-seed S --pytorch-seed S --accelerator cpu --devices 1 --num-workers 0
        --output-dir train
    chemprop predict --test-path test.csv --smiles-columns smiles --model-paths train/model_0/best.pt
        --preds-path preds.csv --accelerator cpu --devices 1 --num-workers 0

with OMP_NUM_THREADS / MKL_NUM_THREADS = threads. train.csv holds only the training rows;
splits.json sends a seeded val_fraction of them to chemprop's validation set (best-epoch
selection) and none to its test set; test.csv holds only SMILES, so the test targets never reach
chemprop.

Measured on 2 idle cores (chemprop 2.3.1, torch 2.13.0+cpu, threads=2): about 6 s to start
either command; 10,000 radical_redox molecules (9,000 train + 1,000 val) take about 4.7 s per
epoch, and about 7 s with threads=1. When another process keeps one core busy, threads=2 slows
3-5 times (the two torch threads wait on each other) while threads=1 hardly changes.

Self-check (5-fold split of bznsn_reduction, train on folds 1-4, predict fold 0):

    .venv/bin/python bench/chemprop_runner.py --epochs 50
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DEFAULT_VENV = REPO / "bench" / ".chemprop-venv"
TORCH_REQUIREMENT = "torch==2.13.0"
CHEMPROP_REQUIREMENT = "chemprop>=2.3,<2.4"
MARKER = "redoxscreen-chemprop.json"
CUDA_PACKAGE_PREFIXES = ("nvidia-", "triton")
STDERR_TAIL_LINES = 40


class ChempropError(RuntimeError):
    """A chemprop install, train or predict step failed or ran out of time."""


@dataclass
class ChempropResult:
    """Predictions for the test rows, in their order, and what producing them cost."""

    predictions: np.ndarray
    train_seconds: float
    predict_seconds: float
    chemprop_version: str
    torch_version: str


# --- the virtual environment -------------------------------------------------------------------


def _pip(python: Path, *args: str, timeout: float) -> str:
    """Run `python -m pip ARGS` and return its stdout; raise ChempropError on failure."""
    command = [str(python), "-m", "pip", *args]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as error:
        raise ChempropError(f"{' '.join(command)} ran past {timeout} s") from error
    if done.returncode != 0:
        tail = "\n".join(done.stderr.splitlines()[-STDERR_TAIL_LINES:])
        raise ChempropError(f"{' '.join(command)} failed ({done.returncode}):\n{tail}")
    return done.stdout


def _chemprop_requirement(python: Path, timeout: float) -> str:
    """`chemprop>=2.3,<2.4` when the index has a 2.3.x, else the newest 2.x (with a warning)."""
    listing = _pip(python, "index", "versions", "chemprop", timeout=timeout)
    versions = []
    for line in listing.splitlines():
        if line.startswith("Available versions:"):
            versions = [v.strip() for v in line.split(":", 1)[1].split(",")]
    if any(v.startswith("2.3.") for v in versions):
        return CHEMPROP_REQUIREMENT
    newest_2 = [v for v in versions if v.startswith("2.")]
    if not newest_2:
        raise ChempropError(f"no chemprop 2.x on the index; it lists {versions}")
    print(f"chemprop 2.3.x not on the index; taking chemprop=={newest_2[0]}", file=sys.stderr)
    return f"chemprop=={newest_2[0]}"


def _installed(python: Path, timeout: float) -> dict[str, str]:
    """{name: version} of every package in the venv, from `pip list`."""
    listing = _pip(python, "list", "--format=json", timeout=timeout)
    return {item["name"].lower(): item["version"] for item in json.loads(listing)}


def ensure_venv(path: Path = DEFAULT_VENV, timeout: float = 1800.0) -> Path:
    """Make the chemprop venv at `path` unless its marker file says it is done; return its python.

    Installs the CPU torch wheel first, then chemprop with torch held at that version, and fails
    if any CUDA package (nvidia-*, triton) got in. The marker records the versions installed.
    """
    python = path / "bin" / "python"
    marker = path / MARKER
    if marker.exists():
        return python
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, timeout=timeout)
    _pip(python, "install", TORCH_REQUIREMENT, timeout=timeout)
    constraints = path / "torch-constraint.txt"
    constraints.write_text(TORCH_REQUIREMENT + "\n")
    chemprop_requirement = _chemprop_requirement(python, timeout)
    _pip(python, "install", "-c", str(constraints), chemprop_requirement, timeout=timeout)
    packages = _installed(python, timeout)
    cuda = sorted(name for name in packages if name.startswith(CUDA_PACKAGE_PREFIXES))
    if cuda or not packages["torch"].endswith("+cpu"):
        raise ChempropError(
            f"CUDA packages got into {path}: torch {packages['torch']}, {cuda}; delete the venv"
        )
    record = {
        "chemprop": packages["chemprop"],
        "torch": packages["torch"],
        "requirements": [TORCH_REQUIREMENT, chemprop_requirement],
    }
    marker.write_text(json.dumps(record, indent=2) + "\n")
    return python


def venv_versions(path: Path = DEFAULT_VENV) -> dict[str, str]:
    """The chemprop and torch versions that `ensure_venv` recorded in the venv's marker."""
    return json.loads((path / MARKER).read_text())


# --- training and prediction -------------------------------------------------------------------


def _check_table(table: pd.DataFrame, name: str, need_y: bool) -> None:
    """Fail early on a table that lacks the columns chemprop will be given."""
    columns = ["smiles", "y"] if need_y else ["smiles"]
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{name} lacks column(s) {missing}")
    if need_y and table["y"].isna().any():
        raise ValueError(f"{name} has {int(table['y'].isna().sum())} empty y values")


def _write_inputs(
    train: pd.DataFrame, test: pd.DataFrame, workdir: Path, seed: int, val_fraction: float
) -> None:
    """train.csv, test.csv (SMILES only) and splits.json (seeded train/val, no test) in workdir.

    What an earlier run left there (train/, preds.csv) goes first.
    """
    shutil.rmtree(workdir / "train", ignore_errors=True)
    (workdir / "preds.csv").unlink(missing_ok=True)
    train[["smiles", "y"]].to_csv(workdir / "train.csv", index=False)
    test[["smiles"]].to_csv(workdir / "test.csv", index=False)
    order = np.random.default_rng(seed).permutation(len(train))
    n_val = max(1, round(val_fraction * len(train)))
    split = {
        "train": sorted(int(i) for i in order[n_val:]),
        "val": sorted(int(i) for i in order[:n_val]),
        "test": [],
    }
    (workdir / "splits.json").write_text(json.dumps([split]))


def _run_logged(
    command: Sequence[str], workdir: Path, name: str, threads: int, timeout: float
) -> float:
    """Run one chemprop command with logs in workdir/NAME.{stdout,stderr}.log; return seconds.

    SLURM_* variables are dropped: inside a SLURM job Lightning would otherwise take over the
    job's task layout (and refuse a --ntasks it does not expect) for this single-process run.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads), CUDA_VISIBLE_DEVICES="")
    stdout_path, stderr_path = workdir / f"{name}.stdout.log", workdir / f"{name}.stderr.log"
    (workdir / f"{name}.command.txt").write_text(" ".join(command) + "\n")
    start = time.perf_counter()
    with stdout_path.open("w") as stdout, stderr_path.open("w") as stderr:
        try:
            done = subprocess.run(
                command, cwd=workdir, env=env, stdout=stdout, stderr=stderr, timeout=timeout
            )
        except subprocess.TimeoutExpired as error:
            raise ChempropError(
                f"chemprop {name} ran past {timeout} s:\n{_tail(stderr_path)}"
            ) from error
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise ChempropError(f"chemprop {name} failed ({done.returncode}):\n{_tail(stderr_path)}")
    return seconds


def _tail(path: Path) -> str:
    """The last lines of a log file (progress-bar carriage returns folded into lines)."""
    text = path.read_text(errors="replace").replace("\r", "\n")
    lines = [line[:500] for line in text.splitlines() if line.strip()]
    return "\n".join(lines[-STDERR_TAIL_LINES:])


def _train_command(chemprop: Path, epochs: int, seed: int, extra: Sequence[str]) -> list[str]:
    """`chemprop train` with chemprop's defaults, our split, seeds and CPU settings."""
    return [
        str(chemprop), "train",
        "--data-path", "train.csv", "--smiles-columns", "smiles", "--target-columns", "y",
        "--task-type", "regression", "--splits-file", "splits.json",
        "--epochs", str(epochs), "--data-seed", str(seed), "--pytorch-seed", str(seed),
        "--accelerator", "cpu", "--devices", "1", "--num-workers", "0",
        "--output-dir", "train", *extra,
    ]  # fmt: skip


def _predict_command(chemprop: Path) -> list[str]:
    """`chemprop predict` of test.csv with the best model of the training run."""
    return [
        str(chemprop), "predict",
        "--test-path", "test.csv", "--smiles-columns", "smiles",
        "--model-paths", str(Path("train") / "model_0" / "best.pt"), "--preds-path", "preds.csv",
        "--accelerator", "cpu", "--devices", "1", "--num-workers", "0",
    ]  # fmt: skip


def _read_predictions(workdir: Path, test: pd.DataFrame) -> np.ndarray:
    """The `y` column of chemprop's preds.csv, checked to be row-for-row the test SMILES."""
    preds = pd.read_csv(workdir / "preds.csv", dtype={"smiles": str}, keep_default_na=False)
    if len(preds) != len(test) or list(preds["smiles"]) != list(test["smiles"]):
        raise ChempropError(f"{workdir / 'preds.csv'} does not line up with the test rows")
    return pd.to_numeric(preds["y"], errors="coerce").to_numpy(dtype=float)


def train_and_predict(
    train: pd.DataFrame,
    test: pd.DataFrame,
    workdir: Path,
    epochs: int,
    seed: int,
    threads: int = 2,
    val_fraction: float = 0.1,
    *,
    venv: Path = DEFAULT_VENV,
    timeout: float = 4 * 3600.0,
    extra_train_args: Sequence[str] = (),
) -> ChempropResult:
    """Train stock chemprop on `train` (columns smiles, y) and predict `test` (column smiles).

    A seeded `val_fraction` of the training rows is chemprop's validation set; the test rows are
    only predicted. Each command is bounded by `timeout` seconds; its logs land in `workdir`.
    `extra_train_args` go to `chemprop train` after ours (empty for a stock comparison).
    chemprop refuses a SMILES that RDKit cannot parse (the whole command fails): filter first.
    """
    _check_table(train, "train", need_y=True)
    _check_table(test, "test", need_y=False)
    python = ensure_venv(venv)
    chemprop = python.parent / "chemprop"
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    _write_inputs(train, test, workdir, seed, val_fraction)
    train_command = _train_command(chemprop, epochs, seed, extra_train_args)
    train_seconds = _run_logged(train_command, workdir, "train", threads, timeout)
    predict_seconds = _run_logged(_predict_command(chemprop), workdir, "predict", threads, timeout)
    versions = venv_versions(venv)
    return ChempropResult(
        predictions=_read_predictions(workdir, test),
        train_seconds=train_seconds,
        predict_seconds=predict_seconds,
        chemprop_version=versions["chemprop"],
        torch_version=versions["torch"],
    )


# --- self-check --------------------------------------------------------------------------------


def five_folds(n_rows: int, seed: int = 0) -> np.ndarray:
    """Fold of each row: the row at position p of a seeded permutation is in fold p % 5."""
    folds = np.empty(n_rows, dtype=int)
    folds[np.random.default_rng(seed).permutation(n_rows)] = np.arange(n_rows) % 5
    return folds


def _self_check(epochs: int, workdir: Path, threads: int) -> None:
    """Train on bznsn_reduction folds 1-4, predict fold 0 and print MAE, R² and timings."""
    source = REPO.parent / "shared" / "data" / "bznsn_reduction.csv"
    table = pd.read_csv(source).rename(columns={"SMILES": "smiles", "Ered": "y"})
    table = table.dropna(subset=["smiles", "y"]).reset_index(drop=True)
    folds = five_folds(len(table))
    train, test = table[folds != 0], table[folds == 0]
    result = train_and_predict(train, test, workdir, epochs=epochs, seed=0, threads=threads)
    error = result.predictions - test["y"].to_numpy()
    mae = float(np.mean(np.abs(error)))
    r2 = 1.0 - float(np.sum(error**2) / np.sum((test["y"] - test["y"].mean()) ** 2))
    print(f"chemprop {result.chemprop_version}, torch {result.torch_version}")
    print(f"bznsn_reduction fold 0: {len(train)} train, {len(test)} test, {epochs} epochs")
    print(f"MAE {mae:.4f} V  R2 {r2:.4f}")
    print(f"train {result.train_seconds:.1f} s  predict {result.predict_seconds:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--workdir", type=Path, default=REPO / "bench" / "out" / "chemprop_selfcheck"
    )
    args = parser.parse_args()
    _self_check(args.epochs, args.workdir, args.threads)


if __name__ == "__main__":
    main()
