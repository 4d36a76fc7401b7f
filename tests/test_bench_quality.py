"""Dataset quality checks (``analognasbench.fidelity.quality``, ``anb quality``): the numbers DATASET.md reports."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analognasbench.bench.files import read_dataset
from analognasbench.bench.registry import DATASETS_DIR
from analognasbench.cli import main
from analognasbench.fidelity import quality as q
from analognasbench.space import parse

SMOKE = DATASETS_DIR / "synthetic-smoke.parquet"


def frame(values: dict[str, list[float]], std: float = 1.0, reps: int = 10) -> pd.DataFrame:
    n = len(next(iter(values.values())))
    df = pd.DataFrame({"canonical_index": np.arange(n), "arch": [str(tuple(parse(i))) for i in range(n)],
                       "repetitions": reps, **values})
    for m in values:
        df[f"{m}_std"] = std
    return df


def test_distinguishability_compares_the_iqr_with_the_error_of_one_value():
    spread = list(np.linspace(40, 60, 21))  # IQR 10
    df = frame({"noisy_accuracy": spread, "baseline_accuracy": [50.0] * 21}, std=np.sqrt(10))  # se = 1
    out = q.distinguishability(df, n_test=1000, metrics=("noisy_accuracy", "baseline_accuracy")).set_index("metric")
    assert out.loc["noisy_accuracy", "iqr"] == pytest.approx(10)
    assert out.loc["noisy_accuracy", "median_se"] == pytest.approx(1)
    assert out.loc["noisy_accuracy", "good_enough"]
    assert out.loc["noisy_accuracy", "reliability"] == pytest.approx(1 - 1 / np.var(spread, ddof=1))
    # a constant baseline does not separate anything; its error is the binomial one of 1,000 test images
    assert out.loc["baseline_accuracy", "median_se"] == pytest.approx(100 * np.sqrt(0.25 / 1000))
    assert not out.loc["baseline_accuracy", "good_enough"]
    narrow = q.distinguishability(frame({"noisy_accuracy": spread}, std=np.sqrt(10) * 4), 1000, ("noisy_accuracy",))
    assert not narrow.good_enough.iloc[0]  # IQR 10 < 3 x 4


def test_rank_fidelity_is_kendall_tau_over_the_shared_classes():
    low = frame({"analog_accuracy": [1.0, 2, 3, 4, 5, 6]})
    high = frame({"analog_accuracy": [10.0, 20, 30, 40, 50, 60, 0, 0]})  # classes 6 and 7: only in high
    same = q.rank_fidelity(low, high, ("analog_accuracy",)).iloc[0]
    assert same.n == 6 and same.kendall_tau == pytest.approx(1.0)
    reverse = q.rank_fidelity(low, frame({"analog_accuracy": [6.0, 5, 4, 3, 2, 1]}), ("analog_accuracy",)).iloc[0]
    assert reverse.kendall_tau == pytest.approx(-1.0)
    too_few = q.rank_fidelity(low.head(2), high, ("analog_accuracy",)).iloc[0]
    assert too_few.n == 2 and np.isnan(too_few.kendall_tau)


def test_agreement_measures_differences_in_units_of_the_noise():
    a = frame({"noisy_accuracy": [50.0, 51, 52, 53]}, std=np.sqrt(10) * np.sqrt(0.5))  # se^2 = 0.5 each side
    close = q.agreement(a, a.assign(noisy_accuracy=a.noisy_accuracy + 1.5), 1000, ("noisy_accuracy",)).iloc[0]
    assert close.mean_diff == pytest.approx(1.5) and close.max_abs_z == pytest.approx(1.5)
    assert close.within_2_se == 1.0
    far = q.agreement(a, a.assign(noisy_accuracy=a.noisy_accuracy - 3), 1000, ("noisy_accuracy",)).iloc[0]
    assert far.within_2_se == 0.0 and far.max_abs_z == pytest.approx(3)


def test_spread_order_is_a_permutation_whose_prefixes_span_the_range():
    for n in (1, 2, 5, 30):
        order = q.spread_order(n)
        assert sorted(order) == list(range(n))
    order = q.spread_order(30)
    assert order[0] == 0 and 10 <= order[1] <= 20  # the worst first, then the middle
    first_half = order[:8]
    assert min(first_half) < 5 and max(first_half) > 24


def test_spread_sample_covers_the_accuracy_range():
    df, _ = read_dataset(SMOKE)
    chosen = q.spread_sample(df, 10)
    assert len(set(chosen)) == 10 and set(chosen) <= set(df.arch)
    score = df.set_index("arch").baseline_accuracy
    values = score.loc[chosen]
    assert values.min() <= score.quantile(0.1) and values.max() >= score.quantile(0.9)
    with pytest.raises(ValueError, match="between 1 and the 100"):
        q.spread_sample(df, 101)


def test_seed_variation_measures_how_far_values_move_with_the_training_seed():
    a = frame({"analog_accuracy": [40.0, 43, 46, 49, 52, 55, 58, 61]}, std=np.sqrt(10) * 0.5)  # se 0.5
    b = a.assign(analog_accuracy=a.analog_accuracy + [1, -1] * 4)  # each value moves 1 point with the seed
    out = q.seed_variation(a, b, 1000, ("analog_accuracy",)).iloc[0]
    assert out.n == 8 and out.seed_std == pytest.approx(np.sqrt(8 / 7) / np.sqrt(2))
    assert out.reported_se == pytest.approx(0.5)
    assert out.iqr_over_seed_std == pytest.approx(10.5 / out.seed_std)
    assert out.reliability == pytest.approx(1 - out.seed_std**2 / a.analog_accuracy.var())
    assert out.kendall_tau == pytest.approx(1.0)  # 1-point moves do not reorder values 3 points apart
    shuffled = q.seed_variation(a, b.assign(analog_accuracy=b.analog_accuracy[::-1].values), 1000,
                                ("analog_accuracy",)).iloc[0]
    assert shuffled.kendall_tau == pytest.approx(-1.0) and shuffled.seed_std > 10
    with pytest.raises(ValueError, match="share 2 architectures"):
        q.seed_variation(a.head(2), b, 1000, ("analog_accuracy",))


def test_anb_quality_compares_two_training_seeds_of_real_runs(tmp_path, capsys):
    archs = tmp_path / "archs.txt"
    archs.write_text("(2, 2, 2, 2, 2, 2)\n(1, 4, 0, 3, 1, 1)\n(4, 4, 4, 4, 4, 4)\n")
    stores = {seed: tmp_path / f"seed{seed}.sqlite" for seed in (0, 1)}
    for seed, store in stores.items():
        assert main(["generate", "--profile", "smoke", "--archs", str(archs), "--seed", str(seed), "--store",
                     str(store), "--workers", "1", "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["quality", str(stores[0]), "--seeds", str(stores[1]), "--json", str(tmp_path / "q.json")]) == 0
    assert "Training seeds [0] vs [1]" in capsys.readouterr().out
    import json

    rows = json.loads((tmp_path / "q.json").read_text())["seeds"]
    assert [r["metric"] for r in rows] == list(q.CHECK_METRICS) and all(r["n"] == 3 for r in rows)
    # another seed trains another network: the values move (by more than nothing) and stay accuracies
    assert all(0 < r["seed_std"] < 50 for r in rows)
    assert main(["quality", str(stores[0]), "--seeds", str(stores[0])]) == 2
    assert "both hold training seed [0]" in capsys.readouterr().err


def test_anb_quality_on_a_store_and_its_export(tmp_path, capsys):
    store = tmp_path / "smoke.sqlite"
    assert main(["merge-store", str(SMOKE), "--into", str(store)]) == 0
    out_json = tmp_path / "q.json"
    assert main(["quality", str(store), "--reference", str(SMOKE), "--agreement", str(SMOKE),
                 "--json", str(out_json)]) == 0
    text = capsys.readouterr().out
    assert "100 architectures" in text and "Kendall" in text and "Agreement" in text
    import json

    report = json.loads(out_json.read_text())
    assert report["n"] == 100 and len(report["distinguishability"]) == len(q.CHECK_METRICS)
    assert all(r["kendall_tau"] == pytest.approx(1.0) for r in report["fidelity"])  # a dataset against itself
    assert all(r["within_2_se"] == 1.0 and r["max_abs_diff"] == 0 for r in report["agreement"])


def test_anb_quality_writes_a_sample_that_anb_generate_reads(tmp_path):
    from analognasbench.pipeline.archsets import resolve_archset

    out = tmp_path / "archs.txt"
    assert main(["quality", str(SMOKE), "--sample", "7", "--out", str(out)]) == 0
    assert len(resolve_archset(str(out))) == 7


def test_anb_quality_rejects_bad_input(tmp_path, capsys):
    assert main(["quality", str(tmp_path / "absent.sqlite")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["quality", str(SMOKE), "--sample", "3"]) == 2
    assert "go together" in capsys.readouterr().err
    lowcost = DATASETS_DIR / "cifar10-lowcost.parquet"
    if lowcost.is_file():
        assert main(["quality", str(SMOKE), "--agreement", str(lowcost)]) == 2
        assert "one profile measured in two places" in capsys.readouterr().err
