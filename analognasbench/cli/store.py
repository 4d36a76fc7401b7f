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
    if args.out.suffix != ".npz":
        raise CLIError(f"--out must end in .npz (anb generate --data reads it by that suffix); got {args.out.name}")
    check_output_file(args.out, "--out", inputs=[Path(args.data)] if args.data else [], force=args.force,
                      refuse_existing=True)  # before reading the images
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


def _is_dataset(source: Path) -> bool:
    return source.suffix == ".parquet" or (source.suffix != ".sqlite" and source.with_suffix(".json").is_file())


def _source_profile(source: Path) -> tuple[str, dict, str, int | None]:
    """``(name, profile dict, profile hash, method version or None)`` of a merge source, read without changing it; every way it cannot be
    merged is one line naming *it* (not the --into store)."""
    from analognasbench.pipeline.store import RunStore, sqlite_tables

    if _is_dataset(source):
        from analognasbench.bench.files import read_meta

        meta = read_meta(source)
        # schema 1 was written by method version 1 (both were bumped together, pipeline.profiles.METHOD_VERSION)
        version = 1 if (meta.extra or {}).get("migrated_from_schema") == 1 else None
        return str(meta.profile.get("name", meta.name)), dict(meta.profile), meta.profile_hash, version
    if source.is_dir():
        raise CLIError(f"{source} is a directory; expected a run store (.sqlite) or a dataset (name.parquet)")
    if not source.exists():
        raise CLIError(f"{source}: no such run store or dataset (expected a .sqlite store or name.parquet)")
    if sqlite_tables(source) is None:
        raise CLIError(f"{source} is not a run store or a dataset (not an SQLite file; expected a .sqlite store or "
                       "name.parquet)")
    with RunStore(source, read_only=True) as store:
        if store.profile_hash is None:
            raise CLIError(f"{source} is a run store that records no profile yet (nothing measured in it)")
        return str(store.profile_name), store.profile_dict or {}, store.profile_hash, store.method_version


def _older_procedure_note(source: Path, name: str, data: dict, recorded_hash: str,
                          version: int | None) -> str | None:
    """A line when ``source``'s rows were measured with other settings or procedure than its profile's name gives
    today: a sweep of that name will not resume in the rebuilt store (the README's resume path)."""
    from analognasbench.pipeline.profiles import Profile, explain_hash_mismatch

    try:
        current = Profile.from_dict(data)
    except (ValueError, TypeError):
        return None
    if current.hash() == recorded_hash:
        return None
    return (f"note: {source} was measured as profile {name!r} hash {recorded_hash[:12]}, which this version would "
            f"measure as hash {current.hash()[:12]} ({explain_hash_mismatch(data, current, version)}); the store keeps its "
            f"rows for reading (anb quality, export), but 'anb generate --profile {name}' will not resume in it: "
            "start that sweep in a new store")


def _merge(args: argparse.Namespace) -> int:
    from analognasbench.pipeline.store import RecordedProfile, RunStore

    if args.into.is_dir():
        raise CLIError(f"--into {args.into} is a directory; expected a run store file such as runs.sqlite")
    profiles = []
    for source in args.sources:
        if not source.exists() and not (_is_dataset(source) and source.with_suffix(".json").is_file()):
            raise CLIError(f"{source}: no such run store or dataset (expected a .sqlite store or name.parquet)")
        if args.into.exists() and source.exists() and os.path.samefile(source, args.into):
            raise CLIError(f"{source} is the --into store itself; merging a store into itself changes nothing")
        profiles.append(_source_profile(source))
    if args.into.exists():
        with RunStore(args.into, read_only=True) as into:
            target = (str(into.profile_name), into.profile_hash)
    else:
        target = (profiles[0][0], profiles[0][2])
    for source, (name, _, recorded_hash, _) in zip(args.sources, profiles, strict=True):
        if target[1] is not None and recorded_hash != target[1]:  # before any row is written
            raise CLIError(f"cannot merge {source} (profile {name!r}, hash {recorded_hash[:12]}) into {args.into} "
                           f"(profile {target[0]!r}, hash {str(target[1])[:12]}): rows of different profiles never mix")
    if not args.into.exists():
        # A fresh machine: recreate the store from the first source's own recorded profile and hash.
        name, data, recorded_hash, version = profiles[0]
        RunStore.open(args.into, RecordedProfile(name, data, recorded_hash, version)).close()
    with RunStore(args.into, create=False) as into:
        for source, (name, data, recorded_hash, version) in zip(args.sources, profiles, strict=True):
            added, held = (_merge_dataset(into, source, load_options(args)) if _is_dataset(source)
                           else into.merge_from(source, allow_incomplete=args.force))
            print(f"{source}: {added} new architectures merged into {args.into}, {held} already there",
                  file=sys.stderr)
            note = _older_procedure_note(source, name, data, recorded_hash, version)
            if note:
                print(note, file=sys.stderr)
    return 0


def _pending(args: argparse.Namespace) -> int:
    from analognasbench.pipeline.archsets import parse_archset, resolve_archset
    from analognasbench.pipeline.profiles import resolve_profile
    from analognasbench.pipeline.store import RunStore
    from analognasbench.pipeline.sweep import plan_sweep

    if args.limit is not None and args.limit < 0:
        raise CLIError(f"--limit must be >= 0; got {args.limit}")
    if args.seed is not None and args.seed < 0:
        raise CLIError(f"--seed must be >= 0; got {args.seed}")
    profile = resolve_profile(args.profile, args.set or None)
    archs = resolve_archset(parse_archset(args.archs))
    if args.store.is_dir():
        raise CLIError(f"--store {args.store} is a directory; expected a run store file such as runs.sqlite")
    if not args.store.exists():
        raise CLIError(f"--store {args.store}: no such run store (pending only reads a store; anb generate creates "
                       "one)")
    with RunStore(args.store, read_only=True) as store:  # a reader: never creates or changes the file
        store.check_profile(profile)
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
    p.add_argument("--force", action="store_true", help="replace an existing --out file")
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
