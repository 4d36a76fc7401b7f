"""Dataset files: write -> read round trip, metadata round trip, and clear errors for damaged files."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from bench_fixture import fixture_frame, fixture_meta

from analognasbench.bench import (
    AnalogNASBench,
    DatasetIntegrityError,
    DatasetMeta,
    DatasetNotFoundError,
    read_dataset,
    write_dataset,
)
from analognasbench.pipeline.schema import SCHEMA_VERSION, all_columns


@pytest.fixture(scope="module")
def frame():
    return fixture_frame(60, seed=3)


def test_round_trip_keeps_every_value_and_fills_integrity_fields(tmp_path, frame):
    path = write_dataset(frame, fixture_meta(), tmp_path / "ds")
    assert path == tmp_path / "ds.parquet" and (tmp_path / "ds.json").is_file()
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*"))
    df, meta = read_dataset(tmp_path / "ds")
    assert meta.row_count == len(frame) == len(df)
    assert len(meta.sha256) == 64 and meta.schema_version == SCHEMA_VERSION
    assert list(df.columns) == all_columns()
    assert df["arch"].tolist() == frame["arch"].tolist()
    assert df["arch"].iloc[0].startswith("(") and isinstance(df["arch"].iloc[0], str)
    np.testing.assert_allclose(df["analog_drift_86400"], frame["analog_drift_86400"])
    for got, want in zip(df["noisy_accuracy_reps"], frame["noisy_accuracy_reps"]):
        assert [float(x) for x in got] == want
    assert json.loads(df["curve_hwt"].iloc[0]) == json.loads(frame["curve_hwt"].iloc[0])
    # Any spelling of the path reads the same dataset.
    assert read_dataset(tmp_path / "ds.parquet")[1] == read_dataset(tmp_path / "ds.json")[1] == meta


def test_metadata_round_trip_keeps_unknown_keys(tmp_path, frame):
    write_dataset(frame, fixture_meta(), tmp_path / "ds")
    sidecar = tmp_path / "ds.json"
    data = json.loads(sidecar.read_text())
    data["future_field"] = {"x": 1}
    sidecar.write_text(json.dumps(data))
    _, meta = read_dataset(tmp_path / "ds")
    assert meta.extra == {"future_field": {"x": 1}}
    assert DatasetMeta.from_json(meta.to_json()) == meta
    assert json.loads(meta.to_json())["future_field"] == {"x": 1}


def test_truncated_table_is_refused_naming_the_file(tmp_path, frame):
    path = write_dataset(frame, fixture_meta(), tmp_path / "ds")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(DatasetIntegrityError, match=r"ds\.parquet.*(truncated|corrupted)"):
        read_dataset(tmp_path / "ds")
    with pytest.raises(DatasetIntegrityError, match="ds.parquet"):
        AnalogNASBench(path)


def test_flipped_byte_is_detected(tmp_path, frame):
    path = write_dataset(frame, fixture_meta(), tmp_path / "ds")
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(DatasetIntegrityError, match="SHA-256"):
        read_dataset(path)


def test_row_count_and_schema_mismatches_are_reported(tmp_path, frame):
    write_dataset(frame, fixture_meta(), tmp_path / "ds")
    sidecar = tmp_path / "ds.json"
    data = json.loads(sidecar.read_text())
    sidecar.write_text(json.dumps({**data, "row_count": 1}))
    with pytest.raises(DatasetIntegrityError, match="rows"):
        read_dataset(tmp_path / "ds")
    sidecar.write_text(json.dumps({**data, "schema_version": SCHEMA_VERSION + 1}))
    with pytest.raises(DatasetIntegrityError, match="schema version"):
        read_dataset(tmp_path / "ds")
    sidecar.write_text("{not json")
    with pytest.raises(DatasetIntegrityError, match="ds.json"):
        read_dataset(tmp_path / "ds")


def test_writer_rejects_frames_missing_schema_columns_or_with_bad_types(tmp_path, frame):
    with pytest.raises(DatasetIntegrityError, match="analog_accuracy_std"):
        write_dataset(frame.drop(columns=["analog_accuracy_std"]), fixture_meta(), tmp_path / "ds")
    bad = frame.copy()
    bad["analog_accuracy"] = "high"
    with pytest.raises(DatasetIntegrityError, match="analog_accuracy"):
        write_dataset(bad, fixture_meta(), tmp_path / "ds")
    assert not (tmp_path / "ds.json").exists()


def test_missing_files_raise_not_found(tmp_path, frame):
    with pytest.raises(DatasetNotFoundError, match="nothere.json"):
        read_dataset(tmp_path / "nothere")
    path = write_dataset(frame, fixture_meta(), tmp_path / "ds")
    path.unlink()
    with pytest.raises(DatasetNotFoundError, match="ds.parquet"):
        read_dataset(tmp_path / "ds")


def test_loader_rejects_rows_inconsistent_with_the_search_space(tmp_path, frame):
    bad = frame.copy()
    bad.loc[0, "arch"] = "(4, 4, 4, 4, 4, 4)"
    write_dataset(bad, fixture_meta(), tmp_path / "bad")
    with pytest.raises(DatasetIntegrityError, match="row 0 is inconsistent"):
        AnalogNASBench(tmp_path / "bad")
    dup = frame.copy()
    dup.loc[1] = dup.loc[0]
    write_dataset(dup, fixture_meta(), tmp_path / "dup")
    with pytest.raises(DatasetIntegrityError, match="more than one row"):
        AnalogNASBench(tmp_path / "dup")


def test_meta_requires_a_name():
    with pytest.raises(ValueError, match="name"):
        DatasetMeta.from_dict({"version": "1"})
    assert dataclasses.replace(fixture_meta(), name="x").name == "x"
