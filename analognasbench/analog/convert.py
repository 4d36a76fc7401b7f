"""Conversion between digital torch models and analog ones (pure functions driven by a map of layer types)."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Mapping

from torch import nn

from analognasbench.analog import presets
from analognasbench.analog.config import HardwareConfig
from analognasbench.analog.layers import AnalogConv2d, AnalogLayer, AnalogLinear

logger = logging.getLogger(__name__)

LayerFactory = Callable[[nn.Module, HardwareConfig, int], AnalogLayer]

DEFAULT_LAYER_MAP: Mapping[type[nn.Module], LayerFactory] = {
    nn.Conv2d: AnalogConv2d,
    nn.Linear: AnalogLinear,
}
"""Digital layer type -> analog factory ``(layer, config, noise_seed) -> AnalogLayer``. BatchNorm, pooling and
activations stay digital."""


def resolve_config(config: HardwareConfig | presets.Preset | str) -> HardwareConfig:
    """A :class:`HardwareConfig` from itself or a preset name."""
    if isinstance(config, HardwareConfig):
        return config
    if isinstance(config, (str, presets.Preset)):
        return presets.get(config)
    raise TypeError(f"config must be a HardwareConfig or a preset name; got {type(config).__name__}")


def _factory(module: nn.Module, layer_map: Mapping[type[nn.Module], LayerFactory]) -> LayerFactory | None:
    factory = layer_map.get(type(module))
    if factory is not None:
        return factory
    for kind, candidate in layer_map.items():
        if isinstance(module, kind):
            return candidate
    return None


def to_analog(
    model: nn.Module,
    config: HardwareConfig | presets.Preset | str,
    *,
    inplace: bool = False,
    layer_map: Mapping[type[nn.Module], LayerFactory] | None = None,
) -> nn.Module:
    """Model with every mapped layer (default: Conv2d, Linear) replaced by its analog counterpart.

    Pure by default (the input model is deep-copied and left untouched). Raises ``ValueError`` when nothing in
    the model can be converted. The returned model is unprogrammed: in eval mode it computes with the exact
    weights through the DAC/ADC/noise periphery (AIHWKit's behaviour before ``program_analog_weights``); call
    :func:`analognasbench.analog.program` to put it on a noisy chip.
    """
    cfg = resolve_config(config)
    mapping = DEFAULT_LAYER_MAP if layer_map is None else layer_map
    if isinstance(model, AnalogLayer):
        raise ValueError("the model is already an analog layer")
    target = model if inplace else copy.deepcopy(model)
    counter = [0]

    def convert(parent: nn.Module) -> None:
        for name, child in parent.named_children():
            if isinstance(child, AnalogLayer):
                continue
            factory = _factory(child, mapping)
            if factory is not None:
                layer = factory(child, cfg, counter[0])
                layer.train(child.training)
                setattr(parent, name, layer)
                counter[0] += 1
            else:
                convert(child)

    root_factory = _factory(target, mapping)
    if root_factory is not None:
        layer = root_factory(target, cfg, 0)
        layer.train(target.training)
        return layer
    convert(target)
    if counter[0] == 0:
        kinds = ", ".join(k.__name__ for k in mapping)
        raise ValueError(f"the model has no layer that can be made analog (looked for: {kinds})")
    logger.debug("converted %d layers to analog (%s)", counter[0], cfg.name)
    return target


def to_digital(model: nn.Module, *, inplace: bool = False) -> nn.Module:
    """Plain torch model with the analog layers' current (e.g. clipped, HWT-trained) weights and biases."""
    target = model if inplace else copy.deepcopy(model)
    if isinstance(target, AnalogLayer):
        return target.to_digital()

    def convert(parent: nn.Module) -> None:
        for name, child in parent.named_children():
            if isinstance(child, AnalogLayer):
                digital = child.to_digital()
                digital.train(child.training)
                setattr(parent, name, digital)
            else:
                convert(child)

    convert(target)
    return target


def analog_layers(model: nn.Module) -> list[AnalogLayer]:
    """The model's analog layers in module order."""
    return [m for m in model.modules() if isinstance(m, AnalogLayer)]
