"""``DriftMeasurement``: a mean and its spread over R programmings, as the original release returned drift metrics.

Compatible with the original class (``value``, ``uncertainty``, prints ``"v ± u"``; everything the original
offered behaves the same) and, beyond it, usable where scripts treat it as a number. One model:

* **As a number it is its mean.** It orders against measurements and numbers by the mean (``sorted``, ``max``,
  ``d > 80``), converts by it (``float(d)``, ``int(d)``, ``round(d)``, ``bool(d)``: False only for a mean of 0),
  and arithmetic with numbers acts on the mean and returns a plain float (the uncertainty is not propagated).
* **As a value it is the measurement.** ``==`` and ``hash`` compare value *and* uncertainty, and a measurement never
  equals a plain number -- so ``d <= 87.49 and d >= 87.49`` can hold while ``d == 87.49`` is False: compare
  ``d.value == x`` for the mean.
* **As text it is both halves**, ``"v ± u"``: ``str``, ``repr`` and every format spec. A spec's number part
  (precision, type, sign, grouping) formats each half, its fill, alignment and width the whole text:
  ``f"{d:.2f}"`` is ``"87.49 ± 0.38"``, ``f"{d:>16.1f}"`` is ``"      87.5 ± 0.4"``; ``f"{d.value:.2f}"`` for the
  mean alone.

It is immutable, because one instance is shared by every isomorphic architecture that resolves to the same
measurement.
"""

from __future__ import annotations

import math
import re
from numbers import Real
from typing import Any

#: Python's format-spec mini-language, split into the whole text's layout and each number's part.
_SPEC = re.compile(r"(?:(?P<fill>.)?(?P<align>[<>=^]))?(?P<sign>[-+ ]?)(?P<z>z?)(?P<alt>#?)(?P<zero>0?)"
                   r"(?P<width>\d*)(?P<grouping>[,_]?)(?P<precision>(?:\.\d+)?)(?P<type>[a-zA-Z%]?)", re.DOTALL)


class DriftMeasurement:
    """A measured accuracy (percent) at one time after programming: ``value`` (mean) ± ``uncertainty`` (std).

    A number by its mean (order, conversion, arithmetic), a measurement for ``==`` and text (module docstring)."""

    __slots__ = ("value", "uncertainty")
    value: float
    uncertainty: float

    def __init__(self, value: float, uncertainty: float = 0.0) -> None:
        object.__setattr__(self, "value", float(value))
        object.__setattr__(self, "uncertainty", float(uncertainty))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"DriftMeasurement is immutable (shared by isomorphic architectures); cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"DriftMeasurement is immutable; cannot delete {name!r}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (DriftMeasurement, (self.value, self.uncertainty))

    def __repr__(self) -> str:
        return f"{self.value} ± {self.uncertainty}"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        """``"v ± u"`` with the spec's number part applied to each half and its layout to the whole text."""
        if not spec:
            return repr(self)
        parts = _SPEC.fullmatch(spec)
        if parts is None:
            raise ValueError(f"invalid format specifier {spec!r} for a DriftMeasurement")
        p = parts.groupdict()
        number = f"{p['sign']}{p['z']}{p['alt']}{p['grouping']}{p['precision']}{p['type']}"
        text = f"{format(self.value, number)} ± {format(self.uncertainty, number)}"
        if p["align"] == "=" or p["zero"]:
            raise ValueError(f"sign-aware zero padding ({spec!r}) does not apply to a DriftMeasurement, whose text is "
                             "'v ± u'; pad with a fill and alignment instead, e.g. '0>12.2f'")
        return format(text, f"{p['fill'] or ''}{p['align'] or '>'}{p['width']}")  # right-aligned like a number

    def __float__(self) -> float:
        return self.value

    def __int__(self) -> int:
        return int(self.value)

    def __bool__(self) -> bool:
        return bool(self.value)

    def __eq__(self, other: object) -> bool:
        """The same measurement (value and uncertainty); never equal to a plain number (see the module docstring)."""
        if isinstance(other, DriftMeasurement):
            return self.value == other.value and self.uncertainty == other.uncertainty
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.value, self.uncertainty))

    # Ordering (by the mean) against other measurements and plain numbers, so max()/sorted() work.
    def __lt__(self, other: object) -> bool:
        o = _mean_of(other)
        return NotImplemented if o is None else self.value < o

    def __le__(self, other: object) -> bool:
        o = _mean_of(other)
        return NotImplemented if o is None else self.value <= o

    def __gt__(self, other: object) -> bool:
        o = _mean_of(other)
        return NotImplemented if o is None else self.value > o

    def __ge__(self, other: object) -> bool:
        o = _mean_of(other)
        return NotImplemented if o is None else self.value >= o

    # Arithmetic on the mean, returning plain floats (sum(), averages, differences in scripts).
    def __add__(self, other: object) -> float:
        o = _mean_of(other)
        return NotImplemented if o is None else self.value + o

    __radd__ = __add__

    def __sub__(self, other: object) -> float:
        o = _mean_of(other)
        return NotImplemented if o is None else self.value - o

    def __rsub__(self, other: object) -> float:
        o = _mean_of(other)
        return NotImplemented if o is None else o - self.value

    def __mul__(self, other: object) -> float:
        o = _mean_of(other)
        return NotImplemented if o is None else self.value * o

    __rmul__ = __mul__

    def __truediv__(self, other: object) -> float:
        o = _mean_of(other)
        return NotImplemented if o is None else self.value / o

    def __rtruediv__(self, other: object) -> float:
        o = _mean_of(other)
        return NotImplemented if o is None else o / self.value

    def __neg__(self) -> float:
        return -self.value

    def __abs__(self) -> float:
        return abs(self.value)

    def __round__(self, ndigits: int | None = None) -> float | int:
        return round(self.value, ndigits)

    def isnan(self) -> bool:
        return math.isnan(self.value)


def _mean_of(other: object) -> float | None:
    if isinstance(other, DriftMeasurement):
        return other.value
    if isinstance(other, Real) and not isinstance(other, bool):
        return float(other)
    return None


def parse_drift(value: object) -> DriftMeasurement:
    """A drift value as the original release stored it: a number, ``"mean ± std"`` text, or a measurement."""
    if isinstance(value, DriftMeasurement):
        return value
    if isinstance(value, Real) and not isinstance(value, bool):
        return DriftMeasurement(float(value), 0.0)
    if isinstance(value, str):
        text = value.strip()
        parts = text.split("±")
        try:
            if len(parts) == 1:
                return DriftMeasurement(float(parts[0]), 0.0)
            if len(parts) == 2:
                return DriftMeasurement(float(parts[0]), float(parts[1]))
        except ValueError:
            pass
    raise ValueError(f"cannot read a drift measurement from {value!r}; expected a number or text like '87.49 ± 0.38'")
