"""The run store: a crash-safe SQLite (WAL) file holding one row per measured architecture.

Why SQLite: one file, no server, atomic transactions, and several processes can share it. Each finished
architecture is committed in its own transaction, so killing a sweep at any moment loses nothing that finished.

Layout (see ``_SCHEMA``):

* ``meta``: the store's profile (full JSON and hash) and the store format version. A store holds exactly one
  profile; rows or sweeps of another profile are refused with :class:`ProfileMismatchError`.
* ``runs``: keyed by (canonical architecture index, profile hash, seed), with a UNIQUE primary key so no
  architecture can ever appear twice. ``status`` is ``running`` (claimed by a sweep), ``done`` (``row_json`` holds the
  schema row) or ``failed`` (``error`` and ``traceback`` hold why; retried only on request).
* ``owners``: the sweeps that hold claims, with host, pid and a heartbeat. A claim whose owner is dead (same host and
  its pid gone) or silent for longer than the lease is stale and may be taken over, so a killed sweep's claims never
  block the next run, while two live sweeps on one store never measure the same architecture twice.

Copying a store. In WAL mode the newest committed rows live in ``<store>-wal`` until a checkpoint moves them into
the ``.sqlite`` file. So: a sweep checkpoints the WAL when it ends (:meth:`RunStore.release`, ``TRUNCATE``: the
``.sqlite`` file alone then holds everything), and so does an export. Readers open a store read-only
(``read_only=True``, SQLite ``mode=ro``), reading its ``-wal`` where present; a store in a read-only directory whose
``-wal`` cannot be read in place is copied with its ``-wal`` to a temporary directory and read there.

Detecting a copy made without its ``-wal`` (the method). A sweep's owner row is written *and checkpointed into the
.sqlite file* when the sweep starts, and deleted (and checkpointed) when it ends; a later writer prunes the owner
rows of sweeps that died. So a ``.sqlite`` file that lists a sweep as running while no ``-wal`` file is next to it
was copied (or its ``-wal`` lost) between that sweep's start and its end: rows finished in that interval may exist
only in the ``-wal``. :meth:`RunStore.missing_wal_message` says so naming the file, and ``merge_from`` refuses such a
source unless told to take what it holds (``anb merge-store --force``).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import numpy as np
import pandas as pd

from analognasbench.enums import ClosedSet
from analognasbench.pipeline import schema

logger = logging.getLogger(__name__)

STORE_FORMAT = 1
#: A claim whose owner has not sent a heartbeat for this long is stale (seconds).
DEFAULT_LEASE_S = 180.0
#: How long a writer waits for another process's write lock before failing (seconds).
DEFAULT_BUSY_TIMEOUT_S = 120.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    canonical_index INTEGER NOT NULL,
    profile_hash TEXT NOT NULL,
    seed INTEGER NOT NULL,
    arch_index INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    owner TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    claimed_at REAL,
    finished_at REAL,
    row_json TEXT,
    error TEXT,
    traceback TEXT,
    PRIMARY KEY (canonical_index, profile_hash, seed)
);
CREATE INDEX IF NOT EXISTS runs_status ON runs (status);
CREATE TABLE IF NOT EXISTS owners (
    owner TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started REAL NOT NULL,
    heartbeat REAL NOT NULL
);
"""


class RunStatus(ClosedSet, what="run status"):
    """State of one (architecture, profile, seed) in the store."""

    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class StoreError(ValueError):
    """The store cannot be used as asked (wrong file, wrong profile, malformed row)."""


class IncompleteStoreError(StoreError):
    """The store looks like a copy made without its ``-wal`` file: finished rows may be missing from it."""


class ProfileMismatchError(StoreError):
    """The store was created for another profile; mixing would silently combine different fidelities."""


