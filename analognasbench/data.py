"""Compatibility module: the import path of the original AnalogNAS-Bench release.

Scripts written for the original keep working unchanged::

    from analognasbench.data import AnalogNASBench, DriftMeasurement
    bench = AnalogNASBench()
    bench.query_metric((0, 0, 0, 4, 3, 2), "analog_accuracy")       # float
    bench.query_metric((0, 0, 2, 0, 0, 0), "noisy_drift_3600")      # DriftMeasurement: .value, .uncertainty
    print(bench.get_architecture_details((0, 0, 2, 0, 0, 0)))
    bench.list_available_architectures()                            # list of 6-tuples

As in the original, an unknown metric name raises ``ValueError`` ("Metric ... not found. Available metrics:
[...]"; here its subclass :class:`~analognasbench.bench.errors.UnknownMetricError`), and ``bench.metrics`` lists
the names ``query_metric`` takes, ``'architecture'`` first (it returns the tuple, as the original's did).

Differences from the original, all in the direction of answering more:

* A tuple absent from the table is answered from an isomorphic measured cell (the same network). The published
  release (the default dataset) holds all 15,625 tuples; a dataset of the pipeline holds one representative per
  measured isomorphism class, and resolving isomorphs is what keeps lookups of arbitrary tuples working.
  ``"architecture not found"`` (and ``"Architecture not found."``) are returned only when no cell of the class is
  measured, or for input that is not an architecture at all (e.g. an op index 5).
* ``list_available_architectures()`` lists the measured tuples: every cell of the release, one per measured class
  in a dataset of class representatives.
* ``bench.metrics`` names the digitally trained network's drift ``noisy_drift_T`` (the release's README) and adds
  ``params``; the release's own names ``baseline_drift_T`` are accepted too.
* Any encoding of :func:`analognasbench.space.parse` is accepted (index, NAS-Bench-201 string, list).
* ``DriftMeasurement`` is immutable and, beyond the original, a number by its mean (orders, converts, does
  arithmetic), while ``==`` and its text (``"v ± u"``, also under a format spec) stay the measurement's:
  see :mod:`analognasbench.bench.drift`.

The same object offers the typed API (``query``, ``df``, ``meta``, ``metric_array``; see :mod:`analognasbench.bench`).
"""

from analognasbench.bench.benchmark import AnalogNASBench
from analognasbench.bench.drift import DriftMeasurement

__all__ = ["AnalogNASBench", "DriftMeasurement"]
