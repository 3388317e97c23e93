"""Helpers shared by the tests: the repository root and a runner for the real Snakemake CLI."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def snakemake_command(workdir: Path, *args: str, cores: int = 2) -> list[str]:
    """The command line that runs the workflow's Snakefile in ``workdir`` with its config.yaml.

    The workflow profile (profiles/default, which users may edit) is not read.
    """
    return [
        sys.executable, "-m", "snakemake",
        "--snakefile", str(REPO / "Snakefile"),
        "--workflow-profile", "none",
        "--directory", str(workdir),
        "--configfile", str(workdir / "config.yaml"),
        "--cores", str(cores),
        *args,
    ]  # fmt: skip


def run_snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run the workflow's Snakefile in ``workdir`` with the test's config.yaml there."""
    command = snakemake_command(workdir, *args)
    result = subprocess.run(command, capture_output=True, text=True, cwd=workdir)
    if check and result.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    return result


def with_override(workdir: Path, path: Path, override: dict) -> list[str]:
    """Arguments that merge ``override`` (written to ``path``) over the run's config.yaml, key
    by key."""
    path.write_text(yaml.safe_dump(override, sort_keys=False))
    return ["--configfile", str(workdir / "config.yaml"), str(path)]


def write_config(workdir: Path, config: dict) -> Path:
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def planned_jobs(dry_run_output: str) -> dict[str, int]:
    """Rule -> count from the job-stats table that `snakemake -n` prints."""
    table = dry_run_output.split("Job stats:")[1].split("total")[0]
    return {rule: int(count) for rule, count in re.findall(r"^(\w+)\s+(\d+)\s*$", table, re.M)}


def copy_workdir(workdir: Path, destination: Path) -> Path:
    """A copy of a run to change: files keep their mtimes and .snakemake's records come along."""
    shutil.copytree(workdir, destination, symlinks=True)
    return destination


def rerun_reasons(dry_run_output: str) -> dict[str, set[str]]:
    """Reason -> rules, from the "Reasons:" summary that `snakemake -n` prints after the job stats."""
    reasons: dict[str, set[str]] = {}
    rules: set[str] = set()
    for line in dry_run_output.split("\nReasons:\n")[1].splitlines():
        if not line.startswith("    "):
            break  # the summary ends at the first line that is not indented
        if line.startswith("        "):  # the rules of the reason above, comma-separated
            rules.update(rule.strip() for rule in line.split(",") if rule.strip())
        elif line.endswith(":"):
            rules = reasons.setdefault(line.strip().removesuffix(":"), set())
    return reasons
