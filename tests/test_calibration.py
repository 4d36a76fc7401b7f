"""The calibration against the release (issue 18): the sample and the agreement numbers, on synthetic frames."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analognasbench.bench.calibration import (
    agreement,
    calibration_sample,
    calibration_table,
    cost_per_architecture,
    drop_summary,
    read_arch_file,
    release_by_class,
)
from analognasbench.pipeline.schema import Metric
from analognasbench.space import canonical_index, representatives

SAMPLE_FILE = Path(__file__).resolve().parent.parent / "scripts" / "calibration-archs.txt"


def _release(seed: int = 0) -> pd.DataFrame:
    """A fake release: every cell of 400 classes, noisy accuracy a function of the class (members agree)."""
    rng = np.random.default_rng(seed)
    classes = np.asarray(representatives())[:400]
    value = dict(zip(classes.tolist(), rng.uniform(10, 90, len(classes))))
    rows = [{"canonical_index": int(c), "arch_index": int(c), "baseline_accuracy": value[c] + 20,
             "noisy_accuracy": value[c], "analog_accuracy": value[c] + 5, "analog_drift_86400": value[c] + 3}
            for c in classes.tolist()]
    return pd.DataFrame(rows)


def _profile_rows(release: pd.DataFrame, transform) -> pd.DataFrame:
    by_class = release_by_class(release)
    df = pd.DataFrame({"canonical_index": by_class.index})
    for m in ("baseline_accuracy", "noisy_accuracy", "analog_accuracy", "analog_drift_86400"):
        df[m] = transform(by_class[m].to_numpy())
    df["time_total_s"], df["device"] = 60.0, "cpu (x86_64, 1 threads)"
    return df


def test_sample_is_one_class_per_stratum_and_seeded():
    release = _release()
    sample = calibration_sample(release, 40, seed=1)
    assert len({a.index for a in sample}) == 40 and all(canonical_index(a) == a.index for a in sample)
    assert [a.index for a in sample] == [a.index for a in calibration_sample(release, 40, seed=1)]
    values = release_by_class(release).noisy_accuracy.sort_values()
    ranks = sorted(int(values.index.get_loc(a.index)) for a in sample)
    strata = [r * 40 // len(values) for r in ranks]
    assert strata == list(range(40))  # one per equal-count stratum, so the whole range is covered
    with pytest.raises(ValueError, match="exceeds"):
        calibration_sample(release, 401)


def test_shipped_sample_file_holds_120_distinct_class_representatives():
    archs = read_arch_file(SAMPLE_FILE)
    assert len(archs) >= 100 and len({a.index for a in archs}) == len(archs)
    assert all(canonical_index(a) == a.index for a in archs)


def test_agreement_is_perfect_for_a_monotone_copy_and_reversed_for_a_mirror():
    release = _release()
    same = agreement(_profile_rows(release, lambda v: 0.5 * v + 3), release, [Metric.NOISY])[0]
    assert same.n == 400 and same.kendall_tau == pytest.approx(1.0) and same.spearman_rho == pytest.approx(1.0)
    assert same.top10_overlap == 1.0
    mirror = agreement(_profile_rows(release, lambda v: -v), release, [Metric.NOISY])[0]
    assert mirror.kendall_tau == pytest.approx(-1.0) and mirror.top10_overlap == 0.0


def test_unmeasured_metrics_are_nan_not_an_error():
    release = _release()
    rows = _profile_rows(release, lambda v: v)
    rows["noisy_accuracy"] = math.nan
    a = agreement(rows, release, [Metric.NOISY, Metric.QAT])
    assert all(math.isnan(x.kendall_tau) for x in a) and a[0].n == 0


def test_drop_and_cost_summaries():
    release = _release()
    rows = _profile_rows(release, lambda v: v)
    drop = drop_summary(rows)
    assert drop["drop_median"] == pytest.approx(20.0) and drop["hwt_gain_median"] == pytest.approx(5.0)
    rows.loc[:199, "device"] = "cpu (x86_64, 2 threads)"
    cost = cost_per_architecture(rows)
    assert cost["seconds"] == 60.0 and cost["core_seconds"] == pytest.approx(90.0)  # median of 60 and 120
    table = calibration_table({"p": rows}, release, [Metric.NOISY, Metric.ANALOG_DRIFT_86400])
    assert list(table.metric) == ["noisy_accuracy", "analog_drift_86400"] and (table.kendall_tau == 1.0).all()


def test_cross_semantics_pairs_compare_two_columns():
    release = _release()
    rows = _profile_rows(release, lambda v: v)
    rows["noisy_programmed_accuracy"] = rows["noisy_accuracy"] - 10
    (a,) = agreement(rows, release, [(Metric.NOISY_PROGRAMMED, Metric.NOISY)])
    assert a.metric == "noisy_programmed_accuracy~noisy_accuracy" and a.kendall_tau == pytest.approx(1.0)


def test_tau_standard_error_shrinks_with_n():
    release = _release()
    small = agreement(_profile_rows(release, lambda v: v).head(10), release, [Metric.NOISY])[0]
    large = agreement(_profile_rows(release, lambda v: v), release, [Metric.NOISY])[0]
    assert small.tau_se == pytest.approx(math.sqrt(2 * 25 / (9 * 10 * 9))) and large.tau_se < small.tau_se
