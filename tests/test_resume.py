"""Stopping a measurement part-way and continuing it (issue 23, step 4): the row equals an uninterrupted run's.

The real pipeline on the ``smoke`` profile with a few more epochs per training stage, stopped at every kind of
point (inside each training stage, inside an evaluation, at a stage's end), once by an exception from the progress
callback and once by SIGKILL of a real ``anb generate`` process.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from threads_fixture import one_thread  # noqa: F401  (autouse: every test here on one thread)

from analognasbench.analog.gaussian import GaussianSource
from analognasbench.pipeline.measure import VOLATILE_COLUMNS, evaluate_architecture, load_profile_data
from analognasbench.pipeline.profiles import get_profile
from analognasbench.pipeline.resume import MeasurementCheckpoint, StageCheckpoint, run_directory
from analognasbench.pipeline.store import RunStore
from analognasbench.space import parse

ARCH = (2, 3, 0, 2, 4, 3)
SEED = 5


class Stop(Exception):
    """Stands for a kill at a chosen point."""


@pytest.fixture(scope="module")
def profile():
    # Two or more epochs in every training stage, so a stop can fall inside each of them.
    return get_profile("smoke").with_overrides({"epochs": 3, "qat_epochs": 2, "hwt_epochs": 2})


@pytest.fixture(scope="module")
def data(profile):
    return load_profile_data(profile)


@pytest.fixture(scope="module")
def uninterrupted(profile, data):
    torch.set_num_threads(1)
    return evaluate_architecture(ARCH, profile, data, SEED, device="cpu")


def stop_at(stage: str, done: int):
    def progress(name: str, k: int, total: int) -> None:
        if (name, k) == (stage, done):
            raise Stop(f"{name} {k}/{total}")
    return progress


def assert_same_row(row: dict, expected: dict) -> None:
    for column, value in expected.items():
        if column not in VOLATILE_COLUMNS and column != "software":
            both_nan = isinstance(value, float) and math.isnan(value) and math.isnan(row[column])
            assert both_nan or row[column] == value, column


@pytest.mark.parametrize("stops", [
    [("digital", 1)],                   # inside the digital training
    [("digital", 3)],                   # at its end, before the baseline is read
    [("qat", 1)],                       # inside QAT (Adam and its plateau scheduler)
    [("noisy", 2)],                     # inside an evaluation: it is read again from its start
    [("hwt", 1)],                       # inside HWT (noise streams and torch's global generator)
    [("analog", 2)],                    # reading the HWT network: HWT is continued from its last epoch
    [("digital", 2), ("qat", 1), ("hwt", 1), ("analog", 1)],  # stopped again and again
])
def test_a_stopped_measurement_continues_to_the_uninterrupted_row(stops, profile, data, uninterrupted, tmp_path):
    checkpoint = MeasurementCheckpoint(tmp_path / "ck", interval_s=0)
    for stage, done in stops:
        with pytest.raises(Stop):
            evaluate_architecture(ARCH, profile, data, SEED, device="cpu", checkpoint=checkpoint,
                                  progress=stop_at(stage, done))
    row = evaluate_architecture(ARCH, profile, data, SEED, device="cpu", checkpoint=checkpoint)
    assert_same_row(row, uninterrupted)
    # Stage times add up over the attempts: still positive, still within the total.
    parts = sum(row[c] for c in row if c.startswith("time_") and c != "time_total_s")
    assert 0 < parts <= row["time_total_s"] * 1.001


def test_finished_stages_are_not_run_again(profile, data, uninterrupted, tmp_path):
    checkpoint = MeasurementCheckpoint(tmp_path / "ck", interval_s=0)
    with pytest.raises(Stop):
        evaluate_architecture(ARCH, profile, data, SEED, device="cpu", checkpoint=checkpoint,
                              progress=stop_at("hwt", 1))
    assert set(checkpoint.finished()) == {"baseline", "ptq", "qat", "noisy", "noisy_programmed"}
    seen: list[str] = []
    evaluate_architecture(ARCH, profile, data, SEED, device="cpu", checkpoint=checkpoint,
                          progress=lambda name, k, total: seen.append(f"{name} {k}"))
    # No digital, QAT or noisy work is repeated, and HWT goes on from its second epoch.
    assert seen == ["hwt 2"] + [f"analog {k}" for k in range(1, profile.repetitions + 1)]
    assert set(checkpoint.finished()) == {"baseline", "ptq", "qat", "noisy", "noisy_programmed", "analog"}


def test_a_measurement_in_progress_gives_the_columns_of_its_finished_stages(profile, data, uninterrupted, tmp_path):
    """What a lent GPU's minutes leave when they end inside HWT: baseline, int8 and chip readings, comparable with
    the release before the row is whole, equal to the finished row's values."""
    from analognasbench.pipeline.partial import rows_in_progress

    root = tmp_path / "ck"
    checkpoint = MeasurementCheckpoint(run_directory(root, profile, parse(ARCH).index, SEED), interval_s=0)
    with pytest.raises(Stop):
        evaluate_architecture(ARCH, profile, data, SEED, device="cpu", checkpoint=checkpoint,
                              progress=stop_at("hwt", 1))
    rows = rows_in_progress(root)
    assert len(rows) == 1
    row = rows.iloc[0]
    assert row["stages_finished"] == "baseline,noisy,noisy_programmed,ptq,qat"
    assert (row["profile_name"], row["profile_hash"], row["seed"]) == (profile.name, profile.hash(), SEED)
    assert row["canonical_index"] == uninterrupted["canonical_index"]
    for column in ("baseline_accuracy", "ptq_accuracy", "qat_accuracy", "noisy_accuracy", "noisy_accuracy_std",
                   "noisy_programmed_accuracy", "noisy_drift_86400", "noisy_drift_2592000_reps"):
        assert row[column] == uninterrupted[column], column
    assert not any(c.startswith("analog_") for c in rows.columns)  # HWT has not finished: no analog value
    # The training under way is named; its length only when the registered profile is still the one measured
    # (here the overridden smoke profile is not).
    assert row["in_progress"] == "hwt at epoch 1"
    from analognasbench.pipeline.partial import trainings_in_progress

    assert trainings_in_progress(checkpoint.directory, checkpoint.finished(), profile) == "hwt at epoch 1 of 2"
    assert "curve" not in rows.columns
    with pytest.raises(ValueError, match="not a directory"):
        rows_in_progress(tmp_path / "nothing")
    assert rows_in_progress(tmp_path).empty  # a directory without measurements


