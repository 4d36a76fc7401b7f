"""Sweep workers must not pay a page fault per tensor: Dask's nanny sets MALLOC_TRIM_THRESHOLD_, which froze glibc's
mmap threshold and made every CPU worker more than twice as slow as the same code in a plain process."""

from __future__ import annotations

import os
import resource
import subprocess
import sys

import pytest

from analognasbench.pipeline.allocator import tune_allocator

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator (Linux) only")

MIB = 262144  # float32 elements in 1 MiB


def faults_per_tensor(tune: bool = False, n: int = 100) -> float:
    """Minor page faults per allocation of a 1 MiB tensor, in this process (after warming up)."""
    import torch

    if tune:
        assert tune_allocator()
    for _ in range(3):
        torch.ones(MIB)
    start = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(n):
        x = torch.ones(MIB)
        del x
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - start) / n


def _in_subprocess(tune: bool) -> float:
    code = ("from tests.test_allocator import faults_per_tensor; "
            f"print(faults_per_tensor(tune={tune}))")
    env = {**os.environ, "MALLOC_TRIM_THRESHOLD_": "65536"}
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True,
                         cwd=os.path.dirname(os.path.dirname(__file__)))
    return float(out.stdout.strip().splitlines()[-1])


def test_tuning_removes_the_per_tensor_page_faults_of_the_nanny_setting():
    # 1 MiB is 256 pages: with the nanny's variable every allocation maps fresh pages
    assert _in_subprocess(tune=False) > 128
    assert _in_subprocess(tune=True) < 32


def test_tune_allocator_is_idempotent():
    assert tune_allocator() and tune_allocator()


def test_a_real_dask_worker_measures_without_page_fault_churn():
    from distributed import Client, LocalCluster

    from analognasbench.pipeline.sweep import measure_task

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        # measure_task tunes the allocator before measuring; an invalid profile fails fast after that point
        outcome = client.submit(measure_task, (0, 0, 0, 0, 0, 0), "not-a-profile", None, 0, pure=False).result()
        assert outcome.row is None and outcome.error
        faults = client.submit(faults_per_tensor, pure=False).result()
    assert faults < 32
