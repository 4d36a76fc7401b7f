"""Reading an image-folder tree ``train/<class>/*``, ``test/<class>/*`` from a directory or tar.

Classes are the sorted folder names (for CIFAR-10 this is the standard label order, airplane=0
... truck=9); images within a class are taken in sorted name order, so the result is identical
on every machine.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from .archive import read_tar_files
from .decode import DecodedSplits, ImageDecodeError, decode_images
from .layouts import DataLayoutError, find_image_folder_root, is_image_name, tar_prefix_for

logger = logging.getLogger(__name__)

SPLITS: tuple[str, str] = ("train", "test")


def group_by_class(source: Path, relnames: list[str]) -> dict[str, dict[str, list[str]]]:
    """``{split: {class: [relative names]}}`` from relative names ``split/class/...``.

    Directory names end in ``/`` so that empty class folders are seen.

    Raises :class:`DataLayoutError` for a missing split, images outside class folders, empty
    class folders or different class sets in train and test.
    """
    groups: dict[str, dict[str, list[str]]] = {s: {} for s in SPLITS}
    seen_split = {s: False for s in SPLITS}
    for rel in relnames:
        is_dir = rel.endswith("/")
        parts = rel.rstrip("/").split("/")
        if parts[0] not in groups:
            continue
        seen_split[parts[0]] = True
        if len(parts) == 1:
            continue
        if len(parts) == 2 and not is_dir:
            if is_image_name(rel):
                raise DataLayoutError(
                    source, f"image {rel} lies directly in {parts[0]}/, not in a class folder"
                )
            continue
        if parts[1].startswith("."):  # hidden folders (.ipynb_checkpoints, ...) are not classes
            continue
        bucket = groups[parts[0]].setdefault(parts[1], [])
        if not is_dir and is_image_name(rel):
            bucket.append(rel)
    for split in SPLITS:
        if not seen_split[split]:
            raise DataLayoutError(source, f"no {split}/ folder")
        if not groups[split]:
            raise DataLayoutError(source, f"{split}/ has no class folders")
        empty = sorted(c for c, files in groups[split].items() if not files)
        if empty:
            raise DataLayoutError(source, f"class folders without images in {split}/: {empty}")
    train_classes, test_classes = set(groups["train"]), set(groups["test"])
    if train_classes != test_classes:
        raise DataLayoutError(
            source,
            "train/ and test/ have different classes: "
            f"only in train {sorted(train_classes - test_classes)}, "
            f"only in test {sorted(test_classes - train_classes)}",
        )
    for split in SPLITS:
        for files in groups[split].values():
            files.sort()
    return groups


def _assemble(
    source: Path,
    groups: dict[str, dict[str, list[str]]],
    payloads: dict[str, bytes],
    workers: int | None,
) -> DecodedSplits:
    classes = tuple(sorted(groups["train"]))
    items: list[tuple[str, bytes]] = []
    labels: dict[str, list[int]] = {s: [] for s in SPLITS}
    for split in SPLITS:
        for label, cls in enumerate(classes):
            for rel in groups[split][cls]:
                items.append((rel, payloads[rel]))
                labels[split].append(label)
    try:
        hwc = decode_images(items, workers=workers)
    except ImageDecodeError as exc:
        raise DataLayoutError(source, f"image {exc.name}: {exc.problem}") from exc
    h, w = hwc.shape[1:3]
    if h != w:
        raise DataLayoutError(source, f"images are {w}x{h}; only square images are supported")
    chw = np.ascontiguousarray(hwc.transpose(0, 3, 1, 2))
    n_train = len(labels["train"])
    lossy = any(Path(rel).suffix.lower() in (".jpg", ".jpeg") for rel, _ in items)
    return DecodedSplits(
        train_x=chw[:n_train],
        train_y=np.asarray(labels["train"], dtype=np.int64),
        test_x=chw[n_train:],
        test_y=np.asarray(labels["test"], dtype=np.int64),
        classes=classes,
        lossy=lossy,
    )


def read_image_folder_dir(path: Path, workers: int | None = None) -> DecodedSplits:
    """Decode an image-folder directory (or the single folder inside ``path`` that is one)."""
    root = find_image_folder_root(path)
    if root is None:
        raise DataLayoutError(path, "no train/ or test/ folder")
    relnames = sorted(p.relative_to(root).as_posix() + ("/" if p.is_dir() else "") for p in root.rglob("*"))
    groups = group_by_class(path, relnames)
    wanted = [rel for split in SPLITS for files in groups[split].values() for rel in files]
    payloads = {rel: (root / rel).read_bytes() for rel in wanted}
    return _assemble(path, groups, payloads, workers)


def read_image_folder_tar(
    path: Path,
    prefix: str,
    names: list[str],
    files: dict[str, bytes],
    workers: int | None = None,
) -> DecodedSplits:
    """Decode an image-folder archive already read by :func:`read_tar_files`."""
    rel = {n[len(prefix) :]: n for n in names if n.startswith(prefix)}
    groups = group_by_class(path, sorted(rel))
    payloads = {r: files[rel[r]] for split in SPLITS for fs in groups[split].values() for r in fs}
    return _assemble(path, groups, payloads, workers)


def read_image_folder_archive(path: Path, workers: int | None = None) -> DecodedSplits:
    """Decode an image-folder ``.tar``/``.tar.gz`` in one pass over the archive."""
    names, files = read_tar_files(path, is_image_name)
    prefix = tar_prefix_for(names, SPLITS)
    if prefix is None:
        raise DataLayoutError(path, "archive has no train/ or test/ folder")
    return read_image_folder_tar(path, prefix, names, files, workers)
