"""Issue 16, fuzzing: over the command line's arguments and the dataset file format (mutated JSON sidecars,
truncated or bit-flipped Parquet, mutated pickles), ``anb`` exits 0 or 2 -- never a traceback, never a signal.

In-process (``analognasbench.cli.main``) so that it runs in well under a minute; one subprocess batch checks that
damaged files never kill the interpreter. Sized for one CPU core: ``max_examples`` below.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import pickle
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from bench_fixture import fixture_frame, fixture_meta
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analognasbench.bench import write_dataset
from analognasbench.bench.files import dataset_paths, file_sha256
from analognasbench.cli import main

REPO = Path(__file__).resolve().parents[1]
SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def run_cli(argv: list[str]) -> tuple[int, str]:
    """Exit status and stderr of ``anb argv``; any exception escaping ``main`` fails the test (a traceback)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code if isinstance(exc.code, int) else 2
    return code, err.getvalue()


def assert_clean(argv: list[str]) -> None:
    code, err = run_cli(argv)
    assert code in (0, 2), (argv, code, err[-600:])
    assert "Traceback" not in err, (argv, err[-600:])
    if code == 2:
        assert [line for line in err.splitlines() if "error" in line], (argv, err[-600:])


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    return write_dataset(fixture_frame(12, seed=7), fixture_meta(), tmp_path_factory.mktemp("fuzz") / "small")


# --- the argument space -----------------------------------------------------------------------------------------
_DIGITS = st.text(alphabet="0123456789", min_size=1, max_size=8)
_ARCH = st.one_of(_DIGITS, st.text(max_size=12), st.sampled_from(
    ["(0,0,0,4,3,2)", "[1, 2, 3, 4, 0, 1]", "index:10", "index:x", "|nor_conv_3x3~0|+|", "-1", "1e3", "0x10",
     "(0,0,0,0,0,9)", "(" + "(" * 50, "\x00", "15625", " 000010 "]))
_METRIC = st.one_of(st.sampled_from(["analog_accuracy", "noisy_drift_60", "params", "flops", "analog_accuracy_std",
                                     "baseline_accuracy", "nope", "", "params_std"]), st.text(max_size=10))
_NUMBER = st.one_of(st.integers(-10, 10**12).map(str), st.sampled_from(["nan", "inf", "-inf", "1e400", "0", "-0",
                                                                         "x", ""]))
_FILTER = st.one_of(st.builds(lambda c, o, v: f"{c}{o}{v}", _METRIC, st.sampled_from(["<", ">=", "==", "!=", "=<"]),
                              _NUMBER), st.text(max_size=15))


def _argv(data: st.DataObject, dataset: str) -> list[str]:
    command = data.draw(st.sampled_from(["query", "list", "info", "export", "space", "search", "report"]))
    d = ["-d", dataset]
    if command == "query":
        argv = ["query", data.draw(_ARCH), *d]
        if data.draw(st.booleans()):
            argv += ["-m", data.draw(_METRIC)]
        if data.draw(st.booleans()):
            argv += ["--json"]
    elif command == "list":
        argv = ["list", *d]
        for _ in range(data.draw(st.integers(0, 2))):
            argv += ["-f", data.draw(_FILTER)]
        if data.draw(st.booleans()):
            argv += ["-s", data.draw(_METRIC)]
        if data.draw(st.booleans()):
            argv += ["-n", data.draw(_NUMBER)]
        if data.draw(st.booleans()):
            argv += ["-c", data.draw(_METRIC)]
    elif command == "info":
        argv = ["info", *d] + data.draw(st.sampled_from([[], ["--json"], ["--metrics"]]))
    elif command == "export":
        argv = ["export", *d, "-F", data.draw(st.sampled_from(["csv", "json", "parquet", "xml"]))]
        target = data.draw(st.sampled_from(["", "/dev/null", dataset, str(Path(dataset).parent), "/proc/version/x"]))
        if target:
            argv += ["-o", target]
    elif command == "space":
        argv = ["space", data.draw(_ARCH)] + data.draw(st.sampled_from([[], ["--json"]]))
    elif command == "search":
        argv = ["search", data.draw(st.sampled_from(["random", "regularized_evolution", "nosuch"])), *d,
                "--budget", data.draw(st.sampled_from(["1", "3", "0", "-1", "x"]))]
        if data.draw(st.booleans()):
            argv += ["--params-cap", data.draw(_NUMBER)]
        if data.draw(st.booleans()):
            argv += ["--objective", data.draw(_METRIC)]
        if data.draw(st.booleans()):
            argv += ["--seconds", data.draw(st.sampled_from(["0", "-1", "0.5", "nan"]))]
    else:  # report: only its argument checks, which come before any analysis
        argv = ["report", "--dataset", dataset, "--out", "/proc/version/report",
                "--nas-budget", data.draw(st.sampled_from(["0", "-2", "x", "1"]))]
    return argv


