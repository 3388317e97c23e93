"""Partial reruns and inspection of the finished grid run (the finished_grid fixture, conftest.py).

What Snakemake plans after a change is read from `snakemake -n`: the job-stats table (which jobs,
how many) and its "Reasons:" summary (which rules the change itself triggers; every other planned
job reruns because an input of it will be rewritten). Read-only commands use the finished run in
place; a test that changes the run works on a copy of it.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from workflow_runner import (
    REPO,
    copy_workdir,
    planned_jobs,
    rerun_reasons,
    run_snakemake,
    snakemake_command,
    with_override,
)

PACKAGE = REPO / "workflow_scripts" / "redoxscreen"

# The jobs of the finished run (2 targets, models 2 and 24, grid k 2, final k 3) that rerun when
# the screening changes, and when the folds change: the folds feed the grid, the grid's selection
# feeds the final models, and those feed the screening.
SCREENING_ONWARDS = {"screen_dataset": 1, "summarize_run": 1, "all": 1}
FOLDS_ONWARDS = {
    "make_folds": 2 * 2,  # targets x (grid, final)
    "train_grid_fold": 2 * 2 * 2,  # targets x models x folds
    "gather_grid": 2,
    "train_final_fold": 2 * 3,  # targets x folds
    "record_final_models": 2,
    "evaluate_final": 2,
    **SCREENING_ONWARDS,
}
RULE_CHAIN = [
    "make_folds",
    "train_grid_fold",
    "gather_grid",
    "train_final_fold",
    "record_final_models",
    "evaluate_final",
    "screen_dataset",
    "summarize_run",
]


def output_of(result: subprocess.CompletedProcess) -> str:
    return result.stdout + result.stderr


@contextmanager
def bumped_mtime(path: Path):
    """Give ``path`` the mtime of an edit saved now, contents unchanged; put the old one back."""
    before = path.stat()
    os.utime(path)
    bumped = path.stat().st_mtime_ns
    try:
        yield
    finally:
        if path.stat().st_mtime_ns == bumped:  # unless someone really saved the file meanwhile
            os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


# Changing a setting reruns the rule that reads it and what follows, nothing upstream


@pytest.mark.parametrize(
    ("override", "triggered", "expected"),
    [
        ({"screening": {"collector_max_v": 4.5}}, {"screen_dataset"}, SCREENING_ONWARDS),
        ({"grid": {"split": "scaffold"}}, {"make_folds"}, FOLDS_ONWARDS),  # grid and final folds
        # the calibration set is held out of the grid's folds too
        ({"final": {"calibration_fraction": 0.2}}, {"make_folds"}, FOLDS_ONWARDS),
        # metrics.json records the offsets that redoxscreen predict's <T>_v_li are converted with
        (
            {"potentials": {"li_absolute_ev": 1.44}},
            {"evaluate_final"},
            {"evaluate_final": 2, **SCREENING_ONWARDS},
        ),
    ],
    ids=[
        "screening.collector_max_v",
        "grid.split",
        "final.calibration_fraction",
        "potentials.li_absolute_ev",
    ],
)
def test_a_setting_change_reruns_its_rule_and_what_follows(
    finished_grid, tmp_path, override, triggered, expected
):
    workdir, _ = finished_grid
    plan = run_snakemake(
        workdir, "-n", *with_override(workdir, tmp_path / "override.yaml", override)
    ).stdout
    assert planned_jobs(plan) == expected  # never ingest or featurize
    assert rerun_reasons(plan)["params have changed since last execution"] == triggered


def test_a_training_key_that_the_networks_ignore_reruns_nothing(finished_grid, tmp_path):
    """The run's networks are fingerprint networks: the message-passing keys, the decay keys of
    a schedule it does not use, the prediction chunk size and the data set's description
    change none of its results; a fingerprint network's key reruns both stages."""
    workdir, _ = finished_grid
    ignored = {
        "training": {
            "graph_epochs": 7,
            "graph_batch_size": 4,
            "graph_weight_averaging": 0.5,
            "decay_rate": 0.9,  # read under lr_schedule exponential_decay alone
        },
        "predict": {"chunk_size": 999},
        "datasets": {"tiny": {"description": "a note for people"}},
    }
    plan = output_of(
        run_snakemake(workdir, "-n", *with_override(workdir, tmp_path / "ignored.yaml", ignored))
    )
    assert "Nothing to be done" in plan
    read = {"training": {"dropout": 0.2}}
    plan = run_snakemake(workdir, "-n", *with_override(workdir, tmp_path / "read.yaml", read))
    expected = {key: count for key, count in FOLDS_ONWARDS.items() if key != "make_folds"}
    assert planned_jobs(plan.stdout) == expected
    assert rerun_reasons(plan.stdout)["params have changed since last execution"] == {
        "train_grid_fold"  # the final folds follow the new selection
    }
    recipe = json.loads((workdir / "results/final/IE/fold0/recipe.json").read_text())
    assert set(recipe["training"]) == {"descriptors", "label_scaling", "learning_rate",
        "deterministic", "l2", "dropout", "batch_size", "max_epochs", "patience", "lr_schedule",
        "validation_fraction", "mixed_precision"}  # fmt: skip


