"""A profile's images packed into one small ``.npz`` file, to carry to a GPU machine or cluster node.

A profile measures on a fixed, seeded subset (e.g. 10,000 + 1,000 images at 16x16 for ``cifar_lowcost``: 8 MiB), so
the workers of a remote sweep need that subset, not the 160 MiB archive. The file records the profile hash it was
made for and the source's provenance; loading it for another profile's data settings is refused. Packed CIFAR-10 is
derived data: keep it out of version control.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from analognasbench.datasets import DataProvenance, ImageData
from analognasbench.pipeline.profiles import Profile

PACKED_SUFFIX = ".npz"
_FORMAT = "analognasbench-packed-data-v1"
#: Profile fields that decide which images a profile sees; a packed file must agree on all of them.
DATA_FIELDS = ("dataset", "image_size", "train_subset", "test_subset", "num_classes", "data_seed")


def write_with_header(path: Path, header: dict, **arrays: np.ndarray) -> Path:
    """Write ``arrays`` and a JSON ``header`` to ``path`` (.npz, uncompressed) through a temporary file."""
    tmp = path.with_name(path.name + ".tmp.npz")
    try:
        np.savez(tmp, header=np.array(json.dumps(header)), **arrays)
        tmp.replace(path)
    except BaseException:  # a failed or interrupted write leaves no temporary file behind (and the old file whole)
        tmp.unlink(missing_ok=True)
        raise
    return path


def read_with_header(path: Path, names: tuple[str, ...], what: str) -> tuple[dict, dict[str, np.ndarray]]:
    """The JSON header and the arrays ``names`` of a file from :func:`write_with_header`; a damaged or foreign file
    is a ``ValueError`` that says it is not ``what``."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            return json.loads(str(npz["header"])), {k: npz[k] for k in names}
    except (OSError, KeyError, ValueError) as exc:
        raise ValueError(f"{path} is not {what} ({exc})") from None


def _data_key(profile: Profile) -> dict[str, object]:
    d = profile.to_dict()
    return {k: d[k] for k in DATA_FIELDS}


def pack_profile_data(profile: Profile, data: ImageData, out: str | Path) -> Path:
    """Write ``data`` (as loaded for ``profile``) to ``out`` (.npz, uncompressed); returns the path."""
    path = Path(out)
    if path.suffix != PACKED_SUFFIX:
        path = path.with_suffix(PACKED_SUFFIX)
    header = {"format": _FORMAT, "data": _data_key(profile), "classes": list(data.classes),
              "provenance": data.provenance.as_dict()}
    return write_with_header(path, header, train_x=data.train_x, train_y=data.train_y, test_x=data.test_x,
                             test_y=data.test_y)


def load_packed(path: str | Path, profile: Profile) -> ImageData:
    """Read a packed file, checking that it holds the images ``profile`` measures on."""
    p = Path(path)
    header, arrays = read_with_header(p, ("train_x", "train_y", "test_x", "test_y"),
                                      "a packed data file of analognasbench (make one with 'anb pack-data "
                                      "--profile P --data PATH --out FILE.npz')")
    if header.get("format") != _FORMAT:
        raise ValueError(f"{p}: unknown packed-data format {header.get('format')!r}, expected {_FORMAT!r}")
    want = _data_key(profile)
    if header["data"] != want:
        diff = {k: (header["data"].get(k), v) for k, v in want.items() if header["data"].get(k) != v}
        raise ValueError(f"{p} was packed for other data settings than profile {profile.name!r}: "
                         + ", ".join(f"{k} {a!r} (file) vs {b!r} (profile)" for k, (a, b) in diff.items()))
    provenance = DataProvenance(**header["provenance"])
    return ImageData(classes=tuple(header["classes"]), provenance=provenance, **arrays)


__all__ = ["DATA_FIELDS", "PACKED_SUFFIX", "load_packed", "pack_profile_data"]
