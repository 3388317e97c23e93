"""One GPU per concurrent training job on a machine with several GPUs.

``snakemake --resources gpu=N`` caps how many GPU-tagged jobs run at once, but does not say
which device each one gets. Before TensorFlow starts, a training job claims a free slot
0..N-1 by an exclusive lock on ``.snakemake/gpu_slots/gpu<slot>.lock`` in the working directory
and sets ``CUDA_VISIBLE_DEVICES`` to that slot. The lock belongs to the process, so it is
released when the job ends, however it ends. If every slot is taken (more GPU jobs at once than
GPUs: ``--resources gpu=N`` was not given), the job waits for one to free.

Nothing changes where ``CUDA_VISIBLE_DEVICES`` is already set (SLURM sets it for jobs submitted
with ``--gpus``) or where the machine has fewer than two GPUs. A job that asks for no GPU (its
rule's ``gpu`` resource 0: ``grid.resources.gpu``, ``final.resources.gpu``) sees none: it sets
``CUDA_VISIBLE_DEVICES`` empty, so that it never takes a device that no one gave it. The lock
folder is per host, as ``.snakemake`` may lie on a file system that several nodes share.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

LOCK_DIR = Path(".snakemake") / "gpu_slots" / socket.gethostname()
POLL_SECONDS = 2.0
_held: list[IO] = []  # open lock files: closing one would release its slot


def gpu_count() -> int:
    """GPUs that ``nvidia-smi -L`` lists; 0 without nvidia-smi."""
    if shutil.which("nvidia-smi") is None:
        return 0
    listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=60)
    if listing.returncode != 0:
        log.warning("nvidia-smi -L failed (%s); GPU slots are not assigned", listing.stderr.strip())
        return 0
    return sum(line.startswith("GPU ") for line in listing.stdout.splitlines())


def try_claim(slot: int, lock_dir: Path) -> bool:
    handle = open(lock_dir / f"gpu{slot}.lock", "a")  # noqa: SIM115 (held until the process ends)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return False
    _held.append(handle)
    return True


def claim_slot(devices: int, lock_dir: Path = LOCK_DIR) -> int:
    """The first free slot of ``devices``, waiting while all are taken."""
    lock_dir.mkdir(parents=True, exist_ok=True)
    waiting_since = None
    while True:
        for slot in range(devices):
            if try_claim(slot, lock_dir):
                return slot
        if waiting_since is None:
            waiting_since = time.monotonic()
            log.warning("all %d GPUs are busy with other jobs; waiting for one (run snakemake "
                        "with --resources gpu=%d to cap GPU jobs instead)", devices, devices)  # fmt: skip
        time.sleep(POLL_SECONDS)


def assign_gpu(
    devices: int | None = None, lock_dir: Path = LOCK_DIR, asked: int | None = None
) -> str:
    """Pick this job's GPU before TensorFlow starts; returns what was decided, for the log.
    ``asked``: the GPUs its rule asks for (None outside a rule); 0 hides every GPU."""
    if asked == 0:
        os.environ["CUDA_VISIBLE_DEVICES"] = ""
        return "the job asks for no GPU (resources gpu 0): CUDA_VISIBLE_DEVICES is empty"
    preset = os.environ.get("CUDA_VISIBLE_DEVICES")
    if preset is not None:
        return f"CUDA_VISIBLE_DEVICES={preset} (set before the job)"
    devices = gpu_count() if devices is None else devices
    if devices < 2:
        return f"{devices} GPU(s) visible, no slot needed"
    slot = claim_slot(devices, lock_dir)
    os.environ["CUDA_VISIBLE_DEVICES"] = str(slot)
    return f"GPU slot {slot} of {devices}: CUDA_VISIBLE_DEVICES={slot}"
