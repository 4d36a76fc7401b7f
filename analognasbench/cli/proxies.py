"""``anb proxies``: zero-cost proxies of one architecture, or of every isomorphism class into a resumable store.

    anb proxies 123123 [--proxies grad_norm,nwot] [--json]          one architecture (prints every proxy)
    anb proxies --all --store runs/proxies.sqlite [--budget-s S]    every class still missing, in a seeded order
    anb proxies --archs FILE --shard 0/4 --store OUT.sqlite         one worker's share of a list (GPU workers)
    anb proxies --pack .gpu/proxy-images.npz                        the minibatches, for an offline machine
    anb proxies --pending --store runs/proxies.sqlite --from-end    the missing classes, one index a line
    anb proxies --merge A.sqlite B.sqlite --store runs/proxies.sqlite
    anb proxies --export analognasbench/bench/datasets/proxies-cifar10 --store runs/proxies.sqlite

Values are estimates at initialisation, never measurements (exported as ``zc_<proxy>`` columns).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import sys
import time
from pathlib import Path

from analognasbench.cli import CLIError

log = logging.getLogger(__name__)

#: Most proxy images one run may draw (CIFAR-10's training set).
MAX_IMAGES = 50_000


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "proxies", help="zero-cost proxies of architectures (estimates at initialisation)",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("arch", nargs="?", metavar="ARCH", help="one architecture (6-tuple, short form, index, string)")
    mode = p.add_argument_group("what to do (default: the one ARCH)")
    mode.add_argument("--all", action="store_true", help="every isomorphism class missing from --store")
    mode.add_argument("--archs", type=Path, help="a file of architectures (index or short form, one a line)")
    mode.add_argument("--pack", type=Path, metavar="FILE.npz", help="write the proxy minibatches to FILE.npz")
    mode.add_argument("--pending", action="store_true", help="print the classes missing from --store")
    mode.add_argument("--merge", type=Path, nargs="+", metavar="STORE", help="merge these stores into --store")
    mode.add_argument("--export", type=Path, metavar="PATH", help="export --store to the dataset PATH(.parquet/.json)")
    p.add_argument("--store", type=Path, help="SQLite proxy store (created if absent)")
    p.add_argument("--proxies", default="all", help="comma-separated proxy names (default: all registered)")
    p.add_argument("--data", default=None, help="images: a CIFAR-10 source (default: the shared archive), a packed "
                                                ".npz from --pack, or 'synthetic'")
    p.add_argument("--device", default="cpu", help="torch device (cpu, cuda, cuda:1)")
    p.add_argument("--order-seed", type=int, default=0, help="seed of the fixed class order of --all (default 0)")
    p.add_argument("--from-end", action="store_true", help="take the order from its end (a second machine)")
    p.add_argument("--shard", default=None, metavar="I/N", help="only every N-th architecture, from the I-th")
    p.add_argument("--limit", type=int, default=None, help="at most this many architectures")
    p.add_argument("--with-done", type=int, default=0, metavar="K",
                   help="--pending: first list K classes the store already holds (a CPU/GPU agreement sample)")
    p.add_argument("--budget-s", type=float, default=None, help="start no architecture after this many seconds")
    p.add_argument("--seed", type=int, default=0, help="weight-initialisation seed (default 0)")
    p.add_argument("--batch-size", type=int, default=None, help="images per minibatch (default: the shipped "
                   "table's, 32)")
    p.add_argument("--n-batches", type=int, default=None, help="minibatches (default 1)")
    p.add_argument("--C", type=int, default=None, help="network width (default: the shipped table's, 8; release: 16)")
    p.add_argument("--N", type=int, default=None, help="cells per stage (default: the shipped table's, 1; release: 5)")
    p.add_argument("--name", default="proxies-cifar10", help="dataset name for --export")
    p.add_argument("--force", action="store_true", help="with --export or --pack: replace an existing file")
    p.add_argument("--json", action="store_true", help="machine-readable output for one ARCH")
    p.set_defaults(func=run)


def _config(args: argparse.Namespace):
    """The proxy settings; a bad size is refused by its option's name (ProxyConfig's own error names its field)."""
    from analognasbench.predict import ProxyConfig

    given = {"batch_size": args.batch_size, "n_batches": args.n_batches, "C": args.C, "N": args.N}
    for (key, value), least in zip(given.items(), (2, 1, 1, 1), strict=True):
        if value is not None and value < least:
            raise CLIError(f"--{key.replace('_', '-')} must be >= {least}"
                           f"{' (jacov and nwot compare images)' if key == 'batch_size' else ''}; got {value}")
    return ProxyConfig(seed=args.seed, **{k: v for k, v in given.items() if v is not None})


def _shard(items: list, spec: str | None) -> list:
    if spec is None:
        return items
    try:
        i, n = (int(v) for v in spec.split("/"))
    except ValueError:
        raise CLIError(f"--shard must be I/N with integers 0 <= I < N; got {spec!r}") from None
    if not 0 <= i < n:
        raise CLIError(f"--shard must be I/N with 0 <= I < N; got {spec!r}")
    return items[i::n]


def _read_archs(path: Path) -> list:
    from analognasbench.space import canonical_index, parse

    out = []
    for line in path.read_text().splitlines():
        text = line.split("#")[0].strip()
        if text:
            out.append(canonical_index(parse(int(text) if text.isdigit() and len(text) != 6 else text)))
    return out


def _order(args: argparse.Namespace) -> list[int]:
    from analognasbench.space import seeded_order

    order = [a.index for a in seeded_order(args.order_seed)]
    return order[::-1] if args.from_end else order


def _pending(args: argparse.Namespace, config) -> list[int]:
    from analognasbench.predict import ProxyStore

    done: set[int] = set()
    if args.store is not None and args.store.exists():
        from analognasbench.predict import resolve_proxies

        with ProxyStore(args.store, read_only=True) as store:  # a reader (--pending) changes nothing
            done = store.done(config, require=[p.name for p in resolve_proxies(args.proxies)])
    base = _read_archs(args.archs) if args.archs else _order(args)
    return [i for i in base if i not in done]


def _one(args: argparse.Namespace, config) -> int:
    from analognasbench.predict import compute_row, load_images, resolve_proxies
    from analognasbench.space import parse

    arch = parse(int(args.arch) if args.arch.isdigit() and len(args.arch) != 6 else args.arch)
    proxies = resolve_proxies(args.proxies)
    batches = load_images(config, args.data).batches(args.device) if any(p.needs_data for p in proxies) else []
    row = compute_row(arch, batches, config, proxies, args.device)
    if args.json:
        print(json.dumps({"arch": list(arch), "index": arch.index, "config": config.to_dict(), "device": args.device,
                          "proxies": row.values, "seconds": row.seconds}, indent=2))
        return 0
    print(f"architecture  {tuple(arch)}  index {arch.index}  (proxies at initialisation: estimates, not measurements)")
    for name, value in row.values.items():
        print(f"  zc_{name:<16} {value:14.6g}   {row.seconds[name]:7.2f} s")
    return 0


def _compute(args: argparse.Namespace, config) -> int:
    from analognasbench.predict import ProxyStore, compute_many, load_images, resolve_proxies

    if args.store is None:
        raise CLIError("--all/--archs need --store PATH (the resumable SQLite store)")
    if args.device.startswith("cuda") is False and os.environ.get("ANB_REQUIRE_CUDA"):
        raise CLIError("ANB_REQUIRE_CUDA is set but --device is not cuda")
    todo = _shard(_pending(args, config), args.shard)
    if args.limit is not None:
        todo = todo[: args.limit]
    proxies = resolve_proxies(args.proxies)
    start = time.monotonic()
    deadline = start + args.budget_s if args.budget_s is not None else None
    batches = load_images(config, args.data).batches(args.device)
    host = socket.gethostname()
    print(f"{len(todo)} architectures to compute on {args.device} into {args.store}", file=sys.stderr, flush=True)
    with ProxyStore(args.store) as store:
        count = [0]

        def commit(row) -> None:
            store.add(row, config, args.device, host)
            count[0] += 1
            if count[0] % 10 == 0 or count[0] == len(todo):
                rate = (time.monotonic() - start) / count[0]
                print(f"{count[0]}/{len(todo)} done, {rate:.2f} s/arch, store holds {store.count()}",
                      file=sys.stderr, flush=True)

        compute_many(todo, batches, config, proxies, args.device, on_row=commit, deadline=deadline)
    print(f"computed {count[0]} architectures in {time.monotonic() - start:.0f} s", file=sys.stderr)
    return 0


def _check_device(device: str) -> None:
    """One line for a device this torch build cannot use, before any image is loaded or network built."""
    import torch

    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError):
        raise CLIError(f"--device {device!r} is not a torch device; expected cpu, cuda or cuda:N") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise CLIError(f"--device {device}: this torch build has no usable CUDA device (CUDA available: no); "
                           "use --device cpu")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise CLIError(f"--device {device}: only {torch.cuda.device_count()} CUDA device(s) here "
                           f"(cuda:0..cuda:{torch.cuda.device_count() - 1})")
    elif dev.type != "cpu":
        raise CLIError(f"--device {device}: expected cpu, cuda or cuda:N")


def _check_arguments(args: argparse.Namespace, config) -> None:
    """Every argument, before any work or output: one mode, sizes within the network's bounds, paths usable."""
    from analognasbench.bench.cliutil import check_output_file
    from analognasbench.nets.config import NetworkConfig, check_image_size

    modes = [name for name, on in (("ARCH", args.arch is not None), ("--all", args.all),
                                   ("--archs", args.archs is not None), ("--pack", args.pack is not None),
                                   ("--pending", args.pending), ("--merge", bool(args.merge)),
                                   ("--export", args.export is not None)) if on]
    if len(modes) > 1:
        raise CLIError(f"give one of ARCH, --all, --archs, --pack, --pending, --merge, --export; got {' and '.join(modes)}")
    NetworkConfig(C=config.C, N=config.N, num_classes=config.num_classes)
    check_image_size(config.image_size)
    if config.n_images > MAX_IMAGES:  # drawn from CIFAR-10's 50,000 training images (or generated: memory)
        raise CLIError(f"--batch-size x --n-batches must be at most {MAX_IMAGES:,} images; got {config.n_images:,}")
    for option, value in (("--limit", args.limit), ("--with-done", args.with_done), ("--order-seed", args.order_seed),
                          ("--seed", args.seed)):
        if value is not None and value < 0:
            raise CLIError(f"{option} must be >= 0; got {value}")
    if args.budget_s is not None and not args.budget_s > 0:
        raise CLIError(f"--budget-s must be a positive number of seconds; got {args.budget_s}")
    if args.shard is not None:
        _shard([], args.shard)
    if args.archs is not None and not args.archs.is_file():
        raise CLIError(f"--archs {args.archs}: " + ("is a directory" if args.archs.is_dir() else "no such file")
                       + "; expected a file of architectures, one a line")
    if args.pack is not None:
        if args.pack.suffix != ".npz":
            raise CLIError(f"--pack must end in .npz (--data reads packed images by that suffix); got {args.pack.name!r}")
        check_output_file(args.pack, "--pack", force=args.force, refuse_existing=True)
    if args.store is not None and args.store.is_dir():
        raise CLIError(f"--store {args.store} is a directory; expected a .sqlite file")
    if args.pending and (args.store is None or not args.store.exists()):  # a reader: never an empty answer
        raise CLIError("--pending lists the classes missing from a proxy store: "
                       + ("pass --store PATH" if args.store is None else f"--store {args.store}: no such proxy store")
                       + " (anb proxies --all --store PATH creates one)")
    if args.arch is not None or args.all or args.archs is not None:
        _check_device(args.device)


