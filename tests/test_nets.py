"""NAS-Bench-201 networks: reference-exact parameter counts, MAC counts, cell semantics, init and bad input.

Reference values: ``REFERENCE_*`` below were computed once with the NAS-Bench-201 authors' implementation,
``xautodl`` 1.0.0 from PyPI (``xautodl.models.cell_infers.tiny_network.TinyNetwork`` built from
``CellStructure.str2structure(arch.nb201_str)``; parameters = ``sum(p.numel() for p in net.parameters())``;
FLOPs = ``round(xautodl.utils.flop_benchmark.get_model_infos(net, (1, 3, H, H))[0] * 1e6)``). ``xautodl`` cannot
be a test dependency (it pins numpy<=1.19.5); where it is importable anyway (e.g. ``pip install --no-deps
xautodl``) the ``live`` tests below compare against it directly.
"""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from analognasbench.nets import (
    Cell,
    NetworkConfig,
    build_network,
    count_flops,
    count_parameters,
    layer_macs,
    used_edges,
)
from analognasbench.nets.ops import (
    SHIFTED_POOL_MIN_ELEMENTS,
    SHIFTED_POOL_MIN_PIXELS,
    _ShiftedAvgPool3x3,
    avg_pool3x3,
)
from analognasbench.space import EDGES, Architecture, Op, is_degenerate, parse, sample

torch.set_num_threads(1)

# arch short form -> (parameters, NAS-Bench-201 FLOPs = conv/linear MACs + classifier bias adds), from xautodl.
REFERENCE_C16_N5_10CLASSES_32PX: dict[str, tuple[int, int]] = {
    "111111": (73306, 7783050), "000000": (73306, 7783050), "222222": (1531546, 220119690),
    "333333": (241306, 31376010), "444444": (73306, 7783050), "111222": (802426, 113951370),
    "211112": (559386, 78561930), "121111": (316346, 43172490), "112111": (316346, 43172490),
    "202020": (802426, 113951370), "331113": (157306, 19579530), "040444": (73306, 7783050),
    "310204": (344346, 47104650), "422344": (587386, 82494090), "013043": (129306, 15647370),
    "313013": (157306, 19579530), "422412": (802426, 113951370), "122013": (587386, 82494090),
    "321113": (372346, 51036810), "043104": (101306, 11715210), "342341": (372346, 51036810),
    "422332": (858426, 121815690), "043233": (400346, 54968970), "202344": (587386, 82494090),
    "314442": (344346, 47104650), "121122": (802426, 113951370), "141032": (344346, 47104650),
    "144103": (101306, 11715210), "004441": (73306, 7783050), "321324": (615386, 86426250),
    "313320": (400346, 54968970), "410433": (129306, 15647370), "203200": (587386, 82494090),
    "242012": (802426, 113951370), "121011": (316346, 43172490),
}  # fmt: skip
REFERENCE_C8_N2_100CLASSES_16PX: dict[str, tuple[int, int]] = {
    "111111": (21708, 517348), "000000": (21708, 517348), "222222": (168204, 5825764),
    "333333": (39180, 1107172), "444444": (21708, 517348), "111222": (94956, 3171556),
    "211112": (70540, 2286820), "121111": (46124, 1402084), "112111": (46124, 1402084),
    "202020": (94956, 3171556), "331113": (30444, 812260), "040444": (21708, 517348),
}  # fmt: skip

# All none; all skip; all conv; input cut off but conv edges on the zero node; conv edge whose target is dead.
EDGE_CASES = ["111111", "000000", "222222", "333333", "444444", "111222", "211112", "121111"]


def _tiny(arch: object, **kwargs: object) -> nn.Module:
    return build_network(arch, C=4, N=1, num_classes=3, **kwargs)


# ---------------------------------------------------------------- parameter and MAC counts against the reference


@pytest.mark.parametrize("short", sorted(REFERENCE_C16_N5_10CLASSES_32PX))
def test_counts_equal_nas_bench_201_reference(short: str) -> None:
    params, reference_flops = REFERENCE_C16_N5_10CLASSES_32PX[short]
    assert count_parameters(short) == params
    # The reference also counts the classifier's 10 bias additions.
    assert count_flops(short) + 10 == reference_flops


