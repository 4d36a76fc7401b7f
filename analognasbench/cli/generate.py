"""anb generate: measure architectures into a run store on a Dask cluster, and export the store as a dataset.

Examples:

    anb generate --profile smoke --archs sample:8 --store runs/smoke.sqlite --workers 2
    anb generate --profile cifar_lowcost --archs unique --limit 500 --data ../shared/data/cifar10-jpeg.tar.gz \\
        --store runs/lowcost.sqlite --slurm --slurm-partition gpu --slurm-jobs 8 --slurm-gpus 1
    anb generate --profile cifar_lowcost --archs unique --store runs/lowcost.sqlite --limit 0 --export out/lowcost

Everything is checked before any work starts (profile, architectures, data path, the store's profile): bad input
exits with status 2 and one line saying what was expected. Rerunning a command continues where it stopped.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from analognasbench.bench.cliutil import check_output_file
from analognasbench.bench.files import dataset_paths
from analognasbench.cli import CLIError
from analognasbench.pipeline.archsets import ArchSet, ArchSetKind, parse_archset, resolve_archset
from analognasbench.pipeline.profiles import DatasetName, Profile, profile_names, resolve_profile
from analognasbench.pipeline.resume import DEFAULT_INTERVAL_S, check_interval
from analognasbench.pipeline.store import RunStatus, RunStore, StoreError, sqlite_tables
from analognasbench.pipeline.sweep import (
    Checkpoints,
    ClusterKind,
    ClusterSpec,
    LocalOptions,
    SlurmOptionError,
    SlurmOptions,
    check_memory,
    open_cluster,
    plan_sweep,
    run_sweep,
)
from analognasbench.pipeline.training import cuda_graphs_wanted
from analognasbench.space import NUM_CLASSES

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class GenerateRequest:
    """A validated ``anb generate`` invocation (everything checked, nothing started)."""

    profile: Profile
    archs: list[Any]
    store_path: Path
    data_path: Path | None
    cluster: ClusterSpec
    seed: int
    limit: int | None
    retry_failed: bool
    export: Path | None
    expand_isomorphs: bool
    progress: bool
    time_budget_s: float | None = None
    archset: ArchSet | None = None
    notes: str = ""
    force: bool = False
    checkpoints: Checkpoints | None = None


def _check_data_path(profile: Profile, data: str | None) -> Path | None:
    """Catch a missing, unreadable or unrecognisable data source here, not on every worker."""
    from analognasbench.datasets.cifar10 import default_cifar10_path
    from analognasbench.datasets.layouts import detect_directory_layout, is_tar_path

    if data is None:
        if profile.dataset is DatasetName.CIFAR10 and default_cifar10_path() is None:
            raise CLIError(f"profile {profile.name!r} trains on CIFAR-10: pass --data PATH (a cifar-10 archive or "
                           "directory), or set ANB_CIFAR10")
        return None
    path = Path(data).expanduser()
    if not path.exists():
        raise CLIError(f"--data {path}: no such file or directory")
    if not os.access(path, os.R_OK) or (path.is_dir() and not os.access(path, os.X_OK)):
        raise CLIError(f"--data {path}: not readable")
    if path.suffix == ".npz":
        from analognasbench.pipeline.packed import load_packed

        load_packed(path, profile)  # refuses a file packed for other data settings
    elif profile.dataset is DatasetName.SYNTHETIC:
        logger.warning("profile %s uses synthetic data; --data %s is ignored", profile.name, path)
    elif path.is_dir():
        detect_directory_layout(path)  # DataLayoutError (a ValueError) names the accepted layouts
    elif not is_tar_path(path):
        raise CLIError(f"--data {path}: expected a directory or a .tar/.tar.gz/.tgz archive of CIFAR-10, or a "
                       "packed .npz from 'anb pack-data'")
    return path.resolve()


def build_request(args: argparse.Namespace) -> GenerateRequest:
    """Validate the arguments; raise CLIError/ValueError (exit 2) before anything runs."""
    try:
        profile = resolve_profile(args.profile, args.set or None)
    except KeyError:
        raise CLIError(f"unknown profile {args.profile!r}; valid profiles: {', '.join(profile_names())}") from None
    _check_cluster_options(args)
    archset = parse_archset(args.archs)
    archs = resolve_archset(archset)
    _check_numbers(args)
    data_path = _check_data_path(profile, args.data)
    checkpoints = _check_checkpoints(args.checkpoints, args.checkpoint_interval)
    cuda_graphs_wanted()  # a bad ANB_CUDA_GRAPHS is one error here, not a failure in every measurement
    if args.slurm:
        if args.slurm_interface is not None and args.slurm_scheduler_host is None:
            check_interface(args.slurm_interface)  # the scheduler listens on it, here
        if args.slurm_scheduler_host is not None:
            check_scheduler_host(args.slurm_scheduler_host)
        given = {field: getattr(args, dest) for field, dest in _SLURM_FIELDS.items() if getattr(args, dest) is not None}
        if "extra_directives" in given:
            given["extra_directives"] = tuple(given["extra_directives"])
        try:
            slurm = SlurmOptions(**given)
        except SlurmOptionError as exc:  # named by the option, not the dataclass field
            raise CLIError(f"--{_SLURM_FIELDS[exc.field_name].replace('_', '-')} {exc.problem}") from None
        cluster = ClusterSpec(ClusterKind.SLURM, slurm=slurm)
    elif args.scheduler:
        check_scheduler(args.scheduler)
        cluster = ClusterSpec(ClusterKind.SCHEDULER, address=args.scheduler)
    else:
        cluster = ClusterSpec(ClusterKind.LOCAL, local=LocalOptions(
            args.workers, LocalOptions.memory_per_worker if args.memory_per_worker is None else args.memory_per_worker))
    store_path = check_output_file(args.store, "--store", force=True)  # a directory, under a file, unwritable
    # a store of another profile is refused here, before the cluster starts; a file without tables yet is left to
    # the writer's checks: a concurrent sweep may be creating it right now (its schema is one transaction)
    if store_path.exists() and sqlite_tables(store_path) != set():
        with RunStore(store_path, read_only=True) as store:
            store.check_profile(profile)
    export = Path(args.export) if args.export else None
    if export is not None:
        for target in dataset_paths(export):
            check_output_file(target, "--export", inputs=[store_path], force=args.force)
    return GenerateRequest(profile, archs, store_path, data_path, cluster,
                           profile.seed if args.seed is None else args.seed, args.limit, args.retry_failed, export,
                           args.expand_isomorphs, not args.no_progress, args.time_budget, archset, args.notes or "",
                           args.force, checkpoints)


#: ``SlurmOptions`` field -> ``anb generate`` argument. Every ``--slurm-*`` option (and ``--memory-per-worker``)
#: defaults to None, "not given", so that one given to another kind of cluster is refused, not ignored; the help
#: says the dataclasses' defaults, which a dataclass keeps as class attributes.
_SLURM_FIELDS = {"partition": "slurm_partition", "account": "slurm_account", "cores": "slurm_cores",
                 "processes": "slurm_processes", "memory": "slurm_memory", "walltime": "slurm_walltime",
                 "jobs": "slurm_jobs", "gpus": "slurm_gpus", "scheduler_host": "slurm_scheduler_host",
                 "interface": "slurm_interface", "extra_directives": "slurm_directive", "log_directory": "slurm_log_dir"}


def _check_cluster_options(args: argparse.Namespace) -> None:
    """Options of another kind of cluster than the one chosen would be ignored: refuse them by name.
    (``--workers`` with ``--slurm`` or ``--scheduler`` is argparse's own error: they are mutually exclusive.)"""
    mode = "--slurm" if args.slurm else "--scheduler" if args.scheduler else None
    if mode != "--slurm":
        given = [f"--{dest.replace('_', '-')}" for dest in _SLURM_FIELDS.values() if getattr(args, dest) is not None]
        if given:
            raise CLIError(f"{', '.join(given)}: used only with --slurm (workers started as Slurm jobs), not "
                           f"{'with --scheduler' if mode else 'on the local cluster'}; add --slurm or drop "
                           f"{'it' if len(given) == 1 else 'them'}")
    if mode is not None and args.memory_per_worker is not None:
        instead = ("size the Slurm jobs with --slurm-memory" if mode == "--slurm" else
                   "the scheduler's workers keep the memory limits they were started with")
        raise CLIError(f"--memory-per-worker: used only by the local cluster, not with {mode}; {instead}")


def check_interface(name: str) -> None:
    """``--slurm-interface`` names an interface of this machine with an IPv4 address: the scheduler listens on it
    here (without ``--slurm-scheduler-host``), and Dask would find it missing only when the cluster starts."""
    import socket

    import psutil

    interfaces = psutil.net_if_addrs()
    if name not in interfaces:
        raise CLIError(f"--slurm-interface {name}: no such network interface on this machine, where the scheduler "
                       f"runs; expected one of {', '.join(sorted(interfaces))} (or pass --slurm-scheduler-host)")
    if not any(address.family == socket.AF_INET for address in interfaces[name]):
        raise CLIError(f"--slurm-interface {name}: the interface has no IPv4 address for the scheduler to listen "
                       "on; expected an interface with one (or pass --slurm-scheduler-host)")


def check_scheduler_host(host: str) -> None:
    """``--slurm-scheduler-host`` is an address of this machine, where the scheduler listens (a bind to a free port
    on it, released at once): Dask would find it foreign or unresolvable only when the cluster starts."""
    import socket

    try:
        infos = socket.getaddrinfo(host, 0, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise CLIError(f"--slurm-scheduler-host {host}: cannot resolve it ({exc}); expected an address or host name "
                       "of this machine, where the scheduler runs, reachable from the compute nodes") from None
    errors = []
    for family, kind, proto, _, address in infos:
        try:
            with socket.socket(family, kind, proto) as sock:
                sock.bind(address)
            return
        except OSError as exc:
            errors.append(exc.strerror or str(exc))
    raise CLIError(f"--slurm-scheduler-host {host}: the scheduler cannot listen there ({'; '.join(dict.fromkeys(errors))}"
                   "); expected an address of this machine, where the scheduler runs, reachable from the compute nodes")


def _check_numbers(args: argparse.Namespace) -> None:
    """Counts, seconds and memory sizes, by option name: Dask reads the memory sizes only when the cluster starts,
    after the store exists, and the cluster options' own errors do not name the option."""
    for option, value, least in (("--limit", args.limit, 0), ("--seed", args.seed, 0), ("--workers", args.workers, 1),
                                 ("--slurm-cores", args.slurm_cores, 1), ("--slurm-processes", args.slurm_processes, 1),
                                 ("--slurm-jobs", args.slurm_jobs, 1), ("--slurm-gpus", args.slurm_gpus, 0)):
        if value is not None and value < least:
            raise CLIError(f"{option} must be {least} or more, got {value}")
    if args.time_budget is not None and not args.time_budget > 0:  # NaN too
        raise CLIError(f"--time-budget must be a positive number of seconds, got {args.time_budget}")
    check_memory("--memory-per-worker", args.memory_per_worker, auto=True)
    check_memory("--slurm-memory", args.slurm_memory)


def _check_checkpoints(directory: str | None, interval_s: float) -> Checkpoints | None:
    """``--checkpoints DIR``: a directory that exists or can be made, and writable; a sane interval. Nothing is
    created here: a later check may still refuse the command (``_run`` makes the directory)."""
    try:
        check_interval(interval_s)
    except ValueError:
        raise CLIError(f"--checkpoint-interval must be a number of seconds >= 0, got {interval_s}") from None
    if directory is None:
        return None
    root = Path(directory).expanduser()
    base = next((p for p in (root, *root.parents) if p.exists()), Path("."))
    if not base.is_dir():
        raise CLIError(f"--checkpoints {directory}: {'not' if base == root else f'{base} is not'} a directory; "
                       "expected a directory to keep the checkpoints of measurements in progress (created if absent)")
    if not os.access(base, os.W_OK | os.X_OK):
        raise CLIError(f"--checkpoints {directory}: " + ("not writable" if base == root else
                                                          f"cannot create it ({base} is not writable)"))
    return Checkpoints(root.resolve(), interval_s)


def check_scheduler(address: str, timeout_s: float = 5.0) -> None:
    """Reach the Dask scheduler now (a TCP connection), so that a wrong or dead address is one line, not a 30 s
    wait and a traceback."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    expected = "expected tcp://HOST:PORT of a running Dask scheduler, e.g. tcp://10.0.0.5:8786"
    if parts.scheme not in ("tcp", "tls"):
        raise CLIError(f"--scheduler {address}: unsupported protocol {parts.scheme!r}; {expected}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise CLIError(f"--scheduler {address}: bad port; {expected}") from None
    if not host or port is None:
        raise CLIError(f"--scheduler {address}: no host or port; {expected}")
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise CLIError(f"--scheduler {address}: cannot reach a scheduler there ({reason}); {expected}") from None


def _software_versions() -> dict[str, str]:
    from importlib import metadata

    versions = {"python": platform.python_version()}
    for package in ("analognasbench", "torch", "numpy", "pandas", "pyarrow", "dask", "distributed"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[package] = metadata.version(package)
    return versions


def _coverage_note(n: int, archset: ArchSet | None) -> str:
    if n >= NUM_CLASSES:
        return ""
    note = f"; partial coverage, {n} of {NUM_CLASSES:,} isomorphism classes"
    if archset is None or archset.kind is ArchSetKind.UNIQUE:
        return note + (": with --archs unique the rows are a prefix of a fixed seeded random order, an unbiased "
                       "sample of the space")
    if archset.kind is ArchSetKind.ALL:
        return note + ": a prefix of the order of all cells, so classes are sampled in proportion to their size"
    return note + f": the {archset.describe()}"


def export_store(store: RunStore, profile: Profile, path: Path, *, expand_isomorphs: bool = False,
                 archset: ArchSet | None = None, notes: str = "", overwrite: bool = False) -> Path:
    """Write the store's finished rows as a dataset (Parquet + JSON sidecar) via the bench file format.
    ``archset`` (the sweep's ``--archs``) says in the notes what the rows are a sample of; ``notes`` come first.
    An existing dataset at ``path`` is replaced only with ``overwrite``. The store's WAL is checkpointed first, so
    the ``.sqlite`` file alone holds every exported row."""
    from analognasbench.bench.files import DatasetMeta, write_dataset

    store.checkpoint()
    df = store.to_dataframe(profile.hash(), expand_isomorphs=expand_isomorphs)
    counts = store.counts()
    notes = (notes + "; " if notes else "") + f"exported from run store {store.path.name}"
    if counts[RunStatus.FAILED]:
        notes += f"; {counts[RunStatus.FAILED]} architecture(s) failed and are not in the table"
    if profile.dataset is DatasetName.CIFAR10:
        notes += "; CIFAR-10 as re-encoded JPEG: accuracies can differ slightly from the original binary release"
    notes += _coverage_note(len(df), archset)
    agreement = {}
    if profile.dataset is DatasetName.CIFAR10 and not df.empty:  # synthetic data has nothing to agree with
        from analognasbench.fidelity.quality import shipped_release_agreement

        agreement = shipped_release_agreement(df)
    meta = DatasetMeta(
        name=path.name.removesuffix(".parquet"), version="0", source="pipeline", fidelity=profile.describe(),
        profile=profile.to_dict(), profile_hash=profile.hash(), repetitions=profile.repetitions,
        hardware_preset=profile.hardware_preset, software=_software_versions(),
        created=pd.Timestamp.now(tz="UTC").isoformat(), notes=notes, release_agreement=agreement,
    )
    return write_dataset(df, meta, path, overwrite=overwrite)


@contextlib.contextmanager
def _connected(cluster: ClusterSpec) -> Any:
    """The sweep's Dask client; a cluster that cannot be reached or started is one line (exit 2), not a traceback."""
    try:
        client_cm = open_cluster(cluster)
        client = client_cm.__enter__()
    except (OSError, TimeoutError, RuntimeError) as exc:  # RuntimeError: Dask's "Cluster failed to start"
        raise CLIError(f"cannot start or connect to the {cluster.describe()}: {exc or type(exc).__name__}") from None
    try:
        yield client
    except BaseException:
        if not client_cm.__exit__(*sys.exc_info()):
            raise
    else:
        client_cm.__exit__(None, None, None)


def _run(args: argparse.Namespace) -> int:
    request = build_request(args)
    print(f"profile  {request.profile.describe()}", file=sys.stderr)
    print(f"cluster  {request.cluster.describe()}", file=sys.stderr)
    try:
        store = RunStore.open(request.store_path, request.profile)
    except StoreError as exc:
        raise CLIError(str(exc)) from None
    with store:
        if request.checkpoints is not None:
            request.checkpoints.root.mkdir(parents=True, exist_ok=True)
        summary = None
        pending, plan = plan_sweep(store, request.archs, request.seed, limit=request.limit,
                                   retry_failed=request.retry_failed)
        if pending:
            with _connected(request.cluster) as client:
                summary = run_sweep(store, request.profile, request.archs, client, data_path=request.data_path,
                                    seed=request.seed, limit=request.limit, retry_failed=request.retry_failed,
                                    progress=request.progress,
                                    expected_workers=request.cluster.expected_workers(),
                                    time_budget_s=request.time_budget_s, checkpoints=request.checkpoints)
            print(summary.describe(), file=sys.stderr)
        else:
            print(f"nothing to measure: {plan.describe()}", file=sys.stderr)
        if request.export is not None:
            written = export_store(store, request.profile, request.export, expand_isomorphs=request.expand_isomorphs,
                                   archset=request.archset, notes=request.notes, overwrite=request.force)
            print(f"exported {len(store)} measured architectures to {written}", file=sys.stderr)
        failed = store.counts()[RunStatus.FAILED]
    if summary is not None and summary.failed:
        print(f"{summary.failed} architecture(s) failed; their errors are in the store; rerun with --retry-failed",
              file=sys.stderr)
        return 1
    if failed and not request.retry_failed:
        logger.info("%d failed architecture(s) in the store (rerun with --retry-failed)", failed)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "generate", help="measure architectures into a run store (local Dask, Slurm or a scheduler); export it",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--profile", required=True,
                   help=f"measurement profile: {', '.join(profile_names())}, or a JSON/YAML profile file")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override a profile field (repeatable), e.g. --set epochs=3 --set hwt.epochs=1")
    p.add_argument("--archs", required=True,
                   help="unique (6,466 classes in a fixed random order), all, sample:N[:SEED], or a file with one "
                        "architecture per line (index, short form, tuple or NAS-Bench-201 string)")
    p.add_argument("--data", help="dataset path (e.g. ../shared/data/cifar10-jpeg.tar.gz); not needed for synthetic "
                                  "profiles")
    p.add_argument("--store", required=True, help="run store file (SQLite), created if absent, e.g. runs/smoke.sqlite")
    p.add_argument("--limit", type=int, help="measure only the first N architectures of the set (a prefix)")
    p.add_argument("--seed", type=int, help="per-architecture training seed (default: the profile's)")
    p.add_argument("--retry-failed", action="store_true", help="measure again the architectures that failed before")
    p.add_argument("--export", metavar="PATH", help="write the store as a dataset: PATH.parquet + PATH.json")
    p.add_argument("--notes", help="text put first in the exported dataset's notes (what it is for)")
    p.add_argument("--force", action="store_true", help="let --export replace an existing dataset at PATH")
    p.add_argument("--expand-isomorphs", action="store_true",
                   help="export one row per cell (isomorphs copy their class's measurement)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--time-budget", type=float, metavar="SECONDS",
                   help="start no architecture that would end past this wall-clock budget (e.g. a lent GPU's minutes)")
    p.add_argument("--checkpoints", metavar="DIR",
                   help="save measurements in progress here (each training stage every --checkpoint-interval "
                        "seconds, each finished stage), so a stopped sweep continues them instead of starting them "
                        "again; on a cluster, a directory every worker can write")
    p.add_argument("--checkpoint-interval", type=float, default=DEFAULT_INTERVAL_S, metavar="SECONDS",
                   help=f"seconds between two checkpoints of a training stage (default {DEFAULT_INTERVAL_S:.0f})")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, help="local cluster: worker processes (default: one per GPU or core)")
    where.add_argument("--slurm", action="store_true", help="start the workers as Slurm jobs (dask-jobqueue)")
    where.add_argument("--scheduler", metavar="ADDRESS", help="use a running Dask scheduler, e.g. tcp://host:8786")
    p.add_argument("--memory-per-worker",
                   help=f"local cluster: memory limit per worker (e.g. 4GiB; default {LocalOptions.memory_per_worker})")
    s = p.add_argument_group("Slurm (with --slurm)")
    s.add_argument("--slurm-partition", help="partition (default: the cluster's default)")
    s.add_argument("--slurm-account", help="account")
    s.add_argument("--slurm-cores", type=int, help=f"CPU cores per job (default {SlurmOptions.cores})")
    s.add_argument("--slurm-processes", type=int, help=f"worker processes per job (default {SlurmOptions.processes})")
    s.add_argument("--slurm-memory", help=f"memory per job (default {SlurmOptions.memory})")
    s.add_argument("--slurm-walltime", help=f"time limit per job (default {SlurmOptions.walltime})")
    s.add_argument("--slurm-jobs", type=int, help=f"number of jobs (default {SlurmOptions.jobs})")
    s.add_argument("--slurm-gpus", type=int, help=f"GPUs per job (default {SlurmOptions.gpus})")
    s.add_argument("--slurm-scheduler-host", help="address the scheduler listens on, reachable from the nodes")
    s.add_argument("--slurm-interface", help="network interface for scheduler and workers (e.g. ib0); the scheduler "
                                             "runs here, so this machine needs it too, unless --slurm-scheduler-host")
    s.add_argument("--slurm-directive", action="append", help="extra #SBATCH option (repeatable), e.g. --qos=long")
    s.add_argument("--slurm-log-dir", help="directory for the jobs' output files")
    p.set_defaults(func=_run)
