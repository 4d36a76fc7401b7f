"""Comparing measured datasets: is a dataset good enough, and does it rank architectures like the release?

* :mod:`~analognasbench.fidelity.quality` -- the dataset card's checks (``anb quality``): cost per stage,
  distinguishability, rank fidelity against a higher-fidelity profile or the release, cross-device and seed checks;
* :mod:`~analognasbench.fidelity.calibration` -- the calibration of low-cost profiles against the published release.

Both compute rank agreement and top-k overlap with :mod:`analognasbench.agreement` (one definition). Layer: above
:mod:`analognasbench.bench` (rank 6, beside ``analysis``, ``search`` and ``predict``): it loads datasets through it.
"""
