"""Sanity checks over every dataset shipped in the package: they catch a broken pipeline, not a fact of physics.

Every embedded dataset the pipeline measured is checked here; the published release (converted, not measured by this
project) has its own tests in test_original_release.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from analognasbench.bench import available_datasets
from analognasbench.bench.files import file_sha256, read_dataset, read_meta
from analognasbench.bench.migrate import was_migrated
from analognasbench.bench.registry import DATASETS_DIR
from analognasbench.pipeline.schema import (
    ANALOG_SERIES,
    METRICS,
    NOISY_SERIES,
    PROGRAMMED_T0,
    REPEATED_METRICS,
    UNPROGRAMMED_METRICS,
)
from analognasbench.space import canonical_index

SHIPPED = available_datasets()
MEASURED = [name for name in SHIPPED if read_meta(DATASETS_DIR / name).source == "pipeline"]


def test_a_dataset_is_shipped():
    assert SHIPPED, "the package must embed at least one dataset (the default)"


@pytest.fixture(scope="module", params=MEASURED)
def shipped(request):
    df, meta = read_dataset(DATASETS_DIR / request.param)
    return df, meta


def measured(series, meta) -> list[str]:
    """The metrics of ``series`` the dataset's profile measures: a profile may read the chip at fewer drift times
    (the fidelity check reads t = 0 and 1 day only); the others are NaN by design. A dataset migrated from schema 1
    did not measure the unprogrammed t = 0 metrics (the release's meaning)."""
    times = {0, *meta.profile.get("drift_times", ())}
    skip = set(UNPROGRAMMED_METRICS) if was_migrated(meta) else set()
    return [m.value for m in series if (m.info.time_s or 0) in times and m not in skip]


def chip_series(series) -> list:
    """A drift series as the chip sees it: the programmed t = 0 reading, then the drift times."""
    return [PROGRAMMED_T0[series[0]], *series[1:]]


def test_metadata_hash_matches_the_file_and_rows(shipped):
    df, meta = shipped
    assert file_sha256(DATASETS_DIR / f"{meta.name}.parquet") == meta.sha256
    assert meta.row_count == len(df) and meta.source == "pipeline" and meta.profile_hash


def test_rows_are_distinct_class_representatives_of_one_profile(shipped):
    df, meta = shipped
    assert df.canonical_index.is_unique
    assert all(canonical_index(int(i)) == int(c) for i, c in zip(df.arch_index, df.canonical_index))
    assert set(df.profile_hash) == {meta.profile_hash} and (df.repetitions == meta.repetitions).all()


def test_accuracies_in_range_stds_non_negative_reps_complete(shipped):
    df, meta = shipped
    for m in METRICS:
        values = df[m.value].dropna()
        assert values.between(0, 100).all(), m
        assert (df[f"{m.value}_std"].dropna() >= 0).all(), m
    for m in measured(REPEATED_METRICS, meta):
        reps = df[f"{m}_reps"]
        assert all(len(r) >= 1 for r in reps), m
        if m not in {u.value for u in UNPROGRAMMED_METRICS}:  # evaluation passes, not programmings
            assert all(len(r) == meta.repetitions for r in reps), m
        assert np.allclose([np.mean(r) for r in reps], df[m]), m
    unmeasured = set(m.value for m in REPEATED_METRICS) - set(measured(REPEATED_METRICS, meta))
    assert all(df[m].isna().all() for m in unmeasured)


def test_drift_series_do_not_rise_on_average(shipped):
    df, meta = shipped
    for series in (NOISY_SERIES, ANALOG_SERIES):
        means = df[measured(chip_series(series), meta)].mean().to_numpy()
        # allow the measurement noise of a mean over the dataset (0.5 points) between neighbouring times
        assert (np.diff(means) <= 0.5).all() and means[-1] < means[0], series


def test_chip_noise_costs_accuracy_and_hwt_recovers_some(shipped):
    df, meta = shipped
    assert (df.noisy_programmed_accuracy < df.baseline_accuracy).mean() > 0.5
    if not meta.name.startswith("cifar10-calib-"):
        # The calibration candidates train for a few epochs and run one HWT epoch at a constant lr: there HWT can
        # cost accuracy on average (measured, e.g. -0.9 points for calib-n1-fast), which their card reports.
        assert (df.analog_programmed_accuracy - df.noisy_programmed_accuracy).mean() > 0


def test_migrated_datasets_say_which_t0_reading_they_hold(shipped):
    """Schema-1 datasets measured the programmed chip at t = 0: after migration it sits under the programmed names
    and the release-named (unprogrammed) columns are NaN, never the old values under a new meaning."""
    df, meta = shipped
    assert meta.schema_version == 2
    if was_migrated(meta):
        assert df.noisy_accuracy.isna().all() and df.analog_accuracy.isna().all()
        assert df.noisy_programmed_accuracy.notna().all() and "programmed" in meta.notes
    else:
        assert df.noisy_accuracy.notna().all() and df.noisy_programmed_accuracy.notna().all()


def test_the_published_release_is_the_default_and_the_measured_datasets_stay_shipped():
    """Issue 15: the published release is the embedded default; the project's own measurements stay by name."""
    from analognasbench.bench.registry import DEFAULT_DATASET

    assert DEFAULT_DATASET == "analognas-original" and DEFAULT_DATASET in SHIPPED
    assert "cifar10-lowcost" in MEASURED and "synthetic-smoke" in MEASURED
