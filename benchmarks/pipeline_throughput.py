"""Measurement throughput: architectures per hour of a sweep on this machine, and where the time goes.

For each profile, runs a real sweep (local Dask cluster, one single-threaded worker process per core by default)
over the first N architectures of the fixed ``unique`` order into a temporary run store, and reports

* architectures per hour of the sweep (wall time of the sweep; cluster start-up excluded, each worker's one-off
  data loading included),
* the per-stage breakdown from the rows' ``time_*`` columns (mean seconds per architecture and share), i.e. the
  single-architecture cost on one worker, and the serial architectures/hour that implies,
* the worker overhead: the first architecture measured again in this process (one thread), its wall time against
  the worker's (about 1; it was 2.5 while Dask's nanny setting made every tensor allocation a page fault, see
  ``analognasbench/pipeline/allocator.py``), and whether both computed the same accuracies.

    python benchmarks/pipeline_throughput.py                        # smoke and cifar_lowcost
    python benchmarks/pipeline_throughput.py --profiles smoke --archs 8 --workers 2 --json out/throughput.json

CIFAR-10 profiles read ``--data`` (default ``../shared/data/cifar10-jpeg.tar.gz`` beside the repository, or
``$ANB_SHARED/data/...``); they are skipped with a message when it is absent. Accuracies on that copy (re-encoded
JPEG) can differ slightly from the original binary release; throughput does not depend on it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from analognasbench.pipeline.archsets import resolve_archset
from analognasbench.pipeline.profiles import DatasetName, get_profile
from analognasbench.pipeline.schema import EVAL_STAGES, TRAIN_STAGES
from analognasbench.pipeline.store import RunStore
from analognasbench.pipeline.sweep import ClusterKind, ClusterSpec, LocalOptions, open_cluster, run_sweep

REPO = Path(__file__).resolve().parents[1]
#: Pipeline order of the stages whose wall times every row records.
STAGE_ORDER = ("digital", "baseline", "ptq", "qat", "noisy", "hwt", "analog")
assert set(STAGE_ORDER) == set(TRAIN_STAGES + EVAL_STAGES)


def default_data() -> Path:
    shared = Path(os.environ.get("ANB_SHARED", REPO.parent / "shared"))
    return shared / "data" / "cifar10-jpeg.tar.gz"


def worker_overhead(profile: Any, arch: Any, data: Path | None, rows: Any) -> dict[str, Any]:
    """The worker's wall time of ``arch`` over the same measurement in this process, single-threaded."""
    import torch

    from analognasbench.pipeline.measure import evaluate_architecture, load_profile_data

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        row = evaluate_architecture(arch, profile, load_profile_data(profile, data), profile.seed)
    finally:
        torch.set_num_threads(threads)
    worker = rows.set_index("arch_index").loc[row["arch_index"]]
    same = all(row[m] == worker[m] for m in ("baseline_accuracy", "noisy_accuracy", "analog_drift_86400"))
    return {"arch": row["arch"], "worker_s": round(float(worker["time_total_s"]), 2),
            "in_process_s": round(row["time_total_s"], 2),
            "ratio": round(float(worker["time_total_s"]) / row["time_total_s"], 2), "same_accuracies": same}


def bench_profile(name: str, n_archs: int, workers: int, data: Path | None,
                  in_process: bool = True) -> dict[str, Any]:
    profile = get_profile(name)
    archs = resolve_archset("unique")[:n_archs]
    with tempfile.TemporaryDirectory(prefix="anb-throughput-") as tmp, \
            RunStore.open(Path(tmp) / "runs.sqlite", profile) as store, \
            open_cluster(ClusterSpec(ClusterKind.LOCAL, local=LocalOptions(workers=workers))) as client:
        client.wait_for_workers(workers, timeout=120)
        summary = run_sweep(store, profile, archs, client, data_path=data, progress=sys.stderr.isatty())
        df = store.to_dataframe()
    if summary.failed:
        raise SystemExit(f"{name}: {summary.failed} architecture(s) failed; see the log above")
    overhead = worker_overhead(profile, archs[0], data, df) if in_process else None
    stages = {s: float(df[f"time_{s}_s"].mean()) for s in STAGE_ORDER}
    per_arch = float(df["time_total_s"].mean())
    return {
        "profile": name,
        "profile_hash": profile.hash(),
        "describe": profile.describe(),
        "architectures": len(df),
        "workers": workers,
        "sweep_wall_s": round(summary.wall_s, 2),
        "sweep_archs_per_hour": round(summary.per_hour, 1),
        "mean_arch_s": round(per_arch, 3),
        "serial_archs_per_hour": round(3600.0 / per_arch, 1),
        "stages_mean_s": {s: round(t, 3) for s, t in stages.items()},
        "stages_share": {s: round(t / per_arch, 3) for s, t in stages.items()},
        "baseline_accuracy_mean": round(float(df["baseline_accuracy"].mean()), 2),
        "worker_overhead": overhead,
    }


def format_result(r: dict[str, Any]) -> str:
    lines = [f"{r['profile']}: {r['describe']}",
             f"  sweep   {r['architectures']} architectures on {r['workers']} worker(s) in {r['sweep_wall_s']:.1f} s"
             f" -> {r['sweep_archs_per_hour']:.0f} architectures/hour",
             f"  serial  {r['mean_arch_s']:.2f} s per architecture on one worker -> "
             f"{r['serial_archs_per_hour']:.0f} architectures/hour per worker",
             "  stages  " + " | ".join(f"{s} {r['stages_mean_s'][s]:.2f}s ({100 * r['stages_share'][s]:.0f}%)"
                                       for s in STAGE_ORDER)]
    o = r.get("worker_overhead")
    if o:
        lines.append(f"  worker  {o['arch']}: {o['worker_s']:.1f} s in a Dask worker vs {o['in_process_s']:.1f} s in "
                     f"this process -> ratio {o['ratio']:.2f} (target about 1); same accuracies: {o['same_accuracies']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profiles", nargs="+", default=["smoke", "cifar_lowcost"])
    parser.add_argument("--archs", type=int, nargs="+", default=None,
                        help="architectures per profile (one value, or one per profile; default 6 smoke, 2 others)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="worker processes (default: cores)")
    parser.add_argument("--data", type=Path, default=None, help="CIFAR-10 source for CIFAR profiles")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--no-in-process", action="store_true", help="skip the worker-overhead measurement")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    counts = args.archs or [6 if p == "smoke" else 2 for p in args.profiles]
    if len(counts) == 1:
        counts = counts * len(args.profiles)
    if len(counts) != len(args.profiles):
        parser.error("--archs takes one value or one per profile")
    print(f"machine: {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    results = []
    for name, n in zip(args.profiles, counts):
        data = None
        if get_profile(name).dataset is DatasetName.CIFAR10:
            data = args.data or default_data()
            if not data.exists():
                print(f"{name}: skipped, CIFAR-10 not found at {data} (pass --data)")
                continue
        start = time.perf_counter()
        result = bench_profile(name, n, args.workers, data, not args.no_in_process)
        result["total_wall_s"] = round(time.perf_counter() - start, 1)
        results.append(result)
        print(format_result(result), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"machine": platform.node(), "cores": os.cpu_count(), "results": results},
                                        indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
