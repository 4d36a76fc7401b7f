"""The published AnalogNAS-Bench release: reading its ``data.anb`` safely, and importing it as a dataset.

* :mod:`~analognasbench.release.pickle_scan` -- a static scan of the pickle's opcodes before anything is loaded;
* :mod:`~analognasbench.release.original` -- the restricted unpickler, turning the release's records into a frame
  of the project's schema (``AnalogNASBench('data.anb')`` reads through it);
* :mod:`~analognasbench.release.import_original` -- fetching the pinned wheel, verifying its SHA-256 and writing the
  converted dataset (``anb import-original``).

Layer: beside :mod:`analognasbench.bench` (rank 5). The release is converted into the bench's dataset format, so this
package imports ``bench`` (its files, errors and drift values); ``bench`` imports it in one place only, lazily: its
loader reads an original-release pickle through :func:`~analognasbench.release.original.load_original`.
"""
