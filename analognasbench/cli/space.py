"""``anb space``: the search space's counts, and one architecture in every encoding."""

from __future__ import annotations

import argparse

from analognasbench import space
from analognasbench.bench import strict_json

_DEFAULT = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"


def describe(arch: space.Architecture) -> dict[str, object]:
    """Every encoding and structural fact of one architecture, JSON-ready."""
    rep = space.canonical(arch)
    return {
        "tuple": list(arch),
        "ops": [op.nb201_name for op in arch.ops],
        "nb201_str": arch.nb201_str,
        "index": arch.index,
        "short": arch.short,
        "op_matrix": arch.op_matrix().tolist(),
        "canonical_index": rep.index,
        "canonical_tuple": list(rep),
        "degenerate": space.is_degenerate(arch),
        "paths": [list(p) for p in space.path_op_sequences(arch)],
    }


def _run(args: argparse.Namespace) -> int:
    arch = space.parse(args.arch)
    info = describe(arch)
    if args.json:
        print(strict_json.dumps({"architectures": space.NUM_ARCHITECTURES, "classes": space.NUM_CLASSES, **info}, indent=2))
        return 0
    degenerate = sum(space.is_degenerate(a) for a in space.all_architectures())
    print("NAS-Bench-201 cell search space")
    print(f"  operations      {', '.join(f'{i} {n}' for i, n in enumerate(space.OP_NAMES))}")
    print(f"  edges (tuple)   {', '.join(f'{s}->{d}' for s, d in space.EDGES)}  (node 1 input, node 4 output)")
    print(f"  architectures   {space.NUM_ARCHITECTURES:,}")
    print(f"  unique classes  {space.NUM_CLASSES:,} (isomorphism, dead edges removed)")
    print(f"  degenerate      {degenerate:,} (output not connected to input)")
    print()
    print("Architecture")
    print(f"  tuple           {tuple(arch)}")
    print(f"  ops             {', '.join(info['ops'])}")
    print(f"  NB201 string    {arch.nb201_str}")
    print(f"  index           {arch.index}  (this project's base-5 index, not the NAS-Bench-201 API's)")
    print(f"  short form      {arch.short}")
    print("  op matrix       " + "\n                  ".join(" ".join(f"{v:2d}" for v in row) for row in info["op_matrix"]))
    print(f"  class rep.      {info['canonical_index']} {tuple(info['canonical_tuple'])}")
    print(f"  degenerate      {info['degenerate']}")
    print(f"  live paths      {', '.join(str(tuple(p)) for p in info['paths']) or '(none)'}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "space", help="search-space counts and one architecture in every encoding",
        description="Show the NAS-Bench-201 cell search space (operations, edges, counts of architectures, "
                    "isomorphism classes and degenerate cells) and ARCH in every encoding this package accepts: "
                    "6-tuple, NAS-Bench-201 string, index, short form, operation matrix, class representative. "
                    "Reads no dataset.")
    p.add_argument("arch", nargs="?", default=_DEFAULT, metavar="ARCH",
                   help="architecture: 6-tuple '(2,2,0,2,2,2)', NB201 string, index 0..15624 or 6-digit short form "
                        "(default 220222)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_run)
