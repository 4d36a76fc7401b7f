"""The cost of one layer on a weight-stationary AIMC chip: the model's arithmetic, in one place.

Every weight layer is a matrix: a conv ``(k*k*C_in) x C_out`` (rows = inputs, as AIHWKit unrolls it), a linear
layer ``in x out``. It is split into ``n_in = ceil(rows / R)`` by ``n_out = ceil(cols / C)`` tiles of the chip's
``R x C`` crossbars (equal pieces, AIHWKit's ``TileModuleArray``), each tile on its own core, all resident. Per
inference:

* MVMs: every tile performs one MVM per output pixel (a linear layer: one), so ``mvms = tiles * pixels``;
* DAC conversions: one per used row per MVM, ``pixels * rows * n_out`` (each column block re-reads the inputs);
* ADC conversions: one per used column per MVM, ``pixels * cols * n_in``;
* the ``n_in`` partial sums of each output are added digitally: ``(n_in - 1) * cols * pixels`` additions;
* MVM energy: ``E(r, c)`` per tile (see :class:`~analognasbench.hardware.chips.MVMSpec`); summed over a layer's
  tiles it is ``pixels * E_full * (f_fixed * tiles + f_dac * rows * n_out / R + f_adc * cols * n_in / C +
  f_array * rows * cols / (R * C))``;
* time: the tiles of a layer work in parallel, so ``pixels * t_mvm``, plus its digital work at the chip's
  digital throughput;
* data movement: the layer reads its input feature map and writes its output once, at the DAC/ADC bit widths.

Digital work is counted as additions (also comparisons: ReLU) and multiplications: batch norm in inference is
one multiply and one add per element, ReLU one comparison, 3x3 average pooling (padding 1, averaging over real
pixels) ``count - 1`` additions and one multiply per output, 2x2 average pooling 3 additions and one multiply, the
global average pool ``H*W - 1`` additions and one multiply per channel, every join of ``k`` tensors ``k - 1``
additions per element, the classifier bias one addition per class. Digital-only steps move no bytes in this model
(their operands are in the digital unit's buffers; that cost is inside the per-operation energies).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from analognasbench.hardware.chips import ChipPreset


def n_splits(size: int, max_size: int) -> int:
    """Tiles along one dimension: ``ceil(size / max_size)`` equal pieces (AIHWKit ``get_split_sizes``)."""
    return (size + max_size - 1) // max_size


def split_sizes(size: int, max_size: int) -> list[int]:
    """The equal pieces themselves (AIHWKit ``TileModuleArray.get_split_sizes``): sizes differ by at most one."""
    n = n_splits(size, max_size)
    base, extra = divmod(size, n)
    return [base + (i < extra) for i in range(n)]


@dataclass(frozen=True)
class LayerCost:
    """Cost of one step of one inference: an analog weight layer (with the digital work attached to it) or a
    digital-only step (a pooling edge, a join of tensors, the global pool). Energies in pJ, time in ns."""

    name: str
    """Where it sits, e.g. ``stage2.cell3.edge(1->4)``, ``stage1.cell1.node4.add``, ``reduction1.conv_a``."""
    kind: str
    """``conv``, ``linear`` or ``digital``."""
    rows: int = 0
    """Matrix rows (k*k*C_in or in_features); 0 for digital steps."""
    cols: int = 0
    """Matrix columns (C_out or out_features)."""
    pixels: int = 0
    """Output pixels = MVMs per tile per inference (1 for a linear layer)."""
    tiles_in: int = 0
    tiles_out: int = 0
    tiles: int = 0
    mvms: int = 0
    dac_conversions: int = 0
    adc_conversions: int = 0
    adds: int = 0
    muls: int = 0
    activation_bytes: float = 0.0
    energy_mvm_pj: float = 0.0
    energy_digital_pj: float = 0.0
    energy_movement_pj: float = 0.0
    latency_ns: float = 0.0

    @property
    def weights(self) -> int:
        return self.rows * self.cols

    @property
    def macs(self) -> int:
        return self.rows * self.cols * self.pixels

    @property
    def digital_ops(self) -> int:
        return self.adds + self.muls

    @property
    def energy_pj(self) -> float:
        return self.energy_mvm_pj + self.energy_digital_pj + self.energy_movement_pj

    def utilisation(self, chip: ChipPreset) -> float:
        """Used cells / cells of the layer's tiles (NaN for digital steps)."""
        if not self.tiles:
            return float("nan")
        return self.weights / (self.tiles * chip.crossbar.rows * chip.crossbar.cols)

    def as_dict(self, chip: ChipPreset) -> dict[str, object]:
        out: dict[str, object] = {f.name: getattr(self, f.name) for f in fields(self)}
        out.update(weights=self.weights, macs=self.macs, digital_ops=self.digital_ops, energy_pj=self.energy_pj,
                   utilisation=self.utilisation(chip))
        return out


def matrix_layer(chip: ChipPreset, name: str, kind: str, *, rows: int, cols: int, pixels: int, in_elements: int,
                 out_elements: int, adds: int = 0, muls: int = 0) -> LayerCost:
    """An analog layer: ``rows x cols`` weights used at ``pixels`` output positions, plus ``adds``/``muls`` of
    attached digital work (ReLU, batch norm, bias, pooling in front of it); partial-sum additions are added here."""
    xb, mvm = chip.crossbar, chip.mvm
    n_in, n_out = n_splits(rows, xb.rows), n_splits(cols, xb.cols)
    tiles = n_in * n_out
    adds = adds + (n_in - 1) * cols * pixels
    per_pixel = (mvm.fixed_fraction * tiles + mvm.dac_fraction * rows * n_out / xb.rows
                 + mvm.adc_fraction * cols * n_in / xb.cols + mvm.array_fraction * rows * cols / (xb.rows * xb.cols))
    moved = in_elements * xb.input_bits / 8 + out_elements * xb.output_bits / 8
    digital_pj = adds * chip.digital.add_pj + muls * chip.digital.mul_pj
    return LayerCost(
        name=name, kind=kind, rows=rows, cols=cols, pixels=pixels, tiles_in=n_in, tiles_out=n_out, tiles=tiles,
        mvms=tiles * pixels, dac_conversions=pixels * rows * n_out, adc_conversions=pixels * cols * n_in,
        adds=adds, muls=muls, activation_bytes=moved,
        energy_mvm_pj=1e3 * mvm.energy_nj * pixels * per_pixel, energy_digital_pj=digital_pj,
        energy_movement_pj=moved * chip.memory.byte_pj,
        latency_ns=pixels * mvm.latency_ns + (adds + muls) / chip.digital.ops_per_ns,
    )


def digital_step(chip: ChipPreset, name: str, *, adds: int, muls: int = 0) -> LayerCost:
    """A digital-only step (pooling edge, join of tensors, global pool)."""
    return LayerCost(name=name, kind="digital", adds=adds, muls=muls,
                     energy_digital_pj=adds * chip.digital.add_pj + muls * chip.digital.mul_pj,
                     latency_ns=(adds + muls) / chip.digital.ops_per_ns)


def pool3x3_ops(channels: int, size: int) -> tuple[int, int]:
    """(adds, muls) of a 3x3, stride-1, padding-1 average pool over real pixels on ``channels`` maps of
    ``size x size``: a window covers ``(3*size - 2)**2`` pixel-positions in total over the map (per dimension each
    position sees 2, 3, ..., 3, 2 neighbours), minus one addition per output, plus one multiply per output."""
    covered = (3 * size - 2) ** 2
    return channels * (covered - size * size), channels * size * size
