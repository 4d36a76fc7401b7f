"""Moved to :mod:`analognasbench.fidelity.calibration`: this old path still imports it, with a DeprecationWarning.

The old name is the same module object (``sys.modules`` points at the new one), so attributes and monkeypatching
behave as before and old pickles naming it still load.
"""

import sys
import warnings

from analognasbench.fidelity import calibration as _moved

warnings.warn("analognasbench.bench.calibration moved to analognasbench.fidelity.calibration; import it from there",
              DeprecationWarning, stacklevel=2)
sys.modules[__name__] = _moved
