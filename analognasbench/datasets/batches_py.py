"""torchvision's ``cifar-10-batches-py`` layout: parsing it, and downloading the official tarball.

The batch files are Python pickles. Unpickling can run arbitrary code, so they are read with an
unpickler that only admits what a numpy array inside a dict needs; anything else is rejected.
"""

from __future__ import annotations

import io
import logging
import os
import pickle
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

from .cache import md5_file
from .decode import DecodedSplits
from .image_data import CIFAR10_CLASSES
from .layouts import (
    BATCHES_DIRNAME,
    META_FILE,
    TEST_BATCH,
    TRAIN_BATCHES,
    DataLayoutError,
    find_batches_dir,
    tar_prefix_for,
)

logger = logging.getLogger(__name__)

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
CIFAR10_TARBALL = "cifar-10-python.tar.gz"
BATCH_FILES: tuple[str, ...] = (*TRAIN_BATCHES, TEST_BATCH)

_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),
}


class _ArrayOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a CIFAR batch file")
        if module == "numpy.core.multiarray":  # pickles written before numpy 2
            module = "numpy._core.multiarray" if hasattr(np, "_core") else module
        return super().find_class(module, name)


def _unpickle(path: Path, name: str, payload: bytes) -> dict[Any, Any]:
    try:
        obj = _ArrayOnlyUnpickler(io.BytesIO(payload), encoding="bytes").load()
    except Exception as exc:  # any failure here means a corrupt or foreign file
        raise DataLayoutError(
            path, f"{name} is not a readable CIFAR batch ({type(exc).__name__}: {exc})"
        ) from exc
    if not isinstance(obj, dict):
        raise DataLayoutError(path, f"{name} holds a {type(obj).__name__}, expected a dict")
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in obj.items()}


def _batch_arrays(path: Path, name: str, payload: bytes) -> tuple[np.ndarray, np.ndarray]:
    batch = _unpickle(path, name, payload)
    if "data" not in batch or not ("labels" in batch or "fine_labels" in batch):
        raise DataLayoutError(path, f"{name} lacks 'data' or 'labels' (keys: {sorted(map(str, batch))})")
    data = np.asarray(batch["data"])
    labels = np.asarray(batch.get("labels", batch.get("fine_labels")), dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise DataLayoutError(path, f"{name}: 'data' is {data.dtype} {data.shape}, expected uint8 (N, 3072)")
    if labels.shape != (data.shape[0],):
        raise DataLayoutError(path, f"{name}: {labels.shape[0]} labels for {data.shape[0]} images")
    # Each row holds the red, green and blue 32x32 planes in turn, i.e. CHW order already.
    return data.reshape(-1, 3, 32, 32), labels


def _class_names(path: Path, payloads: dict[str, bytes]) -> tuple[str, ...]:
    if META_FILE not in payloads:
        return CIFAR10_CLASSES
    meta = _unpickle(path, META_FILE, payloads[META_FILE])
    names = meta.get("label_names")
    if not isinstance(names, list) or not names:
        raise DataLayoutError(path, f"{META_FILE} has no 'label_names' list")
    return tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names)


def parse_batches(path: Path, payloads: dict[str, bytes]) -> DecodedSplits:
    """Turn the batch files' bytes (keyed by base name) into decoded splits."""
    missing = [n for n in BATCH_FILES if n not in payloads]
    if missing:
        raise DataLayoutError(path, f"cifar-10-batches-py layout is missing {missing}")
    classes = _class_names(path, payloads)
    train = [_batch_arrays(path, n, payloads[n]) for n in TRAIN_BATCHES]
    test_x, test_y = _batch_arrays(path, TEST_BATCH, payloads[TEST_BATCH])
    train_y = np.concatenate([y for _, y in train])
    for split, y in (("train", train_y), ("test", test_y)):
        if y.size and (y.min() < 0 or y.max() >= len(classes)):
            raise DataLayoutError(path, f"{split} labels fall outside 0..{len(classes) - 1}")
    return DecodedSplits(
        train_x=np.ascontiguousarray(np.concatenate([x for x, _ in train])),
        train_y=train_y,
        test_x=np.ascontiguousarray(test_x),
        test_y=test_y,
        classes=classes,
        lossy=False,
    )


def read_batches_dir(path: Path) -> DecodedSplits:
    """Parse a ``cifar-10-batches-py`` directory (or a directory containing one)."""
    root = find_batches_dir(path)
    if root is None:
        raise DataLayoutError(path, f"no {BATCHES_DIRNAME} batch files")
    payloads = {n: (root / n).read_bytes() for n in (*BATCH_FILES, META_FILE) if (root / n).is_file()}
    return parse_batches(path, payloads)


def read_batches_archive(path: Path, names: list[str], files: dict[str, bytes]) -> DecodedSplits:
    """Parse the batch files of an archive read by :func:`read_tar_files` (e.g. the official tarball)."""
    prefix = tar_prefix_for(names, (TEST_BATCH, TRAIN_BATCHES[0]))
    if prefix is None:
        raise DataLayoutError(path, "archive holds no CIFAR batch files")
    payloads = {n[len(prefix) :]: b for n, b in files.items() if n.startswith(prefix)}
    return parse_batches(path, payloads)


def is_batch_name(name: str) -> bool:
    """Whether a tar member is one of the batch files (the rest need not be read)."""
    return name.rsplit("/", 1)[-1] in (*BATCH_FILES, META_FILE)


def download_cifar10(root: Path, url: str = CIFAR10_URL, md5: str = CIFAR10_MD5) -> Path:
    """Download the official CIFAR-10 python tarball into ``root`` unless a verified copy is there.

    The file is fetched to a temporary name, its md5 checked, then renamed, so an interrupted or
    tampered download never appears as ``cifar-10-python.tar.gz``.
    """
    root.mkdir(parents=True, exist_ok=True)
    target = root / CIFAR10_TARBALL
    if target.is_file():
        if md5_file(target) == md5:
            return target
        raise ValueError(f"{target} exists but its md5 is not {md5}; delete it to download again")
    logger.info("downloading %s to %s", url, target)
    fd, tmp_name = tempfile.mkstemp(dir=root, prefix=CIFAR10_TARBALL + ".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            while chunk := response.read(1 << 20):
                out.write(chunk)
        got = md5_file(Path(tmp_name))
        if got != md5:
            raise ValueError(f"download from {url} has md5 {got}, expected {md5}")
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return target
