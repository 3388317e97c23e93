"""Fixtures shared by the workflow tests: one finished run of the real Snakefile per session."""

import pytest

from molecule_fixtures import labelled_molecules, tiny_dataset_config
from workflow_runner import run_snakemake, write_config

GRID = {"models": [2, 24], "k": 2}
FINAL = {"k": 3}
TRAINING = {"max_epochs": 60, "patience": 10}


@pytest.fixture(scope="session")
def finished_grid(tmp_path_factory):
    """A finished 2-model x 2-fold grid run (about a minute) and the dry run that planned it.

    Shared by every test that needs it: read it in place, or work on a copy (copy_workdir).
    """
    workdir = tmp_path_factory.mktemp("grid")
    labelled_molecules(every=4).to_csv(workdir / "molecules.csv", index=False)
    write_config(
        workdir, tiny_dataset_config("molecules.csv", grid=GRID, final=FINAL, training=TRAINING)
    )
    plan = run_snakemake(workdir, "-n").stdout
    run_snakemake(workdir)
    return workdir, plan
