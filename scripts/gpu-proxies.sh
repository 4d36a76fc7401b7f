#!/usr/bin/env bash
# Zero-cost proxies of the classes still missing, on a CUDA machine within a wall-clock budget. From the repository
# root on the GPU machine (offline, bare; the package runs from this checkout):
#
#   bash scripts/gpu-proxies.sh BUDGET_S OUTDIR [WORKERS]
#
# Needs (made on the main machine, see scripts/gpu-notes.md; carry the ignored folder .gpu):
#   .gpu/proxy-images.npz   the proxy minibatches  (anb proxies --pack .gpu/proxy-images.npz)   CIFAR-derived: never commit
#   .gpu/proxy-archs.txt    the classes to compute (anb proxies --pending --store runs/proxies.sqlite --from-end --with-done 16)
# WORKERS processes (default 6, at most 8 so that unmerged shards still come back) share the GPU, each its own shard of the list and its own store file; each starts no
# architecture after BUDGET_S - 25 s. The shards are then merged into OUTDIR/proxies-gpu.sqlite (the shard files are
# removed once merged) and OUTDIR/proxies-gpu.log holds the workers' progress. ANB_ALLOW_CPU=1 runs it on the CPU
# (to test the script with a tiny budget).
set -uo pipefail
budget=${1:?wall-clock budget in seconds}; out=${2:?output folder}; workers=${3:-6}
images=${ANB_PROXY_IMAGES:-.gpu/proxy-images.npz}; archs=${ANB_PROXY_ARCHS:-.gpu/proxy-archs.txt}
extra=${ANB_PROXY_ARGS:-}   # e.g. "--C 4 --N 1" for a quick test
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
device=cuda
if ! python3 -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
  [ "${ANB_ALLOW_CPU:-}" = 1 ] || { echo "no CUDA device: this script is for a GPU machine (ANB_ALLOW_CPU=1 runs it on the CPU)" >&2; exit 2; }
  device=cpu
fi
for f in "$images" "$archs"; do [ -s "$f" ] || { echo "missing $f: see scripts/gpu-notes.md" >&2; exit 2; }; done
mkdir -p "$out"; log="$out/proxies-gpu.log"
{ nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || echo "no nvidia-smi (device $device)"; } >> "$log" 2>&1
work_budget=$(( budget > 60 ? budget - 25 : budget * 2 / 3 ))
pids=()
for i in $(seq 0 $((workers - 1))); do
  # shellcheck disable=SC2086
  python3 -m analognasbench proxies --archs "$archs" --shard "$i/$workers" --store "$out/proxies-w$i.sqlite" \
    --device "$device" --data "$images" --budget-s "$work_budget" $extra >> "$out/proxies-w$i.log" 2>&1 &
  pids+=($!)
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=$?; done
shards=("$out"/proxies-w*.sqlite)
merged=0
if python3 -m analognasbench proxies --merge "${shards[@]}" --store "$out/proxies-gpu.sqlite" >> "$log" 2>&1; then
  rm -f "${shards[@]}" "$out"/proxies-w*.sqlite-wal "$out"/proxies-w*.sqlite-shm; merged=1
fi
for i in $(seq 0 $((workers - 1))); do { echo "== worker $i"; tail -n 3 "$out/proxies-w$i.log"; } >> "$log"; rm -f "$out/proxies-w$i.log"; done
cat "$log"
[ $merged = 1 ] || rm -f "$log"   # unmerged: the WORKERS shard files come back instead (the log is in the output above)
ls -la "$out"
exit $status
