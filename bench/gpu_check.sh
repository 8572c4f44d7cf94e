#!/usr/bin/env bash
# The checks that need a GPU, as one short script for a machine that has one: the `*_CUDA` tests
# (the cuda latency device timing units and networks) and a `cuda` latency profile of
# zoo/mobilenet.yaml. Debian's LibTorch is CPU-only: point CMake at a CUDA LibTorch with
# TORCH_DIR (its share/cmake/Torch folder) to build one here; without a GPU, or with a CPU-only
# LibTorch, the script says SKIPPED and why. NCCL process groups are not built (docs/distributed.md).
# usage: bench/gpu_check.sh [BUILD_DIR=build-cuda] [TORCH_DIR]
set -uo pipefail
BUILD=${1:-build-cuda}
TORCH_DIR=${2:-}
if ! command -v nvidia-smi > /dev/null 2>&1 || ! nvidia-smi -L > /dev/null 2>&1; then
  echo "SKIPPED: gpu checks: no NVIDIA GPU on this machine (nvidia-smi finds none)"
  exit 0
fi
nvidia-smi -L
if [[ -n "$TORCH_DIR" ]]; then
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTorch_DIR="$TORCH_DIR" || exit 1
  cmake --build "$BUILD" --target nasforge hardware_tests || exit 1
fi
for bin in nasforge hardware_tests; do
  [[ -x "$BUILD/bin/$bin" ]] || { echo "gpu checks: no $BUILD/bin/$bin; give TORCH_DIR to build it"; exit 1; }
done
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
"$BUILD/bin/hardware_tests" --gtest_filter='*_CUDA*' 2>&1 | tee "$TMP/tests.txt"
rc=${PIPESTATUS[0]}
if grep -q "no CUDA GPU visible to LibTorch" "$TMP/tests.txt"; then
  echo "SKIPPED: gpu checks: this LibTorch was built without CUDA; give TORCH_DIR of a CUDA LibTorch"
  exit 0
fi
"$BUILD/bin/nasforge" profile --space zoo/mobilenet.yaml --device cuda --out "$TMP/cuda.json" \
  --calibrate 20 || rc=1
echo "gpu checks: $([[ $rc -eq 0 ]] && echo passed || echo FAILED)"
exit "$rc"
