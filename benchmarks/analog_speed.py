"""Speed of the analog simulator versus the digital network (and AIHWKit-Lightning's / AIHWKit's, when importable).

NAS-Bench-201 network, C=16, N=5, all nor_conv_3x3 (arch (2,2,2,2,2,2)), batch 256 of 32x32 images, on CPU with
1 thread by default (the fair setting on a shared 2-core machine; ``--threads 2`` for both cores). Times one
inference pass (programmed chip drifted to 1 h, eval mode, no grad) and one HWT training step (forward, backward,
SGD step, weight clipping) of the digital and analog networks -- and of AIHWKit-Lightning 2.1 configured like the
preset (8-bit DAC/ADC, output noise, learned input ranges, 6% weight noise, 2-sigma clipping; no PCM device model,
which Lightning does not simulate at inference) when it is importable. All are run interleaved, round after round,
so load changes hit every one, and the median over ``--repeats`` rounds is reported, with the ratios to digital
(Lightning, about 10x slower, only in the first ``--lightning-repeats`` rounds).
Prints the CPU's model, core count and vector extensions first so figures from two machines can be told apart.
Targets (issue 25): inference <= 1.5x, HWT step <= 2x digital on a 2-core x86 CPU. ``--no-avx512`` reruns the
benchmark with AVX-512 switched off in torch, oneDNN and numpy (``ATEN_CPU_CAPABILITY=avx2``,
``ONEDNN_MAX_CPU_ISA=AVX2``, ``NPY_DISABLE_CPU_FEATURES``), to measure an AVX2-only CPU's code paths on a machine
that has AVX-512 (the cache sizes and clock stay this machine's).

    python benchmarks/analog_speed.py [--device cpu|cuda] [--threads 1] [--batch 256] [--repeats 5]
    /work/venv-lightning/bin/python benchmarks/analog_speed.py          # adds AIHWKit-Lightning (same torch)
    /work/venv-aihwkit/bin/python benchmarks/analog_speed.py --aihwkit  # adds AIHWKit's ratios (torch 2.10)
"""

from __future__ import annotations

import argparse
import copy
import statistics
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


def cpu_description() -> str:
    """CPU model, logical cores and vector extensions (Linux /proc/cpuinfo; platform fallback)."""
    import os
    import platform

    model, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and model in ("", platform.processor() or platform.machine()):
                    model = value.strip()
                elif key.strip() == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    vector = [f for f in ("avx", "avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_tile") if f in flags]
    avx512 = "AVX-512 yes" if "avx512f" in flags else "AVX-512 no"
    switched = [f"{k}={os.environ[k]}" for k in NO_AVX512 if k in os.environ]
    off = f"; switched off here: {', '.join(switched)}" if switched else ""
    return (f"CPU: {model}, {os.cpu_count()} logical cores, {avx512}, flags {' '.join(vector) or 'unknown'}; "
            f"torch CPU capability {torch.backends.cpu.get_cpu_capability()}{off}")


#: The environment that keeps torch, oneDNN and numpy off AVX-512 (read when they load, hence a re-run).
NO_AVX512 = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2",
             "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR"}


def _rerun_without_avx512() -> None:
    """Replace this process by the same command with :data:`NO_AVX512` set (once: the new one has it)."""
    import os
    import sys

    if all(os.environ.get(k) == v for k, v in NO_AVX512.items()):
        return
    os.execve(sys.executable, [sys.executable, os.path.abspath(__file__), *sys.argv[1:]], {**os.environ, **NO_AVX512})


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn: Callable[[], object], device: torch.device) -> tuple[float, float]:
    """(wall seconds, process CPU seconds) of one call."""
    _sync(device)
    start, cpu = time.perf_counter(), time.process_time()
    fn()
    _sync(device)
    return time.perf_counter() - start, time.process_time() - cpu


