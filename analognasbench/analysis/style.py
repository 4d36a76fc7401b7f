"""One plotting style for every figure: Agg backend, readable in black and white (markers, hatches and line
styles carry the distinction, colour only helps), axes labelled with units.

matplotlib is imported lazily so that importing the analyses stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from analognasbench.pipeline.schema import DRIFT_TIMES, Metric

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Colour-blind-safe palette (Okabe-Ito), dark enough to stay distinct in greyscale together with markers/hatches.
COLORS: tuple[str, ...] = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "X", "*")
LINESTYLES: tuple[Any, ...] = ("-", "--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 3)))
HATCHES: tuple[str, ...] = ("", "///", "...", "xxx", "\\\\\\", "+++", "ooo", "---")

#: Short op names for axes and legends, by op index.
OP_SHORT: dict[int, str] = {0: "skip", 1: "none", 2: "conv 3x3", 3: "conv 1x1", 4: "avg pool"}

_TIME_LABELS = {0: "0 s", 60: "60 s", 3600: "1 h", 86400: "1 day", 2592000: "30 days"}
_SHORT_METRIC = {
    Metric.BASELINE: "Baseline",
    Metric.PTQ: "PTQ",
    Metric.QAT: "QAT",
    Metric.NOISY: "Noisy",
    Metric.ANALOG: "Analog (HWT)",
    Metric.NOISY_PROGRAMMED: "Noisy programmed",
    Metric.ANALOG_PROGRAMMED: "Analog (HWT) programmed",
}

_STYLE_APPLIED = False


def time_label(t: float) -> str:
    return _TIME_LABELS.get(int(t), f"{t:g} s")


def metric_short(m: Metric | str) -> str:
    """Short display name, e.g. 'Noisy' or 'Analog drift 1 day'."""
    m = Metric.parse(m)
    if m in _SHORT_METRIC:
        return _SHORT_METRIC[m]
    series, t = m.value.rsplit("_", 1)
    return f"{'Noisy' if series.startswith('noisy') else 'Analog'} drift {time_label(int(t))}"


def metric_label(m: Metric | str) -> str:
    """Axis label with unit, e.g. 'Noisy accuracy (%)'."""
    return f"{metric_short(m)} accuracy (%)"


def format_params(n: float) -> str:
    """Parameter counts as 12.3K / 1.20M."""
    if n >= 1e6:
        return f"{n / 1e6:.2f}M"
    if n >= 1e3:
        return f"{n / 1e3:.1f}K"
    return f"{n:.0f}"


def apply_style() -> None:
    """Select the Agg backend and the shared rc settings (idempotent)."""
    global _STYLE_APPLIED
    import matplotlib

    matplotlib.use("Agg", force=True)
    if _STYLE_APPLIED:
        return
    from cycler import cycler

    matplotlib.rcParams.update({
        "figure.dpi": 100,
        "savefig.dpi": 130,
        "savefig.bbox": "tight",
        "font.size": 9,
        "axes.titlesize": 10,
        "axes.labelsize": 9,
        "legend.fontsize": 8,
        "legend.frameon": False,
        "axes.grid": True,
        "grid.color": "#cccccc",
        "grid.linewidth": 0.5,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.prop_cycle": cycler(color=COLORS[:6], linestyle=LINESTYLES[:6], marker=MARKERS[:6]),
        "lines.markersize": 4,
        "hatch.linewidth": 0.6,
        "image.cmap": "cividis",
    })
    _STYLE_APPLIED = True


def new_figure(ncols: int = 1, nrows: int = 1, *, width: float = 6.0, height: float = 3.6,
               **kwargs: Any) -> tuple[Figure, Any]:
    """A figure in the shared style (``plt.subplots`` without the pyplot state machine leaking figures)."""
    apply_style()
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=True, **kwargs)
    return fig, axes


def grouped_bars(ax: Axes, categories: list[str], series: dict[str, list[float]], *,
                 errors: dict[str, list[float]] | None = None, horizontal: bool = False) -> None:
    """Bars grouped by category, one hatch + colour per series, outlined in black (B/W safe)."""
    import numpy as np

    n = len(series)
    width = 0.8 / max(n, 1)
    x = np.arange(len(categories))
    for i, (name, values) in enumerate(series.items()):
        pos = x - 0.4 + width * (i + 0.5)
        err = errors.get(name) if errors else None
        kw = dict(color=COLORS[i % len(COLORS)], hatch=HATCHES[i % len(HATCHES)], edgecolor="black",
                  linewidth=0.6, label=name)
        if horizontal:
            ax.barh(pos, values, height=width, xerr=err, **kw)
        else:
            ax.bar(pos, values, width=width, yerr=err, **kw)
    if horizontal:
        ax.set_yticks(x, categories)
    else:
        ax.set_xticks(x, categories)


__all__ = [
    "COLORS", "DRIFT_TIMES", "HATCHES", "LINESTYLES", "MARKERS", "OP_SHORT", "apply_style", "format_params",
    "grouped_bars", "metric_label", "metric_short", "new_figure", "time_label",
]
