"""Reading the wanted files of a tar archive in one streaming pass.

A gzipped tar cannot be seeked cheaply, so listing members and then extracting them would
decompress it twice; instead we keep the bytes of the files we need while listing.
"""

from __future__ import annotations

import tarfile
import zlib
from collections.abc import Callable
from pathlib import Path

from .layouts import DataLayoutError, clean_member_name


def read_tar_files(path: Path, keep: Callable[[str], bool]) -> tuple[list[str], dict[str, bytes]]:
    """All member names (cleaned) and the bytes of the regular files for which ``keep(name)``.

    Raises :class:`DataLayoutError` naming the archive when it is truncated or not a tar.
    """
    names: list[str] = []
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r:*") as tf:
            for member in tf:
                name = clean_member_name(member.name)
                names.append(name + ("/" if member.isdir() else ""))
                if member.isfile() and keep(name):
                    handle = tf.extractfile(member)
                    if handle is None:  # pragma: no cover - isfile() members always have data
                        continue
                    files[name] = handle.read()
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise DataLayoutError(path, f"cannot read the archive ({type(exc).__name__}: {exc})") from exc
    return names, files
