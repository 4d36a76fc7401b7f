"""``load_cifar10``: find, decode (once, cached), reduce and describe CIFAR-10.

A source is a directory or archive in one of the layouts listed in
:data:`~analognasbench.datasets.layouts.ACCEPTED_LAYOUTS`. The decoded full-resolution arrays are
cached under the user cache directory, keyed by the source's sha256; down-sampling and subsets
are applied after loading the cache, as they are cheap and deterministic.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import numpy as np

from .archive import read_tar_files
from .batches_py import (
    CIFAR10_TARBALL,
    download_cifar10,
    is_batch_name,
    read_batches_archive,
    read_batches_dir,
)
from .cache import default_cache_dir, directory_fingerprint, load_arrays, save_arrays_atomic, sha256_file
from .decode import DecodedSplits
from .image_data import DataProvenance, ImageData
from .image_folder import read_image_folder_dir, read_image_folder_tar
from .layouts import (
    ACCEPTED_LAYOUTS,
    DataLayoutError,
    SourceLayout,
    detect_directory_layout,
    detect_tar_layout,
    find_batches_dir,
    find_image_folder_root,
    is_image_name,
    is_tar_path,
)
from .preprocess import downsample, stratified_indices, subset_rngs

logger = logging.getLogger(__name__)

CIFAR10_ENV = "ANB_CIFAR10"
SHARED_ENV = "ANB_SHARED"
SHARED_RELPATH = Path("data") / "cifar10-jpeg.tar.gz"
CACHE_FORMAT = 1
"""Bump when the decoded layout changes, so old cache files are not reused."""

JPEG_NOTE = (
    "images re-encoded as JPEG: pixel values differ slightly from the original CIFAR-10 release, "
    "so accuracies may differ a little from results on the original files"
)


def _repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


def default_cifar10_path() -> Path | None:
    """The CIFAR-10 source used when none is given, or ``None`` if there is none.

    Looks at ``$ANB_CIFAR10``, then ``$ANB_SHARED/data/cifar10-jpeg.tar.gz``, then the shared copy
    ``../shared/data/cifar10-jpeg.tar.gz`` beside the project checkout. An environment variable
    that names a missing path raises :class:`FileNotFoundError` instead of being skipped silently.
    """
    env = os.environ.get(CIFAR10_ENV)
    if env:
        path = Path(env).expanduser()
        if not path.exists():
            raise FileNotFoundError(f"{CIFAR10_ENV}={env} does not exist; {ACCEPTED_LAYOUTS}")
        return path
    shared_env = os.environ.get(SHARED_ENV)
    if shared_env:
        path = Path(shared_env).expanduser() / SHARED_RELPATH
        if not path.exists():
            raise FileNotFoundError(f"{SHARED_ENV}={shared_env} has no {SHARED_RELPATH}")
        return path
    shared = _repo_root().parent / "shared" / SHARED_RELPATH
    return shared if shared.is_file() else None


def _resolve_source(source: str | Path | None, download: bool, cache_dir: Path) -> Path:
    if source is None:
        found = default_cifar10_path()
        if found is not None:
            return found
        if (cache_dir / CIFAR10_TARBALL).is_file():  # fetched by an earlier download=True call
            return cache_dir / CIFAR10_TARBALL
        if download:
            return download_cifar10(cache_dir)
        raise FileNotFoundError(
            f"no CIFAR-10 source given and none found: set {CIFAR10_ENV} to a CIFAR-10 copy, place the shared "
            f"copy at {_repo_root().parent / 'shared' / SHARED_RELPATH}, or pass download=True to fetch the "
            f"official release; {ACCEPTED_LAYOUTS}"
        )
    path = Path(source).expanduser()
    if download and not path.exists() and path.name == CIFAR10_TARBALL:
        return download_cifar10(path.parent)
    if download and (not path.exists() or (path.is_dir() and not _directory_has_data(path))):
        return download_cifar10(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist; {ACCEPTED_LAYOUTS}")
    if path.is_dir() and not _directory_has_data(path) and (path / CIFAR10_TARBALL).is_file():
        return path / CIFAR10_TARBALL
    return path


def _directory_has_data(path: Path) -> bool:
    return find_batches_dir(path) is not None or find_image_folder_root(path) is not None


_CHECKSUMS: dict[tuple[str, int, int], str] = {}
"""Per-process memo of file checksums keyed by (path, size, mtime): a tarball is hashed once."""


def _fingerprint(path: Path) -> str:
    if path.is_dir():
        return directory_fingerprint(path)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _CHECKSUMS:
        _CHECKSUMS[key] = sha256_file(path)
    return _CHECKSUMS[key]


def _decode_source(path: Path, workers: int | None) -> tuple[SourceLayout, DecodedSplits]:
    if path.is_dir():
        layout = detect_directory_layout(path)
        if layout is SourceLayout.BATCHES_PY:
            return layout, read_batches_dir(path)
        return layout, read_image_folder_dir(path, workers=workers)
    if not is_tar_path(path):
        raise DataLayoutError(path, "is a file but not a .tar, .tar.gz or .tgz archive")
    names, files = read_tar_files(path, lambda n: is_image_name(n) or is_batch_name(n))
    layout, prefix = detect_tar_layout(path, names)
    if layout is SourceLayout.BATCHES_PY_TAR:
        return layout, read_batches_archive(path, names, files)
    return layout, read_image_folder_tar(path, prefix, names, files, workers=workers)


_ARRAYS = ("train_x", "train_y", "test_x", "test_y", "classes", "layout", "lossy")


def decode_cached(
    path: Path, cache_dir: Path | None = None, workers: int | None = None, use_cache: bool = True
) -> tuple[str, SourceLayout, DecodedSplits]:
    """Checksum, layout and full-resolution arrays of a source, decoding only on a cache miss."""
    cache_dir = default_cache_dir() if cache_dir is None else Path(cache_dir)
    checksum = _fingerprint(path)
    cache_file = cache_dir / f"cifar10-{checksum[:32]}-v{CACHE_FORMAT}.npz"
    if use_cache:
        cached = load_arrays(cache_file, _ARRAYS)
        if cached is not None:
            logger.debug("loaded decoded CIFAR-10 from %s", cache_file)
            return (
                checksum,
                SourceLayout.parse(str(cached["layout"])),
                DecodedSplits(
                    train_x=cached["train_x"],
                    train_y=cached["train_y"],
                    test_x=cached["test_x"],
                    test_y=cached["test_y"],
                    classes=tuple(str(c) for c in cached["classes"]),
                    lossy=bool(cached["lossy"]),
                ),
            )
    start = time.perf_counter()
    layout, splits = _decode_source(path, workers)
    logger.info(
        "decoded %d+%d images from %s (%s) in %.1f s",
        len(splits.train_y),
        len(splits.test_y),
        path,
        layout.value,
        time.perf_counter() - start,
    )
    if use_cache:
        try:
            _save(cache_file, layout, splits)
        except OSError as exc:
            logger.warning("could not write the cache file %s (%s); continuing without it", cache_file, exc)
    return checksum, layout, splits


def _save(cache_file: Path, layout: SourceLayout, splits: DecodedSplits) -> None:
    save_arrays_atomic(
        cache_file,
        {
            "train_x": splits.train_x,
            "train_y": splits.train_y,
            "test_x": splits.test_x,
            "test_y": splits.test_y,
            "classes": np.asarray(splits.classes, dtype=str),
            "layout": np.asarray(layout.value),
            "lossy": np.asarray(splits.lossy),
        },
    )
    logger.info("cached decoded arrays in %s", cache_file)


def load_cifar10(
    source: str | Path | None = None,
    *,
    image_size: int = 32,
    train_subset: int | None = None,
    test_subset: int | None = None,
    seed: int = 0,
    cache_dir: str | Path | None = None,
    download: bool = False,
    workers: int | None = None,
    use_cache: bool = True,
) -> ImageData:
    """Load CIFAR-10 as uint8 arrays, decoding the source once into the cache.

    Args:
        source: directory or archive in an accepted layout; ``None`` uses
            :func:`default_cifar10_path`.
        image_size: 32 (native) or a divisor of it such as 16 (2x2 box average).
        train_subset / test_subset: class-balanced subset sizes (``None`` keeps the whole split).
        seed: seed of the subset draw; the same seed gives the same (nested) subsets.
        cache_dir: where decoded arrays are kept (default ``$ANB_CACHE_DIR`` or
            ``~/.cache/analognasbench``); the official tarball is downloaded here when
            ``source`` is ``None`` and ``download`` is true.
        download: fetch the official ``cifar-10-python.tar.gz`` (md5-checked) when ``source``
            has no data; never happens otherwise.
        workers: decoding processes (default up to 2).
        use_cache: read and write the decoded-array cache.
    """
    cache_path = default_cache_dir() if cache_dir is None else Path(cache_dir).expanduser()
    path = _resolve_source(source, download, cache_path)
    checksum, layout, splits = decode_cached(path, cache_path, workers=workers, use_cache=use_cache)
    num_classes = len(splits.classes)
    train_x, train_y, test_x, test_y = splits.train_x, splits.train_y, splits.test_x, splits.test_y
    train_rng, test_rng = subset_rngs(seed)
    if train_subset is not None:
        idx = stratified_indices(train_y, train_subset, num_classes, train_rng)
        train_x, train_y = train_x[idx], train_y[idx]
    if test_subset is not None:
        idx = stratified_indices(test_y, test_subset, num_classes, test_rng)
        test_x, test_y = test_x[idx], test_y[idx]
    native = splits.train_x.shape[-1]
    try:
        train_x, test_x = downsample(train_x, image_size), downsample(test_x, image_size)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    provenance = DataProvenance(
        name="cifar10",
        layout=layout.value,
        path=str(path),
        checksum=checksum,
        image_size=image_size,
        native_size=native,
        n_train=len(train_y),
        n_test=len(test_y),
        n_train_full=len(splits.train_y),
        n_test_full=len(splits.test_y),
        seed=seed,
        note=JPEG_NOTE if splits.lossy else "",
    )
    return ImageData(
        train_x=train_x,
        train_y=train_y,
        test_x=test_x,
        test_y=test_y,
        classes=splits.classes,
        provenance=provenance,
    )
