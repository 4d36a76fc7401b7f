"""CIFAR-10 loaders on tiny fabricated sources: image folders, archives, batches-py, cache, errors."""

from __future__ import annotations

import hashlib
import io
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from analognasbench.datasets import (
    CIFAR10_CLASSES,
    DataLayoutError,
    download_cifar10,
    load_cifar10,
)

CLASSES = ("cat", "dog", "frog")


def _image(label: int, index: int, size: int = 32) -> np.ndarray:
    """A distinct, reproducible HWC image for (label, index)."""
    rng = np.random.default_rng([label, index, size])
    return rng.integers(0, 256, (size, size, 3), dtype=np.uint8)


def make_image_folder(
    root: Path, n_train: int = 4, n_test: int = 2, size: int = 32, fmt: str = "png"
) -> Path:
    """``root/train/<class>/k.png`` and ``root/test/<class>/k.png`` with known pixels."""
    for split, n, offset in (("train", n_train, 0), ("test", n_test, 100)):
        for label, cls in enumerate(CLASSES):
            folder = root / split / cls
            folder.mkdir(parents=True)
            for k in range(n):
                Image.fromarray(_image(label, offset + k, size)).save(folder / f"{k:03d}.{fmt}")
    return root


def make_tar(src: Path, target: Path, top: str | None = None) -> Path:
    mode = "w:gz" if target.name.endswith(".gz") else "w"
    with tarfile.open(target, mode) as tf:
        for child in sorted(src.iterdir()):
            tf.add(child, arcname=f"{top}/{child.name}" if top else child.name)
    return target


