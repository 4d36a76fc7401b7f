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