@SETTINGS
@given(data=st.data())
def test_any_arguments_exit_0_or_2_without_a_traceback(small, data):
    assert_clean(_argv(data, str(small)))


# --- the dataset file format ------------------------------------------------------------------------------------
_JSON = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8)),
                     lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner,
                                                                                          max_size=3)),
                     max_leaves=6)


@SETTINGS
@given(data=st.data())
def test_mutated_sidecars_exit_0_or_2(small, tmp_path_factory, data):
    sidecar = dataset_paths(small)[1]
    meta = json.loads(sidecar.read_text())
    how = data.draw(st.sampled_from(["value", "delete", "truncate", "bytes", "replace"]))
    if how == "value":
        meta[data.draw(st.sampled_from(sorted(meta)))] = data.draw(_JSON)
        text = json.dumps(meta)
    elif how == "delete":
        meta.pop(data.draw(st.sampled_from(sorted(meta))))
        text = json.dumps(meta)
    elif how == "truncate":
        full = json.dumps(meta)
        text = full[: data.draw(st.integers(0, len(full) - 1))]
    elif how == "replace":
        text = json.dumps(data.draw(_JSON))
    else:
        text = data.draw(st.binary(max_size=64)).decode("latin1")
    directory = tmp_path_factory.mktemp("side")
    parquet = directory / "m.parquet"
    parquet.write_bytes(small.read_bytes())
    (directory / "m.json").write_text(text, encoding="latin1" if how == "bytes" else "utf-8")
    extra = data.draw(st.sampled_from([[], ["--no-verify"], ["--drop-invalid"]]))
    assert_clean(["info", "-d", str(parquet), *extra])
    assert_clean(["query", "0", "-d", str(parquet), "--json", *extra])


def _damaged_parquet(small: Path, directory: Path, cut: int | None, flips: list[int]) -> Path:
    """A copy of ``small`` truncated and/or bit-flipped, with its sidecar's checksum made to match, so that the
    damage reaches the Parquet reader instead of stopping at the SHA-256 check."""
    raw = bytearray(small.read_bytes())
    if cut is not None:
        raw = raw[: max(1, cut % len(raw))]
    for position in flips:
        raw[position % len(raw)] ^= 1 << (position % 8)
    parquet = directory / "p.parquet"
    parquet.write_bytes(bytes(raw))
    meta = json.loads(dataset_paths(small)[1].read_text())
    meta["sha256"] = file_sha256(parquet)
    (directory / "p.json").write_text(json.dumps(meta))
    return parquet


@SETTINGS
@given(cut=st.one_of(st.none(), st.integers(0, 10**6)), flips=st.lists(st.integers(0, 10**6), max_size=4))
def test_truncated_or_bit_flipped_parquet_exits_0_or_2(small, tmp_path_factory, cut, flips):
    parquet = _damaged_parquet(small, tmp_path_factory.mktemp("pq"), cut, flips)
    assert_clean(["query", "0", "-d", str(parquet), "--json"])
    assert_clean(["list", "-d", str(parquet), "-f", "analog_accuracy>50"])


