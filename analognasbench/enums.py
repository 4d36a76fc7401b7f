"""The base of the package's closed sets: string enums that accept plain strings and reject unknown ones.

Every closed set (metrics, profiles, presets, cluster kinds, ...) is a ``str`` enum with the same ``parse``: the
member for a member or its value, else a ``ValueError`` that names the valid values. It lives here, at the
package root with no package imports, so that every layer can use it::

    class RunStatus(ClosedSet, what="run status"):
        RUNNING = "running"
        DONE = "done"

    RunStatus.parse("done")    # RunStatus.DONE
    RunStatus.parse("bogus")   # ValueError: unknown run status 'bogus'; valid: running, done

``what`` names the set in the message; ``plural`` (optional) makes it read "valid run statuses: ..." instead of
"valid: ...". Both are class keywords rather than class attributes because a plain attribute in an enum body
would become a member.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, TypeVar

_E = TypeVar("_E", bound="ClosedSet")


class ClosedSet(str, Enum):
    """A string enum whose :meth:`parse` turns a plain string into the member, listing the valid values if none."""

    _what: str
    _plural: str | None

    def __init_subclass__(cls, *, what: str = "value", plural: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._what = what
        cls._plural = plural

    @classmethod
    def parse(cls: type[_E], value: str | _E) -> _E:
        """The member equal to ``value`` (a member or its string value); ``ValueError`` naming the valid ones."""
        try:
            return cls(value)
        except ValueError:
            label = f"valid {cls._plural}" if cls._plural else "valid"
            raise ValueError(f"unknown {cls._what} {value!r}; {label}: {', '.join(m.value for m in cls)}") from None


__all__ = ["ClosedSet"]
