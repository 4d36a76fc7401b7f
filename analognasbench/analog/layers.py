"""Analog Conv2d / Linear layers: crossbar tiles simulated with one native (grouped) convolution.

A layer's weight matrix (out x in*kh*kw, a conv unrolled like ``unfold`` does, input channel slowest) is split
along the inputs into ``n_in`` equal pieces of at most ``max_input_size`` rows and along the outputs into pieces
of at most ``max_output_size`` columns, exactly like AIHWKit's ``TileModuleArray``. Every tile has its own
weight scale (its max|w| maps to 1 / g_max), DAC input range, ADC, output noise and drift compensation factor.

How the forward pass stays one native convolution: the input channels that feed each input tile are gathered
side by side (no copy when tiles align with channels, e.g. 64 channels x 3x3 = 576 rows -> two tiles of 32
channels), each tile's rows become one group of a grouped convolution with ``n_in * out`` output channels, so
the per-tile partial sums come out separately for the per-tile noise and ADC before the digital sum. The
effective (programmed, drifted, compensated) tile weights are computed once per :func:`program` /
:func:`drift_to` and cached; the DAC/ADC steps are folded into them so the conv works directly on integer DAC
codes and produces ADC units, and the per-element work is: scale, clamp, round (DAC); add noise, round, clamp
(ADC); one multiply(-add) to combine the tiles.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from analognasbench.analog import devices
from analognasbench.analog.config import HardwareConfig
from analognasbench.analog.gaussian import GaussianSource, scratch

logger = logging.getLogger(__name__)


class NotProgrammedError(RuntimeError):
    """An inference-time operation needs :func:`program` first."""


def split_sizes(size: int, max_size: int) -> list[int]:
    """Equal pieces of at most ``max_size`` (AIHWKit's ``TileModuleArray.get_split_sizes``)."""
    n = (size + max_size - 1) // max_size
    base, extra = divmod(size, n)
    return [base + (i < extra) for i in range(n)]


@dataclass(frozen=True)
class TileLayout:
    """Where each weight row goes in the grouped-convolution layout."""

    n_in: int
    n_out: int
    group: int
    """Input channels per group (G): the most channels any input tile touches."""
    gather: torch.Tensor | None
    """(n_in*G,) input channel feeding each grouped channel; None when it is the identity."""
    src_rows: torch.Tensor
    """(n_in, G*kh*kw) weight row (unrolled index) for each grouped position; pads point at row 0."""
    mask: torch.Tensor
    """(n_in, 1, G*kh*kw) 1 where the grouped position is a real device of that tile, else 0."""
    rows_per_tile: torch.Tensor
    """(n_in,) number of weight rows of each input tile."""
    out_tile: torch.Tensor
    """(out,) output tile of each output channel."""
    out_slices: tuple[tuple[int, int], ...]
    in_slices: tuple[tuple[int, int], ...]
    """Weight rows (unrolled index) of each input tile."""


def make_layout(in_channels: int, kernel_numel: int, out_features: int, cfg: HardwareConfig) -> TileLayout:
    """Tile layout of a layer with ``in_channels * kernel_numel`` rows and ``out_features`` columns."""
    rows = in_channels * kernel_numel
    in_sizes = split_sizes(rows, cfg.mapping.max_input_size)
    out_sizes = split_sizes(out_features, cfg.mapping.max_output_size)
    starts = [sum(in_sizes[:i]) for i in range(len(in_sizes))]
    lo = [s // kernel_numel for s in starts]
    hi = [(s + n - 1) // kernel_numel for s, n in zip(starts, in_sizes)]
    group = max(h - low + 1 for low, h in zip(lo, hi))
    n_in = len(in_sizes)
    gather = torch.empty(n_in * group, dtype=torch.long)
    src = torch.zeros(n_in, group * kernel_numel, dtype=torch.long)
    mask = torch.zeros(n_in, 1, group * kernel_numel)
    for t, (start, size) in enumerate(zip(starts, in_sizes)):
        for g in range(group):
            channel = min(lo[t] + g, in_channels - 1)
            gather[t * group + g] = channel
            for p in range(kernel_numel):
                row = (lo[t] + g) * kernel_numel + p
                if lo[t] + g < in_channels and start <= row < start + size:
                    src[t, g * kernel_numel + p] = row
                    mask[t, 0, g * kernel_numel + p] = 1.0
    identity = n_in * group == in_channels and torch.equal(gather, torch.arange(in_channels))
    out_tile = torch.repeat_interleave(torch.arange(len(out_sizes)), torch.tensor(out_sizes))
    out_starts = [sum(out_sizes[:j]) for j in range(len(out_sizes))]
    return TileLayout(
        n_in=n_in,
        n_out=len(out_sizes),
        group=group,
        gather=None if identity else gather,
        src_rows=src,
        mask=mask,
        rows_per_tile=torch.tensor(in_sizes, dtype=torch.float32),
        out_tile=out_tile,
        out_slices=tuple((s, s + n) for s, n in zip(out_starts, out_sizes)),
        in_slices=tuple((s, s + n) for s, n in zip(starts, in_sizes)),
    )


def _buffer(slot: str, like: torch.Tensor) -> torch.Tensor:
    """An uninitialised tensor shaped like ``like`` for a temporary that dies within this layer: a reused
    per-thread buffer on CPU (a fresh tensor of tens of MB costs more in page faults than the arithmetic), a
    fresh one elsewhere or when ``like`` is not contiguous (so memory formats stay as they were)."""
    if like.device.type == "cpu" and like.is_contiguous():
        return scratch(slot, like.numel(), like.dtype, like.device).view(like.shape)
    return torch.empty_like(like)


_CHUNK_ELEMENTS = 1 << 19
"""Element-wise chains over a layer's input or output run on batch chunks of about this many elements (2 MB
of float32, so the chain stays in cache instead of streaming the whole tensor from memory once per step)."""


def _chunks(t: torch.Tensor) -> list[tuple[int, int]]:
    """Batch ranges [a, b) of ``t`` of about ``_CHUNK_ELEMENTS`` elements each, every chunk but the last a multiple
    of 4 elements (the fast noise source draws 4 numbers per 64-bit word, so chunked draws equal one draw).

    Off the CPU, one range: a GPU has no such cache to keep the chain in, and every chunk launches its element-wise
    chain's kernels again, which bound the chip readings there (at the release's evaluation batch of 1,000 the
    all-conv3x3 network's 98 layers made 3,556 chunks per forward, counted; at about four kernels a chunk some
    14,000 launches where 98 ranges need about 800)."""
    batch = t.shape[0]
    if t.device.type != "cpu":
        return [(0, batch)]
    per_row = max(1, t.numel() // max(batch, 1))
    step = 4 // math.gcd(per_row, 4)
    rows = max(step, _CHUNK_ELEMENTS // per_row // step * step)
    return [(a, min(a + rows, batch)) for a in range(0, batch, rows)]


def _range_grad(x: torch.Tensor, ranges: torch.Tensor, grad: torch.Tensor, group: int, decay: float,
                min_pct: float) -> torch.Tensor:
    """Each tile's input-range gradient, AIHWKit's ``InputRangeForward``: sum of the negative input gradients
    where inputs clip at +r, minus the positive ones where they clip at -r, times r, plus ``decay * r`` while
    more than ``min_pct`` of the inputs are unclipped. Computed per channel on the layer input (AIHWKit uses the
    unfolded patches); ``grad`` is the gradient of the layer input.

    Same numbers as the plain ``((x >= r) * grad).clamp(max=0) - ((x <= -r) * grad).clamp(min=0)`` (up to the
    sign of zeros), with the side of each input as one float tensor ``d = [x >= r] - [x <= -r]`` and
    ``min(d * grad, 0)`` in reused buffers; the unclipped fraction is ``1 - [x >= r] - [x <= -r]`` counted exactly
    (inputs that are NaN count as unclipped here, not in the plain form). Both assume r > 0: a range of 0 has
    already made the forward non-finite (its input scale is 1/r), and checking for one would read a value back
    to the host, a CUDA synchronisation, on every backward of every layer."""
    shape = [1, -1] + [1] * (x.dim() - 2)
    r = ranges.repeat_interleave(group).view(shape)
    dims = [d for d in range(x.dim()) if d != 1]
    side = torch.ge(x, r, out=_buffer("range-upper", grad))
    lower = torch.le(x, -r, out=_buffer("range-lower", grad))
    if decay > 0:
        n = x.numel() // x.shape[1]
        # counts of 0/1 values: exact in float32 below 2**24 per channel (sum(dtype=float64) converts first: slow)
        count_dtype = grad.dtype if n < 2**24 else torch.float64
        clipped = side.sum(dim=dims, dtype=count_dtype) + lower.sum(dim=dims, dtype=count_dtype)
        inside = (n - clipped).to(grad.dtype).div_(n)  # = mean of the 0/1 indicator, as torch's mean computes it
    side.sub_(lower)
    per_channel = torch.mul(side, grad, out=lower).clamp_(max=0.0)
    g = per_channel.sum(dim=dims).view(-1, group).sum(1) * ranges
    if decay > 0:
        g = g + decay * ranges * (inside.view(-1, group).mean(1) > min_pct).to(grad.dtype)
    return g


class _InputDAC(torch.autograd.Function):
    """Training-time input stage of a layer: ``v = x * scale`` (input range and DAC step), then round and clamp
    to [-bound, bound], with a straight-through gradient through round and clamp (the gradient of ``x`` is
    ``grad * scale``). When ``learn``, gives each tile's input range AIHWKit's custom gradient
    (:func:`_range_grad`). One graph node instead of four, and the rounding happens in place."""

    @staticmethod
    def forward(ctx, x, scale, ranges, quantise: bool, do_round: bool, bound: float | None, learn: bool,
                group: int, decay: float, min_pct: float):  # type: ignore[override]
        v = torch.mul(x, scale)
        if quantise:
            if do_round:
                v.round_()
            if bound is not None:
                v.clamp_(-bound, bound)
        ctx.learn = learn
        ctx.group, ctx.decay, ctx.min_pct = group, decay, min_pct
        ctx.save_for_backward(scale, x if learn else None, ranges if learn else None)
        return v

    @staticmethod
    def backward(ctx, grad):  # type: ignore[override]
        scale, x, ranges = ctx.saved_tensors
        grad_x = grad * scale
        g = _range_grad(x, ranges, grad_x, ctx.group, ctx.decay, ctx.min_pct) if ctx.learn else None
        return grad_x, None, g, None, None, None, None, None, None, None


class _OutputADC(torch.autograd.Function):
    """Training-time output stage: ``y + noise_std * N(0, 1)``, round (``do_round``), clamp to [-bound, bound],
    times ``scale`` (ADC units back to activations; None: left to the caller), with a straight-through gradient
    through noise, round and clamp (the gradient of ``y`` is ``grad * scale``). The noise is drawn here, after
    the convolution, so the generator's call order is unchanged; every step is in place on the noise tensor."""

    @staticmethod
    def forward(ctx, y, scale, source: GaussianSource, noise_std: float, do_round: bool,
                bound: float | None):  # type: ignore[override]
        if noise_std > 0:
            out = source.standard_normal(y.numel(), y.dtype).view(y.shape).mul_(noise_std).add_(y)
            if do_round:
                out.round_()
        else:
            out = y.round() if do_round else y.clone()
        if bound is not None:
            out.clamp_(-bound, bound)
        if scale is not None:
            out.mul_(scale)
        ctx.save_for_backward(scale)
        return out

    @staticmethod
    def backward(ctx, grad):  # type: ignore[override]
        (scale,) = ctx.saved_tensors
        return (grad * scale if scale is not None else grad), None, None, None, None, None


class AnalogLayer(nn.Module):
    """Common machinery of :class:`AnalogConv2d` and :class:`AnalogLinear` (a weight of shape
    ``(out, in, *kernel)``, digital bias, tiles, device state, noise sources)."""

    def __init__(
        self,
        weight: torch.Tensor,
        bias: torch.Tensor | None,
        config: HardwareConfig,
        noise_seed: int = 0,
    ) -> None:
        super().__init__()
        self.config = config
        self.weight = nn.Parameter(weight.detach().clone())
        self.bias = nn.Parameter(bias.detach().clone()) if bias is not None else None
        out_features, in_channels = weight.shape[:2]
        self.kernel_size = tuple(weight.shape[2:])
        self.kernel_numel = math.prod(self.kernel_size) if self.kernel_size else 1
        layout = make_layout(in_channels, self.kernel_numel, out_features, config)
        self.layout = layout
        device = weight.device
        for name in ("src_rows", "mask", "rows_per_tile", "out_tile"):
            self.register_buffer(f"_{name}", getattr(layout, name).to(device), persistent=False)
        self.register_buffer(
            "_gather", layout.gather.to(device) if layout.gather is not None else None, persistent=False
        )
        ir = config.input_range
        self.input_range = nn.Parameter(
            torch.full((layout.n_in,), ir.init_value, device=device, dtype=weight.dtype),
            requires_grad=ir.enable and ir.learn,
        )
        self.register_buffer("input_range_updates", torch.zeros((), device=device, dtype=torch.long))
        self._updates_read: tuple[torch.Tensor, int, int] | None = None  # see _range_updates
        self._ranges_on_device = False  # see keep_initialising_on_device
        #: Training forwards of this layer object (a cell's pruned edges never run; not saved).
        self.training_forwards = 0
        self.noise = GaussianSource(noise_seed, device)
        self._state: devices.ProgrammedState | None = None
        self._seed: int | None = None
        self._time: float | None = None
        self._weights_t: torch.Tensor | None = None  # tile-normalised weights at the current time
        self._comp_ref: torch.Tensor | None = None  # (n_in, n_out) drift compensation baseline
        self._comp: torch.Tensor | None = None  # (n_in, n_out) current compensation factor
        self._version: tuple[int, int] | None = None  # weight version at program()
        self._cache: tuple | None = None
        self._calibrating = False

    # ------------------------------------------------------------------ geometry helpers
    @property
    def in_channels(self) -> int:
        return self.weight.shape[1]

    @property
    def out_features(self) -> int:
        return self.weight.shape[0]

    def _grouped(self, weight: torch.Tensor) -> torch.Tensor:
        """(out, in, *k) -> (n_in, out, G*kk) tile layout, zeros where no device exists."""
        flat = weight.reshape(self.out_features, -1)
        return flat[:, self._src_rows].permute(1, 0, 2) * self._mask

    def _tile_reduce(self, per_channel: torch.Tensor, op: str) -> torch.Tensor:
        """(n_in, out) per-column statistic -> (n_in, n_out) per tile (``op`` = 'amax' or 'sum')."""
        cols = [getattr(per_channel[:, a:b], op)(dim=1) for a, b in self.layout.out_slices]
        return torch.stack(cols, dim=1)

    def _expand_tiles(self, per_tile: torch.Tensor) -> torch.Tensor:
        """(n_in, n_out) -> (n_in, out, 1)."""
        return per_tile[:, self._out_tile].unsqueeze(-1)

    def tile_absmax(self, grouped: torch.Tensor) -> torch.Tensor:
        """(n_in, n_out) max |w| of each tile of a grouped weight."""
        return self._tile_reduce(grouped.abs().amax(dim=2), "amax")

    def _alpha(self) -> torch.Tensor:
        """(n_in, out, 1) tile weight scale: the tile's max|W| (clamped away from 0)."""
        with torch.no_grad():
            return self._expand_tiles(self.tile_absmax(self._grouped(self.weight)).clamp(min=1e-12))

    def _ranges(self) -> torch.Tensor:
        """(n_in,) input ranges used now (1 when input ranges are disabled)."""
        if self.config.input_range.enable:
            return self.input_range.detach().abs()
        return torch.ones_like(self.input_range.detach())

    # ------------------------------------------------------------------ device state
    @property
    def is_programmed(self) -> bool:
        return self._state is not None

    @property
    def programmed_state(self) -> devices.ProgrammedState:
        """The programmed chip's state for this layer (tile layout ``(n_in, out, G*kh*kw)``, tile-normalised)."""
        if self._state is None:
            raise NotProgrammedError("the layer has not been programmed; call program(model, seed)")
        return self._state

    @property
    def weights_at_time(self) -> torch.Tensor:
        """Tile-normalised weights read at the last :func:`drift_to` time (programmed weights before that)."""
        if self._weights_t is None:
            raise NotProgrammedError("the layer has not been programmed; call program(model, seed)")
        return self._weights_t

    def invalidate(self) -> None:
        """Forget cached effective weights (after a config, weight or range change)."""
        self._cache = None

    @torch.no_grad()
    def program(self, seed: int, gen: torch.Generator) -> None:
        """Program the current weights onto a fresh chip (programming noise + device random state)."""
        self._seed = seed
        w_norm = self._grouped(self.weight) / self._alpha()
        noise_cfg = self.config.noise
        if noise_cfg is None:
            self._state = devices.ProgrammedState(w_norm.clone(), torch.empty(0), torch.empty(0))
        else:
            self._state = devices.program(noise_cfg, w_norm, self._mask, gen)
        self._comp_ref = self._readout(self._state.weights) if self._compensates() else None
        self._version = (self.weight._version, id(self.weight))
        self._weights_t = self._state.weights
        self._comp = None
        self._time = None
        self.invalidate()

    @torch.no_grad()
    def drift_to(self, t: float, gen: torch.Generator) -> None:
        """Read the programmed chip at ``t`` seconds after programming (drift, fresh read noise, compensation)."""
        if self._state is None:
            raise NotProgrammedError("drift_to() needs program() first: there is no programmed chip to drift")
        self._check_version()
        noise_cfg = self.config.noise
        if noise_cfg is None:
            self._weights_t = self._state.weights
        else:
            def absmax(w: torch.Tensor) -> torch.Tensor:
                return self._expand_tiles(self.tile_absmax(w))

            self._weights_t = devices.drift(noise_cfg, self._state, t, self._mask, absmax, gen)
        if self._compensates():
            assert self._comp_ref is not None
            self._comp = self._comp_ref / self._readout(self._weights_t)
        self._time = float(t)
        self.invalidate()

    def _compensates(self) -> bool:
        return self.config.drift_compensation

    def _readout(self, w_norm: torch.Tensor) -> torch.Tensor:
        """AIHWKit's ``GlobalDriftCompensation`` readout per tile: mean |output| of the non-ideal forward of the
        identity matrix (each device read alone through DAC, output noise and ADC), clamped at 1e-4."""
        io = self.config.io
        values = w_norm
        if not io.is_perfect:
            one = 1.0
            if io.inp_step is not None:
                one = round(1.0 / io.inp_step) * io.inp_step
            one = min(one, io.inp_bound)
            step = io.out_step or 1.0
            values = w_norm * (one / step)
            values = self.noise.add_(values.contiguous(), io.out_noise / step)
            if io.out_step is not None:
                values = values.round_()
            if io.out_bound is not None:
                values = values.clamp_(-io.out_bound / step, io.out_bound / step)
            values = values * step
        sums = self._tile_reduce((values.abs() * self._mask).sum(dim=2), "sum")
        counts = self._tile_reduce(self._mask.expand_as(values).sum(dim=2), "sum")
        return (sums / counts).clamp(min=1e-4)

    def _check_version(self) -> None:
        if self._version is not None and self._version != (self.weight._version, id(self.weight)):
            raise NotProgrammedError(
                "the layer's weights changed after program(); call program() again to program the new weights"
            )

    # ------------------------------------------------------------------ forward
    def _conv(self, x: torch.Tensor, weight: torch.Tensor, groups: int) -> torch.Tensor:
        raise NotImplementedError

    def _to_4d(self, x: torch.Tensor) -> tuple[torch.Tensor, tuple]:
        return x, ()

    def _from_4d(self, y: torch.Tensor, meta: tuple) -> torch.Tensor:
        return y

    def _unfolded_moments(self, xg: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per input tile: sum, sum of squares and count of the tile's unfolded input patches (padding included),
        float64. The patch sums are a ones-kernel grouped convolution, which is linear, so the batch is summed
        first and the convolution runs on one image: ``sum_b conv(x_b) = conv(sum_b x_b)``."""
        n_in, group = self.layout.n_in, self.layout.group
        kernel = self._mask.view(n_in, group, *self.kernel_size) if self.kernel_size else self._mask.view(
            n_in, group, 1, 1)
        kernel = kernel.to(torch.float64)
        total = xg.sum(dim=0, keepdim=True).double()  # (sum(dtype=float64) would convert the batch first: slow)
        squares = torch.mul(xg, xg, out=_buffer("moments", xg)).sum(dim=0, keepdim=True).double()
        s1 = self._conv(total, kernel, n_in)
        s2 = self._conv(squares, kernel, n_in)
        positions = s1.numel() // n_in * xg.shape[0]
        dims = [d for d in range(s1.dim()) if d != 1]
        return s1.sum(dim=dims), s2.sum(dim=dims), self._rows_per_tile.to(torch.float64) * positions

    def _range_updates(self) -> int:
        """``input_range_updates`` as an int, read from its device only when the buffer changed (tracked by its
        version counter, which every in-place write, ``load_state_dict`` included, advances): asked on every
        training forward, and on CUDA each read is a synchronisation that stalls the step."""
        t = self.input_range_updates
        read = self._updates_read
        if read is None or read[0] is not t or read[1] != t._version:
            read = self._updates_read = (t, t._version, int(t))
        return read[2]

    @property
    def initialising_ranges(self) -> bool:
        """Whether the next training forward still initialises the input ranges from its data."""
        ir = self.config.input_range
        return ir.enable and (self._ranges_on_device or self._range_updates() < ir.init_from_data)

    @property
    def reads_back_in_training(self) -> bool:
        """Whether the next training forward reads a value back to the host (a synchronisation on CUDA): while the
        input ranges initialise on the host. A training step can be captured in a CUDA graph only once this is False
        for every layer (:mod:`analognasbench.pipeline.steps`)."""
        return not self._ranges_on_device and self.initialising_ranges

    def keep_initialising_on_device(self) -> None:
        """Go on with the input ranges' initialisation without reading anything back to the host: each training
        forward then updates the ranges and the counter on the device, where the update is due (the same numbers as
        the host's decision gives), for good. A layer does this itself once ``init_from_data`` training forwards
        have not finished its initialisation (some tile's inputs had no spread, e.g. a convolution fed only by a
        cell's zero edges; AIHWKit skips those updates too), so such a layer does not synchronise a GPU on every
        step, and its step can be captured in a CUDA graph."""
        if self.initialising_ranges:
            self._ranges_on_device = True

    @torch.no_grad()
    def _init_ranges_from_data(self, xg: torch.Tensor, force: bool = False) -> None:
        """AIHWKit's input range data initialisation for one training forward (``force``: calibration)."""
        ir = self.config.input_range
        if not ir.enable or (not force and not self.initialising_ranges):
            return
        if not force and self.training_forwards > ir.init_from_data:
            self.keep_initialising_on_device()  # still initialising after its init_from_data forwards
        s1, s2, n = self._unfolded_moments(xg)
        std = ((s2 - s1 * s1 / n) / (n - 1)).clamp(min=0).sqrt().to(self.input_range.dtype)
        if self._ranges_on_device and not force:
            updates = self.input_range_updates
            due = (std > 0).all() & (updates < ir.init_from_data)
            idx = updates.to(std.dtype)
            new = ((self.input_range.data * idx + ir.init_std_alpha * std) / (idx + 1)).abs()
            self.input_range.data.copy_(torch.where(due, new, self.input_range.data))
            updates += due
            self.invalidate()
            return
        if bool((std > 0).all()):
            idx = float(self.input_range_updates)
            self.input_range.data = ((self.input_range.data * idx + ir.init_std_alpha * std) / (idx + 1)).abs()
            self.input_range_updates += 1
            self.invalidate()

    def _effective(self, training: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Conv weight (n_in*out, G, *k) in ADC units per DAC code, input scale per grouped channel, output
        scale (n_in, out) from ADC units back to activations."""
        io = self.config.io
        n_in, group = self.layout.n_in, self.layout.group
        alpha = self._alpha()
        ranges = self._ranges()
        inp_step = 1.0 if io.is_perfect or io.inp_step is None else io.inp_step
        out_step = 1.0 if io.is_perfect or io.out_step is None else io.out_step
        if training or self._state is None:
            grouped = self._grouped(self.weight)
            if training and self.config.hwt.weight_noise > 0:
                noise = self.noise.standard_normal(grouped.numel(), grouped.dtype).view(grouped.shape)
                grouped = grouped + noise * (self.config.hwt.weight_noise * alpha) * self._mask
            w_norm = grouped / alpha
            comp = None
        else:
            assert self._weights_t is not None
            w_norm = self._weights_t
            comp = self._comp
        conv_w = w_norm * (inp_step / out_step)
        conv_w = conv_w.reshape(n_in * self.out_features, group, *self.kernel_size)
        in_scale = (1.0 / (ranges * inp_step)).repeat_interleave(group)
        out_scale = alpha.squeeze(-1) * (ranges * out_step).view(-1, 1)
        if comp is not None and not training:
            out_scale = out_scale * comp[:, self._out_tile]
        return conv_w, in_scale, out_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x4, meta = self._to_4d(x)
        if self.noise.device != x4.device:
            self.noise.to(x4.device)
        io = self.config.io
        n_in = self.layout.n_in
        no_grad = not torch.is_grad_enabled()  # no graph: temporaries may be reused and outputs changed in place
        training = self.training and not no_grad
        if not self.training:
            if self._state is not None:
                self._check_version()
            key = (self.weight._version, self.input_range._version, id(self._weights_t), id(self._comp))
            if self._cache is None or self._cache[0] != key:
                with torch.no_grad():
                    self._cache = (key, *self._effective(False))
            conv_w, in_scale, out_scale = self._cache[1:]
        xg = x4 if self._gather is None else x4.index_select(1, self._gather)
        if self._calibrating:
            self._init_ranges_from_data(xg.detach(), force=True)
        if self.training:
            self.training_forwards += 1
            self._init_ranges_from_data(xg.detach())
            conv_w, in_scale, out_scale = self._effective(True)  # ranges may have just been initialised
        ir = self.config.input_range
        shape = [1, -1] + [1] * (xg.dim() - 2)
        quantise = ir.enable or not io.is_perfect
        inp_step = io.inp_step if (io.inp_step is not None and not io.is_perfect) else 1.0
        clip = 1.0 / inp_step if ir.enable else None
        dac = None if io.is_perfect else io.inp_bound / inp_step
        bound = min(b for b in (clip, dac) if b is not None) if (clip or dac) else None
        do_round = io.inp_step is not None and not io.is_perfect
        if training:
            learn = ir.enable and self.input_range.requires_grad
            v = _InputDAC.apply(xg, in_scale.view(shape), self.input_range, quantise, do_round, bound, learn,
                                self.layout.group, ir.decay, ir.input_min_percentage)
        else:
            # without a graph the scaled input only feeds the convolution: a reused buffer, filled by batch
            # chunks that stay in cache through the three element-wise steps
            v = _buffer("dac", xg) if no_grad else xg * in_scale.view(shape)
            for a, b in _chunks(xg) if no_grad else [(0, xg.shape[0])]:
                part = torch.mul(xg[a:b], in_scale.view(shape), out=v[a:b]) if no_grad else v
                if quantise:
                    if bound is not None:
                        part.clamp_(-bound, bound)
                    if do_round:
                        part.round_()
                    if do_round and dac is not None and clip is not None and dac < clip:
                        part.clamp_(-dac, dac)
        y = self._conv(v, conv_w, n_in)
        fused_scale = False
        if not io.is_perfect:
            out_step = io.out_step or 1.0
            noise_std = io.out_noise / out_step
            bound = io.out_bound / out_step if io.out_bound is not None else None
            if training:
                fused_scale = n_in == 1
                scale = out_scale.view(1, self.out_features, *[1] * (y.dim() - 2)) if fused_scale else None
                y = _OutputADC.apply(y, scale, self.noise, noise_std, io.out_step is not None, bound)
            else:  # in place, by batch chunks that stay in cache through noise, ADC, output scale and bias
                fused_scale = no_grad
                spatial = [1] * (y.dim() - 2)
                scale = out_scale.view(n_in, 1, self.out_features, *spatial) if fused_scale else None
                # several input tiles: each chunk's tiles are scaled and summed into the result right away
                result = y if n_in == 1 or not no_grad else y.new_empty(y.shape[0], self.out_features, *y.shape[2:])
                for a, b in _chunks(y) if no_grad else [(0, y.shape[0])]:
                    part = y[a:b] if no_grad else y
                    if io.out_noise > 0:
                        self.noise.add_(part, noise_std)
                    if io.out_step is not None:
                        part.round_()
                    if bound is not None:
                        part.clamp_(-bound, bound)
                    if fused_scale:
                        assert scale is not None
                        tiles = part.view(b - a, n_in, self.out_features, *part.shape[2:])
                        into = result[a:b]
                        if n_in == 1:
                            into.mul_(scale[0])
                        else:
                            torch.mul(tiles[:, 0], scale[0], out=into)
                            for t in range(1, n_in):  # (not addcmul_: its fused multiply-add rounds differently)
                                tiles[:, t].mul_(scale[t])
                                into.add_(tiles[:, t])
                        if self.bias is not None:
                            into.add_(self.bias.view(shape))
                if fused_scale:
                    return self._from_4d(result, meta)
        if not fused_scale:
            y = self._combine(y, out_scale, inplace=no_grad)
        if self.bias is not None:
            y = y.add_(self.bias.view(shape)) if no_grad else y + self.bias.view(shape)
        return self._from_4d(y, meta)

    def _combine(self, y: torch.Tensor, out_scale: torch.Tensor, inplace: bool = False) -> torch.Tensor:
        """Scale each tile's ADC output back to activations and sum the input tiles (``inplace``: ``y`` is this
        layer's own conv output, not needed for a gradient)."""
        n_in, out = self.layout.n_in, self.out_features
        spatial = [1] * (y.dim() - 2)
        if n_in == 1:
            return y.mul_(out_scale.view(1, out, *spatial)) if inplace else y * out_scale.view(1, out, *spatial)
        # summed tile by tile, in order: the same rounding as the no-grad pass's per-chunk sums
        tiles, scale = y.view(y.shape[0], n_in, out, *y.shape[2:]), out_scale.view(n_in, 1, out, *spatial)
        total = tiles[:, 0] * scale[0]
        for t in range(1, n_in):
            total = total + tiles[:, t] * scale[t]
        return total

    # ------------------------------------------------------------------ HWT helpers
    @torch.no_grad()
    def clip_weights_(self) -> None:
        """Clip each tile's weights to +-clip_sigma * std(tile) (AIHWKit ``LAYER_GAUSSIAN``, population std)."""
        sigma = self.config.hwt.clip_sigma
        if sigma is None:
            return
        flat = self.weight.view(self.out_features, -1)
        for a, b in self.layout.in_slices:
            for c, d in self.layout.out_slices:
                tile = flat[c:d, a:b]
                bound = sigma * tile.std(unbiased=False)
                tile.clamp_(-bound, bound)  # tensor bounds: no read back to the host (a CUDA synchronisation)
        self.invalidate()

    def extra_repr(self) -> str:
        state = "unprogrammed" if self._state is None else f"programmed(seed={self._seed}, t={self._time})"
        return f"tiles={self.layout.n_in}x{self.layout.n_out}, config={self.config.name!r}, {state}"


class AnalogConv2d(AnalogLayer):
    """Analog counterpart of :class:`torch.nn.Conv2d` (groups=1, zero padding)."""

    def __init__(self, conv: nn.Conv2d, config: HardwareConfig, noise_seed: int = 0) -> None:
        if conv.groups != 1:
            raise ValueError(f"grouped convolutions (groups={conv.groups}) cannot be mapped to analog tiles")
        if conv.padding_mode != "zeros":
            raise ValueError(f"only zero padding is supported, got padding_mode={conv.padding_mode!r}")
        super().__init__(conv.weight, conv.bias, config, noise_seed)
        self.stride, self.padding, self.dilation = conv.stride, conv.padding, conv.dilation

    def _conv(self, x: torch.Tensor, weight: torch.Tensor, groups: int) -> torch.Tensor:
        return F.conv2d(x, weight, None, self.stride, self.padding, self.dilation, groups)

    def to_digital(self) -> nn.Conv2d:
        out, inp, kh, kw = self.weight.shape
        conv = nn.Conv2d(inp, out, (kh, kw), self.stride, self.padding, self.dilation, bias=self.bias is not None,
                         device=self.weight.device, dtype=self.weight.dtype)
        conv.weight.data.copy_(self.weight.data)
        if self.bias is not None:
            conv.bias.data.copy_(self.bias.data)
        return conv


class AnalogLinear(AnalogLayer):
    """Analog counterpart of :class:`torch.nn.Linear` (computed as a 1x1 convolution)."""

    def __init__(self, linear: nn.Linear, config: HardwareConfig, noise_seed: int = 0) -> None:
        super().__init__(linear.weight.unsqueeze(-1).unsqueeze(-1), linear.bias, config, noise_seed)

    def _conv(self, x: torch.Tensor, weight: torch.Tensor, groups: int) -> torch.Tensor:
        return F.conv2d(x, weight.view(weight.shape[0], weight.shape[1], 1, 1), None, 1, 0, 1, groups)

    def _to_4d(self, x: torch.Tensor) -> tuple[torch.Tensor, tuple]:
        lead = x.shape[:-1]
        return x.reshape(-1, x.shape[-1], 1, 1), tuple(lead)

    def _from_4d(self, y: torch.Tensor, meta: tuple) -> torch.Tensor:
        return y.reshape(*meta, y.shape[1])

    def to_digital(self) -> nn.Linear:
        out, inp = self.weight.shape[:2]
        lin = nn.Linear(inp, out, bias=self.bias is not None, device=self.weight.device, dtype=self.weight.dtype)
        lin.weight.data.copy_(self.weight.data.view(out, inp))
        if self.bias is not None:
            lin.bias.data.copy_(self.bias.data)
        return lin
