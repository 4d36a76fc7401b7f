"""``available_datasets()``: read once per state of the datasets directory, and a new dataset shows at once."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from analognasbench.bench import registry


def _write(directory: Path, name: str, source: str = "pipeline") -> None:
    (directory / f"{name}.parquet").write_bytes(b"PAR1")
    (directory / f"{name}.json").write_text(json.dumps({"source": source}))


@pytest.fixture
def datasets_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(registry, "DATASETS_DIR", tmp_path)
    return tmp_path


def test_a_new_dataset_shows_at_the_next_call(datasets_dir: Path) -> None:
    assert registry.available_datasets() == []
    _write(datasets_dir, "first")
    assert registry.available_datasets() == ["first"]
    _write(datasets_dir, "second")
    (datasets_dir / "half.json").write_text("{}")  # no parquet beside it: not a dataset
    assert registry.available_datasets() == ["first", "second"]
    (datasets_dir / "first.parquet").unlink()
    assert registry.available_datasets() == ["second"]


def test_repeated_calls_do_not_read_the_sidecars_again(datasets_dir: Path) -> None:
    proxy_meta = json.dumps({"source": registry.PROXY_SOURCE})
    _write(datasets_dir, "data")
    meta = datasets_dir / "data.json"
    meta.write_text(json.dumps({"source": "pipeline"}).ljust(len(proxy_meta)))  # the same size as proxy_meta
    assert registry.available_datasets() == ["data"]
    before = registry._dataset_names.cache_info()
    # Rewrite the sidecar as a proxy table but keep its size and modification time: a call that read it again would
    # drop the name, the cached answer keeps it.
    stat = meta.stat()
    meta.write_text(proxy_meta)
    os.utime(meta, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert registry.available_datasets() == ["data"]
    after = registry._dataset_names.cache_info()
    assert (after.hits, after.misses) == (before.hits + 1, before.misses)
    os.utime(meta, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # the file changed: read again
    assert registry.available_datasets() == []


def test_proxy_tables_are_not_datasets(datasets_dir: Path) -> None:
    _write(datasets_dir, "proxies", source=registry.PROXY_SOURCE)
    _write(datasets_dir, "measured")
    assert registry.available_datasets() == ["measured"]
