"""Zero-cost proxies on tiny networks: known values, seeded determinism, invariance to the order of the images."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from analognasbench.nets import build_network, count_flops, count_parameters
from analognasbench.predict import (
    ProxyConfig,
    ProxyImages,
    compute_row,
    proxy_names,
    resolve_proxies,
    synthetic_images,
)
from analognasbench.predict.context import ProxyContext

TINY = ProxyConfig(C=4, N=1, batch_size=8, n_batches=2, image_size=16)
ARCH = "123123"  # every op kind, every node live
STANDARD = {"params", "flops", "grad_norm", "snip", "grasp", "fisher", "jacov", "synflow", "nwot"}
#: Proxies whose value is a sum or mean over images or minibatches (so the order of the images cannot matter).
ORDER_FREE = ("grad_norm", "snip", "grasp", "fisher", "jacov", "nwot", "synflow")


@pytest.fixture(scope="module")
def images() -> ProxyImages:
    return synthetic_images(TINY)


@pytest.fixture(scope="module")
def row(images):
    return compute_row(ARCH, images.batches(), TINY)


def test_the_issue_s_proxies_are_registered_with_an_aimc_and_a_hardware_proxy():
    names = set(proxy_names())
    assert names >= STANDARD
    assert {"aimc_err_t0", "aimc_err_1d", "aimc_agree_t0", "aimc_agree_1d", "hw_tiles"} <= names


def test_unknown_proxy_names_the_valid_ones():
    with pytest.raises(ValueError, match="valid proxies: .*grad_norm"):
        resolve_proxies("grad_norm,bogus")


def test_parameter_and_flop_counts_are_the_reference_values():
    release = ProxyConfig(C=16, N=5)
    values = compute_row("222222", [], release, resolve_proxies("params,flops")).values
    assert values == {"params": 1531546.0, "flops": 220119680.0}  # NAS-Bench-201's all-3x3 network


def test_params_counts_the_tiny_network_it_scores(row):
    net = build_network(ARCH, C=4, N=1)
    assert row.values["params"] == sum(p.numel() for p in net.parameters()) == count_parameters(ARCH, C=4, N=1)
    assert row.values["flops"] == count_flops(ARCH, C=4, N=1, image_size=16)


def test_every_proxy_is_finite_on_a_live_cell(row):
    assert set(row.values) == set(proxy_names())
    assert all(math.isfinite(v) for v in row.values.values()), row.values
    assert row.values["synflow"] > 0 and row.values["grad_norm"] > 0 and row.values["snip"] > 0


def test_same_seed_same_values_other_seed_other_values(images, row):
    again = compute_row(ARCH, images.batches(), TINY)
    assert again.values == row.values
    other = compute_row(ARCH, images.batches(), dataclasses.replace(TINY, seed=1))
    assert other.values["grad_norm"] != row.values["grad_norm"]
    assert other.values["synflow"] != row.values["synflow"]


def test_a_proxy_does_not_depend_on_which_proxies_ran_before(images, row):
    alone = compute_row(ARCH, images.batches(), TINY, resolve_proxies("nwot,aimc_err_1d"))
    assert alone.values == {k: row.values[k] for k in alone.values}


def test_global_rng_is_left_untouched(images):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    compute_row(ARCH, images.batches(), TINY)
    assert torch.equal(torch.rand(3), expected)


def _reordered(images: ProxyImages) -> ProxyImages:
    """The same images, shuffled inside each minibatch and with the minibatches swapped."""
    perm = np.random.default_rng(0).permutation(images.x.shape[1])
    return ProxyImages(images.x[::-1][:, perm].copy(), images.y[::-1][:, perm].copy(), images.source, "reordered")


def test_order_of_images_and_minibatches_does_not_matter(images, row):
    reordered = compute_row(ARCH, _reordered(images).batches(), TINY, resolve_proxies(",".join(ORDER_FREE)))
    for name in ORDER_FREE:
        assert reordered.values[name] == pytest.approx(row.values[name], rel=1e-4), name


def test_synflow_needs_no_data_and_gradients_do(images, row):
    other = synthetic_images(dataclasses.replace(TINY, data_seed=5))
    moved = compute_row(ARCH, other.batches(), TINY, resolve_proxies("synflow,grad_norm"))
    assert moved.values["synflow"] == row.values["synflow"]
    assert moved.values["grad_norm"] != row.values["grad_norm"]


def test_hw_tiles_counts_one_tile_per_reached_layer_when_layers_fit():
    # C=4, N=1, all 3x3: stem + 3 cells x 6 convs + 2 reductions x 3 convs + classifier, all smaller than 512x512
    values = compute_row("222222", [], TINY, resolve_proxies("hw_tiles,hw_rows_mean")).values
    assert values["hw_tiles"] == 1 + 18 + 6 + 1
    # an all-"none" cell reaches no cell conv: stem + reductions + classifier
    assert compute_row("111111", [], TINY, resolve_proxies("hw_tiles")).values["hw_tiles"] == 1 + 6 + 1


def test_an_ideal_chip_does_not_perturb_the_network(images):
    ideal = dataclasses.replace(TINY, hardware_preset="ideal")
    values = compute_row(ARCH, images.batches(), ideal, resolve_proxies("aimc_err_t0,aimc_err_1d,aimc_agree_1d")).values
    assert values["aimc_err_t0"] == pytest.approx(0.0, abs=1e-5)
    assert values["aimc_err_1d"] == pytest.approx(0.0, abs=1e-5)
    assert values["aimc_agree_1d"] == 1.0


def test_the_pcm_chip_perturbs_the_outputs_at_programming_and_after_a_day(row):
    assert row.values["aimc_err_t0"] > 0.01 and row.values["aimc_err_1d"] > 0.01
    assert 0.0 <= row.values["aimc_agree_1d"] <= 1.0


def test_a_cell_whose_output_ignores_the_input_gives_nan_not_an_error(images):
    values = compute_row("111111", images.batches(), TINY, resolve_proxies("jacov,grad_norm")).values
    assert math.isnan(values["jacov"])
    assert values["grad_norm"] == 0.0  # the classifier sees all-zero features: no weight gets a gradient


def test_network_copies_are_independent(images):
    ctx = ProxyContext.create(ARCH, TINY, images.batches())
    a = ctx.network()
    with torch.no_grad():
        next(a.parameters()).add_(1.0)
    b = ctx.network()
    assert not torch.equal(next(a.parameters()), next(b.parameters()))


def test_bad_settings_are_rejected_with_the_expected_value():
    with pytest.raises(ValueError, match="batch_size must be >= 2"):
        ProxyConfig(batch_size=1)
    with pytest.raises(ValueError, match="n_batches must be a positive integer"):
        ProxyConfig(n_batches=0)
