"""Bridges to other libraries, one module per library (``analognasbench.integrations.<library>``).

Each module imports its library lazily and, when it is missing, raises :class:`MissingExtraError` naming the
extra to install, so the core package never depends on it and ``anb`` prints one line instead of a traceback.
This package sits at the layer of ``search`` and ``predict``: it may use them and everything below.
"""

from __future__ import annotations


class MissingExtraError(ImportError):
    """An optional library is not installed; the message names the ``pip install`` extra that brings it."""

    def __init__(self, library: str, extra: str, what: str) -> None:
        self.library, self.extra = library, extra
        super().__init__(f"{what} needs {library}, which is not installed: pip install \"analognasbench[{extra}]\" "
                         f"(from a checkout: pip install -e \".[{extra}]\")", name=library)


__all__ = ["MissingExtraError"]
