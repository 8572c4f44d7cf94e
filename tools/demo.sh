#!/usr/bin/env bash
# make demo: the whole job on the zoo's mobile space, end to end, in about 10 minutes on 2 cores.
#   1. check the space           2. train its supernet (sandwich rule + in-place distillation)
#   3. profile this CPU          4. search accuracy x CPU latency under a hard latency limit
#   5. the Pareto front          6. export the best feasible network (ONNX, TorchScript, YAML)
#   7. verify the ONNX file in ONNX Runtime, and with ONNX's Python checker
#   8. measure the exported network's latency against the limit and the prediction
#   9. retrain it from scratch for a few steps, against its inherited accuracy
#  10. the report: runs/demo/report.html (one offline page: front, curves, trials, diagrams)
# Everything lands in runs/demo/. Steps that find their output there resume or reuse it.
set -euo pipefail
NASFORGE=${1:-build/bin/nasforge}
OUT=runs/demo
SPACE=zoo/mobilenet.yaml
mkdir -p "$OUT"
step() { printf '\n=== [%dm%02ds] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }

step "1. nasforge check $SPACE"
"$NASFORGE" check "$SPACE"

step "2. nasforge train-supernet: sandwich rule + in-place distillation on Fashion-MNIST"
"$NASFORGE" train-supernet --space "$SPACE" --data fashion-mnist --config configs/demo_supernet.yaml \
  --max-steps 300 --valid-size 1000 --out "$OUT/supernet"

step "3. nasforge profile: the space's latency table on this CPU, with 30 calibration networks"
"$NASFORGE" profile --space "$SPACE" --device cpu --out "$OUT/cpu_profile.json" --calibrate 30
"$NASFORGE" latency --space "$SPACE" --profile "$OUT/cpu_profile.json" --predictor lut+residual \
  --quantiles 2000 --save "$OUT/cpu_latency.json" | tee "$OUT/latency_quantiles.txt"
# The hard limit: the median predicted latency, so that about half the space is feasible.
LIMIT=$(sed -n 's/.* p50 \([0-9.]*\) ms.*/\1/p' "$OUT/latency_quantiles.txt")
echo "constraint: latency_ms@cpu <= $LIMIT (the median over 2000 sampled architectures)"

step "4. nasforge search: nsga2 for accuracy (inherited weights) and CPU latency, latency_ms@cpu <= $LIMIT"
# Each trial's latency is also measured (a --report the strategy never sees), so that the report
# can show the predictor against the measurements.
"$NASFORGE" search --space "$SPACE" --strategy nsga2 --budget 60 --seed 0 \
  --metric "accuracy=supernet:$OUT/supernet" --metric "latency_ms@cpu=predictor:$OUT/cpu_latency.json" \
  --objective accuracy:max --objective latency_ms@cpu:min --constraint "latency_ms@cpu<=$LIMIT" \
  --report "measured_ms=measure:cpu" --out "$OUT/search"

step "5-6. nasforge export: the front's most accurate network, with its inherited weights"
"$NASFORGE" export --run "$OUT/search" --rank 1 --format onnx --out "$OUT/export/model.onnx" \
  --test-vector | tee "$OUT/export.txt"
ARCH=$(sed -n 's/^arch: \(.*\)  (from .*/\1/p' "$OUT/export.txt")
"$NASFORGE" export --run "$OUT/search" --rank 1 --format torchscript --out "$OUT/export/model.pt"
"$NASFORGE" export --run "$OUT/search" --rank 1 --format yaml --out "$OUT/export/frozen.yaml"
"$NASFORGE" check "$OUT/export/frozen.yaml"

step "7. verify the ONNX file: ONNX Runtime against LibTorch's test vectors, and onnx.checker"
node tools/ort/verify.js --time 50 "$OUT/export/model.onnx"
/usr/bin/python3 -c "import onnx, sys; m = onnx.load(sys.argv[1]); \
onnx.checker.check_model(m, full_check=True); \
print('onnx.checker (python3-onnx ' + onnx.__version__ + '): full check passed, opset', \
m.opset_import[0].version)" "$OUT/export/model.onnx"

step "8. the exported network's latency on this CPU: measured against the limit and the prediction"
"$NASFORGE" latency --space "$SPACE" --arch "$ARCH" --profile "$OUT/cpu_profile.json" \
  --predictor "$OUT/cpu_latency.json" --measure | tee "$OUT/latency_check.txt"
MEASURED=$(sed -n 's/^measured  \([0-9.]*\) ms.*/\1/p' "$OUT/latency_check.txt")
# A control: the profile's first calibration network, measured again now. If it too is slower
# than when the profile was made, the machine is, and the constraint check above inherits that.
read -r CONTROL_ARCH CONTROL_MS < <(/usr/bin/python3 -c "import json, sys; \
c = json.load(open(sys.argv[1]))['calibration'][0]; print(c['arch'], c['ms'])" "$OUT/cpu_profile.json")
CONTROL_NOW=$("$NASFORGE" latency --space "$SPACE" --arch "$CONTROL_ARCH" --measure | \
  sed -n 's/^measured  \([0-9.]*\) ms.*/\1/p')
awk -v then="$CONTROL_MS" -v now="$CONTROL_NOW" 'BEGIN {
  printf "control: a calibration network measured %.3f ms now, %.3f ms when profiled (%+.1f%% drift)\n", now, then, 100 * (now - then) / then }'
awk -v m="$MEASURED" -v l="$LIMIT" 'BEGIN {
  if (m <= l) printf "meets the constraint: measured %.3f ms <= %.3f ms (%.1f%% headroom)\n", m, l, 100 * (l - m) / l;
  else printf "BREAKS the constraint on re-measurement: %.3f ms > %.3f ms (%.1f%% over); the search trusted the predictor\n", m, l, 100 * (m - l) / l }'

step "9. inherited test accuracy, then the same network trained alone (a short from-scratch run)"
"$NASFORGE" eval --checkpoint "$OUT/supernet" --arch "$ARCH" --split test
"$NASFORGE" train --space "$SPACE" --arch "$ARCH" --data fashion-mnist --config configs/demo_supernet.yaml \
  --epochs 1 --max-steps 300
step "10. nasforge report: the search and the supernet's training, as one offline HTML page"
"$NASFORGE" report "$OUT/search" "$OUT/supernet" --out "$OUT/report.html" \
  --title "nasforge demo: $SPACE on Fashion-MNIST"
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [[ -n "$CHROME" ]]; then
  PROFILE=$(mktemp -d)
  "$CHROME" --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$PROFILE" \
    --virtual-time-budget=10000 --window-size=1280,1700 --screenshot="$OUT/report.png" \
    "file://$(realpath "$OUT/report.html")" > /dev/null 2>&1 && echo "screenshot: $OUT/report.png"
  rm -rf "$PROFILE"
else
  echo "SKIPPED: the report's screenshot (no chromium; make deps installs it)"
fi
step "done: everything is in $OUT/; open $OUT/report.html in a browser"
