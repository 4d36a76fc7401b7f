"""Schema 1 -> 2: old datasets keep their numbers under the names that say what they are (issue 18)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from analognasbench.bench.files import DatasetMeta, read_dataset, write_dataset
from analognasbench.bench.migrate import MIGRATION_NOTE, migrate, was_migrated
from analognasbench.pipeline.schema import SCHEMA_VERSION, Metric, all_columns


def _schema1_frame() -> pd.DataFrame:
    """Two rows as a schema-1 pipeline wrote them: no programmed columns, the programmed chip under the old names."""
    cols = [c for c in all_columns() if "programmed" not in c]
    rows = []
    for i, (noisy, analog) in enumerate(((40.0, 45.0), (50.0, 52.0))):
        row = {c: math.nan for c in cols}
        row.update(arch_index=i, arch=str((0,) * 6), arch_str="", canonical_index=i, params=1, flops=1.0,
                   profile_name="p", profile_hash="h", seed=0, device="cpu", repetitions=2, created="")
        for m in Metric:
            if m.value in cols:
                row[m.value], row[f"{m.value}_std"] = 30.0, 1.0
                if m.repeated:
                    row[f"{m.value}_reps"] = [29.0, 31.0]
        row.update({"noisy_accuracy": noisy, "noisy_accuracy_std": 2.0, "noisy_accuracy_reps": [noisy - 2, noisy + 2],
                    "analog_accuracy": analog, "analog_accuracy_std": 1.0,
                    "analog_accuracy_reps": [analog - 1, analog + 1]})
        for c in ("curve_digital", "curve_qat", "curve_hwt"):
            row[c] = "[]"
        rows.append(row)
    return pd.DataFrame(rows)


def test_schema1_pipeline_rows_move_to_the_programmed_names():
    df = _schema1_frame()
    meta = DatasetMeta(name="old", schema_version=1, notes="made by hand")
    out, new = migrate(df, meta)
    assert list(out.noisy_programmed_accuracy) == [40.0, 50.0] and list(out.analog_programmed_accuracy) == [45.0, 52.0]
    assert list(out.noisy_programmed_accuracy_std) == [2.0, 2.0]
    assert out.noisy_programmed_accuracy_reps[0] == [38.0, 42.0]
    assert out.noisy_accuracy.isna().all() and out.analog_accuracy.isna().all()
    assert out.noisy_accuracy_std.isna().all() and all(len(r) == 0 for r in out.noisy_accuracy_reps)
    assert out.noisy_drift_60.equals(df.noisy_drift_60)  # everything else untouched
    assert new.schema_version == SCHEMA_VERSION and was_migrated(new) and new.notes.startswith("made by hand")
    assert MIGRATION_NOTE in new.notes
    assert df.noisy_accuracy.tolist() == [40.0, 50.0]  # the input frame is not modified


def test_schema1_release_rows_keep_their_meaning():
    df = _schema1_frame()
    out, new = migrate(df, DatasetMeta(name="rel", schema_version=1, source="original-release"))
    assert out.noisy_accuracy.tolist() == [40.0, 50.0] and out.noisy_programmed_accuracy.isna().all()
    assert new.schema_version == SCHEMA_VERSION and MIGRATION_NOTE not in new.notes


def test_current_datasets_are_left_alone():
    df = _schema1_frame()
    meta = DatasetMeta(name="new")
    out, same = migrate(df, meta)
    assert out is df and same is meta and not was_migrated(meta)


def test_read_dataset_migrates_a_schema1_file_and_the_rewrite_keeps_the_label(tmp_path):
    # a schema-1 file: the old names hold the programmed chip (the programmed columns, absent in schema 1, are
    # written as NaN here only because write_dataset wants every current column), sidecar says schema 1
    df = _schema1_frame()
    for p in ("noisy_programmed_accuracy", "analog_programmed_accuracy"):
        df[p], df[f"{p}_std"], df[f"{p}_reps"] = math.nan, math.nan, [[] for _ in range(len(df))]
    path = write_dataset(df, DatasetMeta(name="old"), tmp_path / "old")
    sidecar = path.with_suffix(".json")
    sidecar.write_text(sidecar.read_text().replace(f'"schema_version": {SCHEMA_VERSION}', '"schema_version": 1'))
    back, back_meta = read_dataset(path)
    assert back_meta.schema_version == SCHEMA_VERSION and was_migrated(back_meta)
    assert back.noisy_accuracy.isna().all() and back.noisy_programmed_accuracy.tolist() == [40.0, 50.0]
    rewritten = write_dataset(back, back_meta, tmp_path / "new")
    again, again_meta = read_dataset(rewritten)
    assert again_meta.schema_version == SCHEMA_VERSION and was_migrated(again_meta)
    assert again.noisy_programmed_accuracy.tolist() == [40.0, 50.0] and again.noisy_accuracy.isna().all()


@pytest.mark.parametrize("name", ["cifar10-lowcost", "synthetic-smoke"])
def test_shipped_datasets_are_stored_in_the_current_schema(name):
    from analognasbench.bench.registry import DATASETS_DIR

    meta = DatasetMeta.from_json((DATASETS_DIR / f"{name}.json").read_text())
    assert meta.schema_version == SCHEMA_VERSION


def test_schema1_store_rows_are_upgraded_when_exported():
    from analognasbench.pipeline.schema import upgrade_row

    old = _schema1_frame().to_dict("records")[0]
    new = upgrade_row(old)
    assert new["noisy_programmed_accuracy"] == 40.0 and new["analog_programmed_accuracy_reps"] == [44.0, 46.0]
    assert math.isnan(new["noisy_accuracy"]) and new["noisy_accuracy_reps"] == []
    assert upgrade_row(new) is new and old["noisy_accuracy"] == 40.0
