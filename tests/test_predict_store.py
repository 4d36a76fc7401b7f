"""The proxy store (resume, merge, device key), the export to a proxy table, and the ``anb proxies`` command."""

from __future__ import annotations

import json
import sqlite3

import pytest

from analognasbench.bench import available_datasets
from analognasbench.bench.errors import DatasetIntegrityError
from analognasbench.cli import main
from analognasbench.predict import ProxyConfig, ProxyRow, ProxyStore, proxy_names
from analognasbench.predict.export import export_store, load_proxies
from analognasbench.space import parse, representatives

CFG = ProxyConfig(C=4, N=1, batch_size=8, image_size=16)
TINY_ARGS = ["--C", "4", "--N", "1", "--batch-size", "8", "--data", "synthetic"]


def _row(index: int, value: float = 1.0) -> ProxyRow:
    return ProxyRow(index, {name: value for name in proxy_names()}, {name: 0.01 for name in proxy_names()})


def test_rows_are_keyed_by_settings_and_device_and_merge(tmp_path):
    a, b = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    with ProxyStore(a) as store:
        store.add(_row(0), CFG, "cpu")
        store.add(_row(0, 2.0), CFG, "cuda:0")  # same class on another device: kept side by side
        store.add(_row(7), ProxyConfig(), "cpu")  # other settings
        assert store.done(CFG) == {0} and store.done(CFG, "cuda") == {0} and store.done(ProxyConfig()) == {7}
        assert store.done(CFG, require=["nwot", "not-a-stored-proxy"]) == set()
    with ProxyStore(b) as store:
        store.add(_row(0), CFG, "cpu")
        store.add(_row(12), CFG, "cpu")
        assert store.merge(a) == (2, 1)
        assert store.count() == 4


def test_export_is_one_verified_row_per_class_and_never_a_measured_dataset(tmp_path):
    path = tmp_path / "s.sqlite"
    with ProxyStore(path) as store:
        store.add(_row(12, 3.0), CFG, "cuda")
        store.add(_row(12, 4.0), CFG, "cpu")
        store.add(_row(0, 5.0), CFG, "cuda")
    parquet, n = export_store(path, tmp_path / "proxies-test", CFG, name="proxies-test")
    df, meta = load_proxies(tmp_path / "proxies-test")
    assert n == len(df) == 2 and list(df.canonical_index) == [0, 12]
    assert list(df.device) == ["cuda", "cpu"] and df.loc[1, "zc_nwot"] == 4.0  # the CPU row wins
    assert all(c.startswith("zc_") for c in df.columns if c not in
               ("arch_index", "arch", "arch_str", "canonical_index", "device", "time_proxies_s"))
    assert meta.source == "zero-cost-proxies" and meta.profile["seed"] == 0 and meta.profile["batch_size"] == 8
    assert "proxies-test" not in available_datasets()
    parquet.write_bytes(parquet.read_bytes()[:-10])
    with pytest.raises(DatasetIntegrityError, match="modified"):
        load_proxies(tmp_path / "proxies-test")


def test_cli_one_architecture_as_json(capsys):
    assert main(["proxies", "123123", "--json", "--proxies", "params,nwot", *TINY_ARGS]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["index"] == parse("123123").index and set(out["proxies"]) == {"params", "nwot"}
    assert out["config"]["C"] == 4


def test_cli_all_resumes_from_the_store_and_exports(tmp_path, capsys):
    store = tmp_path / "p.sqlite"
    args = ["proxies", "--all", "--store", str(store), "--proxies", "params,synflow", *TINY_ARGS]
    assert main([*args, "--limit", "2"]) == 0
    assert main([*args, "--limit", "1"]) == 0  # resumes: a third class, not the first again
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT COUNT(DISTINCT arch_index) FROM proxy_rows").fetchone()[0] == 3
    capsys.readouterr()
    assert main(["proxies", "--pending", "--store", str(store), "--proxies", "params,synflow", "--with-done", "2",
                 *TINY_ARGS]) == 0
    lines = [ln for ln in capsys.readouterr().out.splitlines() if not ln.startswith("#")]
    assert len(lines) == 2 + len(representatives()) - 3
    assert main(["proxies", "--export", str(tmp_path / "t"), "--store", str(store), *TINY_ARGS]) == 0
    assert len(load_proxies(tmp_path / "t")[0]) == 3


def test_cli_shards_split_a_list_without_overlap(tmp_path):
    archs = tmp_path / "archs.txt"
    archs.write_text("# a comment\n0\n12\n123123\n")
    for i in range(2):
        assert main(["proxies", "--archs", str(archs), "--shard", f"{i}/2", "--store", str(tmp_path / f"w{i}.sqlite"),
                     "--proxies", "params", *TINY_ARGS]) == 0
    with ProxyStore(tmp_path / "w0.sqlite") as s0, ProxyStore(tmp_path / "w1.sqlite") as s1:
        assert s0.count() + s1.count() == 3 and not (s0.done(CFG) & s1.done(CFG))


def test_cli_rejects_a_bad_shard(capsys):
    assert main(["proxies", "--all", "--store", "/tmp/x.sqlite", "--shard", "3/2", *TINY_ARGS]) == 2
    assert "--shard" in capsys.readouterr().err


def test_the_shipped_proxy_table_is_verified_class_level_and_documented():
    from analognasbench.bench.registry import DATASETS_DIR
    from analognasbench.space import canonical_index

    if not (DATASETS_DIR / "proxies-cifar10.json").is_file():
        pytest.skip("no proxy table shipped")
    df, meta = load_proxies()
    assert meta.source == "zero-cost-proxies" and "NOT measurements" in meta.fidelity
    assert df.canonical_index.is_unique and all(canonical_index(int(i)) == int(i) for i in df.canonical_index)
    zc = [c for c in df.columns if c.startswith("zc_")]
    assert set(zc) <= {"zc_" + n for n in proxy_names()} and set(zc) == set(meta.extra["columns"])
    assert len(df) == 6466 == meta.row_count  # every isomorphism class
    assert meta.profile == ProxyConfig().to_dict()  # `anb proxies ARCH` computes the table's settings by default
    assert df[zc].notna().mean().min() > 0.99  # a proxy may fail on a degenerate cell, not on many
    sample, sample_meta = load_proxies("proxies-cifar10-c16n5-sample")  # the release's network, a sample
    assert sample_meta.profile["C"] == 16 and sample_meta.profile["N"] == 5 and sample_meta.profile["batch_size"] == 64
    assert set(sample.canonical_index) <= set(df.canonical_index) and len(sample) >= 100
