"""Sweeps on a real local Dask cluster; ``anb generate`` end to end, including kill -9 of the sweep and of a worker.

Smoke-profile measurements take a few seconds each; every test measures only a handful of architectures.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from analognasbench.cli import main
from analognasbench.pipeline import schema
from analognasbench.pipeline.archsets import resolve_archset
from analognasbench.pipeline.profiles import get_profile
from analognasbench.pipeline.store import RunStatus, RunStore
from analognasbench.pipeline.sweep import ClusterKind, ClusterSpec, LocalOptions, open_cluster, run_sweep
from analognasbench.space import canonical_index

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def client():
    """A local Dask cluster of two single-threaded worker processes, shared by this module's tests."""
    with open_cluster(ClusterSpec(ClusterKind.LOCAL, local=LocalOptions(workers=2, memory_per_worker="3GiB"))) as c:
        c.wait_for_workers(2, timeout=60)
        yield c


@pytest.fixture
def smoke():
    return get_profile("smoke")


def _done_rows(path: Path) -> list[tuple[int, int]]:
    """(canonical_index, seed) of every finished row, read with plain sqlite3 (not through the store); none while
    a starting sweep has created the file but not yet its tables."""
    conn = sqlite3.connect(path, timeout=60)
    try:
        if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'runs'").fetchone() is None:
            return []
        return conn.execute("SELECT canonical_index, seed FROM runs WHERE status = 'done'").fetchall()
    finally:
        conn.close()


def _cached_datasets() -> int:
    from analognasbench.pipeline import sweep

    return len(sweep._DATA_CACHE)


def test_two_worker_sweep_stores_every_architecture_once_and_resumes(tmp_path, smoke, client):
    archs = resolve_archset("sample:3:7")
    with RunStore.open(tmp_path / "runs.sqlite", smoke) as store:
        first = run_sweep(store, smoke, archs, client, progress=False)
        assert (first.finished, first.failed) == (3, 0)
        df = store.to_dataframe()
        assert sorted(df["canonical_index"]) == sorted(a.index for a in archs)
        assert set(df["profile_hash"]) == {smoke.hash()} and set(df["seed"]) == {smoke.seed}
        assert df[[m.value for m in schema.METRICS]].notna().all().all()
        # each worker process loaded the data once and kept it
        cached = client.run(_cached_datasets)
        assert set(cached.values()) <= {0, 1} and sum(cached.values()) >= 1
        again = run_sweep(store, smoke, archs, client, progress=False)
        assert (again.already_done, again.finished) == (3, 0)
        assert len(store) == 3


def test_another_seed_is_a_separate_measurement(tmp_path, smoke, client):
    archs = resolve_archset("sample:1:3")
    with RunStore.open(tmp_path / "runs.sqlite", smoke) as store:
        run_sweep(store, smoke, archs, client, seed=0, progress=False)
        run_sweep(store, smoke, archs, client, seed=1, progress=False)
        df = store.to_dataframe()
    assert sorted(df["seed"]) == [0, 1]
    assert df["baseline_accuracy"].nunique() == 2 or df["curve_digital"].nunique() == 2


def test_sweep_survives_kill_of_a_worker_process(tmp_path, smoke, client):
    archs = resolve_archset("sample:4:11")
    killed: list[int] = []

    def kill_one_worker_when_busy() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            busy = [addr for addr, tasks in client.processing().items() if tasks]
            if busy:
                pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
                time.sleep(1.0)  # let it get into the measurement
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            time.sleep(0.2)

    killer = threading.Thread(target=kill_one_worker_when_busy)
    killer.start()
    with RunStore.open(tmp_path / "runs.sqlite", smoke) as store:
        summary = run_sweep(store, smoke, archs, client, progress=False)
        killer.join()
        assert killed, "no worker was busy to kill"
        assert (summary.finished, summary.failed) == (4, 0)
        assert store.integrity_check() == "ok"
    rows = _done_rows(tmp_path / "runs.sqlite")
    assert sorted(rows) == sorted((a.index, smoke.seed) for a in archs)
    client.wait_for_workers(2, timeout=60)  # the nanny restarted it


