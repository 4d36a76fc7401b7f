"""grad_norm (Abdelfattah et al., ICLR 2021): the sum over conv/linear layers of the Euclidean norm of the
cross-entropy loss gradient at initialisation."""

from analognasbench.predict.registry import register_proxy


@register_proxy("grad_norm", needs_data=True, description="sum of per-layer L2 norms of the loss gradient")
def grad_norm(ctx) -> float:
    return float(sum(g.norm().item() for g in ctx.gradient_pass().grads))
