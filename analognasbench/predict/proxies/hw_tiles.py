"""Hardware-mapping features from the network's own layer shapes (no hardware model needed).

Each conv/linear layer the forward pass reaches is a matrix of fan-in (in-channels x kernel area) rows and
out-channel columns, split into crossbar tiles of at most ``max_input_size`` x ``max_output_size`` (the
preset's mapping, 512 x 512 for the paper's chip). Programming and read noise add per-tile errors, and a tile's
output noise is relative to a sum over its rows, so the number of tiles and the rows per tile describe how the
chip sees the network:

* ``hw_tiles``: crossbar tiles of all reached layers;
* ``hw_rows_mean``: mean rows used per tile, weighted by the layers' multiply-accumulates per image;
* ``hw_analog_macs``: multiply-accumulates per image of reached layers (unlike ``flops``, unused edges excluded).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from analognasbench.predict.context import weight_layers
from analognasbench.predict.registry import register_proxy


def _mapping(ctx) -> dict[str, float]:
    if "hw" in ctx.cache:
        return ctx.cache["hw"]
    from analognasbench.analog import presets

    mapping = presets.get(ctx.config.hardware_preset).mapping
    net = ctx.network().eval()
    reached: list[tuple[nn.Module, int]] = []
    handles = [m.register_forward_hook(lambda mod, _i, out: reached.append((mod, out[0].numel())))
               for m in weight_layers(net)]
    c = ctx.config
    try:
        with torch.no_grad():
            net(torch.zeros(1, 3, c.image_size, c.image_size, device=ctx.device))
    finally:
        for h in handles:
            h.remove()
    tiles = 0
    weighted = macs_total = 0.0
    for module, outputs in reached:
        w = module.weight
        fan_in, fan_out = w[0].numel(), w.shape[0]
        n_in, n_out = math.ceil(fan_in / mapping.max_input_size), math.ceil(fan_out / mapping.max_output_size)
        tiles += n_in * n_out
        rows = fan_in / n_in
        macs = outputs * fan_in
        weighted += rows * macs
        macs_total += macs
    result = {"tiles": float(tiles), "rows_mean": weighted / macs_total, "macs": macs_total}
    ctx.cache["hw"] = result
    return result


@register_proxy("hw_tiles", needs_data=False, description="crossbar tiles of the reached conv/linear layers")
def hw_tiles(ctx) -> float:
    return _mapping(ctx)["tiles"]


@register_proxy("hw_rows_mean", needs_data=False, description="MAC-weighted mean rows per crossbar tile")
def hw_rows_mean(ctx) -> float:
    return _mapping(ctx)["rows_mean"]


@register_proxy("hw_analog_macs", needs_data=False, description="multiply-accumulates of reached layers per image")
def hw_analog_macs(ctx) -> float:
    return _mapping(ctx)["macs"]
