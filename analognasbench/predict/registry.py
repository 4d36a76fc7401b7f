"""The proxy registry: every zero-cost proxy is one function in one file of :mod:`analognasbench.predict.proxies`.

A proxy maps a :class:`~analognasbench.predict.context.ProxyContext` (one architecture's seeded, freshly
initialised network plus the proxy minibatches) to one number. Its values are *estimates computed at
initialisation*, never measurements: exported columns are named ``zc_<name>``.

Bump :data:`PROXY_SET_VERSION` whenever a definition changes, so stored rows of the old definition are not mixed
with new ones (the run store keys rows by this version).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from analognasbench.predict.context import ProxyContext

#: Version of the proxy definitions as a whole; part of every stored row's key.
PROXY_SET_VERSION = "1"
#: Prefix of proxy columns in exported tables (never a measured metric).
COLUMN_PREFIX = "zc_"

ProxyFn = Callable[["ProxyContext"], float]


@dataclass(frozen=True)
class Proxy:
    """One registered proxy: its name, whether it reads images, its sign convention and what it means."""

    name: str
    fn: ProxyFn
    needs_data: bool
    #: +1 if larger values are meant to predict higher accuracy (robustness), -1 if smaller ones are.
    sign: int
    description: str

    @property
    def column(self) -> str:
        return COLUMN_PREFIX + self.name


_REGISTRY: dict[str, Proxy] = {}


def register_proxy(name: str, *, needs_data: bool, sign: int = 1, description: str = "") -> Callable[[ProxyFn], ProxyFn]:
    """Decorator: register ``fn`` as proxy ``name`` (one file per proxy; importing the file registers it)."""
    if sign not in (1, -1):
        raise ValueError(f"sign must be +1 or -1; got {sign!r}")

    def decorate(fn: ProxyFn) -> ProxyFn:
        if name in _REGISTRY and _REGISTRY[name].fn is not fn:
            raise ValueError(f"proxy {name!r} is already registered (by {_REGISTRY[name].fn.__module__})")
        doc = description or (fn.__doc__ or "").strip().splitlines()[0]
        _REGISTRY[name] = Proxy(name, fn, needs_data, sign, doc)
        return fn

    return decorate


def proxy_names() -> list[str]:
    """Names of all registered proxies, in a fixed (registration-independent, sorted) order."""
    _load()
    return sorted(_REGISTRY)


def get_proxy(name: str) -> Proxy:
    """The registered proxy ``name``; ``ValueError`` listing the valid names otherwise."""
    _load()
    key = name[len(COLUMN_PREFIX):] if name.startswith(COLUMN_PREFIX) else name
    try:
        return _REGISTRY[key]
    except KeyError:
        raise ValueError(f"unknown proxy {name!r}; valid proxies: {', '.join(sorted(_REGISTRY))}") from None


def resolve_proxies(names: str | Sequence[str | Proxy] | None) -> list[Proxy]:
    """Proxies from a comma-separated string or a list of names or :class:`Proxy` objects (None or 'all': every
    registered one). An empty selection is refused: it must never quietly mean "all" or "none"."""
    if names is None or names == "all":
        return [get_proxy(n) for n in proxy_names()]
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    if not names:
        raise ValueError("no proxy named; give a comma-separated list or 'all'")
    return [n if isinstance(n, Proxy) else get_proxy(n) for n in names]


def _load() -> None:
    import analognasbench.predict.proxies  # noqa: F401  (importing the package registers every proxy file)
