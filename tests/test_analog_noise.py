"""The fast output-noise generator: exact moments, symmetry, independence, documented light tails."""

from __future__ import annotations

import pytest
import torch

from analognasbench.analog.gaussian import GaussianSource, NoiseMethod

torch.set_num_threads(1)


@pytest.mark.parametrize("method", ["fast", "exact"])
def test_standard_normal_moments(method: str) -> None:
    z = GaussianSource(3, method=method).standard_normal(2_000_000).double()
    assert abs(z.mean().item()) < 0.003
    assert z.std().item() == pytest.approx(1.0, abs=0.003)
    assert (z**3).mean().item() == pytest.approx(0.0, abs=0.01)
    assert (z**4).mean().item() == pytest.approx(3.0, abs=0.05)  # fast: 2.98 by construction
    assert (z > 1).float().mean().item() == pytest.approx(0.1587, abs=0.01)


def test_fast_noise_is_exactly_symmetric_and_has_bounded_tails() -> None:
    source = GaussianSource(0, method="fast")
    values = torch.unique(source.standard_normal(500_000))
    assert len(values) == 61
    assert torch.allclose(values, -values.flip(0))
    assert 3.5 < values.max().item() < 3.8


def test_fresh_independent_draws_and_reproducible_seed() -> None:
    a = GaussianSource(1)
    first, second = a.standard_normal(100_000), a.standard_normal(100_000)
    assert abs(torch.corrcoef(torch.stack([first, second]))[0, 1].item()) < 0.015
    shifted = torch.corrcoef(torch.stack([first[1:], first[:-1]]))[0, 1].item()
    assert abs(shifted) < 0.015  # neighbours within one draw (4 share one 64-bit word) are independent
    b = GaussianSource(1)
    assert torch.equal(b.standard_normal(100_000), first)
    out = torch.zeros(1000)
    b.add_(out, 0.5)
    assert out.std().item() == pytest.approx(0.5, rel=0.1)


def test_method_selection_and_errors() -> None:
    assert GaussianSource(0).method is NoiseMethod.FAST
    assert GaussianSource(0, method="exact").method is NoiseMethod.EXACT
    with pytest.raises(ValueError, match="valid: auto, fast, exact"):
        GaussianSource(0, method="ziggurat")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16])
def test_add_draws_the_numbers_standard_normal_draws(dtype: torch.dtype) -> None:
    """``add_`` folds the std into the cubic (fewer passes) but draws the same numbers, up to float rounding."""
    base = torch.linspace(-3, 3, 10_001, dtype=dtype)
    out = base.clone()
    GaussianSource(4).add_(out, 0.5)
    expected = base + 0.5 * GaussianSource(4).standard_normal(10_001, dtype)
    tol = 1e-3 if dtype is torch.float16 else 1e-6
    assert torch.allclose(out, expected, rtol=tol, atol=tol)
    assert not torch.equal(out, base)
