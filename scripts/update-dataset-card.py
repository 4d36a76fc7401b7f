"""Rewrite the measured parts of DATASET.md from the shipped export and the fidelity-check rows.

    python scripts/update-dataset-card.py [--reference runs/cifar_highfid.sqlite] [--seeds runs/cifar_seed1.sqlite]

Replaces the blocks between ``<!-- BEGIN name -->`` and ``<!-- END name -->`` (coverage, cost, quality, fidelity,
seeds, and the published release's: release_reliability, release_table3, release_agreement, calibration,
drop_ablation, calibration_limits, reproduction, jpeg_generations);
the prose around them is written by hand. Run it after each export (``scripts/export-sweep.sh`` does).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import pandas as pd

from analognasbench.bench.files import read_dataset
from analognasbench.bench.registry import DATASETS_DIR, fidelity_reference, seed_check, shipped_release
from analognasbench.fidelity import quality as q
from analognasbench.space import NUM_CLASSES

ROOT = Path(__file__).resolve().parents[1]
NAME = "cifar10-lowcost"
EXPORT = DATASETS_DIR / NAME
#: Rows created from here on were measured by workers with glibc's allocator restored (pipeline/allocator.py);
#: earlier rows' wall times include the Dask nanny's page-fault overhead (about 2.5x), not the profile's cost.
FAST_WORKERS_SINCE = "2026-11-28T20:56"
#: Rows created from here on were measured with the bit-exact shifted-sum 3x3 pooling (nets/ops.py): the same
#: values, less time on architectures with pooling edges.
FAST_POOLING_SINCE = "2026-11-29T02:48"


def table(df: pd.DataFrame, columns: dict[str, str], formats: dict[str, str]) -> str:
    lines = ["| " + " | ".join(columns.values()) + " |", "|" + "---|" * len(columns)]
    for row in df.to_dict("records"):
        cells = []
        for key in columns:
            value = row[key]
            if isinstance(value, bool):
                cells.append("yes" if value else "**no**")
            elif key == "metric":
                cells.append(f"`{value}`")
            else:
                cells.append(format(value, formats.get(key, "")))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _reliability(df: pd.DataFrame, profile: dict) -> list[float]:
    return list(q.distinguishability(df, profile.get("test_subset")).reliability)


def blocks(reference: Path | None, seeds: Path | None) -> dict[str, str]:
    df, meta = read_dataset(EXPORT)
    n = len(df)
    out = {"coverage": (
        f"Last export: **{n:,} of {NUM_CLASSES:,} isomorphism classes** ({100 * n / NUM_CLASSES:.1f} %; "
        f"{meta.created[:16].replace('T', ' ')} UTC), the first {n:,} of the fixed seeded order: an unbiased sample "
        "of the space. `anb info --dataset cifar10-lowcost` shows the same.")}
    fast = df[df.created >= FAST_WORKERS_SINCE]
    costs = q.stage_costs(fast if len(fast) else df)
    out["cost"] = (f"Measured on the {len(fast)} exported rows measured since the allocator fix (one sweep worker, "
                   "one thread; the machine's other core busy with the fidelity check or a second, niced sweep "
                   f"worker): {q.format_costs(costs)}.")
    pooled = df[df.created >= FAST_POOLING_SINCE]
    if len(pooled):
        out["cost"] += (f"\n\nThe {len(pooled)} of them measured since the faster pooling (same conditions): "
                        f"{q.format_costs(q.stage_costs(pooled))}.")
    dist = q.distinguishability(df, meta.profile.get("test_subset"))
    out["quality"] = table(dist, {"metric": "metric", "iqr": "IQR across architectures",
                                  "median_se": "median standard error of one architecture", "ratio": "ratio",
                                  "reliability": "reliability",
                                  "good_enough": ">= 3x?", "error": "error model"},
                           {"iqr": ".2f", "median_se": ".2f", "ratio": ".1f", "reliability": ".2f"})
    if reference is not None:
        ref, ref_profile = q.load_rows(reference)
        fid = q.rank_fidelity(df, ref)
        ref_costs = q.stage_costs(ref)
        out["fidelity"] = (
            f"{int(fid.n.max())} architectures measured at both fidelities (`{ref_profile.get('name')}`: "
            f"{q.format_costs(ref_costs)}).\n\n"
            + table(fid, {"metric": "metric", "n": "n", "kendall_tau": "Kendall's tau", "p_value": "p-value",
                          "mean_low": "mean, cifar_lowcost", "mean_high": "mean, cifar_highfid"},
                    {"kendall_tau": ".2f", "p_value": ".1e", "mean_low": ".1f", "mean_high": ".1f"})
            + "\n\nReliability (share of the variance across architectures that is not measurement error) over "
            "these architectures, low-cost / reference: " + ", ".join(
                f"`{m}` {lo:.2f} / {hi:.2f}" for m, lo, hi in zip(
                    fid.metric, _reliability(df[df.canonical_index.isin(ref.canonical_index)], meta.profile),
                    _reliability(ref[ref.canonical_index.isin(df.canonical_index)], ref_profile))) + ".")
    if seeds is not None:
        other, _ = q.load_rows(seeds)
        var = q.seed_variation(df, other, meta.profile.get("test_subset"))
        out["seeds"] = (
            f"{int(var.n.max())} architectures trained from seeds 0 and 1 (points of accuracy; the IQR is over all "
            f"{n:,} shipped architectures).\n\n"
            + table(var, {"metric": "metric", "n": "n", "seed_std": "std across training seeds",
                          "reported_se": "median error the rows report", "iqr_over_seed_std": "IQR / seed std",
                          "reliability": "reliability counting the seed",
                          "kendall_tau": "Kendall's tau, seed 0 vs 1", "p_value": "p-value"},
                    {"seed_std": ".2f", "reported_se": ".2f", "iqr_over_seed_std": ".1f", "reliability": ".2f",
                     "kendall_tau": ".2f", "p_value": ".1e"}))
    return out


def release_blocks(lowcost: pd.DataFrame) -> dict[str, str]:
    """The release's repeatability (isomorphic members), its Table 3 against the paper, and how the low-cost
    dataset ranks like it."""
    from analognasbench.analysis.drift import drift_analysis, table3_vs_paper

    name = shipped_release()
    if name is None:
        return {}
    rel_df, _ = read_dataset(DATASETS_DIR / name)
    rel = q.member_reliability(rel_df)
    out = {"release_reliability": (
        f"{int(rel.classes.max()):,} isomorphism classes of the release hold two or more separately trained cells "
        f"({int(rel.rows.max()):,} rows).\n\n"
        + table(rel, {"metric": "metric", "within_std": "std of one value within a class", "iqr": "IQR across cells",
                      "iqr_over_within": "IQR / within std", "reliability": "reliability",
                      "kendall_tau": "Kendall's tau, member vs member", "pairs": "classes"},
                {"within_std": ".2f", "iqr": ".2f", "iqr_over_within": ".1f", "reliability": ".3f",
                 "kendall_tau": ".2f", "pairs": "d"}))}
    vs = table3_vs_paper(drift_analysis(rel_df, baseline_min=80.0, noisy_min=70.0).table3)
    worst = vs.loc[vs.difference.abs().idxmax()]
    out["release_table3"] = (
        f"All {len(vs)} figures of the paper's Table 3 recomputed from the release (`anb report`, section *Temporal "
        f"drift*): the largest difference is {worst.difference:+.3f} points ({worst.series} {worst.time} "
        f"{worst.statistic}: {worst.ours:.3f} here, {worst.paper:.2f} printed).")
    fid = q.rank_fidelity(lowcost, rel_df)
    fid = fid[fid.n > 0]  # metrics both hold (the release has no programmed t = 0 reading)
    out["release_agreement"] = (
        f"`cifar10-lowcost` against the release over the {int(fid.n.max()):,} classes both hold (the release's "
        "class means; `anb quality cifar10-lowcost --reference original`).\n\n"
        + table(fid, {"metric": "metric", "kendall_tau": "Kendall's tau", "spearman_rho": "Spearman's rho",
                      "top10_overlap": "top-10 % overlap", "mean_low": "mean, cifar10-lowcost",
                      "mean_high": "mean, release"},
                {"kendall_tau": ".2f", "spearman_rho": ".2f", "top10_overlap": ".0%", "mean_low": ".1f",
                 "mean_high": ".1f"}))
    out["calibration"] = calibration_block(rel_df)
    out["drop_ablation"] = drop_ablation_block(rel_df)
    out["calibration_limits"] = calibration_limits_block(rel_df)
    out["reproduction"] = reproduction_block()
    out["jpeg_generations"] = jpeg_generations_block(rel_df)
    return out


def jpeg_generations_block(release: pd.DataFrame) -> str:
    """What the JPEG source costs the digital accuracy (the report's table and finding, from the shipped records)."""
    from analognasbench.fidelity.jpeg_generations import generation_table, shipped_generation_records
    from analognasbench.fidelity.reproduce import shipped_reproduction
    from analognasbench.report.calibration import jpeg_finding
    from analognasbench.report.render import markdown_table

    records = shipped_generation_records()
    if records.empty:
        return "No JPEG-generation records are shipped."
    table = generation_table(records, release)
    lines = markdown_table(table.round(2), max_rows=None)[0]
    return ("Per reproduce cell: digital accuracy and the unprogrammed chip's drop after +G further JPEG generations, "
            "the accuracy lost per generation and the release members' mean digital accuracy "
            "(`python benchmarks/jpeg_generations.py --markdown`).\n\n" + "\n".join(lines) + "\n\n"
            + jpeg_finding(table, shipped_reproduction()))


def reproduction_block() -> str:
    """Release cells measured end to end with paper-original against the release's members (the shipped table)."""
    from analognasbench.fidelity.reproduce import shipped_reproduction
    from analognasbench.report.calibration import reproduction_columns
    from analognasbench.report.render import markdown_table

    cmp = shipped_reproduction()
    if cmp.empty:
        return "No reproduction is shipped."
    source = "; ".join(sorted(set(cmp["source"].dropna().astype(str)) - {""}))
    lines = markdown_table(reproduction_columns(cmp), max_rows=None)[0]
    return ("Per class and metric: our value, the release's separately trained members (count, mean, standard "
            "deviation), the distance in spreads (the standard deviation, floored at one reading's binomial error) "
            "and whether it is within 3 (`pending`: not measured yet; `stages` names the stages finished and the "
            "training under way); kind `probe` is a digital training in progress read early, not a dataset "
            "value (`python benchmarks/reproduce_release.py --markdown`)." + (f" Ran: {source}." if source else "")
            + "\n\n" + "\n".join(lines))


def drop_ablation_block(release: pd.DataFrame) -> str:
    """The noisy-drop ablation's table (the report's, from the shipped records)."""
    from analognasbench.fidelity.drop_ablation import drop_table, shipped_records
    from analognasbench.report.calibration import drop_ablation_columns
    from analognasbench.report.render import markdown_table

    table = drop_table(shipped_records(), release)
    if table.empty:
        return "No ablation records are shipped."
    lines = markdown_table(drop_ablation_columns(table), max_rows=None)[0]
    return ("Per setting: classes measured, mean baseline, mean noisy drop (baseline minus the unprogrammed chip, "
            "points) and the release's on the same classes, Kendall's tau of the per-class drop with the release's "
            "(its standard error about 0.15 at n = 24), median core-seconds per architecture to train and to read "
            "(`python benchmarks/drop_ablation.py --markdown`).\n\n" + "\n".join(lines))


def calibration_block(release: pd.DataFrame) -> str:
    """The calibration candidates' agreement with the release and cost (the report's calibration table)."""
    from analognasbench.fidelity.calibration import calibration_table, release_drop_on
    from analognasbench.report.calibration import shipped_candidates, summary_table
    from analognasbench.report.render import markdown_table

    rows = shipped_candidates()
    drops = {k: release_drop_on(release, v["canonical_index"].unique()) for k, v in rows.items()}
    lines = markdown_table(summary_table(calibration_table(rows, release), drops), max_rows=None)[0]
    return ("Kendall's tau with the release's class means per metric (`*`: the programmed t = 0 reading against the "
            "release's unprogrammed one), median cost per architecture on one core, and the noisy drop (baseline "
            "minus noisy accuracy, median) against the release's on the same classes "
            "(`python benchmarks/calibration.py --markdown`).\n\n" + "\n".join(lines))


def calibration_limits_block(release: pd.DataFrame) -> str:
    """What limits each candidate's agreement (the report's limits table)."""
    from analognasbench.report.calibration import limits_table, shipped_candidates
    from analognasbench.report.render import markdown_table

    lines = markdown_table(limits_table(shipped_candidates(), release), max_rows=None)[0]
    return ("Kendall's tau with the release's reading (class means) of: our measured reading, our baseline alone, "
            "our loss on the chip alone (baseline minus the reading, negated), and two mixes that are analysis, "
            "not measurement: our baseline minus the release's loss, and the release's baseline minus our loss; "
            "last, the release's own baseline (`analognasbench.fidelity.calibration.agreement_limits`).\n\n"
            + "\n".join(lines))


def _shipped(name: str | None) -> Path | None:
    """The embedded companion dataset ``name`` (registry), if it is shipped."""
    return DATASETS_DIR / name if name else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", type=Path, help="fidelity-check rows (store or dataset); default: the "
                        "shipped cifar10-highfid-check, if any")
    parser.add_argument("--card", type=Path, default=ROOT / "DATASET.md")
    parser.add_argument("--seeds", type=Path, help="seed-check rows (store or dataset); default: the shipped "
                        "cifar10-seed1-check, if any")
    args = parser.parse_args(argv)
    text = args.card.read_text()
    reference = args.reference or _shipped(fidelity_reference(NAME))
    found = blocks(reference, args.seeds or _shipped(seed_check(NAME)))
    found.update(release_blocks(read_dataset(EXPORT)[0]))
    for name, body in found.items():
        pattern = re.compile(rf"(<!-- BEGIN {name} -->\n).*?(<!-- END {name} -->)", re.S)
        if not pattern.search(text):
            print(f"{args.card} has no block {name!r} (<!-- BEGIN {name} --> ... <!-- END {name} -->)",
                  file=sys.stderr)
            return 2
        text = pattern.sub(lambda m, body=body: m.group(1) + body + "\n" + m.group(2), text)
    args.card.write_text(text)
    print(f"updated {args.card}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
