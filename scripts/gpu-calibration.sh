#!/usr/bin/env bash
# The calibration against the published release (issue 18) on a lent GPU: the calibration sample
# (scripts/calibration-archs.txt) under every candidate profile at once, within a wall-clock budget.
#
# Here (the main machine), from the repository root, once:
#   scripts/gpu-calibration.sh prepare            # .gpu/calib-16px.npz, .gpu/calib-32px.npz (ignored), .whl/ wheels
# There (device tool; carry .gpu and .whl):
#   bash scripts/gpu-calibration.sh BUDGET_S "$OUT"
# Back here (FILES = the folder the device tool copied $OUT to):
#   mkdir -p /work/runs/gpu && cp FILES/*.sqlite /work/runs/gpu/
#   python benchmarks/calibration.py --store /work/runs/calib-n2.sqlite --gpu-stores /work/runs/gpu
#   anb quality /work/runs/calib-n2.sqlite --agreement /work/runs/gpu/calib-n2.sqlite     # CPU vs GPU, same profile
#
# Every candidate profile runs as its own sweep (own store OUTDIR/<profile>.sqlite, own workers), all at the same
# time so the GPU is shared and every profile gets a prefix of the sample (its order is seeded and stratified, so
# any prefix spans the release's noisy-accuracy range). No new architecture starts after BUDGET_S minus a margin for
# the longest measurement in flight. calib-n2 is also the CPU background job's profile: the architectures both
# measured give the CPU/GPU agreement (same profile hash, same seed, rows record their device).
# ANB_ALLOW_CPU=1 runs it on the CPU (for testing, with a tiny budget).
set -euo pipefail
cd "$(dirname "$0")/.."
archs=${ANB_CALIB_ARCHS:-scripts/calibration-archs.txt}

if [ "${1:-}" = prepare ]; then
  data=${ANB_DATA:-../shared/data/cifar10-jpeg.tar.gz}
  mkdir -p .gpu   # .gpu/ and .whl/ are in .gitignore
  if [ "${ANB_SKIP_WHEELS:-}" != 1 ]; then
    [ -d .whl ] && ls .whl/distributed-*.whl >/dev/null 2>&1 || bash scripts/gpu-wheels.sh
  fi
  PYTHONPATH=$PWD python3 -m analognasbench pack-data --profile calib-n2 --data "$data" --out .gpu/calib-16px.npz
  PYTHONPATH=$PWD python3 -m analognasbench pack-data --profile calib-n3-32px --data "$data" --out .gpu/calib-32px.npz
  du -sh .gpu/calib-*.npz .whl 2>/dev/null || true
  exit 0
fi

budget=${1:?usage: gpu-calibration.sh BUDGET_S OUTDIR  (or: gpu-calibration.sh prepare)}
out=${2:?output folder}
mkdir -p "$out"
[ "${ANB_ALLOW_CPU:-}" = 1 ] || python3 -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'no CUDA device: this script is for a GPU machine (ANB_ALLOW_CPU=1 runs it on the CPU)')"
for f in .gpu/calib-16px.npz .gpu/calib-32px.npz "$archs"; do
  [ -f "$f" ] || { echo "missing $f: run 'scripts/gpu-calibration.sh prepare' on the main machine and carry .gpu" >&2; exit 2; }
done
site=/tmp/anb-site
if [ -d .whl ] && ! python3 -c "import distributed" 2>/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --target "$site" .whl/*.whl
fi
export PYTHONPATH="$PWD:$site${PYTHONPATH:+:$PYTHONPATH}"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null || true

# profile  packed-data  workers  margin_s (longest expected measurement: no start after budget - margin)
plan=(
  "calib-n1       .gpu/calib-16px.npz 3 40"
  "calib-n1-orig  .gpu/calib-16px.npz 3 40"
  "calib-n2       .gpu/calib-16px.npz 3 50"
  "calib-n2-c16   .gpu/calib-16px.npz 3 60"
  "calib-n3-32px  .gpu/calib-32px.npz 2 150"
)
if [ "${ANB_ALLOW_CPU:-}" = 1 ] && ! python3 -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
  plan=("calib-n1 .gpu/calib-16px.npz 1 0")   # CPU test: one profile, one worker
fi
pids=()
for line in "${plan[@]}"; do
  read -r profile packed workers margin <<<"$line"
  b=$(( budget > margin + 10 ? budget - margin : 10 ))
  OMP_NUM_THREADS=1 python3 -m analognasbench generate --profile "$profile" --archs "$archs" --data "$packed" \
    --store "$out/$profile.sqlite" --workers "$workers" --time-budget "$b" --memory-per-worker 6GiB --no-progress \
    > "$out/$profile.log" 2>&1 &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
tail -n 2 "$out"/*.log
ls -la "$out"
exit $status
