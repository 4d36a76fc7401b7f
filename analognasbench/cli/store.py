"""``anb pack-data`` and ``anb merge-store``: carry a sweep to another machine (a GPU, a cluster) and back."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _pack(args: argparse.Namespace) -> int:
    from analognasbench.pipeline.measure import load_profile_data
    from analognasbench.pipeline.packed import pack_profile_data
    from analognasbench.pipeline.profiles import resolve_profile

    profile = resolve_profile(args.profile, args.set or None)
    data = load_profile_data(profile, args.data)
    out = pack_profile_data(profile, data, args.out)
    size = out.stat().st_size / 2**20
    print(f"packed {len(data.train_y)} + {len(data.test_y)} images for profile {profile.name} "
          f"[{profile.hash()}] into {out} ({size:.1f} MiB)", file=sys.stderr)
    return 0


def _merge(args: argparse.Namespace) -> int:
    from analognasbench.pipeline.store import RunStore

    into = RunStore(args.into, create=False)
    with into:
        for source in args.sources:
            added, held = into.merge_from(source)
            print(f"{source}: {added} new architectures merged into {args.into}, {held} already there",
                  file=sys.stderr)
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
                              description="Copy every finished architecture of SOURCE stores (e.g. written on a GPU "
                                          "machine) into --into; rows of another profile are refused.")
    m.add_argument("sources", nargs="+", type=Path, metavar="SOURCE", help="run store files to merge")
    m.add_argument("--into", required=True, type=Path, help="the main run store (must exist)")
    m.set_defaults(func=_merge)
