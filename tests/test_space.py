"""The NAS-Bench-201 search space: counts, encodings, isomorphism, paths, sampling, errors."""

from __future__ import annotations

import numpy as np
import pytest

from analognasbench import space
from analognasbench.space import Architecture, Op, parse

EXAMPLE_STR = "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|"


def test_space_has_15625_cells_and_6466_isomorphism_classes():
    archs = list(space.all_architectures())
    assert len(archs) == 15625 == len(set(archs))
    assert len(space.representatives()) == space.NUM_CLASSES == 6466
    assert sum(space.class_sizes().values()) == 15625
    assert len({space.canonical_string(a) for a in archs}) == 6466


def test_every_encoding_round_trips_for_every_cell():
    for index, arch in enumerate(space.all_architectures()):
        assert arch.index == index
        assert space.from_nb201_str(arch.nb201_str) == arch
        assert space.from_short(arch.short) == arch
        assert space.from_op_matrix(arch.op_matrix()) == arch
        assert parse(arch.nb201_str) == parse(arch.short) == parse(index) == parse(str(tuple(arch))) == arch


def test_nb201_string_edge_order_differs_from_tuple_order():
    arch = parse(EXAMPLE_STR)
    assert arch == (2, 1, 0, 2, 1, 0)
    assert space.to_nb201_str((0, 1, 2, 3, 4, 0)) == "|skip_connect~0|+|none~0|nor_conv_1x1~1|+|nor_conv_3x3~0|avg_pool_3x3~1|skip_connect~2|"


def test_index_is_base5_with_first_edge_most_significant():
    assert space.to_index((0, 0, 0, 0, 0, 1)) == 1
    assert space.to_index((1, 0, 0, 0, 0, 0)) == 5**5
    assert space.to_index((4, 4, 4, 4, 4, 4)) == 15624


def test_architecture_is_a_plain_tuple_for_dict_lookups():
    table = {(0, 0, 0, 4, 3, 2): "x"}
    arch = Architecture((0, 0, 0, 4, 3, 2))
    assert table[arch] == "x" and arch == (0, 0, 0, 4, 3, 2) and hash(arch) == hash((0, 0, 0, 4, 3, 2))
    assert arch.ops[3] is Op.AVG_POOL_3X3


def test_op_matrix_layout():
    m = space.to_op_matrix((2, 1, 0, 2, 1, 0))
    assert m[0, 1] == 2 and m[0, 2] == 1 and m[0, 3] == 0 and m[1, 2] == 2 and m[1, 3] == 1 and m[2, 3] == 0
    assert (m[np.tril_indices(4)] == -1).all()


@pytest.mark.parametrize(
    "a, b, same",
    [
        # none on (1->2) kills node 2, so what node 2 feeds is dead: the ops there do not matter
        ((1, 2, 2, 3, 4, 2), (1, 2, 2, 2, 2, 2), True),
        # a sum is order-free: swapping the two parallel branches into node 4 gives the same network
        ((0, 1, 2, 1, 3, 1), (0, 1, 3, 1, 2, 1), True),
        ((2, 2, 2, 2, 2, 2), (3, 3, 3, 3, 3, 3), False),
        # a skip edge passes its source through: conv then skip equals skip then conv
        ((0, 1, 1, 1, 2, 1), (2, 1, 1, 1, 0, 1), True),
        ((2, 1, 1, 2, 1, 2), (2, 1, 1, 3, 1, 2), False),
    ],
)
def test_isomorphism(a, b, same):
    assert space.is_isomorphic(a, b) is same
    assert (space.canonical(a) == space.canonical(b)) is same


def test_canonical_representative_is_smallest_index_of_its_class():
    reps = space.representatives()
    assert all(space.canonical_index(r) == r for r in reps)
    for arch in space.sample(300, seed=1):
        rep = space.canonical_index(arch)
        assert rep <= arch.index and space.is_isomorphic(rep, arch)


def test_degenerate_cells_have_no_live_path_from_input_to_output():
    assert space.is_degenerate((1, 1, 1, 1, 1, 1))
    assert space.is_degenerate((2, 2, 1, 2, 1, 1))  # everything stops before node 4
    assert not space.is_degenerate((1, 1, 0, 1, 1, 1))
    assert not space.is_degenerate((2, 1, 1, 2, 1, 0))
    for arch in space.all_architectures():
        assert space.is_degenerate(arch) == (space.paths(arch) == [])


def test_paths_and_op_sequences():
    arch = (2, 1, 0, 2, 1, 0)
    assert space.path_op_sequences(arch) == [(0,), (2, 2, 0)]
    all_paths = space.paths(arch, live_only=False)
    assert [p.nodes for p in all_paths] == [(1, 4), (1, 2, 4), (1, 3, 4), (1, 2, 3, 4)]
    assert [p.live for p in all_paths] == [True, False, False, True]
    assert space.longest_path_length(arch) == 3
    assert space.edge_list(arch) == [(1, 2, 2), (1, 4, 0), (2, 3, 2), (3, 4, 0)]


def test_mutations_change_exactly_one_edge():
    arch = (0, 1, 2, 3, 4, 0)
    muts = space.mutations(arch)
    assert len(muts) == 24 == len(set(muts))
    assert all(sum(x != y for x, y in zip(m, arch)) == 1 for m in muts)


def test_sampling_is_seeded_and_prefix_stable():
    a = space.sample(50, seed=7)
    assert a == space.sample(50, seed=7) and a != space.sample(50, seed=8)
    assert space.sample(10, seed=7) == a[:10]
    uniq = space.sample(100, seed=3, unique=True)
    assert len(set(uniq)) == 100 and all(space.canonical_index(u) == u.index for u in uniq)
    order = space.seeded_order(0)
    assert len(order) == 6466 and sorted(a.index for a in order) == list(space.representatives())


def test_dedupe_isomorphic_keeps_first_seen_order():
    out = space.dedupe_isomorphic([(1, 2, 2, 3, 4, 2), (1, 2, 2, 2, 2, 2), (2, 2, 2, 2, 2, 2)])
    assert len(out) == 2 and out[1] == (2, 2, 2, 2, 2, 2)


@pytest.mark.parametrize(
    "bad, fragment",
    [
        ((0, 0, 0), "6 edges"),
        ((0, 0, 0, 0, 0, 5), "0..4"),
        ((0, 0, 0, 0, 0, -1), "0..4"),
        ((0, 0, 0, 0, 0, 1.5), "0..4"),
        (15625, "0..15624"),
        (-1, "0..15624"),
        ("|nor_conv_3x3~0|+|none~0|", "malformed"),
        ("|conv_5x5~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|", "unknown operation"),
        ("|nor_conv_3x3~1|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|", "bad or repeated"),
        ("abc", "expected"),
        ("2012105", "0..15624"),
        (None, "expected"),
        (3.0, "expected"),
        (np.zeros((3, 3)), "6 edges"),
    ],
)
def test_bad_input_raises_value_error_saying_what_was_expected(bad, fragment):
    with pytest.raises(ValueError, match=fragment):
        parse(bad)


def test_unknown_op_name_lists_valid_ones():
    with pytest.raises(ValueError, match="skip_connect, none, nor_conv_3x3, nor_conv_1x1, avg_pool_3x3"):
        Op.from_name("conv")
