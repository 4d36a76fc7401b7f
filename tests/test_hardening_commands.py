"""Issue 26, the command line half: every command does what its name says.

Each finding of the issue has a test here named after what it guards: ``exhaustive`` enumerates everything, readers
create and change no file, sizes and chip presets are bounded, writers need ``--force`` over an existing file, no
traceback, no option silently ignored, and every error is one line naming the thing that is wrong. Commands run
in-process (``analognasbench.cli.main``) in an empty temporary working directory.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from test_store import hand_row

from analognasbench import hardware
from analognasbench.bench.registry import resolve_dataset
from analognasbench.cli import build_parser, main
from analognasbench.cli.search import DEFAULT_BUDGET, search_budget
from analognasbench.hardware.chips import ChipPresetError, chip_from_dict, ibm_hermes_pcm_14nm
from analognasbench.pipeline.packed import write_with_header
from analognasbench.pipeline.profiles import explain_hash_mismatch, get_profile
from analognasbench.pipeline.store import RunStore, StoreError
from analognasbench.predict import ProxyStore
from analognasbench.search import get_method
from analognasbench.search.base import NUM_ARCHITECTURES
from analognasbench.space import representatives


def anb(*argv: object) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of ``anb argv``; an exception escaping ``main`` fails the test."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:  # argparse
            code = exc.code if isinstance(exc.code, int) else 2
    return code, out.getvalue(), err.getvalue()


def one_error(argv: list[object], *needles: str) -> str:
    """Run a command that must fail: exit 2, nothing on stdout, one line on stderr holding every needle."""
    code, out, err = anb(*argv)
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith(("WARNING", "INFO"))]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, (argv, code, err[-800:])
    assert not out, (argv, out[:300])
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def digest(*paths: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths if p.is_file()}


@pytest.fixture(scope="module")
def smoke_store(tmp_path_factory) -> Path:
    """A run store of profile smoke with a few finished rows, written by this code (method version recorded)."""
    path = tmp_path_factory.mktemp("store") / "runs.sqlite"
    smoke = get_profile("smoke")
    with RunStore.open(path, smoke) as store:
        for i in representatives()[:3]:
            store.record_result(hand_row(int(i), smoke.hash()))
        store.checkpoint()
    return path


# --- 1. exhaustive enumerates everything --------------------------------------------------------------------------
def test_exhaustive_search_evaluates_every_candidate_unless_given_a_budget(cwd):
    code, out, _ = anb("search", "exhaustive", "--objective", "analog_drift_86400", "--seed", "0")
    assert code == 0
    assert "(2, 2, 0, 4, 2, 1)" in out and "analog_drift_86400 = 90.53" in out
    assert "exhaustive: evaluated all 15,625 candidates" in out
    code, out, _ = anb("search", "exhaustive", "--objective", "analog_drift_86400", "--budget", "100")
    assert code == 0 and "evaluations     100 " in out and "evaluated all" not in out  # an explicit budget applies


def test_search_budgets_default_to_100_except_exhaustive():
    assert search_budget(get_method("random"), None, None).evaluations == DEFAULT_BUDGET == 100
    assert search_budget(get_method("exhaustive"), None, None).evaluations == NUM_ARCHITECTURES
    assert search_budget(get_method("exhaustive"), 7, None).evaluations == 7
    compare = next(a for a in build_parser()._subparsers._group_actions[0].choices["compare"]._actions
                   if a.dest == "budget")
    assert compare.default is None  # compare resolves it to 100 itself, and gives exhaustive every class


# --- 2. readers create nothing; stores of another kind or procedure are refused, saying why ---------------------
def test_pending_on_a_missing_store_is_an_error_and_creates_nothing(cwd):
    one_error(["pending", "--profile", "smoke", "--store", "nothere.sqlite", "--limit", "1"], "nothere.sqlite")
    assert list(cwd.iterdir()) == []


def test_pending_reads_its_store_without_changing_it(cwd, smoke_store):
    before = digest(smoke_store)
    code, out, _ = anb("pending", "--profile", "smoke", "--store", smoke_store, "--limit", "2")
    assert code == 0 and len(out.splitlines()) == 2
    assert digest(smoke_store) == before and list(cwd.iterdir()) == []


def test_pending_refuses_a_proxies_store_without_writing_to_it(cwd, tmp_path):
    proxies = tmp_path / "proxies.sqlite"
    ProxyStore(proxies).close()
    before = digest(proxies)
    one_error(["pending", "--profile", "smoke", "--store", proxies], "proxies store", "not a run store")
    assert digest(proxies) == before
    with pytest.raises(StoreError, match="proxies store"):
        RunStore.open(proxies, get_profile("smoke"))
    assert digest(proxies) == before
    with pytest.raises(ValueError, match="run store"):  # and the other way round
        ProxyStore(RunStore.open(tmp_path / "r.sqlite", get_profile("smoke")).path)


def test_a_store_of_an_earlier_method_version_is_refused_naming_the_version(cwd):
    export = resolve_dataset("cifar10-lowcost")
    code, _, err = anb("merge-store", export, "--into", cwd / "st.sqlite")
    assert code == 0 and "method version 1" in err and "new store" in err  # the README's resume path, explained
    line = one_error(["pending", "--profile", "cifar_lowcost", "--store", "st.sqlite", "--limit", "1"],
                     "method version 1", "settings are the same")
    assert "not of profile 'cifar_lowcost'" not in line


def test_a_profile_mismatch_names_the_fields_that_differ():
    smoke = get_profile("smoke")
    why = explain_hash_mismatch(smoke.with_overrides(["epochs=7"]).to_dict(), smoke)
    assert "train.epochs: 7 recorded" in why


# --- 3. network sizes are bounded ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("option", "value", "needle"), [
    ("--N", "100000", "<= 64"), ("--C", "100000000", "<= 1,024"), ("--input-size", "100000", "<= 1,024"),
    ("--input-size", "30", "multiple of 4"), ("--num-classes", "10000000", "<= 100,000")])
def test_cost_refuses_network_sizes_out_of_bounds(cwd, option, value, needle):
    one_error(["cost", "222222", option, value], needle)


# --- 4. chip presets whose numbers overflow what they feed -------------------------------------------------------
def _chip_file(directory: Path, **changes: dict) -> Path:
    data = ibm_hermes_pcm_14nm().to_dict()
    for part, values in changes.items():
        data[part].update(values)
    path = directory / "chip.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(("part", "values", "needle"), [
    ("mvm", {"energy_nj": 1e308}, "mvm.energy_nj"), ("mvm", {"latency_ns": 1e-300}, "mvm.latency_ns"),
    ("digital", {"ops_per_ns": 1e-300}, "digital.ops_per_ns"), ("memory", {"byte_pj": 1e300}, "memory.byte_pj"),
    ("crossbar", {"rows": 10**12}, "crossbar.rows")])
def test_chip_presets_that_overflow_are_refused_in_one_line(cwd, part, values, needle):
    chip = _chip_file(cwd.parent, **{part: values})
    one_error(["cost", "222222", "--chip", chip], needle)
    one_error(["cost", "--all", "-o", "x.csv", "--chip", chip], needle)
    one_error(["search", "random", "--objectives", "analog_drift_86400:max", "hw_energy_uj:min", "--chip", chip],
              needle)
    assert list(cwd.iterdir()) == []


def test_the_most_extreme_allowed_chip_gives_finite_costs_on_the_largest_network():
    chip = chip_from_dict({
        "name": "extreme", "crossbar": {"rows": 1, "cols": 1, "cores": 1 << 30, "input_bits": 64, "output_bits": 64},
        "mvm": {"energy_nj": 1e6, "latency_ns": 1e9, "fixed_fraction": 1, "dac_fraction": 0, "adc_fraction": 0,
                "array_fraction": 0},
        "digital": {"add_pj": 1e6, "mul_pj": 1e6, "ops_per_ns": 1e-3}, "memory": {"byte_pj": 1e6}})
    totals = hardware.network_cost("222222", chip, C=1024, N=64, input_size=1024, num_classes=100_000).totals()
    assert all(np.isfinite(float(v)) and float(v) > 0 for k, v in totals.items() if k != "hw_fits_chip"), totals
    with pytest.raises(ChipPresetError, match="latency_ns"):
        chip_from_dict({**chip.to_dict(), "mvm": {**chip.to_dict()["mvm"], "latency_ns": 1e-4}})


# --- 5. writers: --force over an existing file, the target checked before any work --------------------------------
def test_cost_output_needs_force_to_replace_a_file(cwd):
    Path("existing.csv").write_text("keep me\n")
    one_error(["cost", "--all", "-o", "existing.csv"], "existing.csv", "--force")
    assert Path("existing.csv").read_text() == "keep me\n"
    assert anb("cost", "--all", "-o", "existing.csv", "--force")[0] == 0
    assert len(Path("existing.csv").read_text().splitlines()) == 15_626


def test_proxies_pack_needs_npz_force_and_a_file_path(cwd):
    one_error(["proxies", "--pack", "images.bin", "--data", "synthetic"], ".npz")
    Path("old.npz").write_bytes(b"old")
    one_error(["proxies", "--pack", "old.npz", "--data", "synthetic"], "--force")
    assert Path("old.npz").read_bytes() == b"old"
    Path("folder.npz").mkdir()
    one_error(["proxies", "--pack", "folder.npz", "--data", "synthetic"], "directory")
    assert sorted(p.name for p in cwd.iterdir()) == ["folder.npz", "old.npz"]  # no .tmp.npz left behind
    assert anb("proxies", "--pack", "old.npz", "--data", "synthetic", "--force")[0] == 0
    assert Path("old.npz").read_bytes() != b"old"


def test_a_failed_packed_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    def half_written(file, **arrays):
        Path(file).write_bytes(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", half_written)
    with pytest.raises(OSError):
        write_with_header(tmp_path / "out.npz", {"format": "x"}, x=np.zeros(1))
    assert list(tmp_path.iterdir()) == []


def test_pack_data_needs_npz_and_force(cwd):
    Path("p.npz").write_bytes(b"old")
    one_error(["pack-data", "--profile", "smoke", "--out", "p.npz"], "--force")
    one_error(["pack-data", "--profile", "smoke", "--out", "p.txt"], ".npz")
    assert Path("p.npz").read_bytes() == b"old"


# --- 6. no traceback: devices, YAML tags --------------------------------------------------------------------------
def test_proxies_refuses_a_device_this_build_cannot_use_before_any_work(cwd):
    import torch

    if torch.cuda.is_available() and torch.cuda.device_count() > 7:
        pytest.skip("a machine with 8 GPUs has cuda:7")
    one_error(["proxies", "123123", "--device", "cuda:7", "--data", "synthetic"], "cuda:7")
    one_error(["proxies", "123123", "--device", "tpu9", "--data", "synthetic"], "tpu9")


@pytest.mark.parametrize("command", [["pending", "--store", "s.sqlite", "--profile"], ["cost", "222222", "--chip"],
                                     ["cost", "222222", "--profile"], ["pack-data", "--out", "x.npz", "--profile"]])
def test_a_yaml_python_tag_is_refused_in_one_line_and_never_run(cwd, command):
    marker = cwd.parent / "MARKER"
    bad = cwd.parent / "bad.yaml"
    bad.write_text(f'x: !!python/object/apply:os.system ["touch {marker}"]\n')
    one_error([*command, bad], "bad.yaml", "python tags are never run")
    assert not marker.exists() and list(cwd.iterdir()) == []


# --- 7. no option silently ignored ---------------------------------------------------------------------------------
def test_cost_with_output_but_no_all_writes_the_one_row(cwd):
    code, out, _ = anb("cost", "222222", "-o", "row.csv")
    assert code == 0 and "architecture 222222" in out
    lines = Path("row.csv").read_text().splitlines()
    assert len(lines) == 2 and lines[0].startswith("arch_index,hw_tiles") and lines[1].startswith("7812,")
    one_error(["cost", "222222", "-o", "row2.csv", "--json"], "--json")
    one_error(["cost", "222222", "--profile", "smoke", "--C", "8"], "--C")


def test_search_prints_the_hypervolume_of_a_two_objective_front(cwd):
    code, out, _ = anb("search", "random", "--budget", "20", "--objectives", "analog_drift_86400:max",
                       "hw_energy_uj:min", "--hv-reference", "0", "1000")
    assert code == 0 and "hypervolume" in out and "--hv-reference" in out and "HV ratio" in out
    one_error(["search", "random", "--hv-reference", "1", "2"], "several objectives")
    one_error(["search", "random", "--objectives", "analog_drift_86400", "hw_energy_uj:min", "params:min",
               "--hv-reference", "1", "2", "3"], "two objectives")


def test_predict_refuses_options_its_mode_does_not_use(cwd):
    one_error(["predict", "--model", "ridge:onehot", "--proxies", "proxies-cifar10"], "uses no proxies")
    one_error(["predict", "--out", "somewhere"], "--evaluate")
    assert list(cwd.iterdir()) == []


def test_quality_has_the_force_its_message_advises(cwd):
    Path("keep.txt").write_text("keep\n")
    one_error(["quality", "synthetic-smoke", "--sample", "3", "--out", "keep.txt"], "--force")
    assert Path("keep.txt").read_text() == "keep\n"
    assert anb("quality", "synthetic-smoke", "--sample", "3", "--out", "keep.txt", "--force")[0] == 0
    assert "architectures measured" in Path("keep.txt").read_text()


# --- 8. predict says why, and what --evaluate costs ---------------------------------------------------------------
def test_predict_says_why_a_bar_is_empty_and_exits_2_before_training(cwd, monkeypatch):
    import analognasbench.predict.curves  # noqa: F401  (imported first: it binds fit_predict by name)
    import analognasbench.predict.surrogates as surrogates

    monkeypatch.setattr(surrogates, "fit_predict", lambda *a, **k: pytest.fail("trained before the check"))
    one_error(["predict", "--metric", "analog_accuracy", "--model", "ridge:onehot", "--lowcost", "cifar10-lowcost"],
              "holds no analog_accuracy values", "--lowcost ''")  # named: an error (the default is left out)


def test_predict_evaluate_says_it_takes_an_hour_before_it_starts(cwd, monkeypatch):
    import analognasbench.predict.study as study

    help_text = build_parser()._subparsers._group_actions[0].choices["predict"].format_help()
    assert "about an hour" in " ".join(help_text.split())

    def stop(*args, **kwargs):
        raise ValueError("stopped here by the test")

    monkeypatch.setattr(study, "run_study", stop)
    code, _, err = anb("predict", "--evaluate", "--no-proxies", "--out", cwd / "study")
    assert code == 2 and "about an hour" in err.splitlines()[0]


# --- 9. errors that name the right thing ---------------------------------------------------------------------------
def test_messages_blame_the_right_thing(cwd):
    Path("BADFILE").write_bytes(b"\x00\x01 not a store")
    one_error(["merge-store", "BADFILE", "--into", "new.sqlite"], "BADFILE", "not a run store")
    assert not Path("new.sqlite").exists()
    Path("chip.json").mkdir()
    one_error(["cost", "222222", "--chip", "chip.json"], "is a directory")
    line = one_error(["quality", ""], "empty path")
    assert "PosixPath" not in line


# --- 10. read-only commands leave the working directory and their inputs as they were ----------------------------
def test_read_only_commands_create_and_change_no_file(cwd, tmp_path, smoke_store):
    from analognasbench.bench.files import dataset_paths

    proxies = tmp_path / "proxies.sqlite"
    ProxyStore(proxies).close()
    smoke = resolve_dataset("synthetic-smoke")
    inputs = [smoke_store, proxies, *dataset_paths(smoke)]
    before = digest(*inputs)
    readers = [
        ["info", "-d", smoke], ["info", "--metrics"], ["list", "-d", smoke, "-n", "3"], ["query", "0", "--json"],
        ["space", "222222"], ["search", "random", "--budget", "5"], ["search", "exhaustive", "-d", smoke],
        ["cost", "222222", "--json", "--per-layer"], ["cost", "222222", "--profile", "smoke"],
        ["pending", "--profile", "smoke", "--store", smoke_store, "--limit", "2"],
        ["quality", smoke_store], ["quality", "synthetic-smoke"],
        ["proxies", "--pending", "--store", proxies, "--limit", "2"],
        ["proxies", "--pending", "--with-done", "1", "--store", proxies, "--limit", "1"],
    ]
    for argv in readers:
        code, _, err = anb(*argv)
        assert code == 0, (argv, err[-600:])
        assert list(cwd.iterdir()) == [], (argv, list(cwd.iterdir()))
    assert digest(*inputs) == before
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name != "cwd")
    assert leftovers == ["proxies.sqlite"], leftovers  # no -wal/-shm beside a store a reader opened


def test_a_copy_of_the_cwd_state_is_unchanged_after_failing_readers(cwd, smoke_store):
    """Errors of readers (bad arguments) leave nothing either, not even a half-made store."""
    shutil.copyfile(smoke_store, cwd / "copy.sqlite")
    before = digest(cwd / "copy.sqlite")
    for argv in (["pending", "--profile", "cifar_lowcost", "--store", "copy.sqlite"],
                 ["pending", "--profile", "smoke", "--store", "copy.sqlite", "--limit", "-1"],
                 ["quality", "copy.sqlite", "--reference", "nothere.sqlite"]):
        assert anb(*argv)[0] == 2, argv
    assert sorted(p.name for p in cwd.iterdir()) == ["copy.sqlite"] and digest(cwd / "copy.sqlite") == before