def run(args: argparse.Namespace) -> int:
    config = _config(args)
    _check_arguments(args, config)
    if args.pack is not None:
        from analognasbench.predict import load_images, pack_proxy_images

        images = load_images(config, args.data)
        out = pack_proxy_images(images, config, args.pack)
        print(f"packed {images.x.shape[0]} x {images.x.shape[1]} {images.source} images into {out}", file=sys.stderr)
        return 0
    if args.merge:
        from analognasbench.predict import ProxyStore

        if args.store is None:
            raise CLIError("--merge needs --store DEST")
        for src in args.merge:  # every source, before the destination is opened (or created)
            if not src.is_file():
                raise CLIError(f"store {src} " + ("is a directory" if src.is_dir() else "does not exist"))
            ProxyStore(src, read_only=True).close()
        with ProxyStore(args.store) as dest:
            for src in args.merge:
                added, held = dest.merge(src)
                print(f"{src}: {added} rows added, {held} already present", file=sys.stderr)
            print(f"{args.store} holds {dest.count()} rows", file=sys.stderr)
        return 0
    if args.export is not None:
        from analognasbench.predict.export import export_store

        if args.store is None or not args.store.is_file():
            raise CLIError("--export needs --store PATH of an existing store")
        path, n = export_store(args.store, args.export, config, name=args.name, overwrite=args.force)
        print(f"exported {n} classes to {path}", file=sys.stderr)
        return 0
    if args.pending:
        if args.with_done:
            from analognasbench.predict import ProxyStore

            if args.store is None or not args.store.is_file():
                raise CLIError("--with-done lists classes --store already holds: pass --store PATH of an existing "
                               "store")
            with ProxyStore(args.store, read_only=True) as store:
                done = store.done(config)
            from analognasbench.space import seeded_order

            forward = [a.index for a in seeded_order(args.order_seed)]
            sample = [i for i in forward if i in done][: args.with_done]
            print(f"# {len(sample)} classes already in {args.store}: the agreement sample")
            for index in sample:
                print(index)
            print("# classes missing from the store")
        for index in _shard(_pending(args, config), args.shard)[: args.limit]:
            print(index)
        return 0
    if args.all or args.archs is not None:
        return _compute(args, config)
    if args.arch is None:
        raise CLIError("give an ARCH, or one of --all, --archs, --pack, --pending, --merge, --export")
    return _one(args, config)
