"""Cheap predictors of analog robustness: zero-cost proxies at initialisation, few-label surrogates, evaluation.

* :mod:`~analognasbench.predict.proxies`: one file per proxy, registered by name (``proxy_names()``); values are
  computed by this project at initialisation (:class:`ProxyConfig`) and exported as ``zc_<name>`` columns of the
  embedded dataset ``proxies-cifar10`` -- estimates, never measurements.
* :mod:`~analognasbench.predict.store` / :mod:`~analognasbench.predict.export`: the resumable SQLite run store
  and the export to an embedded dataset.
* :mod:`~analognasbench.predict.surrogates` / :mod:`~analognasbench.predict.evaluate`: few-label models and their
  agreement with the release.

>>> from analognasbench.predict import ProxyConfig, compute_row, proxy_names, synthetic_images
>>> cfg = ProxyConfig(C=4, N=1)
>>> row = compute_row("123123", synthetic_images(cfg).batches(), cfg)  # doctest: +SKIP
"""

from analognasbench.predict.compute import ProxyRow, compute_many, compute_row
from analognasbench.predict.config import ProxyConfig
from analognasbench.predict.data import (
    ProxyImages,
    cifar10_images,
    load_images,
    load_packed_images,
    pack_proxy_images,
    synthetic_images,
)
from analognasbench.predict.registry import (
    COLUMN_PREFIX,
    PROXY_SET_VERSION,
    Proxy,
    get_proxy,
    proxy_names,
    register_proxy,
    resolve_proxies,
)
from analognasbench.predict.store import ProxyStore

__all__ = [
    "COLUMN_PREFIX",
    "PROXY_SET_VERSION",
    "Proxy",
    "ProxyConfig",
    "ProxyImages",
    "ProxyRow",
    "ProxyStore",
    "cifar10_images",
    "compute_many",
    "compute_row",
    "get_proxy",
    "load_images",
    "load_packed_images",
    "pack_proxy_images",
    "proxy_names",
    "register_proxy",
    "resolve_proxies",
    "synthetic_images",
]