class ProfileLike(Protocol):
    """What the store needs from a profile (``analognasbench.pipeline.profiles.Profile``)."""

    name: str

    def hash(self) -> str: ...

    def to_dict(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class RecordedProfile:
    """A profile as an export recorded it: its dict and the hash its rows carry. Rebuilding a store from an export
    written by an older method version must keep that hash (today's code would hash the same dict differently),
    so the rows merge back and a current sweep still refuses to extend them."""

    name: str
    data: dict[str, Any]
    recorded_hash: str
    #: The measurement procedure's version the rows were measured with, where the export says (schema 1: 1).
    method_version: int | None = None

    def hash(self) -> str:
        return self.recorded_hash

    def to_dict(self) -> dict[str, Any]:
        return dict(self.data)


@dataclass(frozen=True)
class FailureRecord:
    """One failed architecture: enough to reproduce and debug it without rerunning the sweep."""

    canonical_index: int
    arch_index: int
    seed: int
    attempts: int
    error: str
    traceback: str
    finished_at: float


def _json_default(value: Any) -> Any:
    """Make numpy scalars/arrays (which measurement code returns freely) JSON-serialisable."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"row value of type {type(value).__name__} is not JSON-serialisable")


def dumps_row(row: dict[str, Any]) -> str:
    return json.dumps(row, default=_json_default, allow_nan=True)


def _wal_path(path: Path) -> Path:
    return path.with_name(path.name + "-wal")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def enable_wal(conn: sqlite3.Connection, timeout_s: float) -> str:
    """``PRAGMA journal_mode = WAL`` on ``conn``, retried for up to ``timeout_s``; returns the mode SQLite set.

    Two processes creating one store at the same moment (two sweeps started together) can each hold a shared
    lock while asking for the exclusive one the switch needs; SQLite then fails one of them at once with
    "database is locked", without waiting in its busy handler (it avoids the deadlock that way). Retried, the
    switch finds the file in WAL mode already: about 3 in 100 such starts failed before."""
    deadline = time.monotonic() + timeout_s
    delay = 0.005
    while True:
        try:
            return str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        except sqlite3.OperationalError as exc:
            message = str(exc)
            if ("locked" not in message and "busy" not in message) or time.monotonic() + delay > deadline:
                raise
        time.sleep(delay)
        delay = min(2 * delay, 0.25)


def read_only_uri(path: Path) -> str:
    """SQLite URI that reads ``path`` without creating or changing any file. With a ``-wal`` beside it, ``mode=ro``
    (which reads the log); without one, every committed row is in the file itself and ``immutable=1`` reads it
    without creating the ``-wal``/``-shm`` pair that a read-only connection could never remove again (a reader
    such as ``anb pending`` must leave no file behind)."""
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    return uri if _wal_path(path).exists() else uri + "&immutable=1"


def sqlite_tables(path: Path) -> set[str] | None:
    """Table names of the SQLite file ``path`` read without changing it (``mode=ro``); None: not an SQLite file."""
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
    except OSError:
        return None
    if head and head != b"SQLite format 3\x00":
        return None
    if not head:
        return set()  # an empty file: SQLite treats it as an empty database
    try:
        conn = sqlite3.connect(read_only_uri(path), uri=True)
        try:
            return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
    except sqlite3.DatabaseError:  # cannot be read in place (e.g. a read-only directory): the opener decides
        return set()


def _refuse_foreign_sqlite(path: Path, tables: set[str] | None = None) -> None:
    """Refuse a file that is not (or not yet) a run store before anything is written to it. A writer passes the
    ``tables`` it read through its own connection: a second connection opened and closed in the writer's process
    would drop the process's SQLite locks on the file, and other processes would stop seeing its commits."""
    if path.is_dir():
        return
    if tables is None:
        tables = sqlite_tables(path)
    if tables is None:
        raise StoreError(f"{path} is not a usable run store (not an SQLite file)")
    if "proxy_rows" in tables and "runs" not in tables:
        raise StoreError(f"{path} is a proxies store (anb proxies), not a run store")
    if tables and "runs" not in tables:
        raise StoreError(f"{path} is an SQLite file but not a run store (tables: {', '.join(sorted(tables))})")


class RunStore:
    """One SQLite run store file, bound to one profile.

    Open it with :meth:`open` (creates the file and records the profile on first use). One ``RunStore`` object
    is one connection; use it from one thread (open a second one for another thread or process).
    """

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
                 create: bool = True, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None
        if (not create or read_only) and not self.path.exists():
            raise StoreError(f"run store {self.path} does not exist")
        if self.path.is_dir():
            raise StoreError(f"run store path {self.path} is a directory; expected a file such as runs.sqlite")
        # The file is checked through the store's own connection: opening and closing any other descriptor of it
        # in this process (a second SQLite connection, or Python's open) would drop the process's POSIX locks on it,
        # and a concurrent sweep's readers would stop seeing this writer's commits until it closes.
        existed = self.path.exists()
        if read_only:
            self._open_read_only(busy_timeout_s)
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"run store {self.path}: cannot create its directory ({exc.strerror or exc})") from None
        try:
            # isolation_level=None: we issue BEGIN IMMEDIATE ourselves, so a transaction takes the write lock
            # up front instead of upgrading a read lock (which could deadlock two writers).
            self._conn = sqlite3.connect(str(self.path), timeout=busy_timeout_s, isolation_level=None)
            self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
            if existed:  # before WAL mode or the schema change a proxies store's file
                tables = {r[0] for r in self._conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
                try:
                    _refuse_foreign_sqlite(self.path, tables)
                except StoreError:
                    self._conn.close()
                    raise
            mode = enable_wal(self._conn, busy_timeout_s)
            self._conn.execute("PRAGMA synchronous = NORMAL")
            with self._transaction():
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self._conn.execute(statement)
                self._conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('store_format', ?)",
                                   (str(STORE_FORMAT),))
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is not a usable run store (SQLite said: {exc})") from exc
        if mode.lower() != "wal":
            logger.warning("%s: SQLite refused WAL mode (got %s); concurrent sweeps will be slower", self.path, mode)
        self._check_format()
        self._prune_dead_owners()

    def _check_format(self) -> None:
        try:
            fmt = int(self._meta("store_format") or STORE_FORMAT)
        except (sqlite3.DatabaseError, ValueError) as exc:
            raise StoreError(f"{self.path} is not a usable run store ({exc})") from None
        if fmt != STORE_FORMAT:
            raise StoreError(f"{self.path} has store format {fmt}; this version reads format {STORE_FORMAT}")

    def _open_read_only(self, busy_timeout_s: float) -> None:
        """SQLite ``mode=ro`` on the file itself (its ``-wal`` is read too); where that fails (a read-only directory
        in which SQLite cannot open the ``-wal``'s index), a private copy of the file and its ``-wal``."""
        uri = read_only_uri(self.path)
        try:
            self._conn = sqlite3.connect(uri, uri=True, timeout=busy_timeout_s, isolation_level=None)
            self._conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError as exc:
            logger.info("%s: cannot read in place (%s); reading a temporary copy with its -wal", self.path, exc)
            self._conn = self._open_copy(busy_timeout_s)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is not a usable run store (SQLite said: {exc})") from None
        tables = {r[0] for r in self._conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        try:
            _refuse_foreign_sqlite(self.path, tables)
        except StoreError:
            self.close()
            raise
        self._check_format()

    def _open_copy(self, busy_timeout_s: float) -> sqlite3.Connection:
        self._tmpdir = tempfile.TemporaryDirectory(prefix="anb-store-")
        copy = Path(self._tmpdir.name) / self.path.name
        try:
            shutil.copyfile(self.path, copy)
            wal = _wal_path(self.path)
            if wal.exists():
                shutil.copyfile(wal, _wal_path(copy))
            conn = sqlite3.connect(str(copy), timeout=busy_timeout_s, isolation_level=None)
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        except OSError as exc:
            raise StoreError(f"run store {self.path} cannot be read ({exc.strerror or exc}); expected a readable "
                             "SQLite file") from None
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is not a usable run store (SQLite said: {exc})") from None
        return conn

    def checkpoint(self) -> None:
        """Move every committed row from the ``-wal`` into the ``.sqlite`` file and empty the ``-wal`` (TRUNCATE), so
        that the file alone is a complete copy. A no-op on a read-only store; never fails a sweep."""
        if self.read_only:
            return
        try:
            busy, _, _ = self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except sqlite3.DatabaseError as exc:
            logger.warning("%s: WAL checkpoint failed (%s); copy the -wal file along with the store", self.path, exc)
            return
        if busy:
            logger.info("%s: WAL checkpoint incomplete (another connection is reading); the -wal still holds rows",
                        self.path)

    def running_owners(self) -> list[tuple[str, str, int]]:
        """(owner, host, pid) of the sweeps this file lists as writing to it."""
        return [(str(o), str(h), int(p)) for o, h, p in
                self._conn.execute("SELECT owner, host, pid FROM owners ORDER BY started").fetchall()]

    def missing_wal_message(self) -> str | None:
        """Why this file may be a copy made without its ``-wal`` (see the module docstring), or None."""
        wal = _wal_path(self.path)
        if wal.exists() and wal.stat().st_size > 0:
            return None
        owners = self.running_owners()
        if not owners:
            return None
        who = ", ".join(f"pid {pid} on {host}" for _, host, pid in owners[:3])
        return (f"{self.path} lists {len(owners)} sweep(s) as still writing to it ({who}) but has no {wal.name} next "
                f"to it: it looks like a copy made without its write-ahead log, and the rows finished since that "
                f"sweep started may be only in the original's {wal.name}. Copy {self.path.name} together with its "
                f"{wal.name}, or copy it again once that sweep has ended (an ended sweep leaves every row in the "
                ".sqlite file)")

    def _prune_dead_owners(self) -> None:
        """Owner rows of sweeps that died on this host (their claims stay stale as before), so that the copy
        detection above speaks only of sweeps that may still be writing. Owners on other hosts are left alone: only
        their own lease can tell whether they are alive."""
        here = socket.gethostname()
        try:
            with self._transaction():
                dead = [o for o, host, pid in self.running_owners() if host == here and not _pid_alive(pid)]
                for owner in dead:
                    self._conn.execute("DELETE FROM owners WHERE owner = ?", (owner,))
        except sqlite3.DatabaseError as exc:
            logger.debug("%s: could not prune dead owners: %s", self.path, exc)
            return
        if dead:
            self.checkpoint()

    # --- opening and the profile -------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str], profile: ProfileLike, **kwargs: Any) -> RunStore:
        """Open (or create) the store at ``path`` for ``profile``; refuse a store of another profile."""
        store = cls(path, **kwargs)
        try:
            store.bind_profile(profile)
        except BaseException:
            store.close()
            raise
        return store

    def bind_profile(self, profile: ProfileLike) -> None:
        """Record ``profile`` in an empty store, or check that it is the store's profile."""
        profile_hash = profile.hash()
        profile_json = json.dumps(profile.to_dict(), sort_keys=True, default=_json_default)
        with self._transaction():
            self._conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('profile_hash', ?)", (profile_hash,))
            self._conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('profile_name', ?)", (profile.name,))
            self._conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('profile_json', ?)", (profile_json,))
            self._conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('created', ?)",
                               (pd.Timestamp.now(tz="UTC").isoformat(),))
            from analognasbench.pipeline.profiles import METHOD_VERSION

            # an export's hash may come from another method version: record it only where it is known
            version = profile.method_version if isinstance(profile, RecordedProfile) else METHOD_VERSION
            if version is not None:
                self._conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('method_version', ?)",
                                   (str(version),))
        self.check_profile(profile)

    def check_profile(self, profile: ProfileLike) -> None:
        """Raise :class:`ProfileMismatchError` unless ``profile`` is the one this store was created for; the
        message says what differs (settings, or the version of the measurement procedure)."""
        stored = self.profile_hash
        if stored is not None and stored != profile.hash():
            from analognasbench.pipeline.profiles import Profile, explain_hash_mismatch

            why = (explain_hash_mismatch(self.profile_dict, profile, self.method_version)
                   if isinstance(profile, Profile) else "a different profile hash")
            raise ProfileMismatchError(
                f"run store {self.path} holds results of profile {self.profile_name!r} (hash {stored[:12]}) that "
                f"--profile {profile.name!r} (hash {profile.hash()[:12]}) would not reproduce: {why}; use another "
                "--store (a new one starts the sweep afresh; the stored results stay readable with anb quality)"
            )

    @property
    def profile_hash(self) -> str | None:
        return self._meta("profile_hash")

    @property
    def profile_name(self) -> str | None:
        return self._meta("profile_name")

    @property
    def method_version(self) -> int | None:
        """Version of the measurement procedure its rows were measured with, where recorded (stores since 2)."""
        text = self._meta("method_version")
        return int(text) if text and text.isdigit() else None

    @property
    def profile_dict(self) -> dict[str, Any] | None:
        text = self._meta("profile_json")
        return None if text is None else json.loads(text)

    def _meta(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def _require_profile(self) -> str:
        stored = self.profile_hash
        if stored is None:
            raise StoreError(f"run store {self.path} has no profile yet; open it with RunStore.open(path, profile)")
        return stored

    # --- owners (sweeps holding claims) ------------------------------------------------------------------------

    def register_owner(self) -> str:
        """A new owner id for one sweep; its claims stay valid while it is alive and sends heartbeats."""
        owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        now = time.time()
        with self._transaction():
            self._conn.execute("INSERT INTO owners (owner, host, pid, started, heartbeat) VALUES (?, ?, ?, ?, ?)",
                               (owner, socket.gethostname(), os.getpid(), now, now))
        # Into the .sqlite file now: a copy of the file alone made before this sweep ends then says so.
        self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return owner

    def heartbeat(self, owner: str) -> None:
        with self._transaction():
            self._conn.execute("UPDATE owners SET heartbeat = ? WHERE owner = ?", (time.time(), owner))

    def release(self, owner: str) -> int:
        """Give back the owner's unfinished claims (on a clean exit or interrupt); returns how many."""
        with self._transaction():
            # a failure being retried goes back to 'failed' with its old error, never silently dropped
            n = self._conn.execute("UPDATE runs SET status = 'failed', owner = NULL WHERE owner = ? AND "
                                   "status = 'running' AND error IS NOT NULL", (owner,)).rowcount
            n += self._conn.execute("DELETE FROM runs WHERE owner = ? AND status = 'running'", (owner,)).rowcount
            self._conn.execute("DELETE FROM owners WHERE owner = ?", (owner,))
        self.checkpoint()  # the sweep is over: the .sqlite file alone now holds every row
        return n

    def _owner_is_stale(self, owner: str | None, lease_s: float) -> bool:
        if owner is None:
            return True
        row = self._conn.execute("SELECT host, pid, heartbeat FROM owners WHERE owner = ?", (owner,)).fetchone()
        if row is None:
            return True
        host, pid, heartbeat = row
        if host == socket.gethostname() and not _pid_alive(int(pid)):
            return True
        return time.time() - float(heartbeat) > lease_s

    # --- claims and results ------------------------------------------------------------------------------------

    def claim(self, canonical_index: int, arch_index: int, seed: int, owner: str, *, retry_failed: bool = False,
              lease_s: float = DEFAULT_LEASE_S) -> bool:
        """Atomically mark one architecture as being measured by ``owner``.

        True when ``owner`` may measure it: it is new, a failure being retried (``retry_failed``), or held by a
        dead or silent owner. False when it is done, failed (without ``retry_failed``) or held by a live sweep.
        """
        profile_hash = self._require_profile()
        now = time.time()
        with self._transaction():
            row = self._conn.execute(
                "SELECT status, owner FROM runs WHERE canonical_index = ? AND profile_hash = ? AND seed = ?",
                (canonical_index, profile_hash, seed),
            ).fetchone()
            if row is None:
                self._conn.execute(
                    "INSERT INTO runs (canonical_index, profile_hash, seed, arch_index, status, owner, attempts, "
                    "claimed_at) VALUES (?, ?, ?, ?, 'running', ?, 1, ?)",
                    (canonical_index, profile_hash, seed, arch_index, owner, now),
                )
                return True
            status, holder = RunStatus(row[0]), row[1]
            take = (
                (status is RunStatus.FAILED and retry_failed)
                or (status is RunStatus.RUNNING and (holder == owner or self._owner_is_stale(holder, lease_s)))
            )
            if take:
                self._conn.execute(
                    "UPDATE runs SET status = 'running', owner = ?, attempts = attempts + ?, claimed_at = ? "
                    "WHERE canonical_index = ? AND profile_hash = ? AND seed = ?",
                    (owner, 0 if holder == owner and status is RunStatus.RUNNING else 1, now, canonical_index, profile_hash, seed),
                )
            return take

    def record_result(self, row: dict[str, Any], *, owner: str | None = None) -> bool:
        """Commit one finished architecture (a schema row) in one transaction.

        The row must carry this store's profile hash. Returns False (and changes nothing) when the architecture is
        already done: the first finished measurement wins, so a store never holds one architecture twice.
        """
        profile_hash = self._require_profile()
        missing = [c for c in ("arch_index", "canonical_index", "profile_hash", "seed") if c not in row]
        if missing:
            raise StoreError(f"a result row needs the columns {missing} (see analognasbench.pipeline.schema)")
        if row["profile_hash"] != profile_hash:
            raise ProfileMismatchError(
                f"row of architecture {row['arch_index']} was measured with profile hash {str(row['profile_hash'])[:12]}"
                f" but run store {self.path} holds profile {self.profile_name!r} (hash {profile_hash[:12]})"
            )
        key = (int(row["canonical_index"]), profile_hash, int(row["seed"]))
        text = dumps_row(row)
        now = time.time()
        with self._transaction():
            if self._is_done(key):
                return False
            self._conn.execute(
                "INSERT INTO runs (canonical_index, profile_hash, seed, arch_index, status, owner, attempts, "
                "finished_at, row_json) VALUES (?, ?, ?, ?, 'done', ?, 1, ?, ?) "
                "ON CONFLICT (canonical_index, profile_hash, seed) DO UPDATE SET status = 'done', "
                "owner = excluded.owner, finished_at = excluded.finished_at, row_json = excluded.row_json, "
                "error = NULL, traceback = NULL",
                (*key, int(row["arch_index"]), owner, now, text),
            )
            if owner is not None:
                self._conn.execute("UPDATE owners SET heartbeat = ? WHERE owner = ?", (now, owner))
        return True

    def record_failure(self, canonical_index: int, arch_index: int, seed: int, error: str, traceback: str = "", *,
                       owner: str | None = None) -> bool:
        """Store why one architecture failed (never over a finished result); returns False if it is done."""
        profile_hash = self._require_profile()
        key = (canonical_index, profile_hash, seed)
        now = time.time()
        with self._transaction():
            if self._is_done(key):
                return False
            self._conn.execute(
                "INSERT INTO runs (canonical_index, profile_hash, seed, arch_index, status, owner, attempts, "
                "finished_at, error, traceback) VALUES (?, ?, ?, ?, 'failed', ?, 1, ?, ?, ?) "
                "ON CONFLICT (canonical_index, profile_hash, seed) DO UPDATE SET status = 'failed', "
                "owner = excluded.owner, finished_at = excluded.finished_at, error = excluded.error, "
                "traceback = excluded.traceback",
                (*key, arch_index, owner, now, error, traceback),
            )
        return True

    def _is_done(self, key: tuple[int, str, int]) -> bool:
        """Whether run ``(canonical_index, profile_hash, seed)`` is finished; called inside the writing transaction,
        so that a finished result is never overwritten by a later result or failure."""
        current = self._conn.execute(
            "SELECT status FROM runs WHERE canonical_index = ? AND profile_hash = ? AND seed = ?", key
        ).fetchone()
        return current is not None and current[0] == RunStatus.DONE.value

    # --- reading -----------------------------------------------------------------------------------------------

    def status(self, canonical_indices: Iterable[int], seed: int) -> dict[int, RunStatus]:
        """Status of each given architecture that the store knows (absent ones are left out)."""
        profile_hash = self._require_profile()
        wanted = set(int(i) for i in canonical_indices)
        rows = self._conn.execute(
            "SELECT canonical_index, status FROM runs WHERE profile_hash = ? AND seed = ?", (profile_hash, seed)
        ).fetchall()
        return {int(i): RunStatus(s) for i, s in rows if int(i) in wanted}

    def counts(self) -> dict[RunStatus, int]:
        """Number of runs in each status (all seeds)."""
        rows = self._conn.execute("SELECT status, COUNT(*) FROM runs GROUP BY status").fetchall()
        out = {s: 0 for s in RunStatus}
        out.update({RunStatus(s): int(n) for s, n in rows})
        return out

    def failures(self) -> list[FailureRecord]:
        rows = self._conn.execute(
            "SELECT canonical_index, arch_index, seed, attempts, error, traceback, finished_at FROM runs "
            "WHERE status = 'failed' ORDER BY canonical_index, seed"
        ).fetchall()
        return [FailureRecord(int(c), int(a), int(s), int(n), e or "", t or "", float(f or 0.0))
                for c, a, s, n, e, t, f in rows]

    def merge_from(self, other: str | os.PathLike[str] | RunStore, *, allow_incomplete: bool = False) -> tuple[int, int]:
        """Copy the finished rows of another store of the same profile into this one (e.g. a GPU machine's store).

        The source is opened read-only. Rows this store already holds are kept (the first finished measurement wins).
        A source that looks copied without its ``-wal`` is refused unless ``allow_incomplete``. Returns (added,
        already held).
        """
        source = other if isinstance(other, RunStore) else RunStore(other, read_only=True)
        try:
            if source.path.resolve() == self.path.resolve():
                raise StoreError(f"cannot merge run store {self.path} into itself")
            warning = source.missing_wal_message()
            if warning and not allow_incomplete:
                raise IncompleteStoreError(warning + "; or pass --force to merge only what the file holds")
            if warning:
                logger.warning("%s", warning)
            if source.profile_hash != self.profile_hash:
                raise ProfileMismatchError(
                    f"cannot merge {source.path} (profile {source.profile_name!r}, hash {str(source.profile_hash)[:12]})"
                    f" into {self.path} (profile {self.profile_name!r}, hash {str(self.profile_hash)[:12]}): "
                    "rows of different profiles never mix")
            added = held = 0
            for row in source.iter_rows(self.profile_hash):
                if self.record_result(row):
                    added += 1
                else:
                    held += 1
            self.checkpoint()
            return added, held
        finally:
            if source is not other:
                source.close()

    def iter_rows(self, profile_hash: str | None = None) -> Iterator[dict[str, Any]]:
        """The finished rows (schema dicts), by canonical index then seed."""
        profile_hash = profile_hash or self._require_profile()
        cursor = self._conn.execute(
            "SELECT row_json FROM runs WHERE status = 'done' AND profile_hash = ? ORDER BY canonical_index, seed",
            (profile_hash,),
        )
        for (text,) in cursor:
            yield json.loads(text)

    def to_dataframe(self, profile_hash: str | None = None, *, expand_isomorphs: bool = False) -> pd.DataFrame:
        """The finished rows as a DataFrame in schema column order (extra columns kept at the end).

        ``expand_isomorphs`` adds a row for every cell of each measured isomorphism class (copying its class's
        measurement, with that cell's ``arch_index``/``arch``/``arch_str``), e.g. to export all 15,625 cells.
        """
        rows = [schema.upgrade_row(r) for r in self.iter_rows(profile_hash)]  # schema-1 rows: bench/migrate.py
        if expand_isomorphs:
            rows = list(_expand_isomorphs(rows))
        columns = schema.all_columns()
        df = pd.DataFrame(rows)
        if df.empty:
            return pd.DataFrame(columns=columns)
        extra = [c for c in df.columns if c not in columns]
        df = df.reindex(columns=columns + extra)
        return df.sort_values(["arch_index", "seed"], kind="stable").reset_index(drop=True)

    def __len__(self) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM runs WHERE status = 'done'").fetchone()[0])

    def integrity_check(self) -> str:
        """SQLite's own consistency check: ``"ok"`` for a healthy file."""
        return str(self._conn.execute("PRAGMA integrity_check").fetchone()[0])

    # --- plumbing ----------------------------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        if self.read_only:
            raise StoreError(f"run store {self.path} was opened read-only")
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def close(self) -> None:
        self._conn.close()
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RunStore({str(self.path)!r}, profile={self.profile_name!r})"


def _expand_isomorphs(rows: Sequence[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    from analognasbench.space import canonical_index, from_index
    from analognasbench.space.ops import NUM_ARCHITECTURES

    by_class: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        by_class.setdefault(int(row["canonical_index"]), []).append(row)
    for index in range(NUM_ARCHITECTURES):
        for row in by_class.get(canonical_index(index), ()):
            arch = from_index(index)
            yield {**row, "arch_index": index, "arch": str(arch), "arch_str": arch.nb201_str}