def test_screening_checks_the_labels_again_with_its_own_settings(finished_grid, tmp_path):
    """Ingestion checked the labels with the ranges of its run; a range changed since (or
    another oxidation target) reruns the screening alone, which checks them again."""
    workdir = copy_workdir(finished_grid[0], tmp_path / "run")
    tighter = {"screening": {"plausible_median_ev": {"oxidation": [5.0, 20.0]}}}
    configs = with_override(workdir, tmp_path / "tighter.yaml", tighter)
    assert planned_jobs(run_snakemake(workdir, "-n", *configs).stdout) == SCREENING_ONWARDS
    result = run_snakemake(workdir, *configs, check=False)
    assert result.returncode != 0
    said = output_of(result)  # the job's error, which Snakemake prints with the job
    assert "ImplausibleLabels: screening.oxidation_target IE: its median label " in said
    assert "outside the 5 to 20 eV of screening.plausible_median_ev.oxidation" in said


# Editing a package module reruns the rules that list it in input.code (package_files)


def test_touching_a_module_without_editing_it_reruns_nothing(finished_grid):
    # Snakemake 9 records the checksum of every input up to 1 MB and reruns a job for an input
    # newer than its outputs only if the contents differ from the recorded ones.
    workdir, _ = finished_grid
    with bumped_mtime(PACKAGE / "screening.py"):
        plan = run_snakemake(workdir, "-n").stdout
    assert "Nothing to be done" in plan


@pytest.mark.parametrize(
    ("module", "triggered", "expected"),
    [
        # evaluate_final reads it too (the intervals' level in words): seconds of work, and
        # Snakemake then gives screen_dataset's reason as "updated by another job"
        ("screening", {"evaluate_final"}, {"evaluate_final": 2, **SCREENING_ONWARDS}),
        # folds.py is in train_*_fold's input.code too; they rerun after make_folds in any case
        ("folds", {"make_folds"}, FOLDS_ONWARDS),
    ],
    ids=["screening.py", "folds.py"],
)
def test_editing_a_module_reruns_its_rules_and_what_follows(
    finished_grid, module, triggered, expected
):
    # An edit is a newer mtime plus new contents. The contents stay as they are (the module is
    # the real one), so the checksum comparison is switched off: the newer mtime counts as an edit.
    workdir, _ = finished_grid
    with bumped_mtime(PACKAGE / f"{module}.py"):
        plan = run_snakemake(workdir, "-n", "--max-checksum-file-size", "0").stdout
    assert planned_jobs(plan) == expected
    assert rerun_reasons(plan)["updated input files"] == triggered


# Inspecting a run: --rulegraph, --dag, --summary


def graph_nodes(dot: str) -> dict[str, str]:
    """Node id -> rule name, from the Graphviz text of --dag or --rulegraph."""
    return dict(re.findall(r'^\s*(\d+)\[label = "(\w+)', dot, re.M))


def graph_edges(dot: str) -> set[tuple[str, str]]:
    """(upstream rule, downstream rule) for every edge of the graph."""
    nodes = graph_nodes(dot)
    pairs = re.findall(r"^\s*(\d+) -> (\d+)\s*$", dot, re.M)
    return {(nodes[upstream], nodes[downstream]) for upstream, downstream in pairs}


def summary_rows(workdir: Path, *args: str) -> list[dict[str, str]]:
    """The --summary table: one row per output file of the run's jobs."""
    header, *lines = run_snakemake(workdir, "--summary", *args).stdout.strip().splitlines()
    assert header.split("\t") == ["output_file", "date", "rule", "log-file(s)", "status", "plan"]
    return [dict(zip(header.split("\t"), line.split("\t"), strict=True)) for line in lines]


def test_rulegraph_draws_the_rules_in_pipeline_order(finished_grid):
    workdir, plan = finished_grid
    dot = run_snakemake(workdir, "--rulegraph").stdout
    assert dot.startswith("digraph snakemake_dag {")
    nodes = graph_nodes(dot)
    assert sorted(nodes.values()) == sorted(planned_jobs(plan))  # one node per rule
    edges = graph_edges(dot)
    assert set(zip(RULE_CHAIN, RULE_CHAIN[1:], strict=False)) <= edges
    assert ("ingest", "featurize") in edges and ("featurize", "train_final_fold") in edges


def test_dag_draws_every_job_of_the_first_plan_as_done(finished_grid):
    workdir, plan = finished_grid
    dot = run_snakemake(workdir, "--dag").stdout
    assert dot.startswith("digraph snakemake_dag {")
    assert Counter(graph_nodes(dot).values()) == planned_jobs(plan)
    jobs = [line for line in dot.splitlines() if '[label = "' in line]
    assert all('style="rounded,dashed"' in job for job in jobs)  # dashed: nothing to run


