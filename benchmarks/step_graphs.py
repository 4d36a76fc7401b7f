"""Training step time on a CUDA device, eager versus replayed from a CUDA graph (``analognasbench.pipeline.steps``).

``benchmarks/step_launches.py`` shows why: the release network's training steps launch 968 (digital) to 12,752
(HWT, all-conv3x3 cell) operators, and on the H200 the host's launches, not the GPU's arithmetic, set the pace. This
script times both kinds of step for each cell at the release's size (C=16, N=5, 32x32 images, batch 256) and
prints milliseconds per step, the ratio, and the seconds per epoch of CIFAR-10 they imply (196 steps).

    python benchmarks/step_graphs.py [--archs "(0,0,0,0,4,1)" "(3,3,3,3,3,3)"] [--steps 40]

The analog step is timed past its input ranges' initialisation (its first 50 steps run eagerly in both modes), on
random images; one process alone on the GPU (the pipeline may share it between several measurements). Needs a
CUDA device: on a CPU it says so and exits with status 2.
"""

from __future__ import annotations

import argparse
import time

import torch

from analognasbench.analog import clip_weights_, scale_grads_by_input_range_, to_analog
from analognasbench.bench.cliutil import architecture_type
from analognasbench.nets import build_network
from analognasbench.pipeline.measure import chip_hardware
from analognasbench.pipeline.profiles import get_profile
from analognasbench.pipeline.steps import GraphedStep, TrainStep
from analognasbench.space import parse

BATCH = 256
STEPS_PER_EPOCH = 196  # 50,000 training images in batches of 256


def seconds_per_step(model: torch.nn.Module, analog: bool, graphed: bool, steps: int, warmup: int) -> tuple[float, str]:
    """Mean seconds of ``steps`` training steps after ``warmup`` (the capture among them) and how they ran."""
    device = torch.device("cuda")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    hooks = {}
    if analog:
        hooks = {"before_update": lambda: scale_grads_by_input_range_(model),
                 "after_step": lambda: clip_weights_(model)}
    step = (GraphedStep(model, optimizer, device, BATCH, varying_lr=not analog, **hooks) if graphed
            else TrainStep(model, optimizer, device, **hooks))
    gen = torch.Generator(device=device).manual_seed(0)
    x = torch.randn(BATCH, 3, 32, 32, generator=gen, device=device)
    y = torch.randint(0, 10, (BATCH,), generator=gen, device=device)
    model.train()
    step.begin_epoch()
    for _ in range(warmup):
        step(x, y)
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step(x, y)
    torch.cuda.synchronize()
    mode = "eager"
    if isinstance(step, GraphedStep):
        mode = "graph" if step.captured else f"eager ({step.not_captured or 'not captured within the warm-up'})"
    return (time.perf_counter() - start) / steps, mode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--archs", nargs="+", type=architecture_type, default=[parse("(0,0,0,0,4,1)"),
                                                                           parse("(3,3,3,3,3,3)")],
                        help="cells as op-index tuples or NAS-Bench-201 strings (default: one pooling edge, all conv3x3)")
    parser.add_argument("--steps", type=int, default=40, help="timed steps per measurement (default 40)")
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error(f"--steps must be a positive whole number, got {args.steps}")
    archs = args.archs
    if not torch.cuda.is_available():
        parser.error("needs a CUDA device (CUDA graphs exist only there); this machine has none")
    hardware = chip_hardware(get_profile("paper-original"))
    warmups = {False: 5, True: hardware.input_range.init_from_data + 5}
    print(f"{torch.cuda.get_device_name(0)}, torch {torch.__version__}, batch {BATCH}")
    print("cell | stage | eager ms/step | graph ms/step | speed-up | eager s/epoch | graph s/epoch | graph ran as")
    for arch in archs:
        for stage, analog in (("digital", False), ("hwt", True)):
            times = {}
            for graphed in (False, True):
                net = build_network(arch, C=16, N=5, generator=torch.Generator().manual_seed(0))
                model = (to_analog(net, hardware) if analog else net).cuda()
                times[graphed] = seconds_per_step(model, analog, graphed, args.steps, warmups[analog])
            (eager, _), (graph, mode) = times[False], times[True]
            print(f"{arch.short} | {stage} | {1e3 * eager:.2f} | {1e3 * graph:.2f} | {eager / graph:.1f}x | "
                  f"{eager * STEPS_PER_EPOCH:.1f} | {graph * STEPS_PER_EPOCH:.1f} | {mode}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
