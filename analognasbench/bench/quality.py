"""Moved to :mod:`analognasbench.fidelity.quality`: this old path still imports it, with a DeprecationWarning.

The old name is the same module object (``sys.modules`` points at the new one), so attributes and monkeypatching
behave as before and old pickles naming it still load.
"""

import sys
import warnings

from analognasbench.fidelity import quality as _moved

warnings.warn("analognasbench.bench.quality moved to analognasbench.fidelity.quality; import it from there",
              DeprecationWarning, stacklevel=2)
sys.modules[__name__] = _moved
