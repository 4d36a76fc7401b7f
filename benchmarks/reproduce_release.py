"""End-to-end reproduction of release cells (issue 23): our paper-original rows against the release's members.

    anb generate --profile paper-original --archs scripts/reproduce-archs.txt --data DATA --store runs/po.sqlite
    python benchmarks/reproduce_release.py --store runs/po.sqlite [--markdown]
    python benchmarks/reproduce_release.py --checkpoints .resume/checkpoints   # measurements still in progress
    python benchmarks/reproduce_release.py --checkpoints DIR --probe --data DATA  # digital trainings in progress
    python benchmarks/reproduce_release.py --checkpoints DIR --inside --data DATA  # clipping and SNR per layer
    python benchmarks/reproduce_release.py ... --export --source "what ran where"  # -> the shipped comparison
    python benchmarks/reproduce_release.py                                     # the shipped comparison

Per class and metric: our value, the release members' mean and standard deviation, and whether ours lies within 3
spreads (``analognasbench.fidelity.reproduce``). With ``--checkpoints`` the measurements still in progress (e.g. a
lent GPU's minutes ended inside HWT) are compared on the stages they finished
(``analognasbench.pipeline.partial``); a class with a whole row in the store is taken from the store. ``--probe``
also reads the networks of digital trainings still in progress on the clean test set and on the unprogrammed chip
(a few passes, on the CPU): kind ``probe``, an early sign, never a dataset value. ``--export`` writes the table to
``analognasbench/fidelity/reproduce-paper-original.csv`` (the report's calibration section shows it), merged with
what is shipped: a class's rows come from one run, a new run's once it has measured all the shipped run did.
The measurements run on a GPU (``scripts/gpu-reproduce.sh``); on one CPU core a cell without convolutions takes
about a day (measured: 130 s per digital epoch, 430 s per QAT epoch, about an hour of chip readings).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from analognasbench.bench.registry import load
from analognasbench.fidelity.reproduce import (
    SHIPPED_REPRODUCTION,
    compare_with_members,
    merge_reproduction,
    reproduction_summary,
    shipped_reproduction,
)


def measured_rows(store: str | None, checkpoints: str | None) -> pd.DataFrame:
    """Whole rows of ``store`` and, for the classes it lacks, the finished stages of measurements in progress."""
    from analognasbench.pipeline.partial import rows_in_progress
    from analognasbench.pipeline.store import RunStore

    frames = []
    if store and store.endswith(".sqlite"):
        with RunStore(store, read_only=True) as s:
            frames.append(s.to_dataframe(s.profile_hash).assign(stages_finished="all"))
    elif store:
        frames.append(load(store)[0].assign(stages_finished="all"))
    if checkpoints:
        partial = rows_in_progress(checkpoints)
        done = set(frames[0]["canonical_index"]) if frames else set()
        if not partial.empty:
            frames.append(partial[~partial["canonical_index"].isin(done)])
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def digital_checkpoints(root: str):
    """``(path, profile, arch index, seed)`` of every digital training checkpoint under ``root`` whose profile is
    still what it was when saved (others are named and skipped)."""
    from analognasbench.pipeline.partial import registered_profile
    from analognasbench.pipeline.resume import parse_run_directory

    for path in sorted(Path(root).glob("*/*-seed*/digital.pt")):
        run = parse_run_directory(path.parent)
        if run is None:
            continue
        name, profile_hash, arch, seed = run
        profile = registered_profile(name, profile_hash)
        if profile is None:
            print(f"skipped {path}: profile {name} is not registered or has changed since (saved {profile_hash})")
            continue
        yield path, profile, arch, seed


def probe_rows(root: str, data_path: str | None, reads: int) -> pd.DataFrame:
    """The probe of every digital training in progress under ``root`` (its stages.json has no baseline yet)."""
    import json

    from analognasbench.pipeline.measure import load_profile_data
    from analognasbench.pipeline.partial import probe_digital_training

    rows, cache = [], {}
    for path, profile, arch, seed in digital_checkpoints(root):
        results = path.with_name("stages.json")
        if results.exists() and "baseline" in json.loads(results.read_text()):
            continue  # finished: its measured baseline is in the table
        if profile.name not in cache:
            cache[profile.name] = load_profile_data(profile, data_path)
        probe = probe_digital_training(path, arch, profile, cache[profile.name], seed, reads=reads)
        rows.append({"canonical_index": probe["canonical_index"], "baseline_accuracy": probe["baseline_probe"],
                     "noisy_accuracy": probe["noisy_probe"],
                     "stages_finished": f"probe: epoch {probe['epoch']} of {probe['epochs']}, {reads} passes"})
    return pd.DataFrame(rows)


def inside(root: str, data_path: str | None) -> pd.DataFrame:
    """Per digital network under ``root`` (the latest checkpoint of each), its analog layers read on 500 test
    images before programming (``analognasbench.pipeline.ablation.layer_diagnostics``), summarised: layers,
    those clipping more than 10 % of their inputs at the fixed input range, the worst clipping, the median and
    worst signal-to-noise ratio (dB) and the layer where it is worst."""
    import torch

    from analognasbench.pipeline.ablation import layer_diagnostics
    from analognasbench.pipeline.measure import chip_hardware, load_profile_data
    from analognasbench.pipeline.partial import digital_network_of
    from analognasbench.pipeline.training import DeviceData, evaluation_batches

    rows, cache = [], {}
    for path, profile, arch, _ in digital_checkpoints(root):
        name = profile.name
        if name not in cache:
            data = load_profile_data(profile, data_path)
            proto = profile.protocol
            dd = DeviceData.from_arrays(data.train_x, data.train_y, data.test_x, data.test_y, torch.device("cpu"),
                                        proto.norm_mean, proto.norm_std)
            cache[name] = evaluation_batches(dd, 500)[0][0]
        net, epoch = digital_network_of(path, arch, profile)
        layers = pd.DataFrame(layer_diagnostics(net, chip_hardware(profile), cache[name]))
        worst = layers.loc[layers.snr_db.idxmin()]
        rows.append({"arch": arch, "epoch": epoch, "layers": len(layers),
                     "clipping >10 %": int((layers.clipped > 0.1).sum()), "worst clipped": layers.clipped.max(),
                     "median SNR dB": layers.snr_db.median(), "worst SNR dB": worst.snr_db,
                     "worst layer": worst.layer})
    return pd.DataFrame(rows)


def comparison(rows: pd.DataFrame, release: pd.DataFrame, kind: str, **kwargs) -> pd.DataFrame:
    """:func:`compare_with_members` per measurement, labelled with its kind and what it had finished (and, for a
    measurement in progress, which training is under way). A measured class keeps the metrics it has not measured
    yet (``ours`` empty, ``reproduced`` pending): the table shows what is still to come."""
    out = []
    for _, one in rows.groupby("canonical_index"):
        cmp = compare_with_members(one, release, **kwargs)
        if kind != "measured":
            cmp = cmp.dropna(subset=["z"])
        stages = str(one["stages_finished"].iloc[0])
        running = one["in_progress"].iloc[0] if "in_progress" in one else ""
        if isinstance(running, str) and running:
            stages += f"; {running}"
        out.append(cmp.assign(kind=kind, stages=stages))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--store", help="run store (SQLite) or dataset path with the measured rows")
    p.add_argument("--checkpoints", help="checkpoint root of measurements in progress (anb generate --checkpoints)")
    p.add_argument("--probe", action="store_true", help="with --checkpoints: read the digital trainings in progress")
    p.add_argument("--reads", type=int, default=3, help="with --probe: evaluation passes per reading (default 3)")
    p.add_argument("--data", help="with --probe: the dataset path (e.g. ../shared/data/cifar10-jpeg.tar.gz)")
    p.add_argument("--export", action="store_true", help=f"write the table to {SHIPPED_REPRODUCTION.name}")
    p.add_argument("--source", default="", help="with --export: where and how the measurements ran (provenance)")
    p.add_argument("--inside", action="store_true",
                   help="with --checkpoints: per-layer clipping and SNR of each digital network on the chip")
    p.add_argument("--markdown", action="store_true")
    args = p.parse_args(argv)
    if args.inside:
        if not args.checkpoints:
            p.error("--inside needs --checkpoints")
        print(inside(args.checkpoints, args.data).round(3).to_string(index=False))
        return 0
    if args.probe and (not args.checkpoints or args.reads < 1):
        p.error("--probe needs --checkpoints and --reads >= 1")
    if args.export and not (args.store or args.checkpoints):
        p.error("--export needs --store or --checkpoints (what to export)")
    from analognasbench.bench.errors import DatasetNotFoundError
    from analognasbench.pipeline.store import StoreError

    release = load("original")[0]
    if args.store or args.checkpoints:
        try:
            rows = measured_rows(args.store, args.checkpoints)
            probes = probe_rows(args.checkpoints, args.data, args.reads) if args.probe else pd.DataFrame()
        except (StoreError, DatasetNotFoundError, ValueError) as exc:
            p.error(str(exc))
        parts = [comparison(rows, release, "measured")] if len(rows) else []
        if len(probes):
            parts.append(comparison(probes, release, "probe", metrics=["baseline_accuracy", "noisy_accuracy"]))
        cmp = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        if len(cmp):
            cmp["source"] = args.source
    else:
        cmp = shipped_reproduction()
    if cmp.empty:
        print("nothing measured yet")
        return 0
    if args.export:
        cmp, kept = merge_reproduction(shipped_reproduction(), cmp)
        for cls, missing in kept.items():
            print(f"class {cls}: kept the shipped run's values (the new run has not measured {', '.join(missing)})")
        cmp.to_csv(SHIPPED_REPRODUCTION, index=False, float_format="%.4f")
        print(f"wrote {len(cmp)} comparisons to {SHIPPED_REPRODUCTION}")
    from analognasbench.report.calibration import reproduction_columns

    shown = reproduction_columns(cmp)
    if args.markdown:
        from analognasbench.report.render import markdown_table

        print("\n".join(markdown_table(shown, max_rows=None)[0]))  # DATASET.md's table
    else:
        with pd.option_context("display.width", 250, "display.max_columns", 20):
            print(shown.to_string(index=False))
    for kind, sub in cmp.groupby("kind"):
        print(f"-- {kind}\n" + reproduction_summary(sub).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
