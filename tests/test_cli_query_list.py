"""``anb query``, ``anb list``, ``anb info`` and the top-level dispatch as users read them: honest repetition counts,
aligned columns, rounded numbers, missing values refused (not printed as nan), counts that say what they count,
dataset errors that say what was expected, and unknown options reported by the subcommand."""

from __future__ import annotations

import re

import numpy as np
import pytest
from bench_fixture import fixture_frame, fixture_meta

from analognasbench.bench import AnalogNASBench, available_datasets, write_dataset
from analognasbench.bench.registry import ENV_VAR
from analognasbench.cli import build_parser, main
from analognasbench.pipeline.schema import METRICS

RELEASE, LOWCOST = "analognas-original", "cifar10-lowcost"
needs_shipped = pytest.mark.skipif(not {RELEASE, LOWCOST} <= set(available_datasets()),
                                   reason="needs the embedded release and cifar10-lowcost")


def anb(*argv: object) -> int:
    try:
        return main([str(a) for a in argv])
    except SystemExit as exc:  # argparse
        return int(exc.code or 0)


def error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith(("WARNING", "INFO"))]
    assert "Traceback" not in err and lines, err
    return lines[-1]


@pytest.fixture(autouse=True)
def _scratch(tmp_path, monkeypatch):
    """Every test runs from an empty directory with no $ANB_DATASET."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)


def metric_rows(out: str) -> dict[str, str]:
    names = {m.value for m in METRICS}
    return {line.split()[0]: line for line in out.splitlines() if line.split() and line.split()[0] in names}


# --- 1 and 2: the query table ---------------------------------------------------------------------------------------
@needs_shipped
def test_query_table_counts_the_repetitions_behind_each_std(tmp_path, capsys):
    assert anb("query", "000432") == 0
    out = capsys.readouterr().out
    rows = metric_rows(out)
    assert len(rows) == len(METRICS) and "nan" not in out
    r_of = {name: line.split()[3] for name, line in rows.items()}
    assert all(r_of[m.value] == "25" for m in METRICS if m.is_drift)  # std over 25 read-outs (anb info's R)
    assert r_of["baseline_accuracy"] == r_of["analog_accuracy"] == "-"  # the release publishes one value, no std
    assert rows["noisy_programmed_accuracy"].split()[1:4] == ["-", "-", "-"]  # not measured in the release
    assert "not measured in analognas-original: noisy_programmed_accuracy, analog_programmed_accuracy" in out
    assert anb("query", "000231", "-d", LOWCOST) == 0
    r_of = {name: line.split()[3] for name, line in metric_rows(capsys.readouterr().out).items()}
    assert r_of["analog_drift_60"] == r_of["noisy_programmed_accuracy"] == "10" and r_of["baseline_accuracy"] == "1"
    assert list(tmp_path.iterdir()) == []  # a command that only reads creates no file


@needs_shipped
def test_query_table_columns_line_up_and_the_cost_heading_says_it_once(capsys):
    assert anb("query", "000231", "-d", LOWCOST) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("metric "))
    rows = list(metric_rows(out).values())
    for column in ("mean", "std"):  # right-aligned numbers end under their heading
        end = header.index(column) + len(column)
        assert {len(row[:end].rstrip()) for row in rows} == {end}, column
    assert {row.index(" percent ") + 1 for row in rows} == {header.index("unit")}  # left-aligned text starts there
    heading = next(line for line in lines if "model estimate" in line)
    assert heading.count("hardware cost") == 1 and heading.count("model estimate") == 1


# --- 3 and 4: one metric --------------------------------------------------------------------------------------------
@needs_shipped
def test_query_one_metric_rounds_mean_and_std_alike(capsys):
    assert anb("query", "000231", "-d", LOWCOST, "-m", "analog_drift_86400") == 0
    assert re.fullmatch(r"\d+\.\d\d ± \d+\.\d\d", capsys.readouterr().out.strip())


@needs_shipped
def test_query_one_metric_the_dataset_does_not_measure_is_an_error(capsys):
    assert anb("query", "210210", "-m", "noisy_programmed_accuracy") == 2
    out, err = capsys.readouterr()
    assert out == ""
    line = error_line(err)
    assert line.startswith("anb query: error:") and "does not measure noisy_programmed_accuracy" in line
    assert LOWCOST in line  # where it is measured
    assert anb("query", "210210", "-m", "noisy_programmed_accuracy", "--json") == 2


# --- 5 and 6: anb list ----------------------------------------------------------------------------------------------
def test_list_help_describes_both_kinds_of_dataset(capsys):
    assert anb("list", "--help") == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "(one per measured isomorphism class)" not in text
    assert "one row per measured isomorphism class" in text and "all 15,625 cells" in text


@needs_shipped
def test_list_footer_counts_shown_matching_and_measured(capsys):
    df = AnalogNASBench(RELEASE).df
    assert anb("list", "-f", "analog_accuracy>=80", "-n", "5") == 0
    footer = capsys.readouterr().out.strip().splitlines()[-1]
    assert footer == f"# 5 of {int((df['analog_accuracy'] >= 80).sum())} matching, {len(df)} measured"
    assert anb("list", "-n", "2") == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == f"# 2 of {len(df)} measured architectures"


# --- 7: dataset errors ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["empty", "directory", "plain file"])
def test_a_dataset_argument_that_is_no_dataset_says_what_is_expected(kind, tmp_path, capsys):
    target = {"empty": "", "directory": str(tmp_path), "plain file": str(tmp_path / "notes.txt")}[kind]
    (tmp_path / "notes.txt").write_text("not a dataset\n")
    assert anb("info", "-d", target) == 2
    line = error_line(capsys.readouterr().err)
    assert line.startswith("anb info: error:") and "expected a dataset path" in line
    assert "PosixPath" not in line and ".parquet has no metadata sidecar" not in line


def test_a_bad_environment_variable_is_named_as_the_culprit(monkeypatch, capsys):
    monkeypatch.setenv(ENV_VAR, "bogus")
    assert anb("info") == 2
    line = error_line(capsys.readouterr().err)
    assert f"${ENV_VAR}=bogus is not a known dataset" in line and "unset it" in line


def test_out_of_range_values_are_shown_as_plain_numbers(tmp_path, capsys):
    frame = fixture_frame(5, seed=1)
    frame.loc[0, "baseline_accuracy"] = np.float64(150.0)
    path = write_dataset(frame, fixture_meta(), tmp_path / "bad", check_values=False)
    assert anb("info", "-d", path) == 2
    line = error_line(capsys.readouterr().err)
    assert "baseline_accuracy = 150.0 (expected" in line and "np." not in line


# --- 8 and 9: the dispatch and the help -----------------------------------------------------------------------------
def _commands() -> list[str]:
    parser = build_parser()
    return sorted(next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction").choices)


@pytest.mark.parametrize("command", _commands())
def test_unknown_options_are_reported_by_the_subcommand(command, capsys):
    assert anb(command, "--bogus") == 2
    line = error_line(capsys.readouterr().err)
    assert line.startswith(f"anb {command}: error:"), line  # the subcommand's parser, with its usage


@pytest.mark.parametrize("argv", [["info", "--bogus"], ["space", "--bogus"], ["query", "000432", "--bogus"],
                                  ["list", "-n", "1", "extra"]])
def test_unrecognized_arguments_name_the_subcommand(argv, capsys):
    assert anb(*argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert error_line(err) == f"anb {argv[0]}: error: unrecognized arguments: {argv[-1]}"
    assert f"usage: anb {argv[0]}" in err


def test_space_has_a_description_and_cost_takes_an_index(capsys):
    assert anb("space", "--help") == 0
    assert "search space" in capsys.readouterr().out.split("positional arguments")[0].split("\n", 2)[-1]
    assert anb("cost", "--help") == 0
    assert "index 0..15624" in " ".join(capsys.readouterr().out.split())
    assert anb("cost", "7562") == 0
    assert "(220222)" in capsys.readouterr().out
