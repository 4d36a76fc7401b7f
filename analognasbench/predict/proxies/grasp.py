"""grasp (Wang et al. 2020, as a network score in Abdelfattah et al. 2021): sum over conv/linear weights of
-w x (H g), where g is the loss gradient (summed over the minibatches) and H the loss Hessian: the second-order
change of the gradient flow from removing each weight. Hessian-vector product by double backpropagation."""

from __future__ import annotations

import torch
from torch import nn

from analognasbench.predict.context import weight_layers
from analognasbench.predict.registry import register_proxy


@register_proxy("grasp", needs_data=True, description="sum of -w * Hg (gradient-flow preservation)")
def grasp(ctx) -> float:
    net = ctx.network()
    layers = weight_layers(net)
    weights = [layer.weight for layer in layers]
    grad_w = [torch.zeros_like(w) for w in weights]
    for x, y in ctx.batches:
        loss = nn.functional.cross_entropy(net(x), y)
        for acc, g in zip(grad_w, torch.autograd.grad(loss, weights, allow_unused=True)):
            if g is not None:
                acc += g
    net.zero_grad(set_to_none=True)
    for x, y in ctx.batches:
        loss = nn.functional.cross_entropy(net(x), y)
        grad_f = torch.autograd.grad(loss, weights, create_graph=True, allow_unused=True)
        z = sum((gw * gf).sum() for gw, gf in zip(grad_w, grad_f) if gf is not None)
        if isinstance(z, torch.Tensor) and z.requires_grad:
            z.backward()
    return float(sum((-w.detach() * w.grad).sum().item() for w in weights if w.grad is not None))
