"""AnalogNAS-Bench: a NAS benchmark for analog in-memory computing.

Layers, each importing only from the ones before it (``tests/test_layers.py`` checks it; README, *Layout*):
top-level helpers (``enums``, ``agreement``) -> ``space`` -> ``nets`` -> ``datasets`` -> ``analog``, ``hardware``
-> ``pipeline`` -> ``bench``, ``release`` (``analognasbench.data`` is the compatibility module of the original
release) -> ``analysis``, ``search``, ``predict``, ``fidelity``, ``integrations`` -> ``report``, ``cli``.
"""

__version__ = "0.1.0"
