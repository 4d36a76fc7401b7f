#!/usr/bin/env bash
# Issue 23 on a lent GPU, in one device call (or a few: rerun it on the warm machine and it goes on).
#
#   0. tests/test_gpu.py: the pipeline on CUDA (the shrunk paper-original protocol, a stop and resume, the exact
#      chip CUDA vs CPU, the ablation, the CUDA-graph training steps); stop at once if it fails, so no lease is
#      spent on a broken run; the CUDA-graph steps' own tests only turn them off when they fail. Then
#      benchmarks/step_graphs.py on the all-conv3x3 cell (about half a minute, once): eager versus graphed steps.
#   1. Step 3: `paper-original` on the release cells of scripts/reproduce-archs.txt, one Dask worker each, with
#      checkpoints. Its stages run digital training (200 epochs), baseline, the unprogrammed and programmed chip
#      readings (noisy), PTQ and QAT, then HWT (200 epochs) and the analog readings. A lease of minutes ends in
#      HWT; the finished stages are compared with the release from the checkpoints
#      (benchmarks/reproduce_release.py --checkpoints).
#   2. Once no cell's current training stage can end within the time left (from its measured epoch rate; this
#      call's seconds plus ANB_NEXT_CALL_S), the sweep is stopped and the drop ablation's GPU setting (the
#      release's network, N5 C16 32px, on the whole training set, 12 epochs) runs on the ablation classes,
#      8 processes. ANB_NEXT_CALL_S defaults to a day: the trainings' checkpoints go on in the next call (or on
#      a CPU), so a call spends its time on them unless told that no more time will come. The decision holds
#      for this machine only (it is not packed into state.tar.gz).
#
# Prepare here, once (ignored folders; the JPEG archive is CIFAR-10 itself: never commit it):
#   mkdir -p .gpu && cp ../shared/data/cifar10-jpeg.tar.gz .gpu/ && bash scripts/gpu-wheels.sh
# Device call (timeout_s = BUDGET + 30; ANB_NEXT_CALL_S: the seconds later calls will add, for the decision to
# give up the trainings), then ALWAYS copy what came back into .resume before the next call: a machine
# stays warm only 30 s after a call, so the next one usually starts bare (session 11 lost its first call's 460 s of
# training that way: its second call restarted from epoch 0).
#   run(command="bash scripts/gpu-reproduce.sh 560 $OUT", carry=[".gpu", ".whl", ".resume"],
#       timeout_s=590)
#   mkdir -p .resume && cp FILES_AT/state.tar.gz .resume/
# Here, afterwards:
#   mkdir -p /work/runs/gpu && tar -xzf .resume/state.tar.gz -C /work/runs/gpu
#   python benchmarks/reproduce_release.py --checkpoints /work/runs/gpu/checkpoints [--store .../reproduce.sqlite]
#   python benchmarks/drop_ablation.py --store /work/runs/gpu/ablation.jsonl
set -uo pipefail
if [ $# -lt 2 ] || ! [[ $1 =~ ^[0-9]+$ ]]; then
  echo "usage: scripts/gpu-reproduce.sh BUDGET_SECONDS OUT_DIR [WORKERS]: a whole number of seconds, then a folder" >&2
  exit 2
fi
budget=$1; out=$2; workers=${3:-3}
start=$(date +%s)
deadline=$((start + budget - 30))   # leaves time to stop the processes and pack the state
state=${ANB_GPU_STATE:-/tmp/anb-gpu-state}   # kept between calls on a warm machine
ablation_setting="combined=N5 C16 32px e12 full-train"
mkdir -p "$out" "$state"
if [ ! -e "$state/.restored" ] && [ -f .resume/state.tar.gz ]; then
  tar -xzf .resume/state.tar.gz -C "$state" && echo "restored the state from .resume"
fi
touch "$state/.restored"
exec > >(tee -a "$out/gpu-reproduce.log") 2>&1
left() { echo $((deadline - $(date +%s))); }
any_alive() { for p in "$@"; do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
site=/tmp/anb-site
if [ -d .whl ] && ! python3 -c "import distributed" 2>/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --target "$site" .whl/*.whl
fi
export PYTHONPATH="$PWD:$site${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
# the training stages' steps replayed from CUDA graphs (analognasbench/pipeline/steps.py; step 0b tests them on the
# device first); ANB_CUDA_GRAPHS=0 in the call's command turns them off
export ANB_CUDA_GRAPHS=${ANB_CUDA_GRAPHS:-1}
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name(0))"

# -- 0. the pipeline on CUDA with eager steps: must pass ----------------------------------------------------------
if [ ! -e "$state/.tests-ok" ]; then
  t0=$(date +%s)
  if ! ANB_CUDA_GRAPHS=0 timeout 150 python3 -m pytest -q -p no:cacheprovider -W ignore tests/test_gpu.py -k "not graph"; then
    echo "tests/test_gpu.py failed: stopping before the long runs"; exit 1
  fi
  touch "$state/.tests-ok"; echo "GPU tests: $(( $(date +%s) - t0 )) s"
fi

# -- 0b. the CUDA-graph training steps: their tests (a failure only turns them off), then their timing, once -------
if [ "$ANB_CUDA_GRAPHS" = 1 ] && [ ! -e "$state/.graphs-ok" ] && [ ! -e "$state/.graphs-failed" ]; then
  t0=$(date +%s)
  if timeout 120 python3 -m pytest -q -p no:cacheprovider -W ignore tests/test_gpu.py -k graph; then
    touch "$state/.graphs-ok"
  else
    touch "$state/.graphs-failed"
  fi
  echo "graph tests: $(( $(date +%s) - t0 )) s"
fi
if [ -e "$state/.graphs-failed" ]; then
  echo "the graphed steps failed their tests: eager steps in this call"; export ANB_CUDA_GRAPHS=0
fi
if [ -e "$state/.graphs-ok" ] && [ ! -e "$state/.graphs-timed" ]; then
  # the all-conv3x3 cell only (about half a minute): the reproduce cells' own epoch rates show theirs
  timeout 120 python3 benchmarks/step_graphs.py --archs "(3,3,3,3,3,3)" --steps 10 | tee "$out/step-graphs.txt"
  touch "$state/.graphs-timed"
fi

pack() {
  # The run store and checkpoints (folders too deep to come back one by one) and the ablation records, as one file.
  cat "$state"/abl-*.jsonl > "$state/ablation.jsonl" 2>/dev/null || true
  tar -czf "$out/state.tar.gz" -C "$state" --exclude='abl-*.txt' --exclude=.phase2 . && ls -la "$out"
}
stop_group() { [ -n "${1:-}" ] && kill -KILL -- "-$1" 2>/dev/null; wait "$1" 2>/dev/null; true; }

# -- 1. paper-original on the reproduce cells ---------------------------------------------------------------------
progress() {
  # One line per measurement (finished stages, training epoch and rate), then "SWITCH yes|no": yes once no
  # measurement's current training stage can end within the time left (this call's and ANB_NEXT_CALL_S).
  python3 - "$state/checkpoints" "$(left)" "${ANB_NEXT_CALL_S:-86400}" <<'PY'
import json, sys
from pathlib import Path
import torch
from analognasbench.pipeline.profiles import get_profile
from analognasbench.pipeline.resume import parse_run_directory
root, left, later = Path(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
result_of = {"digital": "baseline", "qat": "qat", "hwt": "analog"}  # the stage whose results end the training's use
dirs = sorted(root.glob("*/*-seed*")) if root.is_dir() else []
can_end = 0
for d in dirs:
    profile = get_profile(parse_run_directory(d)[0])
    epochs = {"digital": profile.train.epochs, "qat": profile.qat.epochs, "hwt": profile.hwt.epochs}
    done = json.loads((d / "stages.json").read_text()) if (d / "stages.json").exists() else {}
    parts = [f"{k} {v['seconds']:.0f}s" for k, v in done.items()]
    ends = True  # between training stages (evaluations): assume it gets on
    for pt in sorted(d.glob("*.pt")):
        try:
            st = torch.load(pt, map_location="cpu", weights_only=True)
        except Exception as exc:  # being replaced right now
            parts.append(f"{pt.stem} unreadable ({exc.__class__.__name__})"); continue
        rate = st["elapsed_s"] / max(st["epoch"], 1)
        parts.append(f"{pt.stem} epoch {st['epoch']}/{epochs.get(pt.stem, '?')} ({rate:.2f} s/epoch)")
        if result_of.get(pt.stem) not in done and st["epoch"] >= 5:
            ends = (epochs[pt.stem] - st["epoch"]) * rate <= left + later
    can_end += ends
    print(d.name, "|", "; ".join(parts))
print("SWITCH", "yes" if dirs and can_end == 0 else "no")
PY
}

if [ ! -e "$state/.phase2" ]; then
  export DASK_DISTRIBUTED__NANNY__PRE_SPAWN_ENVIRON='{"OMP_NUM_THREADS": 4, "MKL_NUM_THREADS": 4, "OPENBLAS_NUM_THREADS": 4}'
  # --retry-failed: a measurement a previous call lost (session 13: a CPU checkpoint's noise state on CUDA) goes on
  setsid timeout -s KILL "$(left)" python3 -m analognasbench generate --profile paper-original \
    --archs scripts/reproduce-archs.txt --data .gpu/cifar10-jpeg.tar.gz --store "$state/reproduce.sqlite" \
    --checkpoints "$state/checkpoints" --checkpoint-interval 30 --workers "$workers" --memory-per-worker 24GiB \
    --retry-failed \
    --no-progress > "$state/generate.log" 2>&1 &
  gen=$!
  while kill -0 "$gen" 2>/dev/null && [ "$(left)" -gt 0 ]; do
    l=$(left); sleep $((l < 40 ? l : 40))
    echo "-- $(date +%T), $(left) s left"; nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader
    report=$(progress); echo "$report"
    grep -h "failed on" "$state/generate.log" | tail -n 3  # a measurement lost in the first minute shows here
    if grep -q "^SWITCH yes" <<<"$report"; then touch "$state/.phase2"; break; fi
  done
  stop_group "$gen"
  tail -5 "$state/generate.log"
fi

# -- 2. the drop ablation's GPU setting -----------------------------------------------------------------------------
if [ -e "$state/.phase2" ] && [ "$(left)" -gt 60 ]; then
  grep -v '^#' scripts/ablation-archs.txt | awk -v d="$state" '{ print > (d "/abl-" (NR - 1) % 8 ".txt") }'
  pids=()
  for shard in "$state"/abl-?.txt; do
    k=$(basename "$shard" .txt)
    setsid timeout -s KILL "$(left)" python3 benchmarks/drop_ablation.py --run --store "$state/$k.jsonl" \
      --archs "$shard" --factors "$ablation_setting" --device "${ANB_ABLATION_DEVICE:-cuda}" --data .gpu/cifar10-jpeg.tar.gz \
      >> "$state/$k.log" 2>&1 &
    pids+=($!)
  done
  while [ "$(left)" -gt 0 ] && any_alive "${pids[@]}"; do l=$(left); sleep $((l < 20 ? l : 20)); done
  for p in "${pids[@]}"; do stop_group "$p"; done
  tail -n 3 "$state"/abl-?.log
  echo "ablation records: $(cat "$state"/abl-*.jsonl 2>/dev/null | wc -l) of 24"
fi
echo "-- final, $(date +%T)"; progress
pack
exit 0