@pytest.mark.parametrize("short", sorted(REFERENCE_C8_N2_100CLASSES_16PX))
def test_counts_equal_reference_for_other_sizes(short: str) -> None:
    params, reference_flops = REFERENCE_C8_N2_100CLASSES_16PX[short]
    assert count_parameters(short, C=8, N=2, num_classes=100) == params
    assert count_flops(short, C=8, N=2, num_classes=100, image_size=16) + 100 == reference_flops


def test_reference_sample_covers_the_edge_cases() -> None:
    shorts = set(REFERENCE_C16_N5_10CLASSES_32PX)
    assert set(EDGE_CASES) <= shorts
    assert sum(is_degenerate(parse(s)) for s in shorts) >= 4
    assert len(shorts) - len(EDGE_CASES) >= 20


@pytest.mark.parametrize("short", ["222222", "121111", "000000", "422332"])
def test_counting_a_built_network_equals_counting_its_architecture(short: str) -> None:
    net = build_network(short)
    assert count_parameters(net) == count_parameters(short) == sum(p.numel() for p in net.parameters())


def test_all_conv3x3_has_the_published_parameter_count() -> None:
    # The issue's example: NAS-Bench-201's all-nor_conv_3x3 cell, C=16, N=5, CIFAR-10.
    assert count_parameters("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|"
                            "nor_conv_3x3~2|") == 1_531_546  # fmt: skip


def test_flops_equal_a_hand_computation_for_a_tiny_config() -> None:
    # (1->2) conv3x3, (1->3) conv1x1, (1->4) skip, (2->3) none, (2->4) pool, (3->4) conv3x3; C=2, N=1, 3 classes, 8px.
    arch = (2, 3, 0, 1, 4, 2)
    stem = 8 * 8 * 2 * 3 * 9
    stage1 = 8 * 8 * (2 * 2 * 9 * 2 + 2 * 2)  # two 3x3 edges and one 1x1 edge, 2 -> 2 channels on 8x8
    # conv_a 2->4 at stride 2, conv_b 4->4, 1x1 shortcut 2->4, all on 4x4
    reduction1 = 4 * 4 * (4 * 2 * 9 + 4 * 4 * 9 + 4 * 2)
    stage2 = 4 * 4 * (4 * 4 * 9 * 2 + 4 * 4)
    reduction2 = 2 * 2 * (8 * 4 * 9 + 8 * 8 * 9 + 8 * 4)
    stage3 = 2 * 2 * (8 * 8 * 9 * 2 + 8 * 8)
    classifier = 8 * 3
    expected = stem + stage1 + reduction1 + stage2 + reduction2 + stage3 + classifier
    assert expected == 25240
    assert count_flops(arch, C=2, N=1, num_classes=3, image_size=8) == expected


def test_flops_skip_unused_conv_edges_only_on_request() -> None:
    # (1->2) conv3x3 feeds node 2, which has no non-none way to the output: the reference still evaluates it.
    arch = (2, 1, 1, 1, 1, 2)
    dead_conv = 16 * 16 * 4 * 4 * 9  # one 3x3 conv, 4 -> 4 channels on 16x16, in the single stage-1 cell
    full = count_flops(arch, C=4, N=1, num_classes=3, image_size=16)
    live = count_flops(arch, C=4, N=1, num_classes=3, image_size=16, include_unused_edges=False)
    stage_dead = dead_conv + 8 * 8 * 8 * 8 * 9 + 4 * 4 * 16 * 16 * 9
    assert full - live == stage_dead


def _hooked_macs(net: nn.Module, image_size: int) -> int:
    """MACs seen by forward hooks: what the network actually evaluates on one image."""
    total = 0

    def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        nonlocal total
        if isinstance(module, nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1]
            total += output[0].numel() * module.in_channels // module.groups * k
        else:
            total += module.in_features * module.out_features

    handles = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        net.eval()(torch.zeros(1, 3, image_size, image_size))
    for h in handles:
        h.remove()
    return total


@pytest.mark.parametrize("image_size", [32, 16])
def test_flops_equal_what_the_forward_evaluates(image_size: int) -> None:
    for arch in [*EDGE_CASES, *sample(12, seed=5)]:
        full = _hooked_macs(_tiny(arch, skip_unused_edges=False), image_size)
        live = _hooked_macs(_tiny(arch), image_size)
        assert full == count_flops(arch, C=4, N=1, num_classes=3, image_size=image_size), arch
        assert live == count_flops(
            arch, C=4, N=1, num_classes=3, image_size=image_size, include_unused_edges=False
        )


