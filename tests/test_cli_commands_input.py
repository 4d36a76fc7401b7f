"""Input checks of generate, proxies, export, predict and quality, as users meet them on the command line.

Each test runs the real ``anb`` in-process, in an empty working directory: bad input is one line naming the option,
exit status 2, before any work (no cluster, no store, no file); a reader creates nothing; help is plain text.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_hardening_commands import anb, one_error

from analognasbench.bench.registry import resolve_dataset
from analognasbench.cli import build_parser

SMOKE = str(resolve_dataset("synthetic-smoke"))


# --- generate: every option checked before the store or the cluster exists -----------------------------------------
@pytest.fixture
def no_cluster(monkeypatch) -> None:
    import analognasbench.cli.generate as generate

    monkeypatch.setattr(generate, "open_cluster", lambda *a, **k: pytest.fail("a cluster was started"))


@pytest.mark.parametrize(("option", "value"), [
    ("--memory-per-worker", "lots"), ("--memory-per-worker", "-1GB"), ("--memory-per-worker", "0"),
    ("--slurm-memory", "lots"), ("--workers", "0"), ("--time-budget", "nan"),
])
def test_generate_refuses_a_bad_cluster_option_before_creating_the_store(cwd, no_cluster, option, value):
    extra = ["--slurm"] if option.startswith("--slurm") else []
    line = one_error(["generate", "--profile", "smoke", "--archs", "sample:2", "--store", "g.sqlite", *extra,
                      f"{option}={value}"], option)
    assert "cluster" not in line
    assert list(cwd.iterdir()) == []


def test_generate_accepts_auto_and_byte_sizes(cwd, no_cluster):
    from analognasbench.pipeline.sweep import LocalOptions, SlurmOptions

    LocalOptions(memory_per_worker="auto")
    LocalOptions(memory_per_worker="4GiB")
    SlurmOptions(memory="8 GB")
    with pytest.raises(ValueError, match="memory size"):
        SlurmOptions(memory="auto")  # a Slurm job needs a size


def test_generate_leaves_no_checkpoint_directory_when_a_later_check_fails(cwd, no_cluster):
    Path("out.parquet").write_bytes(b"not yours to replace")
    one_error(["generate", "--profile", "smoke", "--archs", "sample:2", "--store", "g.sqlite", "--checkpoints", "ck",
               "--export", "out"], "--export")
    assert sorted(p.name for p in cwd.iterdir()) == ["out.parquet"]


# options of another kind of cluster than the one chosen are refused by name, not ignored
GENERATE = ["generate", "--profile", "smoke", "--archs", "sample:2", "--store", "g.sqlite", "--no-progress"]
NO_SCHEDULER = "tcp://127.0.0.1:1"  # never reached: the options are refused first


@pytest.mark.parametrize(("extra", "needles"), [
    (["--slurm-jobs", "4"], ("--slurm-jobs: used only with --slurm", "local cluster")),
    (["--slurm-cores", "1", "--slurm-directive=--qos=long"], ("--slurm-cores, --slurm-directive", "drop them")),
    (["--slurm-interface", "lo", "--workers", "2"], ("--slurm-interface", "--slurm")),
    (["--scheduler", NO_SCHEDULER, "--slurm-memory", "8GB"], ("--slurm-memory", "not with --scheduler")),
    (["--slurm", "--memory-per-worker", "4GiB"], ("--memory-per-worker", "local cluster", "--slurm-memory")),
    (["--scheduler", NO_SCHEDULER, "--memory-per-worker", "auto"], ("--memory-per-worker", "--scheduler")),
])
def test_generate_refuses_options_of_another_kind_of_cluster(cwd, no_cluster, extra, needles):
    one_error([*GENERATE, *extra], *needles)  # a value equal to the default is given all the same
    assert list(cwd.iterdir()) == []


def test_generate_refuses_workers_with_slurm_or_a_scheduler(cwd, no_cluster):
    for mode in (["--slurm"], ["--scheduler", NO_SCHEDULER]):
        code, out, err = anb(*GENERATE, *mode, "--workers", "2")
        lines = [line for line in err.splitlines() if line.startswith("anb generate: error:")]
        assert code == 2 and len(lines) == 1 and "--workers" in lines[0] and "Traceback" not in err, err
    assert list(cwd.iterdir()) == []


def _an_interface(ipv4: bool) -> str | None:
    import socket

    import psutil

    return next((name for name, addresses in psutil.net_if_addrs().items()
                 if any(a.family == socket.AF_INET for a in addresses) == ipv4), None)


def test_generate_checks_the_slurm_interface_where_the_scheduler_runs(cwd, no_cluster, monkeypatch):
    line = one_error([*GENERATE, "--slurm", "--slurm-interface", "nosuch0"], "--slurm-interface nosuch0",
                     "no such network interface", "--slurm-scheduler-host")
    assert _an_interface(True) in line  # the expected names are this machine's
    import psutil

    monkeypatch.setattr(psutil, "net_if_addrs", lambda: {"ib0": []})
    one_error([*GENERATE, "--slurm", "--slurm-interface", "ib0"], "--slurm-interface ib0", "no IPv4 address")
    assert list(cwd.iterdir()) == []


@pytest.mark.parametrize(("extra", "needles"), [
    (["--slurm-walltime", "soon"], ("--slurm-walltime must look like HH:MM:SS", "'soon'")),
    (["--slurm-processes", "3"], ("--slurm-processes (3) cannot exceed the cores per job (1)",)),
    # the scheduler listens on this address, here: a foreign or unknown one failed only when the cluster started
    (["--slurm-scheduler-host", "192.0.2.1"], ("--slurm-scheduler-host 192.0.2.1", "cannot listen there")),
    (["--slurm-scheduler-host", "nosuch.invalid"], ("--slurm-scheduler-host nosuch.invalid", "cannot resolve")),
])
def test_generate_names_the_slurm_option_of_a_bad_value_before_creating_the_store(cwd, no_cluster, extra, needles):
    line = one_error([*GENERATE, "--slurm", *extra], *needles)
    assert "slurm walltime" not in line and "slurm processes" not in line  # the dataclass's field names
    assert list(cwd.iterdir()) == []


def test_generate_gives_each_cluster_the_options_given_and_defaults_for_the_rest(cwd, monkeypatch):
    import analognasbench.cli.generate as generate
    from analognasbench.pipeline.sweep import LocalOptions, SlurmOptions

    specs = []

    def started(spec):
        specs.append(spec)
        raise OSError("stopped here")

    monkeypatch.setattr(generate, "open_cluster", started)
    runs = [[], ["--memory-per-worker", "3GiB"], ["--slurm"],
            ["--slurm", "--slurm-cores", "4", "--slurm-processes", "2", "--slurm-directive=--qos=long",
             "--slurm-interface", _an_interface(True)],
            # with --slurm-scheduler-host the interface is the workers' only, on the compute nodes: not checked here
            ["--slurm", "--slurm-interface", "nosuch0", "--slurm-scheduler-host", "127.0.0.1"]]
    for extra in runs:
        code, _, err = anb(*GENERATE, *extra)
        assert code == 2 and err.endswith("stopped here\n"), err[-600:]
    assert [spec.local for spec in specs[:2]] == [LocalOptions(), LocalOptions(memory_per_worker="3GiB")]
    assert [spec.slurm for spec in specs[2:]] == [
        SlurmOptions(),
        SlurmOptions(cores=4, processes=2, extra_directives=("--qos=long",), interface=_an_interface(True)),
        SlurmOptions(interface="nosuch0", scheduler_host="127.0.0.1")]


# --- proxies --pending only reads -----------------------------------------------------------------------------------
def test_proxies_pending_on_a_missing_store_is_an_error_naming_it(cwd):
    one_error(["proxies", "--pending", "--store", "nothere.sqlite"], "nothere.sqlite", "no such proxy store")
    one_error(["proxies", "--pending"], "--store")
    assert list(cwd.iterdir()) == []


@pytest.mark.parametrize(("option", "value"), [("--batch-size", "1"), ("--n-batches", "0"), ("--C", "0"),
                                               ("--N", "-1")])
def test_proxies_sizes_are_refused_by_their_option_name(cwd, option, value):
    line = one_error(["proxies", "--pending", "--store", "p.sqlite", option, value], option)
    assert "ProxyConfig" not in line


# --- export: an existing file is refused for what it is -------------------------------------------------------------
def test_export_calls_an_earlier_json_export_an_existing_file_not_a_dataset(cwd):
    assert anb("export", "-d", SMOKE, "-F", "json", "-o", "e.json")[0] == 0
    before = Path("e.json").read_bytes()
    line = one_error(["export", "-d", SMOKE, "-F", "parquet", "-o", "e"], "e.json already exists", "--force")
    assert "part of the dataset" not in line
    one_error(["export", "-d", SMOKE, "-F", "json", "-o", "e.json"], "already exists")
    assert Path("e.json").read_bytes() == before and not Path("e.parquet").exists()
    assert anb("export", "-d", SMOKE, "-F", "parquet", "-o", "e", "--force")[0] == 0
    # now e.parquet + e.json is a dataset: replacing either file of it is refused as such
    one_error(["export", "-d", SMOKE, "-F", "json", "-o", "e.json"], "part of the dataset e.parquet + e.json")
    one_error(["export", "-d", SMOKE, "-F", "parquet", "-o", "e"], "part of the dataset")


# --- predict --------------------------------------------------------------------------------------------------------
def test_predict_names_the_seed_option(cwd):
    one_error(["predict", "--model", "ridge:onehot", "--seed", "-1", "--lowcost", ""], "--seed", "-1")


def test_predict_accepts_the_release_metric_names(cwd):
    from analognasbench.predict.targets import parse_target

    assert parse_target("baseline_drift_86400") == "noisy_drift_86400"
    code, out, err = anb("predict", "--release", SMOKE, "--metric", "baseline_drift_86400", "--model", "ridge:onehot",
                         "--labels", "20", "--subset", "all", "--lowcost", "")
    assert code == 0, err[-600:]
    assert "on noisy_drift_86400" in out


def test_predict_leaves_out_a_default_bar_of_nothing_in_one_line(cwd):
    argv = ["predict", "--release", SMOKE, "--metric", "hwt_recovery", "--model", "ridge:onehot", "--labels", "20",
            "--subset", "all"]
    code, out, err = anb(*argv)
    assert code == 0, err[-600:]
    bar = [line for line in out.splitlines() if "bar:" in line]
    assert len(bar) == 1 and "cifar10-lowcost" in bar[0] and "left out" in bar[0], out
    assert "Kendall tau" in out
    # named explicitly, a bar that cannot be drawn is an error (before training)
    one_error([*argv, "--lowcost", "cifar10-lowcost"], "--lowcost cifar10-lowcost", "hwt_recovery")


@pytest.mark.parametrize(("option", "value"), [("--metric", "noisy_accuracy"), ("--labels", "200"),
                                               ("--model", "gnn:graph"), ("--subset", "b80"), ("--seed", "0")])
def test_predict_evaluate_refuses_the_options_of_one_fit(cwd, monkeypatch, option, value):
    import analognasbench.predict.study as study

    monkeypatch.setattr(study, "run_study", lambda *a, **k: pytest.fail("the study started"))
    one_error(["predict", "--evaluate", "--no-proxies", "--lowcost", "", option, value], option,
              "not used with --evaluate", "--models")
    one_error(["predict", "--evaluate", "--seeds", "2", "--seed", "1", "--labels", "20"], "--labels, --seed")
    assert list(cwd.iterdir()) == []  # not even out/predict


def test_predict_full_network_is_an_evaluate_option_and_no_proxies_refuses_proxy_tables(cwd, monkeypatch):
    import analognasbench.predict.study as study

    monkeypatch.setattr(study, "run_study", lambda *a, **k: pytest.fail("the study started"))
    one_error(["predict", "--full-network", "", "--lowcost", ""], "--full-network: used only with --evaluate")
    one_error(["predict", "--evaluate", "--no-proxies", "--full-network", "proxies-cifar10-c16n5-sample"],
              "--full-network: not used with --no-proxies", "drop it")
    one_error(["predict", "--evaluate", "--no-proxies", "--proxies", "proxies-cifar10", "--full-network", ""],
              "--proxies, --full-network: not used with --no-proxies", "drop them")
    assert list(cwd.iterdir()) == []


# --- quality --------------------------------------------------------------------------------------------------------
def test_quality_refuses_an_unknown_reference_before_printing_any_table(cwd):
    err = one_error(["quality", "synthetic-smoke", "--reference", "nosuch"], "nosuch")
    assert err.count("expected") == 1 and "run store" in err  # quality's own list of what it reads, said once
    one_error(["quality", "synthetic-smoke", "--agreement", "nothere.sqlite"], "nothere.sqlite")
    Path("plain.txt").write_text("not a dataset")
    err = one_error(["quality", "synthetic-smoke", "--reference", "plain.txt"], "plain.txt is not a dataset file")
    assert err.count("expected") == 1 and "run store" in err
    Path("plain.txt").unlink()
    assert list(cwd.iterdir()) == []


def test_quality_still_prints_its_tables_and_json(cwd):
    code, out, err = anb("quality", "synthetic-smoke", "--reference", "synthetic-smoke", "--json", "q.json")
    assert code == 0, err[-600:]
    assert out.startswith("synthetic-smoke: ") and "Rank agreement with synthetic-smoke" in out
    assert "fidelity" in json.loads(Path("q.json").read_text())


@pytest.mark.parametrize("extra", [["--reference", "synthetic-smoke"], ["--agreement", SMOKE], ["--seeds", SMOKE],
                                   ["--json", "q.json"], ["--reference", "original", "--record"]])
def test_quality_sample_refuses_the_options_of_the_tables(cwd, extra):
    option = extra[-1] if extra[-1] == "--record" else extra[0]
    one_error(["quality", "synthetic-smoke", "--sample", "3", "--out", "s.txt", *extra], option,
              "not used with --sample")
    assert list(cwd.iterdir()) == []


# --- help is plain text and the same on every host ------------------------------------------------------------------
@pytest.mark.parametrize("command", ["predict", "generate", "quality", "proxies", "export"])
def test_help_has_no_markup_and_no_host_paths(command):
    action = next(a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction")
    text = action.choices[command].format_help()
    assert "``" not in text and "::" not in text
    assert "/tmp/" not in text
