"""Parameter count of the release's network (reference count, unused edges included)."""

from analognasbench.predict.registry import register_proxy


@register_proxy("params", needs_data=False, description="parameters of the network (C, N of the config)")
def params(ctx) -> float:
    from analognasbench.nets import count_parameters

    c = ctx.config
    return float(count_parameters(ctx.arch, C=c.C, N=c.N, num_classes=c.num_classes))
