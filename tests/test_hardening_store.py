"""Issue 16, the run store is safe to copy: the WAL is checkpointed at a sweep's end and on export, sources are read
read-only (with their -wal), and a store copied without its -wal is detected and named."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from test_store import hand_row

from analognasbench.cli import main
from analognasbench.cli.generate import export_store
from analognasbench.pipeline.profiles import get_profile
from analognasbench.pipeline.store import IncompleteStoreError, RunStore, StoreError
from analognasbench.space import representatives

REPO = Path(__file__).resolve().parents[1]
N_ROWS = 6


def anb(*argv: object) -> int:
    try:
        return main([str(a) for a in argv])
    except SystemExit as exc:
        return int(exc.code or 0)


@pytest.fixture
def smoke():
    return get_profile("smoke")


def wal(path: Path) -> Path:
    return path.with_name(path.name + "-wal")


def killed_sweep(path: Path, n: int = N_ROWS) -> None:
    """A sweep that records ``n`` rows and is then killed (no close, no checkpoint): its rows live in the -wal."""
    script = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(REPO / 'tests')!r})
        from test_store import hand_row
        from analognasbench.pipeline.profiles import get_profile
        from analognasbench.pipeline.store import RunStore
        from analognasbench.space import representatives
        smoke = get_profile("smoke")
        store = RunStore.open({str(path)!r}, smoke)
        owner = store.register_owner()
        for i in representatives()[:{n}]:
            store.record_result(hand_row(int(i), smoke.hash()), owner=owner)
        os._exit(0)  # like kill -9
    """)
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    subprocess.run([sys.executable, "-c", script], check=True, cwd=REPO, env=env)
    assert wal(path).stat().st_size > 0


def test_a_sweeps_end_checkpoints_so_the_file_alone_holds_every_row(tmp_path, smoke):
    path = tmp_path / "runs.sqlite"
    with RunStore.open(path, smoke) as store:
        owner = store.register_owner()
        for i in representatives()[:N_ROWS]:
            store.record_result(hand_row(int(i), smoke.hash()), owner=owner)
        store.release(owner)  # the end of run_sweep
        assert wal(path).stat().st_size == 0
        shutil.copyfile(path, tmp_path / "copy.sqlite")  # the file alone, while the store is still open
    with RunStore(tmp_path / "copy.sqlite", read_only=True) as copy:
        assert len(copy) == N_ROWS and copy.missing_wal_message() is None


def test_export_checkpoints_the_wal(tmp_path, smoke):
    path = tmp_path / "runs.sqlite"
    with RunStore.open(path, smoke) as store:
        for i in representatives()[:N_ROWS]:
            store.record_result(hand_row(int(i), smoke.hash()))
        assert wal(path).stat().st_size > 0
        export_store(store, smoke, tmp_path / "ds")
        assert wal(path).stat().st_size == 0
        shutil.copyfile(path, tmp_path / "copy.sqlite")
    with RunStore(tmp_path / "copy.sqlite", read_only=True) as copy:
        assert len(copy) == N_ROWS


def test_a_store_copied_without_its_wal_after_a_kill_is_detected(tmp_path, smoke, capsys):
    killed_sweep(tmp_path / "runs.sqlite")
    (tmp_path / "copy").mkdir()
    shutil.copyfile(tmp_path / "runs.sqlite", tmp_path / "copy" / "runs.sqlite")  # the README's "one file"
    RunStore.open(tmp_path / "into.sqlite", smoke).close()
    with (RunStore(tmp_path / "into.sqlite", create=False) as into,
          pytest.raises(IncompleteStoreError, match=r"copy/runs\.sqlite .*runs\.sqlite-wal")):
        into.merge_from(tmp_path / "copy" / "runs.sqlite")
    assert anb("merge-store", tmp_path / "copy" / "runs.sqlite", "--into", tmp_path / "into.sqlite") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "runs.sqlite-wal" in err and "--force" in err
    # With its -wal beside it, the copy is complete: every finished row is merged.
    shutil.copyfile(wal(tmp_path / "runs.sqlite"), wal(tmp_path / "copy" / "runs.sqlite"))
    assert anb("merge-store", tmp_path / "copy" / "runs.sqlite", "--into", tmp_path / "into.sqlite") == 0
    assert f"{N_ROWS} new architectures merged" in capsys.readouterr().err


def test_a_source_store_is_opened_read_only_and_left_unchanged(tmp_path, smoke):
    killed_sweep(tmp_path / "src.sqlite")
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in tmp_path.iterdir()
              if p.name.startswith("src.sqlite") and not p.name.endswith("-shm")}
    RunStore.open(tmp_path / "into.sqlite", smoke).close()
    with RunStore(tmp_path / "into.sqlite", create=False) as into:
        assert into.merge_from(tmp_path / "src.sqlite") == (N_ROWS, 0)
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in tmp_path.iterdir()
             if p.name.startswith("src.sqlite") and not p.name.endswith("-shm")}
    assert after == before
    with RunStore(tmp_path / "src.sqlite", read_only=True) as source, pytest.raises(StoreError, match="read-only"):
        source.record_result(hand_row(0, smoke.hash()))


def test_a_store_is_not_merged_into_itself(tmp_path, smoke, capsys):
    RunStore.open(tmp_path / "a.sqlite", smoke).close()
    assert anb("merge-store", tmp_path / "a.sqlite", "--into", tmp_path / "a.sqlite") == 2
    assert "itself" in capsys.readouterr().err


def _unshare_ok() -> bool:
    return shutil.which("unshare") is not None and subprocess.run(["unshare", "-rm", "true"]).returncode == 0


@pytest.mark.skipif(not _unshare_ok(), reason="needs user+mount namespaces (unshare -rm) for a read-only directory")
@pytest.mark.parametrize("keep_shm", [True, False])
def test_merge_store_reads_a_store_in_a_read_only_directory(tmp_path, smoke, keep_shm):
    source = tmp_path / "ro"
    source.mkdir()
    killed_sweep(source / "runs.sqlite")
    if not keep_shm:
        (source / "runs.sqlite-shm").unlink(missing_ok=True)
    RunStore.open(tmp_path / "into.sqlite", smoke).close()
    script = (f"mount --bind {source} {source} && mount -o remount,ro,bind {source} && cd {REPO} && "
              f"OMP_NUM_THREADS=1 PYTHONPATH={REPO} python -m analognasbench merge-store {source}/runs.sqlite "
              f"--into {tmp_path}/into.sqlite")
    proc = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-800:]
    assert f"{N_ROWS} new architectures merged" in proc.stderr
    with RunStore(tmp_path / "into.sqlite", read_only=True) as into:
        assert len(into) == N_ROWS
