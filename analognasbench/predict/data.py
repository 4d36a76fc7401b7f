"""The proxies' minibatches: a fixed, seeded draw of training images, from CIFAR-10, a packed file, or synthetic.

Proxies read the same images for every architecture. On a machine without CIFAR-10 (a lent GPU) the draw is
carried in a small ``.npz`` made by :func:`pack_proxy_images` (derived from CIFAR-10: never commit it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from analognasbench.pipeline.packed import read_with_header, write_with_header
from analognasbench.predict.config import ProxyConfig

_FORMAT = "analognasbench-proxy-images-v1"


@dataclass(frozen=True)
class ProxyImages:
    """``n_batches`` minibatches of uint8 images ``(n, B, 3, H, W)`` and labels ``(n, B)``, and their source."""

    x: np.ndarray
    y: np.ndarray
    source: str
    checksum: str

    def batches(self, device: torch.device | str = "cpu") -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Normalised float32 minibatches on ``device``."""
        from analognasbench.datasets import normalize

        return [(normalize(torch.from_numpy(xb).to(device)), torch.from_numpy(yb).long().to(device))
                for xb, yb in zip(self.x, self.y)]


def _draw(x: np.ndarray, y: np.ndarray, config: ProxyConfig, source: str, checksum: str) -> ProxyImages:
    if len(x) < config.n_images:
        raise ValueError(f"{source} holds {len(x)} training images; the proxies need {config.n_images}")
    order = np.random.default_rng(config.data_seed).permutation(len(x))[: config.n_images]
    shape = (config.n_batches, config.batch_size)
    return ProxyImages(x[order].reshape(*shape, *x.shape[1:]), y[order].astype(np.int64).reshape(shape),
                       source, checksum)


def cifar10_images(config: ProxyConfig, source: str | Path | None = None) -> ProxyImages:
    """The draw from CIFAR-10's training set (a class-balanced subset of 10x the images needed, then shuffled)."""
    from analognasbench.datasets import load_cifar10

    pool = min(50000, 10 * config.n_images)
    data = load_cifar10(source, image_size=config.image_size, train_subset=pool, test_subset=10,
                        seed=config.data_seed)
    return _draw(data.train_x, data.train_y, config, "cifar10", data.provenance.checksum)


def synthetic_images(config: ProxyConfig) -> ProxyImages:
    """The draw from the generated dataset (:func:`analognasbench.datasets.synthetic`): for tests and smoke runs."""
    from analognasbench.datasets import synthetic

    n = max(config.n_images, config.num_classes)
    data = synthetic(n_train=n, n_test=config.num_classes, image_size=config.image_size,
                     num_classes=config.num_classes, seed=config.data_seed)
    return _draw(data.train_x, data.train_y, config, "synthetic", data.provenance.checksum)


def _key(config: ProxyConfig) -> dict[str, int]:
    return {k: getattr(config, k) for k in ("batch_size", "n_batches", "data_seed", "image_size", "num_classes")}


def pack_proxy_images(images: ProxyImages, config: ProxyConfig, out: str | Path) -> Path:
    """Write ``images`` to ``out`` (.npz) with the settings they were drawn for."""
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = {"format": _FORMAT, "data": _key(config), "source": images.source, "checksum": images.checksum}
    return write_with_header(path, header, x=images.x, y=images.y)


def load_packed_images(path: str | Path, config: ProxyConfig) -> ProxyImages:
    """Read a file from :func:`pack_proxy_images`, refusing one drawn for other settings."""
    p = Path(path)
    header, arrays = read_with_header(p, ("x", "y"), "a packed proxy-image file (make one with 'anb proxies "
                                                    "--pack FILE.npz')")
    x, y = arrays["x"], arrays["y"]
    if header.get("format") != _FORMAT:
        raise ValueError(f"{p}: unknown format {header.get('format')!r}, expected {_FORMAT!r}")
    if header["data"] != _key(config):
        raise ValueError(f"{p} was drawn for {header['data']}, but the proxy settings are {_key(config)}")
    return ProxyImages(x, y, header["source"], header["checksum"])


def load_images(config: ProxyConfig, data: str | Path | None) -> ProxyImages:
    """``data``: 'synthetic', a packed ``.npz``, or a CIFAR-10 source (None: the default CIFAR-10 location)."""
    if data is not None and str(data) == "synthetic":
        return synthetic_images(config)
    if data is not None and str(data).endswith(".npz"):
        return load_packed_images(data, config)
    return cifar10_images(config, data)