def expected_split(split: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    offset = 0 if split == "train" else 100
    x = np.stack([_image(label, offset + k).transpose(2, 0, 1) for label in range(3) for k in range(n)])
    y = np.repeat(np.arange(3), n)
    return x, y


def check_tiny(data, layout: str) -> None:
    train_x, train_y = expected_split("train", 4)
    test_x, test_y = expected_split("test", 2)
    assert data.classes == CLASSES
    np.testing.assert_array_equal(data.train_x, train_x)
    np.testing.assert_array_equal(data.train_y, train_y)
    np.testing.assert_array_equal(data.test_x, test_x)
    np.testing.assert_array_equal(data.test_y, test_y)
    assert data.train_x.dtype == np.uint8 and data.train_y.dtype == np.int64
    assert data.provenance.layout == layout
    assert data.provenance.note == ""  # PNG is lossless


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def test_image_folder_directory_decodes_exact_pixels_in_sorted_class_order(
    tmp_path: Path, cache: Path
) -> None:
    root = make_image_folder(tmp_path / "tree")
    data = load_cifar10(root, cache_dir=cache)
    check_tiny(data, "image-folder")


@pytest.mark.parametrize("name", ["tiny.tar", "tiny.tar.gz", "tiny.tgz"])
def test_image_folder_archive_gives_the_same_arrays(tmp_path: Path, cache: Path, name: str) -> None:
    tree = make_image_folder(tmp_path / "tree")
    archive = make_tar(tree, tmp_path / name)
    check_tiny(load_cifar10(archive, cache_dir=cache), "image-folder-tar")


def test_archive_with_single_top_level_folder_is_accepted(tmp_path: Path, cache: Path) -> None:
    tree = make_image_folder(tmp_path / "tree")
    archive = make_tar(tree, tmp_path / "wrapped.tar.gz", top="cifar10")
    check_tiny(load_cifar10(archive, cache_dir=cache), "image-folder-tar")


def test_jpeg_source_is_flagged_lossy_in_provenance(tmp_path: Path, cache: Path) -> None:
    root = make_image_folder(tmp_path / "tree", fmt="jpg")
    data = load_cifar10(root, cache_dir=cache)
    assert "JPEG" in data.provenance.note and "JPEG" in data.description
    # Lossy, but close to the encoded pixels.
    train_x, _ = expected_split("train", 4)
    assert np.abs(data.train_x.astype(int) - train_x).mean() < 60


def test_second_load_comes_from_a_cache_keyed_by_the_source_checksum(tmp_path: Path, cache: Path) -> None:
    tree = make_image_folder(tmp_path / "tree")
    archive = make_tar(tree, tmp_path / "tiny.tar.gz")
    first = load_cifar10(archive, cache_dir=cache)
    files = list(cache.iterdir())
    assert len(files) == 1 and files[0].suffix == ".npz"
    assert first.checksum == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert first.checksum[:32] in files[0].name
    # The cache is what is read the second time: remove the source's images from the archive's
    # reach by moving it, and the same checksum still finds the cache.
    moved = tmp_path / "moved.tar.gz"
    archive.rename(moved)
    second = load_cifar10(moved, cache_dir=cache)
    np.testing.assert_array_equal(second.train_x, first.train_x)
    assert second.classes == first.classes and second.provenance.layout == "image-folder-tar"
    assert not [p for p in cache.iterdir() if p.suffix == ".tmp"]


def test_changed_source_is_not_served_stale_cache(tmp_path: Path, cache: Path) -> None:
    tree = make_image_folder(tmp_path / "tree")
    first = load_cifar10(tree, cache_dir=cache)
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(tree / "train" / "cat" / "999.png")
    second = load_cifar10(tree, cache_dir=cache)
    assert second.checksum != first.checksum
    assert len(second.train_y) == len(first.train_y) + 1
    assert len(list(cache.iterdir())) == 2


def test_corrupt_cache_file_is_rebuilt(tmp_path: Path, cache: Path) -> None:
    tree = make_image_folder(tmp_path / "tree")
    load_cifar10(tree, cache_dir=cache)
    (cache_file,) = cache.iterdir()
    cache_file.write_bytes(cache_file.read_bytes()[:100])  # a torn file
    check_tiny(load_cifar10(tree, cache_dir=cache), "image-folder")
    assert np.load(cache_file)["train_x"].shape == (12, 3, 32, 32)


def test_use_cache_false_writes_nothing(tmp_path: Path, cache: Path) -> None:
    tree = make_image_folder(tmp_path / "tree")
    check_tiny(load_cifar10(tree, cache_dir=cache, use_cache=False), "image-folder")
    assert not cache.exists()


def test_env_cache_dir_is_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANB_CACHE_DIR", str(tmp_path / "envcache"))
    load_cifar10(make_image_folder(tmp_path / "tree"))
    assert len(list((tmp_path / "envcache").glob("*.npz"))) == 1


def test_env_cifar10_is_the_default_source(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = make_image_folder(tmp_path / "tree")
    monkeypatch.setenv("ANB_CIFAR10", str(tree))
    check_tiny(load_cifar10(cache_dir=cache), "image-folder")
    monkeypatch.setenv("ANB_CIFAR10", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="ANB_CIFAR10"):
        load_cifar10(cache_dir=cache)


def test_env_shared_without_the_copy_is_reported(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANB_CIFAR10", raising=False)
    monkeypatch.setenv("ANB_SHARED", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"ANB_SHARED=.*data/cifar10-jpeg.tar.gz"):
        load_cifar10(cache_dir=cache)


def test_image_size_16_is_the_2x2_average_of_the_source(tmp_path: Path, cache: Path) -> None:
    tree = make_image_folder(tmp_path / "tree")
    full = load_cifar10(tree, cache_dir=cache)
    small = load_cifar10(tree, cache_dir=cache, image_size=16)
    assert small.train_x.shape == (12, 3, 16, 16)
    block = full.train_x[5, 1, 6:8, 10:12].astype(int)
    assert small.train_x[5, 1, 3, 5] == (block.sum() + 2) // 4
    assert small.provenance.image_size == 16 and small.provenance.native_size == 32
    with pytest.raises(ValueError, match="image_size"):
        load_cifar10(tree, cache_dir=cache, image_size=24)


# --- cifar-10-batches-py -------------------------------------------------------------------------


def make_batches(
    root: Path, per_batch: int = 6, with_meta: bool = True
) -> tuple[Path, np.ndarray, np.ndarray]:
    """A tiny ``cifar-10-batches-py`` directory written like the official pickles."""
    root.mkdir(parents=True)
    rng = np.random.default_rng(7)
    xs, ys = [], []
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, per_batch)]
        with open(root / name, "wb") as fh:
            pickle.dump({b"batch_label": name.encode(), b"labels": labels, b"data": data}, fh, protocol=2)
        xs.append(data.reshape(-1, 3, 32, 32))
        ys.append(np.asarray(labels))
    if with_meta:
        with open(root / "batches.meta", "wb") as fh:
            names = [c.encode() for c in CIFAR10_CLASSES]
            pickle.dump({b"label_names": names, b"num_vis": 3072}, fh, protocol=2)
    return root, np.concatenate(xs), np.concatenate(ys)


def test_batches_py_directory_is_parsed_channel_planes_first(tmp_path: Path, cache: Path) -> None:
    root, x, y = make_batches(tmp_path / "cifar-10-batches-py")
    data = load_cifar10(root, cache_dir=cache)
    np.testing.assert_array_equal(data.train_x, x[:30])
    np.testing.assert_array_equal(data.train_y, y[:30])
    np.testing.assert_array_equal(data.test_x, x[30:])
    np.testing.assert_array_equal(data.test_y, y[30:])
    assert data.classes == CIFAR10_CLASSES and data.provenance.layout == "cifar-10-batches-py"
    # The parent directory (torchvision's "root") works too.
    np.testing.assert_array_equal(load_cifar10(tmp_path, cache_dir=cache).train_x, x[:30])


def test_official_style_tarball_and_download_from_a_local_url(tmp_path: Path, cache: Path) -> None:
    root, x, _ = make_batches(tmp_path / "src" / "cifar-10-batches-py")
    tarball = make_tar(tmp_path / "src", tmp_path / "cifar-10-python.tar.gz")
    data = load_cifar10(tarball, cache_dir=cache)
    assert data.provenance.layout == "cifar-10-batches-py-tar"
    np.testing.assert_array_equal(data.test_x, x[30:])

    md5 = hashlib.md5(tarball.read_bytes()).hexdigest()
    got = download_cifar10(tmp_path / "dl", url=tarball.as_uri(), md5=md5)
    assert got == tmp_path / "dl" / "cifar-10-python.tar.gz" and got.read_bytes() == tarball.read_bytes()
    np.testing.assert_array_equal(load_cifar10(tmp_path / "dl", cache_dir=cache).test_x, x[30:])

    with pytest.raises(ValueError, match="md5"):
        download_cifar10(tmp_path / "bad", url=tarball.as_uri(), md5="0" * 32)
    assert list((tmp_path / "bad").iterdir()) == []  # no partial file left behind


def test_batches_py_without_meta_uses_cifar10_names(tmp_path: Path, cache: Path) -> None:
    root, _, _ = make_batches(tmp_path / "b", with_meta=False)
    assert load_cifar10(root, cache_dir=cache).classes == CIFAR10_CLASSES


def test_missing_batch_file_is_named(tmp_path: Path, cache: Path) -> None:
    root, _, _ = make_batches(tmp_path / "b")
    (root / "data_batch_3").unlink()
    with pytest.raises(DataLayoutError, match="data_batch_3"):
        load_cifar10(root, cache_dir=cache)


def test_batch_pickle_with_foreign_objects_is_refused(tmp_path: Path, cache: Path) -> None:
    root, _, _ = make_batches(tmp_path / "b")
    with open(root / "test_batch", "wb") as fh:
        pickle.dump({b"data": Path("/etc"), b"labels": []}, fh)
    with pytest.raises(DataLayoutError, match="test_batch is not a readable CIFAR batch"):
        load_cifar10(root, cache_dir=cache)


# --- errors --------------------------------------------------------------------------------------


def test_missing_path_is_named(tmp_path: Path, cache: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nowhere.*accepted layouts"):
        load_cifar10(tmp_path / "nowhere", cache_dir=cache)


def test_directory_in_no_layout_lists_accepted_layouts(tmp_path: Path, cache: Path) -> None:
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "readme.txt").write_text("hi")
    with pytest.raises(DataLayoutError, match=r"junk.*accepted layouts.*cifar-10-batches-py.*train/<class>"):
        load_cifar10(tmp_path / "junk", cache_dir=cache)


def test_plain_file_is_rejected(tmp_path: Path, cache: Path) -> None:
    (tmp_path / "data.csv").write_text("1,2")
    with pytest.raises(DataLayoutError, match=r"data.csv.*not a .tar"):
        load_cifar10(tmp_path / "data.csv", cache_dir=cache)


def test_missing_test_split(tmp_path: Path, cache: Path) -> None:
    tree = make_image_folder(tmp_path / "tree")
    for p in sorted((tree / "test").rglob("*"), reverse=True):
        p.unlink() if p.is_file() else p.rmdir()
    (tree / "test").rmdir()
    with pytest.raises(DataLayoutError, match="no test/ folder"):
        load_cifar10(tree, cache_dir=cache)


def test_unequal_class_sets_are_named(tmp_path: Path, cache: Path) -> None:
    tree = make_image_folder(tmp_path / "tree")
    (tree / "test" / "frog").rename(tree / "test" / "toad")
    with pytest.raises(DataLayoutError, match=r"only in train \['frog'\], only in test \['toad'\]"):
        load_cifar10(tree, cache_dir=cache)


def test_empty_class_folder_is_named(tmp_path: Path, cache: Path) -> None:
    tree = make_image_folder(tmp_path / "tree")
    for p in (tree / "train" / "dog").iterdir():
        p.unlink()
    with pytest.raises(DataLayoutError, match=r"without images in train/: \['dog'\]"):
        load_cifar10(tree, cache_dir=cache)


def test_corrupt_jpeg_names_the_image(tmp_path: Path, cache: Path) -> None:
    tree = make_image_folder(tmp_path / "tree", fmt="jpg")
    (tree / "train" / "dog" / "002.jpg").write_bytes(b"\xff\xd8\xff\xe0 definitely not a jpeg")
    with pytest.raises(DataLayoutError, match=r"train/dog/002.jpg.*cannot decode"):
        load_cifar10(tree, cache_dir=cache)


def test_image_of_another_size_is_named(tmp_path: Path, cache: Path) -> None:
    tree = make_image_folder(tmp_path / "tree")
    Image.fromarray(np.zeros((30, 30, 3), np.uint8)).save(tree / "test" / "frog" / "000.png")
    with pytest.raises(DataLayoutError, match=r"test/frog/000.png.*30x30"):
        load_cifar10(tree, cache_dir=cache)


def test_truncated_archive_is_reported(tmp_path: Path, cache: Path) -> None:
    archive = make_tar(make_image_folder(tmp_path / "tree"), tmp_path / "tiny.tar.gz")
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(DataLayoutError, match=r"cut.tar.gz.*cannot read the archive"):
        load_cifar10(cut, cache_dir=cache)


def test_archive_in_no_layout(tmp_path: Path, cache: Path) -> None:
    archive = tmp_path / "other.tar"
    with tarfile.open(archive, "w") as tf:
        info = tarfile.TarInfo("notes/readme.txt")
        payload = b"hello"
        info.size = len(payload)
        tf.addfile(info, io.BytesIO(payload))
    with pytest.raises(DataLayoutError, match=r"other.tar.*no accepted layout"):
        load_cifar10(archive, cache_dir=cache)


def test_image_directly_in_split_folder_is_rejected(tmp_path: Path, cache: Path) -> None:
    tree = make_image_folder(tmp_path / "tree")
    Image.fromarray(_image(0, 0)).save(tree / "train" / "stray.png")
    with pytest.raises(DataLayoutError, match="not in a class folder"):
        load_cifar10(tree, cache_dir=cache)


# --- parallel decoding ---------------------------------------------------------------------------


def _png(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def test_process_pool_decoding_equals_serial_and_keeps_order() -> None:
    from analognasbench.datasets.decode import decode_images

    rng = np.random.default_rng(0)
    arrays = rng.integers(0, 256, (120, 8, 8, 3), dtype=np.uint8)
    items = [(f"img{i}.png", _png(a)) for i, a in enumerate(arrays)]
    serial = decode_images(items, workers=1)
    pooled = decode_images(items, workers=2, chunk_size=25, min_parallel=0)
    np.testing.assert_array_equal(serial, arrays)
    np.testing.assert_array_equal(pooled, arrays)


def test_process_pool_decoding_names_a_corrupt_image() -> None:
    from analognasbench.datasets.decode import ImageDecodeError, decode_images

    items = [(f"img{i}.png", _png(np.zeros((8, 8, 3), np.uint8))) for i in range(60)]
    items[47] = ("img47.png", b"garbage")
    with pytest.raises(ImageDecodeError, match="img47.png"):
        decode_images(items, workers=2, chunk_size=10, min_parallel=0)
