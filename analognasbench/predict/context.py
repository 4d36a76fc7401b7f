"""One architecture's proxy context: its seeded initial network, the minibatches, and per-architecture caches.

Every proxy gets :meth:`ProxyContext.network`, a fresh copy of the same initialised network (proxies may change
weights or precision). Intermediates shared by several proxies -- the cross-entropy gradient pass that grad_norm,
snip and fisher all read, the AIMC perturbation read, the tile mapping -- are computed once per architecture and
kept in :attr:`ProxyContext.cache`, which dies with the context (no global state).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from analognasbench.predict.config import ProxyConfig
from analognasbench.space import Architecture, parse

WEIGHT_LAYERS = (nn.Conv2d, nn.Linear)


def weight_layers(net: nn.Module) -> list[nn.Module]:
    """Conv and linear layers in registration order (the layers the proxies score)."""
    return [m for m in net.modules() if isinstance(m, WEIGHT_LAYERS)]


@dataclass
class GradientPass:
    """Cross-entropy gradients of the initialised network (train-mode BatchNorm), summed over the minibatches.

    ``weights[i]``/``grads[i]`` belong to the i-th conv/linear layer; a layer the forward never reaches (an edge
    that cannot influence the cell's output) has a zero gradient. ``fisher[i]`` is that layer's Fisher term:
    per output channel, 0.5 x the batch mean of (sum over positions of activation x its gradient)^2, summed over
    channels and minibatches (Turner et al. 2020, as in Abdelfattah et al. 2021).
    """

    weights: list[torch.Tensor]
    grads: list[torch.Tensor]
    fisher: list[float]


@dataclass
class ProxyContext:
    arch: Architecture
    config: ProxyConfig
    batches: list[tuple[torch.Tensor, torch.Tensor]]
    device: torch.device
    cache: dict[str, Any] = field(default_factory=dict)
    _base: nn.Module | None = None

    @classmethod
    def create(cls, arch: Any, config: ProxyConfig, batches: list[tuple[torch.Tensor, torch.Tensor]],
               device: torch.device | str = "cpu") -> ProxyContext:
        return cls(parse(arch), config, batches, torch.device(device))

    def network(self) -> nn.Module:
        """A fresh copy of the initialised network on the context's device, in training mode."""
        if self._base is None:
            from analognasbench.nets import build_network

            gen = torch.Generator().manual_seed(self.config.seed)
            c = self.config
            self._base = build_network(self.arch, C=c.C, N=c.N, num_classes=c.num_classes, generator=gen)
            self._base.to(self.device)
        net = copy.deepcopy(self._base)
        return net.train()

    def gradient_pass(self) -> GradientPass:
        """The shared cross-entropy pass (computed once per context)."""
        if "gradient_pass" not in self.cache:
            self.cache["gradient_pass"] = _gradient_pass(self.network(), self.batches)
        return self.cache["gradient_pass"]


def _gradient_pass(net: nn.Module, batches: list[tuple[torch.Tensor, torch.Tensor]]) -> GradientPass:
    layers = weight_layers(net)
    fisher = [0.0] * len(layers)
    outputs: dict[int, torch.Tensor] = {}

    def keep(index: int):
        def hook(_module: nn.Module, _inputs: Any, out: torch.Tensor) -> None:
            if out.requires_grad:
                out.retain_grad()
                outputs[index] = out
        return hook

    handles = [layer.register_forward_hook(keep(i)) for i, layer in enumerate(layers)]
    try:
        net.zero_grad(set_to_none=True)
        for x, y in batches:
            outputs.clear()
            loss = nn.functional.cross_entropy(net(x), y)
            loss.backward()
            for i, out in outputs.items():
                if out.grad is None:
                    continue
                prod = (out.detach() * out.grad)
                per_channel = prod.sum(dim=(2, 3)) if prod.ndim == 4 else prod
                fisher[i] += float(0.5 * per_channel.pow(2).mean(0).sum())
    finally:
        for h in handles:
            h.remove()
    weights = [layer.weight.detach() for layer in layers]
    grads = [torch.zeros_like(w) if layer.weight.grad is None else layer.weight.grad.detach()
             for layer, w in zip(layers, weights)]
    return GradientPass(weights, grads, fisher)