def test_a_probe_of_the_digital_training_reads_what_the_noisy_stage_will(profile, data, uninterrupted, tmp_path):
    """The probe of a finished digital training's checkpoint reads the noisy stage's first passes exactly."""
    from analognasbench.pipeline.partial import probe_digital_training

    checkpoint = MeasurementCheckpoint(tmp_path / "ck", interval_s=0)
    with pytest.raises(Stop):
        evaluate_architecture(ARCH, profile, data, SEED, device="cpu", checkpoint=checkpoint,
                              progress=stop_at("digital", profile.train.epochs))
    probe = probe_digital_training(checkpoint.directory / "digital.pt", ARCH, profile, data, SEED, reads=2)
    assert (probe["epoch"], probe["epochs"], probe["reads"]) == (profile.train.epochs, profile.train.epochs, 2)
    assert probe["baseline_probe"] == uninterrupted["baseline_accuracy"]
    assert probe["noisy_probe"] == pytest.approx(sum(uninterrupted["noisy_accuracy_reps"][:2]) / 2, abs=1e-9)
    with pytest.raises(ValueError, match="not a training checkpoint"):
        probe_digital_training(tmp_path / "none.pt", ARCH, profile, data, SEED)


def test_the_interval_spaces_the_training_checkpoints(profile, data, tmp_path):
    checkpoint = MeasurementCheckpoint(tmp_path / "ck", interval_s=3600)
    with pytest.raises(Stop):
        evaluate_architecture(ARCH, profile, data, SEED, device="cpu", checkpoint=checkpoint,
                              progress=stop_at("digital", 2))
    assert not (checkpoint.directory / "digital.pt").exists()  # not due yet: the stage starts again
    with pytest.raises(Stop):
        evaluate_architecture(ARCH, profile, data, SEED, device="cpu", checkpoint=checkpoint,
                              progress=stop_at("qat", 1))
    state = StageCheckpoint(checkpoint.directory / "digital.pt").load()
    assert state is not None and state["epoch"] == profile.train.epochs  # a stage's end is always saved


