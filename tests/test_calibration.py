"""The calibration against the release (issue 18): the sample and the agreement numbers, on synthetic frames."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analognasbench.fidelity.calibration import (
    agreement,
    agreement_limits,
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


def test_release_agreement_card_records_each_metric_and_the_cross_reading_only_where_needed():
    from analognasbench.fidelity.quality import release_agreement

    release = _release()
    rows = _profile_rows(release, lambda v: v)
    rows["noisy_programmed_accuracy"] = -rows["noisy_accuracy"]  # ranks reversed
    card = release_agreement(rows, release, "fake-release", "ab" * 32)
    assert card["reference"] == "fake-release" and card["classes"] == 400
    assert card["metrics"]["noisy_accuracy"] == {"n": 400, "kendall_tau": 1.0, "spearman_rho": 1.0,
                                                 "top10_overlap": 1.0}
    assert "noisy_programmed_accuracy~noisy_accuracy" not in card["metrics"]  # the release's reading is held
    rows["noisy_accuracy"] = math.nan  # a dataset measured before the release's meaning was known
    card = release_agreement(rows, release)
    assert "noisy_accuracy" not in card["metrics"]
    assert card["metrics"]["noisy_programmed_accuracy~noisy_accuracy"]["kendall_tau"] == pytest.approx(-1.0)


def test_agreement_limits_tell_the_digital_part_from_the_chip_part():
    """A reading is baseline minus its loss on the chip: a profile with the release's baseline and random losses
    becomes the release exactly when the release's loss is put in, and one with the release's losses when the
    release's baseline is."""
    rng = np.random.default_rng(5)
    classes = np.asarray(representatives())[:200].tolist()
    base, loss, aloss = rng.uniform(60, 95, 200), rng.uniform(0, 60, 200), rng.uniform(0, 20, 200)
    release = pd.DataFrame({"canonical_index": classes, "baseline_accuracy": base, "noisy_accuracy": base - loss,
                            "analog_drift_86400": base - aloss})
    digital_only = release.assign(noisy_accuracy=base - rng.uniform(0, 60, 200),
                                  analog_drift_86400=base - rng.uniform(0, 20, 200))
    chip_only = release.assign(baseline_accuracy=rng.uniform(60, 95, 200))
    chip_only = chip_only.assign(noisy_accuracy=chip_only.baseline_accuracy - loss,
                                 analog_drift_86400=chip_only.baseline_accuracy - aloss)
    a, b = agreement_limits(digital_only, release), agreement_limits(chip_only, release)
    for target in ("noisy", "analog_1d"):
        assert a[f"{target}_n"] == 200
        assert a[f"{target}_with_release_loss"] == pytest.approx(1.0)
        assert a[f"{target}_our_baseline"] == pytest.approx(a[f"{target}_release_baseline"])
        assert a[f"{target}_measured"] < 0.9
        assert b[f"{target}_with_release_baseline"] == pytest.approx(1.0)
        assert b[f"{target}_our_loss"] > 0.3 > abs(b[f"{target}_our_baseline"])
    assert "noisy_n" not in agreement_limits(digital_only.drop(columns="noisy_accuracy"), release)


def test_calibration_section_tables_findings_and_frontier():
    from analognasbench.report.calibration import calibration_section

    release = _release()
    good = _profile_rows(release, lambda v: v)
    rng = np.random.default_rng(3)
    noisy = _profile_rows(release, lambda v: v + rng.normal(0, 30, len(v)))
    noisy["time_total_s"] = 20.0
    sec = calibration_section({"good": good, "noisy": noisy, "empty": good.iloc[:0]}, release, chosen="good")
    summary = sec.tables["calibration_summary"][1].set_index("profile")
    assert list(summary.index) == ["good", "noisy"]  # an empty candidate is left out
    assert summary.loc["good", "noisy_accuracy"] == "1.00" and float(summary.loc["noisy", "noisy_accuracy"]) < 0.9
    assert summary.loc["noisy", "core-s/arch"] == "20.0" and summary.loc["good", "noisy drop"] == "20.0"
    assert "Best agreement on noisy accuracy: good" in sec.findings[0] and "Chosen profile: good" in sec.findings[1]
    assert "calibration_limits" in sec.tables and any("What limits" in f for f in sec.findings)
    fig = sec.figures["calibration_frontier"].draw()
    assert len(fig.axes) == 2
    assert calibration_section({}, release).skipped


def test_record_writes_the_agreement_into_a_dataset_card_and_refuses_other_references(tmp_path, capsys):
    from analognasbench.bench.files import read_meta
    from analognasbench.bench.registry import resolve_dataset, shipped_release
    from analognasbench.cli import main

    if shipped_release() is None:
        pytest.skip("the published release is not shipped in this checkout")
    src = resolve_dataset("cifar10-seed1-check")
    for suffix in (".parquet", ".json"):
        (tmp_path / f"d{suffix}").write_bytes(src.with_suffix(suffix).read_bytes())
    path = tmp_path / "d.parquet"
    meta = read_meta(path)
    card = dict(meta.release_agreement)
    (tmp_path / "d.json").write_text(dataclasses.replace(meta, release_agreement={}).to_json())  # unrecorded
    assert not read_meta(path).release_agreement
    assert main(["quality", str(path), "--reference", "original", "--record"]) == 0
    recorded = read_meta(path).release_agreement
    assert recorded["metrics"] == card["metrics"] and recorded["reference"] == "analognas-original"
    assert main(["quality", str(path), "--reference", str(path), "--record"]) == 2
    assert "--reference original" in capsys.readouterr().err



