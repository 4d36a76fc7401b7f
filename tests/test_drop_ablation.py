"""The noisy-drop ablation (issue 23): its settings builder, its record store, the comparison with the release,
and one real measurement on the smoke profile."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest
import torch

from analognasbench.analog import presets
from analognasbench.fidelity.drop_ablation import ablation_sample, drop_table, release_drop
from analognasbench.nets import build_network
from analognasbench.pipeline.ablation import (
    EVAL_FACTORS,
    DropStore,
    EvalVariant,
    ablation_settings,
    layer_diagnostics,
    measure_drops,
    run_ablation,
)
from analognasbench.pipeline.measure import load_profile_data
from analognasbench.pipeline.profiles import NB201_MEAN, get_profile
from analognasbench.space import canonical_index, parse, representatives


@pytest.fixture(scope="module")
def base():
    return get_profile("calib-n1-fast").with_overrides({"test_subset": 1000})


def test_settings_change_one_factor_each(base):
    settings = ablation_settings(base)
    by_key = {s.key: s for s in settings}
    assert settings[0].factor == "base" and settings[0].profile == base
    assert {"N=2", "N=3", "N=5", "C=16", "image_size=32", "epochs=12", "epochs=20", "normalisation=nb201"} <= set(by_key)
    base_dict = base.to_dict()
    for key, field, want in (("N=5", "N", 5), ("C=16", "C", 16), ("image_size=32", "image_size", 32)):
        changed = {k for k, v in by_key[key].profile.to_dict().items() if base_dict[k] != v}
        assert changed == {field} and getattr(by_key[key].profile, field) == want
    assert by_key["epochs=20"].profile.train.epochs == 20
    assert by_key["normalisation=nb201"].profile.protocol.norm_mean == NB201_MEAN
    # every training factor trains a different network; evaluation-only factors reuse the base's or N = 5's
    training = [s for s in settings if s.variant == EvalVariant()]
    assert len({s.training_key for s in training}) == len(training)
    for factor, label, variant in EVAL_FACTORS:
        assert by_key[f"{factor}={label}"].training_key == settings[0].training_key
        assert by_key[f"{factor}@N5={label}"].training_key == by_key["N=5"].training_key
        assert by_key[f"{factor}@N5={label}"].variant == variant


def test_settings_skip_the_base_value_and_refuse_bad_ones(base):
    keys = [s.key for s in ablation_settings(base, depths=(1, 2), eval_factors=(), eval_at_depth=None)]
    assert "N=1" not in keys and "N=2" in keys and not any("@" in k for k in keys)
    with pytest.raises(ValueError, match="multiple of 4"):
        ablation_settings(base, image_sizes=(30,))
    with pytest.raises(ValueError, match="Profile"):
        ablation_settings("calib-n1-fast")  # type: ignore[arg-type]


def test_combined_settings_change_several_factors_and_are_named_by_them(base):
    settings = ablation_settings(base, eval_factors=(), combined=({"N": 5, "image_size": 32},
                                                                  {"N": 5, "image_size": 32, "epochs": 12}))
    by_key = {s.key: s for s in settings}
    both, longer = by_key["combined=N5 32px"], by_key["combined=N5 32px e12"]
    changed = {k for k, v in both.profile.to_dict().items() if base.to_dict()[k] != v}
    assert changed == {"N", "image_size"} and both.profile.N == 5 and both.profile.image_size == 32
    assert longer.profile.train.epochs == 12 and longer.training_key != both.training_key
    assert both.training_key not in {by_key["N=5"].training_key, by_key["image_size=32"].training_key}
    with pytest.raises(ValueError, match="duplicate"):
        ablation_settings(base, combined=({"N": 5}, {"N": 5}))
    # The training images are named when they change (the GPU setting: the whole training set).
    whole = ablation_settings(base, eval_factors=(), combined=({"N": 5, "C": 16, "train_subset": None},
                                                               {"N": 5, "train_subset": 10000}))
    keys = [s.key for s in whole]
    assert {"combined=N5 C16 full-train", "combined=N5 train10000"} <= set(keys)
    assert "base=N1 C8 16px e4 half" in keys  # the base's own name is unchanged


def test_eval_variant_changes_only_its_hardware_fields():
    paper = presets.get("pcm_paper")
    assert EvalVariant().hardware("pcm_paper") == paper
    quiet = EvalVariant(out_noise=0.0, ideal_converters=True).hardware("pcm_paper")
    assert quiet.io.out_noise == 0.0 and quiet.io.inp_res is None and quiet.io.out_res is None
    assert quiet.io.out_bound == paper.io.out_bound and quiet.noise == paper.noise


def test_store_appends_resumes_and_ignores_a_torn_line(tmp_path):
    store = DropStore(tmp_path / "ablation.jsonl")
    assert store.records() == [] and store.done() == set()
    store.append([{"setting": "base", "arch_index": 5, "seed": 0, "noisy_drop": 1.0}])
    with store.path.open("a") as fh:
        fh.write('{"setting": "N=5", "arch_ind')  # a kill in the middle of a write
    assert store.done() == {("base", 5, 0)}
    store.append([])
    assert len(store.records()) == 1


def _fake_release() -> pd.DataFrame:
    classes = np.asarray(representatives())[:60]
    rng = np.random.default_rng(0)
    drop = rng.uniform(0, 60, len(classes))
    return pd.DataFrame({"canonical_index": classes, "arch_index": classes, "baseline_accuracy": 90.0,
                         "noisy_accuracy": 90.0 - drop})


def test_sample_spreads_over_the_release_drop_in_seeded_order():
    release = _fake_release()
    candidates = [parse(int(c)) for c in release.canonical_index]
    picks = ablation_sample(release, candidates, 12, seed=1)
    assert picks == ablation_sample(release, candidates, 12, seed=1) and len(set(picks)) == 12
    drops = release_drop(release).sort_values()
    strata = sorted(int(drops.index.get_loc(canonical_index(a))) * 12 // len(drops) for a in picks)
    assert strata == list(range(12))
    with pytest.raises(ValueError, match="between 1 and 60"):
        ablation_sample(release, candidates, 61)


def test_drop_table_compares_with_the_release_on_shared_classes():
    release = _fake_release()
    theirs = release_drop(release)
    records = []
    for c, d in theirs.items():
        for setting, ours in (("base", 2.0 + 0 * d), ("N=5", d / 2), ("flipped", 60 - d)):
            records.append({"setting": setting, "factor": setting, "value": "", "canonical_index": c,
                            "baseline_accuracy": 80.0, "noisy_drop": ours, "train_s": 10.0, "eval_s": 1.0,
                            "threads": 2})
    records.append({**records[0], "canonical_index": 999_999})  # a class the release lacks is left out
    table = drop_table(records, release, ["N=5", "flipped", "base"]).set_index("setting")
    assert list(table.index) == ["N=5", "flipped", "base"]
    assert table.loc["N=5", "n"] == len(theirs)
    assert table.loc["N=5", "drop_tau"] == pytest.approx(1.0) and table.loc["flipped", "drop_tau"] == pytest.approx(-1.0)
    assert math.isnan(table.loc["base", "drop_tau"])  # a constant drop has no ranking
    assert table.loc["N=5", "drop_mean"] == pytest.approx(theirs.mean() / 2)
    assert table.loc["N=5", "release_drop_mean"] == pytest.approx(theirs.mean())
    assert table.loc["base", "train_core_s"] == 20.0
    assert drop_table([], release).empty


def test_measure_drops_trains_once_and_reads_each_variant():
    smoke = get_profile("smoke")
    settings = ablation_settings(smoke, depths=(), widths=(), image_sizes=(), epochs=(), eval_at_depth=None)
    shared = [s for s in settings if s.training_key == settings[0].training_key]
    records = measure_drops("(2, 0, 3, 0, 4, 2)", shared, load_profile_data(smoke), seed=1, reads=2)
    assert [r["setting"] for r in records] == [s.key for s in shared]
    assert len({r["train_s"] for r in records}) == 1  # one training for all of them
    by = {r["setting"]: r for r in records}
    for r in records:
        assert len(r["noisy_reads"]) == 2 and r["noisy_drop"] == pytest.approx(r["baseline_accuracy"] - r["noisy_accuracy"])
        json.dumps(r)
    # a seed gives the same numbers again (training and every read's noise are seeded)
    again = measure_drops("(2, 0, 3, 0, 4, 2)", shared[:1], load_profile_data(smoke), seed=1, reads=2)[0]
    first = by[shared[0].key]
    assert (again["baseline_accuracy"], again["noisy_reads"]) == (first["baseline_accuracy"], first["noisy_reads"])
    with pytest.raises(ValueError, match="share one training"):
        deeper = dataclasses.replace(settings[0], profile=smoke.with_overrides({"N": 2}))
        measure_drops("(2, 0, 3, 0, 4, 2)", [settings[0], deeper], load_profile_data(smoke), seed=1)


def test_layer_diagnostics_see_the_all_skip_cells_compound_and_clip():
    """The all-skip cell sums its input four times (node 4 = x + x + 2x): at N = 3 cells per stage the first
    reduction's convolutions read inputs 4**3 = 64 times the stem's, far past the fixed input range 3.0."""
    torch.manual_seed(0)
    x = torch.randn(64, 3, 8, 8)
    rows = {}
    for n in (1, 3):
        net = build_network(parse("000000"), 4, n, 10)
        net.train()
        with torch.no_grad():
            for _ in range(3):
                net(x)  # BN running statistics
        net.eval()
        rows[n] = layer_diagnostics(net, presets.get("pcm_paper"), x)
    assert [r["kind"] for r in rows[3]][0] == "AnalogConv2d" and rows[3][-1]["kind"] == "AnalogLinear"
    first_reduction = 1  # the stem is layer 0
    assert rows[3][first_reduction]["clipped"] > rows[1][first_reduction]["clipped"] + 0.2
    assert rows[3][first_reduction]["snr_db"] < rows[1][first_reduction]["snr_db"]
    assert all(r["input_range"] == 3.0 for r in rows[3])


def test_compare_with_members_judges_each_metric_within_three_spreads():
    from analognasbench.fidelity.reproduce import binomial_se, compare_with_members, reproduction_summary

    members = pd.DataFrame({"canonical_index": [7, 7, 7, 9, 9, 11],
                            "baseline_accuracy": [80.0, 81.0, 82.0, 10.0, 10.0, 50.0],
                            "noisy_accuracy": [40.0, 50.0, 60.0, 10.0, 10.0, 20.0]})
    ours = pd.DataFrame({"canonical_index": [7, 9, 11], "baseline_accuracy": [84.0, 11.0, 50.0],
                         "noisy_accuracy": [55.0, float("nan"), 20.0]})
    cmp = compare_with_members(ours, members, metrics=["baseline_accuracy", "noisy_accuracy"])
    assert 11 not in set(cmp.canonical_index)  # one member: no spread to judge by
    row = cmp.set_index(["canonical_index", "metric"])
    assert row.loc[(7, "baseline_accuracy"), "z"] == pytest.approx(3.0) and row.loc[(7, "baseline_accuracy"), "reproduced"]
    assert row.loc[(7, "noisy_accuracy"), "release_std"] == pytest.approx(10.0)
    # members that agree exactly: the spread is the binomial error of one reading on 10,000 images
    assert row.loc[(9, "baseline_accuracy"), "spread"] == pytest.approx(binomial_se(10.0)) == pytest.approx(0.3)
    assert not row.loc[(9, "baseline_accuracy"), "reproduced"]  # 1 point is 3.3 spreads of 0.3
    assert math.isnan(row.loc[(9, "noisy_accuracy"), "z"])
    summary = reproduction_summary(cmp).set_index("canonical_index")
    assert summary.loc[7, "reproduced"] == 2 and summary.loc[9, "measured"] == 1 and summary.loc[9, "reproduced"] == 0
    with pytest.raises(ValueError, match="canonical_index"):
        compare_with_members(ours.drop(columns="canonical_index"), members)


def test_an_export_keeps_an_earlier_runs_values_until_a_new_run_has_measured_as_much():
    """Session 14 lost the checkpoints of sessions 11-13: a run started again must not erase their shipped values
    with its first, partial export, and no class may mix two runs."""
    from analognasbench.fidelity.reproduce import merge_reproduction

    def rows(cls, metrics, source, kind="measured", value=1.0):
        return pd.DataFrame({"canonical_index": cls, "metric": list(metrics), "kind": kind, "source": source,
                             "ours": [value if m != "unmeasured" else float("nan") for m in metrics]})

    shipped = pd.concat([rows(6, ["baseline_accuracy", "noisy_accuracy", "unmeasured"], "old"),
                         rows(21, ["baseline_accuracy"], "old"), rows(6, ["baseline_accuracy"], "old", "probe")])
    new = pd.concat([rows(6, ["baseline_accuracy", "unmeasured"], "new"),  # not yet as far: the old run stays
                     rows(21, ["baseline_accuracy", "noisy_accuracy"], "new"),  # further along: replaces
                     rows(146, ["baseline_accuracy"], "new")])  # a class only the new run has
    merged, kept = merge_reproduction(shipped, new)
    sources = merged.groupby(["canonical_index", "kind"])["source"].agg(set).to_dict()
    assert sources == {(6, "measured"): {"old"}, (6, "probe"): {"old"}, (21, "measured"): {"new"},
                       (146, "measured"): {"new"}}
    assert kept == {6: ["noisy_accuracy"]}
    assert len(merged) == 3 + 1 + 2 + 1
    assert merge_reproduction(pd.DataFrame(), new)[0].equals(new)
    assert merge_reproduction(shipped, pd.DataFrame())[0].equals(shipped)


def test_jpeg_settings_train_on_images_compressed_again():
    """The JPEG factor trains and reads the base's network on images sent through more JPEG generations: the same
    records as the base's setting given the re-encoded data itself."""
    from analognasbench.datasets.recompress import recompressed

    smoke = get_profile("smoke")
    settings = ablation_settings(smoke, depths=(), widths=(), image_sizes=(), epochs=(), eval_factors=(),
                                 eval_at_depth=None, jpeg_generations=(0, 1, 2))
    assert [s.key for s in settings][1:] == ["jpeg=+1", "jpeg=+2"]
    assert len({s.training_key for s in settings}) == 3 and all(s.profile == smoke for s in settings)
    data = load_profile_data(smoke)
    once = measure_drops("(2, 0, 3, 0, 4, 2)", [settings[1]], data, seed=1, reads=1)[0]
    direct = measure_drops("(2, 0, 3, 0, 4, 2)", [settings[0]], recompressed(data, 1), seed=1, reads=1)[0]
    plain = measure_drops("(2, 0, 3, 0, 4, 2)", [settings[0]], data, seed=1, reads=1)[0]
    assert once["jpeg_generations"] == 1 and plain["jpeg_generations"] == 0
    assert (once["baseline_accuracy"], once["noisy_reads"]) == (direct["baseline_accuracy"], direct["noisy_reads"])
    assert (once["baseline_accuracy"], once["noisy_reads"]) != (plain["baseline_accuracy"], plain["noisy_reads"])


