#!/usr/bin/env bash
# Issue 23, step 3: the release cells of scripts/reproduce-archs.txt measured end to end with `paper-original`
# on a lent GPU, over as many device calls as it takes. One architecture trains 420 epochs on 50,000 images, longer
# than one call (10 minutes at most), so the sweep keeps checkpoints (anb generate --checkpoints) and is killed at
# the budget; the next call carries the store and the checkpoints back and goes on from them.
#
# Prepare here, once (ignored folders; the JPEG archive is CIFAR-10 itself: never commit it):
#   mkdir -p .gpu && cp ../shared/data/cifar10-jpeg.tar.gz .gpu/ && bash scripts/gpu-wheels.sh
# Each call (device tool), then here copy what came back into .resume for the next call:
#   run(command="bash scripts/gpu-reproduce.sh 480 $OUT", carry=[".gpu", ".whl", ".resume"], timeout_s=560)
#   rm -rf .resume && cp -r FILES_AT/. .resume && chmod -R u+w .resume
# When the store holds the cells:
#   python benchmarks/reproduce_release.py --store .resume/reproduce.sqlite
set -uo pipefail
if [ $# -lt 2 ] || ! [[ $1 =~ ^[0-9]+$ ]]; then
  echo "usage: scripts/gpu-reproduce.sh BUDGET_SECONDS OUT_DIR [WORKERS]: a whole number of seconds, then a folder" >&2
  exit 2
fi
budget=$1; out=$2
workers=${3:-3}
mkdir -p "$out"
[ -d .resume ] && cp -r .resume/. "$out"/
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
site=/tmp/anb-site
if [ -d .whl ] && ! python3 -c "import distributed" 2>/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --target "$site" .whl/*.whl
fi
export PYTHONPATH="$PWD:$site${PYTHONPATH:+:$PYTHONPATH}"
# SIGKILL at the budget is safe: the store commits each row, the checkpoints are written by rename.
timeout -s KILL "$budget" python3 -m analognasbench generate --profile paper-original \
  --archs scripts/reproduce-archs.txt --data .gpu/cifar10-jpeg.tar.gz --store "$out/reproduce.sqlite" \
  --checkpoints "$out/checkpoints" --checkpoint-interval 30 --workers "$workers" --memory-per-worker 24GiB \
  --no-progress
rc=$?
echo "sweep exit $rc (137: stopped at the budget; the next call continues from $out)"
find "$out/checkpoints" -name '*.pt' -printf '%P %s bytes\n' 2>/dev/null || true
exit 0
