"""Build the report: run every registered analysis, draw its figures, write HTML, Markdown, PNG and CSV files.

Layout of the output directory::

    index.html      self-contained page (inline CSS), images linked relatively
    report.md       the same content in Markdown
    figures/*.png   one file per figure
    tables/*.csv    every table in full
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analognasbench import __version__
from analognasbench.analysis.registry import AnalysisParams, Section, analyses, run_section
from analognasbench.report.nas import NASComparison, nas_section
from analognasbench.report.pareto import pareto_section
from analognasbench.report.quality import quality_section
from analognasbench.report.render import (
    RenderedFigure,
    RenderedSection,
    RenderedTable,
    render_html,
    render_markdown,
)
from analognasbench.report.source import ReportDataset, load_source

log = logging.getLogger(__name__)

#: progress(step, total, message)
Progress = Callable[[int, int, str], None]


@dataclass
class ReportOutput:
    out_dir: Path
    html: Path
    markdown: Path
    figures: list[Path]
    tables: list[Path]
    summary: list[str]
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds per stage (load, each analysis, figures, write)."""
    skipped: dict[str, str] = field(default_factory=dict)


def check_analysis_names(only: Sequence[str]) -> None:
    """Refuse unknown analysis names (``ValueError`` listing the valid ones) before any work or output."""
    names = {s.name for s in analyses()}
    bad = [n for n in only if n not in names]
    if bad:
        raise ValueError(f"unknown analysis {', '.join(bad)}; valid analyses: {', '.join(sorted(names))}")


def build_report(source: Any = "default", out_dir: str | Path = "anb-report", *,
                 params: AnalysisParams | None = None, only: Sequence[str] | None = None,
                 nas: NASComparison | None = None, extra_sections: Sequence[Section] = (),
                 reference: Any = None, seed_check: Any = None, release: Any = None,
                 progress: Progress | None = None) -> ReportOutput:
    """Run the analyses on ``source`` (see :func:`load_source`) and write the report into ``out_dir``.

    ``only`` restricts to named analyses (and leaves out the data-quality and accuracy-energy sections); ``nas``
    adds the NAS comparison section (Table 1 + anytime curves); ``extra_sections`` are appended as they are. The data-quality section comes first; ``reference`` (anything
    :func:`load_source` takes) is a higher-fidelity dataset of some of the same architectures for its fidelity check,
    ``seed_check`` the same profile trained from another seed for its seed check, ``release`` the published data
    to compare rankings with (left out when ``source`` is the release itself).
    """
    specs = analyses()
    if only is not None:
        check_analysis_names(only)
        specs = [s for s in specs if s.name in only]
    out = Path(out_dir)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    (out / "tables").mkdir(parents=True, exist_ok=True)
    total = 2 + len(specs) + (2 if only is None else 0) + (1 if nas else 0) + len(extra_sections)
    step = 0

    def tick(msg: str) -> None:
        nonlocal step
        step += 1
        if progress:
            progress(step, total, msg)

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    ds = load_source(source)
    params = params or AnalysisParams.for_dataset(ds.meta)
    timings["load"] = time.perf_counter() - t0
    tick(f"loaded {ds.name} ({len(ds.df)} rows)")

    sections: list[Section] = []
    if only is None:
        rel = None if release is None else load_source(release)
        if rel is not None and rel.meta.get("sha256") and rel.meta.get("sha256") == ds.meta.get("sha256"):
            rel = None  # the release against itself says nothing
        sections.append(quality_section(ds, None if reference is None else load_source(reference),
                                        None if seed_check is None else load_source(seed_check), rel))
        tick(sections[-1].title)
    for spec in specs:
        t = time.perf_counter()
        sections.append(run_section(spec.name, ds.df, params))
        timings[spec.name] = time.perf_counter() - t
        tick(f"{spec.title}{' (skipped)' if sections[-1].skipped else ''}")
    if only is None:
        t = time.perf_counter()
        sections.append(pareto_section(ds))
        timings["pareto_energy"] = time.perf_counter() - t
        tick(sections[-1].title)
    extras = list(extra_sections)
    if nas is not None:
        extras.insert(0, nas_section(nas))
    for sec in extras:
        sections.append(sec)
        tick(sec.title)

    rendered, figures, tables = [], [], []
    t = time.perf_counter()
    for sec in sections:
        rs = RenderedSection(sec.name, sec.title, sec.paper_ref, sec.intro, list(sec.findings), skipped=sec.skipped)
        for name, (caption, df) in sec.tables.items():
            path = out / "tables" / f"{name}.csv"
            df.to_csv(path, index=False)
            tables.append(path)
            rs.tables.append(RenderedTable(name, caption, df, f"tables/{name}.csv"))
        for name, fig_spec in sec.figures.items():
            path = out / "figures" / f"{name}.png"
            try:
                fig = fig_spec.draw()
            except Exception as exc:  # a figure must not sink the whole report
                log.warning("figure %s failed: %s", name, exc)
                rs.findings.append(f"(figure {name} could not be drawn: {exc})")
                continue
            fig.savefig(path)
            figures.append(path)
            rs.figures.append(RenderedFigure(name, fig_spec.caption, f"figures/{name}.png"))
        rendered.append(rs)
    timings["figures_and_tables"] = time.perf_counter() - t
    tick("figures and tables")

    summary = _summary(ds, sections)
    header = _header(ds)
    title = f"AnalogNAS-Bench report: {ds.name}"
    footer = f"Generated by analognasbench {__version__} (anb report) in {time.perf_counter() - t0:.1f} s."
    html_path, md_path = out / "index.html", out / "report.md"
    html_path.write_text(render_html(title, header, summary, rendered, footer), encoding="utf-8")
    md_path.write_text(render_markdown(title, header, summary, rendered, footer), encoding="utf-8")
    timings["total"] = time.perf_counter() - t0
    return ReportOutput(out, html_path, md_path, figures, tables, summary, timings,
                        {s.name: s.skipped for s in sections if s.skipped})


def _header(ds: ReportDataset) -> list[tuple[str, str]]:
    m = ds.meta
    rows = [("Dataset", ds.name), ("Architectures", f"{len(ds.df)} rows")]
    for key, label in (("fidelity", "Fidelity"), ("source", "Source"), ("repetitions", "Repetitions (R)"),
                       ("hardware_preset", "Hardware preset"), ("created", "Created"), ("sha256", "SHA-256"),
                       ("notes", "Notes")):
        if m.get(key) not in (None, "", 0):
            rows.append((label, str(m[key])))
    if ds.path:
        rows.append(("File", ds.path))
    return rows


def _summary(ds: ReportDataset, sections: list[Section]) -> list[str]:
    out = [f"{len(ds.df)} architectures" + (f"; fidelity: {ds.fidelity}" if ds.fidelity else "") + "."]
    for sec in sections:
        if sec.name in ("data_quality", "claims") and not sec.skipped:
            out += list(sec.findings)
    skipped = [s.title for s in sections if s.skipped]
    if skipped:
        out.append(f"Skipped for lack of data: {', '.join(skipped)}.")
    return out
