#!/usr/bin/env bash
# make demo: the main job as far as it is built. Check every zoo space and sample from it; then
# train the mobile space's supernet on Fashion-MNIST for a few steps, evaluate two paths with
# inherited weights and extract one as a standalone network; profile the CPU and predict and measure
# that network's latency. Later issues add search and export.
set -euo pipefail
NASFORGE=${1:-build/bin/nasforge}
OUT=runs/demo
for space in zoo/*.yaml; do
  echo "=== nasforge check $space"
  "$NASFORGE" check "$space"
  echo "--- nasforge sample $space --n 3 --seed 1"
  "$NASFORGE" sample "$space" --n 3 --seed 1
  echo
done
echo "=== the NAS-Bench-201 cell that DARTS collapses to, and its canonical hash"
"$NASFORGE" arch zoo/nb201.yaml '|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|'
echo
echo "=== nasforge train-supernet: zoo/mobilenet.yaml on Fashion-MNIST, 40 steps (resumes if $OUT/supernet exists)"
"$NASFORGE" train-supernet --space zoo/mobilenet.yaml --data fashion-mnist --config configs/spos.yaml \
  --epochs 1 --max-steps 40 --out "$OUT/supernet"
ARCH=$("$NASFORGE" sample zoo/mobilenet.yaml --n 1 --seed 3)
echo "=== nasforge eval $ARCH (with and without BN recalibration)"
"$NASFORGE" eval --checkpoint "$OUT/supernet" --arch "$ARCH"
"$NASFORGE" eval --checkpoint "$OUT/supernet" --arch "$ARCH" --no-recalibrate
echo "=== nasforge extract"
"$NASFORGE" extract --checkpoint "$OUT/supernet" --arch "$ARCH" --out "$OUT/subnet.pt"
echo "=== nasforge profile: the mobile space's latency table on this CPU (resumes if it exists)"
"$NASFORGE" profile --space zoo/mobilenet.yaml --device cpu --out "$OUT/cpu_profile.json" --calibrate 50
echo "=== nasforge latency $ARCH: predicted by the table, then measured"
"$NASFORGE" latency --space zoo/mobilenet.yaml --arch "$ARCH" --profile "$OUT/cpu_profile.json" \
  --predictor lut+residual --measure
