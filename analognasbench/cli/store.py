"""``anb pack-data``, ``anb pending``, ``anb merge-store``: carry a sweep to another machine (a GPU, a cluster) and back."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from analognasbench.bench.cliutil import CLIError, add_dataset_argument, check_output_file, load_options

if TYPE_CHECKING:
    from analognasbench.pipeline.store import RunStore


def _pack(args: argparse.Namespace) -> int:
    from analognasbench.pipeline.measure import load_profile_data
    from analognasbench.pipeline.packed import pack_profile_data
    from analognasbench.pipeline.profiles import resolve_profile

    profile = resolve_profile(args.profile, args.set or None)
    check_output_file(args.out, "--out", inputs=[Path(args.data)] if args.data else [])  # before reading the images
    data = load_profile_data(profile, args.data)
    out = pack_profile_data(profile, data, args.out)
    size = out.stat().st_size / 2**20
    print(f"packed {len(data.train_y)} + {len(data.test_y)} images for profile {profile.name} "
          f"[{profile.hash()}] into {out} ({size:.1f} MiB)", file=sys.stderr)
    return 0


def _merge_dataset(into: RunStore, source: Path, options: dict[str, object]) -> tuple[int, int]:
    """Rows of an exported dataset (name.parquet + name.json) into a store of the same profile: how a sweep resumes
    from the committed export when its store is gone (a fresh machine)."""
    from analognasbench.bench.files import read_dataset
    from analognasbench.pipeline.store import ProfileMismatchError

    df, meta = read_dataset(source, **options)  # type: ignore[arg-type]
    if meta.profile_hash != into.profile_hash:
        raise ProfileMismatchError(f"cannot merge dataset {source} (profile hash {meta.profile_hash[:12]}) into "
                                   f"{into.path} (profile hash {str(into.profile_hash)[:12]}): rows of different "
                                   "profiles never mix")
    added = held = 0
    for row in df.to_dict("records"):
        if into.record_result(row):
            added += 1
        else:
            held += 1
    return added, held


def _merge(args: argparse.Namespace) -> int:
    from analognasbench.pipeline.store import RunStore

    def is_dataset(source: Path) -> bool:
        return source.suffix == ".parquet" or source.with_suffix(".json").is_file()

    for source in args.sources:
        if not source.exists() and not (is_dataset(source) and source.with_suffix(".json").is_file()):
            raise CLIError(f"{source}: no such run store or dataset (expected a .sqlite store or name.parquet)")
        if args.into.exists() and source.exists() and os.path.samefile(source, args.into):
            raise CLIError(f"{source} is the --into store itself; merging a store into itself changes nothing")
    if not args.into.exists() and is_dataset(args.sources[0]):
        # A fresh machine: recreate the store from the committed export's own profile.
        from analognasbench.bench.files import read_meta
        from analognasbench.pipeline.store import RecordedProfile

        meta = read_meta(args.sources[0])
        name = str(meta.profile.get("name", meta.name))
        RunStore.open(args.into, RecordedProfile(name, dict(meta.profile), meta.profile_hash)).close()
    with RunStore(args.into, create=False) as into:
        for source in args.sources:
            added, held = (_merge_dataset(into, source, load_options(args)) if is_dataset(source)
                           else into.merge_from(source, allow_incomplete=args.force))
            print(f"{source}: {added} new architectures merged into {args.into}, {held} already there",
                  file=sys.stderr)
    return 0


def _pending(args: argparse.Namespace) -> int:
    from analognasbench.pipeline.archsets import parse_archset, resolve_archset
    from analognasbench.pipeline.profiles import resolve_profile
    from analognasbench.pipeline.store import RunStore
    from analognasbench.pipeline.sweep import plan_sweep

    profile = resolve_profile(args.profile, args.set or None)
    archs = resolve_archset(parse_archset(args.archs))
    with RunStore.open(args.store, profile) as store:
        pending, _ = plan_sweep(store, archs, profile.seed if args.seed is None else args.seed)
    if args.from_end:
        pending = pending[::-1]
    for arch in pending[: args.limit]:
        print(tuple(arch))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("pack-data", help="pack a profile's image subset into one small .npz (for a GPU/cluster)",
                              description="Write exactly the images a profile measures on into one .npz that "
                                          "'anb generate --data FILE.npz' reads (e.g. 8 MiB for cifar_lowcost). "
                                          "Derived from CIFAR-10: never commit it.")
    p.add_argument("--profile", required=True, help="profile name or JSON/YAML file")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="profile override (repeatable)")
    p.add_argument("--data", help="CIFAR-10 source (archive or directory); default: $ANB_CIFAR10 or ../shared")
    p.add_argument("--out", required=True, type=Path, help="output file (.npz)")
    p.set_defaults(func=_pack)

    m = subparsers.add_parser("merge-store", help="merge finished rows of run stores into another of the same profile",
                              description="Copy every finished architecture of SOURCE run stores (e.g. written on a "
                                          "GPU machine) or exported datasets (name.parquet, e.g. the committed export, "
                                          "to resume a sweep whose store is gone) into --into; rows of another "
                                          "profile are refused.")
    m.add_argument("sources", nargs="+", type=Path, metavar="SOURCE", help="run stores or datasets to merge")
    m.add_argument("--into", required=True, type=Path,
                   help="the main run store (created from the first dataset's profile when it does not exist)")
    m.add_argument("--force", action="store_true",
                   help="merge a source store that looks copied without its -wal file (rows may be missing)")
    add_dataset_argument(m, dataset=False)
    m.set_defaults(func=_merge)

    q = subparsers.add_parser("pending", help="list the architectures a store has not measured yet (one per line)",
                              description="Print the architectures of --archs that --store has not finished, in sweep "
                                          "order, as a file 'anb generate --archs FILE' reads. With --from-end a "
                                          "second machine takes the end of the order while the main sweep works "
                                          "from its start, so the two never measure the same architecture.")
    q.add_argument("--profile", required=True, help="profile name or JSON/YAML file")
    q.add_argument("--set", action="append", metavar="KEY=VALUE", help="profile override (repeatable)")
    q.add_argument("--store", required=True, type=Path, help="the main run store")
    q.add_argument("--archs", default="unique", help="architecture set (default: unique, the sweep order)")
    q.add_argument("--seed", type=int, help="per-architecture seed (default: the profile's)")
    q.add_argument("--limit", type=int, help="print at most this many")
    q.add_argument("--from-end", action="store_true", help="take the pending architectures from the end of the order")
    q.set_defaults(func=_pending)
