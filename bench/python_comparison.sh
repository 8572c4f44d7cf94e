#!/usr/bin/env bash
# Figure 2 of the supernet (issue B): nasforge's C++ supernet step against the same supernet
# written plainly in Python PyTorch (bench/python/mobilenet_supernet.py), same path, batch and
# threads, on the same LibTorch 1.13 and the same real Fashion-MNIST batch. Before timing, the
# Python network loads the C++ supernet's initial state and must match its parameter count and its
# logits to 1e-4 (see the .py file); a mismatch fails the script. The two sides alternate, ROUNDS
# times each, and each side's figure is the median of its rounds' medians, so that this VM's
# drifting speed falls on both. Needs Debian's python3-torch (make bench-deps); without it the
# script prints SKIPPED and exits 0.
# usage: bench/python_comparison.sh [BUILD_DIR] [STEPS_128 STEPS_8] [ROUNDS]   (from the repo root)
set -euo pipefail
BUILD=${1:-build}
STEPS_128=${2:-20}
STEPS_8=${3:-60}
ROUNDS=${4:-3}
if ! /usr/bin/python3 -c 'import torch' 2> /dev/null; then
  echo "SKIPPED: python_comparison: /usr/bin/python3 cannot import torch (make bench-deps)"
  exit 0
fi
# field NAME LINE: the value of NAME=VALUE in LINE (values hold no spaces).
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<< " $2"; }
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
DUMP=$(mktemp -d)
trap 'rm -rf "$DUMP"' EXIT
for batch in 128 8; do
  steps=$([ "$batch" = 8 ] && echo "$STEPS_8" || echo "$STEPS_128")
  cpp=() py=()
  for round in $(seq "$ROUNDS"); do
    dump=()
    [[ $round == 1 ]] && dump=(--dump "$DUMP/$batch")
    line=$("$BUILD/bin/supernet_step_bench" . --batch "$batch" --steps "$steps" --paths 1 \
      --only-steps 1 "${dump[@]}" | grep '^PATH ')
    arch=$(field arch "$line")
    cpp+=("$(field super_step_ms "$line")")
    if [[ -z $arch || -z ${cpp[-1]} ]]; then
      echo "python_comparison: supernet_step_bench printed no PATH line: $line" >&2
      exit 1
    fi
    python_out=$(/usr/bin/python3 bench/python/mobilenet_supernet.py --from "$DUMP/$batch" \
      --steps "$steps" --threads 2) || {
      echo "$python_out"
      echo "FIGURE python.batch${batch}_ratio: the Python peer failed its self-check: missed"
      exit 1
    }
    [[ $round == 1 ]] && grep '^self-check' <<< "$python_out"
    py+=("$(sed -n 's/^python step ms //p' <<< "$python_out")")
    echo "batch $batch round $round: C++ ${cpp[-1]} ms, Python ${py[-1]} ms"
  done
  cpp_ms=$(printf '%s\n' "${cpp[@]}" | bench_median)
  py_ms=$(printf '%s\n' "${py[@]}" | bench_median)
  awk -v b="$batch" -v c="$cpp_ms" -v p="$py_ms" -v a="$arch" -v n="$ROUNDS" \
    -v t="$([ "$batch" = 8 ] && echo 2 || echo 1.2)" \
    'BEGIN { r = p / c; printf "batch %3d  C++ %8.2f ms  Python %8.2f ms  Python/C++ %.2f  (median of %d alternating rounds; %s)\n", b, c, p, r, n, a;
             printf "FIGURE python.batch%d_ratio: %.2f, target >= %s: %s\n", b, r, t, (r >= t ? "met" : "missed") }'
done