def test_noise_source_state_round_trips_through_a_file(tmp_path):
    source = GaussianSource(11)
    source.standard_normal(37)
    torch.save(source.get_state(), tmp_path / "s.pt")
    other = GaussianSource(0)
    other.set_state(torch.load(tmp_path / "s.pt", weights_only=True))
    assert torch.equal(source.standard_normal(1000), other.standard_normal(1000))
    a, b = torch.zeros(4096), torch.zeros(4096)
    assert torch.equal(source.add_(a, 0.5), other.add_(b, 0.5))


def _cuda_shaped(state: dict, *, recorded: bool) -> dict:
    """``state`` as a CUDA source saves it: a 16-byte Philox state, the device recorded or (older files) not."""
    foreign = {**state, "torch": torch.arange(16, dtype=torch.uint8)}
    if recorded:
        foreign["device"] = "cuda"
    else:
        foreign.pop("device")
    return foreign


@pytest.mark.parametrize("recorded", [True, False])
def test_a_noise_state_saved_on_another_device_continues_deterministically(recorded):
    """A CPU checkpoint's HWT stage resumed on CUDA once failed with 'RNG state is wrong size' (session 13): a
    foreign generator state now re-seeds the stream from the saved state instead."""
    source = GaussianSource(11, method="exact")
    source.standard_normal(37)
    state = _cuda_shaped(source.get_state(), recorded=recorded)
    a, b = GaussianSource(11, method="exact"), GaussianSource(11, method="exact")
    a.set_state(state)
    b.set_state(state)
    drawn = a.standard_normal(1000)
    assert torch.equal(drawn, b.standard_normal(1000))  # a function of the checkpoint alone
    assert not torch.equal(drawn, source.standard_normal(1000))  # a new stream, not the CPU one resumed
    other = {**state, "torch": torch.arange(1, 17, dtype=torch.uint8)}
    c = GaussianSource(11, method="exact")
    c.set_state(other)
    assert not torch.equal(c.standard_normal(1000), drawn)  # another saved position, another stream


def test_checkpoint_directories_are_per_profile_architecture_and_seed(profile, tmp_path):
    other = get_profile("smoke")
    dirs = {run_directory(tmp_path, p, a, s) for p in (profile, other) for a in (1, 2) for s in (0, 1)}
    assert len(dirs) == 8
    with pytest.raises(ValueError, match="interval_s"):
        StageCheckpoint(tmp_path / "x.pt", interval_s=-1)


def _generate(store: Path, checkpoints: Path, *extra: str) -> subprocess.Popen:
    archs = store.with_name("archs.txt")
    archs.write_text(f"{ARCH}\n")
    cmd = [sys.executable, "-m", "analognasbench", "generate", "--profile", "smoke",
           "--set", "epochs=40", "--archs", str(archs), "--store", str(store), "--workers", "1",
           "--no-progress", "--checkpoints", str(checkpoints), "--checkpoint-interval", "0", *extra]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


