"""The proxy run store: one SQLite row per (architecture, proxy settings, device), committed as it finishes.

The key is ``(arch_index, config_hash, seed, device)``: ``config_hash`` covers the proxy-set version and every
setting of :class:`~analognasbench.predict.config.ProxyConfig`, ``device`` is ``cpu`` or ``cuda`` (floating point
differs between them, so rows of both are kept side by side and compared, never mixed silently). Several
workers write separate store files that :meth:`ProxyStore.merge` combines afterwards.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType

import pandas as pd

from analognasbench.pipeline.store import enable_wal, read_only_uri
from analognasbench.predict.compute import ProxyRow
from analognasbench.predict.config import ProxyConfig

_SCHEMA = """
CREATE TABLE IF NOT EXISTS proxy_rows (
    arch_index INTEGER NOT NULL,
    config_hash TEXT NOT NULL,
    seed INTEGER NOT NULL,
    device TEXT NOT NULL,
    proxy_set_version TEXT NOT NULL,
    values_json TEXT NOT NULL,
    seconds_json TEXT NOT NULL,
    host TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,
    PRIMARY KEY (arch_index, config_hash, seed, device)
);
CREATE TABLE IF NOT EXISTS configs (config_hash TEXT PRIMARY KEY, config_json TEXT NOT NULL);
"""


def _refuse_foreign(path: Path) -> None:
    """Refuse a run store (``anb generate``) or another file before anything is written to it."""
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise ValueError(f"proxy store {path} cannot be read ({exc.strerror or exc})") from None
    if not head:
        return
    if head != b"SQLite format 3\x00":
        raise ValueError(f"{path} is not a proxy store (not an SQLite file)")
    try:
        conn = sqlite3.connect(read_only_uri(path), uri=True)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return  # the opener reports it
    if "runs" in tables and "proxy_rows" not in tables:
        raise ValueError(f"{path} is a run store (anb generate), not a proxy store")
    if tables and "proxy_rows" not in tables:
        raise ValueError(f"{path} is an SQLite file but not a proxy store (tables: {', '.join(sorted(tables))})")


def device_kind(device: str) -> str:
    """``cpu`` or ``cuda`` (the device type; which GPU is not part of the key)."""
    return str(device).split(":")[0]


class ProxyStore:
    """SQLite store of proxy rows; safe to reopen and resume (rows already present are skipped by callers)."""

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        """Open (or create) the store; ``read_only`` opens an existing one with SQLite ``mode=ro`` and changes
        nothing (readers: ``--pending``, ``anb predict --proxies``). A run store or another SQLite file is refused
        before anything is written to it."""
        self.path = Path(path)
        if self.path.is_dir():
            raise ValueError(f"proxy store {self.path} is a directory; expected a .sqlite file")
        if read_only and not self.path.is_file():
            raise ValueError(f"proxy store {self.path} does not exist")
        if self.path.exists():
            _refuse_foreign(self.path)
        if read_only:
            self._db = sqlite3.connect(read_only_uri(self.path), uri=True, timeout=60)
            tables = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "proxy_rows" not in tables:  # an empty file: nothing stored yet, and the schema is not written
                self._db.close()
                self._db = sqlite3.connect(":memory:")
                self._db.executescript(_SCHEMA)
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=60)
        enable_wal(self._db, 60)
        self._db.executescript(_SCHEMA)
        self._db.commit()

    def __enter__(self) -> ProxyStore:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def add(self, row: ProxyRow, config: ProxyConfig, device: str, host: str = "") -> None:
        """Insert (or replace) one architecture's row and commit at once."""
        h = config.hash()
        self._db.execute("INSERT OR IGNORE INTO configs VALUES (?, ?)", (h, json.dumps(config.to_dict())))
        self._db.execute(
            "INSERT OR REPLACE INTO proxy_rows VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (row.arch_index, h, config.seed, device_kind(device), config.to_dict()["proxy_set_version"],
             json.dumps(row.values), json.dumps(row.seconds), host,
             datetime.now(timezone.utc).isoformat(timespec="seconds")))
        self._db.commit()

    def done(self, config: ProxyConfig, device: str | None = None, require: list[str] | None = None) -> set[int]:
        """Architecture indices with a row for ``config`` (on ``device``'s kind, or on any device) that holds
        every proxy of ``require`` (default: any row counts)."""
        q = "SELECT arch_index, values_json FROM proxy_rows WHERE config_hash = ?"
        args: tuple = (config.hash(),)
        if device is not None:
            q += " AND device = ?"
            args += (device_kind(device),)
        need = set(require or ())
        return {int(i) for i, vals in self._db.execute(q, args) if not need or need <= set(json.loads(vals))}

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM proxy_rows").fetchone()[0])

    def frame(self, config: ProxyConfig | None = None) -> pd.DataFrame:
        """All rows (of ``config``): arch_index, device, created, one column per proxy, ``time_<proxy>_s``."""
        q = "SELECT arch_index, config_hash, device, values_json, seconds_json, host, created FROM proxy_rows"
        args: tuple = ()
        if config is not None:
            q += " WHERE config_hash = ?"
            args = (config.hash(),)
        records = []
        for idx, h, dev, vals, secs, host, created in self._db.execute(q, args):
            rec = {"arch_index": idx, "config_hash": h, "device": dev, "host": host, "created": created}
            rec.update(json.loads(vals))
            rec.update({f"time_{k}_s": v for k, v in json.loads(secs).items()})
            records.append(rec)
        return pd.DataFrame.from_records(records)

    def configs(self) -> dict[str, dict]:
        return {h: json.loads(t) for h, t in self._db.execute("SELECT config_hash, config_json FROM configs")}

    def merge(self, other: str | Path) -> tuple[int, int]:
        """Copy rows of another store file in; existing keys are kept. Returns (added, already present)."""
        before = self.count()
        self._db.execute("ATTACH DATABASE ? AS other", (str(other),))
        try:
            total = int(self._db.execute("SELECT COUNT(*) FROM other.proxy_rows").fetchone()[0])
            self._db.execute("INSERT OR IGNORE INTO configs SELECT * FROM other.configs")
            self._db.execute("INSERT OR IGNORE INTO proxy_rows SELECT * FROM other.proxy_rows")
            self._db.commit()
        finally:
            self._db.execute("DETACH DATABASE other")
        added = self.count() - before
        return added, total - added
