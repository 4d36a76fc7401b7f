"""Give PyTorch's CPU tensors glibc's normal allocator behaviour back inside Dask workers.

Dask's nanny starts every worker with ``MALLOC_TRIM_THRESHOLD_=65536`` (its ``pre-spawn-environ`` default, meant to
return memory to the OS). Setting that variable also freezes glibc's mmap threshold at 128 KiB, so every activation
and gradient tensor above it is mmapped and unmapped at each use: on a CPU sweep worker, page faults took more than
half of the time (about 150 s per ``cifar_lowcost`` architecture instead of 65 s). The numbers computed do not depend
on the allocator; only the speed does.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

logger = logging.getLogger(__name__)

#: glibc's mallopt parameter numbers (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
#: glibc's largest dynamic mmap threshold on 64-bit systems; trimming starts at twice the threshold, as glibc does.
MMAP_THRESHOLD = 32 * 1024 * 1024
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD

_tuned = False


def tune_allocator() -> bool:
    """Raise glibc's mmap and trim thresholds for this process (idempotent). Returns whether they are set: ``False``
    where the C library is not glibc (macOS, musl), which have no such problem to fix."""
    global _tuned  # a per-process cache of a one-time system call, like the data cache
    if _tuned:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    ok = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
    if not ok:
        logger.warning("mallopt refused the thresholds; CPU training may be slow in this worker")
    _tuned = ok
    return ok
