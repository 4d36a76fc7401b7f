#!/usr/bin/env bash
# Prepare, on the main machine, everything a lent GPU needs for one run of the device tool (the GPU machine is
# offline and starts bare). From the repository root:
#
#   scripts/gpu-prepare.sh [AGREEMENT_N=12] [LOWCOST_BUDGET_S=330] [HIGHFID_BUDGET_S=150]
#
# Writes (both ignored by git; the packed data is derived from CIFAR-10 and must never be committed):
#   .whl/                          Dask wheels the GPU image lacks (scripts/gpu-wheels.sh)
#   .gpu/cifar_lowcost.npz         the cifar_lowcost images (8 MiB)
#   .gpu/lowcost-archs.txt         AGREEMENT_N architectures already measured here (the CPU/GPU agreement sample,
#                                  spread over the accuracy range), then the pending ones from the end of the order
#   .gpu/cifar_highfid.npz         the fidelity check's images, and .gpu/highfid-archs.txt, its unmeasured architectures
#   .gpu/run.sh                    the one command to run there:  bash .gpu/run.sh   (carry .gpu and .whl; results
#                                  land in $OUT/lowcost.sqlite and $OUT/highfid.sqlite)
# Afterwards, here (FILES = the folder the device tool copied $OUT to):
#   anb merge-store FILES/lowcost.sqlite --into runs/cifar_lowcost.sqlite
#   anb merge-store FILES/highfid.sqlite --into runs/cifar_highfid.sqlite
#   anb quality runs/cifar_lowcost.sqlite --agreement FILES/lowcost.sqlite     # CPU vs GPU rows, same profile
#   scripts/export-sweep.sh
set -euo pipefail
cd "$(dirname "$0")/.."
agreement=${1:-12}; low_budget=${2:-330}; high_budget=${3:-150}
data=${ANB_DATA:-../shared/data/cifar10-jpeg.tar.gz}
mkdir -p .gpu && rm -f .gpu/*.txt .gpu/run.sh
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
[ -d .whl ] && ls .whl/distributed-*.whl >/dev/null 2>&1 || bash scripts/gpu-wheels.sh
anb pack-data --profile cifar_lowcost --data "$data" --out .gpu/cifar_lowcost.npz
anb pack-data --profile cifar_highfid --data "$data" --out .gpu/cifar_highfid.npz
anb quality runs/cifar_lowcost.sqlite --sample "$agreement" --out .gpu/agreement.txt
{ grep -v '^#' .gpu/agreement.txt
  anb pending --profile cifar_lowcost --store runs/cifar_lowcost.sqlite --from-end --limit 5000; } > .gpu/lowcost-archs.txt
anb pending --profile cifar_highfid --store runs/cifar_highfid.sqlite --archs scripts/fidelity-archs.txt \
  > .gpu/highfid-archs.txt
cat > .gpu/run.sh <<RUN
#!/usr/bin/env bash
# Written by scripts/gpu-prepare.sh: the fidelity check's remaining architectures, then the sweep's end.
set -uo pipefail
out=\${OUT:-out}; mkdir -p "\$out"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
if [ -s .gpu/highfid-archs.txt ] && grep -qv '^#' .gpu/highfid-archs.txt; then
  bash scripts/gpu-sweep.sh .gpu/cifar_highfid.npz .gpu/highfid-archs.txt "\$out/highfid.sqlite" $high_budget "" cifar_highfid
fi
bash scripts/gpu-sweep.sh .gpu/cifar_lowcost.npz .gpu/lowcost-archs.txt "\$out/lowcost.sqlite" $low_budget "" cifar_lowcost
ls -la "\$out"
RUN
wc -l .gpu/*.txt
du -sh .gpu .whl
