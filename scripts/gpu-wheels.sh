#!/usr/bin/env bash
# Download, here, the wheels that the lent H200 machine lacks for `anb generate` (its image has torch, numpy, pandas,
# pyarrow, scipy, tqdm, pillow, ... but no Dask), into .whl/ (ignored by git). scripts/gpu-sweep.sh installs them there.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .whl
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  --platform manylinux1_x86_64 --platform any -d .whl \
  "dask==$(python3 -c 'import dask; print(dask.__version__)')" \
  "distributed==$(python3 -c 'import distributed; print(distributed.__version__)')" \
  dask-jobqueue tornado tblib zict locket partd
ls -la .whl
