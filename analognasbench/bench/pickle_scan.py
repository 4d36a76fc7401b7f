"""Moved to :mod:`analognasbench.release.pickle_scan`: this old path still imports it, with a DeprecationWarning.

The old name is the same module object (``sys.modules`` points at the new one), so attributes and monkeypatching
behave as before and old pickles naming it still load.
"""

import sys
import warnings

from analognasbench.release import pickle_scan as _moved

warnings.warn("analognasbench.bench.pickle_scan moved to analognasbench.release.pickle_scan; import it from there",
              DeprecationWarning, stacklevel=2)
sys.modules[__name__] = _moved
