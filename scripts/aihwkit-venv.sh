#!/usr/bin/env bash
# Create a separate virtual environment with IBM AIHWKit for cross-checking the native analog simulator.
#
# Why a separate venv: the published aihwkit 1.1.0 wheel is a compiled extension built against torch 2.10.0
# exactly (it does not import with torch 2.13/2.14), and aihwkit 1.2.0 is source-only. The PyPI torch 2.10.0
# wheel is the CUDA build (~0.9 GB plus ~3 GB of nvidia-* libraries); it runs fine on CPU-only machines.
#
# Usage:  scripts/aihwkit-venv.sh [VENV_DIR]        (default /work/venv-aihwkit, outside the repository)
#         VENV_DIR/bin/python -m pytest tests/test_analog_aihwkit.py -m aihwkit
#         VENV_DIR/bin/python benchmarks/analog_speed.py
set -euo pipefail

VENV="${1:-/work/venv-aihwkit}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
# torchvision 0.25.0 is the release paired with torch 2.10.0 (aihwkit requires torchvision; an unpinned one
# would pull a newer torch and break the compiled extension).
"$VENV/bin/python" -m pip install -q "torch==2.10.0" "torchvision==0.25.0" "aihwkit==1.1.0" \
    numpy scipy pandas pytest pytest-timeout hypothesis
"$VENV/bin/python" -m pip install -q --no-deps -e "$REPO"
"$VENV/bin/python" -c "import torch, aihwkit; print('torch', torch.__version__, 'aihwkit', aihwkit.__version__)"
