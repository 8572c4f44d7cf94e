#!/usr/bin/env bash
# Threads on a busy machine: the same `nasforge rank` (synflow and nwot on 8 NAS-Bench-201 cells)
# with --threads 1 and with one thread per core, alone and then beside one busy process per core
# (what another job, or a second ctest test under -j, does to it). Runs alternate, twice each,
# so that the machine's speed moves both alike. Prints each median wall time and the slow-down
# of all-cores threads against one thread when the machine is busy. No target: it is what a
# user sharing the machine should know when choosing --threads.
# usage: bench/threads_busy.sh [BUILD_DIR]
set -uo pipefail
NF=${1:-build}/bin/nasforge
CORES=$(nproc)
CMD=("$NF" rank --space zoo/nb201.yaml --signals proxy:synflow,proxy:nwot:1x8
  --reference table:data/nasbench201/nb201_cifar10.csv.gz:valid_acc --archs 8 --data synthetic:64)
echo "${CMD[*]} --threads T"
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
wall() {  # wall T: seconds of one run with --threads T, or "fail"
  local t
  if t=$(bench_seconds "${CMD[@]}" --threads "$1"); then echo "$t"; else echo fail; fi
}
median2() { printf '%s\n' "$1" "$2" | bench_median | awk '{ printf "%.2f", $1 }'; }
declare -A w
for round in 1 2; do
  for t in 1 "$CORES"; do w[alone_${t}_$round]=$(wall "$t"); done
done
BUSY=()
for _ in $(seq "$CORES"); do
  (while :; do :; done) &
  BUSY+=($!)
done
trap 'kill "${BUSY[@]}" 2> /dev/null' EXIT
for round in 1 2; do
  for t in 1 "$CORES"; do w[busy_${t}_$round]=$(wall "$t"); done
done
kill "${BUSY[@]}" 2> /dev/null
for k in "${!w[@]}"; do
  if [[ ${w[$k]} == fail ]]; then
    echo "SKIPPED: threads.busy: nasforge rank failed ($k)"
    exit 0
  fi
done
a1=$(median2 "${w[alone_1_1]}" "${w[alone_1_2]}")
an=$(median2 "${w[alone_${CORES}_1]}" "${w[alone_${CORES}_2]}")
b1=$(median2 "${w[busy_1_1]}" "${w[busy_1_2]}")
bn=$(median2 "${w[busy_${CORES}_1]}" "${w[busy_${CORES}_2]}")
echo "alone: --threads 1 $a1 s, --threads $CORES $an s; beside $CORES busy processes: --threads 1 $b1 s, --threads $CORES $bn s"
awk -v b1="$b1" -v bn="$bn" -v c="$CORES" 'BEGIN {
  printf "FIGURE threads.busy_slowdown: %.1fx (--threads %d against --threads 1 beside %d busy processes; no target)\n", bn / b1, c, c }'
