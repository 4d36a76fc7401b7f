"""Sweeps: measure many architectures on a Dask cluster and stream each result into the run store.

Why Dask: the same code runs on a laptop (a local cluster of single-threaded worker processes), on a Slurm cluster
(dask-jobqueue submits the workers as batch jobs) or on any running Dask scheduler. The client alone writes to the
store, one transaction per finished architecture as results arrive (``as_completed``), so killing the sweep loses
only the architectures in flight; rerunning the same command skips everything the store holds. A killed worker
process is restarted by its nanny and its task rescheduled by Dask.

Workers load the profile's data once per process (:func:`_worker_data` caches it) and use a GPU when CUDA is
present (worker ``k`` takes device ``k mod #GPUs``).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analognasbench.enums import ClosedSet
from analognasbench.pipeline.resume import (
    DEFAULT_INTERVAL_S,
    MeasurementCheckpoint,
    check_interval,
    run_directory,
)
from analognasbench.pipeline.store import DEFAULT_LEASE_S, RunStatus, RunStore
from analognasbench.space import Architecture, canonical_index

if TYPE_CHECKING:
    from distributed import Client

    from analognasbench.pipeline.profiles import Profile

logger = logging.getLogger(__name__)


class ClusterKind(ClosedSet, what="cluster kind"):
    """Where the workers run."""

    LOCAL = "local"
    SLURM = "slurm"
    SCHEDULER = "scheduler"


@dataclass(frozen=True)
class LocalOptions:
    """A Dask LocalCluster of single-threaded worker processes on this machine.

    Attributes:
        workers: worker processes; ``None``: one per GPU when CUDA is present, else one per CPU core.
        memory_per_worker: Dask memory limit of each worker (e.g. ``"4GiB"``); ``"auto"`` splits the machine's
            memory evenly. A worker above 95 % of it is restarted by its nanny and its task rescheduled.
    """

    workers: int | None = None
    memory_per_worker: str = "auto"

    def __post_init__(self) -> None:
        if self.workers is not None and (isinstance(self.workers, bool) or not isinstance(self.workers, int)
                                         or self.workers < 1):
            raise ValueError(f"workers must be a positive integer, got {self.workers!r}")
        check_memory("memory_per_worker", self.memory_per_worker, auto=True)


class SlurmOptionError(ValueError):
    """A bad :class:`SlurmOptions` field, named (``field_name``) so a front end can name its own option for it."""

    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(f"slurm {field_name.replace('_', ' ')} {problem}")
        self.field_name, self.problem = field_name, problem


@dataclass(frozen=True)
class SlurmOptions:
    """Workers submitted as Slurm batch jobs by ``dask_jobqueue.SLURMCluster``.

    Attributes:
        partition: Slurm partition (``--partition``); ``None``: the cluster's default.
        account: Slurm account (``--account``), if the site needs one.
        cores: CPU cores per job.
        processes: Dask worker processes per job (each gets ``cores / processes`` threads; use 1 thread).
        memory: memory per job (e.g. ``"8GB"``), split evenly over its worker processes.
        walltime: job time limit ``HH:MM:SS``.
        jobs: number of jobs to start.
        gpus: GPUs per job (``--gres=gpu:N``); set ``processes`` to the same number for a GPU per worker.
        scheduler_host: address the scheduler listens on (must be reachable from the compute nodes);
            ``None``: Dask's default.
        interface: network interface for scheduler and workers (e.g. ``"ib0"``), instead of ``scheduler_host``.
        extra_directives: more ``#SBATCH`` options, e.g. ``("--qos=long",)``.
        log_directory: where job stdout/stderr go; ``None``: the job's working directory.
    """

    partition: str | None = None
    account: str | None = None
    cores: int = 1
    processes: int = 1
    memory: str = "4GB"
    walltime: str = "24:00:00"
    jobs: int = 1
    gpus: int = 0
    scheduler_host: str | None = None
    interface: str | None = None
    extra_directives: tuple[str, ...] = ()
    log_directory: str | None = None

    def __post_init__(self) -> None:
        for key in ("cores", "processes", "jobs"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SlurmOptionError(key, f"must be a positive integer, got {value!r}")
        if isinstance(self.gpus, bool) or not isinstance(self.gpus, int) or self.gpus < 0:
            raise SlurmOptionError("gpus", f"must be a non-negative integer, got {self.gpus!r}")
        if self.processes > self.cores:
            raise SlurmOptionError("processes", f"({self.processes}) cannot exceed the cores per job ({self.cores})")
        if not re.fullmatch(r"(\d+-)?\d+(:\d\d){0,2}", self.walltime):
            raise SlurmOptionError("walltime", f"must look like HH:MM:SS or D-HH:MM:SS, got {self.walltime!r}")
        check_memory("slurm memory", self.memory)


def check_memory(name: str, size: object, *, auto: bool = False) -> None:
    """Refuse a memory size Dask cannot read (``4GiB``, ``8GB``; ``"auto"`` where allowed) when the options are
    made: Dask itself reads it only when the cluster starts, after the run store was created."""
    from dask.utils import parse_bytes

    if not isinstance(size, str) or (auto and size == "auto"):
        return  # a number of bytes (or Dask's own value) passed from Python
    try:
        n_bytes = parse_bytes(size) if size.strip()[:1].isdigit() else 0
    except (ValueError, OverflowError):
        n_bytes = 0
    if n_bytes < 1:
        raise ValueError(f"{name} must be a memory size such as 4GiB or 8GB{', or auto' if auto else ''}; "
                         f"got {size!r}")


@dataclass(frozen=True)
class ClusterSpec:
    """Which Dask cluster a sweep uses (see :func:`open_cluster`)."""

    kind: ClusterKind = ClusterKind.LOCAL
    local: LocalOptions = field(default_factory=LocalOptions)
    slurm: SlurmOptions = field(default_factory=SlurmOptions)
    address: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", ClusterKind.parse(self.kind))
        if self.kind is ClusterKind.SCHEDULER and not self.address:
            raise ValueError("a scheduler cluster needs the scheduler's address, e.g. tcp://10.0.0.5:8786")

    def expected_workers(self) -> int | None:
        """Worker processes this spec starts (``None`` for an existing scheduler)."""
        if self.kind is ClusterKind.SLURM:
            return self.slurm.jobs * self.slurm.processes
        if self.kind is ClusterKind.LOCAL:
            return _default_workers(self.local.workers)
        return None

    def describe(self) -> str:
        if self.kind is ClusterKind.SCHEDULER:
            return f"Dask scheduler at {self.address}"
        if self.kind is ClusterKind.SLURM:
            s = self.slurm
            return (f"Slurm: {s.jobs} job(s) x {s.processes} worker(s), {s.cores} cores, {s.memory}, {s.gpus} GPU(s)"
                    f", partition {s.partition or '(default)'}, walltime {s.walltime}")
        return f"local Dask cluster: {_default_workers(self.local.workers)} worker process(es), memory " \
               f"{self.local.memory_per_worker} each"


def _cuda_count() -> int:
    try:
        import torch

        return torch.cuda.device_count() if torch.cuda.is_available() else 0
    except ImportError:  # pragma: no cover - torch is a dependency
        return 0


def _default_workers(workers: int | None) -> int:
    return workers or _cuda_count() or os.cpu_count() or 1


@contextmanager
def open_cluster(spec: ClusterSpec) -> Iterator[Client]:
    """A connected Dask client for ``spec``; the cluster (if this function started one) is closed on exit."""
    from distributed import Client

    _quiet_dask_logs()
    if spec.kind is ClusterKind.SCHEDULER:
        with Client(spec.address, timeout="30s") as client:
            yield client
        return
    if spec.kind is ClusterKind.SLURM:
        cluster = _slurm_cluster(spec.slurm)
        cluster.scale(jobs=spec.slurm.jobs)
    else:
        from distributed import LocalCluster

        cluster = LocalCluster(
            n_workers=_default_workers(spec.local.workers), threads_per_worker=1, processes=True,
            memory_limit=spec.local.memory_per_worker, dashboard_address=":0", silence_logs=logging.ERROR,
        )
    try:
        with Client(cluster) as client:
            yield client
    finally:
        cluster.close()


def _quiet_dask_logs() -> None:
    """Dask logs every worker start at INFO; show its warnings only, unless our own logging is verbose."""
    level = max(logging.getLogger().getEffectiveLevel(), logging.WARNING)
    for name in ("distributed", "dask_jobqueue"):
        logging.getLogger(name).setLevel(level)


def _slurm_cluster(options: SlurmOptions) -> Any:
    try:
        from dask_jobqueue import SLURMCluster
    except ImportError:  # pragma: no cover - a declared dependency
        raise ValueError("--slurm needs dask-jobqueue (pip install dask-jobqueue)") from None
    directives = list(options.extra_directives)
    if options.gpus:
        directives.append(f"--gres=gpu:{options.gpus}")
    kwargs: dict[str, Any] = dict(
        cores=options.cores, processes=options.processes, memory=options.memory, walltime=options.walltime,
        queue=options.partition, account=options.account, job_extra_directives=directives,
        python=sys.executable, job_name="anb-worker",
    )
    if options.scheduler_host:
        kwargs["scheduler_options"] = {"host": options.scheduler_host, "dashboard_address": ":0"}
    else:
        kwargs["scheduler_options"] = {"dashboard_address": ":0"}
    if options.interface:
        kwargs["interface"] = options.interface
    if options.log_directory:
        kwargs["log_directory"] = options.log_directory
    return SLURMCluster(**kwargs)


# --- worker side -------------------------------------------------------------------------------------------------

#: Per-process cache of loaded datasets, keyed by (profile hash, data path): each worker reads its data once.
_DATA_CACHE: dict[tuple[str, str | None], Any] = {}
_DATA_LOCK = threading.Lock()


def _worker_data(profile: Profile, data_path: str | None) -> Any:
    from analognasbench.pipeline.measure import load_profile_data

    key = (profile.hash(), data_path)
    with _DATA_LOCK:
        if key not in _DATA_CACHE:
            _DATA_CACHE.clear()  # one dataset per process at a time bounds memory
            _DATA_CACHE[key] = load_profile_data(profile, data_path)
        return _DATA_CACHE[key]


def _worker_device() -> str:
    """``cuda:k`` (k from the Dask worker's name) when CUDA is present, else ``cpu``."""
    count = _cuda_count()
    if not count:
        return "cpu"
    try:
        from distributed import get_worker

        name = str(get_worker().name)
    except ValueError:  # not inside a Dask worker
        name = "0"
    digits = re.findall(r"\d+", name)
    return f"cuda:{int(digits[-1]) % count if digits else 0}"


@dataclass(frozen=True)
class Checkpoints:
    """Where a sweep's workers keep the checkpoints of measurements in progress
    (:mod:`analognasbench.pipeline.resume`): a directory every worker can write (on a cluster, a shared file
    system), and the seconds between two checkpoints of a training stage."""

    root: Path
    interval_s: float = DEFAULT_INTERVAL_S

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))
        object.__setattr__(self, "interval_s", check_interval(self.interval_s))

    def open(self, profile: Profile, arch_index: int, seed: int) -> MeasurementCheckpoint:
        return MeasurementCheckpoint.for_run(self.root, profile, arch_index, seed, interval_s=self.interval_s)

    def discard(self, profile: Profile, arch_index: int, seed: int) -> None:
        """Delete one measurement's checkpoints (its row is in the store)."""
        shutil.rmtree(run_directory(self.root, profile, arch_index, seed), ignore_errors=True)


