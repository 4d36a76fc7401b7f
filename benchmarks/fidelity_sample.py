"""Choose the architectures of the fidelity check: N measured ones spread evenly across the accuracy range.

    python benchmarks/fidelity_sample.py runs/cifar_lowcost.sqlite --n 30 --out benchmarks/fidelity_archs.txt

The measured rows are sorted by their mean rank over the check's metrics (baseline, noisy, analog and 1-day
accuracy) and N are taken at evenly spaced positions, from the worst to the best. They are written in a
bit-reversed order of those positions, so that any prefix of the file (a check cut short) still spans the range;
`anb generate --archs FILE` measures them in file order.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from dataset_quality import load  # noqa: E402

METRICS = ("baseline_accuracy", "noisy_accuracy", "analog_accuracy", "analog_drift_86400")


def spread_order(n: int) -> list[int]:
    """0..n-1 reordered so that every prefix is spread over the range (van der Corput order of the positions)."""
    bits = max(1, (n - 1).bit_length())
    keyed = sorted(range(n), key=lambda i: int(f"{i:0{bits}b}"[::-1], 2))
    return keyed


def choose(df, n: int) -> list[str]:
    score = np.mean([df[m].rank().to_numpy() for m in METRICS], axis=0)
    ranked = df.assign(score=score).sort_values(["score", "canonical_index"]).reset_index(drop=True)
    if n > len(ranked):
        raise SystemExit(f"only {len(ranked)} architectures are measured; asked for {n}")
    positions = np.unique(np.round(np.linspace(0, len(ranked) - 1, n)).astype(int))
    chosen = ranked.iloc[positions]
    return [chosen.iloc[i]["arch"] for i in spread_order(len(chosen))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", type=Path, help="run store (.sqlite) or dataset (name.parquet) of the low profile")
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    df, profile = load(args.dataset)
    archs = choose(df, args.n)
    header = (f"# Fidelity-check architectures: {len(archs)} of the {len(df)} measured with {profile.get('name')}, "
              f"evenly spaced over their mean rank of {', '.join(METRICS)};\n"
              "# in spread order (any prefix spans the range). Written by benchmarks/fidelity_sample.py.\n")
    args.out.write_text(header + "\n".join(archs) + "\n")
    print(f"wrote {len(archs)} architectures to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
