#!/usr/bin/env bash
# Data-parallel supernet training on this host: the global throughput (images per second, all
# ranks) of `nasforge launch -n 2 -- train-supernet` with 1 thread per rank against one process
# with 2 threads, on the same cores, the same global batch and the same steps. The runs alternate
# (1, 2, 1, 2, ...) so that the machine's drift hits both; each figure is the median of REPS.
# The progress line that counts is the last one printed (non-terminal output prints one every
# tenth of the epoch), so STEPS should reach at least a tenth of an epoch (40 on Fashion-MNIST).
# usage: bench/distributed_train.sh [BUILD_DIR] [STEPS=80] [REPS=3] [SPACE=zoo/mobilenet.yaml] [DATA=fashion-mnist]
set -euo pipefail
NF=${1:-build}/bin/nasforge
STEPS=${2:-80}
REPS=${3:-3}
SPACE=${4:-zoo/mobilenet.yaml}
DATA=${5:-fashion-mnist}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# The throughput of the run's last status line ("... 812 img/s ..."); the first steps include
# loading, so the epoch's own figure (measured from its first step) is what counts.
rate() { grep -o '[0-9.]* img/s' "$1" | tail -1 | cut -d' ' -f1; }
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
one=() two=()
for r in $(seq "$REPS"); do
  "$NF" train-supernet --space "$SPACE" --data "$DATA" --config configs/spos.yaml \
    --max-steps "$STEPS" --out "$TMP/one$r" --threads 2 > /dev/null 2> "$TMP/one$r.err"
  one+=("$(rate "$TMP/one$r.err")")
  "$NF" launch -n 2 -- train-supernet --space "$SPACE" --data "$DATA" --config configs/spos.yaml \
    --max-steps "$STEPS" --out "$TMP/two$r" --threads 1 > /dev/null 2> "$TMP/two$r.err"
  two+=("$(rate "$TMP/two$r.err")")
done
a=$(printf '%s\n' "${one[@]}" | bench_median)
b=$(printf '%s\n' "${two[@]}" | bench_median)
echo "one process, 2 threads: ${one[*]} img/s; two ranks, 1 thread each: ${two[*]} img/s"
echo "nasforge launch -n 2 -- train-supernet --space $SPACE --data $DATA --config configs/spos.yaml --max-steps $STEPS --threads 1"
awk -v a="$a" -v b="$b" 'BEGIN { printf "FIGURE distributed.train_2ranks_vs_1process: %.2fx (%s against %s img/s; no target)\n", b / a, b, a }'
