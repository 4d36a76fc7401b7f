"""Strict JSON for everything the project prints or writes: ``null`` where a number is missing, never ``NaN``.

Python's ``json`` writes ``NaN``/``Infinity`` by default, which strict parsers (``jq``, JavaScript's ``JSON.parse``,
Go, Rust) reject. Here every non-finite float becomes ``null`` (missing, in this project's schema: "not published"
or "not measured"), numpy scalars and arrays become plain numbers and lists, and ``allow_nan=False`` guarantees that
nothing non-standard slips through.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np


def to_plain(value: Any) -> Any:
    """``value`` with non-finite floats as None and numpy / enum / path objects as plain JSON types."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, Enum):
        return to_plain(value.value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, Mapping):
        return {str(k) if not isinstance(k, str) else k: to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset, np.ndarray)):
        return [to_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return str(value)


def dumps(value: Any, **kwargs: Any) -> str:
    """``json.dumps`` that always yields standard JSON (see the module docstring)."""
    return json.dumps(to_plain(value), allow_nan=False, **kwargs)
