"""Regression tests of the space/predict audit: one architecture is never read as a sequence, indices are checked,
proxy tables are joined on canonical_index, and every helper takes what ``space.parse`` takes."""

from __future__ import annotations

import typing

import numpy as np
import pandas as pd
import pytest

from analognasbench import analysis, hardware, space
from analognasbench.analysis.distributions import summary_statistics
from analognasbench.predict import ProxyConfig, compute_row
from analognasbench.predict.curves import learning_curves
from analognasbench.predict.evaluate import proxy_table, settings_agreement
from analognasbench.predict.features import proxy_matrix
from analognasbench.predict.study import zero_label_scores
from analognasbench.space.features import ONEHOT_DIM, encode

EXAMPLE_STR = "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|"
EXAMPLE = (2, 1, 0, 2, 1, 0)  # index 6930, short form "210210"


@pytest.mark.parametrize("read", [
    lambda archs: hardware.cost_table(archs),
    space.dedupe_isomorphic,
    lambda archs: encode(archs, "onehot"),
    analysis.op_counts,
], ids=["cost_table", "dedupe_isomorphic", "encode", "op_counts"])
@pytest.mark.parametrize("one", ["222222", "210210", space.Architecture(EXAMPLE), np.array(6930)],
                         ids=["short", "short2", "Architecture", "0-d array"])
def test_one_architecture_where_a_sequence_is_expected_is_refused(read, one):
    with pytest.raises(ValueError, match="wrap one architecture in a list"):
        read(one)
    assert len(read([one])) == 1


def test_integers_stay_indices_and_rows_stay_op_tuples():
    assert hardware.cost_table((2, 3)).arch_index.tolist() == [2, 3]
    assert hardware.cost_table(pd.Series([5, 6930])).arch_index.tolist() == [5, 6930]
    assert space.to_indices(np.array([EXAMPLE, (0,) * 6])).tolist() == [6930, 0]
    assert space.to_indices([EXAMPLE, "000001", 7, EXAMPLE_STR]).tolist() == [6930, 1, 7, 6930]
    assert len(space.to_indices([])) == 0


@pytest.mark.parametrize("bad, fragment", [
    ([-1], "0..15624"), ([15625], "0..15624"), ([2.7], "2.7"), (np.array([2.0]), "integers"),
    ([True], "bool"), (np.array([EXAMPLE[:5] + (5,)]), "op indices must be 0..4"),
])
def test_encode_refuses_indices_out_of_range_or_not_integers(bad, fragment):
    with pytest.raises(ValueError, match=fragment):
        encode(bad)


def test_encode_reads_tuples_as_architectures():
    assert encode([EXAMPLE], "onehot").shape == (1, ONEHOT_DIM)
    np.testing.assert_array_equal(encode([EXAMPLE, "000000"]), encode([6930, 0]))


