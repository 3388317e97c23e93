"""A real single-node SLURM cluster on localhost, for the tests that submit through sbatch.

It runs Debian's ``slurm-wlm`` and ``munge`` (``.ci/run`` installs them): munged, slurmctld and
slurmd are started as child processes, and stopped by PID when the cluster is closed. The node
declares two GPU gres of type ``GPU_TYPE`` (``/dev/null`` and ``/dev/zero`` stand in for their
device files), so jobs asking for ``--gpus=1`` or ``--gpus=testgpu:1`` are accepted, run two at a
time and get ``CUDA_VISIBLE_DEVICES`` 0 or 1.
Accounting is off, so the Snakemake executor must poll with ``--slurm-status-command squeue``,
and the controller keeps finished jobs for two hours (``MinJobAge``; SLURM's default of 300 s
forgot the first jobs of a slow CI run).

The configuration must sit at ``/etc/slurm/slurm.conf``: the executor's job step does not pass
``SLURM_CONF`` on, so srun inside a job reads the default path. An existing file there that this
module did not write is never overwritten.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

SLURM_DIR = Path("/etc/slurm")
CONF_MARKER = "# written by redoxscreen's tests/slurm_cluster.py"
DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo")
START_TIMEOUT_S = 60
# Two GPUs for the node: SLURM needs a character device file per GPU, any will do.
GPU_DEVICE_FILES = ("/dev/null", "/dev/zero")
GPU_TYPE = "testgpu"  # what a site's gres calls its GPUs, for the profile's gpu_model


class ClusterError(RuntimeError):
    """The test cluster could not be started or stopped cleanly."""


def missing_binaries() -> list[str]:
    return [name for name in DAEMONS if shutil.which(name) is None]


def node_memory_mb() -> int:
    with open("/proc/meminfo") as meminfo:
        total_kb = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal"))
    return total_kb // 1024 // 2  # half the machine: jobs leave room for the rest of the tests


def munge_socket(state_dir: Path) -> Path:
    return state_dir / "munge" / "munge.socket"


def slurm_conf(node: str, state_dir: Path, cpus: int, memory_mb: int) -> str:
    return f"""{CONF_MARKER}
ClusterName=redoxscreen-test
SlurmctldHost={node}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={munge_socket(state_dir)}
MailProg=/bin/true
StateSaveLocation={state_dir}/ctld
SlurmdSpoolDir={state_dir}/d
SlurmctldPidFile={state_dir}/slurmctld.pid
SlurmdPidFile={state_dir}/slurmd.pid
SlurmctldLogFile={state_dir}/slurmctld.log
SlurmdLogFile={state_dir}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
ReturnToService=2
SlurmdTimeout=30
MinJobAge=7200
GresTypes=gpu
NodeName={node} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={memory_mb} Gres=gpu:{GPU_TYPE}:{len(GPU_DEVICE_FILES)} State=UNKNOWN
PartitionName=debug Nodes={node} Default=YES MaxTime=INFINITE State=UP
"""


def gres_conf(node: str) -> str:
    lines = [
        f"NodeName={node} Name=gpu Type={GPU_TYPE} File={device}" for device in GPU_DEVICE_FILES
    ]
    return "\n".join([CONF_MARKER, *lines, ""])


@dataclass
class SlurmCluster:
    """Start with ``start()`` (or ``with``); every daemon started is stopped by ``stop()``."""

    state_dir: Path
    node: str = field(default_factory=lambda: socket.gethostname().split(".")[0])
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    written: list[Path] = field(default_factory=list)

    def __enter__(self) -> SlurmCluster:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        if missing := missing_binaries():
            raise ClusterError(f"not installed: {missing} (apt-get install slurm-wlm munge)")
        try:
            self.write_configuration()
            self.start_munge()
            self.spawn("slurmctld", ["slurmctld", "-D", "-i"])
            self.wait_for(["scontrol", "ping"], lambda out: "UP" in out, "slurmctld to answer")
            self.spawn("slurmd", ["slurmd", "-D"])
            self.wait_for(["sinfo", "-h", "-o", "%T"], lambda out: out.strip() == "idle",
                          "the node to be idle")  # fmt: skip
        except BaseException:
            self.stop()
            raise

    def write_configuration(self) -> None:
        for directory in ("ctld", "d", "munge"):
            (self.state_dir / directory).mkdir(parents=True, exist_ok=True)
        SLURM_DIR.mkdir(parents=True, exist_ok=True)
        cpus = os.cpu_count() or 1
        files = {
            "slurm.conf": slurm_conf(self.node, self.state_dir, cpus, node_memory_mb()),
            "gres.conf": gres_conf(self.node),
        }
        for name, text in files.items():
            path = SLURM_DIR / name
            if path.exists() and CONF_MARKER not in path.read_text():
                raise ClusterError(f"{path} exists and was not written by these tests; "
                                   "refusing to overwrite a real SLURM configuration")  # fmt: skip
            path.write_text(text)
            self.written.append(path)

    def start_munge(self) -> None:
        socket_path = munge_socket(self.state_dir)
        self.spawn("munged", ["munged", "--foreground", "--force",
                              f"--socket={socket_path}",
                              f"--pid-file={self.state_dir / 'munge' / 'munged.pid'}",
                              f"--seed-file={self.state_dir / 'munge' / 'munged.seed'}",
                              f"--log-file={self.state_dir / 'munge' / 'munged.log'}"])  # fmt: skip
        self.wait_for(["munge", "-n", f"--socket={socket_path}"], bool, "munged to answer")

    def spawn(self, name: str, command: list[str]) -> None:
        log = open(self.state_dir / f"{name}.out", "w")  # noqa: SIM115 (closed with the process)
        self.processes[name] = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()

    def wait_for(self, command: list[str], ready, what: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise ClusterError(f"{name} exited with {process.returncode} while waiting "
                                       f"for {what}; see {self.state_dir}")  # fmt: skip
            result = subprocess.run(command, capture_output=True, text=True, timeout=30)
            if result.returncode == 0 and ready(result.stdout):
                return
            time.sleep(0.5)
        raise ClusterError(f"timed out after {START_TIMEOUT_S} s waiting for {what}; "
                           f"see the logs in {self.state_dir}")  # fmt: skip

    def stop(self) -> None:
        """Stop every daemon this cluster started (slurmd first), then remove its config."""
        for name in ("slurmd", "slurmctld", "munged"):
            process = self.processes.pop(name, None)
            if process is None or process.poll() is not None:
                continue
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=20)
        for path in self.written:
            path.unlink(missing_ok=True)
        self.written.clear()

    def job_ids(self) -> list[str]:
        """Ids of the jobs the controller knows (running, pending or recently finished)."""
        result = subprocess.run(["scontrol", "-o", "show", "jobs"], capture_output=True,
                                text=True, timeout=30, check=True)  # fmt: skip
        return [
            part.split("=", 1)[1] for part in result.stdout.split() if part.startswith("JobId=")
        ]