def test_layer_macs_names_each_layer() -> None:
    layers = layer_macs("211112", NetworkConfig(C=4, N=2, num_classes=3), 16)
    names = [layer.name for layer in layers]
    assert names[0] == "stem" and names[-1] == "classifier"
    assert "stage1.cell2.edge(1->2)" in names and "reduction2.downsample" in names
    assert sum(name.startswith("stage") for name in names) == 3 * 2 * 2  # 3 stages x 2 cells x 2 conv edges


# ---------------------------------------------------------------- cell semantics


def _reference_cell(cell: Cell, arch: Architecture, x: torch.Tensor) -> torch.Tensor:
    """NAS-Bench-201's cell by its definition: node j = sum over all edges i->j of op(node i), none = x * 0."""
    layer_of = {edge: layer for edge, layer in zip(sorted(EDGES, key=lambda e: (e[1], e[0])), cell.layers)}
    nodes = {1: x}
    for dst in (2, 3, 4):
        outs = []
        for src in range(1, dst):
            op = arch[EDGES.index((src, dst))]
            outs.append(nodes[src].mul(0.0) if op == Op.NONE else layer_of[(src, dst)](nodes[src]))
        nodes[dst] = sum(outs[1:], outs[0])
    return nodes[4]


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_cell_computes_the_reference_sum_over_all_edges(mode: str) -> None:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(4, 6, 8, 8, generator=gen)
    for arch in [parse(s) for s in EDGE_CASES] + sample(200, seed=11):
        torch.manual_seed(1)
        cell = Cell(arch, 6)
        for module in cell.modules():
            if isinstance(module, nn.BatchNorm2d):  # non-trivial affine and running statistics
                for t in (module.weight, module.bias, module.running_mean):
                    t.data.normal_(generator=gen)
                module.running_var.data.uniform_(0.5, 2.0, generator=gen)
        getattr(cell, mode)()
        twin = copy.deepcopy(cell)  # the reference path updates BN statistics too: keep them apart
        with torch.no_grad():
            ours, ref = cell(x), _reference_cell(twin, arch, x)
        torch.testing.assert_close(ours, ref, msg=f"arch {arch.short} in {mode} mode")


def test_degenerate_cell_outputs_zeros_and_network_still_runs() -> None:
    x = torch.randn(2, 4, 8, 8)
    assert torch.count_nonzero(Cell(parse("111111"), 4)(x)) == 0
    assert torch.count_nonzero(Cell(parse("221211"), 4)(x)) == 0  # nothing reaches the output node
    for short in ["111111", "121111", "111222"]:
        net = _tiny(short)
        logits = net(torch.randn(2, 3, 16, 16))
        assert logits.shape == (2, 3) and torch.isfinite(logits).all()
        logits.sum().backward()
        assert net.classifier.weight.grad is not None


def test_used_edges_marks_edges_that_reach_the_output() -> None:
    assert used_edges(parse("222222")) == (True,) * 6
    assert used_edges(parse("111111")) == (False,) * 6
    # node 2 only feeds a none edge (2->3) and a none edge (2->4): (1->2) cannot reach the output.
    assert used_edges(parse("211112")) == (False, False, False, False, False, True)
    assert used_edges(parse("212101")) == (True, False, True, False, True, False)  # 1->2->4 is a path


# ---------------------------------------------------------------- the network as a torch module


@pytest.mark.parametrize("image_size", [32, 16])
def test_forward_shapes(image_size: int) -> None:
    net = build_network("222222", C=4, N=2, num_classes=7)
    assert net(torch.randn(3, 3, image_size, image_size)).shape == (3, 7)


def test_init_is_deterministic_under_manual_seed() -> None:
    torch.manual_seed(3)
    a = build_network("243102", C=4, N=1).state_dict()
    torch.manual_seed(3)
    b = build_network("243102", C=4, N=1).state_dict()
    torch.manual_seed(4)
    c = build_network("243102", C=4, N=1).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["classifier.weight"], c["classifier.weight"])


def test_generator_init_matches_manual_seed_and_leaves_global_rng_alone() -> None:
    torch.manual_seed(9)
    seeded = build_network("243102", C=4, N=1).state_dict()
    state = torch.get_rng_state()
    from_gen = build_network("243102", C=4, N=1, generator=torch.Generator().manual_seed(9)).state_dict()
    assert torch.equal(torch.get_rng_state(), state)
    assert list(seeded) == list(from_gen)
    for key in seeded:
        torch.testing.assert_close(from_gen[key], seeded[key], rtol=0, atol=0, msg=key)