def test_run_ablation_resumes_from_its_store_and_reencodes_once_for_every_architecture(tmp_path, monkeypatch):
    """Records of every (architecture, setting) not yet stored, in order; a second run (or one after a kill, its
    torn last line ignored) measures only what is missing; the images of a JPEG setting are re-encoded once, not
    once per architecture (about a minute per generation at CIFAR-10's size)."""
    import analognasbench.datasets.recompress as recompress

    calls = []
    real = recompress.recompressed
    monkeypatch.setattr(recompress, "recompressed", lambda data, g, **k: calls.append(g) or real(data, g, **k))
    settings = ablation_settings(get_profile("smoke"), depths=(), widths=(), image_sizes=(), epochs=(),
                                 eval_factors=(), eval_at_depth=None, jpeg_generations=(1,))
    store = DropStore(tmp_path / "drops.jsonl")
    archs = ["(2, 0, 3, 0, 4, 2)", "(0, 0, 0, 0, 1, 1)"]
    lines: list[str] = []
    assert run_ablation(archs[:1], settings, store, None, seed=1, reads=1, log=lines.append) == 2
    with store.path.open("a") as fh:
        fh.write('{"setting": "base"')  # a kill while appending
    assert run_ablation(archs, settings, store, None, seed=1, reads=1, log=lines.append) == 2
    assert calls == [1, 1]  # once per run, for its two architectures in the second
    records = store.records()
    assert [(r["arch"], r["setting"]) for r in records] == [
        ("203042", "base=" + settings[0].value), ("203042", "jpeg=+1"),
        ("000011", "base=" + settings[0].value), ("000011", "jpeg=+1")]
    assert len(lines) == 4 and run_ablation(archs, settings, store, None, seed=1, reads=1) == 0


