"""Benchmark: the model-search grid on a real DFT data set from ../shared/data.

Runs the real workflow (ingest -> featurize -> folds -> grid -> gather) in bench/out/<name>/ and
prints featurization throughput, training throughput and the MAE tables. On a 2-core CPU the
full radical_redox grid takes many hours; --subsample, --models and --max-epochs make it fit.

    .venv/bin/python bench/grid.py --dataset radical_redox --subsample 5000 --models 2 24
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="radical_redox", help="a key of bench/datasets.yaml")
    parser.add_argument("--subsample", type=int, help="seeded random sample of this many rows")
    parser.add_argument(
        "--models", type=int, nargs="+", help="grid model ids (default: all 28 of grid_mpnn.tsv)"
    )
    parser.add_argument("--max-epochs", type=int, help="override training.max_epochs")
    parser.add_argument("--k", type=int, default=2)
    parser.add_argument("--cores", default="all")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out")
    return parser.parse_args()


def prepare(args: argparse.Namespace) -> tuple[Path, list[str]]:
    """The benchmark's working directory with its config.yaml, and the data set's targets."""
    declared = yaml.safe_load((REPO / "bench" / "datasets.yaml").read_text())["datasets"]
    dataset = dict(declared[args.dataset])
    source = (REPO / dataset["source"]).resolve()
    if not source.exists():
        sys.exit(f"{source} not found: this benchmark needs ../shared/data beside the checkout")
    workdir = args.out / f"{args.dataset}_n{args.subsample or 'all'}"
    workdir.mkdir(parents=True, exist_ok=True)
    if args.subsample:
        table = pd.read_csv(source)
        table.sample(n=min(args.subsample, len(table)), random_state=0).to_csv(
            workdir / "input.csv", index=False
        )
        source = workdir / "input.csv"
    dataset["source"] = str(source)
    config = {
        "dataset": args.dataset,
        "datasets": {args.dataset: dataset},
        "grid": {"k": args.k, "models": args.models or "all"},
        # the benchmark stops at the grid: no target is screened, so no role either
        "screening": {"oxidation_target": None, "reduction_target": None, "roles": {}},
    }
    if args.max_epochs:
        config["training"] = {"max_epochs": args.max_epochs}
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return workdir, list(dataset["targets"])


def grid_outputs(targets: list[str]) -> list[str]:
    """The files this benchmark reads: ingestion's summary and each target's MAE table."""
    tables = [f"results/grid/{target}/mae_table.tsv" for target in targets]
    return ["results/data/summary.json", *tables]


def run_workflow(workdir: Path, cores: str, outputs: list[str]) -> float:
    command = [
        sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
        "--directory", str(workdir), "--configfile", str(workdir / "config.yaml"),
        "--cores", cores, *outputs,
    ]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=workdir)
    return time.perf_counter() - started


def featurization_rates(workdir: Path) -> list[str]:
    lines = []
    for log in sorted((workdir / "logs" / "featurize").glob("*.log")):
        found = re.search(r"(\d+) molecules in ([\d.]+) s \((\d+) mol/s", log.read_text())
        if found:
            lines.append(f"  {log.stem}: {found.group(1)} molecules, {found.group(3)} mol/s")
    return lines


def report(workdir: Path, wall_seconds: float) -> None:
    print(f"\nworkflow wall time: {wall_seconds:.0f} s  ({workdir})")
    summary = json.loads((workdir / "results/data/summary.json").read_text())
    print(f"ingestion: {summary['rows']}")
    print("featurization:")
    print("\n".join(featurization_rates(workdir)) or "  (no featurize logs)")
    metrics = pd.DataFrame(
        json.loads(path.read_text())
        for path in (workdir / "results/grid").glob("*/m*/fold*/metrics.json")
    )
    print(
        f"training: {metrics['samples_per_second'].median():.0f} samples/s (median over "
        f"{len(metrics)} jobs), {metrics['train_seconds'].sum():.0f} s of training in all"
    )
    for table_path in sorted((workdir / "results/grid").glob("*/mae_table.tsv")):
        table = pd.read_csv(table_path, sep="\t")
        columns = ["model", "radius", "n_bits", "hidden_layers", "val_mae_mean", "val_mae_sd",
                   "val_r2_mean", "epochs_mean", "train_seconds"]  # fmt: skip
        print(
            f"\n{table_path.parent.name} (unit: {summary['targets'][table_path.parent.name]['unit']})"
        )
        print(table[columns].to_markdown(index=False, floatfmt=".4f"))


def main() -> None:
    args = parse_args()
    workdir, targets = prepare(args)
    report(workdir, run_workflow(workdir, args.cores, grid_outputs(targets)))


if __name__ == "__main__":
    main()
