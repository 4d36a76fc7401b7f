"""Speed of the analog simulator versus the digital network (and AIHWKit's, when importable).

NAS-Bench-201 network, C=16, N=5, all nor_conv_3x3 (arch (2,2,2,2,2,2)), batch 256 of 32x32 images, on CPU with
2 threads by default. Prints the best-of-``--repeats`` time of one inference pass (programmed chip, eval mode,
no grad) and one HWT training step (forward, backward, SGD step, weight clipping), for the digital and analog
networks, measured interleaved in one run, and their ratios. Targets (issue 3): inference <= 2x, HWT step <=
2.5x on CPU; inference <= 1.5x on a GPU.

    python benchmarks/analog_speed.py [--device cpu|cuda] [--threads 2] [--batch 256] [--repeats 3]
    /work/venv-aihwkit/bin/python benchmarks/analog_speed.py --aihwkit   # adds AIHWKit's ratios
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import torch
from torch import nn

from analognasbench import analog


def _standin_network(num_classes: int = 10, C: int = 16, N: int = 5) -> nn.Module:
    """Same layer shapes as NAS-Bench-201 with every edge nor_conv_3x3 (used when analognasbench.nets is absent)."""

    def rcb(c_in: int, c_out: int, stride: int = 1) -> nn.Module:
        return nn.Sequential(nn.ReLU(), nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out))

    class Cell(nn.Module):
        def __init__(self, c: int) -> None:
            super().__init__()
            self.edges = nn.ModuleList(rcb(c, c) for _ in range(6))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            e = self.edges
            n1 = e[0](x)
            n2 = e[1](x) + e[2](n1)
            return e[3](x) + e[4](n1) + e[5](n2)

    class Reduction(nn.Module):
        def __init__(self, c_in: int, c_out: int) -> None:
            super().__init__()
            self.a, self.b = rcb(c_in, c_out, 2), rcb(c_out, c_out)
            self.down = nn.Sequential(nn.AvgPool2d(2, 2), nn.Conv2d(c_in, c_out, 1, bias=False))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.down(x) + self.b(self.a(x))

    layers: list[nn.Module] = [nn.Conv2d(3, C, 3, padding=1, bias=False), nn.BatchNorm2d(C)]
    c = C
    for stage, c_out in enumerate((C, 2 * C, 4 * C)):
        if stage:
            layers.append(Reduction(c, c_out))
        layers.extend(Cell(c_out) for _ in range(N))
        c = c_out
    layers += [nn.BatchNorm2d(c), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, num_classes)]
    return nn.Sequential(*layers)


def build(num_classes: int = 10) -> tuple[nn.Module, str]:
    try:
        from analognasbench.nets import build_network
    except ImportError:
        return _standin_network(num_classes), "stand-in (analognasbench.nets not importable)"
    return build_network((2, 2, 2, 2, 2, 2), C=16, N=5, num_classes=num_classes), "analognasbench.nets"


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def best_time(fn: Callable[[], object], repeats: int, device: torch.device) -> float:
    fn()
    _sync(device)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        _sync(device)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--preset", default="pcm_paper")
    parser.add_argument("--aihwkit", action="store_true", help="also time AIHWKit (needs it importable)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(args.batch, 3, 32, 32, generator=gen).to(device)
    y = torch.randint(0, 10, (args.batch,), generator=gen).to(device)
    net, source = build()
    net = net.to(device)
    anet = analog.to_analog(net, args.preset)
    analog.program(anet, 0)
    analog.drift_to(anet, 3600.0)

    def infer(model: nn.Module) -> Callable[[], object]:
        def run() -> object:
            model.eval()
            with torch.no_grad():
                return model(x)

        return run

    def train_step(model: nn.Module, clip: bool) -> Callable[[], object]:
        opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)

        def run() -> object:
            model.train()
            opt.zero_grad(set_to_none=True)
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            if clip:
                analog.clip_weights_(model)
            return loss

        return run

    train_net = analog.to_digital(anet)  # separate copies so training does not touch the programmed chip
    train_anet = analog.to_analog(net, args.preset)
    results: dict[str, float] = {}
    for _ in range(2):  # interleave digital and analog so load changes hit both
        for name, fn in (
            ("digital inference", infer(net)),
            ("analog inference", infer(anet)),
            ("digital train step", train_step(train_net, False)),
            ("analog HWT step", train_step(train_anet, True)),
        ):
            results[name] = min(results.get(name, float("inf")), best_time(fn, args.repeats, device))
    print(f"network: {source}; device {device}, {args.threads} threads, batch {args.batch}, preset {args.preset}")
    for name, seconds in results.items():
        print(f"  {name:<20} {seconds * 1e3:9.1f} ms")
    print(f"  inference ratio analog/digital: {results['analog inference'] / results['digital inference']:.2f}x")
    print(f"  train ratio analog HWT/digital: {results['analog HWT step'] / results['digital train step']:.2f}x")
    if args.aihwkit:
        from analognasbench.analog import aihwkit_backend

        knet = aihwkit_backend.to_aihwkit(net, analog.presets.get(args.preset))
        aihwkit_backend.program(knet, 0)
        aihwkit_backend.drift_to(knet, 3600.0)
        k_inf = best_time(infer(knet), args.repeats, device)
        k_train = aihwkit_backend.to_aihwkit(net, analog.presets.get(args.preset))
        k_step = best_time(aihwkit_backend.train_step_fn(k_train, x, y), args.repeats, device)
        print(f"  AIHWKit inference {k_inf * 1e3:.1f} ms ({k_inf / results['digital inference']:.1f}x digital)")
        print(f"  AIHWKit HWT step  {k_step * 1e3:.1f} ms ({k_step / results['digital train step']:.1f}x digital)")


if __name__ == "__main__":
    main()
