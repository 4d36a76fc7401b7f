"""Fresh Gaussian noise for every analog MVM output, fast on CPU.

The simulator adds output noise to every element of every analog layer's output on every forward (about 230
million numbers per NAS-Bench-201 forward at batch 256). ``torch.randn`` on CPU runs on the single-threaded
Mersenne twister (about 3.5 ns a number here), which would dominate the analog overhead. Two methods:

``exact``  ``torch.randn`` from the source's ``torch.Generator`` (used on CUDA, where it is fast).

``fast``   (CPU default) 16 random bits per number from numpy's SFC64 generator (about 0.4 ns per 16 bits), turned
           into a sum of four uniform 4-bit integers (Irwin-Hall, 61 levels, computed for four numbers at once
           with SWAR bit arithmetic on int64 words), then mapped through an odd cubic fitted to the normal
           quantile function of that sum. Properties (checked in ``tests/test_analog_noise.py``): mean exactly 0,
           exactly symmetric, variance exactly 1 (the cubic is normalised against the exact distribution),
           kurtosis 2.98 instead of 3, independent across elements and calls; it is discrete (61 values) and its
           tails stop at 3.71 sigma (a true normal exceeds that with probability 2e-4). In the simulator it is
           added to an analog output whose noise std is half an ADC step and then rounded to the ADC grid, where
           these differences are invisible next to the rounding.
"""

from __future__ import annotations

import hashlib
import statistics
import threading

import numpy as np
import torch

from analognasbench.enums import ClosedSet


class NoiseMethod(ClosedSet, what="noise method"):
    """How standard-normal numbers are drawn."""

    AUTO = "auto"
    FAST = "fast"
    EXACT = "exact"


def _cubic_coefficients() -> tuple[float, float]:
    """Weighted least-squares odd cubic z = a*w + b*w^3 from w = (sum of four uniform nibbles) - 30 to the normal
    quantiles of that sum's distribution, scaled to unit variance under the exact distribution."""
    p1 = np.full(16, 1 / 16)
    pmf = p1
    for _ in range(3):
        pmf = np.convolve(pmf, p1)
    w = np.arange(61) - 30.0
    mid_cdf = np.cumsum(pmf) - pmf / 2
    normal = statistics.NormalDist()
    target = np.array([normal.inv_cdf(float(c)) for c in mid_cdf])
    design = np.stack([w, w**3], axis=1) * np.sqrt(pmf)[:, None]
    coef, *_ = np.linalg.lstsq(design, target * np.sqrt(pmf), rcond=None)
    z = coef[0] * w + coef[1] * w**3
    scale = 1 / np.sqrt(float((pmf * z * z).sum()))
    return float(coef[0] * scale), float(coef[1] * scale)


_A, _B = _cubic_coefficients()
_M4 = 0x0F0F0F0F0F0F0F0F
_M8 = 0x00FF00FF00FF00FF
_NUMPY_FLOAT = (torch.float32, torch.float64, torch.float16)
_FUSED_FLOAT = (torch.float32, torch.float64)


