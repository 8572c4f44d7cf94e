#!/usr/bin/env bash
# Figure 2 of the supernet (issue B): nasforge's C++ supernet step against the same supernet
# written plainly in Python PyTorch (bench/python/mobilenet_supernet.py), same path, batch and
# threads, on the same LibTorch 1.13. Needs Debian's python3-torch (apt-get install python3-torch).
# usage: bench/python_comparison.sh [BUILD_DIR]   (from the repository root)
set -euo pipefail
BUILD=${1:-build}
for batch in 128 8; do
  steps=$([ "$batch" = 8 ] && echo 60 || echo 20)
  cpp=$("$BUILD/bin/supernet_step_bench" . --batch "$batch" --steps "$steps" --paths 1 | tail -2 | head -1)
  arch=$(echo "$cpp" | awk '{print $1}')
  cpp_ms=$(echo "$cpp" | awk '{print $2}')
  py_ms=$(/usr/bin/python3 bench/python/mobilenet_supernet.py "$arch" --batch "$batch" --steps "$steps" --threads 2 | awk '{print $4}')
  awk -v b="$batch" -v c="$cpp_ms" -v p="$py_ms" -v a="$arch" \
    'BEGIN { printf "batch %3d  C++ %8.2f ms  Python %8.2f ms  Python/C++ %.2f  (%s)\n", b, c, p, p / c, a }'
done
