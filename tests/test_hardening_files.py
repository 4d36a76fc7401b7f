"""Issue 16, datasets: writing never destroys a dataset by surprise, integrity is required, values are validated."""

from __future__ import annotations

import dataclasses
import json
import logging
import os

import numpy as np
import pytest
from bench_fixture import fixture_frame, fixture_meta, write_fixture

from analognasbench.bench import AnalogNASBench, DatasetIntegrityError, read_dataset, write_dataset
from analognasbench.bench.errors import DatasetExistsError, DatasetNotFoundError
from analognasbench.bench.files import dataset_paths
from analognasbench.bench.validate import InvalidValuesError
from analognasbench.cli import main


def anb(*argv: str) -> int:
    try:
        return main([str(a) for a in argv])
    except SystemExit as exc:  # argparse
        return int(exc.code or 0)


def one_error_line(err: str, *needles: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


@pytest.fixture
def ds(tmp_path):
    return write_fixture(tmp_path, n=30, name="ds")


# --- 1. writing is never destructive by surprise ------------------------------------------------------------------
def test_json_export_does_not_overwrite_a_parquet_exports_sidecar(tmp_path, ds, capsys):
    out = tmp_path / "exp" / "x"
    assert anb("export", "-d", ds, "--format", "parquet", "-o", out) == 0
    capsys.readouterr()
    assert anb("export", "-d", ds, "--format", "json", "-o", f"{out}.json") == 2
    one_error_line(capsys.readouterr().err, "x.json", "part of the dataset", "--force")
    assert len(AnalogNASBench(f"{out}.parquet")) == 30  # the Parquet export still loads


def test_export_does_not_write_over_its_own_source(ds, capsys):
    for target in (ds, ds.with_suffix(".json")):
        assert anb("export", "-d", ds, "-o", target, "--format", "csv") == 2
        one_error_line(capsys.readouterr().err, target.name)
    assert len(AnalogNASBench(ds)) == 30
    assert anb("export", "-d", ds, "-o", ds, "--format", "parquet", "--force") == 0  # asked for: allowed, and whole
    assert len(AnalogNASBench(ds)) == 30


def test_parquet_export_and_write_dataset_refuse_an_existing_pair_unless_forced(tmp_path, ds, capsys):
    assert anb("export", "-d", ds, "-F", "parquet", "-o", tmp_path / "copy") == 0
    assert anb("export", "-d", ds, "-F", "parquet", "-o", tmp_path / "copy") == 2
    assert "--force" in capsys.readouterr().err
    with pytest.raises(DatasetExistsError, match="copy.parquet exists"):
        write_dataset(fixture_frame(5), fixture_meta(), tmp_path / "copy")
    write_dataset(fixture_frame(5), fixture_meta(), tmp_path / "copy", overwrite=True)
    assert len(read_dataset(tmp_path / "copy")[0]) == 5


def test_an_interrupted_pair_write_is_never_accepted_as_a_dataset(tmp_path, monkeypatch):
    """Table renamed into place, then the process dies before the sidecar's rename: a reader refuses the pair."""
    real_replace = os.replace

    def die_at_sidecar(src, dst):
        if str(dst).endswith(".json"):
            raise KeyboardInterrupt("killed between the two renames")
        real_replace(src, dst)

    write_dataset(fixture_frame(10, seed=1), fixture_meta(), tmp_path / "old")
    monkeypatch.setattr(os, "replace", die_at_sidecar)
    with pytest.raises(KeyboardInterrupt):
        write_dataset(fixture_frame(5), fixture_meta(), tmp_path / "new")
    with pytest.raises(KeyboardInterrupt):
        write_dataset(fixture_frame(5), fixture_meta(), tmp_path / "old", overwrite=True)
    monkeypatch.setattr(os, "replace", real_replace)
    with pytest.raises(DatasetNotFoundError):  # a table without its sidecar is not a dataset
        read_dataset(tmp_path / "new")
    with pytest.raises(DatasetIntegrityError, match="SHA-256"):  # a new table beside the old sidecar is refused
        read_dataset(tmp_path / "old")
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # no temporary file left behind


# --- 3. integrity is required ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["empty", "absent"])
def test_a_dataset_without_sha256_is_refused_unless_no_verify(ds, how, caplog, capsys):
    sidecar = ds.with_suffix(".json")
    data = json.loads(sidecar.read_text())
    if how == "empty":
        data["sha256"] = ""
    else:
        del data["sha256"]
    sidecar.write_text(json.dumps(data))
    with pytest.raises(DatasetIntegrityError, match="no SHA-256.*--no-verify"):
        AnalogNASBench(ds)
    assert anb("info", "-d", ds) == 2
    one_error_line(capsys.readouterr().err, "ds.json", "SHA-256")
    with caplog.at_level(logging.WARNING):
        assert len(AnalogNASBench(ds, verify=False)) == 30
    assert "verification skipped" in caplog.text and "unnoticed" in caplog.text
    assert anb("info", "-d", ds, "--no-verify") == 0


BAD_VALUES = [
    ("analog_accuracy", np.nan, None),  # NaN: not measured -- allowed
    ("analog_accuracy", np.inf, "analog_accuracy"),
    ("baseline_accuracy", 1e9, "baseline_accuracy"),
    ("noisy_drift_60", -50.0, "noisy_drift_60"),
    ("analog_drift_86400_std", -1.0, "analog_drift_86400_std"),
    ("analog_drift_86400_std", np.inf, "analog_drift_86400_std"),
    ("noisy_accuracy_std", np.nan, None),  # NaN std: not published -- allowed
    ("params", -5, "params"),
]


@pytest.mark.parametrize(("column", "value", "refused"), BAD_VALUES)
def test_values_are_validated_on_load_naming_architecture_and_column(tmp_path, column, value, refused, capsys):
    frame = fixture_frame(20, seed=2)
    frame.loc[3, column] = value
    if column == "analog_accuracy" and value != value:
        frame.at[3, "analog_accuracy_reps"] = []
    path = write_dataset(frame, fixture_meta(), tmp_path / "bad", check_values=False)
    if refused is None:
        assert len(AnalogNASBench(path)) == 20
        return
    arch = frame.loc[3, "arch"]
    with pytest.raises(InvalidValuesError, match=rf"architecture \({arch[1:-1]}\) column {refused} "):
        AnalogNASBench(path)
    assert anb("query", "-d", path, "0") == 2
    one_error_line(capsys.readouterr().err, "bad.parquet", refused, "--drop-invalid")
    bench = AnalogNASBench(path, on_invalid="drop")
    assert len(bench) == 19 and arch not in {str(a) for a in bench.list_available_architectures()}


def test_repetitions_inconsistent_with_their_mean_are_refused(tmp_path):
    frame = fixture_frame(20, seed=2)
    frame.at[5, "analog_drift_60"] = frame.at[5, "analog_drift_60"] + 3.0
    path = write_dataset(frame, fixture_meta(), tmp_path / "bad", check_values=False)
    with pytest.raises(InvalidValuesError, match="column analog_drift_60 .*mean of its 3 repetitions"):
        read_dataset(path)


def test_the_report_no_longer_sees_infinite_improvements(tmp_path, capsys):
    frame = fixture_frame(20, seed=2)
    frame.loc[0, "analog_accuracy"] = np.inf
    path = write_dataset(frame, fixture_meta(), tmp_path / "bad", check_values=False)
    assert anb("report", "--dataset", path, "--no-nas", "--out", tmp_path / "rep", "--quiet") == 2
    one_error_line(capsys.readouterr().err, "analog_accuracy", "inf")


@pytest.mark.parametrize(("key", "value"), [
    ("row_count", "x"), ("schema_version", "2"), ("profile", []), ("sha256", 5), ("name", None),
    ("row_count", 1e400), ("repetitions", -1), ("created", {"a": 1}), ("software", "numpy"), ("sha256", "abc"),
])
def test_damaged_metadata_is_one_line_naming_the_key(ds, key, value, capsys):
    sidecar = ds.with_suffix(".json")
    data = json.loads(sidecar.read_text())
    data[key] = value
    sidecar.write_text(json.dumps(data))
    with pytest.raises(DatasetIntegrityError, match=key):
        read_dataset(ds)
    for command in (["info"], ["query", "0"], ["list"], ["export", "-F", "csv"]):
        assert anb(*command, "-d", ds) == 2
        one_error_line(capsys.readouterr().err, "ds.json", key)


def test_strict_json_sidecar(tmp_path):
    meta = dataclasses.replace(fixture_meta(), extra={"ratio": float("nan")})
    write_dataset(fixture_frame(5), meta, tmp_path / "n")
    text = dataset_paths(tmp_path / "n")[1].read_text()
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