def _seed_words(seed: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(int(seed) % (2**128))


def _state_seed(bits: dict, torch_state: torch.Tensor) -> int:
    """A 63-bit seed that is a function of a saved stream state (its SFC64 words and torch generator bytes)."""
    digest = hashlib.sha256(repr(sorted(bits["state"].items())).encode())
    digest.update(torch_state.cpu().numpy().tobytes())
    return int.from_bytes(digest.digest()[:8], "little") >> 1


class GaussianSource:
    """A seeded stream of standard-normal numbers on one device; each call draws fresh numbers."""

    def __init__(self, seed: int, device: torch.device | str = "cpu", method: NoiseMethod | str = "auto"):
        self.requested = NoiseMethod.parse(method)
        self.device = torch.device(device)
        self.reseed(seed)

    @property
    def method(self) -> NoiseMethod:
        """The method in use (``auto`` resolves to ``fast`` on CPU, ``exact`` elsewhere)."""
        if self.requested is NoiseMethod.AUTO:
            return NoiseMethod.FAST if self.device.type == "cpu" else NoiseMethod.EXACT
        return self.requested

    def reseed(self, seed: int) -> None:
        """Restart the stream from ``seed`` (so a whole evaluation is reproducible from it)."""
        self.seed = int(seed)
        words = _seed_words(seed)
        self._bits = np.random.SFC64(words)
        self._torch_gen = torch.Generator(device=self.device)
        self._torch_gen.manual_seed(int(words.generate_state(1, np.uint64)[0] >> np.uint64(1)))

    @property
    def torch_generator(self) -> torch.Generator:
        """The generator of the ``exact`` method (every draw on CUDA): a CUDA graph that draws from it must have it
        registered, or each replay would reuse the numbers drawn at capture."""
        return self._torch_gen

    def to(self, device: torch.device | str) -> GaussianSource:
        """Move to ``device``; the stream restarts from the last seed (generators are per device)."""
        device = torch.device(device)
        if device != self.device:
            self.device = device
            self.reseed(self.seed)
        return self

    def __deepcopy__(self, memo: dict) -> GaussianSource:
        clone = GaussianSource(self.seed, self.device, self.requested)
        clone.set_state(self.get_state())
        return clone

    def get_state(self) -> dict:
        """Where the stream stands (picklable): a checkpoint restores it with :meth:`set_state` to draw on exactly
        as an uninterrupted run would."""
        bits = self._bits.state
        words = {k: [int(v) for v in np.asarray(w).ravel()] for k, w in bits["state"].items()}
        return {"seed": self.seed, "bits": {**bits, "state": words}, "torch": self._torch_gen.get_state(),
                "device": self.device.type}

    def set_state(self, state: dict) -> None:
        """Continue the stream from a :meth:`get_state` of a source of the same seed.

        A state saved on another kind of device (a CPU checkpoint resumed on CUDA, say) cannot continue torch's
        generator: CPU and CUDA generators differ in kind and state size. Its torch generator is then re-seeded
        from the whole saved state, so the resumed stream is still a deterministic function of the checkpoint,
        though not the numbers an uninterrupted run on one device would draw (those differ between devices
        anyway). States saved before the device was recorded are recognised by their size."""
        if int(state["seed"]) != self.seed:
            self.reseed(int(state["seed"]))
        bits = state["bits"]
        self._bits.state = {**bits, "state": {k: np.asarray(v, dtype=np.uint64) for k, v in bits["state"].items()}}
        saved = state["torch"]
        own = self._torch_gen.get_state()
        if state.get("device", self.device.type) == self.device.type and saved.numel() == own.numel():
            self._torch_gen.set_state(saved)
        else:
            self._torch_gen.manual_seed(_state_seed(bits, saved))

    def standard_normal(self, n: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """``n`` fresh standard-normal numbers (flat tensor on the source's device)."""
        if self.method is NoiseMethod.EXACT or self.device.type != "cpu":
            return torch.randn(n, generator=self._torch_gen, device=self.device, dtype=dtype)
        return self._fill_fast(torch.empty(n, dtype=dtype))

    def add_(self, out: torch.Tensor, std: float) -> torch.Tensor:
        """``out += std * N(0, 1)`` in place, fresh numbers for every element.

        On the ``fast`` path the numbers are the same draws as :meth:`standard_normal`'s (same bits, same 61
        levels) and ``std`` is folded into the cubic: ``out += w * (std*A + std*B * w**2)`` in two fused passes
        instead of five plus the add. Equal to ``out + std * z`` up to float rounding (relative 2e-7 per number)."""
        if std == 0:
            return out
        if self.method is NoiseMethod.EXACT or self.device.type != "cpu":
            return out.add_(self.standard_normal(out.numel(), out.dtype).view(out.shape), alpha=std)
        if out.dtype not in _FUSED_FLOAT:
            noise = self._fill_fast(scratch("noise", out.numel(), out.dtype, out.device))
            return out.add_(noise.view(out.shape), alpha=std)
        n = out.numel()
        w = self._centred_sums(n, out.dtype, out.device)  # the numbers live only until added: reused buffers
        cubic = torch.addcmul(torch.tensor(std * _A, dtype=out.dtype), w, w, value=std * _B,
                              out=scratch("noise", n, out.dtype, out.device))
        return out.addcmul_(w.view(out.shape), cubic.view(out.shape))

    def _centred_sums(self, n: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
        """The next ``n`` values w = (sum of four uniform nibbles) - 30, in [-30, 30], as a flat float tensor in a
        reused buffer (valid until the next draw).

        The integer steps run in numpy, in place: torch's int64 ops with a Python-int operand and its int16 ->
        float conversion are not vectorised on CPU (about 10x slower); intermediate arrays are reused buffers
        (a fresh large tensor costs more in page faults than the arithmetic). Two SWAR steps: the bytes of
        each 64-bit word become sums of two nibbles, then each 16-bit lane ``b0 + 256*b1`` times 257 holds
        ``b0 + b1`` in its high byte (mod 2**16; ``b0 + b1 <= 60``), and an arithmetic shift after subtracting
        ``30 << 8`` leaves ``b0 + b1 - 30``. Same values as the plain
        ``(s & M4) + (s >> 4 & M4) + (s >> 8 & M4) + (s >> 12 & M4) - 30`` per 16 bits."""
        words = self._bits.random_raw((n + 3) // 4).view(np.int64)
        s = scratch("noise-int", words.size, torch.int64, device).numpy()
        np.bitwise_and(words, _M4, out=s)
        np.right_shift(words, 4, out=words)
        words &= _M4
        s += words  # 8 bytes, each the sum of 2 nibbles (0..30)
        lanes = s.view(np.int16)
        np.multiply(lanes, 257, out=lanes)  # wraps mod 2**16 by design
        lanes -= 30 << 8
        lanes >>= 8  # 4 int16 lanes, each the sum of 4 nibbles minus 30 (-30..30)
        w = scratch("noise-w", n, dtype, device)
        if dtype in _NUMPY_FLOAT:
            np.copyto(w.numpy(), lanes[:n], casting="unsafe")  # exact; torch's int16 -> float is slow
        else:
            w.copy_(torch.from_numpy(lanes[:n]))
        return w

    def _fill_fast(self, out: torch.Tensor) -> torch.Tensor:
        """Fill the flat CPU tensor ``out`` with the ``fast`` method's next ``out.numel()`` numbers:
        ``z = (w * w * B + A) * w``."""
        w = self._centred_sums(out.numel(), out.dtype, out.device)
        return torch.mul(w, w, out=out).mul_(_B).add_(_A).mul_(w)


class _Scratch(threading.local):
    def __init__(self) -> None:
        self.buffers: dict[tuple, torch.Tensor] = {}


_SCRATCH = _Scratch()


def scratch(slot: str, numel: int, dtype: torch.dtype, device: torch.device | str) -> torch.Tensor:
    """A flat buffer of ``numel`` elements reused between calls with the same ``slot`` (per thread, dtype and
    device); its contents are valid only until the next call for that slot. For temporaries of the analog
    forward pass, which would otherwise be fresh allocations of tens of MB each, paid for in page faults."""
    key = (slot, dtype, torch.device(device))
    buf = _SCRATCH.buffers.get(key)
    if buf is None or buf.numel() < numel:
        buf = torch.empty(numel, dtype=dtype, device=device)
        _SCRATCH.buffers[key] = buf
    return buf[:numel]


def release_scratch() -> None:
    """Free this thread's reused buffers (they hold about 3x the largest analog layer output)."""
    _SCRATCH.buffers.clear()
