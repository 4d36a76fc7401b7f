"""A real single-node Slurm (munged + slurmctld + slurmd from Debian) on 127.0.0.1, for tests.

Started as root in a private temporary directory with a generated ``slurm.conf`` on free ports and its own munge
key and socket, so it never touches a Slurm or munge the machine may already run. Where it cannot start (not root,
packages missing, daemons refusing), :func:`start_slurm` raises :class:`SlurmUnavailable` with the reason, which the
fixture turns into a skip.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "squeue", "scancel", "sinfo")
PARTITION = "anbtest"


class SlurmUnavailable(RuntimeError):
    """Slurm cannot run here; the message says why."""


@dataclass
class SlurmCluster:
    """A running single-node Slurm: point ``SLURM_CONF`` at ``conf`` to use it."""

    root: Path
    conf: Path
    node: str
    partition: str = PARTITION
    pid_files: list[Path] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "SLURM_CONF": str(self.conf)}

    def run(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(args), env=self.env, capture_output=True, text=True, timeout=timeout)

    def logs(self, lines: int = 15) -> str:
        out = []
        for name in ("munged.log", "slurmctld.log", "slurmd.log"):
            path = self.root / name
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                out.append(f"--- {name}\n" + "\n".join(tail))
        return "\n".join(out)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(predicate, timeout: float, what: str, cluster: SlurmCluster) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    raise SlurmUnavailable(f"{what} within {timeout:.0f} s\n{cluster.logs()}")


def _memory_mb() -> int:
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    return 4096


def _conf_text(root: Path, node: str, ctld_port: int, slurmd_port: int) -> str:
    return f"""\
ClusterName=anbtest
SlurmctldHost={node}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={root}/munge.socket
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/slurmctld.log
SlurmdLogFile={root}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
SwitchType=switch/none
NodeName={node} NodeAddr=127.0.0.1 CPUs={os.cpu_count() or 1} RealMemory={int(_memory_mb() * 0.8)} State=UNKNOWN
PartitionName={PARTITION} Nodes={node} Default=YES MaxTime=INFINITE State=UP
"""


def start_slurm() -> SlurmCluster:
    """Start munged, slurmctld and slurmd in a new temporary directory; raise SlurmUnavailable if impossible."""
    if os.geteuid() != 0:
        raise SlurmUnavailable("starting slurmctld/slurmd/munged needs root")
    missing = [b for b in DAEMONS + CLIENTS if shutil.which(b) is None]
    if missing:
        raise SlurmUnavailable(f"Slurm/munge programs not installed: {', '.join(missing)} "
                               "(bash scripts/system-deps.sh installs them)")
    root = Path(tempfile.mkdtemp(prefix="anb-slurm-"))
    root.chmod(0o755)  # munged wants its socket directory searchable by all
    for sub in ("state", "spool"):
        (root / sub).mkdir()
    node = socket.gethostname().split(".")[0]
    cluster = SlurmCluster(root, root / "slurm.conf", node)
    key = root / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o600)
    cluster.conf.write_text(_conf_text(root, node, _free_port(), _free_port()))
    env = cluster.env
    steps = [
        (["munged", "--force", f"--key-file={key}", f"--socket={root}/munge.socket",
          f"--pid-file={root}/munged.pid", f"--log-file={root}/munged.log", f"--seed-file={root}/munged.seed"],
         root / "munged.pid"),
        (["slurmctld", "-i", "-f", str(cluster.conf)], root / "slurmctld.pid"),
        (["slurmd", "-N", node, "-f", str(cluster.conf)], root / "slurmd.pid"),
    ]
    try:
        for command, pid_file in steps:
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30)
            cluster.pid_files.append(pid_file)
            if done.returncode != 0:
                raise SlurmUnavailable(f"{command[0]} exited {done.returncode}: {done.stderr.strip()}\n{cluster.logs()}")
            _wait(pid_file.exists, 15, f"{command[0]} did not write its pid file", cluster)

        def node_idle() -> bool:
            state = cluster.run("sinfo", "-h", "-N", "-o", "%T").stdout.strip()
            return state.startswith("idle")

        _wait(node_idle, 30, "the Slurm node did not become idle", cluster)
    except BaseException:
        stop_slurm(cluster)
        raise
    return cluster


def stop_slurm(cluster: SlurmCluster) -> None:
    """Cancel our jobs, stop our three daemons (by their pid files) and remove the directory."""
    if cluster.pid_files:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            cluster.run("scancel", f"--partition={cluster.partition}", timeout=15)
    for pid_file in reversed(cluster.pid_files):
        try:
            pid = int(pid_file.read_text().strip())
        except (OSError, ValueError):
            continue
        for sig, wait_s in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 2.0)):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + wait_s
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
            else:
                continue
            break
    shutil.rmtree(cluster.root, ignore_errors=True)


@pytest.fixture(scope="module")
def slurm_cluster() -> Iterator[SlurmCluster]:
    """A running single-node Slurm for the module's tests; skips with the reason where it cannot start."""
    try:
        cluster = start_slurm()
    except SlurmUnavailable as exc:
        pytest.skip(f"single-node Slurm unavailable: {exc}")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SLURM_CONF", str(cluster.conf))
        try:
            yield cluster
        finally:
            stop_slurm(cluster)
