"""Moved to :mod:`analognasbench.release.original`: this old path still imports it, with a DeprecationWarning.

The old name is the same module object (``sys.modules`` points at the new one), so attributes and monkeypatching
behave as before and old pickles naming it still load.
"""

import sys
import warnings

from analognasbench.release import original as _moved

warnings.warn("analognasbench.bench.original moved to analognasbench.release.original; import it from there",
              DeprecationWarning, stacklevel=2)
sys.modules[__name__] = _moved
