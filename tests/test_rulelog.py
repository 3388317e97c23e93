import subprocess
import sys
from pathlib import Path

import pytest

from redoxscreen.rulelog import kept_on_failure

from workflow_runner import REPO

SCRIPT = """
import logging, os, sys, warnings
from redoxscreen.rulelog import rule_log

with rule_log(sys.argv[1]) as log:
    log.info("python says hello")
    os.write(2, b"native start-up line\\n")  # as TensorFlow's C++ code writes
    warnings.warn("a library's warning")
    print("progress bar", file=sys.stderr)
    if sys.argv[2] == "crash":
        raise RuntimeError("it broke")
os.write(2, b"after the rule\\n")
logging.getLogger("redoxscreen").warning("logged after the rule")
"""


def run_rule_script(log: Path, ending: str) -> subprocess.CompletedProcess:
    environment = {"PYTHONPATH": str(REPO / "workflow_scripts"), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, str(log), ending],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )


def test_native_lines_go_to_the_log_alone_and_python_to_both(tmp_path: Path):
    """TensorFlow's C++ start-up lines belong in the rule's log, not on the console; logging
    and warnings reach both, and progress bars stay on the console."""
    log = tmp_path / "rule.log"
    log.write_text("an earlier run's log\n")
    finished = run_rule_script(log, "finish")
    assert finished.returncode == 0, finished.stderr
    lines = log.read_text().splitlines()
    assert "earlier run" not in log.read_text()
    assert lines[0].endswith("INFO redoxscreen: python says hello")
    assert lines[1] == "native start-up line"
    assert "a library's warning" in lines[2]
    assert "progress bar" not in log.read_text()
    console = finished.stderr
    assert "python says hello" in console and "a library's warning" in console
    assert "progress bar" in console and "after the rule" in console
    assert "logged after the rule" in console and "Logging error" not in console  # no handler
    # is left on the closed console stream
    assert "logged after the rule" not in log.read_text()
    assert "native start-up line" not in console


def test_a_crash_is_logged_and_reaches_the_console(tmp_path: Path):
    log = tmp_path / "rule.log"
    crashed = run_rule_script(log, "crash")
    assert crashed.returncode == 1
    text = log.read_text()
    assert "ERROR redoxscreen: failed" in text and "RuntimeError: it broke" in text
    assert crashed.stderr.count("RuntimeError: it broke") == 2  # logged, then Python's own
    assert "native start-up line" not in crashed.stderr


NOTES_SCRIPT = """
import os, sys
from redoxscreen.rulelog import tensorflow_start_notes_dropped

print("before", file=sys.stderr)
with tensorflow_start_notes_dropped():
    os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are "
                b"written to STDERR\\n")
    os.write(2, b"I0000 00:00:1 port.cc:153] oneDNN custom operations are on. You may see\\n")
    os.write(2, b"E0000 a real error from C++\\n")
    print("from python", file=sys.stderr)
print("after", file=sys.stderr)
"""


def test_the_command_line_drops_tensorflows_start_notes_and_keeps_the_rest():
    environment = {"PYTHONPATH": str(REPO / "workflow_scripts"), "PATH": "/usr/bin:/bin"}
    finished = subprocess.run(
        [sys.executable, "-c", NOTES_SCRIPT], capture_output=True, text=True, env=environment
    )
    assert finished.returncode == 0, finished.stderr
    assert finished.stderr.splitlines() == [
        "before", "E0000 a real error from C++", "from python", "after"
    ]  # fmt: skip


def test_a_failed_body_keeps_the_reports_it_wrote_beside_the_log(tmp_path: Path):
    """Snakemake deletes a failed job's outputs; the reports written before the failure are
    copied into the log folder, and a later run deletes those copies before it starts."""
    results, logs = tmp_path / "results", tmp_path / "logs"
    results.mkdir(), logs.mkdir()
    report, never_written = results / "rejected.tsv", results / "summary.json"
    paths = [str(report), str(never_written)]
    with pytest.raises(ValueError, match="no label"), kept_on_failure(paths, str(logs)):
        report.write_text("input_id\treason\nbroken\tinvalid_smiles\n")
        raise ValueError("no label")
    assert (logs / "rejected.tsv").read_text() == report.read_text()
    assert not (logs / "summary.json").exists()
    with kept_on_failure(paths, str(logs)):
        assert not (logs / "rejected.tsv").exists()
