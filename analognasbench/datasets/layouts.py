"""Accepted on-disk layouts of CIFAR-10 and the detection of which one a path holds.

Detection only looks at names (directory entries or tar member names), never decodes images,
so a wrong path fails fast with an error that lists what would have been accepted.
"""

from __future__ import annotations

from pathlib import Path

from analognasbench.enums import ClosedSet

BATCHES_DIRNAME = "cifar-10-batches-py"
TRAIN_BATCHES: tuple[str, ...] = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
META_FILE = "batches.meta"
TAR_SUFFIXES: tuple[str, ...] = (".tar", ".tar.gz", ".tgz")
IMAGE_SUFFIXES: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".pgm", ".gif", ".tif", ".tiff", ".webp"}
)

ACCEPTED_LAYOUTS = (
    "accepted layouts: (1) torchvision's 'cifar-10-batches-py' directory (data_batch_1..5, test_batch, "
    "optional batches.meta), a directory containing it, or the official cifar-10-python.tar.gz; "
    "(2) an image-folder tree train/<class>/* and test/<class>/* with the same classes in both, "
    "as a directory or a .tar/.tar.gz/.tgz of one (optionally under a single top-level folder)"
)


class SourceLayout(ClosedSet, what="source layout"):
    """The layout a CIFAR-10 source was read from."""

    BATCHES_PY = "cifar-10-batches-py"
    BATCHES_PY_TAR = "cifar-10-batches-py-tar"
    IMAGE_FOLDER = "image-folder"
    IMAGE_FOLDER_TAR = "image-folder-tar"


class DataLayoutError(ValueError):
    """The data at a path is missing, corrupt or not in an accepted layout."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}; {ACCEPTED_LAYOUTS}")


def is_tar_path(path: Path) -> bool:
    """Whether the file name says it is a (possibly gzipped) tar archive."""
    name = path.name.lower()
    return any(name.endswith(s) for s in TAR_SUFFIXES)


def is_image_name(name: str) -> bool:
    """Image files by extension; hidden files (``.DS_Store``, ``._x.jpg``) are skipped."""
    base = name.rsplit("/", 1)[-1]
    return not base.startswith(".") and Path(base).suffix.lower() in IMAGE_SUFFIXES


def find_batches_dir(path: Path) -> Path | None:
    """The ``cifar-10-batches-py`` directory at or directly under ``path``, if any."""
    for candidate in (path, path / BATCHES_DIRNAME):
        if (candidate / TEST_BATCH).is_file() or (candidate / TRAIN_BATCHES[0]).is_file():
            return candidate
    return None


def find_image_folder_root(path: Path) -> Path | None:
    """``path`` or its single sub-directory, whichever holds ``train/`` and ``test/`` folders."""
    if (path / "train").is_dir() or (path / "test").is_dir():
        return path
    subdirs = [p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")]
    if len(subdirs) == 1 and ((subdirs[0] / "train").is_dir() or (subdirs[0] / "test").is_dir()):
        return subdirs[0]
    return None


def detect_directory_layout(path: Path) -> SourceLayout:
    """Layout of a directory source; raises :class:`DataLayoutError` if none matches."""
    if find_batches_dir(path) is not None:
        return SourceLayout.BATCHES_PY
    if find_image_folder_root(path) is not None:
        return SourceLayout.IMAGE_FOLDER
    entries = sorted(p.name for p in path.iterdir())[:10]
    raise DataLayoutError(path, f"directory matches no accepted layout (it contains {entries})")


def clean_member_name(name: str) -> str:
    """Tar member name without leading ``./`` or ``/`` (both occur in hand-made archives)."""
    while name.startswith("./"):
        name = name[2:]
    return name.lstrip("/")


def tar_prefix_for(names: list[str], markers: tuple[str, ...]) -> str | None:
    """The member-name prefix ('' or 'top/') under which any of ``markers`` occurs, if any.

    ``names`` must already be cleaned with :func:`clean_member_name`.
    """
    for clean in names:
        for marker in markers:
            if clean == marker or clean.startswith(marker + "/"):
                return ""
            head, sep, rest = clean.partition("/")
            if sep and (rest == marker or rest.startswith(marker + "/")):
                return head + "/"
    return None


def detect_tar_layout(path: Path, names: list[str]) -> tuple[SourceLayout, str]:
    """Layout and member prefix of a tar source from its member names."""
    bases = {n.rstrip("/").rsplit("/", 1)[-1] for n in names}
    if TEST_BATCH in bases or TRAIN_BATCHES[0] in bases:
        prefix = tar_prefix_for(names, (TEST_BATCH, TRAIN_BATCHES[0]))
        if prefix is not None:
            return SourceLayout.BATCHES_PY_TAR, prefix
    prefix = tar_prefix_for(names, ("train", "test"))
    if prefix is not None:
        return SourceLayout.IMAGE_FOLDER_TAR, prefix
    shown = sorted(names)[:10]
    raise DataLayoutError(path, f"archive matches no accepted layout (first members: {shown})")
