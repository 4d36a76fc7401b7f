"""fisher (Turner et al. 2020; Abdelfattah et al. 2021): per conv/linear output channel, half the batch mean of
the squared sum over positions of activation x its loss gradient, summed over channels and layers."""

from analognasbench.predict.registry import register_proxy


@register_proxy("fisher", needs_data=True, description="summed channel Fisher information of layer outputs")
def fisher(ctx) -> float:
    return float(sum(ctx.gradient_pass().fisher))
