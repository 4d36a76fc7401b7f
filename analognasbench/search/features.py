"""Deprecated home of the cell feature encodings: they moved to :mod:`analognasbench.space.features`.

Kept so that old imports work; every name read from here warns once per call site. ``search`` imports each of its
modules on import (its method registry), so the warning is raised on attribute access, not on import.
"""

from __future__ import annotations

import warnings
from typing import Any

from analognasbench.space import features as _features

_NAMES = ("Encoding", "ONEHOT_DIM", "PATH_DIM", "cell_canonical", "encode")


def __getattr__(name: str) -> Any:
    if name in _NAMES or (name.startswith("_") and hasattr(_features, name) and not name.startswith("__")):
        warnings.warn("analognasbench.search.features is deprecated; import from analognasbench.space.features",
                      DeprecationWarning, stacklevel=2)
        return getattr(_features, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(_NAMES)
