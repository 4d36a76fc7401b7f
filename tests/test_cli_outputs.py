"""What ``anb compare``, ``anb report`` and ``anb search`` leave behind and print: bad input refused in one line with
no output directory created, option ranges that mean something, and labels that say what was searched (cells
where a dataset measured isomorphic cells separately, classes where it holds one row per class)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from bench_fixture import fixture_frame, fixture_meta, write_fixture

from analognasbench.bench import write_dataset
from analognasbench.cli import main
from analognasbench.space.features import cell_canonical

PAIR = ["--objectives", "analog_drift_86400:max", "hw_energy_uj:min"]


@pytest.fixture(scope="module")
def classes(tmp_path_factory) -> Path:
    """A dataset of 60 class representatives (one row per isomorphism class)."""
    return write_fixture(tmp_path_factory.mktemp("classes"), n=60, seed=5)


@pytest.fixture(scope="module")
def members(tmp_path_factory) -> Path:
    """A dataset like the published release: two isomorphic cells of each of 30 classes, measured separately."""
    canon = cell_canonical()
    values, counts = np.unique(canon, return_counts=True)
    cells = sorted(int(c) for v in values[counts >= 2][:30] for c in np.flatnonzero(canon == v)[:2])
    return write_dataset(fixture_frame(indices=cells, seed=1), fixture_meta(), tmp_path_factory.mktemp("m") / "members")


def _refused(argv: list[str], tmp_path: Path, monkeypatch, capsys) -> str:
    """Run ``anb argv`` in an empty directory: exit 2, one error line, and nothing created there."""
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"anb {argv[0]}: error: ") and "\n" not in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # no output directory left behind
    return err


@pytest.mark.parametrize("bad", [
    ["--methods", "bogus"],
    ["-d", "nosuch"],
    [*PAIR[:2], "analog_drift_86400:bad"],
    [*PAIR, "--hv-reference", "100", "0"],
    ["--surrogate-samples", "1"],
])
def test_compare_refuses_bad_input_before_creating_its_output(bad, classes, tmp_path, monkeypatch, capsys) -> None:
    dataset = [] if "-d" in bad else ["-d", str(classes)]
    _refused(["compare", *dataset, "--seeds", "1", "--budget", "3", "--out", "c2", *bad], tmp_path, monkeypatch,
             capsys)


@pytest.mark.parametrize(("bad", "says"), [
    (["--dataset", "nosuch"], "nosuch"),
    (["-d", "nosuch"], "nosuch"),
    (["--reference", "nosuch"], "--reference nosuch"),
    (["--release", "nosuch"], "--release nosuch"),
    (["--seed-check", "nosuch"], "--seed-check nosuch"),
    (["--predict", "/nonexist"], "/nonexist"),
    (["--baseline-quantile", "2"], "--baseline-quantile 2: expected a quantile in [0, 1)"),
    (["--baseline-quantile", "1"], "--baseline-quantile 1"),
    (["--robust-quantile", "-0.5"], "--robust-quantile -0.5: expected a quantile strictly between 0 and 1"),
    (["--robust-quantile", "1"], "--robust-quantile 1"),
    (["--alpha", "2"], "--alpha 2: expected a significance level strictly between 0 and 1"),
    (["--alpha", "0"], "--alpha 0: expected a significance level strictly between 0 and 1"),
    (["--alpha", "nan"], "--alpha nan"),
    (["--only", "drift", "--reference", "nosuch"], "--reference nosuch"),  # unused under --only, still refused
])
def test_report_refuses_bad_input_before_creating_its_output(bad, says, classes, tmp_path, monkeypatch,
                                                             capsys) -> None:
    dataset = [] if {"--dataset", "-d"} & set(bad) else ["-d", str(classes)]
    err = _refused(["report", *dataset, "--no-nas", "--calibration", "none", "--quiet", "--out", "rN", *bad],
                   tmp_path, monkeypatch, capsys)
    assert says in err


def test_report_takes_d_like_every_dataset_reader(classes, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["report", "-d", str(classes), "--only", "drift", "--no-nas", "--calibration", "none", "--predict",
                 "none", "--quiet", "--out", "rep", "--alpha", "0.01"]) == 0
    assert "test-fixture" in (tmp_path / "rep" / "report.md").read_text()


def test_search_and_compare_say_they_searched_cells_on_a_dataset_of_separately_measured_cells(
        members, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["search", "exhaustive", "-d", str(members)]) == 0
    out = capsys.readouterr().out
    assert "60 (every candidate cell evaluated;" in out and "evaluated all 60 candidates, one per cell (" in out
    assert main(["compare", "-d", str(members), "--methods", "exhaustive", "random", "--seeds", "1", "--budget", "3",
                 "--out", "c"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("exhaustive optimum"))
    cell = int(line.split("(cell ")[1].split(",")[0])
    assert f"class representative {int(cell_canonical()[cell])}; searched 60 cells" in line


def test_search_and_compare_say_they_searched_classes_on_a_dataset_of_classes(classes, tmp_path, monkeypatch,
                                                                             capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["search", "exhaustive", "-d", str(classes)]) == 0
    out = capsys.readouterr().out
    assert "60 (every candidate class evaluated;" in out and "evaluated all 60 candidates, one per isomorphism class" in out
    assert main(["compare", "-d", str(classes), "--methods", "exhaustive", "--seeds", "1", "--out", "c"]) == 0
    assert "; searched 60 isomorphism classes)" in capsys.readouterr().out
    # exhaustive search alone has no anytime curve: the table without the curve files, not an error halfway
    assert (tmp_path / "c" / "table1.csv").is_file() and not (tmp_path / "c" / "anytime.csv").exists()


def test_exhaustive_search_of_the_release_evaluates_its_15625_cells(capsys) -> None:
    """The audit's case: the default dataset (the published release) holds every cell as its own measured row."""
    from analognasbench.bench.registry import shipped_release

    if shipped_release() is None:
        pytest.skip("the published release is not shipped in this checkout")
    assert main(["search", "exhaustive", "-d", shipped_release()]) == 0
    out = capsys.readouterr().out
    assert "15625 (every candidate cell evaluated;" in out and "evaluated all 15,625 candidates, one per cell (" in out
    # The measured metrics line up and leave out those the release does not measure (no 'nan' rows).
    rows = out.split("  measured metrics\n")[1].splitlines()
    rows = rows[:next((i for i, r in enumerate(rows) if not r.startswith("    ")), len(rows))]
    assert len(rows) == 13 and "nan" not in out and len({r.rindex(" ") for r in rows}) == 1