def _generate(store: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "analognasbench", "generate", "--profile", "smoke", "--store", str(store),
            "--workers", "1", "--memory-per-worker", "3GiB", "--no-progress", *extra]


def _kill_group(proc: subprocess.Popen) -> None:
    """End what is left of a process group we started (orphaned Dask workers of a killed sweep)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.mark.slow
def test_killed_generate_resumes_with_every_architecture_exactly_once(tmp_path):
    store = tmp_path / "runs.sqlite"
    # 5 architectures trained 12 epochs each: a smoke measurement takes well under a second since the simulator
    # got faster, and on a loaded machine the poller could sleep through all of them before the kill (8 took this
    # test to 59 s on a slower CPU, at the one-minute limit of a test)
    command = _generate(store, "--archs", "sample:5:5", "--set", "epochs=12")
    proc = subprocess.Popen(command, cwd=tmp_path, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            if store.exists() and len(_done_rows(store)) >= 1:
                break
            time.sleep(0.2)
        assert proc.poll() is None, f"sweep ended before it could be killed: {proc.stderr.read()[-2000:]}"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        _kill_group(proc)
    before = set(_done_rows(store))
    assert 1 <= len(before) < 5
    with sqlite3.connect(store) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    rerun = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300, start_new_session=True)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    after = _done_rows(store)
    expected = {(a.index, 0) for a in resolve_archset("sample:5:5")}
    assert sorted(after) == sorted(expected)  # every architecture exactly once
    assert before <= set(after)  # nothing finished before the kill was lost or redone
    assert f"{len(before)} already in the store" in rerun.stderr


@pytest.mark.slow
def test_two_concurrent_sweeps_on_one_store_neither_corrupt_nor_duplicate(tmp_path):
    store = tmp_path / "runs.sqlite"
    command = _generate(store, "--archs", "sample:3:9")
    procs = [subprocess.Popen(command, cwd=tmp_path, start_new_session=True, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    try:
        errors = [p.communicate(timeout=300)[1] for p in procs]
    finally:
        for p in procs:
            _kill_group(p)
    # The whole stderr of each (a list's repr would be cut short): a failure here is a race worth reading in full.
    assert [p.returncode for p in procs] == [0, 0], "\n---\n".join(errors)
    rows = _done_rows(store)
    assert sorted(rows) == sorted((a.index, 0) for a in resolve_archset("sample:3:9"))
    with RunStore(store, create=False) as s:
        assert s.integrity_check() == "ok"
        assert s.counts()[RunStatus.RUNNING] == 0


def test_generate_on_a_running_scheduler(tmp_path, client, capsys):
    store = tmp_path / "runs.sqlite"
    args = ["generate", "--profile", "smoke", "--archs", "sample:1:21", "--store", str(store),
            "--scheduler", client.scheduler.address, "--no-progress"]
    assert main(args) == 0
    assert len(_done_rows(store)) == 1
    assert client.status == "running"  # the sweep did not close a cluster it did not start
    assert main(args) == 0
    assert "1 already in the store" in capsys.readouterr().err


def test_failures_are_stored_and_retried_only_on_request(tmp_path, capsys):
    # A CIFAR profile pointed at an archive that is not one: every measurement fails on the worker.
    not_cifar = tmp_path / "cifar10.tar.gz"
    not_cifar.write_bytes(b"not a gzip stream" * 64)
    store = tmp_path / "runs.sqlite"
    args = ["generate", "--profile", "cifar_lowcost", "--archs", "sample:1", "--data", str(not_cifar),
            "--store", str(store), "--workers", "1", "--no-progress"]
    assert main(args) == 1
    with RunStore(store, create=False) as s:
        [failure] = s.failures()
        assert failure.attempts == 1 and "Traceback" in failure.traceback
        assert str(not_cifar) in failure.error or "gzip" in failure.error.lower() or "tar" in failure.error.lower()
    assert main(args) == 0  # skipped, not retried
    assert "earlier failures skipped" in capsys.readouterr().err
    assert main([*args, "--retry-failed"]) == 1
    with RunStore(store, create=False) as s:
        assert s.failures()[0].attempts == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (["--profile", "nonsense"], "unknown profile 'nonsense'"),
        (["--data", "/does/not/exist"], "no such file or directory"),
        (["--archs", "sample:0"], "sample size must be 1..6466"),
        (["--archs", "everything"], "expected 'unique', 'all'"),
        (["--limit", "-1"], "--limit must be 0 or more"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(tmp_path, capsys, change, message):
    args = {"--profile": "smoke", "--archs": "sample:1", "--store": str(tmp_path / "s.sqlite")}
    args.update(dict(zip(change[::2], change[1::2])))
    assert main(["generate", *[x for kv in args.items() for x in kv], "--workers", "1"]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "s.sqlite").exists()  # nothing started


def test_cifar_profile_with_a_directory_that_holds_no_cifar_is_refused(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    args = ["generate", "--profile", "cifar_lowcost", "--archs", "sample:1", "--data", str(empty),
            "--store", str(tmp_path / "s.sqlite")]
    assert main(args) == 2
    assert "matches no accepted layout" in capsys.readouterr().err
    assert not (tmp_path / "s.sqlite").exists()


def test_architecture_file_with_an_invalid_line_is_refused_with_its_line(tmp_path, capsys):
    listing = tmp_path / "archs.txt"
    listing.write_text("# my picks\n6930\n|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|\n"
                       "(2, 1, 0, 2, 1, 9)\n")
    assert main(["generate", "--profile", "smoke", "--archs", str(listing), "--store", str(tmp_path / "s.sqlite")]) == 2
    assert f"{listing}:4: not an architecture of the space" in capsys.readouterr().err


def test_store_of_another_profile_is_refused_before_work_starts(tmp_path, capsys, smoke):
    store = tmp_path / "s.sqlite"
    RunStore.open(store, smoke.with_overrides(repetitions=smoke.repetitions + 1)).close()
    assert main(["generate", "--profile", "smoke", "--archs", "sample:1", "--store", str(store)]) == 2
    assert "holds results of profile" in capsys.readouterr().err


def test_isomorphs_in_a_file_are_measured_once(tmp_path, smoke):
    from analognasbench.pipeline.archsets import read_arch_file
    from analognasbench.space import class_sizes, from_index

    rep = next(i for i, n in class_sizes().items() if n > 1)
    members = [i for i in range(15625) if canonical_index(i) == rep][:3]
    listing = tmp_path / "archs.txt"
    listing.write_text("\n".join([str(m) for m in members] + [from_index(members[0]).nb201_str]) + "\n")
    assert len(read_arch_file(listing)) == len(members) + 1
    assert resolve_archset(str(listing)) == [from_index(rep)]


def test_export_writes_a_dataset_the_bench_layer_reads(tmp_path, smoke, client):
    files = pytest.importorskip("analognasbench.bench.files")
    from analognasbench.cli.generate import export_store

    with RunStore.open(tmp_path / "runs.sqlite", smoke) as store:
        run_sweep(store, smoke, resolve_archset("sample:2:2"), client, progress=False)
        written = export_store(store, smoke, tmp_path / "smoke_ds")
    df, meta = files.read_dataset(written)
    assert len(df) == meta.row_count == 2
    assert meta.profile_hash == smoke.hash() and meta.profile == smoke.to_dict()
    assert meta.repetitions == smoke.repetitions and meta.sha256
    assert "prefix of a fixed seeded random order" in meta.notes  # the default: the unique sweep order
    assert meta.release_agreement == {}  # synthetic data: nothing to compare with the CIFAR-10 release
    assert "release_agreement" not in files.dataset_paths(written)[1].read_text()
    from analognasbench.pipeline.archsets import parse_archset

    with RunStore(tmp_path / "runs.sqlite", create=False) as store:
        listing = tmp_path / "check.txt"
        listing.write_text("(0, 0, 0, 0, 0, 1)\n")
        written = export_store(store, smoke, tmp_path / "check_ds", archset=parse_archset(str(listing)),
                               notes="fidelity check of X")
    _, meta = files.read_dataset(written)
    assert meta.notes.startswith("fidelity check of X; exported from run store runs.sqlite")
    assert f"architectures listed in {listing}" in meta.notes and "unbiased" not in meta.notes
