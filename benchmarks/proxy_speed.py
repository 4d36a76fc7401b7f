"""Seconds per architecture of every zero-cost proxy, on the first architectures of the proxies' class order.

The release's network (C=16, N=5), one minibatch of 64 images (CIFAR-10 if found, else synthetic), one thread
by default. Prints, per proxy, the mean and max seconds over the sample, and the total per architecture with
the projected time for all 6,466 classes on one worker -- the number the background job and the GPU script
are planned from.

    python benchmarks/proxy_speed.py [--n 8] [--device cpu|cuda] [--threads 1] [--data synthetic]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from analognasbench.predict import ProxyConfig, compute_row, load_images, proxy_names, synthetic_images
from analognasbench.space import NUM_CLASSES, seeded_order


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=8, help="architectures to time (from the start of the order)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--data", default=None, help="CIFAR-10 source, packed .npz, or 'synthetic'")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = ProxyConfig()
    try:
        images = load_images(config, args.data)
    except (FileNotFoundError, ValueError) as exc:
        print(f"no CIFAR-10 ({exc}); timing on synthetic images")
        images = synthetic_images(config)
    batches = images.batches(args.device)
    archs = seeded_order(0)[: args.n]
    compute_row(archs[0], batches, config, device=args.device)  # warm-up (allocator, kernels)
    seconds = {name: [] for name in proxy_names()}
    wall = []
    for arch in archs:
        start = time.perf_counter()
        row = compute_row(arch, batches, config, device=args.device)
        wall.append(time.perf_counter() - start)
        for name, s in row.seconds.items():
            seconds[name].append(s)
    print(f"{args.n} architectures, {args.device}, {args.threads} thread(s), {images.source} images, "
          f"batch {config.batch_size} x {config.n_batches}")
    print(f"{'proxy':<16} {'mean s':>8} {'max s':>8}")
    for name, values in seconds.items():
        print(f"{name:<16} {np.mean(values):8.3f} {np.max(values):8.3f}")
    mean = float(np.mean(wall))
    print(f"{'per arch':<16} {mean:8.3f} {np.max(wall):8.3f}")
    print(f"projected for all {NUM_CLASSES} classes on one worker: {mean * NUM_CLASSES / 3600:.2f} h")


if __name__ == "__main__":
    main()
