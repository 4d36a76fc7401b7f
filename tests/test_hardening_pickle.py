"""Issue 16, unpickling: the opcode scan refuses deep nesting and BUILD on anything but the release's records, before
anything loads, and no refused pickle leaves a trace in the process."""

from __future__ import annotations

import io
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from analognasbench.bench import AnalogNASBench, DatasetIntegrityError, UnsafePickleError
from analognasbench.release import original as orig
from analognasbench.release.pickle_scan import MAX_DEPTH, RELEASE_DEPTH, PickleFormatError, scan_pickle

RELEASE = Path("/tmp/orig/whl/analognasbench/data.anb")
REPO = Path(__file__).resolve().parents[1]


def _s(text: str) -> bytes:
    raw = text.encode()
    return b"\x8c" + bytes([len(raw)]) + raw  # SHORT_BINUNICODE


_KEY = b"(" + b"K\x00" * 6 + b"t"  # (0, 0, 0, 0, 0, 0)


def _record(value: bytes) -> bytes:
    """Protocol 4 ``{(0, 0, 0, 0, 0, 0): <value>}``."""
    return b"\x80\x04}(" + _KEY + value + b"u."


def _deep_key(depth: int) -> bytes:
    """``{((((),),),...): None}``: a dict key nested ``depth`` tuples deep (hashing it recurses in C)."""
    return b"\x80\x04}()" + b"\x85" * depth + b"Nu."


def _state() -> tuple:
    return (orig._dtype.__defaults__, dict(orig._dtype.__dict__), orig._scalar.__defaults__,
            dict(orig._scalar.__dict__), orig._latin1.__defaults__, dict(orig._latin1.__dict__),
            orig._reconstructor.__defaults__, dict(vars(orig._OriginalRecord)), dict(vars(orig._OriginalDrift)))


# BUILD on a whitelisted function: (None, {"__defaults__": ("i8",)}) sets its defaults, a dict state its __dict__.
BUILD_ON_FUNCTION_DEFAULTS = _record(_s("numpy") + _s("dtype") + b"\x93N}(" + _s("__defaults__") + _s("i8")
                                     + b"\x85u\x86b")
BUILD_ON_FUNCTION_DICT = _record(_s("numpy") + _s("dtype") + b"\x93}(" + _s("marker") + b"K\x01ub")
BUILD_ON_CLASS = _record(_s("analognasbench.data") + _s("Architecture") + b"\x93N}(" + _s("marker") + b"K\x01u\x86b")
BUILD_ON_PLAIN_OBJECT = _record(_s("builtins") + _s("object") + b")\x81}(" + _s("marker") + b"K\x01ub")


@pytest.mark.parametrize("blob", [BUILD_ON_FUNCTION_DEFAULTS, BUILD_ON_FUNCTION_DICT, BUILD_ON_CLASS,
                                  BUILD_ON_PLAIN_OBJECT],
                         ids=["function-defaults", "function-dict", "class", "plain-object"])
def test_build_on_anything_but_a_release_record_is_refused_and_leaves_no_trace(tmp_path, blob):
    before = _state()
    path = tmp_path / "data.anb"
    path.write_bytes(blob)
    with pytest.raises(UnsafePickleError, match=r"data\.anb: refused before loading: BUILD"):
        AnalogNASBench(path)
    assert _state() == before


def test_whitelisted_functions_are_fresh_objects_even_without_the_scan():
    """Defence in depth: what the unpickler hands out is a copy, so even a BUILD that got through changes nothing."""
    before = _state()
    with pytest.raises(Exception):  # noqa: B017  (the record is then not a record; any error is fine here)
        obj = orig.RestrictedUnpickler(io.BytesIO(BUILD_ON_FUNCTION_DEFAULTS)).load()
        orig.original_to_frame(obj)
    assert _state() == before


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 20_000])
def test_deep_nesting_is_refused_before_loading(tmp_path, depth):
    path = tmp_path / "data.anb"
    path.write_bytes(_deep_key(depth))
    with pytest.raises(UnsafePickleError, match=f"nested {MAX_DEPTH + 1} deep.*needs {RELEASE_DEPTH}"):
        AnalogNASBench(path)


def test_a_deeply_nested_pickle_does_not_kill_the_interpreter(tmp_path):
    """200,000 nested tuples (200 kB) segfaulted the process while hashing the key; now: one line, exit 2."""
    path = tmp_path / "deep.anb"
    path.write_bytes(_deep_key(200_000))
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "analognasbench", "query", "-d", str(path), "0"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-500:])
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1
    assert "deep.anb" in proc.stderr and "nested" in proc.stderr


def test_nesting_up_to_the_limit_still_loads_as_data(tmp_path):
    """The depth limit is about nesting, not content: a normal record dict passes the scan."""
    blob = pickle.dumps({(0, 0, 0, 0, 0, 0): {"baseline_accuracy": 90.0, "noisy_drift_60": "50.0 ± 1.0"}})
    assert scan_pickle(blob, orig.ALLOWED_GLOBALS, orig.BUILDABLE).max_depth <= RELEASE_DEPTH


def test_truncated_opcode_stream_is_a_format_error_not_a_crash(tmp_path):
    blob = pickle.dumps({(0, 0, 0, 0, 0, 0): {"baseline_accuracy": 90.0}}, protocol=4)
    for cut in (1, 5, len(blob) // 2, len(blob) - 1):
        with pytest.raises(PickleFormatError):
            scan_pickle(blob[:cut], orig.ALLOWED_GLOBALS, orig.BUILDABLE)
        path = tmp_path / "t.anb"
        path.write_bytes(blob[:cut])
        with pytest.raises(DatasetIntegrityError, match="truncated or corrupted"):
            AnalogNASBench(path)


def test_the_scan_whitelist_is_the_unpicklers():
    for module, name in orig.ALLOWED_GLOBALS:
        assert orig.RestrictedUnpickler(io.BytesIO(b"")).find_class(module, name) is not None
    with pytest.raises(UnsafePickleError):
        orig.RestrictedUnpickler(io.BytesIO(b"")).find_class("os", "system")


@pytest.mark.skipif(not RELEASE.is_file(), reason="the published release's data.anb is not on this machine")
def test_the_release_needs_exactly_the_depth_the_scan_records():
    report = scan_pickle(RELEASE.read_bytes(), orig.ALLOWED_GLOBALS, orig.BUILDABLE)
    assert report.max_depth == RELEASE_DEPTH and report.opcodes > 2_000_000