@dataclass(frozen=True)
class TaskOutcome:
    """What a worker sends back for one architecture: the schema row, or why it failed."""

    canonical_index: int
    arch_index: int
    row: dict[str, Any] | None
    error: str = ""
    traceback: str = ""
    worker: str = ""


def measure_task(arch: Sequence[int], profile: Profile, data_path: str | None, seed: int,
                 checkpoints: Checkpoints | None = None) -> TaskOutcome:
    """Measure one architecture on this worker; exceptions become a failed outcome with the traceback. With
    ``checkpoints``, a measurement an earlier worker left part-way continues from its checkpoint."""
    a = Architecture(arch)
    host = f"{os.uname().nodename}:{os.getpid()}"
    try:
        from analognasbench.pipeline.allocator import tune_allocator
        from analognasbench.pipeline.measure import evaluate_architecture

        tune_allocator()  # undo the Dask nanny's malloc setting, which doubles a CPU worker's time
        data = _worker_data(profile, data_path)
        checkpoint = checkpoints.open(profile, a.index, seed) if checkpoints is not None else None
        row = evaluate_architecture(a, profile, data, seed, device=_worker_device(), checkpoint=checkpoint)
        return TaskOutcome(canonical_index(a), a.index, row, worker=host)
    except Exception as exc:  # stored in the run store with its traceback, retried on request
        return TaskOutcome(canonical_index(a), a.index, None, f"{type(exc).__name__}: {exc}", traceback.format_exc(),
                           worker=host)


