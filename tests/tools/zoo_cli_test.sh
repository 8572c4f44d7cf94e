#!/usr/bin/env bash
# The layer-choice zoo spaces end to end, split from cli_test.sh so that ctest runs the two side
# by side: check, a two-step supernet, rea with inherited accuracy, a cpu latency table for
# nsga2, and the best exported to ONNX and run in ONNX Runtime.
# usage: NASFORGE=path/to/nasforge zoo_cli_test.sh REPO_ROOT
# shellcheck source=tests/tools/expect.sh
source "$(dirname "${BASH_SOURCE[0]}")/expect.sh"  # sets ROOT, NF and TMP, and cds to ROOT

printf 'batch_size: 32\nbn_recalibration_batches: 2\n' > "$TMP/small.yaml"
for Z in fbnet nasbench_macro proxyless spos resnet; do
  ZD="$TMP/zoo_$Z"
  expect "$Z checks" 0 "architectures" -- "$NF" check "zoo/$Z.yaml"
  expect "$Z trains" 0 "checkpoint: $ZD/run/checkpoint.pt (epoch 0, step 2" -- \
    "$NF" train-supernet --space "zoo/$Z.yaml" --data synthetic:128 --out "$ZD/run" \
    --config "$TMP/small.yaml" --max-steps 2 --threads 2
  expect "$Z searches with rea on the supernet" 0 '"trials": 3' -- \
    "$NF" search --space "zoo/$Z.yaml" --strategy rea --metric "accuracy=supernet:$ZD/run" \
    --objective accuracy:max --budget 3 --json --out "$ZD/rea"
  expect "$Z profiles a latency table" 0 "wrote $ZD/cpu.json" -- \
    "$NF" profile --space "zoo/$Z.yaml" --device cpu --out "$ZD/cpu.json" --calibrate 0 \
    --time-limit 0.01 --rel-ci 0.5
  expect "$Z saves the lut" 0 "saved the predictor to $ZD/lut.json" -- \
    "$NF" latency --space "zoo/$Z.yaml" --arch "$("$NF" sample "zoo/$Z.yaml" --n 1 --seed 1)" \
    --profile "$ZD/cpu.json" --predictor lut --save "$ZD/lut.json"
  expect "$Z searches with nsga2 on the lut" 0 '"trials": 4' -- \
    "$NF" search --space "zoo/$Z.yaml" --strategy nsga2 \
    --metric "latency_ms@cpu=predictor:$ZD/lut.json" --objective latency_ms@cpu:min \
    --objective params:max --budget 4 --json
  expect "$Z exports its best to ONNX" 0 "passes onnx::checker" -- \
    "$NF" export --run "$ZD/rea" --rank 1 --out "$ZD/model.onnx" --test-vector
  expect "$Z runs in ONNX Runtime as in LibTorch" 0 "2/2 test sets within 0.0001" -- \
    node tools/ort/verify.js "$ZD/model.onnx"
done

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
