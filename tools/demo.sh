#!/usr/bin/env bash
# make demo: the main job as far as it is built. Today: check every zoo space, print its size,
# and sample architectures from it. Later issues grow this into train -> search -> export.
set -euo pipefail
NASFORGE=${1:-build/bin/nasforge}
for space in zoo/*.yaml; do
  echo "=== nasforge check $space"
  "$NASFORGE" check "$space"
  echo "--- nasforge sample $space --n 3 --seed 1"
  "$NASFORGE" sample "$space" --n 3 --seed 1
  echo
done
echo "=== the NAS-Bench-201 cell that DARTS collapses to, and its canonical hash"
"$NASFORGE" arch zoo/nb201.yaml '|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|'
