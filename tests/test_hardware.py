"""The AIMC hardware-cost model: hand-computed counts, the model's energy/latency rules, presets, the fast table
against the per-network walk, tile shapes against the project's simulator, the bench hook, the CLI and the
report section."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from bench_fixture import fixture_frame, fixture_meta

from analognasbench import hardware
from analognasbench.bench import costs
from analognasbench.bench.derived import NetworkSpec
from analognasbench.cli import main
from analognasbench.hardware import ChipPresetError, cost_table, get_chip, network_cost
from analognasbench.pipeline.profiles import get_profile
from analognasbench.space import NUM_ARCHITECTURES, from_index, parse

HERMES = "ibm_hermes_pcm_14nm"
PAPER = {"C": 16, "N": 5, "input_size": 32}
LOWCOST = {"C": 8, "N": 1, "input_size": 16}

# ----- hand-computed counts ------------------------------------------------------------------------------------------
# Hermes crossbars are 256x256. A conv is a (k*k*C_in) x C_out matrix; MVMs = tiles x output pixels; DAC = pixels x
# rows x column tiles; ADC = pixels x cols x row tiles.
#
# C=16, N=5, 32x32. Parts every network has (all-none cell = nothing else):
#   stem 27x16 @1024 px: 1 tile, 1024 MVMs, DAC 27,648, ADC 16,384
#   reduction1 (16->32, 256 px): conv_a 144x32: 1 tile, 256, 36,864, 8,192; conv_b 288x32: 2 tiles, 512, 73,728,
#     16,384; downsample 16x32: 1, 256, 4,096, 8,192
#   reduction2 (32->64, 64 px): conv_a 288x64: 2, 128, 18,432, 8,192; conv_b 576x64: 3, 192, 36,864, 12,288;
#     downsample 32x64: 1, 64, 2,048, 4,096
#   classifier 64x10: 1, 1, 64, 10
#   => 12 tiles, 2,433 MVMs, 199,744 DAC, 73,738 ADC
# A 3x3 edge: stage1 144x16 @1024: 1 tile, 1024, 147,456, 16,384; stage2 288x32 @256: 2, 512, 73,728, 16,384;
#   stage3 576x64 @64: 3, 192, 36,864, 12,288. Six edges x five cells per stage (x30):
#   => +180 tiles, +51,840 MVMs, +7,741,440 DAC, +1,351,680 ADC
# A 1x1 edge: 16x16 @1024: 1, 1024, 16,384, 16,384; 32x32 @256: 1, 256, 8,192, 8,192; 64x64 @64: 1, 64, 4,096,
#   4,096 (x30) => +90 tiles, +40,320 MVMs, +860,160 DAC, +860,160 ADC
# All skip: no weights, only joins (node 3 joins 2 tensors, node 4 joins 3: 3 extra inputs per cell).
FIXED_PAPER = (12, 2433, 199744, 73738)
EXPECTED_PAPER = {
    "111111": FIXED_PAPER,  # all none
    "000000": FIXED_PAPER,  # all skip
    "222222": (192, 54273, 7941184, 1425418),  # all nor_conv_3x3
    "333333": (102, 42753, 1059904, 933898),  # all nor_conv_1x1
}
# C=8, N=1, 16x16 (cifar_lowcost): stem 27x8 @256: 1, 256, 6,912, 2,048; reduction1 (8->16, 64 px): conv_a 72x16:
#   1, 64, 4,608, 1,024; conv_b 144x16: 1, 64, 9,216, 1,024; downsample 8x16: 1, 64, 512, 1,024; reduction2
#   (16->32, 16 px): conv_a 144x32: 1, 16, 2,304, 512; conv_b 288x32: 2, 32, 4,608, 1,024; downsample 16x32: 1, 16,
#   256, 512; classifier 32x10: 1, 1, 32, 10  => 9 tiles, 513 MVMs, 28,448 DAC, 7,178 ADC
# 3x3 edge: 72x8 @256: 1, 256, 18,432, 2,048; 144x16 @64: 1, 64, 9,216, 1,024; 288x32 @16: 2, 32, 4,608, 1,024 (x6)
# 1x1 edge: 8x8 @256: 1, 256, 2,048, 2,048; 16x16 @64: 1, 64, 1,024, 1,024; 32x32 @16: 1, 16, 512, 512 (x6)
FIXED_LOWCOST = (9, 513, 28448, 7178)
EXPECTED_LOWCOST = {
    "111111": FIXED_LOWCOST,
    "000000": FIXED_LOWCOST,
    "222222": (33, 2625, 221984, 31754),
    "333333": (27, 2529, 49952, 28682),
}
COUNT_KEYS = ("hw_tiles", "hw_mvms", "hw_dac_conversions", "hw_adc_conversions")


def _counts(values: dict | pd.Series) -> tuple[int, ...]:
    return tuple(int(values[k]) for k in COUNT_KEYS)


def test_lowcost_profile_has_the_size_the_hand_counts_assume() -> None:
    p = get_profile("cifar_lowcost")
    assert (p.C, p.N, p.image_size) == (LOWCOST["C"], LOWCOST["N"], LOWCOST["input_size"])


@pytest.mark.parametrize(("net", "expected"), [(PAPER, EXPECTED_PAPER), (LOWCOST, EXPECTED_LOWCOST)],
                         ids=["C16_N5_32px", "C8_N1_16px"])
def test_uniform_cells_match_hand_counts(net: dict, expected: dict) -> None:
    table = cost_table(list(expected), HERMES, **net)
    for (arch, want), (_, row) in zip(expected.items(), table.iterrows()):
        assert _counts(network_cost(arch, HERMES, **net).totals()) == want, arch
        assert _counts(row) == want, arch


def test_digital_ops_of_joins_and_fixed_part_match_hand_counts() -> None:
    # Fixed digital work, C=16 N=5 32x32: stem BN 2*16*1024 = 32,768; reduction1: ReLU 16,384 + BN 16,384 (conv_a),
    # ReLU 8,192 + BN 16,384 + partial sums 8,192 (conv_b), 2x2 pool 4*16*256 = 16,384, residual add 8,192
    # = 90,112; reduction2: 8,192 + 8,192 + 4,096 (conv_a: ReLU, BN, partial sums), 4,096 + 8,192 + 8,192 (conv_b),
    # pool 4*32*64 = 8,192, add 4,096 = 53,248; last BN+ReLU 3*64*64 = 12,288; global pool 64*64 = 4,096;
    # classifier bias 10  => 192,522.
    none, skip = cost_table(["111111", "000000"], HERMES, **PAPER).itertuples(index=False)
    assert none.hw_digital_ops == 192522
    # all skip: 3 extra join inputs per cell: 5 cells x 3 x (16*32*32 + 32*16*16 + 64*8*8) = 430,080 additions
    assert skip.hw_digital_ops - none.hw_digital_ops == 430080
    # all pool (444444): every node is computed, so all 6 pools run, each (3h-2)^2 * c operations (window sums
    # plus one 1/count multiply per output; stage1: 94^2 * 16 = 141,376), with the same 3 joins as all skip
    pool = cost_table(["444444"], HERMES, **PAPER).iloc[0]
    per_cell = 6 * ((94**2) * 16 + (46**2) * 32 + (22**2) * 64)
    assert pool.hw_digital_ops - skip.hw_digital_ops == 5 * per_cell


def test_dead_and_zero_source_edges_follow_the_forward() -> None:
    # (1->2) conv but node 2 feeds nothing: the conv is not evaluated, so the cell costs what (none on 1->2) costs
    dead, plain = cost_table(["211111", "111111"], HERMES, **PAPER).itertuples(index=False)
    assert dead.hw_tiles == plain.hw_tiles and dead.hw_energy_uj == plain.hw_energy_uj
    # mapping every conv the network holds (as AIHWKit would) adds one 3x3 edge per cell
    mapped = cost_table(["211111"], HERMES, **PAPER, include_unused_edges=True).iloc[0]
    assert mapped.hw_tiles == plain.hw_tiles + 5 * (1 + 2 + 3)
    # a conv leaving a node with no input (node 2 here) is still evaluated; a pool leaving it is not
    conv_from_zero = cost_table(["111112"], HERMES, **PAPER).iloc[0]  # only 3->4 conv; node 3 is zero
    assert conv_from_zero.hw_tiles == plain.hw_tiles + 5 * (1 + 2 + 3)
    pool_from_zero = cost_table(["111114"], HERMES, **PAPER).iloc[0]
    assert pool_from_zero.hw_digital_ops == plain.hw_digital_ops


# ----- the model's energy and latency rules ------------------------------------------------------------------------


def test_stem_energy_and_time_follow_the_documented_formula() -> None:
    chip = get_chip(HERMES)
    stem = network_cost("111111", chip, **PAPER).layers[0]
    m = chip.mvm
    per_mvm = m.energy_nj * 1e3 * (m.fixed_fraction + m.dac_fraction * 27 / 256 + m.adc_fraction * 16 / 256
                                   + m.array_fraction * 27 * 16 / 256**2)
    assert stem.energy_mvm_pj == pytest.approx(1024 * per_mvm)
    assert stem.energy_mvm_pj == pytest.approx(1024 * (m.energy_nj * 1e3 * m.fixed_fraction)
                                               + stem.dac_conversions * chip.dac_energy_pj
                                               + stem.adc_conversions * chip.adc_energy_pj
                                               + stem.weights * 1024 * m.energy_nj * 1e3 * m.array_fraction / 256**2)
    ops = 2 * 16 * 1024  # batch norm
    assert stem.latency_ns == pytest.approx(1024 * m.latency_ns + ops / chip.digital.ops_per_ns)
    assert stem.activation_bytes == 3 * 1024 + 16 * 1024


def test_full_mvm_charging_makes_mvm_energy_proportional_to_mvms() -> None:
    base = get_chip(HERMES)
    flat = replace(base, name="flat", mvm=replace(base.mvm, fixed_fraction=1.0, dac_fraction=0.0, adc_fraction=0.0,
                                                  array_fraction=0.0))
    table = cost_table(None, flat, **LOWCOST)
    assert np.allclose(table.hw_energy_mvm_uj, table.hw_mvms * flat.mvm.energy_nj * 1e-3)


def test_latency_is_mvm_time_plus_digital_time_layer_by_layer() -> None:
    chip = get_chip(HERMES)
    for arch in ("222222", "034210", "444444"):
        cost = network_cost(arch, chip, **LOWCOST)
        mvm_steps = sum(layer.pixels for layer in cost.layers)  # MVM steps: a layer's tiles run in parallel
        ops = sum(layer.digital_ops for layer in cost.layers)
        expected = mvm_steps * chip.mvm.latency_ns + ops / chip.digital.ops_per_ns
        assert cost.latency_ns == pytest.approx(expected)
        assert cost.throughput_inf_per_s == pytest.approx(1e9 / max(layer.latency_ns for layer in cost.layers))


def test_adding_a_conv_edge_adds_mvms_energy_and_latency() -> None:
    # edge (1->4) is always evaluated: none -> 3x3 conv there adds MVMs, and with them energy and latency
    table = cost_table(None, HERMES, **PAPER)
    ops = np.array([from_index(i) for i in range(NUM_ARCHITECTURES)])
    without = np.flatnonzero(ops[:, 2] == 1)
    with_conv = without + (2 - 1) * 5 ** 3  # edge 2's digit has place value 5**3
    assert (ops[with_conv, 2] == 2).all()
    for col in ("hw_mvms", "hw_energy_uj", "hw_energy_mvm_uj", "hw_latency_us", "hw_dac_conversions"):
        assert (table[col].to_numpy()[with_conv] > table[col].to_numpy()[without]).all(), col


def test_larger_crossbars_need_fewer_tiles_and_fewer_conversions_per_mvm() -> None:
    small, large = (cost_table(["222222"], c, **PAPER).iloc[0] for c in (HERMES, "release_512"))
    assert large.hw_tiles < small.hw_tiles and large.hw_mvms < small.hw_mvms
    assert large.hw_dac_conversions <= small.hw_dac_conversions


# ----- presets -----------------------------------------------------------------------------------------------------


def test_hermes_preset_is_derived_from_the_published_figures() -> None:
    chip = get_chip(HERMES)
    # 63.1 TOPS over 64 cores of 2*256*256 operations per MVM; 9.76 TOPS/W
    assert chip.mvm.latency_ns == pytest.approx(1e9 * 64 * 2 * 256 * 256 / 63.1e12)
    assert chip.mvm.latency_ns == pytest.approx(133, abs=0.5)
    assert chip.mvm.energy_nj == pytest.approx(13.43, abs=0.01)
    assert (chip.crossbar.rows, chip.crossbar.cols, chip.crossbar.cores) == (256, 256, 64)
    assert get_chip("release_512").crossbar.rows == 512


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_presets_round_trip_through_files(tmp_path, suffix: str) -> None:
    chip = get_chip("release_512")
    path = tmp_path / f"mine{suffix}"
    if suffix == ".yaml":
        yaml = pytest.importorskip("yaml")
        path.write_text(yaml.safe_dump(chip.to_dict()))
    else:
        path.write_text(chip.to_json())
    loaded = get_chip(str(path))
    assert loaded == chip
    assert cost_table(["222222"], loaded).equals(cost_table(["222222"], chip))


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d["mvm"].update(energy_nj=-1.0), "mvm.energy_nj must be a finite number >= 0"),
    (lambda d: d["crossbar"].update(rows=0), "crossbar.rows must be an integer >= 1"),
    (lambda d: d["digital"].update(add_pj=float("nan")), "digital.add_pj"),
    (lambda d: d["mvm"].update(adc_fraction=0.9), "must sum to 1"),
    (lambda d: d["mvm"].update(latency_ns=0), "mvm.latency_ns must be a finite number > 0"),
    (lambda d: d["crossbar"].update(banks=4), "unknown key crossbar.banks; valid keys of crossbar: rows, cols"),
    (lambda d: d.update(colour="red"), "unknown key 'colour' in the chip preset; valid keys: name"),
    (lambda d: d.pop("mvm"), "lacks the required key 'mvm'"),
])
def test_bad_presets_name_the_field_and_what_was_expected(tmp_path, edit, message: str) -> None:
    data = get_chip(HERMES).to_dict()
    edit(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ChipPresetError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        hardware.load_chip(path)
    assert str(path) in str(info.value)


def test_unknown_preset_name_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="valid chip presets: ibm_hermes_pcm_14nm, release_512"):
        get_chip("hermes")


# ----- fast table == per-network walk ------------------------------------------------------------------------------


@pytest.mark.parametrize(("chip", "net", "unused"), [
    (HERMES, PAPER, False), ("release_512", PAPER, False), (HERMES, LOWCOST, False), (HERMES, LOWCOST, True),
    (HERMES, {"C": 4, "N": 2, "input_size": 8, "num_classes": 3}, False),
])
def test_table_equals_the_per_network_walk(chip: str, net: dict, unused: bool) -> None:
    rng = np.random.default_rng(7)
    cells = [0, 15624, *rng.choice(NUM_ARCHITECTURES, size=25, replace=False).tolist()]
    table = cost_table(cells, chip, include_unused_edges=unused, **net)
    for cell, (_, row) in zip(cells, table.iterrows()):
        walk = network_cost(int(cell), chip, include_unused_edges=unused, **net).totals()
        for key, value in walk.items():
            assert float(row[key]) == pytest.approx(float(value), rel=1e-12), (from_index(int(cell)), key)


def test_table_has_every_documented_column_and_records_its_assumptions() -> None:
    table = cost_table(None, HERMES, **LOWCOST)
    assert len(table) == NUM_ARCHITECTURES and table.arch_index.tolist() == list(range(NUM_ARCHITECTURES))
    assert [c for c in table.columns if c.startswith("hw_")] == list(hardware.COLUMN_INFO)
    assert table.attrs["chip"] == HERMES and table.attrs["C"] == 8 and "not a measurement" in table.attrs["note"]
    for info in hardware.COLUMN_INFO.values():
        assert info.unit and info.description and info.assumption
    assert cost_table(["222222", parse("000000")], HERMES).arch_index.tolist() == [parse("222222").index, 0]
    with pytest.raises(ValueError, match="multiple of 4"):
        cost_table(None, HERMES, input_size=30)


# ----- agreement with the project's simulator (and AIHWKit) ---------------------------------------------------------


def _analog_steps(arch: str, chip: str, **net: int) -> list[tuple[int, int, int, int]]:
    cost = network_cost(arch, chip, include_unused_edges=True, **net)
    return [(s.rows, s.cols, s.tiles_in, s.tiles_out) for s in cost.layers if s.kind != "digital"]


@pytest.mark.parametrize("arch", ["222222", "034210", "211113"])
def test_tile_shapes_agree_with_the_simulators_mapping(arch: str) -> None:
    from analognasbench import analog
    from analognasbench.nets import build_network

    net = {"C": 16, "N": 1}
    model = analog.to_analog(build_network(arch, **net), "pcm_paper")  # 512x512 tiles, every conv mapped
    theirs = [(layer.weight[0].numel(), layer.weight.shape[0], layer.layout.n_in, layer.layout.n_out)
              for layer in analog.analog_layers(model)]
    assert _analog_steps(arch, "release_512", **net, input_size=32) == theirs
    assert analog.presets.get("pcm_paper").mapping.max_input_size == get_chip("release_512").crossbar.rows


def test_split_sizes_equal_the_simulators() -> None:
    from analognasbench.analog.layers import split_sizes

    for size in (1, 27, 255, 256, 257, 576, 1000):
        for tile in (256, 512):
            assert hardware.split_sizes(size, tile) == split_sizes(size, tile)


@pytest.mark.aihwkit
def test_tile_shapes_agree_with_aihwkit() -> None:
    from analognasbench.analog import aihwkit_backend

    if not aihwkit_backend.available():
        pytest.skip(aihwkit_backend.INSTALL_HINT)
    from analognasbench.nets import build_network

    arch, net = "222222", {"C": 16, "N": 1}
    model = aihwkit_backend.to_aihwkit(build_network(arch, **net), "pcm_paper")
    theirs = []
    for layer in model.analog_layers():  # AIHWKit's own TileModuleArray split of every Conv2d/Linear
        tiles = list(layer.analog_tiles())
        theirs.append((len(tiles), sorted({t.in_size for t in tiles}), sorted({t.out_size for t in tiles})))
    ours = network_cost(arch, "release_512", include_unused_edges=True, **net)
    steps = [s for s in ours.layers if s.kind != "digital"]
    assert len(theirs) == len(steps)
    for (count, rows, cols), step in zip(theirs, steps):
        assert count == step.tiles
        assert rows == sorted(set(hardware.split_sizes(step.rows, 512)))
        assert cols == sorted(set(hardware.split_sizes(step.cols, 512)))


# ----- bench hook, CLI, report --------------------------------------------------------------------------------------


def test_bench_cost_columns_use_the_dataset_profile() -> None:
    df = fixture_frame(40, seed=2)
    meta = fixture_meta()
    assert costs.cost_network(meta) == NetworkSpec(16, 5, 10, 32)  # no size in the profile: the paper's
    lowcost = replace(meta, profile=get_profile("cifar_lowcost").to_dict())
    assert costs.cost_network(lowcost) == NetworkSpec(8, 1, 10, 16)
    cols = costs.cost_columns(df, lowcost, "release_512")
    assert cols.index.equals(df.index) and list(cols.columns) == list(costs.COST_COLUMNS)
    assert cols.attrs["chip"] == "release_512" and cols.attrs["input_size"] == 16
    expect = cost_table(df.arch_index.to_numpy(), "release_512", **LOWCOST)
    assert np.array_equal(cols.hw_energy_uj.to_numpy(), expect.hw_energy_uj.to_numpy())
    info = costs.cost_metric_info("hw_energy_uj")
    assert info.unit == "uJ per inference" and "not a measurement" in info.aggregation
    with pytest.raises(ValueError, match="valid: hw_tiles"):
        costs.cost_metric_info("hw_bogus")
    assert "release_512" in costs.describe(lowcost, "release_512")


def test_cli_cost_prints_strict_json(capsys) -> None:
    assert main(["cost", "111111", "--json", "--per-layer"]) == 0
    text = capsys.readouterr().out

    def no_nan(token: str) -> None:
        raise AssertionError(f"non-standard JSON constant {token}")

    doc = json.loads(text, parse_constant=no_nan)
    assert doc["cost"]["hw_tiles"] == 12 and doc["chip"]["name"] == HERMES
    assert any(layer["utilisation"] is None for layer in doc["layers"])  # digital steps: undefined, not NaN


def test_cli_cost_all_writes_the_table(tmp_path, capsys) -> None:
    out = tmp_path / "table.csv"
    assert main(["cost", "--all", "-o", str(out), "--chip", "release_512", "--profile", "cifar_lowcost"]) == 0
    assert "15,625 architectures" in capsys.readouterr().out
    table = pd.read_csv(out)
    assert len(table) == NUM_ARCHITECTURES
    assert math.isclose(table.hw_energy_uj.iloc[5], cost_table([5], "release_512", **LOWCOST).hw_energy_uj.iloc[0])
    assert main(["cost", "222222", "--chip", "nope"]) == 2


def test_report_section_places_robust_cells_against_the_front() -> None:
    from analognasbench.report.pareto import pareto_section, pareto_table
    from analognasbench.report.source import ReportDataset

    df = fixture_frame(300, seed=4)
    t = pareto_table(df, fixture_meta())
    front = t[t.on_front]
    assert len(front) >= 1 and (front.energy_overhead == 1.0).all()
    # nothing off the front beats a front point in both objectives
    for _, row in t[~t.on_front].iterrows():
        assert ((front.analog_drift_86400 >= row.analog_drift_86400) & (front.hw_energy_uj <= row.hw_energy_uj)).any()
    assert (t.energy_overhead.dropna() >= 1.0 - 1e-12).all()
    robust = t[t.robust]
    assert len(robust) and (robust.drift_drop <= t.attrs["robust_drop_threshold"]).all()
    sec = pareto_section(ReportDataset(df, "fixture", fixture_meta().to_dict()))
    assert sec.skipped is None and {"pareto_front", "pareto_robust"} <= set(sec.tables)
    skipped = pareto_section(ReportDataset(df.drop(columns=["analog_drift_60"]), "fixture"))
    assert skipped.skipped and "analog_drift_60" in skipped.skipped
