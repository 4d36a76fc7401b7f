"""``anb quality``: is a measured dataset good enough? Cost, distinguishability, fidelity, cross-device agreement.

    anb quality runs/cifar_lowcost.sqlite
    anb quality analognasbench/bench/datasets/cifar10-lowcost.parquet --reference runs/cifar_highfid.sqlite
    anb quality runs/cifar_lowcost.sqlite --agreement runs/gpu.sqlite
    anb quality runs/cifar_lowcost.sqlite --seeds runs/cifar_seed1.sqlite
    anb quality runs/cifar_lowcost.sqlite --sample 30 --out fidelity_archs.txt
"""

from __future__ import annotations

import argparse
from pathlib import Path

from analognasbench.bench import strict_json
from analognasbench.bench.cliutil import check_output_file
from analognasbench.bench.files import atomic_write_text, dataset_paths
from analognasbench.cli import CLIError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "quality", help="dataset quality: cost, distinguishability, fidelity (Kendall tau), CPU/GPU agreement",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", type=Path, help="run store (.sqlite) or exported dataset (name.parquet)")
    parser.add_argument("--reference", type=Path, help="a higher-fidelity store/dataset of some of the same classes")
    parser.add_argument("--agreement", type=Path, help="the same profile measured elsewhere (e.g. on a GPU)")
    parser.add_argument("--seeds", type=Path, help="the same profile trained from another seed (anb generate --seed):"
                        " how far values move with the training seed")
    parser.add_argument("--sample", type=int, metavar="N",
                        help="write N architectures spread over the accuracy range (a fidelity check's) to --out")
    parser.add_argument("--out", type=Path, help="file for --sample (one architecture per line)")
    parser.add_argument("--json", type=Path, help="also write the tables as JSON")
    parser.set_defaults(func=run)


def _load(path: Path):
    from analognasbench.bench.quality import load_rows

    if not path.exists() and not path.with_suffix(".parquet").exists():
        raise CLIError(f"{path} does not exist (expected a run store .sqlite or a dataset name.parquet)")
    df, profile = load_rows(path)
    if df.empty:
        raise CLIError(f"{path} holds no finished architectures yet")
    return df, profile


def _load_same_profile(path: Path, dataset: Path, profile: dict, why: str):
    """Rows of ``path``, which must hold ``dataset``'s profile."""
    other, other_profile = _load(path)
    if other_profile != profile:
        raise CLIError(f"{path} holds profile {other_profile.get('name')!r}, not {dataset}'s "
                       f"{profile.get('name')!r}: {why}")
    return other


def _table(df) -> str:
    return df.to_string(index=False, float_format=lambda v: f"{v:.3f}")


def run(args: argparse.Namespace) -> int:
    from analognasbench.bench import quality as q

    if (args.sample is None) != (args.out is None):
        raise CLIError("--sample N and --out FILE go together")
    inputs = [p for p in (args.dataset, args.reference, args.agreement, args.seeds) if p is not None]
    inputs += [q for p in inputs for q in dataset_paths(p) if p.suffix != ".sqlite"]
    for option, target in (("--out", args.out), ("--json", args.json)):
        if target is not None:  # before the analyses; never over an input or a dataset's file
            check_output_file(target, option, inputs=inputs, force=False)
    df, profile = _load(args.dataset)
    print(f"{args.dataset}: {len(df)} architectures, profile {profile.get('name')}")
    if args.sample is not None:
        try:
            archs = q.spread_sample(df, args.sample)
        except ValueError as exc:
            raise CLIError(str(exc)) from None
        atomic_write_text(
            args.out,
            f"# {len(archs)} of the {len(df)} architectures measured with {profile.get('name')}, evenly spaced over "
            "their mean rank of baseline, noisy, analog and 1-day accuracy;\n# in spread order (every prefix spans "
            "the range). Written by `anb quality --sample`.\n" + "\n".join(archs) + "\n")
        print(f"wrote {len(archs)} architectures to {args.out}")
        return 0
    n_test = profile.get("test_subset")
    costs = q.stage_costs(df)
    dist = q.distinguishability(df, n_test)
    print(q.format_costs(costs))
    print("\nDistinguishability (spread across architectures vs the error of one architecture's value, points):")
    print(_table(dist))
    out = {"n": len(df), "profile": profile.get("name"), "costs": costs, "distinguishability": dist.to_dict("records")}
    if args.reference:
        ref, ref_profile = _load(args.reference)
        fid = q.rank_fidelity(df, ref)
        print(f"\nRank fidelity against {args.reference} (profile {ref_profile.get('name')}, {len(ref)} architectures):"
              " Kendall's tau over the classes both hold")
        print(_table(fid))
        out["reference"] = {"profile": ref_profile.get("name"), "n": len(ref), "costs": q.stage_costs(ref)}
        out["fidelity"] = fid.to_dict("records")
    if args.agreement:
        other = _load_same_profile(args.agreement, args.dataset, profile, "agreement compares one profile measured in "
                                   "two places")
        agree = q.agreement(df, other, n_test)
        print(f"\nAgreement with {args.agreement} ({', '.join(sorted(set(other['device'])))}): diff = other - this, "
              "z in units of the combined standard error")
        print(_table(agree))
        out["agreement"] = agree.to_dict("records")
    if args.seeds:
        other = _load_same_profile(args.seeds, args.dataset, profile, "a seed check compares one profile trained "
                                   "from two seeds")
        shared = set(df.seed) & set(other.seed)
        if shared:
            raise CLIError(f"{args.dataset} and {args.seeds} both hold training seed {sorted(shared)}: a seed check "
                           "needs rows of another seed (anb generate --seed); --agreement compares the same seed")
        try:
            seeds = q.seed_variation(df, other, n_test)
        except ValueError as exc:
            raise CLIError(str(exc)) from None
        print(f"\nTraining seeds {sorted(set(df.seed))} vs {sorted(set(other.seed))}: std of one architecture's "
              "value across seeds, the error the rows report, IQR / seed std, Kendall's tau between the seeds")
        print(_table(seeds))
        out["seeds"] = seeds.to_dict("records")
    if args.json:
        atomic_write_text(args.json, strict_json.dumps(out, indent=2) + "\n")
    return 0
