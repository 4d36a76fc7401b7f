"""A script written for the original AnalogNAS-Bench release runs unchanged.

It runs against the embedded default dataset when one is shipped, otherwise against a test fixture selected
through ``$ANB_DATASET`` (the script itself never names a dataset, exactly like the original's users).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from bench_fixture import write_fixture

from analognasbench.bench import DEFAULT_DATASET, available_datasets
from analognasbench.bench.registry import ENV_VAR

ROOT = Path(__file__).resolve().parents[1]

USER_SCRIPT = textwrap.dedent('''
    import random
    from analognasbench.data import AnalogNASBench, DriftMeasurement

    def fitness(benchmark, arch, metric="analog_drift_86400"):
        result = benchmark.query_metric(arch, metric)
        if isinstance(result, str) and result == "architecture not found":
            return float("-inf")
        if isinstance(result, DriftMeasurement):
            return result.value
        elif isinstance(result, (int, float)):
            return float(result)
        return float("-inf")

    def random_search(num_samples=300, metric="analog_drift_86400", seed=42):
        random.seed(seed)
        benchmark = AnalogNASBench()
        all_archs = benchmark.list_available_architectures()
        best_arch, best = None, -float("inf")
        for _ in range(num_samples):
            arch = random.choice(all_archs)
            value = fitness(benchmark, arch, metric)
            if value > best:
                best_arch, best = arch, value
        return best_arch, best

    def mutate(arch, valid_range=(0, 5), rate=0.5):
        # the release's example mutates into range(0, 6): op 5 does not exist and must come back "not found"
        if random.random() < rate:
            a = list(arch)
            a[random.randint(0, len(a) - 1)] = random.randint(valid_range[0], valid_range[1])
            return tuple(a)
        return arch

    def evolution(pop_size=30, generations=15, metric="analog_drift_86400", seed=42):
        random.seed(seed)
        benchmark = AnalogNASBench()
        all_archs = benchmark.list_available_architectures()
        population = [random.choice(all_archs) for _ in range(pop_size)]
        fit = {a: fitness(benchmark, a, metric) for a in population}
        best_arch = max(population, key=lambda a: fit[a])
        for gen in range(generations):
            children = []
            while len(children) < pop_size:
                p1 = max(random.sample(population, 3), key=lambda a: fit[a])
                p2 = max(random.sample(population, 3), key=lambda a: fit[a])
                point = random.randint(1, 5)
                children.append(mutate(p1[:point] + p2[point:]))
            for a in children:
                if a not in fit:
                    fit[a] = fitness(benchmark, a, metric)
            population = children
            cand = max(population, key=lambda a: fit[a])
            if fit[cand] > fit[best_arch]:
                best_arch = cand
        not_found = sum(1 for v in fit.values() if v == float("-inf"))
        return best_arch, fit[best_arch], not_found

    benchmark = AnalogNASBench()
    brute = max(benchmark.list_available_architectures(),
                key=lambda a: benchmark.query_metric(a, "analog_drift_86400").value)
    print("Brute force best:", brute, benchmark.query_metric(brute, "analog_drift_86400"))
    arch, value = random_search()
    print("Random search best:", arch, value)
    arch, value, not_found = evolution()
    print("Evolution best:", arch, value, "not found:", not_found)
    print(benchmark.get_architecture_details(arch))
    print("Missing:", benchmark.get_architecture_details((9, 9, 9, 9, 9, 9)))
    probe = benchmark.list_available_architectures()[0]  # a partial dataset need not hold any one fixed cell
    d = benchmark.query_metric(probe, "noisy_drift_3600")
    print("noisy_drift_3600 :", d, "value", d.value if isinstance(d, DriftMeasurement) else d)
    print("analog_accuracy :", benchmark.query_metric(probe, "analog_accuracy"))
    try:
        benchmark.query_metric((0, 0, 0, 4, 3, 2), "accuracy")
    except ValueError as e:
        print("ValueError:", e)
''')


@pytest.fixture(scope="module")
def dataset_env(tmp_path_factory):
    env = dict(os.environ)
    if DEFAULT_DATASET in available_datasets():
        env.pop(ENV_VAR, None)
    else:
        env[ENV_VAR] = str(write_fixture(tmp_path_factory.mktemp("user"), n=400, seed=5))
    return env


def test_original_user_script_runs_unchanged(dataset_env, tmp_path):
    script = tmp_path / "user_search.py"
    script.write_text(USER_SCRIPT)
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=dataset_env,
                            cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = {line.split(":")[0]: line for line in result.stdout.splitlines() if ":" in line}
    brute = float(lines["Brute force best"].rsplit(")", 1)[1].split("±")[0])
    random_best = float(lines["Random search best"].rsplit(")", 1)[1])
    evo_best = float(lines["Evolution best"].rsplit(")", 1)[1].split("not found")[0])
    # Brute force over the listed architectures is the optimum; the searches cannot beat it.
    assert random_best <= brute and evo_best <= brute + 1e-9
    assert int(lines["Evolution best"].rsplit(":", 1)[1]) > 0  # op 5 mutations were answered "not found"
    assert "Missing: Architecture not found." in result.stdout
    assert "Architecture Details:" in result.stdout
    assert " ± " in lines["noisy_drift_3600 "]
    assert "Available metrics" in lines["ValueError"]
    float(lines["analog_accuracy "].split(":", 1)[1])
