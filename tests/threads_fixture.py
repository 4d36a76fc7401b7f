"""A fixture shared by the modules that compare measurements bit for bit (import it to use it there)."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    """Every test of the importing module on one torch thread: CPU rows are bit-for-bit reproducible only at a
    fixed thread count (reductions split differently), and the machine has 2 cores shared with other jobs."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