def test_only_conv_and_linear_hold_weight_matrices() -> None:
    net = build_network("243102")
    holders = set()
    for module in net.modules():
        for name, p in module.named_parameters(recurse=False):
            holders.add(type(module))
            if p.dim() >= 2:
                assert isinstance(module, (nn.Conv2d, nn.Linear)), (type(module), name)
            if isinstance(module, nn.Conv2d):
                assert name == "weight"  # convs are bias-free, as in the reference
    assert holders == {nn.Conv2d, nn.Linear, nn.BatchNorm2d}


def test_deepcopy_and_state_dict_round_trip() -> None:
    net = _tiny("243102").eval()
    x = torch.randn(2, 3, 16, 16)
    clone = copy.deepcopy(net)
    fresh = _tiny("243102").eval()
    fresh.load_state_dict(net.state_dict())
    with torch.no_grad():
        assert torch.equal(clone(x), net(x)) and torch.equal(fresh(x), net(x))


def test_skipping_unused_edges_does_not_change_outputs() -> None:
    x = torch.randn(2, 3, 16, 16)
    for arch in [*EDGE_CASES, *sample(10, seed=8)]:
        fast = _tiny(arch)
        full = _tiny(arch, skip_unused_edges=False)
        full.load_state_dict(fast.state_dict())
        for mode in ("train", "eval"):
            with torch.no_grad():
                torch.testing.assert_close(getattr(fast, mode)()(x), getattr(full, mode)()(x))


# ---------------------------------------------------------------- the fast CPU pooling is torch's, bit for bit


@pytest.mark.parametrize("shape", [(7, 8, 16, 16), (3, 5, 8, 8), (2, 3, 9, 13), (1, 1, 32, 32), (2, 4, 16, 5),
                                   (4, 2, 1, 1), (2, 2, 2, 7)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_shifted_pooling_equals_torch_bitwise_forward_and_backward(shape: tuple, dtype: torch.dtype) -> None:
    # Dataset rows measured before and after the fast path must stay identical, so equality is exact, not close.
    gen = torch.Generator().manual_seed(sum(shape))
    x = (torch.randn(shape, generator=gen, dtype=dtype) * 3).requires_grad_()
    grad = torch.randn(shape, generator=gen, dtype=dtype)
    reference = F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
    (reference_grad,) = torch.autograd.grad(reference, x, grad)
    fast = _ShiftedAvgPool3x3.apply(x)
    (fast_grad,) = torch.autograd.grad(fast, x, grad)
    assert torch.equal(fast, reference) and fast.is_contiguous()
    assert torch.equal(fast_grad, reference_grad) and fast_grad.is_contiguous()


def test_avg_pool3x3_takes_the_fast_path_only_where_it_is_exact_and_faster() -> None:
    def path(x: tuple | torch.Tensor, dtype: torch.dtype = torch.float32) -> str:
        x = x if isinstance(x, torch.Tensor) else torch.randn(x, dtype=dtype)
        return type(avg_pool3x3(x.requires_grad_()).grad_fn).__name__

    big = (8, 8, 16, 16)
    assert SHIFTED_POOL_MIN_ELEMENTS <= 8 * 8 * 16 * 16 and SHIFTED_POOL_MIN_PIXELS <= 16 * 16
    assert "Shifted" in path(big)
    assert "Shifted" in path(big, torch.float64)
    assert "Shifted" not in path(big, torch.bfloat16)  # torch accumulates in float32 there: not the same sums
    assert "Shifted" not in path((1, 8, 16, 16))  # small tensor: torch's kernel is faster
    assert "Shifted" not in path((1024, 8, 2, 2))  # tiny maps: likewise
    assert "Shifted" not in path(torch.randn(big).to(memory_format=torch.channels_last))  # torch's own NHWC kernel
    x = torch.randn(big)
    assert torch.equal(avg_pool3x3(x), F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False))


def test_shifted_pooling_has_correct_first_and_second_derivatives() -> None:
    x = torch.randn(2, 3, 5, 6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(_ShiftedAvgPool3x3.apply, (x,))
    assert torch.autograd.gradgradcheck(_ShiftedAvgPool3x3.apply, (x,))


def test_network_with_pooling_edges_trains_identically_to_torch_pooling(monkeypatch: pytest.MonkeyPatch) -> None:
    def one_step() -> list[torch.Tensor]:
        net = build_network("444444", C=4, N=1, num_classes=3, generator=torch.Generator().manual_seed(1))
        x = torch.randn(64, 3, 16, 16, generator=torch.Generator().manual_seed(2))  # the cells' maps take the fast path
        net(x).logsumexp(1).sum().backward()
        return [p.grad for p in net.parameters()]

    fast = one_step()
    monkeypatch.setattr("analognasbench.nets.ops.SHIFTED_POOL_MIN_ELEMENTS", 10**12)  # torch's kernel everywhere
    reference = one_step()
    assert all(torch.equal(a, b) for a, b in zip(fast, reference, strict=True))


def test_torch_compile_traces_without_graph_breaks() -> None:
    net = _tiny("211114").eval()  # with a pooling edge: the custom autograd function must trace too
    x = torch.randn(2, 3, 16, 16)
    compiled = torch.compile(net, backend="eager", fullgraph=True)
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), net(x))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_forward_on_cuda_matches_cpu() -> None:
    net = _tiny("243102").eval()
    x = torch.randn(4, 3, 32, 32)
    with torch.no_grad():
        cpu = net(x)
        gpu = net.cuda()(x.cuda()).cpu()
    torch.testing.assert_close(gpu, cpu, rtol=1e-3, atol=1e-3)
    gen_net = build_network("243102", C=4, N=1, generator=torch.Generator("cuda").manual_seed(0))
    assert gen_net.classifier.weight.is_cuda


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"arch": (2, 2, 2)}, "6 edges"),
        ({"arch": "|nor_conv_3x3~0|"}, "malformed"),
        ({"arch": (0, 1, 2, 3, 4, 5)}, "op indices"),
        ({"arch": "222222", "C": 0}, "C .* >= 1"),
        ({"arch": "222222", "N": 0}, "N .* >= 1"),
        ({"arch": "222222", "num_classes": 1}, "num_classes .* >= 2"),
        ({"arch": "222222", "C": 2.5}, "integer"),
    ],
)
def test_bad_input_raises_value_error(kwargs: dict, message: str) -> None:
    kwargs = dict(kwargs)
    arch = kwargs.pop("arch")
    for fn in (build_network, count_parameters, count_flops):
        with pytest.raises(ValueError, match=message):
            fn(arch, **kwargs)


