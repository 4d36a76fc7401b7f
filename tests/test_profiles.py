"""Measurement profiles: registry, validation, hashing, serialisation, overrides and file loading."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from analognasbench.pipeline.profiles import (
    DatasetName,
    Profile,
    ProfileName,
    get_profile,
    load_profile_file,
    profile_names,
    resolve_profile,
)
from analognasbench.pipeline.schema import DRIFT_TIMES


def test_registry_has_the_required_profiles():
    assert {"paper", "smoke", "cifar_lowcost", "cifar_highfid"} <= set(profile_names())
    for name in profile_names():
        p = get_profile(name)
        assert p.name == name
        assert get_profile(ProfileName(name)) == p


def test_paper_profile_matches_the_paper():
    p = get_profile("paper")
    assert (p.dataset, p.image_size, p.train_subset, p.test_subset) == (DatasetName.CIFAR10, 32, None, None)
    assert (p.C, p.N, p.num_classes, p.batch_size) == (16, 5, 10, 256)
    assert (p.train.epochs, p.train.lr, p.train.momentum, p.train.nesterov, p.train.weight_decay) == (
        200, 0.1, 0.9, True, 5e-4)
    assert (p.qat.lr, p.qat.weight_decay) == (1e-3, 1e-4)
    assert p.repetitions == 25 and p.hardware_preset == "pcm_paper" and p.drift_times == DRIFT_TIMES
    assert p.reprogram_each_rep


def test_smoke_profile_is_synthetic_and_tiny():
    p = get_profile("smoke")
    assert p.dataset == DatasetName.SYNTHETIC
    assert p.train.epochs <= 2 and p.repetitions == 3 and p.C <= 8 and p.N == 1


def test_unknown_profile_lists_the_valid_names():
    with pytest.raises(ValueError, match="valid profiles: paper, smoke, cifar_lowcost, cifar_highfid"):
        get_profile("fast")


def test_hash_is_stable_and_hex():
    a, b = get_profile("cifar_lowcost"), get_profile("cifar_lowcost")
    assert a.hash() == b.hash()
    assert len(a.hash()) == 16 and int(a.hash(), 16) >= 0
    # The same content always hashes the same way, in a fresh interpreter too.
    out = subprocess.run(
        [sys.executable, "-c", "from analognasbench.pipeline.profiles import get_profile;"
         "print(get_profile('cifar_lowcost').hash())"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == a.hash()


def test_hash_differs_for_every_fidelity_field_but_not_for_name_or_seed():
    base = get_profile("smoke")
    hashes = {base.hash()}
    for change in ["epochs=3", "qat.epochs=2", "hwt.lr=0.02", "repetitions=4", "C=8", "image_size=16",
                   "reprogram_each_rep=false", "hardware_preset=ideal", "drift_times=[60]", "data_seed=1",
                   "train_subset=300"]:
        h = base.with_overrides([change]).hash()
        assert h not in hashes, change
        hashes.add(h)
    assert base.with_overrides(name="renamed", seed=7).hash() == base.hash()
    assert len({get_profile(n).hash() for n in profile_names()}) == len(profile_names())


def test_dict_and_file_round_trip(tmp_path):
    for name in profile_names():
        p = get_profile(name)
        assert Profile.from_dict(json.loads(json.dumps(p.to_dict()))) == p
        path = tmp_path / f"{name}.json"
        path.write_text(p.to_json())
        assert load_profile_file(path) == p
        assert resolve_profile(str(path)) == p


def test_file_derived_from_a_registered_profile(tmp_path):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"base": "smoke", "name": "mine", "overrides": {"epochs": 4, "hwt.epochs": 2}}))
    p = load_profile_file(path)
    assert (p.name, p.train.epochs, p.hwt.epochs) == ("mine", 4, 2)
    assert p.repetitions == get_profile("smoke").repetitions


def test_overrides_dotted_flat_and_typed():
    p = get_profile("smoke").with_overrides(["epochs=3", "hwt.epochs=2", "qat_lr=0.01", "test_subset=null",
                                            "dataset=cifar10", "drift_times=[3600, 60]"])
    assert (p.train.epochs, p.hwt.epochs, p.qat.lr, p.test_subset) == (3, 2, 0.01, None)
    assert p.dataset is DatasetName.CIFAR10 and p.drift_times == (60, 3600)
    assert get_profile("smoke", {"repetitions": 5}).repetitions == 5


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (["bogus=1"], "unknown profile field 'bogus'"),
        (["epochs"], "KEY=VALUE"),
        (["epochs=-1"], "integer >= 0"),
        (["repetitions=0"], "repetitions must be an integer >= 1"),
        (["lr=0"], "positive"),
        (["image_size=10"], "multiple of 4"),
        (["dataset=imagenet"], "valid datasets: synthetic, cifar10"),
        (["drift_times=[61]"], "drift_times"),
        (["train_subset=null"], "must be set for synthetic"),
        (["reprogram_each_rep=maybe"], "true or false"),
        (["qat.plateau_factor=2"], "plateau_factor"),
    ],
)
def test_invalid_values_raise_clear_errors(override, message):
    with pytest.raises(ValueError, match=message):
        get_profile("smoke").with_overrides(override)


def test_bad_profile_files(tmp_path):
    with pytest.raises(ValueError, match="cannot read profile file"):
        load_profile_file(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_profile_file(bad)
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps({"name": "x", "dataset": "synthetic"}))
    with pytest.raises(ValueError, match="incomplete profile"):
        load_profile_file(partial)


def test_profile_is_frozen_and_hashable():
    p = get_profile("smoke")
    with pytest.raises(AttributeError):
        p.epochs = 3  # type: ignore[misc]
    assert {p: 1}[get_profile("smoke")] == 1


def test_pipeline_package_import_stays_light():
    code = ("import sys, analognasbench.pipeline as p, analognasbench.pipeline.schema;"
            "assert 'torch' not in sys.modules, 'torch imported';"
            "p.get_profile('smoke');"
            "assert 'torch' not in sys.modules, 'profiles import torch'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_calibration_candidates_are_distinct_measurements_with_the_release_semantics():
    """Issue 18: every candidate is a registered profile with its own hash; all but the reference point run the
    release-like protocol (one programming, normalisation 0.5), and paper-original differs from paper only there."""
    from analognasbench.pipeline.profiles import CALIBRATION_PROFILES, HALF

    profiles = [get_profile(n) for n in CALIBRATION_PROFILES]
    assert len({p.hash() for p in profiles}) == len(profiles) >= 4
    for p in profiles:
        if p.name != "calib-n1":
            assert not p.reprogram_each_rep and p.protocol.norm_mean == HALF, p.name
    assert get_profile("paper-original").protocol.deviations() and not get_profile("paper").protocol.deviations()
