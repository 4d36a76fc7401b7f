"""Computing proxies for many architectures in one process: seeded, timed, one architecture at a time.

Each proxy runs inside ``torch.random.fork_rng`` with the global seed set from the config's seed and the
architecture's index, so nothing a proxy draws from the global RNG leaks into the next one and a value never
depends on which proxies ran before it. The network itself is drawn from an explicit generator
(:meth:`ProxyContext.network`).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import torch

from analognasbench.predict.config import ProxyConfig
from analognasbench.predict.context import ProxyContext
from analognasbench.predict.registry import Proxy, resolve_proxies
from analognasbench.space import parse

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProxyRow:
    """The proxies of one architecture: values by proxy name, and the seconds each took."""

    arch_index: int
    values: dict[str, float]
    seconds: dict[str, float]

    @property
    def total_s(self) -> float:
        return sum(self.seconds.values())


def compute_row(arch: Any, batches: list[tuple[torch.Tensor, torch.Tensor]], config: ProxyConfig,
                proxies: list[Proxy] | None = None, device: torch.device | str = "cpu") -> ProxyRow:
    """Every proxy of ``proxies`` (default: all registered) for one architecture.

    A proxy that fails numerically (e.g. a singular kernel of a degenerate cell) yields NaN, logged, not an error.
    """
    a = parse(arch)
    ctx = ProxyContext.create(a, config, batches, device)
    devices = [torch.device(device)] if torch.device(device).type == "cuda" else []
    values: dict[str, float] = {}
    seconds: dict[str, float] = {}
    for proxy in proxies or resolve_proxies(None):
        start = time.perf_counter()
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(config.seed * 100_003 + a.index)
            try:
                value = float(proxy.fn(ctx))
            except (RuntimeError, FloatingPointError, ValueError, ZeroDivisionError) as exc:
                log.warning("proxy %s failed on %s: %s", proxy.name, a.short, exc)
                value = math.nan
        if torch.device(device).type == "cuda":
            torch.cuda.synchronize()
        values[proxy.name] = value
        seconds[proxy.name] = time.perf_counter() - start
    return ProxyRow(a.index, values, seconds)


def compute_many(archs: Iterable[Any], batches: list[tuple[torch.Tensor, torch.Tensor]], config: ProxyConfig,
                 proxies: list[Proxy] | None = None, device: torch.device | str = "cpu",
                 on_row: Callable[[ProxyRow], None] | None = None,
                 deadline: float | None = None) -> list[ProxyRow]:
    """:func:`compute_row` over ``archs`` in order; ``on_row`` is called after each (e.g. to commit it to a
    store); stops before starting an architecture once ``time.monotonic()`` passes ``deadline``."""
    rows = []
    for arch in archs:
        if deadline is not None and time.monotonic() >= deadline:
            break
        row = compute_row(arch, batches, config, proxies, device)
        if on_row is not None:
            on_row(row)
        rows.append(row)
    return rows
