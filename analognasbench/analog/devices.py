"""Device noise models: program a tile's normalised weights onto conductance pairs, then drift them to time t.

Two-phase interface (as in AIHWKit's noise models): :func:`program` draws programming noise and the per-device
random state once per chip; :func:`drift` maps that state to the weights read at inference time t, any number of
times. Weights here are *tile-normalised* (each tile's largest |w| is 1) and one differential pair encodes a
weight: g+ = clip(w, 0, 1) g_max, g- = clip(-w, 0, 1) g_max; both devices of the pair get noise, so a zero
weight reads as a small random value.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from analognasbench.analog.config import DeviceNoiseConfig, PCMNoiseConfig, RRAMNoiseConfig

_ZERO_CLIP = 1e-7

TileAbsMax = Callable[[torch.Tensor], torch.Tensor]
"""Maps a weight tensor to the max |w| of each element's tile, broadcast to the tensor's shape."""


@dataclass
class ProgrammedState:
    """What a programmed chip remembers for one layer (tensors shaped like the normalised weights)."""

    weights: torch.Tensor
    """Weights read right after programming (t = 0, no read noise), tile-normalised."""
    plus: torch.Tensor
    """PCM: drift exponents nu of the g+ devices. RRAM: target conductances g_T+ (uS)."""
    minus: torch.Tensor
    """PCM: drift exponents of the g- devices. RRAM: target conductances g_T- (uS)."""
    z_plus: torch.Tensor | None = None
    """RRAM only: the g+ devices' standard-normal deviations."""
    z_minus: torch.Tensor | None = None


