"""Errors of the benchmark API: one base class, so callers can catch everything the API raises in one place.

Each is also the built-in exception a caller would naturally expect (``ValueError`` for bad input, ``LookupError`` for
a valid architecture without data, ``FileNotFoundError`` for a missing dataset), so generic handlers keep working.
"""

from __future__ import annotations


class BenchmarkError(Exception):
    """Base class of every error the benchmark API raises on purpose."""


class UnknownArchitectureError(BenchmarkError, ValueError):
    """The input is not an architecture in any accepted encoding."""


class UnmeasuredArchitectureError(BenchmarkError, LookupError):
    """A valid architecture for which the dataset holds no measurement (nor for any isomorphic cell)."""

    def __str__(self) -> str:  # LookupError subclasses keep the plain message, unlike KeyError's repr
        return str(self.args[0]) if self.args else ""


class UnknownMetricError(BenchmarkError, ValueError):
    """A metric name that the dataset does not have."""


class MissingValuesError(BenchmarkError, ValueError):
    """A filter, cap, objective or analysis needs a column the dataset holds no values for (missing is not zero)."""


class DatasetError(BenchmarkError):
    """A dataset file cannot be used."""


class DatasetNotFoundError(DatasetError, FileNotFoundError):
    """The dataset (or its metadata sidecar) does not exist, or no embedded dataset is shipped yet.

    ``problem`` says what is wrong with what was given, ``expected`` what would do (the message is both, joined by
    "; "): a command that also reads other kinds of input states its own ``expected`` beside ``problem``."""

    def __init__(self, problem: str, expected: str | None = None) -> None:
        super().__init__(problem if expected is None else f"{problem}; {expected}")
        self.problem, self.expected = problem, expected


class DatasetExistsError(DatasetError, FileExistsError):
    """Writing would replace an existing dataset (or another input of the same command) without ``--force``."""


class DatasetIntegrityError(DatasetError, ValueError):
    """A dataset file is truncated, corrupted, modified after writing, or does not follow the schema."""


class UnsafePickleError(DatasetIntegrityError):
    """An original-release pickle references something other than its two data classes and plain builtins."""
