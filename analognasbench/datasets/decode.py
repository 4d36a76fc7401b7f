"""Decoding encoded image files (JPEG, PNG, ...) into one uint8 array, optionally in parallel.

Kept free of torch imports so that worker processes start quickly. Workers are forked (where the
platform allows) rather than spawned: spawning would re-import the caller's ``__main__``, which
breaks user scripts without an ``if __name__ == "__main__"`` guard.
"""

from __future__ import annotations

import io
import logging
import multiprocessing
import os
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
from PIL import Image, UnidentifiedImageError

logger = logging.getLogger(__name__)

CHUNK_SIZE = 2500
"""Images per task sent to a worker: large enough to amortise inter-process overhead."""

MIN_PARALLEL = 4 * CHUNK_SIZE
"""Below this many images a process pool costs more than it saves."""


@dataclass(frozen=True, eq=False)
class DecodedSplits:
    """Decoded images of both splits in ``(N, 3, H, W)`` uint8 with int64 labels.

    ``lossy`` records whether the source images were JPEG (pixel values differ slightly from
    the original binary release), which results must mention.
    """

    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    classes: tuple[str, ...]
    lossy: bool


class ImageDecodeError(ValueError):
    """An image could not be decoded or has an unexpected size (``name`` says which)."""

    def __init__(self, name: str, problem: str) -> None:
        self.name = name
        self.problem = problem
        super().__init__(f"image {name}: {problem}")

    def __reduce__(self) -> tuple[type, tuple[str, str]]:  # keep both fields across processes
        return (type(self), (self.name, self.problem))


def decode_rgb(name: str, payload: bytes) -> np.ndarray:
    """One image as a ``(H, W, 3)`` uint8 array; grey or palette images are converted to RGB."""
    try:
        with Image.open(io.BytesIO(payload)) as img:
            rgb = img.convert("RGB") if img.mode != "RGB" else img
            rgb.load()
            return np.asarray(rgb, dtype=np.uint8)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImageDecodeError(name, f"cannot decode ({type(exc).__name__}: {exc})") from None


def _decode_chunk(items: Sequence[tuple[str, bytes]], shape: tuple[int, int, int]) -> np.ndarray:
    out = np.empty((len(items), *shape), dtype=np.uint8)
    for i, (name, payload) in enumerate(items):
        arr = decode_rgb(name, payload)
        if arr.shape != shape:
            raise ImageDecodeError(
                name,
                f"has size {arr.shape[1]}x{arr.shape[0]}, expected {shape[1]}x{shape[0]} like the others",
            )
        out[i] = arr
    return out


def default_workers() -> int:
    """At most two worker processes: decoding is fast and the cache makes it a one-off."""
    return max(1, min(2, os.cpu_count() or 1))


def decode_images(
    items: Sequence[tuple[str, bytes]],
    workers: int | None = None,
    *,
    chunk_size: int = CHUNK_SIZE,
    min_parallel: int = MIN_PARALLEL,
) -> np.ndarray:
    """Decode ``(name, bytes)`` pairs into an ``(N, H, W, 3)`` uint8 array in input order.

    All images must have the size of the first one. ``workers`` > 1 uses a forked process pool
    when there are enough images for it to pay off; errors name the offending image.
    """
    if not items:
        return np.empty((0, 0, 0, 3), dtype=np.uint8)
    shape = decode_rgb(*items[0]).shape
    workers = default_workers() if workers is None else workers
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    # Daemonic processes (e.g. some pool or cluster workers) may not start children, and forking
    # from a non-main thread (a Dask task, say) risks inheriting locks held by other threads.
    can_fork = (
        "fork" in multiprocessing.get_all_start_methods()
        and sys.platform != "darwin"
        and not multiprocessing.current_process().daemon
        and threading.current_thread() is threading.main_thread()
    )
    if workers == 1 or len(items) < min_parallel or not can_fork:
        return _decode_chunk(items, shape)
    chunks = [items[i : i + chunk_size] for i in range(0, len(items), chunk_size)]
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        parts = list(pool.map(_decode_chunk, chunks, [shape] * len(chunks)))
    return np.concatenate(parts, axis=0)
