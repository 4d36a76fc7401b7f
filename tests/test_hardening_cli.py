"""Issue 16, the command line and the API: one identity per digit string, missing is not zero, strict JSON, every
OSError and damaged input one line with exit status 2, checked before long work starts."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from bench_fixture import fixture_frame, fixture_meta

from analognasbench import space
from analognasbench.bench import AnalogNASBench, write_dataset
from analognasbench.bench.benchmark import NOT_FOUND
from analognasbench.bench.errors import UnknownArchitectureError
from analognasbench.cli import main
from analognasbench.search.compare import CompareConfig, run_comparison

REPO = Path(__file__).resolve().parents[1]


def anb(*argv: object) -> int:
    try:
        return main([str(a) for a in argv])
    except SystemExit as exc:  # argparse
        return int(exc.code or 0)


def one_error_line(err: str, *needles: str) -> str:
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith(("WARNING", "INFO"))]
    assert len(lines) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def strict_loads(text: str) -> object:
    return json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c} in {text[:200]}"))


@pytest.fixture(scope="module")
def fixture_ds(tmp_path_factory):
    """A fixture dataset whose noisy accuracy std is not published (NaN), like the original release's."""
    frame = fixture_frame(40, seed=4, indices=[0, 10, 30, 250, 1234, 4000, 9000, 12000])
    frame["noisy_accuracy_std"] = np.nan
    return write_dataset(frame, fixture_meta(), tmp_path_factory.mktemp("fx") / "fx")


# --- 5. one architecture identity per string ------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "arch"), [
    ("000010", (0, 0, 0, 0, 1, 0)), ("10", (0, 0, 0, 0, 2, 0)), ("0", (0, 0, 0, 0, 0, 0)),
    ("index:10", (0, 0, 0, 0, 2, 0)), ("index:00010", (0, 0, 0, 0, 2, 0)), ("15624", (4, 4, 4, 4, 4, 4)),
])
def test_digit_strings_follow_one_rule(text, arch):
    assert space.parse(text) == arch


@pytest.mark.parametrize("text", ["00010", "010", "012345", "0000100", "1234567", "٣"])
def test_ambiguous_digit_strings_are_refused_naming_both_forms(text):
    with pytest.raises(ValueError, match="short form.*index"):
        space.parse(text)


def test_query_query_metric_cli_and_op_matrices_agree(fixture_ds, capsys):
    bench = AnalogNASBench(fixture_ds)
    arch = (0, 0, 0, 0, 2, 0)  # index 10
    nested = space.to_op_matrix(arch).tolist()
    for encoding in ("10", "000020", "index:10", nested, np.array(nested), tuple(map(tuple, nested)), arch):
        assert bench.query(encoding).arch == arch
        assert bench.query_metric(encoding, "architecture") == arch
    with pytest.raises(UnknownArchitectureError, match="index:"):
        bench.query("00010")
    assert bench.query_metric("00010", "baseline_accuracy") == NOT_FOUND  # the release's answer to what it can't read
    with pytest.raises(UnknownArchitectureError, match="integers"):
        bench.query(np.where(np.array(nested) >= 0, 0.5, -1.0))  # floats are not silently truncated into ops
    assert anb("query", "-d", fixture_ds, "00010") == 2
    one_error_line(capsys.readouterr().err, "'00010'", "index:10")
    assert anb("query", "-d", fixture_ds, "index:10", "--json") == 0
    assert strict_loads(capsys.readouterr().out)["arch"] == list(arch)


# --- 4. missing is not zero -----------------------------------------------------------------------------------------
def _without(tmp_path, columns: list[str], source: str = "test-fixture", profile: dict | None = None) -> Path:
    frame = fixture_frame(30, seed=5)
    for c in columns:
        frame[c] = None if c == "params" else np.nan
        if f"{c}_reps" in frame:
            frame[f"{c}_reps"] = [[] for _ in range(len(frame))]
    meta = dataclasses.replace(fixture_meta(), source=source, profile=profile or {"name": "x"})
    return write_dataset(frame, meta, tmp_path / "missing")


