#!/usr/bin/env bash
# Export the calibration candidates' stores (issue 18) into the package as cifar10-<profile> datasets, each with its
# measured agreement with the release in its card, and print the calibration table. From the repository root:
#
#   scripts/export-calibration.sh [STORE_DIR]      # default /work/runs: STORE_DIR/<profile>.sqlite for each candidate
#
# Reads no images, so it runs beside the sweeps; the stores stay outside the repository. The chosen profile
# (analognasbench.fidelity.calibration.CHOSEN_PROFILE) is marked in its dataset's notes.
set -euo pipefail
dir=${1:-/work/runs}
datasets=analognasbench/bench/datasets
chosen=$(python3 -c "from analognasbench.fidelity.calibration import CHOSEN_PROFILE; print(CHOSEN_PROFILE or '')")
for profile in $(python3 -c "from analognasbench.pipeline.profiles import CALIBRATION_PROFILES as p; print(*p)"); do
  store="$dir/$profile.sqlite"
  [ -f "$store" ] || continue
  done_rows=$(python3 -c "
from analognasbench.pipeline.store import RunStore
with RunStore('$store', read_only=True) as s: print(len(s.to_dataframe(s.profile_hash)))")
  [ "$done_rows" -gt 0 ] || continue
  note="CALIBRATION CANDIDATE (issue 18, DATASET.md 'Calibrating'): the seeded calibration sample"
  [ "$profile" = "$chosen" ] && note="CHOSEN PROFILE of the calibration (issue 18, DATASET.md 'Calibrating'): the seeded calibration sample"
  anb generate --profile "$profile" --archs scripts/calibration-archs.txt --store "$store" --limit 0 --no-progress \
    --export "$datasets/cifar10-$profile" --force --notes "$note, measured in its order"
done
python3 benchmarks/calibration.py
