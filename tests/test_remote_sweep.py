"""Carrying a sweep to another machine (a lent GPU, a cluster node) and back: packed data, a time budget, merging.

The GPU run itself (scripts/gpu-sweep.sh) is the same ``anb generate`` with CUDA present; here it runs on the CPU.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from analognasbench.cli import main
from analognasbench.pipeline.measure import load_profile_data
from analognasbench.pipeline.packed import load_packed, pack_profile_data
from analognasbench.pipeline.profiles import get_profile
from analognasbench.pipeline.store import ProfileMismatchError, RunStore


@pytest.fixture
def smoke():
    return get_profile("smoke")


def test_packed_data_round_trips_and_refuses_other_data_settings(tmp_path, smoke):
    data = load_profile_data(smoke)
    path = pack_profile_data(smoke, data, tmp_path / "smoke")
    assert path.suffix == ".npz"
    back = load_profile_data(smoke, path)
    assert np.array_equal(back.train_x, data.train_x) and np.array_equal(back.test_y, data.test_y)
    assert back.provenance == data.provenance and back.classes == data.classes
    # another training length is the same data: accepted; another image size is not
    assert load_packed(path, smoke.with_overrides({"epochs": 5})).train_x.shape == data.train_x.shape
    with pytest.raises(ValueError, match="image_size 8 .file. vs 16 .profile."):
        load_packed(path, smoke.with_overrides({"image_size": 16}))
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a packed data file"):
        load_packed(tmp_path / "junk.npz", smoke)


def test_packed_sweep_with_time_budget_then_merge_into_the_main_store(tmp_path, smoke, capsys):
    packed = tmp_path / "smoke.npz"
    assert main(["pack-data", "--profile", "smoke", "--out", str(packed)]) == 0
    remote, local = tmp_path / "remote.sqlite", tmp_path / "main.sqlite"
    archs = tmp_path / "archs.txt"
    archs.write_text("\n".join(["(2, 2, 2, 2, 2, 2)", "(3, 3, 3, 3, 3, 3)", "(0, 2, 1, 4, 2, 3)", "(2, 0, 2, 3, 4, 0)",
                                "(4, 4, 2, 2, 3, 3)", "(2, 3, 4, 0, 2, 2)"]))
    # A 1-second budget: the first architecture starts, none after it (each takes seconds).
    started = time.perf_counter()
    assert main(["generate", "--profile", "smoke", "--archs", str(archs), "--data", str(packed), "--store", str(remote),
                 "--workers", "1", "--time-budget", "1", "--no-progress"]) == 0
    assert time.perf_counter() - started < 120
    with RunStore(remote, create=False) as store:
        assert len(store) == 1
    # The main store measured another architecture meanwhile; merging adds the remote one and keeps both.
    other = tmp_path / "other.txt"
    other.write_text("(3, 3, 3, 3, 3, 3)\n")
    assert main(["generate", "--profile", "smoke", "--archs", str(other), "--store", str(local),
                 "--workers", "1", "--no-progress"]) == 0
    assert main(["merge-store", str(remote), str(remote), "--into", str(local)]) == 0
    err = capsys.readouterr().err
    assert "1 new architectures merged" in err and "0 new architectures merged" in err
    with RunStore(local, create=False) as store:
        rows = {r["arch_index"]: r for r in store.iter_rows()}
    assert len(rows) == 2 and all(r["profile_hash"] == smoke.hash() for r in rows.values())
    # What is left, from the end of the order: what a second machine would take.
    assert main(["pending", "--profile", "smoke", "--store", str(local), "--archs", str(archs), "--from-end"]) == 0
    left = capsys.readouterr().out.split("\n")[:-1]
    assert left == ["(2, 3, 4, 0, 2, 2)", "(4, 4, 2, 2, 3, 3)", "(2, 0, 2, 3, 4, 0)", "(0, 2, 1, 4, 2, 3)"]


def test_merge_refuses_a_store_of_another_profile(tmp_path, smoke):
    a = RunStore.open(tmp_path / "a.sqlite", smoke)
    b = RunStore.open(tmp_path / "b.sqlite", smoke.with_overrides({"repetitions": 2}))
    with a, b, pytest.raises(ProfileMismatchError, match="never mix"):
        a.merge_from(b.path)


def test_a_sweep_resumes_from_its_committed_export_when_the_store_is_gone(tmp_path, smoke, capsys):
    archs = tmp_path / "archs.txt"
    archs.write_text("(2, 2, 2, 2, 2, 2)\n(0, 2, 1, 4, 2, 3)\n")
    first, export = tmp_path / "first.sqlite", tmp_path / "export"
    assert main(["generate", "--profile", "smoke", "--archs", str(archs), "--store", str(first), "--workers", "1",
                 "--limit", "1", "--export", str(export), "--no-progress"]) == 0
    fresh = tmp_path / "fresh.sqlite"  # a new machine: only the export survived
    assert main(["merge-store", str(export.with_suffix(".parquet")), "--into", str(fresh)]) == 0
    assert "1 new architectures merged" in capsys.readouterr().err
    assert main(["generate", "--profile", "smoke", "--archs", str(archs), "--store", str(fresh), "--workers", "1",
                 "--no-progress"]) == 0
    assert "1 measured, 0 failed, 1 already in the store" in capsys.readouterr().err
    with RunStore(fresh, create=False) as store, RunStore(first, create=False) as old:
        assert len(store) == 2 and store.profile_hash == old.profile_hash == smoke.hash()
