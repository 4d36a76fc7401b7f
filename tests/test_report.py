"""``anb report`` end to end: files written, every figure and CSV linked, images load in headless Chromium,
the NAS-comparison hook, and the report on a pipeline dataset file and on an original-release pickle."""

from __future__ import annotations

import pickle
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from synthetic_bench import SyntheticBench, SyntheticMeta, null_dataset, synthetic_dataset

from analognasbench.analysis import AnalysisParams
from analognasbench.bench import DatasetMeta, write_dataset
from analognasbench.cli import main
from analognasbench.pipeline.schema import DRIFT_TIMES
from analognasbench.report import NASComparison, build_report, load_nas_comparison

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
_CHECK = ("<script>window.addEventListener('load',function(){var im=document.images,b=[];"
          "for(var i=0;i<im.length;i++){if(!im[i].complete||im[i].naturalWidth===0)b.push(im[i].getAttribute('src'));}"
          "var p=document.createElement('pre');p.textContent='IMAGES '+im.length+' BROKEN ['+b.join(',')+']';"
          "document.body.appendChild(p);});</script>")


def broken_images(html: Path) -> tuple[int, list[str]]:
    """Open the page in headless Chromium; return (number of images, sources of those that did not load)."""
    probe = html.with_name("_image_check.html")
    probe.write_text(html.read_text(encoding="utf-8").replace("</body>", _CHECK + "</body>"), encoding="utf-8")
    with tempfile.TemporaryDirectory() as profile:
        out = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", "--virtual-time-budget=10000", "--dump-dom", probe.resolve().as_uri()],
            capture_output=True, text=True, timeout=120).stdout
    probe.unlink()
    m = re.search(r"IMAGES (\d+) BROKEN \[([^\]]*)\]", out)
    assert m, f"Chromium did not run the image check; its output began: {out[:300]!r}"
    return int(m.group(1)), [s for s in m.group(2).split(",") if s]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    steps: list[tuple[int, int, str]] = []
    bench = SyntheticBench(synthetic_dataset(n=800, seed=2), SyntheticMeta())
    curves = pd.DataFrame([{"method": m, "evaluations": e, "seed": s, "best": 80 + np.log(e) + s * 0.1 + k}
                           for k, m in enumerate(["random", "evolution"]) for s in range(3)
                           for e in (1, 10, 100, 1000)])
    table = pd.DataFrame({"method": ["random", "evolution"], "1-day accuracy (%)": ["86.1 ± 0.3", "87.0 ± 0.2"]})
    res = build_report(bench, out, params=AnalysisParams(n_bootstrap=30), nas=NASComparison(table, curves),
                       progress=lambda i, n, msg: steps.append((i, n, msg)))
    return res, steps


def test_report_writes_every_file_and_links_it(report):
    res, steps = report
    html = res.html.read_text(encoding="utf-8")
    md = res.markdown.read_text(encoding="utf-8")
    assert len(res.figures) >= 12 and len(res.tables) >= 15
    for fig in res.figures:
        assert fig.stat().st_size > 5000
        rel = f"figures/{fig.name}"
        assert f"src='{rel}'" in html and f"]({rel})" in md
    for tab in res.tables:
        assert f"tables/{tab.name}" in html and not pd.read_csv(tab).empty
    # self-contained: no absolute or remote links
    assert not re.search(r"(src|href)='(/|https?:)", html)
    for name in ("claims", "distributions", "noise_robustness", "hwt_robustness", "drift", "graph_features",
                 "nas_comparison"):
        assert f"id='{name}'" in html
    assert "HOLDS" in html and "(3,4)" in html
    assert [s[0] for s in steps] == list(range(1, steps[0][1] + 1))
    assert res.timings["total"] < 60


def test_nas_comparison_table_and_curves_are_in_the_report(report):
    res, _ = report
    table1 = pd.read_csv(res.out_dir / "tables" / "nas_table1.csv")
    assert list(table1["method"]) == ["random", "evolution"]
    agg = pd.read_csv(res.out_dir / "tables" / "nas_anytime_curves.csv")
    row = agg[(agg["method"] == "evolution") & (agg["evaluations"] == 10)].iloc[0]
    assert row["mean"] == pytest.approx(81 + np.log(10) + 0.1)
    assert row["lo"] == pytest.approx(81 + np.log(10)) and row["hi"] == pytest.approx(81.2 + np.log(10))
    assert (res.out_dir / "figures" / "nas_anytime.png").is_file()


def test_nas_comparison_rejects_bad_curves_and_loads_from_directory(tmp_path):
    table = pd.DataFrame({"method": ["random"]})
    with pytest.raises(ValueError, match="evaluations"):
        NASComparison(table, pd.DataFrame({"method": ["random"], "step": [1]}))
    with pytest.raises(FileNotFoundError, match="table1.csv"):
        load_nas_comparison(tmp_path)
    table.to_csv(tmp_path / "table1.csv", index=False)
    assert load_nas_comparison(tmp_path).curves is None


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (run scripts/system-deps.sh as root)")
def test_every_image_loads_in_headless_chromium(report):
    res, _ = report
    n, broken = broken_images(res.html)
    assert n == len(res.figures) and broken == []
    # ... and the check does notice a missing figure
    victim = res.figures[0]
    data = victim.read_bytes()
    victim.unlink()
    try:
        n, broken = broken_images(res.html)
        assert broken == [f"figures/{victim.name}"]
    finally:
        victim.write_bytes(data)


