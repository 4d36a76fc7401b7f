"""CIFAR-10 and synthetic image data: loading, caching, reduction, augmentation and batching.

Public API:

- :func:`load_cifar10` / :func:`default_cifar10_path`: CIFAR-10 from torchvision's
  ``cifar-10-batches-py`` layout (optionally downloaded) or an image-folder tree/archive,
  decoded once into a checksum-keyed cache.
- :func:`synthetic`: a small deterministic generated dataset for tests and smoke runs.
- :class:`ImageData` / :class:`DataProvenance`: uint8 arrays plus where they came from.
- :func:`batches`, :func:`random_crop_flip`, :func:`normalize`: the NAS-Bench-201 training
  augmentation on whole batches of tensors, on CPU or CUDA.
- :func:`downsample`, :func:`stratified_indices`: the reductions used by low-cost profiles.
"""

from .augment import CIFAR10_MEAN, CIFAR10_STD, batches, normalize, random_crop_flip
from .batches_py import CIFAR10_MD5, CIFAR10_URL, download_cifar10
from .cache import default_cache_dir
from .cifar10 import default_cifar10_path, load_cifar10
from .image_data import CIFAR10_CLASSES, DataProvenance, ImageData
from .layouts import ACCEPTED_LAYOUTS, DataLayoutError, SourceLayout
from .preprocess import downsample, stratified_indices
from .synthetic import synthetic

__all__ = [
    "ACCEPTED_LAYOUTS",
    "CIFAR10_CLASSES",
    "CIFAR10_MD5",
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "CIFAR10_URL",
    "DataLayoutError",
    "DataProvenance",
    "ImageData",
    "SourceLayout",
    "batches",
    "default_cache_dir",
    "default_cifar10_path",
    "download_cifar10",
    "downsample",
    "load_cifar10",
    "normalize",
    "random_crop_flip",
    "stratified_indices",
    "synthetic",
]