@pytest.fixture(scope="module")
def classes() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Targets of 300 classes, and a perfect proxy in load_proxies' form (canonical_index a column, shuffled rows,
    a RangeIndex that also overlaps the class indices, so a positional join pairs wrong classes)."""
    rng = np.random.default_rng(0)
    reps = np.array(space.representatives()[:300])
    targets = pd.DataFrame({"noisy_accuracy": rng.normal(60, 10, len(reps)),
                            "baseline_accuracy": rng.normal(85, 3, len(reps))},
                           index=pd.Index(reps, name="canonical_index"))
    order = rng.permutation(len(reps))
    stored = pd.DataFrame({"canonical_index": reps[order], "zc_nwot": targets.noisy_accuracy.to_numpy()[order],
                           "zc_snip": rng.normal(size=len(reps))})
    return targets, stored


def test_proxy_consumers_join_a_loaded_table_on_canonical_index(classes):
    targets, stored = classes
    table = proxy_table(stored, targets, target_names=["noisy_accuracy"], subsets=["all"]).set_index("proxy")
    assert table.loc["nwot", "kendall"] == pytest.approx(1.0) and table.loc["nwot", "n"] == 300
    indexed = stored.set_index("canonical_index")
    pool = targets.index.to_numpy()[:50]
    np.testing.assert_allclose(proxy_matrix(stored, pool), proxy_matrix(indexed, pool))
    assert zero_label_scores(stored, ("nwot",)).reindex(targets.index).corr(targets.noisy_accuracy,
                                                                            method="kendall") == pytest.approx(1.0)
    assert settings_agreement(stored, indexed, targets, ["noisy_accuracy"]).n.tolist() == [300, 300]
    curves = learning_curves(targets, stored, ["best:zc"], target_names=["noisy_accuracy"], label_counts=[20],
                             seeds=[0], min_test=10)
    assert curves.kendall.tolist() == pytest.approx([1.0]) and curves.n_test.tolist() == [280]


def test_a_proxy_table_without_canonical_index_or_with_repeats_is_refused(classes):
    targets, stored = classes
    with pytest.raises(ValueError, match="canonical_index column"):
        proxy_table(stored.drop(columns="canonical_index"), targets)
    with pytest.raises(ValueError, match="repeats"):
        proxy_matrix(pd.concat([stored, stored]), targets.index.to_numpy()[:5])


def test_analyses_read_every_encoding_of_an_architecture():
    counts = analysis.op_counts([(2, 2, 2, 2, 2, 2), "000000", 6930, EXAMPLE_STR])
    assert counts["count_nor_conv_3x3"].tolist() == [6, 0, 2, 2]
    assert counts["count_skip_connect"].tolist() == [0, 6, 2, 2]
    frame = pd.DataFrame({"arch": ["000000", "(2, 1, 0, 2, 1, 0)", EXAMPLE_STR, "index:6930"]})
    assert analysis.arch_matrix(frame).tolist() == [[0] * 6] + [list(EXAMPLE)] * 3


def test_summary_statistics_takes_one_metric_name():
    df = pd.DataFrame({"analog_accuracy": [80.0, 81.0, 82.0, 83.0], "noisy_accuracy": [1.0, 2.0, 3.0, 4.0]})
    stats = summary_statistics(df, "analog_accuracy")
    assert stats.metric.tolist() == ["analog_accuracy"] and stats.loc[0, "mean"] == 81.5


@pytest.mark.parametrize("value", ["210210", 6930, EXAMPLE_STR, np.int64(6930), "[2, 1, 0, 2, 1, 0]"])
def test_conversion_helpers_accept_what_parse_accepts(value):
    assert space.to_index(value) == 6930 and space.to_short(value) == "210210"
    assert space.to_nb201_str(value) == EXAMPLE_STR
    np.testing.assert_array_equal(space.to_op_matrix(value), space.to_op_matrix(EXAMPLE))


def test_architecture_constructor_names_only_what_it_takes():
    with pytest.raises(ValueError, match="space.parse") as err:
        space.Architecture("210210")
    assert "NAS-Bench-201 string" not in str(err.value)


def test_parse_reads_a_0d_integer_array_as_an_index():
    assert space.parse(np.array(6930)) == EXAMPLE
    for bad in (np.array(2.5), np.array(True)):
        with pytest.raises(ValueError, match="0-d array"):
            space.parse(bad)


@pytest.mark.parametrize("text", ["[2, 1, 0, 2, 1, 0", "2, 1, 0, 2, 1, 0)", "(2, 1, 0, 2, 1, 0]"])
def test_parse_refuses_unbalanced_brackets(text):
    with pytest.raises(ValueError, match="cannot read architecture"):
        space.parse(text)
    assert space.parse(text.strip("[]()")) == space.parse(f"({text.strip('[]()')})") == EXAMPLE


@pytest.mark.parametrize("n, seed, fragment", [
    (True, 0, "n must be"), (2, None, "seed must be"), (2, 1.5, "seed must be"),
    (2, True, "seed must be"), (2, -1, "seed must be"),
])
def test_sample_refuses_bools_non_integers_and_no_seed(n, seed, fragment):
    with pytest.raises(ValueError, match=fragment):
        space.sample(n, seed=seed)
    assert space.sample(3, seed=np.int64(4)) == space.sample(3, seed=4)


def test_compute_row_takes_proxy_names_and_refuses_an_empty_selection():
    config = ProxyConfig(C=4, N=1)
    row = compute_row("123123", [], config, proxies=["params"])
    assert list(row.values) == ["params"] and row.values["params"] > 0
    with pytest.raises(ValueError, match="no proxy named"):
        compute_row("123123", [], config, proxies=[])


@pytest.mark.parametrize("fn", [space.canonical, space.canonical_index, space.is_isomorphic, space.mutations,
                                space.is_degenerate, space.path_op_sequences, space.to_index])
def test_single_architecture_helpers_are_hinted_with_what_parse_takes(fn):
    hints = typing.get_type_hints(fn)
    assert [hints[p] for p in hints if p != "return"] == [space.ArchLike] * (2 if fn is space.is_isomorphic else 1)
    assert space.is_isomorphic("210210", 6930)