def _lightning(net: nn.Module, preset: str) -> tuple[nn.Module, nn.Module, Callable[[nn.Module], None]] | None:
    """AIHWKit-Lightning copies of ``net`` (inference, training) configured like ``preset``, and its clip hook."""
    try:
        from aihwkit_lightning.nn.conversion import convert_to_analog
        from aihwkit_lightning.simulator.configs import (
            TorchInferenceRPUConfig,
            WeightClipType,
            WeightNoiseInjectionType,
        )
    except ImportError:
        return None
    cfg = analog.presets.get(preset)
    rpu = TorchInferenceRPUConfig()
    io = cfg.io
    rpu.forward.inp_res = io.inp_res if io.inp_res is not None else -1
    rpu.forward.out_res = io.out_res if io.out_res is not None else -1
    rpu.forward.out_bound = io.out_bound if io.out_bound is not None else -1
    rpu.forward.out_noise = io.out_noise
    rpu.mapping.max_input_size = cfg.mapping.max_input_size
    rpu.pre_post.input_range.enable = cfg.input_range.enable
    rpu.pre_post.input_range.learn_input_range = cfg.input_range.learn
    rpu.pre_post.input_range.init_value = cfg.input_range.init_value
    rpu.pre_post.input_range.init_from_data = cfg.input_range.init_from_data
    rpu.pre_post.input_range.init_std_alpha = cfg.input_range.init_std_alpha
    rpu.pre_post.input_range.decay = cfg.input_range.decay
    rpu.pre_post.input_range.input_min_percentage = cfg.input_range.input_min_percentage
    rpu.modifier.noise_type = WeightNoiseInjectionType.ADD_NORMAL
    rpu.modifier.std_dev = cfg.hwt.weight_noise
    if cfg.hwt.clip_sigma is not None:
        rpu.clip.type = WeightClipType.LAYER_GAUSSIAN
        rpu.clip.sigma = cfg.hwt.clip_sigma

    def clip(model: nn.Module) -> None:
        for module in model.modules():
            if hasattr(module, "clip_weights") and hasattr(module, "rpu_config"):
                module.clip_weights()

    return (convert_to_analog(copy.deepcopy(net), rpu), convert_to_analog(copy.deepcopy(net), rpu), clip)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5, help="interleaved rounds; the median is reported")
    parser.add_argument("--preset", default="pcm_paper")
    parser.add_argument("--no-lightning", action="store_true", help="skip AIHWKit-Lightning even if importable")
    parser.add_argument("--lightning-repeats", type=int, default=2,
                        help="rounds that include AIHWKit-Lightning (about 10x slower than digital)")
    parser.add_argument("--lightning-train-batch", type=int, default=32,
                        help="batch of Lightning's HWT step (it keeps every unfolded input for the backward: "
                             "over 15 GB at batch 256); timed against a digital step at the same batch")
    parser.add_argument("--aihwkit", action="store_true", help="also time AIHWKit (needs it importable)")
    parser.add_argument("--no-avx512", action="store_true",
                        help="run with AVX-512 switched off in torch, oneDNN and numpy (an AVX2 CPU's code paths)")
    args = parser.parse_args()
    if args.no_avx512:
        _rerun_without_avx512()
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

    def train_step(model: nn.Module, clip: Callable[[nn.Module], None] | None, xb: torch.Tensor = x,
                   yb: torch.Tensor = y) -> Callable[[], object]:
        opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)

        def run() -> object:
            model.train()
            opt.zero_grad(set_to_none=True)
            loss = nn.functional.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            if clip is not None:
                clip(model)
            return loss

        return run

    train_net = analog.to_digital(anet)  # separate copies so training does not touch the programmed chip
    train_anet = analog.to_analog(net, args.preset)
    cases: dict[str, Callable[[], object]] = {
        "digital inference": infer(net),
        "analog inference": infer(anet),
        "digital train step": train_step(train_net, None),
        "analog HWT step": train_step(train_anet, analog.clip_weights_),
    }
    lightning = None if args.no_lightning else _lightning(net, args.preset)
    if lightning is not None:
        l_inf, l_train, l_clip = lightning
        l_inf, l_train = l_inf.to(device), l_train.to(device)
        cases["lightning inference"] = infer(l_inf)
        small = args.lightning_train_batch
        cases[f"lightning digital step b{small}"] = train_step(copy.deepcopy(train_net), None, x[:small], y[:small])
        cases[f"lightning HWT step b{small}"] = train_step(l_train, l_clip, x[:small], y[:small])
    for fn in cases.values():  # warm-up (allocator, kernels, input-range data initialisation starts)
        fn()
    times: dict[str, list[float]] = {name: [] for name in cases}
    cpu_times: dict[str, list[float]] = {name: [] for name in cases}
    for round_ in range(args.repeats):  # interleaved so load changes hit every case
        for name, fn in cases.items():
            if name.startswith("lightning") and round_ >= args.lightning_repeats:
                continue
            wall, cpu = timed(fn, device)
            times[name].append(wall)
            cpu_times[name].append(cpu)
    results = {name: statistics.median(ts) for name, ts in times.items()}
    cpu_results = {name: statistics.median(ts) for name, ts in cpu_times.items()}
    print(cpu_description())
    print(f"network: {source}; device {device}, {args.threads} threads, batch {args.batch}, preset {args.preset}, "
          f"median of {args.repeats} interleaved rounds (wall min-max in brackets; process CPU time, which "
          f"a loaded machine disturbs less, last)")
    for name, seconds in results.items():
        if "inference" in name:
            base_name = "digital inference"
        elif name.startswith("lightning"):
            base_name = f"lightning digital step b{args.lightning_train_batch}"
        else:
            base_name = "digital train step"
        base = results[base_name]
        print(f"  {name:<20} {seconds * 1e3:9.1f} ms  [{min(times[name]) * 1e3:7.1f}-{max(times[name]) * 1e3:7.1f}]"
              f"  {seconds / base:5.2f}x digital   cpu {cpu_results[name] * 1e3:9.1f} ms")
    for label, a, d, target in (("inference ratio analog/digital", "analog inference", "digital inference", 1.5),
                                ("train ratio analog HWT/digital", "analog HWT step", "digital train step", 2.0)):
        print(f"  {label}: {results[a] / results[d]:.2f}x wall, {cpu_results[a] / cpu_results[d]:.2f}x cpu"
              f"  (target <= {target}x)")
    if lightning is None and not args.no_lightning:
        print("  AIHWKit-Lightning not importable (pip install aihwkit-lightning==2.1.*, needs torch 2.13)")
    if args.aihwkit:
        from analognasbench.analog import aihwkit_backend

        knet = aihwkit_backend.to_aihwkit(net, analog.presets.get(args.preset))
        aihwkit_backend.program(knet, 0)
        aihwkit_backend.drift_to(knet, 3600.0)
        k_inf = statistics.median(timed(infer(knet), device)[0] for _ in range(args.repeats))
        k_train = aihwkit_backend.to_aihwkit(net, analog.presets.get(args.preset))
        step = aihwkit_backend.train_step_fn(k_train, x, y)
        step()
        k_step = statistics.median(timed(step, device)[0] for _ in range(args.repeats))
        print(f"  AIHWKit inference {k_inf * 1e3:.1f} ms ({k_inf / results['digital inference']:.1f}x digital)")
        print(f"  AIHWKit HWT step  {k_step * 1e3:.1f} ms ({k_step / results['digital train step']:.1f}x digital)")


if __name__ == "__main__":
    main()
