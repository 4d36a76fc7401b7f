"""``anb generate --slurm`` on a real single-node Slurm: dask-jobqueue submits the workers as batch jobs."""

from __future__ import annotations

import subprocess
import sys

import pytest
from slurm_fixture import slurm_cluster  # noqa: F401  (the fixture)

from analognasbench.pipeline.archsets import resolve_archset
from analognasbench.pipeline.profiles import get_profile
from analognasbench.pipeline.store import RunStore

pytestmark = [pytest.mark.slurm, pytest.mark.slow]


def test_generate_on_slurm_measures_smoke_architectures_in_batch_jobs(tmp_path, slurm_cluster):  # noqa: F811
    store = tmp_path / "runs.sqlite"
    logs = tmp_path / "slurm-logs"
    command = [
        sys.executable, "-m", "analognasbench", "generate", "--profile", "smoke", "--archs", "sample:2:4",
        "--store", str(store), "--no-progress", "--slurm", "--slurm-partition", slurm_cluster.partition,
        "--slurm-jobs", "2", "--slurm-cores", "1", "--slurm-memory", "2GB", "--slurm-walltime", "00:15:00",
        "--slurm-scheduler-host", "127.0.0.1", "--slurm-log-dir", str(logs),
    ]
    done = subprocess.run(command, cwd=tmp_path, env=slurm_cluster.env, capture_output=True, text=True, timeout=420)
    job_logs = "\n".join(p.read_text(errors="replace")[-1500:] for p in logs.glob("*")) if logs.exists() else ""
    assert done.returncode == 0, f"{done.stderr[-3000:]}\n{job_logs}\n{slurm_cluster.logs()}"
    smoke = get_profile("smoke")
    with RunStore.open(store, smoke) as s:
        df = s.to_dataframe()
    assert sorted(df["canonical_index"]) == sorted(a.index for a in resolve_archset("sample:2:4"))
    assert df["baseline_accuracy"].notna().all()
    # the workers really ran as Slurm jobs: their output files exist and Slurm accounted the jobs
    assert list(logs.glob("*.out")) or list(logs.glob("*.err")), "no Slurm job output found"
