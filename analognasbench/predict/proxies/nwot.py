"""nwot (Mellor et al., ICML 2021, "NAS without training"): log |det K| of the kernel of binary ReLU activation
codes of a minibatch, K_ij = sum over ReLUs of units where images i and j agree (both active or both inactive)
= N_A - Hamming distance; the mean over minibatches. Higher: the network separates the images more at init."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from analognasbench.predict.registry import register_proxy


@register_proxy("nwot", needs_data=True, description="log|det| of the ReLU-code Hamming kernel (Mellor et al.)")
def nwot(ctx) -> float:
    net = ctx.network()
    relus = [m for m in net.modules() if isinstance(m, nn.ReLU)]
    scores = []
    for x, _ in ctx.batches:
        kernel = torch.zeros(len(x), len(x), dtype=torch.float64, device=x.device)

        def hook(_module: nn.Module, _inputs: object, out: torch.Tensor, kernel: torch.Tensor = kernel) -> None:
            code = (out.detach().reshape(len(out), -1) > 0).double()
            kernel.add_(code @ code.T).add_((1.0 - code) @ (1.0 - code).T)

        handles = [m.register_forward_hook(hook) for m in relus]
        try:
            with torch.no_grad():
                net(x)
        finally:
            for h in handles:
                h.remove()
        sign, logdet = np.linalg.slogdet(kernel.cpu().numpy())
        scores.append(float(logdet) if sign != 0 else float("-inf"))
    return float(np.mean(scores))
