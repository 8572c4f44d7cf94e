#!/usr/bin/env bash
# Figure 2 of the supernet (issue B): nasforge's C++ supernet step against the same supernet
# written plainly in Python PyTorch (bench/python/mobilenet_supernet.py), same path, batch and
# threads, on the same LibTorch 1.13 and the same real Fashion-MNIST batch. Before timing, the
# Python network loads the C++ supernet's initial state and must match its parameter count and its
# logits to 1e-4 (see the .py file); a mismatch fails the script. Needs Debian's python3-torch
# (apt-get install python3-torch); without it the script prints SKIPPED and exits 0.
# usage: bench/python_comparison.sh [BUILD_DIR] [STEPS_128 STEPS_8]   (from the repository root)
set -euo pipefail
BUILD=${1:-build}
STEPS_128=${2:-20}
STEPS_8=${3:-60}
if ! /usr/bin/python3 -c 'import torch' 2> /dev/null; then
  echo "SKIPPED: python_comparison: /usr/bin/python3 cannot import torch (apt-get install python3-torch)"
  exit 0
fi
# field NAME LINE: the value of NAME=VALUE in LINE (values hold no spaces).
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<< " $2"; }
DUMP=$(mktemp -d)
trap 'rm -rf "$DUMP"' EXIT
for batch in 128 8; do
  steps=$([ "$batch" = 8 ] && echo "$STEPS_8" || echo "$STEPS_128")
  line=$("$BUILD/bin/supernet_step_bench" . --batch "$batch" --steps "$steps" --paths 1 \
    --dump "$DUMP/$batch" | grep '^PATH ')
  arch=$(field arch "$line")
  cpp_ms=$(field super_step_ms "$line")
  if [[ -z $arch || -z $cpp_ms ]]; then
    echo "python_comparison: supernet_step_bench printed no PATH line: $line" >&2
    exit 1
  fi
  python_out=$(/usr/bin/python3 bench/python/mobilenet_supernet.py --from "$DUMP/$batch" \
    --steps "$steps" --threads 2) || {
    echo "$python_out"
    echo "FIGURE python.batch${batch}_ratio: the Python peer failed its self-check: missed"
    exit 1
  }
  grep '^self-check' <<< "$python_out"
  py_ms=$(sed -n 's/^python step ms //p' <<< "$python_out")
  awk -v b="$batch" -v c="$cpp_ms" -v p="$py_ms" -v a="$arch" -v t="$([ "$batch" = 8 ] && echo 2 || echo 1.2)" \
    'BEGIN { r = p / c; printf "batch %3d  C++ %8.2f ms  Python %8.2f ms  Python/C++ %.2f  (%s)\n", b, c, p, r, a;
             printf "FIGURE python.batch%d_ratio: %.2f, target >= %s: %s\n", b, r, t, (r >= t ? "met" : "missed") }'
done
