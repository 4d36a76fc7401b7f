#!/usr/bin/env bash
# Export the CIFAR-10 sweep (and the fidelity-check rows) into the package, refresh DATASET.md's measured blocks and
# run the sanity tests over the shipped data; then commit the dataset files and DATASET.md. From the repository root:
#
#   scripts/export-sweep.sh [STORE] [FIDELITY_STORE] [SEED_STORE]
#   # defaults: runs/cifar_lowcost.sqlite, runs/cifar_highfid.sqlite, runs/cifar_seed1.sqlite (the last two if present)
#
# Reads no images (nothing is measured), so it runs beside the sweep; the stores stay outside the repository.
set -euo pipefail
store=${1:-runs/cifar_lowcost.sqlite}; reference=${2:-runs/cifar_highfid.sqlite}; seeds=${3:-runs/cifar_seed1.sqlite}
datasets=analognasbench/bench/datasets
anb generate --profile cifar_lowcost --archs unique --store "$store" --limit 0 --no-progress \
  --export "$datasets/cifar10-lowcost" --force
# Same rows as committed: keep the committed metadata too, so an export commit does not carry a new timestamp only.
keep_metadata_if_unchanged() {
  if git diff --quiet -- "$1.parquet" 2>/dev/null; then git checkout -q -- "$1.json" 2>/dev/null || true; fi
}
if [ -f "$reference" ]; then
  anb generate --profile cifar_highfid --archs scripts/fidelity-archs.txt --store "$reference" --limit 0 --no-progress \
    --export "$datasets/cifar10-highfid-check" --force \
    --notes "FIDELITY CHECK of cifar10-lowcost (DATASET.md): the same architectures measured at a higher fidelity"
  keep_metadata_if_unchanged "$datasets/cifar10-highfid-check"
fi
if [ -f "$seeds" ]; then
  anb generate --profile cifar_lowcost --archs unique --seed 1 --store "$seeds" --limit 0 --no-progress \
    --export "$datasets/cifar10-seed1-check" --force \
    --notes "SEED CHECK of cifar10-lowcost (DATASET.md): its first architectures trained again from seed 1"
  keep_metadata_if_unchanged "$datasets/cifar10-seed1-check"
fi
python scripts/update-dataset-card.py
python -m pytest -q -p no:cacheprovider tests/test_shipped_data.py
