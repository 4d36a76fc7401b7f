"""AnalogNAS-Bench: a NAS benchmark for analog in-memory computing.

Layers, each importing only from the ones before it:
``space`` -> ``nets`` -> ``datasets`` -> ``analog`` -> ``pipeline`` -> ``bench``
(``analognasbench.data`` is the compatibility module of the original release)
-> ``analysis``, ``search`` -> ``report``, ``cli``.
"""

__version__ = "0.1.0"
