#!/usr/bin/env bash
# Measure architectures on a CUDA machine within a wall-clock budget, many at once, into a store that merges into
# the main one. Run from the repository root on the GPU machine:
#
#   scripts/gpu-sweep.sh PACKED.npz ARCHS.txt OUT.sqlite BUDGET_S [WORKERS] [PROFILE]
#
# Prepare on the main machine (the packed data is derived from CIFAR-10: keep it in an ignored folder, never commit):
#   bash scripts/gpu-wheels.sh                                                      # Dask wheels the GPU image lacks
#   anb pack-data --profile cifar_lowcost --out .gpu/cifar_lowcost.npz              # 8 MiB, well under 64 MiB
#   anb pending --profile cifar_lowcost --store runs/cifar_lowcost.sqlite --from-end --limit 3000 > .gpu/archs.txt
# Afterwards, back on the main machine:
#   anb merge-store OUT.sqlite --into runs/cifar_lowcost.sqlite
#
# WORKERS processes share the GPU (default: the machine's cores - 2); each measures one architecture at a time on
# cuda:0, single-threaded on the CPU side. The profile must be the main store's: rows of another profile are refused
# at merge time. Rows record their device ("cuda:0 (NVIDIA ...)").
set -euo pipefail
packed=${1:?packed .npz from anb pack-data}; archs=${2:?architecture file}; out=${3:?output store}
budget=${4:?wall-clock budget in seconds}; cores=$(nproc); workers=${5:-$(( cores > 3 ? cores - 2 : 1 ))}
profile=${6:-cifar_lowcost}
[ "${ANB_ALLOW_CPU:-}" = 1 ] || python3 -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'no CUDA device: this script is for a GPU machine (ANB_ALLOW_CPU=1 runs it on the CPU)')"
site=/tmp/anb-site
if [ -d .whl ] && ! python3 -c "import distributed" 2>/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --target "$site" .whl/*.whl
fi
# No install step (the machine may be offline): the package runs from this checkout; Dask's workers inherit the path.
export PYTHONPATH="$PWD:$site${PYTHONPATH:+:$PYTHONPATH}"
exec python3 -m analognasbench generate --profile "$profile" --archs "$archs" --data "$packed" --store "$out" \
  --workers "$workers" --time-budget "$budget" --memory-per-worker 6GiB --no-progress