def test_the_reproduction_table_and_its_findings_per_kind():
    """Step 3's shipped comparison in the calibration section: measured and probe rows told apart, the noisy drop
    next to the release members'."""
    from analognasbench.analysis.registry import Section
    from analognasbench.fidelity.reproduce import compare_with_members
    from analognasbench.report.calibration import add_reproduction

    members = pd.DataFrame({"canonical_index": [7, 7, 7, 9, 9],
                            "baseline_accuracy": [80.0, 81.0, 82.0, 60.0, 61.0],
                            "noisy_accuracy": [40.0, 50.0, 60.0, 10.0, 10.0]})
    members["analog_accuracy"] = [70.0, 71.0, 72.0, 50.0, 52.0]
    measured = compare_with_members(pd.DataFrame({"canonical_index": [7], "baseline_accuracy": [81.5],
                                                  "noisy_accuracy": [45.0], "analog_accuracy": [math.nan]}),
                                    members, metrics=["baseline_accuracy", "noisy_accuracy", "analog_accuracy"]
                                    ).assign(kind="measured")
    probe = compare_with_members(pd.DataFrame({"canonical_index": [9], "baseline_accuracy": [50.0],
                                               "noisy_accuracy": [12.0]}), members,
                                 metrics=["baseline_accuracy", "noisy_accuracy"]).assign(kind="probe")
    sec = Section("calibration", "t", "s", "d")
    add_reproduction(sec, pd.concat([measured, probe], ignore_index=True).assign(source="a test"))
    shown = sec.tables["reproduction"][1]
    assert set(shown["kind"]) == {"measured", "probe"}
    # A metric not measured yet stays in the table, as pending, and is counted apart.
    assert shown.set_index(["canonical_index", "metric"]).loc[(7, "analog_accuracy"), "reproduced"] == "pending"
    assert "Ran: a test" in sec.tables["reproduction"][0]
    first, second = sec.findings
    assert first.startswith("paper-original, measured: 2 of 2 metrics of 1 release classes within 3 spreads of "
                            "the release's members (1 not measured yet)")
    assert "class 7: 36.5 (release 31.0)" in first
    assert second.startswith("paper-original, probe: 0 of 2") and "class 9: 38.0 (release 50.5)" in second
    empty = Section("calibration", "t", "s", "d")
    add_reproduction(empty, pd.DataFrame())
    assert not empty.tables and not empty.findings


def test_the_jpeg_table_sets_the_loss_per_generation_beside_the_digital_gap():
    """What the JPEG source costs (issue 23, step 3): the table, and the finding that weighs the loss per
    generation against paper-original's digital gap on the same classes."""
    from analognasbench.analysis.registry import Section
    from analognasbench.fidelity.reproduce import compare_with_members
    from analognasbench.report.calibration import add_jpeg_generations
    from analognasbench.space import parse

    members = pd.DataFrame({"canonical_index": [6, 6, 21, 21], "arch_index": [6, 6, 21, 21],
                            "baseline_accuracy": [86.0, 87.0, 80.0, 80.0], "noisy_accuracy": [70.0] * 4})
    reproduction = compare_with_members(pd.DataFrame({"canonical_index": [6, 21], "baseline_accuracy": [83.5, 78.0]}),
                                        members, metrics=["baseline_accuracy"]).assign(kind="measured")
    records = [{"canonical_index": c, "arch": parse(c).short, "seed": 0, "jpeg_generations": g,
                "baseline_accuracy": 70.0 - loss * g, "noisy_drop": 20.0, "profile_hash": "h" + (f"+jpeg{g}" if g else "")}
               for c, loss in ((6, 1.0), (21, 0.5)) for g in (0, 1, 2)]
    sec = Section("calibration", "t", "s", "d")
    add_jpeg_generations(sec, pd.DataFrame(records), members, reproduction)
    shown = sec.tables["jpeg_generations"][1].set_index("canonical_index")
    assert shown.loc[6, "loss_per_generation"] == pytest.approx(1.0) and shown.loc[21, "release_baseline"] == 80.0
    (finding,) = sec.findings
    assert "costs the digital accuracy 0.75 points on average" in finding
    assert "class 6: 1.00 points per generation against paper-original's digital gap to the release of 3.0" in finding
    assert "about 0.75 of the 2.0-3.0 points" in finding
    empty = Section("calibration", "t", "s", "d")
    add_jpeg_generations(empty, pd.DataFrame(), members, reproduction)
    assert not empty.tables and not empty.findings
