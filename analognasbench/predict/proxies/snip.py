"""snip (Lee et al. 2019, as a network score in Abdelfattah et al. 2021): sum over all conv/linear weights of
|weight x loss gradient| -- the first-order loss change from removing each weight."""

from analognasbench.predict.registry import register_proxy


@register_proxy("snip", needs_data=True, description="sum of |w * dL/dw| over conv/linear weights")
def snip(ctx) -> float:
    p = ctx.gradient_pass()
    return float(sum((w * g).abs().sum().item() for w, g in zip(p.weights, p.grads)))