# --- client side -------------------------------------------------------------------------------------------------


@dataclass
class SweepSummary:
    """What one sweep did."""

    requested: int = 0
    already_done: int = 0
    skipped_failed: int = 0
    held_elsewhere: int = 0
    finished: int = 0
    failed: int = 0
    wall_s: float = 0.0

    @property
    def per_hour(self) -> float:
        return 3600.0 * self.finished / self.wall_s if self.wall_s > 0 else 0.0

    def describe(self) -> str:
        parts = [f"{self.finished} measured", f"{self.failed} failed", f"{self.already_done} already in the store"]
        if self.skipped_failed:
            parts.append(f"{self.skipped_failed} earlier failures skipped (use --retry-failed)")
        if self.held_elsewhere:
            parts.append(f"{self.held_elsewhere} being measured by another sweep")
        return (f"{self.requested} architectures: " + ", ".join(parts)
                + f"; {self.wall_s:.1f} s ({self.per_hour:.0f} architectures/hour)")


class _Heartbeat:
    """Keeps the sweep's claims alive from a background thread (its own SQLite connection)."""

    def __init__(self, path: Path, owner: str, interval_s: float) -> None:
        self._path, self._owner, self._interval = path, owner, interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="anb-store-heartbeat", daemon=True)

    def _run(self) -> None:
        store = RunStore(self._path, create=False)
        try:
            while not self._stop.wait(self._interval):
                try:
                    store.heartbeat(self._owner)
                except Exception:  # a busy store must not kill the sweep; the next beat retries
                    logger.warning("run store heartbeat failed", exc_info=True)
        finally:
            store.close()

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def plan_sweep(store: RunStore, archs: Sequence[Architecture], seed: int, *, limit: int | None = None,
               retry_failed: bool = False) -> tuple[list[Architecture], SweepSummary]:
    """The first ``limit`` of ``archs`` that still need measuring, and a summary counting what is skipped."""
    chosen = list(archs)[: limit if limit is not None else None]
    summary = SweepSummary(requested=len(chosen))
    known = store.status((canonical_index(a) for a in chosen), seed)
    pending: list[Architecture] = []
    seen: set[int] = set()
    for a in chosen:
        c = canonical_index(a)
        if c in seen:  # an isomorph of an earlier entry: the same network, measured once
            summary.requested -= 1
            continue
        seen.add(c)
        state = known.get(c)
        if state is RunStatus.DONE:
            summary.already_done += 1
        elif state is RunStatus.FAILED and not retry_failed:
            summary.skipped_failed += 1
        else:
            pending.append(a)
    return pending, summary


