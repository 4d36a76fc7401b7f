"""Operators launched and host reads per training step, digital versus HWT: what bounds HWT on a GPU.

On the H200 (sessions 11 and 13) the release network's digital training ran at 2.5 s per epoch and its HWT at
8.2 s (196 steps of 256 images, two or three measurements sharing the GPU), although HWT costs only 1.2x a digital
epoch on one CPU core. A GPU runs these small kernels faster than the host can launch them (about 13 us per
operator: 12.8 ms per digital step of 968 operators, three measurements sharing the GPU), so an HWT step costs
about what it launches, not what it computes. This
script counts, on the CPU, the operators one training step dispatches (top-level ``aten::`` calls in the
profiler: each is at least one kernel on CUDA) and the host reads of tensor values (``item``, ``float``,
``int``, ``bool``: each a device synchronisation on CUDA), for the digital network and its HWT copy under the
``paper-original`` profile, at the release's network size (C=16, N=5, 32x32 images).

    python benchmarks/step_launches.py [--archs "(0,0,0,0,4,1)" "(3,3,3,3,3,3)"] [--batch 16]

The step counted is taken after the input ranges' initialisation from data (its first 50 steps read more values
back); the counts do not depend on the batch size or the device, the time per operator does.
The analog layers draw their noise as on CUDA (``torch.randn``; the CPU's default numpy-fed source adds about 30
operators per layer). Measured here (session 13, about a minute): the one-pooling-edge cell 968 operators per
digital step, 1,847 per HWT step (1.9x; 8 analog layers); the all-conv3x3 cell 2,243 and 12,752 (5.7x; 98 analog
layers: about 107 more operators per analog layer). Host reads per HWT step: none (before session 13: 34 and
394, four per analog layer: the data-initialisation check on every forward, the range gradient's check for a
zero range and two per tile in the weight clipping). At 13 us per operator the pooling cell's HWT step predicts
4.7 s per epoch (8.2 measured before the change, with 34 synchronisations per step and a second measurement on
the GPU) and the all-conv3x3 cell's 33 s per epoch: about two hours of HWT per convolution-heavy cell on any GPU,
whatever its FLOPs, until the step is captured as one CUDA graph (possible now that it reads nothing back; session
14's ``ANB_CUDA_GRAPHS=1``, timed on a GPU by ``benchmarks/step_graphs.py``) or its element-wise periphery is fused.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
from collections.abc import Callable, Iterator

import torch
from torch.profiler import ProfilerActivity, profile

from analognasbench.analog import analog_layers, clip_weights_, scale_grads_by_input_range_, to_analog
from analognasbench.analog.gaussian import NoiseMethod
from analognasbench.bench.cliutil import architecture_type
from analognasbench.nets import build_network
from analognasbench.pipeline.measure import chip_hardware
from analognasbench.pipeline.profiles import get_profile
from analognasbench.space import parse

_HOST_READS = ("item", "__float__", "__int__", "__bool__", "tolist")


@contextlib.contextmanager
def counting_host_reads() -> Iterator[collections.Counter]:
    """Count calls of the tensor methods that copy a value to the host while the block runs."""
    counts: collections.Counter = collections.Counter()
    originals = {name: getattr(torch.Tensor, name) for name in _HOST_READS}

    def counted(name: str) -> Callable:
        def method(self: torch.Tensor, *args, **kwargs):
            counts[name] += 1
            return originals[name](self, *args, **kwargs)
        return method

    for name in _HOST_READS:
        setattr(torch.Tensor, name, counted(name))
    try:
        yield counts
    finally:
        for name, method in originals.items():
            setattr(torch.Tensor, name, method)


def step_counts(step: Callable[[], None], warmup: int) -> tuple[int, int, collections.Counter]:
    """(top-level operators, host reads, operators by name) of one call of ``step``, after ``warmup`` calls."""
    for _ in range(warmup):
        step()
    with counting_host_reads() as reads, profile(activities=[ProfilerActivity.CPU]) as prof:
        step()
    ops = [e for e in prof.events()
           if e.name.startswith("aten::") and (e.cpu_parent is None or not e.cpu_parent.name.startswith("aten::"))]
    return len(ops), sum(reads.values()), collections.Counter(e.name for e in ops)


def training_step(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, analog: bool) -> Callable[[], None]:
    """One SGD step as the pipeline's HWT takes it (gradient rescaling and weight clipping for the analog copy)."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    model.train()

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(x), y).backward()
        if analog:
            scale_grads_by_input_range_(model)
        optimizer.step()
        if analog:
            clip_weights_(model)
    return step


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--archs", nargs="+", type=architecture_type, default=[parse("(0,0,0,0,4,1)"),
                                                                           parse("(3,3,3,3,3,3)")],
                        help="cells as op-index tuples or NAS-Bench-201 strings (default: one pooling edge, all conv3x3)")
    parser.add_argument("--batch", type=int, default=16,
                        help="images per step (default 16: the counts are the same at the release's 256)")
    args = parser.parse_args(argv)
    if args.batch < 1:
        parser.error(f"--batch must be a positive whole number, got {args.batch}")
    archs = args.archs
    torch.set_num_threads(1)
    hardware = chip_hardware(get_profile("paper-original"))
    # the analog step is counted past the input ranges' initialisation from data (its first steps read more back)
    warmups = {False: 1, True: hardware.input_range.init_from_data + 1}
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(args.batch, 3, 32, 32, generator=gen)
    y = torch.randint(0, 10, (args.batch,), generator=gen)
    print("cell | network | analog layers | operators per step | per analog layer | host reads per step | most frequent")
    for arch in archs:
        net = build_network(arch, C=16, N=5, generator=torch.Generator().manual_seed(0))
        hnet = to_analog(net, hardware)
        layers = analog_layers(hnet)
        for layer in layers:  # CUDA's noise path (torch.randn), not the CPU's numpy-fed one
            layer.noise.requested = NoiseMethod.EXACT
        digital_ops = None
        for name, model, analog in (("digital", net, False), ("hwt", hnet, True)):
            ops, reads, by_name = step_counts(training_step(model, x, y, analog), warmups[analog])
            per_layer = f"{(ops - digital_ops) / len(layers):.0f} more" if digital_ops is not None else "-"
            ratio = f" ({ops / digital_ops:.1f}x)" if digital_ops is not None else ""
            top = ", ".join(f"{k.removeprefix('aten::')} {v}" for k, v in by_name.most_common(4))
            print(f"{arch.short} | {name} | {len(layers) if analog else '-'} | {ops}{ratio} | {per_layer} | {reads} | {top}")
            digital_ops = ops
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