@pytest.mark.parametrize("image_size", [0, 30, 33, "32"])
def test_bad_image_size_raises_value_error(image_size: object) -> None:
    with pytest.raises(ValueError, match="image_size"):
        count_flops("222222", image_size=image_size)


def test_bad_generator_raises_value_error() -> None:
    with pytest.raises(ValueError, match="torch.Generator"):
        build_network("222222", generator=0)  # type: ignore[arg-type]


# ---------------------------------------------------------------- live comparison with xautodl (if importable)


def _xautodl():
    tiny = pytest.importorskip("xautodl.models.cell_infers.tiny_network", reason="xautodl is not importable")
    genotypes = pytest.importorskip("xautodl.models.cell_searchs.genotypes")
    return tiny.TinyNetwork, genotypes.Structure


@pytest.mark.slow
def test_live_parameter_counts_equal_xautodl_over_200_archs() -> None:
    tiny_network, structure = _xautodl()
    for arch in [parse(s) for s in EDGE_CASES] + sample(200, seed=123):
        with torch.device("meta"):
            ref = tiny_network(16, 5, structure.str2structure(arch.nb201_str), 10)
        assert count_parameters(arch) == sum(p.numel() for p in ref.parameters()), arch.short


def test_live_weights_names_and_outputs_equal_xautodl() -> None:
    tiny_network, structure = _xautodl()
    x = torch.randn(2, 3, 16, 16)
    for k, arch in enumerate([parse(s) for s in EDGE_CASES] + sample(8, seed=77)):
        torch.manual_seed(k)
        ref = tiny_network(4, 1, structure.str2structure(arch.nb201_str), 5)
        torch.manual_seed(k)
        ours = build_network(arch, C=4, N=1, num_classes=5)
        ref_state, our_state = ref.state_dict(), ours.state_dict()
        assert list(ref_state) == list(our_state)
        assert all(torch.equal(ref_state[key], our_state[key]) for key in ref_state), arch.short
        for mode in ("train", "eval"):
            with torch.no_grad():
                torch.testing.assert_close(getattr(ours, mode)()(x), getattr(ref, mode)()(x)[1])
