"""The ``anb`` command line.

Every module in this package that defines ``register(subparsers)`` adds one subcommand:
``register`` builds its sub-parser and sets ``func`` (called with the parsed namespace,
returning an exit code). New subcommands are one new file; nothing here changes.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import logging
import os
import pkgutil
import sqlite3
import sys
from collections.abc import Sequence

from analognasbench import __version__
from analognasbench.bench.cliutil import CLIError  # re-exported: the subcommands raise it
from analognasbench.integrations import MissingExtraError

__all__ = ["CLIError", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="anb",
        description="AnalogNAS-Bench: NAS-Bench-201 architectures on simulated analog in-memory computing hardware.",
    )
    parser.add_argument("--version", action="version", version=f"analognasbench {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # reported by the subcommand's parser, with its usage ("anb info: error: ...")
        _parser_of(parser, args.command).error(f"unrecognized arguments: {' '.join(unknown)}")
    logging.basicConfig(
        level=[logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)],
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading: not an error
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115  (keeps the interpreter's final flush quiet)
        return 0
    except (CLIError, ValueError, KeyError, OSError, sqlite3.Error, RecursionError, MissingExtraError) as exc:
        print(f"anb {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2


def _parser_of(parser: argparse.ArgumentParser, command: str | None) -> argparse.ArgumentParser:
    """The sub-parser of ``command`` (the top-level parser when no command was given)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            return action.choices[command]
    return parser


def _one_line(exc: BaseException) -> str:
    """What went wrong, on one line: the message, or for an OS error the path(s) and the system's reason."""
    if isinstance(exc, OSError) and exc.strerror and exc.filename is not None:
        where = f"{exc.filename}" + (f" -> {exc.filename2}" if exc.filename2 is not None else "")
        text = f"{where}: {exc.strerror}"
        if isinstance(exc, (IsADirectoryError, NotADirectoryError)):
            text += " (expected a file path in an existing directory)"
        elif isinstance(exc, PermissionError):
            text += " (expected a path this user may read/write)"
        elif exc.errno == errno.ENOSPC:
            text += " (the disk is full: nothing was replaced; free space and run again)"
    elif isinstance(exc, sqlite3.Error):
        text = f"SQLite: {exc} (a run store file that is damaged, locked or not a run store)"
    elif isinstance(exc, RecursionError):
        text = "input nested too deeply to read (damaged or hostile input)"
    elif isinstance(exc, KeyError) and exc.args:
        text = str(exc.args[0])
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
