"""The package's layer order, read from its imports: no module imports from a layer above its own.

Layers (README, *Layout*), lowest first; a package may import only from lower ranks, and from a package of its own
rank only where :data:`SIBLINGS` allows it, with the reason:

    root helpers (-1) -> space (0) -> nets (1) -> datasets (2) -> analog, hardware (3) -> pipeline (4)
    -> bench, release, data (5) -> analysis, search, predict, fidelity, integrations (6) -> report, cli (7) -> __main__ (8)

Every import counts, including lazy ones inside functions. Top-level modules are classified one by one in
:data:`TOP_LEVEL` (a new one fails the test until it is), a new package likewise in :data:`LAYERS`.
"""

from __future__ import annotations

import ast
import importlib
import sys
import warnings
from pathlib import Path

import pytest

import analognasbench
from analognasbench.bench import MOVED_MODULES

PACKAGE = Path(analognasbench.__file__).resolve().parent

LAYERS: dict[str, int] = {
    "space": 0, "nets": 1, "datasets": 2, "analog": 3, "hardware": 3, "pipeline": 4, "bench": 5, "release": 5,
    "analysis": 6, "search": 6, "predict": 6, "fidelity": 6, "integrations": 6, "report": 7, "cli": 7,
}
#: Modules directly under ``analognasbench/``: helpers every layer may use sit below ``space`` and import nothing
#: of the package; ``data`` is the original release's API over ``bench``; ``__main__`` runs the CLI, above it.
TOP_LEVEL: dict[str, int] = {"__init__": -1, "enums": -1, "agreement": -1, "configfile": -1, "data": 5, "__main__": 8}
#: Imports allowed between two packages of the same rank: (importer, imported) -> why.
SIBLINGS: dict[tuple[str, str], str] = {
    ("release", "bench"): "the release is converted into the bench's dataset format (files, errors, drift values)",
    ("data", "bench"): "the original release's API is the bench's object under the release's names",
    ("search", "predict"): "zero-cost-guided search ranks candidates with the predictor's proxies",
    ("cli", "report"): "`anb report` and `anb predict` build the report",
    ("integrations", "search"): "the Optuna objectives parse metrics and evaluate candidates as the search does",
    ("search", "integrations"): "the optuna_* search methods drive Optuna through integrations.optuna",
}
#: Single module-to-module exceptions: (importing module, imported module) -> why.
EXCEPTIONS: dict[tuple[str, str], str] = {
    ("analognasbench.bench.registry", "analognasbench.release.original"):
        "AnalogNASBench('data.anb') reads the release's pickle through its restricted unpickler (lazily)",
}
#: Deprecated old module paths (an import hook in ``analognasbench.bench``): old path -> the module it now is.
MOVED = {**MOVED_MODULES, "analognasbench.search.features": "analognasbench.space.features"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 2:
        parts.pop()
    return ".".join(parts)


def _unit(module: str) -> str:
    """The layer unit of a module: its subpackage, or the top-level module's own name."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _rank(unit: str, is_package: bool) -> int:
    table = LAYERS if is_package else TOP_LEVEL
    if unit not in table:
        pytest.fail(f"analognasbench.{unit} has no layer: add it to {'LAYERS' if is_package else 'TOP_LEVEL'} "
                    "in tests/test_layers.py (and to the README's layers)")
    return table[unit]


def _imports(path: Path, module: str) -> list[tuple[int, str]]:
    """``(line, imported module)`` of every ``analognasbench`` import in the file, lazy ones included."""
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base == "analognasbench":  # from analognasbench import space: a name may be a module
                out += [(node.lineno, f"analognasbench.{a.name}" if _is_package(a.name)
                         or (PACKAGE / f"{a.name}.py").is_file() else "analognasbench.__init__")
                        for a in node.names]
            else:
                out.append((node.lineno, base))
    return [(line, name) for line, name in out if name.split(".")[0] == "analognasbench" and "." in name]


def _is_package(unit: str) -> bool:
    return (PACKAGE / unit).is_dir()


def test_every_import_runs_downward() -> None:
    violations = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        if module in MOVED:
            continue  # a deprecated shim reads its new home, wherever that is
        unit = _unit(module) if "." in module else "__init__"
        own = _rank(unit, _is_package(unit))
        for line, target in _imports(path, module):
            tunit = _unit(target)
            if tunit == unit or (module, target) in EXCEPTIONS:
                continue
            rank = _rank(tunit, _is_package(tunit))
            if rank > own or (rank == own and (unit, tunit) not in SIBLINGS):
                violations.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {module} (rank {own}) imports "
                                  f"{target} (rank {rank})")
    assert not violations, "imports against the layer order:\n" + "\n".join(violations)


def test_every_package_and_top_level_module_has_a_layer() -> None:
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    assert packages <= set(LAYERS), f"packages without a layer: {sorted(packages - set(LAYERS))}"
    assert modules <= set(TOP_LEVEL), f"top-level modules without a layer: {sorted(modules - set(TOP_LEVEL))}"


def test_the_layer_check_catches_an_upward_import(tmp_path: Path) -> None:
    """The checker itself: an upward lazy import inside a function is found."""
    fake = tmp_path / "mod.py"
    fake.write_text("def f():\n    from analognasbench.search.base import Budget\n    from ..bench import x\n"
                    "    from analognasbench import __version__, cli\n")
    assert _imports(fake, "analognasbench.predict.mod") == [
        (2, "analognasbench.search.base"), (3, "analognasbench.bench"), (4, "analognasbench.__init__"),
        (4, "analognasbench.cli")]


@pytest.mark.parametrize("old, new", sorted(MOVED_MODULES.items()))
def test_moved_modules_still_import_from_their_old_path_with_a_warning(old: str, new: str) -> None:
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=new.replace(".", r"\.")):
        module = importlib.import_module(old)
    assert module is importlib.import_module(new) and module.__spec__.name == new


def test_search_features_is_the_space_features_module_with_a_warning() -> None:
    from analognasbench.space import features

    module = importlib.import_module("analognasbench.search.features")
    with pytest.warns(DeprecationWarning, match="analognasbench.space.features"):
        encode = module.encode
    assert encode is features.encode
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert features.encode([0]).shape == (1, features.ONEHOT_DIM + features.PATH_DIM)
