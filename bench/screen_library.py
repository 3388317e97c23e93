"""Benchmark: screen a 1,000,000-molecule SMILES library with the trained IE and EA ensembles.

Builds bench/out/library_1M.smi by cycling through the unique SMILES of the DFT data sets in
../shared/data (an id with a counter suffix per repeat), then runs
``redoxscreen.predict.predict_smiles_file`` with the final models the main workflow makes
(``snakemake results/final/IE/metrics.json results/final/EA/metrics.json``) and prints
throughput, CPU time, peak memory and the seconds per stage.

    .venv/bin/python bench/screen_library.py                      # 1M molecules
    .venv/bin/python bench/screen_library.py --n 100000           # a quicker profile
    .venv/bin/python bench/screen_library.py --extra-columns 10   # a .tsv table, carried
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import threading
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
SOURCES = {  # file -> SMILES column
    "radical_redox.csv": "smiles",
    "qm9_orbitals.csv": "smiles",
    "bznsn_reduction.csv": "SMILES",
    "hbe_oxidation.csv": "canonSMILES",
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="molecules in the library")
    parser.add_argument("--chunk-size", type=int, default=50_000)
    parser.add_argument("--processes", type=int, default=1,
                        help="worker processes that standardize and fingerprint")  # fmt: skip
    parser.add_argument("--threads", type=int, default=1,
                        help="TensorFlow intra-op threads (0: TensorFlow's default)")  # fmt: skip
    parser.add_argument("--model-dir", action="append", dest="model_dirs",
                        help="a target's model directory; repeat (default: results/final/IE "
                        "and results/final/EA)")  # fmt: skip
    parser.add_argument("--extra-columns", type=int, default=0,
                        help="write the library as a .tsv table with this many other "
                        "20-character columns, which the parts carry")  # fmt: skip
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out")
    parser.add_argument("--no-progress", action="store_true")
    return parser.parse_args()


def library_name(n: int, extra_columns: int) -> str:
    stem = "library_1M" if n == 1_000_000 else f"library_{n}"
    return f"{stem}_{extra_columns}_columns.tsv" if extra_columns else f"{stem}.smi"


def unique_smiles() -> list[str]:
    smiles: dict[str, None] = {}
    for name, column in SOURCES.items():
        path = DATA / name
        if not path.exists():
            sys.exit(f"{path} not found: this benchmark needs ../shared/data beside the checkout")
        values = pd.read_csv(path, usecols=[column], dtype=str)[column].dropna()
        smiles.update(dict.fromkeys(value.strip() for value in values if value.strip()))
    return list(smiles)


def count_lines(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 24), b""))


def build_library(path: Path, n: int, extra_columns: int) -> None:
    """``n`` lines ``SMILES s<k>_<repeat>``, cycling through the unique SMILES; with
    ``extra_columns``, a .tsv table whose rows carry that many other 20-character cells."""
    header = "\t".join(["smiles", "id", *(f"column{j}" for j in range(extra_columns))])
    lines = n + 1 if extra_columns else n
    if path.exists() and count_lines(path) == lines:
        print(f"library: {path} ({n} molecules, reused)")
        return
    smiles = unique_smiles()
    separator = "\t" if extra_columns else " "
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".part")
    with open(temporary, "w") as handle:
        if extra_columns:
            handle.write(header + "\n")
        for index in range(n):
            repeat, k = divmod(index, len(smiles))
            cells = "".join(f"\tc{j}-{index:017d}" for j in range(extra_columns))
            handle.write(f"{smiles[k]}{separator}s{k}_{repeat}{cells}\n")
    temporary.replace(path)
    print(f"library: {path} ({n} molecules cycling through {len(smiles)} unique SMILES)")


def peak_mib(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # kilobytes on Linux


def cpu_seconds() -> float:
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(item.ru_utime + item.ru_stime for item in usage)


class MemorySampler(threading.Thread):
    """The largest sum of VmRSS over this process and its child processes, sampled."""

    def __init__(self, interval: float = 0.5):
        super().__init__(daemon=True)
        self.interval = interval
        self.peak_mib = 0.0
        self.done = threading.Event()

    @staticmethod
    def rss_mib(pid: int) -> float:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return 0.0
        return int(status.split("VmRSS:")[1].split()[0]) / 1024 if "VmRSS:" in status else 0.0

    @staticmethod
    def children(pid: int) -> list[int]:
        found = []
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                found += [int(child) for child in (task / "children").read_text().split()]
            except OSError:
                continue
        return found

    def run(self) -> None:
        pid = os.getpid()
        while not self.done.is_set():
            total = self.rss_mib(pid) + sum(self.rss_mib(child) for child in self.children(pid))
            self.peak_mib = max(self.peak_mib, total)
            self.done.wait(self.interval)

    def stop(self) -> None:
        self.done.set()
        self.join()


def main() -> None:
    # Python's platform.processor() forks `uname -p` when TensorFlow is imported, and a fork
    # of a 1 GB process reports that RSS as the child's peak. Asking now, while this process is
    # small, caches the answer so that the children's peak below is about the workers.
    platform.processor()
    args = parse_args()
    model_dirs = args.model_dirs or ["results/final/IE", "results/final/EA"]
    for model_dir in model_dirs:
        if not (REPO / model_dir / "metrics.json").exists():
            sys.exit(f"{model_dir}/metrics.json not found: run "
                     f"`snakemake {model_dir}/metrics.json` first")  # fmt: skip
    library = args.out / library_name(args.n, args.extra_columns)
    build_library(library, args.n, args.extra_columns)

    sys.path.insert(0, str(REPO / "workflow_scripts"))
    from redoxscreen.predict import Ensemble, configure_threads, predict_smiles_file

    if args.threads:
        configure_threads(args.threads)
    sampler = MemorySampler()
    sampler.start()

    load_average = os.getloadavg()[0]
    started, cpu_started = time.perf_counter(), cpu_seconds()
    ensembles = {}
    for model_dir in model_dirs:
        ensemble = Ensemble.load(REPO / model_dir)
        ensembles[ensemble.target] = ensemble
    load_seconds = time.perf_counter() - started
    loaded_mib = MemorySampler.rss_mib(os.getpid())
    counts = predict_smiles_file(
        library,
        ensembles,
        args.out / "screen_parts",
        chunk_size=args.chunk_size,
        progress=not args.no_progress,
        processes=args.processes,
    )
    seconds = time.perf_counter() - started
    cpu = cpu_seconds() - cpu_started
    sampler.stop()

    n = counts["molecules"]
    members = sum(len(ensemble.folds) for ensemble in ensembles.values())
    where = "summed over the workers" if args.processes > 1 else "in this process"
    lines = [
        "",
        f"library: {library.name}; targets: {', '.join(ensembles)} ({members} fold models); "
        f"chunk size {args.chunk_size}, "
        f"{args.processes} process(es), TensorFlow threads {args.threads or 'default'}",
        f"machine: {os.cpu_count()} CPUs, load average {load_average:.2f} before, "
        f"{os.getloadavg()[0]:.2f} after",
        f"molecules: {n:,} ({counts['predicted']:,} predicted, {counts['failed']:,} failed)",
        f"wall: {seconds:.1f} s, {n / seconds:,.0f} mol/s (loading the models: {load_seconds:.1f} "
        f"s; after loading: {counts['molecules_per_second']:,.0f} mol/s)",
        f"CPU: {cpu:.1f} s of this process and its workers, {cpu / n * 1e6:.0f} us per molecule",
        f"memory: {loaded_mib:,.0f} MiB with the models loaded; peak RSS (ru_maxrss) "
        f"{peak_mib(resource.RUSAGE_SELF):,.0f} MiB self, "
        f"{peak_mib(resource.RUSAGE_CHILDREN):,.0f} MiB children; sampled every "
        f"{sampler.interval} s: {sampler.peak_mib:,.0f} MiB self + workers",
        f"stages: parse {counts['parse_seconds']:.1f} s + featurize "
        f"{counts['featurize_seconds']:.1f} s ({where}), meanwhile predict "
        f"{counts['predict_seconds']:.1f} s + write {counts['write_seconds']:.1f} s (prediction "
        f"thread); the main thread waited {counts['wait_seconds']:.1f} s for parsed chunks",
    ]
    if args.processes > 1:
        lines.append(
            "note: a spawned worker starts as a fork of this process, so its ru_maxrss counts "
            "this process's pages; the sampled sum is what the workers really hold"
        )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