def test_a_filter_over_a_column_with_no_values_says_so(tmp_path, capsys):
    path = _without(tmp_path, ["params", "flops", "analog_drift_60"])
    for expr, column in (("params<500000", "params"), ("flops>0", "flops"), ("analog_drift_60>=50", "analog_drift_60")):
        assert anb("list", "-d", path, "-f", expr) == 2
        one_error_line(capsys.readouterr().err, f"holds no values for {column}")
    assert anb("list", "-d", path, "-s", "params") == 2
    assert anb("list", "-d", path, "-c", "params") == 0  # shown, not compared: '-' where there is no value
    assert "      -" in capsys.readouterr().out


def test_params_and_flops_are_computed_where_the_skeleton_is_known(tmp_path, capsys):
    from analognasbench.nets import count_flops, count_parameters

    path = _without(tmp_path, ["params", "flops"], profile={"name": "x", "C": 8, "N": 1, "num_classes": 10,
                                                             "image_size": 16})
    assert anb("list", "-d", path, "-f", "params<30000", "-c", "params", "-c", "flops") == 0
    out = capsys.readouterr().out.splitlines()
    rows = [line.split() for line in out[1:-1]]
    assert rows and all(int(r[-2]) < 30000 for r in rows)
    arch = tuple(int(x) for x in " ".join(rows[0][1:7]).strip("()").split(","))
    assert int(rows[0][-2]) == count_parameters(arch, 8, 1, 10) and float(rows[0][-1]) == count_flops(arch, 8, 1, 10, 16)
    total = len(AnalogNASBench(path))
    expected = sum(count_parameters(a, 8, 1, 10) < 30000 for a in AnalogNASBench(path).list_available_architectures())
    assert out[-1] == f"# {expected} of {expected} matching, {total} measured"


def test_search_params_cap_and_objective_with_no_values(tmp_path, capsys):
    unknown = _without(tmp_path, ["params", "flops"])
    assert anb("search", "random", "-d", unknown, "--params-cap", "5e5", "--budget", "5") == 2
    one_error_line(capsys.readouterr().err, "--params-cap", "holds no values for params")
    release_like = _without(tmp_path / "r", ["params", "flops"], source="original-release")
    assert anb("search", "random", "-d", release_like, "--params-cap", "5e5", "--budget", "10", "--json") == 0
    result = strict_loads(capsys.readouterr().out)
    assert 0 < result["params"] <= 5e5
    no_objective = _without(tmp_path / "o", ["analog_drift_86400"])
    assert anb("search", "random", "-d", no_objective, "--budget", "5") == 2
    one_error_line(capsys.readouterr().err, "--objective", "analog_drift_86400")


# --- small wrong answers --------------------------------------------------------------------------------------------
def test_compare_methods_named_twice_run_once(fixture_ds, tmp_path, capsys):
    config = CompareConfig(methods=("random", "random"), seeds=3, budget=4)
    assert config.methods == ("random",)
    comparison = run_comparison(AnalogNASBench(fixture_ds).df, config)
    assert comparison.table1()["seeds"].tolist() == [3]
    assert anb("compare", "-d", fixture_ds, "--methods", "random", "random", "--seeds", "3", "--budget", "4",
               "--out", tmp_path / "cmp") == 0
    assert "3 seeds" in capsys.readouterr().out
    import pandas as pd

    assert pd.read_csv(tmp_path / "cmp" / "table1.csv")["seeds"].tolist() == [3]


@pytest.mark.parametrize("flag", [("--nas-budget", "0"), ("--nas-budget", "-3"), ("--nas-seeds", "0")])
def test_report_refuses_a_nas_budget_or_seed_count_below_one(fixture_ds, tmp_path, flag, capsys):
    assert anb("report", "--dataset", fixture_ds, "--out", tmp_path / "rep", *flag) == 2
    one_error_line(capsys.readouterr().err, flag[0])
    assert not (tmp_path / "rep").exists()


