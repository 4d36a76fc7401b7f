"""AIMC output perturbation: how much the simulated chip changes the initialised network's outputs.

The initialised network's BatchNorm statistics are first estimated on the proxy minibatches (so evaluation mode
sees data-scaled activations, as a trained network's would). Its digital logits are compared with those of the
same weights converted to analog (``to_analog`` with the config's preset), programmed on one seeded chip
(``program``: programming noise) and read at t = 0 (``drift_to(0)``: read noise, no drift) and at
``drift_time_s`` (one day: drift, read noise, global drift compensation). Four proxies:

* ``aimc_err_t0`` / ``aimc_err_1d``: relative logit error ||y_analog - y_digital|| / ||y_digital|| (lower: more
  robust), over all minibatches;
* ``aimc_agree_t0`` / ``aimc_agree_1d``: fraction of images whose predicted class the chip leaves unchanged.
"""

from __future__ import annotations

import torch
from torch import nn

from analognasbench.predict.registry import register_proxy


def _perturbation(ctx) -> dict[str, float]:
    if "aimc" in ctx.cache:
        return ctx.cache["aimc"]
    from analognasbench import analog

    net = ctx.network()
    bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative average over the minibatches
    with torch.no_grad():
        for x, _ in ctx.batches:
            net(x)
        net.eval()
        digital = [net(x) for x, _ in ctx.batches]
        chip = analog.to_analog(net, ctx.config.hardware_preset).eval()
        analog.program(chip, ctx.config.chip_seed)
        result: dict[str, float] = {}
        for label, t in (("t0", 0.0), ("1d", ctx.config.drift_time_s)):
            analog.drift_to(chip, t)
            outs = [chip(x) for x, _ in ctx.batches]
            num = sum(float((o - d).pow(2).sum()) for o, d in zip(outs, digital))
            den = sum(float(d.pow(2).sum()) for d in digital)
            agree = sum(int((o.argmax(1) == d.argmax(1)).sum()) for o, d in zip(outs, digital))
            result[f"err_{label}"] = (num / den) ** 0.5 if den > 0 else float("nan")
            result[f"agree_{label}"] = agree / sum(len(d) for d in digital)
    ctx.cache["aimc"] = result
    return result


@register_proxy("aimc_err_t0", needs_data=True, sign=-1,
                description="relative logit error of the programmed chip at t=0 (init network)")
def aimc_err_t0(ctx) -> float:
    return _perturbation(ctx)["err_t0"]


@register_proxy("aimc_err_1d", needs_data=True, sign=-1,
                description="relative logit error of the chip one day after programming (init network)")
def aimc_err_1d(ctx) -> float:
    return _perturbation(ctx)["err_1d"]


@register_proxy("aimc_agree_t0", needs_data=True,
                description="fraction of predictions the programmed chip leaves unchanged at t=0 (init network)")
def aimc_agree_t0(ctx) -> float:
    return _perturbation(ctx)["agree_t0"]


@register_proxy("aimc_agree_1d", needs_data=True,
                description="fraction of predictions unchanged one day after programming (init network)")
def aimc_agree_1d(ctx) -> float:
    return _perturbation(ctx)["agree_1d"]
