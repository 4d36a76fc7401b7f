"""Reading the small JSON/YAML files users hand to ``anb`` (chip presets, profiles): one reader, one set of errors.

YAML is read with ``yaml.safe_load``: a tag such as ``!!python/object/apply:os.system`` is refused, never run, and
the refusal is a :class:`ConfigFileError` (a ``ValueError``), so the command line prints one line, not a traceback.
Below every layer (it imports nothing of the package), so ``hardware`` and ``pipeline`` share it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

#: Suffixes a configuration file may have.
CONFIG_SUFFIXES = (".json", ".yaml", ".yml")


class ConfigFileError(ValueError):
    """A configuration file that is missing, unreadable or not valid JSON/YAML (the message names the file)."""


def read_config_file(path: str | Path, what: str) -> Any:
    """The parsed content of the JSON or YAML file ``path``; ``what`` names it in errors ("chip preset file")."""
    p = Path(path)
    if p.is_dir():
        raise ConfigFileError(f"{what} {p} is a directory; expected a .json or .yaml file")
    if not p.exists():
        raise ConfigFileError(f"cannot read {what} {p}: it does not exist")
    suffix = p.suffix.lower()
    if suffix not in CONFIG_SUFFIXES:
        raise ConfigFileError(f"{what} {p} must end in .json, .yaml or .yml")
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigFileError(f"cannot read {what} {p}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigFileError(f"{what} {p} is not UTF-8 text (a binary file?)") from None
    if suffix == ".json":
        try:
            return json.loads(text)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise ConfigFileError(f"{what} {p} is not valid JSON: {exc}") from None
    try:
        import yaml  # type: ignore[import-untyped]
    except ImportError:
        raise ConfigFileError(f"reading {what} {p} needs PyYAML (pip install pyyaml); or write it as JSON") from None
    try:
        return yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError) as exc:
        raise ConfigFileError(f"{what} {p} is not valid YAML (python tags are never run): "
                              f"{' '.join(str(exc).split())}") from None


__all__ = ["CONFIG_SUFFIXES", "ConfigFileError", "read_config_file"]
