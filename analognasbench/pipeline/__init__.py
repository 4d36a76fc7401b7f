"""The measurement pipeline: profiles, and the measurement of one architecture.

Importing this package stays light (no torch): :mod:`analognasbench.bench` imports
:mod:`analognasbench.pipeline.schema` and must load fast. The torch-heavy entry points are re-exported lazily.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY: dict[str, str] = {
    "DatasetName": "profiles",
    "Profile": "profiles",
    "ProfileName": "profiles",
    "QATStage": "profiles",
    "SGDStage": "profiles",
    "get_profile": "profiles",
    "load_profile_file": "profiles",
    "profile_names": "profiles",
    "resolve_profile": "profiles",
    "evaluate_architecture": "measure",
    "load_profile_data": "measure",
    "format_stage_times": "measure",
    "stage_times": "measure",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