def test_summary_lists_every_output_as_up_to_date(finished_grid):
    workdir, plan = finished_grid
    rows = summary_rows(workdir)
    assert {row["rule"] for row in rows} == set(planned_jobs(plan)) - {"all"}  # all has none
    assert {(row["status"], row["plan"]) for row in rows} == {("ok", "no update")}
    model = next(row for row in rows if row["output_file"] == "results/final/IE/fold0/model.keras")
    assert model["rule"] == "train_final_fold"
    assert model["log-file(s)"] == "logs/train_final_fold/IE/fold0.log"


def test_summary_marks_what_a_setting_change_will_update(finished_grid, tmp_path):
    workdir, _ = finished_grid
    override = {"screening": {"collector_max_v": 4.5}}
    rows = summary_rows(workdir, *with_override(workdir, tmp_path / "override.yaml", override))
    changed = {row["rule"] for row in rows if row["status"] == "params changed"}
    assert changed == {"screen_dataset", "summarize_run"}  # the summary names the cap
    pending = {row["rule"] for row in rows if row["plan"] == "update pending"}
    assert pending == {"screen_dataset", "summarize_run"}


# A job killed midway leaves nothing that a rerun would take for finished

FOLD_OUTPUTS = [
    f"results/final/IE/fold0/{name}"
    for name in (
        "model.keras",
        "recipe.json",
        "metrics.json",
        "history.parquet",
        "predictions.parquet",
        "calibration_predictions.parquet",
    )
]
FOLD_LOG = "logs/train_final_fold/IE/fold0.log"
IE_EVALUATION = [
    f"results/final/IE/{name}"
    for name in ("metrics.json", "oof_predictions.parquet", "parity.png", "learning_curves.png")
]


def run_and_kill_when_started(workdir: Path, started: Path, timeout: float = 120) -> int:
    """Run the workflow on one core in a new process group; SIGKILL the group (Snakemake and its
    job) as soon as ``started`` has text, as a node failure or `kill -9` would. Snakemake's exit
    status comes back: -SIGKILL if it was still running."""
    with open(workdir.parent / "killed_run.log", "w") as console:
        process = subprocess.Popen(
            snakemake_command(workdir, cores=1),
            cwd=workdir,
            stdout=console,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + timeout
            while not (started.exists() and started.stat().st_size > 0):
                if process.poll() is not None or time.monotonic() > deadline:
                    console.flush()
                    pytest.fail(
                        f"the job did not start (snakemake exit {process.returncode}):\n"
                        + (workdir.parent / "killed_run.log").read_text()[-3000:]
                    )
                time.sleep(0.05)
        finally:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
    return process.returncode


def test_a_killed_job_leaves_nothing_a_rerun_trusts(finished_grid, tmp_path):
    workdir = copy_workdir(finished_grid[0], tmp_path / "run")
    # As if the first run had been killed while training IE fold 0: the fold and IE's evaluation
    # are not there yet. (A missing fold alone would not rerun: IE's evaluation, which reads it,
    # is up to date.)
    for name in [*FOLD_OUTPUTS, FOLD_LOG, *IE_EVALUATION]:
        (workdir / name).unlink()
    assert run_and_kill_when_started(workdir, started=workdir / FOLD_LOG) == -signal.SIGKILL

    # Every output is written under a temporary name and renamed at the end of training
    assert not [name for name in FOLD_OUTPUTS if (workdir / name).exists()]
    plan = output_of(run_snakemake(workdir, "-n"))
    assert planned_jobs(plan) == {
        "train_final_fold": 1,
        "record_final_models": 1,
        "evaluate_final": 1,
        **SCREENING_ONWARDS,
    }
    assert "reason: Missing output files: results/final/IE/fold0/" in plan
    # The killed run's lock stays: a dry run warns, a real run refuses until --unlock
    assert "Error: Directory cannot be locked." in plan
    refused = run_snakemake(workdir, check=False)
    assert refused.returncode == 1
    assert "LockException" in output_of(refused) and "--unlock" in output_of(refused)
    run_snakemake(workdir, "--unlock")
    assert "cannot be locked" not in output_of(run_snakemake(workdir, "-n"))


KILLED_WHILE_WRITING = """
import os, signal, sys
from redoxscreen.tables import atomic_path
with atomic_path(sys.argv[1]) as temporary:
    temporary.write_text('{"target": "IE", "val_mae"')  # half a JSON document
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_writer_killed_midway_leaves_no_file_under_the_final_name(tmp_path):
    target = tmp_path / "fold0" / "metrics.json"
    env = os.environ | {"PYTHONPATH": str(REPO / "workflow_scripts")}
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_WHILE_WRITING, str(target)], env=env, timeout=60
    )
    assert killed.returncode == -signal.SIGKILL
    assert not target.exists()
    (leftover,) = target.parent.iterdir()  # a hidden temporary no rule names as an output
    assert leftover.name.startswith(".metrics.json.") and leftover.name.endswith(".part")
