"""The NAS-Bench-201 cell search space: operations, encodings, isomorphism, paths and sampling.

>>> from analognasbench.space import parse
>>> a = parse("|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|")
>>> a, a.index, a.short
(Architecture((2, 1, 0, 2, 1, 0)), 6930, '210210')
"""

from analognasbench.space.encodings import (
    Architecture,
    ArchLike,
    from_index,
    from_nb201_str,
    from_op_matrix,
    from_short,
    parse,
    to_index,
    to_indices,
    to_nb201_str,
    to_op_matrix,
    to_short,
)
from analognasbench.space.isomorphism import (
    NUM_CLASSES,
    canonical,
    canonical_index,
    canonical_string,
    class_sizes,
    is_degenerate,
    is_isomorphic,
    representatives,
)
from analognasbench.space.ops import EDGES, NUM_ARCHITECTURES, NUM_EDGES, NUM_OPS, OP_NAMES, Op
from analognasbench.space.paths import CellPath, edge_list, longest_path_length, path_op_sequences, paths
from analognasbench.space.sampling import (
    all_architectures,
    dedupe_isomorphic,
    mutations,
    sample,
    seeded_order,
    unique_architectures,
)

__all__ = [
    "EDGES",
    "NUM_ARCHITECTURES",
    "NUM_CLASSES",
    "NUM_EDGES",
    "NUM_OPS",
    "OP_NAMES",
    "ArchLike",
    "Architecture",
    "CellPath",
    "Op",
    "all_architectures",
    "canonical",
    "canonical_index",
    "canonical_string",
    "class_sizes",
    "dedupe_isomorphic",
    "edge_list",
    "from_index",
    "from_nb201_str",
    "from_op_matrix",
    "from_short",
    "is_degenerate",
    "is_isomorphic",
    "longest_path_length",
    "mutations",
    "parse",
    "path_op_sequences",
    "paths",
    "representatives",
    "sample",
    "seeded_order",
    "to_index",
    "to_indices",
    "to_nb201_str",
    "to_op_matrix",
    "to_short",
    "unique_architectures",
]