def run_sweep(
    store: RunStore,
    profile: Profile,
    archs: Sequence[Architecture],
    client: Client,
    *,
    data_path: str | os.PathLike[str] | None = None,
    seed: int | None = None,
    limit: int | None = None,
    retry_failed: bool = False,
    progress: bool = True,
    max_in_flight: int | None = None,
    expected_workers: int | None = None,
    lease_s: float = DEFAULT_LEASE_S,
    time_budget_s: float | None = None,
    checkpoints: Checkpoints | None = None,
) -> SweepSummary:
    """Measure ``archs`` (their first ``limit``) on ``client``'s cluster, skipping what ``store`` already holds.

    Each result is committed as soon as it arrives. Architectures that fail are stored with their error and
    traceback and retried only with ``retry_failed``. Claims in the store keep two concurrent sweeps from measuring
    the same architecture; a sweep that dies leaves claims that the next one takes over.

    At most ``max_in_flight`` architectures are claimed and queued at a time (default: two per worker plus two,
    counting the connected workers or ``expected_workers``, whichever is larger, e.g. Slurm jobs still queued).

    ``time_budget_s`` (e.g. a lent GPU's minutes): queue nothing beyond the running workers, and start no new
    architecture once the mean time of the finished ones would carry it past the budget. What runs when the budget is
    reached finishes; the sweep ends within about one architecture's time of the budget.

    ``checkpoints``: measurements save their progress there, so one stopped part-way (a kill, a budget, a job's
    time limit) continues in the next sweep instead of starting again; a measurement's checkpoints are deleted once
    its row is stored.
    """
    from distributed import as_completed
    from tqdm.auto import tqdm

    store.check_profile(profile)
    seed = profile.seed if seed is None else int(seed)
    pending, summary = plan_sweep(store, archs, seed, limit=limit, retry_failed=retry_failed)
    logger.info("sweep: %d requested, %d to measure (profile %s, seed %d)", summary.requested, len(pending),
                profile.describe() if hasattr(profile, "describe") else profile.name, seed)
    if not pending:
        return summary

    data = None if data_path is None else str(data_path)
    def window() -> int:
        if max_in_flight:
            return max_in_flight
        workers = max(len(client.scheduler_info().get("workers", {})), expected_workers or 0, 1)
        return workers if time_budget_s else 2 * workers + 2

    def within_budget() -> bool:
        if time_budget_s is None:
            return True
        elapsed = time.perf_counter() - start
        done = summary.finished + summary.failed
        mean = elapsed / done if done else 0.0
        return elapsed + mean <= time_budget_s

    owner = store.register_owner()
    start = time.perf_counter()
    bar = tqdm(total=len(pending), unit="arch", desc="measuring", disable=not progress, file=sys.stderr,
               smoothing=0.1, dynamic_ncols=True)
    queue = iter(pending)
    futures = as_completed(with_results=False)
    in_flight = 0

    def submit_next() -> bool:
        nonlocal in_flight
        if not within_budget():
            return False
        for a in queue:
            if store.claim(canonical_index(a), a.index, seed, owner, retry_failed=retry_failed, lease_s=lease_s):
                futures.add(client.submit(measure_task, tuple(a), profile, data, seed, checkpoints, pure=False,
                                          key=f"anb-measure-{a.index}-{seed}-{uuid.uuid4().hex[:8]}"))
                in_flight += 1
                return True
            summary.held_elsewhere += 1
            bar.total -= 1
            bar.refresh()
        return False

    try:
        with _Heartbeat(store.path, owner, interval_s=max(1.0, lease_s / 6)):
            while in_flight < window() and submit_next():
                pass
            for future in futures:
                in_flight -= 1
                stored = _collect(future, store, owner, seed, summary)
                if stored is not None and checkpoints is not None:
                    checkpoints.discard(profile, stored, seed)
                future.release()
                bar.update(1)
                elapsed = time.perf_counter() - start
                bar.set_postfix(failed=summary.failed, per_hour=f"{3600 * (summary.finished + summary.failed) / elapsed:.0f}")
                while in_flight < window() and submit_next():
                    pass
    finally:
        bar.close()
        summary.wall_s = time.perf_counter() - start
        released = store.release(owner)
        if released:
            logger.info("sweep stopped with %d architectures unfinished; they were released", released)
    logger.info("sweep done: %s", summary.describe())
    return summary


