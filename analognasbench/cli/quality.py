"""anb quality: is a measured dataset good enough? Cost, distinguishability, fidelity, cross-device agreement.

    anb quality runs/cifar_lowcost.sqlite
    anb quality analognasbench/bench/datasets/cifar10-lowcost.parquet --reference runs/cifar_highfid.sqlite
    anb quality runs/cifar_lowcost.sqlite --agreement runs/gpu.sqlite
    anb quality runs/cifar_lowcost.sqlite --seeds runs/cifar_seed1.sqlite
    anb quality runs/cifar_lowcost.sqlite --sample 30 --out fidelity_archs.txt
    anb quality cifar10-lowcost --reference original      # against the published release
    anb quality cifar10-lowcost --reference original --record   # ... and write it into the dataset's card

DATASET and the other datasets may also be embedded names (original: the published release). Against the
release (or any dataset that measured several members of a class), each side's class mean is compared. The release
itself, which has no repetitions, gets the repeatability of its separately trained isomorphic cells.
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
    parser.add_argument("dataset", type=Path, help="run store (.sqlite), exported dataset (name.parquet) or an "
                        "embedded dataset's name")
    parser.add_argument("--reference", type=Path, help="another store/dataset of some of the same classes, e.g. a "
                        "higher-fidelity one or 'original' (the published release): Kendall's tau, Spearman's rho, "
                        "top-10 %% overlap")
    parser.add_argument("--agreement", type=Path, help="the same profile measured elsewhere (e.g. on a GPU)")
    parser.add_argument("--seeds", type=Path, help="the same profile trained from another seed (anb generate --seed):"
                        " how far values move with the training seed")
    parser.add_argument("--sample", type=int, metavar="N",
                        help="write N architectures spread over the accuracy range (a fidelity check's) to --out")
    parser.add_argument("--out", type=Path, help="file for --sample (one architecture per line)")
    parser.add_argument("--json", type=Path, help="also write the tables as JSON")
    parser.add_argument("--force", action="store_true", help="replace an existing --out or --json file")
    parser.add_argument("--record", action="store_true", help="with --reference original: write the agreement into "
                        "DATASET's card (the release_agreement key of its JSON sidecar; the table is not touched)")
    parser.set_defaults(func=run)


def _load(path: Path):
    from analognasbench.bench.errors import DatasetNotFoundError
    from analognasbench.fidelity.quality import load_rows

    try:
        df, profile = load_rows(path)
    except DatasetNotFoundError as exc:
        # quality also reads run stores: its own list of what is expected
        raise CLIError(f"{path}: {exc.problem}; expected a run store .sqlite, a dataset name.parquet or an embedded "
                       "dataset's name") from None
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
    from analognasbench.fidelity import quality as q

    if (args.sample is None) != (args.out is None):
        raise CLIError("--sample N and --out FILE go together")
    if args.sample is not None and args.sample < 1:
        raise CLIError(f"--sample must be >= 1; got {args.sample}")
    tables = (("--reference", args.reference), ("--agreement", args.agreement), ("--seeds", args.seeds),
              ("--json", args.json), ("--record", args.record))
    ignored = [option for option, value in tables if value]
    if args.sample is not None and ignored:  # --sample writes its list and stops: it prints no table
        raise CLIError(f"{', '.join(ignored)}: not used with --sample, which only writes a spread of architectures to "
                       "--out; run the tables as a separate command")
    for option, path in (("DATASET", args.dataset), ("--reference", args.reference), ("--agreement", args.agreement),
                         ("--seeds", args.seeds)):
        if path is not None and str(path) in ("", "."):
            raise CLIError(f"{option}: an empty path; expected a run store (.sqlite), a dataset (name.parquet) or an "
                           "embedded dataset's name")
        if path is not None and path.is_dir():
            raise CLIError(f"{option} {path} is a directory; expected a run store (.sqlite), a dataset "
                           "(name.parquet) or an embedded dataset's name")
    inputs = [p for p in (args.dataset, args.reference, args.agreement, args.seeds) if p is not None]
    inputs += [q for p in inputs for q in dataset_paths(p) if p.suffix != ".sqlite"]
    for option, target in (("--out", args.out), ("--json", args.json)):
        if target is not None:  # before the analyses; never over an input or a dataset's file
            check_output_file(target, option, inputs=inputs, force=args.force, refuse_existing=True)
    if args.out is not None and args.json is not None and args.out.resolve() == args.json.resolve():
        raise CLIError(f"--out and --json are the same file {args.out}; choose two paths")
    if args.record:
        _check_record(args)
    df, profile = _load(args.dataset)
    header = f"{args.dataset}: {len(df)} architectures, profile {profile.get('name')}"
    if args.sample is not None:
        try:
            archs = q.spread_sample(df, args.sample)
        except ValueError as exc:
            raise CLIError(str(exc)) from None
        print(header)
        atomic_write_text(
            args.out,
            f"# {len(archs)} of the {len(df)} architectures measured with {profile.get('name')}, evenly spaced over "
            "their mean rank of baseline, noisy, analog and 1-day accuracy;\n# in spread order (every prefix spans "
            "the range). Written by `anb quality --sample`.\n" + "\n".join(archs) + "\n")
        print(f"wrote {len(archs)} architectures to {args.out}")
        return 0
    sections, out = _analyses(args, df, profile)  # every input read and every table computed before one is printed
    for text in (header, *sections):
        print(text)
    if args.record:
        _record(args.dataset, df)
    if args.json:
        atomic_write_text(args.json, strict_json.dumps(out, indent=2) + "\n")
    return 0


def _analyses(args: argparse.Namespace, df, profile: dict) -> tuple[list[str], dict]:
    """The printed sections and the JSON of every analysis asked for. Nothing is printed here, so an input that
    cannot be read (--reference nosuch) or compared is one error line, not an error after pages of tables."""
    from analognasbench.fidelity import quality as q

    ref, ref_profile = _load(args.reference) if args.reference else (None, {})
    other = seeds = None
    if args.agreement:
        other = _load_same_profile(args.agreement, args.dataset, profile, "agreement compares one profile measured in "
                                   "two places")
    if args.seeds:
        seeds = _load_same_profile(args.seeds, args.dataset, profile, "a seed check compares one profile trained "
                                   "from two seeds")
        shared = set(df.seed) & set(seeds.seed)
        if shared:
            raise CLIError(f"{args.dataset} and {args.seeds} both hold training seed {sorted(shared)}: a seed check "
                           "needs rows of another seed (anb generate --seed); --agreement compares the same seed")
    n_test = profile.get("test_subset")
    sections: list[str] = []
    out: dict = {"n": len(df), "profile": profile.get("name")}
    if "time_total_s" in df.columns and df["time_total_s"].notna().any():
        costs = q.stage_costs(df)
        sections.append(q.format_costs(costs))
        out["costs"] = costs
    dist = q.distinguishability(df, n_test)
    if len(dist):
        sections.append("\nDistinguishability (spread across architectures vs the error of one architecture's value, "
                        f"points):\n{_table(dist)}")
        out["distinguishability"] = dist.to_dict("records")
    if df["canonical_index"].duplicated().any():
        rel = q.member_reliability(df)
        sections.append(f"\nRepeatability from separately measured isomorphic cells ({int(rel.classes.max())} classes "
                        "with several members): the std of one value within a class, IQR over it, reliability, and "
                        f"Kendall's tau between two members across classes\n{_table(rel)}")
        out["member_reliability"] = rel.to_dict("records")
    if ref is not None:
        fid = q.rank_fidelity(df, ref)
        sections.append(f"\nRank agreement with {args.reference} (profile {ref_profile.get('name')}, {len(ref)} rows): "
                        "over the classes both hold (class means where several members were measured): Kendall's tau, "
                        f"Spearman's rho, top-10 % overlap\n{_table(fid)}")
        out["reference"] = {"profile": ref_profile.get("name"), "n": len(ref)}
        out["fidelity"] = fid.to_dict("records")
    if other is not None:
        agree = q.agreement(df, other, n_test)
        sections.append(f"\nAgreement with {args.agreement} ({', '.join(sorted(set(other['device'])))}): diff = other "
                        f"- this, z in units of the combined standard error\n{_table(agree)}")
        out["agreement"] = agree.to_dict("records")
    if seeds is not None:
        try:
            variation = q.seed_variation(df, seeds, n_test)
        except ValueError as exc:
            raise CLIError(str(exc)) from None
        sections.append(f"\nTraining seeds {sorted(set(df.seed))} vs {sorted(set(seeds.seed))}: std of one "
                        "architecture's value across seeds, the error the rows report, IQR / seed std, Kendall's tau "
                        f"between the seeds\n{_table(variation)}")
        out["seeds"] = variation.to_dict("records")
    return sections, out


def _check_record(args: argparse.Namespace) -> None:
    from analognasbench.bench.registry import resolve_dataset, shipped_release

    release = shipped_release()
    if release is None or args.reference is None or resolve_dataset(str(args.reference)) != resolve_dataset(release):
        raise CLIError("--record writes the agreement with the published release: pass --reference original")
    if args.dataset.suffix == ".sqlite":
        raise CLIError(f"--record writes into a dataset's card; {args.dataset} is a run store (export it first)")
    if resolve_dataset(str(args.dataset)) == resolve_dataset(release):
        raise CLIError("--record: the release is the reference, it has no agreement with itself to record")


def _record(dataset: Path, df) -> None:
    import dataclasses

    from analognasbench.bench.files import read_meta
    from analognasbench.bench.registry import resolve_dataset
    from analognasbench.fidelity.quality import shipped_release_agreement

    path = resolve_dataset(str(dataset))
    _, meta_path = dataset_paths(path)
    meta = dataclasses.replace(read_meta(path), release_agreement=shipped_release_agreement(df))
    atomic_write_text(meta_path, meta.to_json())
    print(f"\nrecorded the agreement with the release ({len(meta.release_agreement['metrics'])} metrics) in {meta_path}")