def test_generation_table_reads_the_loss_per_generation_beside_the_release():
    from analognasbench.fidelity.jpeg_generations import generation_table

    release = _fake_release()
    classes = list(release_drop(release).index[:2])
    records = []
    for cls, loss in zip(classes, (1.5, 0.5)):
        for g in (0, 1, 2):
            for seed, wobble in ((0, 0.1), (1, -0.1)):
                records.append({"canonical_index": cls, "arch": parse(int(cls)).short, "seed": seed,
                                "jpeg_generations": g, "baseline_accuracy": 80.0 - loss * g + wobble,
                                "noisy_drop": 30.0 + g, "profile_hash": "abc" + (f"+jpeg{g}" if g else "")})
    table = generation_table(records, release).set_index("canonical_index")
    assert list(table.index) == classes
    assert table.loc[classes[0], "loss_per_generation"] == pytest.approx(1.5)
    assert table.loc[classes[1], "loss_per_generation"] == pytest.approx(0.5)
    assert table.loc[classes[0], "baseline_+0"] == pytest.approx(80.0) and table.loc[classes[0], "drop_+2"] == 32.0
    assert table.loc[classes[0], "seeds"] == 2 and table.loc[classes[0], "loss_sd_over_seeds"] == pytest.approx(0)
    # A seed that has not measured every generation is left out: the differences stay paired.
    partial = records + [{**records[0], "seed": 2, "baseline_accuracy": 10.0}]
    assert generation_table(partial, release).set_index("canonical_index").loc[classes[0], "seeds"] == 2
    assert generation_table(partial, release).set_index("canonical_index").loc[classes[0], "baseline_+0"] == 80.0
    from analognasbench.fidelity.calibration import release_by_class

    assert table.loc[classes[0], "release_baseline"] == pytest.approx(
        release_by_class(release)["baseline_accuracy"][classes[0]])
    with pytest.raises(ValueError, match="more than one profile"):
        generation_table(records + [{**records[0], "profile_hash": "other"}], release)
    with pytest.raises(ValueError, match="lack the columns"):
        generation_table([{"canonical_index": 1}], release)
    assert generation_table([], release).empty
    # The shipped CSV's short forms come back as numbers ("000011" -> 11): the table names the cell by its index.
    identity = {"canonical_index": 6, "arch": 11, "arch_index": 6, "seed": 0, "noisy_drop": 1.0, "profile_hash": "h"}
    rows = [{**identity, "jpeg_generations": 0, "baseline_accuracy": 75.0},
            {**identity, "jpeg_generations": 1, "baseline_accuracy": 74.0, "profile_hash": "h+jpeg1"}]
    assert generation_table(rows, release)["arch"].tolist() == ["000011"]
