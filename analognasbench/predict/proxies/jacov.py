"""jacov (Mellor et al. 2020, first version of "NAS without training"): how uncorrelated the input Jacobians of
the images of a minibatch are. With J the per-image gradients of the summed logits with respect to the input and
v the eigenvalues of their correlation matrix, the score is -sum(log(v + k) + 1/(v + k)), k = 1e-5; the mean over
minibatches. Higher: more distinguishable images at initialisation."""

from __future__ import annotations

import numpy as np
import torch

from analognasbench.predict.registry import register_proxy

K = 1e-5


@register_proxy("jacov", needs_data=True, description="Jacobian covariance score (Mellor et al. v1)")
def jacov(ctx) -> float:
    net = ctx.network()
    scores = []
    for x, _ in ctx.batches:
        x = x.clone().requires_grad_(True)
        net.zero_grad(set_to_none=True)
        out = net(x)
        out.backward(torch.ones_like(out))
        if x.grad is None:
            return float("nan")  # the output does not depend on the input (a cell of only 'none' edges)
        jac = x.grad.reshape(len(x), -1).double().cpu().numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            corrs = np.corrcoef(jac)
        if not np.isfinite(corrs).all():
            return float("nan")  # a constant Jacobian (e.g. a cell whose output is zero): no score
        v = np.linalg.eigvalsh(corrs)
        scores.append(-float(np.sum(np.log(v + K) + 1.0 / (v + K))))
    return float(np.mean(scores))
