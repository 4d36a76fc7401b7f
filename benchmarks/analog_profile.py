"""Where the analog simulator's time goes: one inference pass and one HWT step, digital versus analog, per operation.

Same network and inputs as ``benchmarks/analog_speed.py`` (NAS-Bench-201, C=16, N=5, every edge nor_conv_3x3,
batch 256 of 32x32 images, preset ``pcm_paper``, chip programmed and drifted to 1 h). Each pass runs once under
``torch.profiler`` after a warm-up. Prints, per pass, the self CPU time of every aten operation that takes more
than ``--min-pct`` of the pass (digital and analog side by side), then the time of the simulator's stages, taken
as inclusive ``record_function`` scopes that this script wraps around the simulator's methods (the package
itself carries no profiling hooks):

    output noise (inference)  GaussianSource.add_: bits -> w, then the cubic and the add (two fused torch passes)
    rng (training)  GaussianSource._fill_fast: the noise tensors of HWT (weight noise, output noise)
    rng bits -> w   the numpy part of both: SFC64 bits, SWAR nibble sums, int16 -> float
    effective       AnalogLayer._effective (tile weights, scales; cached in inference)
    range init      AnalogLayer._init_ranges_from_data (HWT: the first ``init_from_data`` forwards)
    conv            the layer's native (grouped) convolution
    dac, adc        the fused training-time input and output stages (forward)
    input-range grad  the input ranges' custom gradient (in the backward pass)
    backward        everything under ``loss.backward()``

    python benchmarks/analog_profile.py [--threads 1] [--batch 256] [--min-pct 1.0] [--row-limit 25]
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections import defaultdict
from pathlib import Path

import torch
from torch import nn
from torch.profiler import ProfilerActivity, profile, record_function

sys.path.insert(0, str(Path(__file__).resolve().parent))
from analog_speed import build, cpu_description  # noqa: E402

from analognasbench import analog  # noqa: E402
from analognasbench.analog import gaussian, layers  # noqa: E402

_SCOPES = (
    (gaussian.GaussianSource, "add_", "output noise (inference)"),
    (gaussian.GaussianSource, "_fill_fast", "rng (training)"),
    (gaussian.GaussianSource, "_centred_sums", "rng bits -> w"),
    (layers.AnalogLayer, "_effective", "effective"),
    (layers.AnalogLayer, "_init_ranges_from_data", "range init"),
    (layers.AnalogConv2d, "_conv", "conv"),
    (layers.AnalogLinear, "_conv", "conv"),
    (layers._InputDAC, "forward", "dac (train fwd)"),
    (layers._OutputADC, "forward", "adc + noise (train fwd)"),
    (layers, "_range_grad", "input-range grad (bwd)"),
)


def _wrap_scopes() -> None:
    for owner, name, label in _SCOPES:
        original = owner.__dict__[name]
        static = isinstance(original, staticmethod)
        function = original.__func__ if static else original

        @functools.wraps(function)
        def wrapped(*args, __original=function, __label=label, **kwargs):
            with record_function(f"sim::{__label}"):
                return __original(*args, **kwargs)

        setattr(owner, name, staticmethod(wrapped) if static else wrapped)


def _profile(fn) -> tuple[dict[str, float], dict[str, float], float]:
    """(self CPU ms per aten op, inclusive ms per sim:: scope, total ms) of one call of ``fn``."""
    fn()
    with profile(activities=[ProfilerActivity.CPU]) as prof, record_function("sim::total"):
        fn()
    ops: dict[str, float] = defaultdict(float)
    scopes: dict[str, float] = defaultdict(float)
    for event in prof.key_averages():
        if event.key.startswith("sim::"):
            scopes[event.key[5:]] += event.cpu_time_total / 1e3
        else:
            ops[event.key] += event.self_cpu_time_total / 1e3
    total = scopes.pop("total")
    return dict(ops), dict(scopes), total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--preset", default="pcm_paper")
    parser.add_argument("--min-pct", type=float, default=1.0, help="hide ops under this share of both passes")
    parser.add_argument("--row-limit", type=int, default=25)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    _wrap_scopes()
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(args.batch, 3, 32, 32, generator=gen)
    y = torch.randint(0, 10, (args.batch,), generator=gen)
    net, source = build()
    anet = analog.to_analog(net, args.preset)
    analog.program(anet, 0)
    analog.drift_to(anet, 3600.0)
    train_net = analog.to_digital(anet)
    train_anet = analog.to_analog(net, args.preset)

    def infer(model: nn.Module):
        model.eval()

        def run() -> None:
            with torch.no_grad():
                model(x)

        return run

    def step(model: nn.Module, hwt: bool):
        opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
        model.train()

        def run() -> None:
            opt.zero_grad(set_to_none=True)
            loss = nn.functional.cross_entropy(model(x), y)
            with record_function("sim::backward"):
                loss.backward()
            opt.step()
            if hwt:
                analog.clip_weights_(model)

        return run

    print(f"{cpu_description()}; torch {torch.__version__}, {args.threads} thread(s)")
    print(f"network: {source}; batch {args.batch}, preset {args.preset}; self CPU ms per op, one pass")
    for title, digital_fn, analog_fn in (
        ("inference", infer(net), infer(anet)),
        ("train step", step(train_net, False), step(train_anet, True)),
    ):
        d_ops, _, d_total = _profile(digital_fn)
        a_ops, a_scopes, a_total = _profile(analog_fn)
        print(f"\n{title}: digital {d_total:.0f} ms, analog {a_total:.0f} ms ({a_total / d_total:.2f}x)")
        print(f"  {'op':<36} {'digital':>9} {'analog':>9} {'extra':>9} {'% extra':>8}")
        extra_total = a_total - d_total
        names = sorted(set(d_ops) | set(a_ops), key=lambda k: -(a_ops.get(k, 0) - d_ops.get(k, 0)))
        shown = 0
        for name in names:
            d, a = d_ops.get(name, 0.0), a_ops.get(name, 0.0)
            if max(d / d_total, a / a_total) * 100 < args.min_pct or shown >= args.row_limit:
                continue
            shown += 1
            print(f"  {name:<36} {d:9.1f} {a:9.1f} {a - d:9.1f} {100 * (a - d) / extra_total:7.1f}%")
        print(f"  {'simulator stages (inclusive)':<36} {'':>9} {'analog':>9} {'':>9} {'% of pass':>8}")
        for name, ms in sorted(a_scopes.items(), key=lambda kv: -kv[1]):
            print(f"  {name:<36} {'':>9} {ms:9.1f} {'':>9} {100 * ms / a_total:7.1f}%")


if __name__ == "__main__":
    main()
