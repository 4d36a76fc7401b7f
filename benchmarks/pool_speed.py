"""Speed of the cells' 3x3 average pooling: :func:`analognasbench.nets.ops.avg_pool3x3` against torch's kernel.

Both compute ``avg_pool2d(3, 1, 1, count_include_pad=False)`` with identical bits (``tests/test_nets.py``); on CPU
torch's NCHW kernel is scalar, so the shifted-sum path is used on maps of ``SHIFTED_POOL_MIN_PIXELS`` or more.
Prints, per feature-map shape of the ``cifar_lowcost`` profile (C=8, 16x16 images; training batch 128, evaluation
batch 1000), the best-of-``--repeats`` time of forward + backward and of forward alone, and torch / fast ratios
measured interleaved in one run.

    python benchmarks/pool_speed.py [--threads 1] [--repeats 20]
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F
from analog_speed import best_time  # this folder's timing helper (scripts run with benchmarks/ on sys.path)

from analognasbench.nets.ops import avg_pool3x3

CPU = torch.device("cpu")


def _torch_pool(x: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="torch threads (sweep workers use 1)")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    shapes = [(128, 8, 16, 16), (128, 16, 8, 8), (128, 32, 4, 4), (1000, 8, 16, 16), (1000, 16, 8, 8), (1000, 32, 4, 4)]
    print(f"{'shape':>20} {'torch fwd+bwd':>14} {'fast':>8} {'ratio':>6} {'torch fwd':>10} {'fast':>8} {'ratio':>6}")
    for shape in shapes:
        x = torch.randn(shape, requires_grad=True)
        grad = torch.randn(shape)
        row = []
        for pool in (_torch_pool, avg_pool3x3):
            row.append(best_time(lambda pool=pool, x=x, grad=grad: torch.autograd.grad(pool(x), x, grad),
                                  args.repeats, CPU))
        with torch.no_grad():
            for pool in (_torch_pool, avg_pool3x3):
                row.append(best_time(lambda pool=pool, x=x: pool(x), args.repeats, CPU))
        tb, fb, tf, ff = (1e3 * t for t in row)
        print(f"{str(shape):>20} {tb:>11.2f} ms {fb:>5.2f} ms {tb / fb:>6.2f} {tf:>7.2f} ms {ff:>5.2f} ms {tf / ff:>6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
