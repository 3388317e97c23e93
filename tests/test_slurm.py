"""The workflow through profiles/slurm on a real single-node SLURM, checked against a local run.

Needs Debian's slurm-wlm and munge (``.ci/run`` installs them and sets
REDOXSCREEN_REQUIRE_SLURM=1, so that CI fails rather than skips when they are missing).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from itertools import pairwise
from pathlib import Path

import pandas as pd
import pytest
import yaml

from redoxscreen.training import CPU_TRAINING_ON_GPU_JOBS

from molecule_fixtures import labelled_molecules, tiny_dataset_config
from slurm_cluster import GPU_TYPE, SlurmCluster, missing_binaries
from workflow_runner import REPO, snakemake_command, write_config

RUN_TIMEOUT_S = 900
RESOURCES = {"gpu": 1, "threads": 1, "mem_mb": 1000, "runtime": 20}
CONFIG = {
    "grid": {"models": [24], "k": 2, "resources": RESOURCES},
    "final": {"k": 2, "resources": RESOURCES},
    "training": {"max_epochs": 20, "patience": 5},
    "screen": {"lib": "library.smi"},
    "predict": {"threads": 2},
}
PROFILE = REPO / "profiles" / "slurm"
# The test cluster's partition, and small jobs; the profile's other defaults stay.
DEFAULT_RESOURCES = yaml.safe_load((PROFILE / "config.yaml").read_text())["default-resources"] | {
    "slurm_partition": "debug", "mem_mb": 1000, "runtime": 20
}  # fmt: skip
# What a site adapts in the profile, set for the test cluster: no accounting, one partition,
# and the final folds' GPU type (gpu_model; the grid's bundles ask for any GPU).
SITE = [
    "--slurm-no-account",
    "--slurm-status-command", "squeue",
    "--slurm-init-seconds-before-status-checks", "1",
    "--seconds-between-status-checks", "2",
    "--default-resources", *(f"{key}={value}" for key, value in DEFAULT_RESOURCES.items()),
    "--set-resources", "train_grid_fold:slurm_partition=debug",
    "train_final_fold:slurm_partition=debug", f"train_final_fold:gpu_model={GPU_TYPE}",
    "--latency-wait", "10",
    "--jobs", "4",
]  # fmt: skip
# Rules that only read small tables run in the submitting process (`localrule: True`).
LOCAL_RULES = {"make_folds", "gather_grid", "record_final_models", "evaluate_final",
               "screen_dataset", "summarize_run", "all"}  # fmt: skip
COMPARED = [
    "results/data/molecules.parquet",
    "results/folds/IE/final.parquet",
    "results/grid/IE/mae_table.tsv",
    "results/grid/EA/selected.yaml",
    "results/final/IE/oof_predictions.parquet",
    "results/final/EA/oof_predictions.parquet",
    "results/screen/dataset/screened.parquet",
    "results/screen/libraries/lib/counts.tsv",
    "results/screen/libraries/lib/rejected.tsv",
]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    if missing := missing_binaries():
        message = f"SLURM is not installed here ({', '.join(missing)} missing)"
        if os.environ.get("REDOXSCREEN_REQUIRE_SLURM") == "1":
            pytest.fail(message)
        pytest.skip(message + "; .ci/run installs slurm-wlm and munge")
    with SlurmCluster(tmp_path_factory.mktemp("slurm")) as running:
        yield running


def start_workflow(workdir: Path, *args: str, env: dict | None = None) -> subprocess.Popen:
    """Start the Snakefile in ``workdir``; its output goes to ``workdir/snakemake.out``."""
    with open(workdir / "snakemake.out", "w") as output:
        return subprocess.Popen(snakemake_command(workdir, *args), stdout=output,
                                stderr=subprocess.STDOUT, text=True, cwd=workdir,
                                env=env)  # fmt: skip


# The test cluster's GPUs are declared, not real, and TensorFlow here is its CPU build: a job
# given one would be refused; this lets it train on its CPUs, with a warning (sbatch passes the
# submitting environment on to the job).
CPU_TRAINING = os.environ | {CPU_TRAINING_ON_GPU_JOBS: "1"}


def waited_for(workdir: Path, process: subprocess.Popen, deadline: float) -> tuple[int | str, str]:
    """Wait for a started workflow (killed at ``deadline``): its return code and output."""
    try:
        returncode = process.wait(timeout=max(deadline - time.monotonic(), 1))
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        returncode = f"killed after {RUN_TIMEOUT_S} s"
    return returncode, (workdir / "snakemake.out").read_text()


def finished_output(workdir: Path, process: subprocess.Popen, deadline: float) -> str:
    """Wait for a started workflow (killed at ``deadline``); its output, checked for success."""
    returncode, output = waited_for(workdir, process, deadline)
    assert returncode == 0, f"{workdir.name}: {returncode}\n{output[-6000:]}"
    return output


def prepared_workdir(path: Path) -> Path:
    path.mkdir()
    labelled_molecules(every=8).to_csv(path / "molecules.csv", index=False)
    library = labelled_molecules(every=40)[["smiles", "id"]].to_csv(sep=" ", index=False)
    (path / "library.smi").write_text(library + "C1CC broken\n")
    write_config(path, tiny_dataset_config("molecules.csv", **CONFIG))
    return path


def read_output(path: Path):
    """A table without its timing columns (wall seconds differ between runs), or the text."""
    if path.suffix in (".parquet", ".tsv"):
        table = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, sep="\t")
        return table.drop(columns=[c for c in table.columns if "seconds" in c])
    return path.read_text()


def bundling_profile(directory: Path) -> Path:
    """profiles/slurm with its bundling block uncommented, as the README says to do."""
    text = (PROFILE / "config.yaml").read_text()
    start, end = text.index("# BEGIN bundling\n"), text.index("# END bundling\n")
    block = [line.removeprefix("# ") for line in text[start:end].splitlines()[1:]]
    directory.mkdir()
    (directory / "config.yaml").write_text(text[:start] + "\n".join(block) + "\n" + text[end:])
    assert yaml.safe_load((directory / "config.yaml").read_text())["groups"] == {
        "train_grid_fold": "grid"
    }
    return directory


@pytest.fixture(scope="module")
def runs(cluster, tmp_path_factory):
    base = tmp_path_factory.mktemp("runs")
    on_slurm, local = prepared_workdir(base / "slurm"), prepared_workdir(base / "local")
    started = time.monotonic()
    deadline = started + RUN_TIMEOUT_S
    # The local run computes while the SLURM run mostly waits between its status checks. The
    # SLURM run bundles the grid's jobs (the profile's optional block); every other job is
    # submitted alone.
    profile = bundling_profile(base / "profile")
    through_slurm = start_workflow(on_slurm, "--profile", str(profile), *SITE, env=CPU_TRAINING)
    run_here = start_workflow(local)
    try:
        output = finished_output(on_slurm, through_slurm, deadline)
        slurm_seconds = time.monotonic() - started
        controller_ids = cluster.job_ids()
        finished_output(local, run_here, deadline)
    finally:
        run_here.kill()  # a no-op once it has finished; stops it when the SLURM run failed
        run_here.wait()
    print(f"\nworkflow through SLURM: {slurm_seconds:.0f} s wall")
    return on_slurm, local, output, controller_ids


def test_every_job_but_the_local_rules_went_through_sbatch(runs):
    on_slurm, _, output, controller_ids = runs
    submitted = set(re.findall(r"SLURM jobid (\d+)", output))
    ran_here = re.findall(r"^local(?:rule|checkpoint) (\w+):", output, re.M)
    finished = re.search(r"(\d+) of (\d+) steps \(100%\) done", output)
    assert finished, output[-2000:]
    assert set(ran_here) == LOCAL_RULES
    grid_jobs = 2 * 2  # targets x folds of model 24, bundled into one SLURM job
    assert len(submitted) - 1 + grid_jobs + len(ran_here) == int(finished.group(1))
    assert submitted <= set(controller_ids)  # the controller knows every one
    slurm_logs = list((on_slurm / ".snakemake" / "slurm_logs").rglob("*.log"))
    assert len(slurm_logs) == len(submitted)
    assert len([log for log in slurm_logs if "group_grid" in str(log)]) == 1
    final_logs = [log for log in slurm_logs if "rule_train_final_fold" in str(log)]
    assert len(final_logs) == 2 * 2  # targets x final folds, each its own SLURM job


def test_training_jobs_asked_slurm_for_a_gpu(runs):
    on_slurm, *_ = runs
    logs = list((on_slurm / "logs").glob("train_*_fold/**/*.log"))
    assert len(logs) == 2 * 2 * 2  # (grid, final) x targets x folds
    for log in logs:
        said = log.read_text()
        assert re.search(r"CUDA_VISIBLE_DEVICES=[01] \(set before the job\)", said), log
        assert re.search(r"was given GPU [01] \(CUDA_VISIBLE_DEVICES\), but TensorFlow sees "
                         r"none: it is built for CPUs only", said), log  # fmt: skip
        assert f"{CPU_TRAINING_ON_GPU_JOBS}=1: training on its CPUs" in said, log


def shown_job(log: Path) -> str:
    """What the controller says of the SLURM job whose log this is."""
    return subprocess.run(["scontrol", "-o", "show", "job", log.stem], capture_output=True,
                          text=True, timeout=30, check=True).stdout  # fmt: skip


def test_a_job_asks_slurm_for_its_threads_and_the_librarys_runtime(runs):
    on_slurm, *_ = runs
    (log,) = (on_slurm / ".snakemake" / "slurm_logs").glob("rule_predict_library/**/*.log")
    shown = shown_job(log)
    assert "NumCPUs=2 " in shown, shown  # predict.threads, not a profile-wide default
    assert "TimeLimit=02:00:00 " in shown, shown  # the rule's 120 minutes, not the default 20


def test_a_site_can_name_the_gpu_type_it_asks_for(runs):
    on_slurm, *_ = runs
    logs = list((on_slurm / ".snakemake" / "slurm_logs").glob("rule_train_final_fold/**/*.log"))
    assert len(logs) == 2 * 2  # targets x final folds
    for log in logs:
        shown = shown_job(log)
        assert re.search(rf"TresPerJob=\S*gpu:{GPU_TYPE}:1\b", shown), shown


def test_a_resubmitted_job_asks_for_its_runtime_and_memory_times_its_attempt(cluster, tmp_path):
    # Without CPU_TRAINING a grid job given a GPU that TensorFlow cannot see stops: the profile
    # submits it three times (retries: 2), each time with more time and memory (per_attempt).
    workdir = prepared_workdir(tmp_path / "refused")
    grid_job = "results/grid/IE/m24/fold0/metrics.json"
    process = start_workflow(workdir, grid_job, "--profile", str(PROFILE), *SITE)
    returncode, output = waited_for(workdir, process, time.monotonic() + RUN_TIMEOUT_S)
    assert returncode == 1, output[-3000:]
    logs = (workdir / ".snakemake" / "slurm_logs").glob("rule_train_grid_fold/**/*.log")
    attempts = sorted(logs, key=lambda log: int(log.stem))
    assert len(attempts) == 3, output[-3000:]
    time_limits = ("00:20:00", "00:40:00", "01:00:00")  # 20 minutes x the attempt
    for attempt, (log, time_limit) in enumerate(zip(attempts, time_limits, strict=True), 1):
        shown = shown_job(log)
        assert f"TimeLimit={time_limit} " in shown, shown
        assert f"MinMemoryNode={1000 * attempt}M " in shown, shown
    said = (workdir / "logs" / "train_grid_fold" / "IE" / "m24" / "fold0.log").read_text()
    assert "but TensorFlow sees none" in said, said


LOGGED_AT = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ", re.M)


def test_a_bundle_of_grid_jobs_runs_them_one_after_another_on_one_gpu(runs):
    on_slurm, *_ = runs
    (log,) = (on_slurm / ".snakemake" / "slurm_logs").glob("group_grid*/**/*.log")
    shown = shown_job(log)
    assert "NumCPUs=1 " in shown, shown  # one job's threads, not the sum of four
    assert re.search(r"TresPerJob=\S*gpu:1\b", shown), shown  # one GPU, not four
    assert "TimeLimit=01:20:00 " in shown, shown  # four jobs of 20 minutes, one after another
    spans = []
    for job_log in (on_slurm / "logs" / "train_grid_fold").rglob("*.log"):
        logged = LOGGED_AT.findall(job_log.read_text())
        spans.append((min(logged), max(logged)))
    spans.sort()
    assert len(spans) == 4
    assert all(end <= start for (_, end), (start, _) in pairwise(spans)), spans


@pytest.mark.parametrize("relative", COMPARED)
def test_outputs_match_a_local_run(runs, relative):
    on_slurm, local, *_ = runs
    expected, got = read_output(local / relative), read_output(on_slurm / relative)
    if isinstance(expected, pd.DataFrame):
        pd.testing.assert_frame_equal(got, expected)
    else:
        assert got == expected


def test_final_metrics_match_a_local_run(runs):
    on_slurm, local, *_ = runs
    for target in ("IE", "EA"):
        relative = f"results/final/{target}/metrics.json"
        expected = json.loads((local / relative).read_text())
        assert json.loads((on_slurm / relative).read_text()) == expected