def _collect(future: Any, store: RunStore, owner: str, seed: int, summary: SweepSummary) -> int | None:
    """Write one finished task to the store (a result, a task failure, or a Dask-level failure); returns the
    architecture index of a stored result."""
    if future.status == "cancelled":  # the cluster went away; the claim is released at the end of the sweep
        logger.warning("task %s was cancelled", future.key)
        return None
    if future.status == "error":
        # Raised outside measure_task: e.g. KilledWorker when a task killed several workers (out of memory).
        exc = future.exception()
        tb = "".join(traceback.format_tb(future.traceback())) if future.traceback() else ""
        index = int(str(future.key).split("-")[2])
        store.record_failure(canonical_index(index), index, seed, f"{type(exc).__name__}: {exc}", tb, owner=owner)
        summary.failed += 1
        logger.warning("architecture %d failed in Dask: %s", index, exc)
        return None
    outcome: TaskOutcome = future.result()
    if outcome.row is not None:
        store.record_result(outcome.row, owner=owner)
        summary.finished += 1
        return outcome.arch_index
    store.record_failure(outcome.canonical_index, outcome.arch_index, seed, outcome.error, outcome.traceback,
                         owner=owner)
    summary.failed += 1
    logger.warning("architecture %d failed on %s: %s", outcome.arch_index, outcome.worker, outcome.error)
    return None
