"""Multiply-accumulates of one forward pass of one image (conv + linear)."""

from analognasbench.predict.registry import register_proxy


@register_proxy("flops", needs_data=False, description="multiply-accumulates of one image's forward pass")
def flops(ctx) -> float:
    from analognasbench.nets import count_flops

    c = ctx.config
    return float(count_flops(ctx.arch, image_size=c.image_size, C=c.C, N=c.N, num_classes=c.num_classes))