# --- 8. strict JSON -------------------------------------------------------------------------------------------------
def test_json_output_is_strict_everywhere(fixture_ds, capsys):
    for argv in (["query", "0", "--json"], ["query", "0", "--json", "-m", "noisy_accuracy"], ["info", "--json"],
                 ["search", "random", "--budget", "3", "--json"], ["space", "0", "--json"]):
        assert anb(*argv, "-d", fixture_ds) == 0 if argv[0] != "space" else anb(*argv) == 0
        out = capsys.readouterr().out
        data = strict_loads(out)
        if argv[:2] == ["query", "0"] and "-m" in argv:
            assert data["std"] is None  # not published: null, not NaN
    assert anb("export", "-d", fixture_ds, "-F", "json") == 0
    records = strict_loads(capsys.readouterr().out)
    assert records[0]["noisy_accuracy_std"] is None


# --- 7. OSError and damaged input: one line, exit 2, before the work ------------------------------------------------
def test_output_paths_that_cannot_be_written_are_one_line(fixture_ds, tmp_path, capsys):
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    cases = [
        (["export", "-d", fixture_ds, "-F", "csv", "-o", tmp_path], "is a directory"),
        (["export", "-d", fixture_ds, "-F", "csv", "-o", a_file / "out.csv"], "is a file, not a directory"),
        (["export", "-d", fixture_ds, "-F", "parquet", "-o", a_file / "x"], "is a file, not a directory"),
        (["export", "-d", fixture_ds, "-F", "csv", "-o", "/dev/null"], "not a regular file"),
        (["compare", "-d", fixture_ds, "--seeds", "1", "--budget", "3", "--out", a_file], "is a file"),
        (["compare", "-d", fixture_ds, "--seeds", "1", "--budget", "3", "--out", a_file / "sub"], "is a file"),
        (["report", "--dataset", fixture_ds, "--out", a_file], "is a file"),
        (["report", "--dataset", fixture_ds, "--out", a_file / "sub"], "is a file"),
        (["generate", "--profile", "smoke", "--archs", "sample:2", "--store", tmp_path / "s.sqlite", "--export",
          a_file / "x"], "is a file, not a directory"),
        (["generate", "--profile", "smoke", "--archs", "sample:2", "--store", a_file / "s.sqlite"], "file.txt"),
        (["quality", a_file], "file.txt"),
    ]
    for argv, needle in cases:
        start = time.perf_counter()
        assert anb(*argv) == 2, argv
        one_error_line(capsys.readouterr().err, needle)
        assert time.perf_counter() - start < 30, argv  # refused before the long work, not after it
    assert a_file.read_text() == "x"


def test_an_unreachable_dask_scheduler_is_one_line(tmp_path, capsys):
    for address in ("tcp://127.0.0.1:9", "127.0.0.1:9", "tcp://127.0.0.1", "udp://x:1", "tcp://127.0.0.1:notaport"):
        assert anb("generate", "--profile", "smoke", "--archs", "sample:2", "--store", tmp_path / "s.sqlite",
                   "--scheduler", address) == 2
        one_error_line(capsys.readouterr().err, "--scheduler", "tcp://HOST:PORT")


def _unshare_ok() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _unshare_ok(), reason="needs user+mount namespaces (unshare -rm) to make a full/read-only fs")
@pytest.mark.parametrize(("mount", "needle"), [("-t tmpfs -o size=4k none", "disk is full"),
                                               ("-t tmpfs -o ro none", "Read-only file system")])
def test_a_full_or_read_only_disk_is_one_line(fixture_ds, tmp_path, mount, needle):
    target = tmp_path / "mnt"
    target.mkdir()
    script = (f"mount {mount} {target} && cd {REPO} && OMP_NUM_THREADS=1 PYTHONPATH={REPO} "
              f"python -m analognasbench export -d {fixture_ds} -F json -o {target}/out.csv")
    proc = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr[-800:]
    line = one_error_line(proc.stderr, "out.csv" if "full" in needle else str(target))
    assert needle in line or "not writable" in line