def test_cli_report_on_a_dataset_file(tmp_path, capsys):
    path = write_dataset(null_dataset(n=400, seed=4), DatasetMeta(name="null-test", fidelity="synthetic null"),
                         tmp_path / "null-test")
    out = tmp_path / "rep"
    assert main(["report", "--dataset", str(path), "--out", str(out), "--only", "claims", "drift"]) == 0
    cap = capsys.readouterr()
    assert f"report: {(out / 'index.html').resolve()}" in cap.out
    assert "[1/" in cap.err  # progress on stderr
    assert "HOLDS" not in cap.out and "3. Skip connections" in cap.out
    assert "synthetic null" in (out / "index.html").read_text()
    assert main(["report", "--dataset", str(path), "--out", str(out), "--only", "bogus"]) == 2
    assert "valid analyses" in capsys.readouterr().err


def test_cli_report_adds_the_predictor_study_and_the_calibration_only_when_asked(tmp_path):
    from analognasbench.predict.study import StudyConfig, run_study

    rows = null_dataset(n=400, seed=5)
    path = write_dataset(rows, DatasetMeta(name="null-test", fidelity="synthetic null"), tmp_path / "null-test")
    study = tmp_path / "study"
    study.mkdir()
    proxies = rows[["canonical_index"]].drop_duplicates().assign(zc_params=lambda d: d.canonical_index % 7)
    run_study(rows, proxies, study, config=StudyConfig(models=("ridge:onehot",), label_counts=(20,), seeds=(0,),
                                                        curve_targets=("noisy_accuracy",), curve_subsets=("all",)))
    base = ["report", "--dataset", str(path), "--only", "claims", "--no-nas", "--quiet"]
    assert main([*base, "--out", str(tmp_path / "a"), "--predict", str(study), "--calibration", "none"]) == 0
    text = (tmp_path / "a" / "report.md").read_text()
    assert "Predicting analog robustness cheaply" in text and "Calibrating low-cost" not in text
    # 'auto': the shipped study belongs to the release, so a report on another dataset leaves it out
    assert main([*base, "--out", str(tmp_path / "b")]) == 0
    assert "Predicting analog robustness cheaply" not in (tmp_path / "b" / "report.md").read_text()
    assert main([*base, "--out", str(tmp_path / "c"), "--predict", str(tmp_path / "nothing")]) == 2


# ---- the original release's pickle ---------------------------------------------------------------------------


class _Record:  # pickled under the release's class names (analognasbench.data.Architecture / DriftMeasurement)
    pass


class _Drift:
    pass


class _ReleasePickler(pickle._Pickler):  # the pure-Python pickler lets us name the release's classes
    NAMES = {_Record: "Architecture", _Drift: "DriftMeasurement"}

    def save_global(self, obj, name=None):
        if obj in self.NAMES:
            self.write(pickle.GLOBAL + f"analognasbench.data\n{self.NAMES[obj]}\n".encode())
            self.memoize(obj)
            return
        super().save_global(obj, name)


def write_release_pickle(df: pd.DataFrame, path: Path) -> None:
    """A ``data.anb`` laid out like the original release: {6-tuple: Architecture record}."""
    data = {}
    for row in df.itertuples(index=False):
        rec = _Record()
        arch = tuple(int(c) for c in re.findall(r"\d", row.arch))
        rec.__dict__.update(architecture=arch, params=int(row.params), baseline_accuracy=row.baseline_accuracy,
                            ptq_accuracy=row.ptq_accuracy, qat_accuracy=row.qat_accuracy,
                            noisy_accuracy=row.noisy_accuracy, analog_accuracy=row.analog_accuracy)
        for series in ("noisy", "analog"):
            for t in DRIFT_TIMES:
                d = _Drift()
                d.__dict__.update(value=getattr(row, f"{series}_drift_{t}"), uncertainty=0.1)
                # the first release called the digital network's drift "baseline_drift_*"
                key = f"baseline_drift_{t}" if series == "noisy" else f"analog_drift_{t}"
                setattr(rec, key, d)
        data[arch] = rec
    with open(path, "wb") as f:
        _ReleasePickler(f, protocol=2).dump(data)


def test_report_on_an_original_release_pickle(tmp_path):
    df = synthetic_dataset(n=500, seed=5)
    path = tmp_path / "data.anb"
    write_release_pickle(df, path)
    res = build_report(str(path), tmp_path / "rep", params=AnalysisParams(n_bootstrap=20),
                       only=["claims", "noise_robustness", "drift"])
    assert not res.skipped
    claims = pd.read_csv(res.out_dir / "tables" / "claims.csv")
    assert list(claims["verdict"]) == ["holds", "holds", "holds"]
    assert "original-release" in res.html.read_text()