def test_report_nas_section_names_cells_on_a_dataset_of_separately_measured_cells(members) -> None:
    from analognasbench.bench.registry import load
    from analognasbench.report.nas import run_nas_comparison

    notes = run_nas_comparison(load(members)[0], seeds=1, budget=5).notes
    assert "search space: the 60 measured cells of this dataset, each its own candidate" in notes
    assert "isomorphism classes" not in notes


@pytest.mark.parametrize(("reference", "names"), [
    (["100", "0"], ["100 for analog_drift_86400:max is not below", "0 for hw_energy_uj:min is not above"]),
    (["0", "0"], ["0 for hw_energy_uj:min is not above any candidate's value"]),
    (["100", "1e12"], ["100 for analog_drift_86400:max is not below any candidate's value"]),
])
def test_search_refuses_a_hypervolume_reference_no_candidate_dominates(reference, names, classes, tmp_path,
                                                                       monkeypatch, capsys) -> None:
    err = _refused(["search", "random", "-d", str(classes), "--budget", "5", *PAIR, "--hv-reference", *reference],
                   tmp_path, monkeypatch, capsys)
    assert all(n in err for n in names)


def test_search_takes_a_reference_point_worse_than_the_candidates(classes, capsys) -> None:
    assert main(["search", "random", "-d", str(classes), "--budget", "5", *PAIR, "--hv-reference", "0", "1e12"]) == 0
    hv = next(x for x in capsys.readouterr().out.splitlines() if "hypervolume" in x)
    assert 0 < float(hv.split("HV ratio ")[1].split()[0]) <= 1


def test_a_reference_point_no_single_candidate_beats_in_both_terms_is_refused() -> None:
    """Each term's value is beaten by some candidate, but by none in both at once: the area is still empty."""
    from analognasbench.search.multiobjective import MultiObjective, check_reference

    objective = MultiObjective(terms=("analog_drift_86400:max", "noisy_drift_86400:max"))
    points = np.array([[90.0, 10.0], [10.0, 90.0]])
    with pytest.raises(ValueError, match="no candidate is better than it in every objective at once"):
        check_reference((50.0, 50.0), points, objective)
    check_reference((5.0, 5.0), points, objective)  # worse than both: fine


@pytest.mark.parametrize(("command", "says"), [("compare", "Table 1"), ("search", "search method")])
def test_compare_and_search_help_describe_the_command(command, says, capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        main([command, "--help"])
    assert stop.value.code == 0
    description = capsys.readouterr().out.split("\n\n")[1]  # between the usage and the options
    assert not description.startswith(("options:", "positional")) and says in description


def test_report_help_lists_d_for_the_dataset(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    assert "--dataset DATASET, -d DATASET" in capsys.readouterr().out
