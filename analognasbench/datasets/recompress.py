"""More generations of the JPEG compression the shipped CIFAR-10 images went through once.

The shipped images are JPEG at quality 75 with 4:2:0 chroma subsampling; the release trained on the lossless
binary files, which this project cannot read. What the first generation of compression cost cannot be measured
without them, but the cost of the next ones can: re-encode the images the same way with the 8x8 block grid (and the
2x2 chroma grid) moved, so that each generation quantises a new grid rather than re-quantising the old one (which
changes almost nothing: 50 dB). Each moved generation then loses about as much as the one before (peak
signal-to-noise ratio against its input 31.7, 32.3, 32.5, 32.6 dB for the first four further generations, on 500
class-stratified shipped test images: ``python benchmarks/jpeg_generations.py --psnr 500``), so the accuracy lost
per added generation estimates what the first one cost.
"""

from __future__ import annotations

import dataclasses
import io

import numpy as np
from PIL import Image

from analognasbench.datasets.image_data import ImageData

#: Grid offsets (pixels, in both axes) of the added generations: odd, so that the 2x2 chroma grid moves off the
#: shipped one's, and different modulo 8 from each other and from the shipped grid's 0, so that no generation
#: re-quantises an earlier one's blocks.
GRID_OFFSETS: tuple[int, ...] = (3, 5, 7, 1)

#: The shipped images' encoding: the IJG tables at quality 75, chroma sampled 2x2 (PIL's ``subsampling=2``).
QUALITY = 75
SUBSAMPLING_420 = 2


def recompress_images(images: np.ndarray, generations: int, *, quality: int = QUALITY) -> np.ndarray:
    """``images`` (uint8, ``(N, 3, H, W)``) after ``generations`` more JPEG generations at ``quality`` and 4:2:0,
    each with its block grid at the next of :data:`GRID_OFFSETS` (the image reflect-padded by the offset before
    encoding and cropped back after decoding). ``generations=0`` returns the images unchanged."""
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"images must be a uint8 array of shape (N, 3, H, W); got {images.dtype} {images.shape}")
    if not 0 <= generations <= len(GRID_OFFSETS):
        raise ValueError(f"generations must be 0..{len(GRID_OFFSETS)} (one grid offset each); got {generations}")
    if not 1 <= quality <= 95:
        raise ValueError(f"quality must be 1..95 (PIL's JPEG range); got {quality}")
    out = np.ascontiguousarray(images.transpose(0, 2, 3, 1))  # PIL wants (H, W, 3)
    for offset in GRID_OFFSETS[:generations]:
        out = np.stack([_reencode(img, offset, quality) for img in out])
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2))


def _reencode(img: np.ndarray, offset: int, quality: int) -> np.ndarray:
    h, w = img.shape[:2]
    pad = ((offset, 8 - offset), (offset, 8 - offset), (0, 0))
    buf = io.BytesIO()
    Image.fromarray(np.pad(img, pad, mode="reflect")).save(buf, "JPEG", quality=quality,
                                                          subsampling=SUBSAMPLING_420)
    with Image.open(buf) as decoded:
        return np.asarray(decoded.convert("RGB"))[offset:offset + h, offset:offset + w]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio (dB) between two uint8 image arrays (``inf`` when equal)."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * float(np.log10(255.0**2 / mse)) if mse else float("inf")


def generation_psnr(images: np.ndarray, generations: int, *, quality: int = QUALITY) -> list[float]:
    """The peak signal-to-noise ratio of each of ``generations`` further generations against its input: whether
    each moved generation loses about as much as the one before (the premise of the estimate)."""
    out, previous = [], images
    for g in range(1, generations + 1):
        current = recompress_images(images, g, quality=quality)
        out.append(psnr(previous, current))
        previous = current
    return out


def recompressed(data: ImageData, generations: int, *, quality: int = QUALITY) -> ImageData:
    """``data`` with both splits :func:`recompress_images`'d; its provenance says how (``note``)."""
    if generations == 0:
        return data
    note = (f"{generations} more JPEG generation(s) at quality {quality}, 4:2:0, grid offsets "
            f"{GRID_OFFSETS[:generations]}")
    prov = dataclasses.replace(data.provenance,
                               note="; ".join(p for p in (data.provenance.note, note) if p))
    return dataclasses.replace(data, train_x=recompress_images(data.train_x, generations, quality=quality),
                               test_x=recompress_images(data.test_x, generations, quality=quality),
                               provenance=prov)