def _poly(coeffs: tuple[float, ...], x: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(x)
    for c in reversed(coeffs):
        out = out * x + c
    return out


def pcm_programming_std(cfg: PCMNoiseConfig, g_target: torch.Tensor) -> torch.Tensor:
    """sigma_P(g_T) in uS (before ``prog_noise_scale``)."""
    return _poly(cfg.prog_coeff, g_target / cfg.g_max)


def pcm_drift_mean_std(cfg: PCMNoiseConfig, g_target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(mu, sigma) of the drift exponent nu = |N(mu, sigma)| for target conductances ``g_target`` (uS)."""
    g_rel = (g_target / cfg.g_max).abs().clamp(min=_ZERO_CLIP)
    mu = (-0.0155 * torch.log(g_rel) + 0.0244).clamp(0.049, 0.1)
    sigma = (-0.0125 * torch.log(g_rel) - 0.0059).clamp(0.008, 0.045)
    return mu, sigma


def pcm_read_noise_std(cfg: PCMNoiseConfig, g_prog: torch.Tensor, t: float) -> torch.Tensor:
    """Relative std of the accumulated 1/f read noise at t seconds after programming."""
    q = (0.0088 / ((g_prog.abs() / cfg.g_max) ** 0.65).clamp(min=1e-3)).clamp(max=0.2)
    t_abs = t + cfg.t0
    return q * math.sqrt(math.log((t_abs + cfg.t_read) / (2 * cfg.t_read)))


def _split(weights: torch.Tensor, g_max: float) -> tuple[torch.Tensor, torch.Tensor]:
    return (weights * g_max).clamp(0, g_max), (-weights * g_max).clamp(0, g_max)


def _randn(like: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    return torch.randn(like.shape, generator=gen, device=like.device, dtype=like.dtype)


def program(
    cfg: DeviceNoiseConfig, weights: torch.Tensor, mask: torch.Tensor, gen: torch.Generator
) -> ProgrammedState:
    """Program tile-normalised ``weights`` (devices where ``mask`` is 0 do not exist and read 0)."""
    g_plus, g_minus = _split(weights, cfg.g_max)
    if isinstance(cfg, PCMNoiseConfig):
        read = []
        for g in (g_plus, g_minus):
            noisy = g + cfg.prog_noise_scale * pcm_programming_std(cfg, g) * _randn(g, gen)
            read.append(noisy.clamp_(min=0.0))
        nus = []
        for g in (g_plus, g_minus):
            mu, sigma = pcm_drift_mean_std(cfg, g)
            nus.append((mu + sigma * _randn(g, gen)).abs_() * cfg.drift_scale)
        w_prog = (read[0] - read[1]) / cfg.g_max * mask
        return ProgrammedState(w_prog, nus[0], nus[1])
    if isinstance(cfg, RRAMNoiseConfig):
        z_plus, z_minus = _randn(g_plus, gen), _randn(g_minus, gen)
        state = ProgrammedState(torch.empty(0), g_plus, g_minus, z_plus, z_minus)
        state.weights = _rram_read(cfg, state, 0.0) * mask
        return state
    raise TypeError(f"unsupported device noise config {type(cfg).__name__}")


def rram_std(cfg: RRAMNoiseConfig, g_target: torch.Tensor, t: float) -> torch.Tensor:
    """Std (uS) of g - g_T at t seconds, interpolated linearly in log10(t) between the fitted times."""
    times = cfg.times
    x = g_target / cfg.g_max
    scale = 1.0
    if t <= times[0] or len(times) == 1:
        return _poly(cfg.coeffs[0], x) * scale
    if t >= times[-1]:
        return _poly(cfg.coeffs[-1], x) * scale
    k = next(i for i in range(1, len(times)) if t <= times[i])
    frac = (math.log10(t) - math.log10(times[k - 1])) / (math.log10(times[k]) - math.log10(times[k - 1]))
    return ((1 - frac) * _poly(cfg.coeffs[k - 1], x) + frac * _poly(cfg.coeffs[k], x)) * scale


def _rram_read(cfg: RRAMNoiseConfig, state: ProgrammedState, t: float) -> torch.Tensor:
    assert state.z_plus is not None and state.z_minus is not None
    g = [
        (g_t + cfg.noise_scale * rram_std(cfg, g_t, t) * z).clamp_(min=0.0)
        for g_t, z in ((state.plus, state.z_plus), (state.minus, state.z_minus))
    ]
    return (g[0] - g[1]) / cfg.g_max


def drift(
    cfg: DeviceNoiseConfig,
    state: ProgrammedState,
    t: float,
    mask: torch.Tensor,
    tile_absmax: TileAbsMax,
    gen: torch.Generator,
) -> torch.Tensor:
    """Tile-normalised weights read at ``t`` seconds after programming (fresh read noise from ``gen``).

    PCM follows AIHWKit's ``PCMLikeNoiseModel.apply_drift_noise`` exactly: the programmed weights are mapped to
    conductances again with their own tile max (max|w_prog| -> g_max), each device decays as
    g (t/t0 + 1)^-nu, then 1/f read noise with std |g_D| Q(g) sqrt(ln((t + t0 + t_read)/(2 t_read))) is added.
    """
    if isinstance(cfg, PCMNoiseConfig):
        scale = cfg.g_max / tile_absmax(state.weights).clamp(min=_ZERO_CLIP)
        g_plus = (state.weights * scale).clamp(0, cfg.g_max)
        g_minus = (-state.weights * scale).clamp(0, cfg.g_max)
        factor = ((t + cfg.t0) / cfg.t0) if t > 0 else 1.0
        read = []
        for g, nu in ((g_plus, state.plus), (g_minus, state.minus)):
            g_drift = g * factor ** (-nu) if t > 0 else g.clone()
            sigma = pcm_read_noise_std(cfg, g, t) * cfg.read_noise_scale
            read.append((g_drift + g_drift.abs() * sigma * _randn(g, gen)).clamp_(min=0.0))
        return (read[0] - read[1]) / scale * mask
    if isinstance(cfg, RRAMNoiseConfig):
        return _rram_read(cfg, state, t) * mask
    raise TypeError(f"unsupported device noise config {type(cfg).__name__}")