@pytest.mark.timeout(120)
def test_a_killed_sweep_continues_the_measurement_it_was_in(tmp_path):
    """SIGKILL to the whole sweep (client, scheduler, worker) mid-training; the next sweep goes on from the
    checkpoint, stores the row and deletes the checkpoint."""
    store, ck = tmp_path / "s.sqlite", tmp_path / "ck"
    first = _generate(store, ck)
    saved = None
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and first.poll() is None:
        found = list(ck.glob("*/*/digital.pt"))
        if found and StageCheckpoint(found[0]).load()["epoch"] >= 3:
            saved = found[0]
            break
        time.sleep(0.2)
    assert first.poll() is None, first.communicate()[0]
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    assert saved is not None, "the sweep saved no training checkpoint"
    state = StageCheckpoint(saved).load()
    assert state["epoch"] < 40
    # Mark the saved first epoch: a sweep that continues the measurement keeps it, one that starts again does not.
    state["records"][0]["loss"] = 123.0
    StageCheckpoint(saved).save(state)
    second = _generate(store, ck)
    out, _ = second.communicate(timeout=100)
    assert second.returncode == 0, out
    profile = get_profile("smoke").with_overrides({"epochs": 40})
    with RunStore(store, read_only=True) as s:
        rows = s.to_dataframe(profile.hash())
    assert len(rows) == 1
    assert not saved.parent.exists()  # deleted once the row was stored
    expected = evaluate_architecture(ARCH, profile, load_profile_data(profile), profile.seed, device="cpu")
    row = rows.iloc[0]
    for column in ("baseline_accuracy", "qat_accuracy", "noisy_accuracy", "analog_drift_86400", "curve_hwt"):
        assert row[column] == expected[column], column
    curve, expected_curve = json.loads(row["curve_digital"]), json.loads(expected["curve_digital"])
    assert curve[0]["loss"] == 123.0  # continued from the checkpoint
    assert curve[1:] == expected_curve[1:]


@pytest.mark.parametrize("args, needle", [
    (["--checkpoints", "{file}"], "not a directory"),
    (["--checkpoints", "{dir}", "--checkpoint-interval", "-3"], "--checkpoint-interval must be"),
    (["--checkpoints", "{dir}", "--checkpoint-interval", "nan"], "--checkpoint-interval must be"),
])
def test_bad_checkpoint_arguments_are_one_clear_error(args, needle, tmp_path, capsys):
    from analognasbench.cli import main

    (tmp_path / "file").write_text("")
    archs = tmp_path / "archs.txt"
    archs.write_text(f"{ARCH}\n")
    argv = [a.format(file=tmp_path / "file", dir=tmp_path / "ck") for a in args]
    assert main(["generate", "--profile", "smoke", "--archs", str(archs), "--store", str(tmp_path / "s.sqlite"),
                 "--workers", "1", "--no-progress", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0], err
    assert not (tmp_path / "s.sqlite").exists()


def test_the_release_int8_recipe_continues_inside_qat(tmp_path):
    """`paper-original`'s FX x86 QAT model (observers, fake-quant state) restores like the project's."""
    profile = get_profile("smoke").with_overrides(["quantization_recipe=fx_x86", "qat_epochs=3", "repetitions=2",
                                                   "drift_times=[86400]"])
    data = load_profile_data(profile)
    expected = evaluate_architecture(ARCH, profile, data, SEED, device="cpu")
    checkpoint = MeasurementCheckpoint(tmp_path / "ck", interval_s=0)
    with pytest.raises(Stop):
        evaluate_architecture(ARCH, profile, data, SEED, device="cpu", checkpoint=checkpoint,
                              progress=stop_at("qat", 2))
    assert_same_row(evaluate_architecture(ARCH, profile, data, SEED, device="cpu", checkpoint=checkpoint), expected)


def test_a_run_directory_is_parsed_back(profile, tmp_path):
    from analognasbench.pipeline.resume import parse_run_directory

    assert parse_run_directory(run_directory(tmp_path, profile, 146, 3)) == (profile.name, profile.hash(), 146, 3)
    assert parse_run_directory(tmp_path / "smoke-abc" / "notarun") is None
