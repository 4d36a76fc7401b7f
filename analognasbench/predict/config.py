"""How proxies are computed: the network, the seeds, the minibatches and the simulated chip (one frozen dataclass)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from analognasbench.predict.registry import PROXY_SET_VERSION


@dataclass(frozen=True)
class ProxyConfig:
    """Everything a proxy value depends on besides the architecture and the device.

    Defaults are the shipped table's settings (``proxies-cifar10``): the NAS-Bench-201 network at C=8, N=1
    (10 classes, 32x32 CIFAR-10 images) at initialisation, one minibatch of 32 training images, and the paper's PCM
    chip read at t = 0 and after one day. That costs about 0.75 s per class on one core, against 13.5 s for the
    release's network (C=16, N=5) with 64 images, whose proxies were computed on a sample of classes
    (``proxies-cifar10-c16n5-sample``) to measure what the smaller network changes (DATASET.md).
    """

    #: Seed of the weight initialisation (``build_network(generator=...)``), the same for every architecture.
    seed: int = 0
    #: Images per minibatch.
    batch_size: int = 32
    #: Minibatches (drawn once from the training set, the same for every architecture).
    n_batches: int = 1
    #: Seed of the image draw (class-balanced subset of the training set, then a seeded shuffle).
    data_seed: int = 0
    C: int = 8
    N: int = 1
    num_classes: int = 10
    image_size: int = 32
    #: Hardware preset of the AIMC proxies (:mod:`analognasbench.analog.presets`).
    hardware_preset: str = "pcm_paper"
    #: Chip seed of the AIMC proxies' programming.
    chip_seed: int = 0
    #: Seconds after programming of the AIMC proxies' drifted read (one day, the paper's search objective).
    drift_time_s: float = 86400.0

    def __post_init__(self) -> None:
        for name in ("batch_size", "n_batches", "C", "N", "num_classes", "image_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"ProxyConfig.{name} must be a positive integer; got {value!r}")
        if self.batch_size < 2:
            raise ValueError(f"ProxyConfig.batch_size must be >= 2 (jacov and nwot compare images); got {self.batch_size}")
        if not self.drift_time_s >= 0:
            raise ValueError(f"ProxyConfig.drift_time_s must be >= 0 seconds; got {self.drift_time_s!r}")

    @property
    def n_images(self) -> int:
        return self.batch_size * self.n_batches

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "proxy_set_version": PROXY_SET_VERSION}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProxyConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def describe(self) -> str:
        """The settings in words (for tables and reports)."""
        return (f"NAS-Bench-201 network C={self.C} N={self.N}, weight seed {self.seed}, {self.n_batches} minibatch(es) "
                f"of {self.batch_size} CIFAR-10 training images (draw seed {self.data_seed})")

    def hash(self) -> str:
        """Short hash of the settings (and the proxy set version): the key of stored rows besides arch and device."""
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]
