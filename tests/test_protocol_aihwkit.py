"""The release-protocol pieces cross-checked against IBM AIHWKit 1.1.0 (issue 18): the unprogrammed evaluation (the
release's t = 0 metrics) and one HWT step under AIHWKit's update rule.

Runs only where aihwkit is importable: ``/work/venv-aihwkit/bin/python -m pytest tests/test_protocol_aihwkit.py -s``
(scripts/aihwkit-venv.sh makes that environment).
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from analognasbench import analog
from analognasbench.analog import aihwkit_backend
from analognasbench.analog.config import HWTConfig, InputRangeConfig, IOConfig

pytestmark = [
    pytest.mark.aihwkit,
    pytest.mark.skipif(not aihwkit_backend.available(), reason=aihwkit_backend.INSTALL_HINT),
]


def _accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return 100.0 * (model(x).argmax(1) == y).float().mean().item()


def test_unprogrammed_evaluation_matches_aihwkit_before_programming():
    """The release's noisy_accuracy: convert, evaluate without program_analog_weights (input range 3.0, exact
    weights, DAC/ADC and output noise). Mean over 10 passes each; the passes differ by output noise only."""
    from test_analog_aihwkit import train_small_cnn

    from analognasbench.pipeline.measure import unprogrammed_accuracies

    net, x, y = train_small_cnn()
    ours = analog.to_analog(net, "pcm_paper").eval()
    theirs = aihwkit_backend.to_aihwkit(net, "pcm_paper").eval()
    passes = 10
    mine = unprogrammed_accuracies(ours, [(x, y)], passes, seed=0, purpose=8)
    other = []
    for k in range(passes):
        torch.manual_seed(100 + k)
        other.append(_accuracy(theirs, x, y))
    digital = _accuracy(net, x, y)
    mean_ours, mean_theirs = sum(mine) / passes, sum(other) / passes
    print(f"\nunprogrammed: digital {digital:.2f}, ours {mean_ours:.2f}, AIHWKit {mean_theirs:.2f}")
    # 1,500 images, 10 passes: the pass-to-pass spread is ~0.3 pp, so the means agree within ~0.2 pp by chance
    assert abs(mean_ours - mean_theirs) < 1.0


def test_one_hwt_step_follows_aihwkit_update_rule():
    """One AnalogSGD step on a one-tile linear layer (IO perfect, no training weight noise, fixed input range 3.0
    so only the update rule differs): AIHWKit's logical weight change is -(lr / r) grad W, which the
    ``aihwkit`` rule reproduces and the ``logical`` rule (-lr grad W) does not."""
    from aihwkit.optim import AnalogSGD

    cfg = analog.presets.get("pcm_paper").replace(
        io=IOConfig(is_perfect=True), hwt=HWTConfig(weight_noise=0.0, clip_sigma=None),
        input_range=InputRangeConfig(enable=True, learn=False, init_value=3.0, init_from_data=0))
    torch.manual_seed(0)
    digital = nn.Linear(16, 4)
    x = torch.randn(64, 16)
    y = torch.randint(0, 4, (64,))
    lr = 0.1

    theirs = aihwkit_backend.to_aihwkit(nn.Sequential(digital), cfg)
    opt = AnalogSGD(theirs.parameters(), lr=lr)
    opt.regroup_param_groups(theirs)
    w0 = digital.weight.detach().clone()
    theirs.train()
    opt.zero_grad()
    nn.functional.cross_entropy(theirs(x), y).backward()
    opt.step()
    w_theirs = theirs[0].get_weights()[0].detach()

    steps = {}
    for rule in ("logical", "aihwkit"):
        ours = analog.to_analog(nn.Sequential(digital), cfg)
        sgd = torch.optim.SGD(ours.parameters(), lr=lr)
        ours.train()
        sgd.zero_grad()
        nn.functional.cross_entropy(ours(x), y).backward()
        if rule == "aihwkit":
            analog.scale_grads_by_input_range_(ours)
        sgd.step()
        steps[rule] = analog.analog_layers(ours)[0].weight.detach().view(4, 16) - w0
    step_theirs = w_theirs - w0
    print(f"\n|dW| AIHWKit {step_theirs.norm():.5f}, ours aihwkit rule {steps['aihwkit'].norm():.5f}, "
          f"logical {steps['logical'].norm():.5f}")
    assert torch.allclose(steps["aihwkit"], step_theirs, rtol=0.05, atol=1e-5)
    assert not torch.allclose(steps["logical"], step_theirs, rtol=0.5, atol=1e-5)
