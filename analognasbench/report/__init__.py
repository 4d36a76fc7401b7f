"""``anb report``: every analysis of the paper on one dataset, as an HTML page (with PNG figures), a Markdown
version and CSV files of every table.

>>> from analognasbench.report import build_report      # doctest: +SKIP
>>> out = build_report("default", "anb-report")           # or an AnalogNASBench, or a dataset path
>>> out.html                                              # doctest: +SKIP
"""

from analognasbench.report.build import ReportOutput, build_report
from analognasbench.report.nas import NASComparison, aggregate_curves, load_nas_comparison, nas_section
from analognasbench.report.source import ReportDataset, load_source

__all__ = [
    "NASComparison", "ReportDataset", "ReportOutput", "aggregate_curves", "build_report", "load_nas_comparison",
    "load_source", "nas_section",
]
