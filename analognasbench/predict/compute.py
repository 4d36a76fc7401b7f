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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import torch

from analognasbench.predict.config import ProxyConfig
from analognasbench.predict.context import ProxyContext
from analognasbench.predict.registry import Proxy, resolve_proxies
from analognasbench.space import ArchLike, parse

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


def compute_row(arch: ArchLike, batches: list[tuple[torch.Tensor, torch.Tensor]], config: ProxyConfig,
                proxies: str | Sequence[str | Proxy] | None = None, device: torch.device | str = "cpu") -> ProxyRow:
    """Every proxy of ``proxies`` (names or :class:`Proxy` objects, see :func:`resolve_proxies`; default: all
    registered; an empty list is refused) for one architecture.

    A proxy that fails numerically (e.g. a singular kernel of a degenerate cell) yields NaN, logged, not an error.
    """
    selected = resolve_proxies(proxies)
    a = parse(arch)
    ctx = ProxyContext.create(a, config, batches, device)
    devices = [torch.device(device)] if torch.device(device).type == "cuda" else []
    values: dict[str, float] = {}
    seconds: dict[str, float] = {}
    for proxy in selected:
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


def compute_many(archs: Iterable[ArchLike], batches: list[tuple[torch.Tensor, torch.Tensor]], config: ProxyConfig,
                 proxies: str | Sequence[str | Proxy] | None = None, device: torch.device | str = "cpu",
                 on_row: Callable[[ProxyRow], None] | None = None,
                 deadline: float | None = None) -> list[ProxyRow]:
    """:func:`compute_row` over ``archs`` in order; ``on_row`` is called after each (e.g. to commit it to a
    store); stops before starting an architecture once ``time.monotonic()`` passes ``deadline``."""
    selected = resolve_proxies(proxies)  # once, and refused before any work
    rows = []
    for arch in archs:
        if deadline is not None and time.monotonic() >= deadline:
            break
        row = compute_row(arch, batches, config, selected, device)
        if on_row is not None:
            on_row(row)
        rows.append(row)
    return rows