# ---- the data-quality section -----------------------------------------------------------------------------------


def test_report_opens_with_data_quality_and_the_fidelity_and_seed_checks(tmp_path, capsys):
    from analognasbench.bench.registry import load

    smoke, meta, _ = load("synthetic-smoke")
    # the first 20 architectures as if trained again: every value 1 point higher or lower, alternately
    moved = smoke.head(20).assign(seed=1)
    shift = np.resize([1.0, -1.0], 20)
    for m in ("baseline_accuracy", "noisy_accuracy", "noisy_programmed_accuracy", "noisy_drift_86400",
              "analog_accuracy", "analog_programmed_accuracy", "analog_drift_86400"):
        moved[m] = moved[m] + shift
        if f"{m}_reps" in moved:  # the repetitions move with their mean (values are validated on load)
            moved[f"{m}_reps"] = [None if r is None else [x + d for x in r] for r, d in zip(moved[f"{m}_reps"], shift)]
    seeds = write_dataset(moved, DatasetMeta(name="smoke-seed1", fidelity=meta.fidelity), tmp_path / "smoke-seed1")
    out = tmp_path / "rep"
    assert main(["report", "--dataset", "synthetic-smoke", "--reference", "synthetic-smoke", "--seed-check",
                 str(seeds), "--no-nas", "--out", str(out), "--quiet"]) == 0
    summary = capsys.readouterr().out
    assert "Distinguishable (spread >= 3x the error of one value)" in summary
    assert "Fidelity check against synthetic-smoke" in summary and "100 architectures" in summary
    assert "Seed check against smoke-seed1, 20 architectures" in summary
    var = pd.read_csv(out / "tables" / "quality_seeds.csv")
    assert np.allclose(var.seed_std, np.sqrt(20 / 19) / np.sqrt(2)) and (var.n == 20).all()
    fid = pd.read_csv(out / "tables" / "quality_fidelity.csv")
    assert np.allclose(fid.kendall_tau, 1.0) and (fid.n == 100).all()  # a dataset against itself
    dist = pd.read_csv(out / "tables" / "quality_distinguishability.csv")
    assert set(dist.good_enough) <= {"yes", "no"} and (dist.median_se > 0).all()
    assert (out / "figures" / "quality_fidelity.png").stat().st_size > 5000
    html = (out / "index.html").read_text()
    assert html.index("id='data_quality'") < html.index("id='distributions'")


def test_data_quality_without_reference_or_without_stds():
    from analognasbench.report.quality import quality_section
    from analognasbench.report.source import load_source

    ds = load_source("synthetic-smoke")
    sec = quality_section(ds)
    assert not sec.skipped and "quality_fidelity" not in sec.tables and "quality_seeds" not in sec.tables
    too_few = quality_section(ds, seeds=load_source(ds.df.head(2)))
    assert "Seed check" in too_few.findings[-1] and "at least 3" in too_few.findings[-1]
    bare = load_source(ds.df[["canonical_index", "arch", "noisy_accuracy"]])
    assert "standard deviations" in quality_section(bare).skipped


def test_nas_comparison_says_which_space_was_searched():
    from analognasbench.bench.registry import load
    from analognasbench.report.nas import run_nas_comparison

    df, _, _ = load("synthetic-smoke")  # 100 of the 6,466 classes
    notes = run_nas_comparison(df, seeds=1, budget=5).notes
    assert "search space: the 100 measured isomorphism classes" in notes and "budget 5 evaluations" in notes


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (run scripts/system-deps.sh as root)")
@pytest.mark.parametrize("name", ["analognas-original", "cifar10-lowcost"])
def test_report_on_the_shipped_datasets_renders_every_figure(tmp_path, name):
    """Issue 15: the report on the published release (the default) and on the project's own dataset renders in
    headless Chromium with every figure; on the release it prints Table 3 beside the paper's."""
    from analognasbench.bench.registry import available_datasets, shipped_release

    if name not in available_datasets():
        pytest.skip(f"{name} is not shipped")
    res = build_report(name, tmp_path, params=None, release=None if name == shipped_release() else shipped_release())
    n, broken = broken_images(res.html)
    assert n == len(res.figures) >= 12 and broken == []
    assert not res.skipped.get("drift") and not res.skipped.get("data_quality")
    html = res.html.read_text(encoding="utf-8")
    assert "inf" not in re.findall(r"\binf\b", html) and "± nan" not in html
    if name == "analognas-original":
        vs = pd.read_csv(tmp_path / "tables" / "drift_table3_vs_paper.csv")
        assert len(vs) == 56 and vs["difference"].abs().max() <= 0.02
        assert "Repeatability" in html
    else:
        assert "Agreement with the published release" in html
