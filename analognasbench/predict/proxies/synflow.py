"""synflow (Tanaka et al. 2020; Abdelfattah et al. 2021): data-free. With every weight replaced by its absolute
value, BatchNorm as the identity it is at initialisation (evaluation mode: running mean 0, variance 1), float64,
and an all-ones input image, the sum over conv/linear weights of w x d(sum of logits)/dw."""

from __future__ import annotations

import torch

from analognasbench.predict.context import weight_layers
from analognasbench.predict.registry import register_proxy


@register_proxy("synflow", needs_data=False, description="synaptic flow: sum of w * dR/dw on |weights|, ones input")
def synflow(ctx) -> float:
    net = ctx.network().double().eval()
    with torch.no_grad():
        for p in net.state_dict().values():
            if p.is_floating_point():
                p.abs_()
    c = ctx.config
    x = torch.ones(1, 3, c.image_size, c.image_size, dtype=torch.float64, device=ctx.device)
    net.zero_grad(set_to_none=True)
    net(x).sum().backward()
    return float(sum((m.weight * m.weight.grad).sum().item()
                     for m in weight_layers(net) if m.weight.grad is not None))
