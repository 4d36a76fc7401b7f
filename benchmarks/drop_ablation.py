"""The noisy-drop ablation (issue 23): run it, resume it, print its table against the release.

    python benchmarks/drop_ablation.py --write-archs 24               # the seeded subset -> scripts/ablation-archs.txt
    python benchmarks/drop_ablation.py --run --store /work/runs/drop-ablation.jsonl --data ../shared/data/...
    python benchmarks/drop_ablation.py --store /work/runs/drop-ablation.jsonl [--markdown] [--figure F.png]
    python benchmarks/drop_ablation.py --inside --data ../shared/data/...   # per-layer clipping and SNR

The base is calib-n1-fast's setting read on 1,000 test images (the cheapest calibration profile); every other
setting changes one factor toward the release (``analognasbench.pipeline.ablation.ablation_settings``). Without
``--store`` the table is read from the shipped records (``analognasbench/fidelity/drop-ablation.csv``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import pandas as pd

from analognasbench.bench.registry import load
from analognasbench.fidelity.calibration import read_arch_file
from analognasbench.fidelity.drop_ablation import ABLATION_SEED, SHIPPED_RECORDS, ablation_sample, drop_table
from analognasbench.pipeline.ablation import DropStore, ablation_settings, run_ablation
from analognasbench.pipeline.profiles import get_profile

ROOT = Path(__file__).resolve().parent.parent
ARCHS = ROOT / "scripts" / "ablation-archs.txt"
#: The two factors that moved the drop alone, together (the release's depth and image size), trained 4, 12 and 24
#: epochs; the release's width on top (12 epochs, 5,000 images: 517 core-seconds of training per class, median);
#: then the release's whole network on the whole training set, 12 epochs (a GPU job).
COMBINED = ({"N": 5, "image_size": 32}, {"N": 5, "image_size": 32, "epochs": 12},
            {"N": 5, "image_size": 32, "epochs": 24}, {"N": 5, "image_size": 32, "epochs": 12, "C": 16},
            {"N": 5, "image_size": 32, "epochs": 12, "C": 16, "train_subset": None})


def base_profile():
    """calib-n1-fast read on 1,000 test images (its 500 give a binomial error of 2.2 points per accuracy)."""
    return get_profile("calib-n1-fast").with_overrides({"test_subset": 1000})


def inside(data_path: str, archs: list[str]) -> pd.DataFrame:
    """Train each architecture under the base at N = 1 and N = 5 and list its analog layers' diagnostics."""
    import torch

    from analognasbench.analog import presets
    from analognasbench.nets import build_network
    from analognasbench.pipeline.ablation import layer_diagnostics
    from analognasbench.pipeline.measure import load_profile_data
    from analognasbench.pipeline.seeds import SeedPurpose, generator
    from analognasbench.pipeline.training import DeviceData, evaluation_batches, train_sgd
    from analognasbench.space import parse

    out = []
    for n in (1, 5):
        profile = base_profile().with_overrides({"N": n})
        data = load_profile_data(profile, data_path)
        proto = profile.protocol
        dd = DeviceData.from_arrays(data.train_x, data.train_y, data.test_x, data.test_y, torch.device("cpu"),
                                    proto.norm_mean, proto.norm_std)
        x = evaluation_batches(dd, 500)[0][0]
        for arch in archs:
            net = build_network(parse(arch), profile.C, profile.N, 10, generator=generator(0, SeedPurpose.INIT))
            train_sgd(net, dd, profile.train, batch_size=profile.batch_size, augment=False, generator=generator(0, SeedPurpose.TRAIN))
            for i, row in enumerate(layer_diagnostics(net, presets.get(profile.hardware_preset), x)):
                out.append({"arch": parse(arch).short, "N": n, "order": i, **row})
    return pd.DataFrame(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--write-archs", type=int, metavar="N", help="write the seeded subset of N classes and exit")
    p.add_argument("--run", action="store_true", help="measure what the store lacks (resumable)")
    p.add_argument("--store", help="JSON-lines record store (default: read the shipped records)")
    p.add_argument("--data", default=os.environ.get("ANB_CIFAR10", str(ROOT.parent / "shared/data/cifar10-jpeg.tar.gz")))
    p.add_argument("--limit", type=int, help="only the first N architectures of the subset")
    p.add_argument("--archs", type=Path, default=ARCHS,
                   help="with --run: the architectures to measure, one per line (default: the ablation subset; "
                        "e.g. part of it, to split a run between processes with one store each)")
    p.add_argument("--factors", help="with --run: only these factors or settings, comma-separated "
                                     "(e.g. base,N=5,out_noise@N5)")
    p.add_argument("--device", default="cpu", help="with --run: where to train and read (cpu, cuda, cuda:1)")
    p.add_argument("--markdown", action="store_true", help="print the table as Markdown (DATASET.md's)")
    p.add_argument("--figure", help="write the drop-versus-setting figure to this PNG")
    p.add_argument("--export", action="store_true", help="copy the store's records into the shipped CSV")
    p.add_argument("--inside", action="store_true", help="per-layer diagnostics of two cells (prints JSON lines)")
    args = p.parse_args(argv)

    release, _, _ = load("original")
    if args.write_archs:
        picks = ablation_sample(release, read_arch_file(ROOT / "scripts" / "calibration-archs.txt"), args.write_archs)
        ARCHS.write_text("# Noisy-drop ablation subset (issue 23): one class per equal-count stratum of the release's\n"
                         f"# noisy drop over the calibration sample, seed {ABLATION_SEED}, in seeded random order.\n"
                         f"# Regenerate: python benchmarks/drop_ablation.py --write-archs {args.write_archs}\n"
                         + "".join(f"{tuple(a)}\n" for a in picks))
        print(f"wrote {len(picks)} architectures to {ARCHS}")
        return 0
    settings = ablation_settings(base_profile(), epochs=(12,), combined=COMBINED)
    if args.inside:
        for row in inside(args.data, ["(0, 0, 0, 0, 0, 0)", "(2, 2, 2, 2, 2, 2)", "(3, 3, 3, 3, 3, 3)"]).to_dict("records"):
            print(json.dumps(row))
        return 0
    if args.run:
        if not args.store:
            p.error("--run needs --store")
        from analognasbench.pipeline.measure import resolve_device

        try:
            resolve_device(args.device)
        except (RuntimeError, ValueError) as exc:
            p.error(f"--device {args.device!r}: {str(exc).splitlines()[0]} (expected cpu, cuda or cuda:N)")
        if not args.archs.is_file():
            p.error(f"--archs {args.archs}: no such file; expected one architecture per line")
        archs = read_arch_file(args.archs)[: args.limit]
        if args.factors:
            wanted = set(args.factors.split(","))
            unknown = wanted - {s.factor for s in settings} - {s.key for s in settings}
            if unknown:
                p.error(f"unknown factors {sorted(unknown)}; valid: {', '.join(dict.fromkeys(s.factor for s in settings))}"
                        f" or a setting ({', '.join(s.key for s in settings)})")
            settings = [s for s in settings if s.factor in wanted or s.key in wanted]
        added = run_ablation(archs, settings, DropStore(args.store), args.data, log=lambda s: print(s, flush=True),
                             device=args.device)
        print(f"added {added} records")
        return 0
    frame = pd.DataFrame(DropStore(args.store).records()) if args.store else pd.read_csv(SHIPPED_RECORDS)
    if args.export:
        if not args.store:
            p.error("--export needs --store")
        frame.drop(columns=["noisy_reads"]).to_csv(SHIPPED_RECORDS, index=False, float_format="%.4f")
        print(f"wrote {len(frame)} records to {SHIPPED_RECORDS}")
    table = drop_table(frame, release, [s.key for s in settings])
    if args.markdown:
        from analognasbench.report.calibration import drop_ablation_columns
        from analognasbench.report.render import markdown_table

        print("\n".join(markdown_table(drop_ablation_columns(table), max_rows=None)[0]))  # DATASET.md's table
    else:
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            print(table.round(2).to_string(index=False))
    if args.figure:
        from analognasbench.report.calibration import plot_drop_ablation

        plot_drop_ablation(table, args.figure)
    return 0


if __name__ == "__main__":
    sys.exit(main())