@SETTINGS
@given(cut=st.one_of(st.none(), st.integers(0, 10**5)), flips=st.lists(st.integers(0, 10**5), max_size=3))
def test_mutated_original_pickles_exit_0_or_2(tmp_path_factory, cut, flips):
    blob = bytearray(pickle.dumps({(0, 0, 0, 0, 0, i % 5): {"baseline_accuracy": 90.0 - i,
                                                             "noisy_drift_60": f"{50 + i} ± 1.0"} for i in range(5)},
                                  protocol=4))
    if cut is not None:
        blob = blob[: cut % len(blob)]
    for position in flips:
        if blob:
            blob[position % len(blob)] ^= 1 << (position % 8)
    path = tmp_path_factory.mktemp("pk") / "data.anb"
    path.write_bytes(bytes(blob))
    assert_clean(["query", "0", "-d", str(path)])


def test_damaged_files_never_kill_the_interpreter(small, tmp_path):
    """Signals cannot be caught in-process: one subprocess reads a batch of damaged Parquet files and pickles."""
    script = textwrap.dedent(f"""
        import contextlib, io, json, random, sys
        sys.path.insert(0, {str(REPO / 'tests')!r})
        from pathlib import Path
        from test_fuzz_cli import _damaged_parquet
        from analognasbench.cli import main
        rng = random.Random(0)
        small, root = Path({str(small)!r}), Path({str(tmp_path)!r})
        for i in range(40):
            d = root / f"c{{i}}"
            d.mkdir()
            p = _damaged_parquet(small, d, rng.randrange(10**6) if i % 2 else None,
                                 [rng.randrange(10**6) for _ in range(rng.randrange(1, 6))])
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                code = main(["query", "0", "-d", str(p), "--json"])
            assert code in (0, 2), code
        deep = root / "deep.anb"
        deep.write_bytes(b"\\x80\\x04}}()" + b"\\x85" * 300000 + b"Nu.")
        with contextlib.redirect_stderr(io.StringIO()):
            assert main(["query", "0", "-d", str(deep)]) == 2
        print("survived")
    """)
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-1000:])  # a signal shows as a negative code
    assert "survived" in proc.stdout


# --- issue 26: every subcommand's every option, from the parser itself -----------------------------------------------
class WorkReached(Exception):  # noqa: N818 - a signal: every argument was accepted and the real work would start
    """Raised by the stand-ins of the long-running steps below."""


#: Commands whose purpose is to write files (at paths they are given, or their default output folder).
WRITERS = {"compare", "report", "generate", "export", "import-original", "pack-data", "merge-store"}
#: Options of other commands that name a file to write (a relative value lands in the working directory).
WRITING_OPTIONS = {"--out", "--json", "-o", "--pack", "--export", "--merge"}
#: Options that start remote machinery or only matter with --slurm: not fuzzed here (tests/test_slurm.py).
SKIPPED_OPTIONS = {"--scheduler"}


def _stop(*args, **kwargs):
    raise WorkReached


def _stand_ins(monkeypatch) -> None:
    """The steps that take minutes (sweeps, studies, comparisons, downloads, image loading) raise WorkReached."""
    import analognasbench.cli.compare as compare
    import analognasbench.cli.generate as generate
    import analognasbench.cli.import_original as import_original
    import analognasbench.pipeline.measure as measure
    import analognasbench.predict as predict
    import analognasbench.predict.study as study
    import analognasbench.predict.surrogates as surrogates
    import analognasbench.report as report
    import analognasbench.report.nas as nas

    for module, name in ((compare, "run_comparison"), (generate, "run_sweep"), (import_original, "import_original"),
                         (measure, "load_profile_data"), (predict, "load_images"), (predict, "compute_row"),
                         (predict, "compute_many"), (study, "run_study"), (surrogates, "fit_predict"),
                         (report, "build_report"), (nas, "run_nas_comparison")):
        monkeypatch.setattr(module, name, _stop)
    class StoreNeverOpened(generate.RunStore):  # generate's sweep store: its checks run, its creation does not
        open = classmethod(lambda cls, *a, **k: _stop())

    monkeypatch.setattr(generate, "RunStore", StoreNeverOpened)


