"""Each concurrent GPU job gets its own device: slots claimed by file locks across processes."""

import os
import subprocess
import sys
import time

import pytest

from redoxscreen.gpu_slots import assign_gpu

from workflow_runner import REPO

CLAIM = """
import sys, time
from pathlib import Path
from redoxscreen.gpu_slots import assign_gpu
print(assign_gpu(devices=int(sys.argv[1]), lock_dir=Path(sys.argv[2])), flush=True)
time.sleep(float(sys.argv[3]))
"""


def start_job(devices: int, lock_dir, hold_seconds: float) -> subprocess.Popen:
    """A process that claims a slot as a training job does, then holds it for a while."""
    environment = {k: v for k, v in os.environ.items() if k != "CUDA_VISIBLE_DEVICES"}
    environment["PYTHONPATH"] = str(REPO / "workflow_scripts")
    return subprocess.Popen(
        [sys.executable, "-c", CLAIM, str(devices), str(lock_dir), str(hold_seconds)],
        stdout=subprocess.PIPE, text=True, env=environment,
    )  # fmt: skip


def first_line(job: subprocess.Popen, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = job.stdout.readline()
        if line:
            return line.strip()
    raise TimeoutError("the job printed nothing")


def stop(*jobs: subprocess.Popen) -> None:
    for job in jobs:
        job.kill()
        job.wait(timeout=30)


def test_concurrent_jobs_get_different_devices(tmp_path):
    holding = start_job(2, tmp_path, 30)
    assert first_line(holding) == "GPU slot 0 of 2: CUDA_VISIBLE_DEVICES=0"
    brief = start_job(2, tmp_path, 0)
    try:
        freed = first_line(brief)
        assert freed == "GPU slot 1 of 2: CUDA_VISIBLE_DEVICES=1"
        brief.wait(timeout=30)  # a slot is released when its process ends ...
        assert first_line(start_job(2, tmp_path, 0)) == freed  # ... and the next job gets it
    finally:
        stop(holding, brief)


def test_when_every_device_is_busy_the_next_job_waits(tmp_path):
    busy = [start_job(2, tmp_path, 30) for _ in range(2)]
    waiting = None
    try:
        for job in busy:
            first_line(job)  # both slots are held from here on
        waiting = start_job(2, tmp_path, 0)
        time.sleep(3)
        assert waiting.poll() is None  # both slots held: it waits, it does not fail
        stop(busy[0])
        assert first_line(waiting, timeout=30).startswith("GPU slot")
    finally:
        stop(*busy, *([waiting] if waiting else []))


def test_a_scheduler_choice_or_a_single_gpu_is_left_alone(tmp_path, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")
    assert assign_gpu(devices=4, lock_dir=tmp_path) == "CUDA_VISIBLE_DEVICES=3 (set before the job)"
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    assert assign_gpu(devices=1, lock_dir=tmp_path) == "1 GPU(s) visible, no slot needed"
    assert "CUDA_VISIBLE_DEVICES" not in os.environ
    assert not list(tmp_path.iterdir())


@pytest.fixture(autouse=True)
def _restore_cuda_visible_devices(monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)


def test_a_job_that_asks_for_no_gpu_sees_none(tmp_path, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")  # where a scheduler set one all the same
    said = assign_gpu(devices=4, lock_dir=tmp_path, asked=0)
    assert said == "the job asks for no GPU (resources gpu 0): CUDA_VISIBLE_DEVICES is empty"
    assert os.environ["CUDA_VISIBLE_DEVICES"] == ""
    assert not list(tmp_path.iterdir())  # no slot claimed
