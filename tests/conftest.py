"""Fixtures shared by the workflow tests: one finished run of the real Snakefile per session."""

from pathlib import Path

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


# The files whose tests use finished_grid: under pytest-xdist they run in one worker, which
# computes the fixture once (and no other worker edits that run while they read it).
SHARING_FINISHED_GRID = ("test_workflow_grid.py", "test_workflow_reruns.py")


def pytest_collection_modifyitems(items):
    """Refuse a test file that uses finished_grid but is missing from SHARING_FINISHED_GRID."""
    using = {item.path.name for item in items if "finished_grid" in item.fixturenames}
    if unlisted := sorted(using - set(SHARING_FINISHED_GRID)):
        raise pytest.UsageError(f"{unlisted} use finished_grid: add them to "
                                "SHARING_FINISHED_GRID in tests/conftest.py")  # fmt: skip


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """With pytest-xdist (`make test` runs two workers), each worker takes whole files, so that a
    file's module-scoped fixtures run once; the files with the most tests are handed out first.

    (`--dist loadgroup` would do this with marks, but pytest-xdist 3.8 groups by rewriting
    `item._nodeid`, which pytest 9 no longer reads.)
    """
    from xdist.scheduler import LoadScopeScheduling

    class WholeFiles(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "finished_grid" if Path(path).name in SHARING_FINISHED_GRID else path

    return WholeFiles(config, log)