def _subcommands() -> dict:
    from analognasbench.cli import build_parser

    action = next(a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction")
    return dict(action.choices)


def test_every_subcommand_is_fuzzed():
    assert set(_subcommands()) == {"compare", "cost", "export", "generate", "import-original", "info", "list",
                                   "predict", "proxies", "quality", "query", "report", "search", "space",
                                   "pack-data", "merge-store", "pending"}, "a new subcommand: give it a base below"


def _bases(small: Path, store: Path, out: Path) -> dict[str, list[str]]:
    d = ["-d", str(small)]
    return {
        "compare": ["compare", *d, "--seeds", "1", "--budget", "2", "--out", str(out / "cmp")],
        "cost": ["cost", "222222"], "export": ["export", *d, "-F", "csv", "-o", str(out / "e.csv")],
        "generate": ["generate", "--profile", "smoke", "--archs", "sample:2", "--store", str(out / "g.sqlite")],
        "import-original": ["import-original", "-o", str(out / "orig")], "info": ["info", *d],
        "list": ["list", *d, "-n", "2"], "predict": ["predict", "--model", "ridge:onehot", "--lowcost", ""],
        "proxies": ["proxies", "--pending", "--limit", "1", "--store", str(store.with_name("px.sqlite"))],
        "quality": ["quality", str(store)], "query": ["query", "0", *d], "space": ["space", "0"],
        "report": ["report", "--dataset", str(small), "--out", str(out / "rep"), "--no-nas"],
        "search": ["search", "random", *d, "--budget", "2"],
        "pack-data": ["pack-data", "--profile", "smoke", "--out", str(out / "p.npz")],
        "merge-store": ["merge-store", str(store), "--into", str(out / "into.sqlite")],
        "pending": ["pending", "--profile", "smoke", "--store", str(store), "--limit", "1"],
    }


def _with_value(base: list[str], action, value: str) -> list[str]:
    """``base`` with ``action``'s value replaced by (or, if absent, extended with) ``value``."""
    argv = list(base)
    if not action.option_strings:  # a positional: the first argument after the command
        if argv[1:2] and not argv[1].startswith("-"):
            return [argv[0], value, *argv[2:]]
        return [argv[0], value, *argv[1:]]
    for i, item in enumerate(argv):
        if item in action.option_strings:
            return argv[: i + 1] + [value] + argv[i + 2:]
    return [*argv, action.option_strings[0], value]


@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("hostile")
    (root / "a-directory").mkdir()
    garbage = bytes(range(256)) * 4
    files = {"dir": root / "a-directory", "missing": root / "missing" / "nothing.sqlite"}
    for suffix in (".bin", ".json", ".yaml", ".parquet", ".sqlite", ".npz"):
        files[suffix] = root / f"binary{suffix}"
        files[suffix].write_bytes(garbage)
    return files


def test_every_option_of_every_subcommand_takes_hostile_values(small, hostile_files, tmp_path, monkeypatch):
    """Each option (and positional) of each subcommand, enumerated from the parser, gets hostile values: exit 0 or
    2, never a traceback; an error is one line; a reader leaves the working directory empty and no input changes."""
    from test_store import hand_row

    from analognasbench.pipeline.profiles import get_profile
    from analognasbench.pipeline.store import RunStore
    from analognasbench.predict import ProxyStore

    _stand_ins(monkeypatch)
    smoke = get_profile("smoke")
    store = tmp_path / "in" / "runs.sqlite"
    with RunStore.open(store, smoke) as s:
        s.record_result(hand_row(0, smoke.hash()))
        s.checkpoint()
    ProxyStore(store.with_name("px.sqlite")).close()
    watched = [*store.parent.iterdir(), small, small.with_suffix(".json"),
               *(p for k, p in hostile_files.items() if k not in ("dir", "missing"))]
    before = {p: p.read_bytes() for p in watched}
    work, out = tmp_path / "cwd", tmp_path / "out"
    work.mkdir()
    monkeypatch.chdir(work)
    values = ["", "-1", "0", "1e400", "nan", "99999999999999999999", *(str(p) for p in hostile_files.values())]
    bases, rotation = _bases(small, store, out), 0
    for name, parser in sorted(_subcommands().items()):
        for action in parser._actions:
            if action.nargs == 0 or action.dest == "help" or SKIPPED_OPTIONS & set(action.option_strings) \
                    or any(o.startswith("--slurm-") for o in action.option_strings):
                continue
            for k in range(3):  # three of the hostile values per option, rotating through all of them
                value = values[(rotation + k) % len(values)]
                argv = _with_value(bases[name], action, value)
                out_buf, err_buf = io.StringIO(), io.StringIO()
                with contextlib.redirect_stdout(out_buf), contextlib.redirect_stderr(err_buf):
                    try:
                        code = main(argv)
                    except SystemExit as exc:  # argparse's own usage errors: usage + one error line
                        code = exc.code if isinstance(exc.code, int) else 2
                    except WorkReached:
                        code = 0
                err = err_buf.getvalue()
                assert code in (0, 2) and "Traceback" not in err, (argv, code, err[-600:])
                lines = [line for line in err.splitlines() if line.startswith("anb")]
                if code == 2:
                    assert len(lines) == 1 and "error" in lines[0], (argv, err[-600:])
                if name not in WRITERS and not WRITING_OPTIONS & set(action.option_strings):
                    assert list(work.iterdir()) == [], (argv, list(work.iterdir()))
                    assert not hostile_files["missing"].exists(), argv
                changed = [str(p) for p, data in before.items() if not p.is_file() or p.read_bytes() != data]
                assert not changed, (argv, changed)  # no input, and no existing file, is ever replaced
                shutil.rmtree(hostile_files["missing"].parent, ignore_errors=True)
                for p in work.iterdir():
                    shutil.rmtree(p) if p.is_dir() else p.unlink()
            rotation += 3


# --- malformed chip presets and profiles ---------------------------------------------------------------------------
@SETTINGS
@given(data=st.data())
def test_mutated_chip_presets_and_profiles_exit_0_or_2_with_finite_costs(tmp_path_factory, data):
    from analognasbench.hardware.chips import ibm_hermes_pcm_14nm
    from analognasbench.pipeline.profiles import get_profile

    kind = data.draw(st.sampled_from(["chip", "profile"]))
    doc = ibm_hermes_pcm_14nm().to_dict() if kind == "chip" else get_profile("smoke").to_dict()
    how = data.draw(st.sampled_from(["value", "nested", "delete", "extra", "text"]))
    if how == "value":
        doc[data.draw(st.sampled_from(sorted(doc)))] = data.draw(_JSON)
    elif how == "nested":
        part = data.draw(st.sampled_from(sorted(k for k, v in doc.items() if isinstance(v, dict))))
        doc[part][data.draw(st.sampled_from(sorted(doc[part])))] = data.draw(st.one_of(
            _JSON, st.sampled_from([1e308, -1e308, 1e-320, 10**30, -1, 0, float("nan"), "1e3", True])))
    elif how == "delete":
        doc.pop(data.draw(st.sampled_from(sorted(doc))))
    elif how == "extra":
        doc[data.draw(st.text(max_size=6))] = data.draw(_JSON)
    suffix = data.draw(st.sampled_from([".json", ".yaml"]))
    path = tmp_path_factory.mktemp("cfg") / f"f{suffix}"
    if how == "text":
        path.write_bytes(data.draw(st.binary(max_size=80)))
    else:
        path.write_text(json.dumps(doc))  # JSON is YAML too
    argv = ["cost", "222222", "--json", "--chip" if kind == "chip" else "--profile", str(path)]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert_clean(argv)
    if out.getvalue():
        totals = json.loads(out.getvalue())["cost"]
        assert all(v is not None for v in totals.values()), totals  # no infinite or NaN estimate


# --- malformed proxy tables ------------------------------------------------------------------------------------------
@settings(max_examples=4, deadline=None, derandomize=True)  # each example reads the release (a second or two)
@given(cut=st.one_of(st.none(), st.integers(0, 10**6)), flips=st.lists(st.integers(0, 10**6), max_size=3))
def test_damaged_proxy_tables_exit_0_or_2(tmp_path_factory, cut, flips):
    from analognasbench.bench.registry import resolve_dataset

    table = resolve_dataset("proxies-cifar10").with_suffix(".parquet")
    parquet = _damaged_parquet(table, tmp_path_factory.mktemp("px"), cut, flips)
    assert_clean(["predict", "--model", "ridge:onehot+zc", "--labels", "20", "--lowcost", "", "--proxies",
                  str(parquet)])
