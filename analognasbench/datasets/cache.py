"""The on-disk cache of decoded datasets: checksums, location and crash-safe writes.

Decoding 60,000 JPEGs takes seconds; loading the decoded uint8 arrays takes a fraction of that.
Cache files are keyed by the source's checksum, so a changed source is never served stale data,
and are written to a temporary file then renamed, so an interrupted write never leaves a file
that looks valid.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

CACHE_ENV = "ANB_CACHE_DIR"
_CHUNK = 1 << 20


def default_cache_dir() -> Path:
    """``$ANB_CACHE_DIR`` if set, else ``~/.cache/analognasbench`` (or under ``$XDG_CACHE_HOME``)."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "analognasbench"


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def md5_file(path: Path) -> str:
    """Hex md5 of a file's bytes (the official CIFAR-10 tarball is published with an md5)."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def directory_fingerprint(root: Path) -> str:
    """sha256 over the sorted relative names and sizes of all files under ``root``.

    Cheap (no file contents are read) and changes whenever a file is added, removed, renamed
    or changes size; an in-place edit that keeps the size is not detected.
    """
    digest = hashlib.sha256()
    entries = sorted(
        (p.relative_to(root).as_posix(), p.stat().st_size) for p in root.rglob("*") if p.is_file()
    )
    for name, size in entries:
        digest.update(f"{name}\0{size}\n".encode())
    return digest.hexdigest()


def save_arrays_atomic(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write an uncompressed ``.npz`` via a temporary file in the same directory plus rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp_name, 0o644)  # mkstemp creates 0600; a cache is as readable as other user files
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def load_arrays(path: Path, required: tuple[str, ...]) -> dict[str, np.ndarray] | None:
    """The arrays of a cache file, or ``None`` (and the file removed) if it is unreadable."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in required if k not in npz.files]
            if missing:
                raise ValueError(f"missing arrays {missing}")
            return {k: npz[k] for k in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        logger.warning("ignoring unreadable cache file %s (%s); it will be rebuilt", path, exc)
        path.unlink(missing_ok=True)
        return None
