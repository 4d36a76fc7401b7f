#!/usr/bin/env bash
# The README's test command: installs everything the tests need on a fresh machine, then runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q "torch==2.13.0" -e ".[test]"
bash scripts/system-deps.sh || echo "system packages (slurm, munge, chromium) unavailable: their tests will skip"
python3 -m ruff check analognasbench tests benchmarks
# pytest exits 5 when it collects nothing: that is a failure here too.
# The ten slowest tests are listed: none may take more than a minute.
python3 -m pytest -q -rs --durations=10 "$@"
