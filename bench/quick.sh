#!/usr/bin/env bash
# make bench-quick: every bench of bench/ at a reduced size (about 20 minutes on 2 cores), then
# one line per figure: the figure, its target and met or missed. The full-size commands, and
# what each figure was at full size, are in docs/benchmarks.md. A figure that cannot be measured
# here prints SKIPPED with the reason.
# usage: bench/quick.sh [BUILD_DIR]   (from the repository root; make bench-quick builds first)
set -uo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
BUILD=${1:-build}
BIN=$BUILD/bin
OUT=runs/bench-quick
mkdir -p "$OUT"
LOG=$OUT/log.txt
: > "$LOG"
start=$SECONDS
run() {  # run NAME COMMAND...: runs it, keeps its whole output in the log
  printf '\n=== [%ds] %s\n' $((SECONDS - start)) "$*" | tee -a "$LOG" >&2
  "$@" >> "$LOG" 2>&1 || echo "FIGURE $1: the command failed (exit $?), see $LOG: missed" >> "$LOG"
}

run "$BIN/searchspace_bench" .
run "$BIN/supernet_step_bench" . --steps 5 --paths 1 --batch 64
# Layer choice: FBNet's 22 layers of 9 candidates at batch 128 (issue 14's figure).
run "$BIN/supernet_step_bench" . --space zoo/fbnet.yaml --steps 5 --paths 1 --batch 128
run bash bench/python_comparison.sh "$BUILD" 5 10
# Latency on this CPU: profile the mobile space, fit lut+residual on 30, judge it on 60.
run "$BIN/latency_bench" . --part cpu --space zoo/mobilenet.yaml --calibrate 30 --heldout 60 \
  --profile "$OUT/mobilenet_cpu_profile.json"
# Query speed needs a profile per space; timing quality does not matter for it, so nb201's is
# measured with short limits.
for space in nb201 darts; do
  "$BIN/nasforge" profile --space zoo/$space.yaml --device cpu --calibrate 0 --time-limit 0.02 \
    --out "$OUT/${space}_cpu_profile.json" >> "$LOG" 2>&1
done
for space in mobilenet nb201 darts; do
  run "$BIN/latency_bench" . --part speed --space zoo/$space.yaml --queries 200000 \
    --profile "$OUT/${space}_cpu_profile.json"
done
run "$BIN/transfer_bench" . --seeds 2
run "$BIN/search_bench" . --part single --seeds 10
run "$BIN/search_bench" . --part speed
# The DARTS family (issue I), small: one seed, one epoch of 500 images on the NAS-Bench-201
# proxy; HardCoRe and GOLD under a measured CPU bound on the mobile space; the cost of an epoch.
run "$BIN/darts_bench" . --figure nb201 --train 500 --valid 500 --epochs 1 --seeds 1
run "$BIN/darts_bench" . --figure hardcore --space zoo/mobilenet.yaml --train 500 --valid 500 \
  --epochs 1 --nsga2_budget 10
run "$BIN/darts_bench" . --figure cost --train 512 --valid 256
run "$BIN/ranking_bench" . --from docs/ranking_run.txt
run "$BIN/ranking_bench" . --from docs/ranking_macro_run.txt
# The allocator policy: one inherited-accuracy evaluation with glibc's defaults and with the
# policy, alternating, after a supernet trained for a few steps.
"$BIN/nasforge" train-supernet --space zoo/mobilenet.yaml --data fashion-mnist --max-steps 3 \
  --valid-size 1000 --out "$OUT/supernet" >> "$LOG" 2>&1
ARCH=$("$BIN/nasforge" sample zoo/mobilenet.yaml --n 1 --seed 1)
best() { sort -n | head -1; }
for policy in glibc keep glibc keep; do
  t=$(BENCH_LOG=$LOG bench_seconds "$BIN/nasforge" --allocator $policy eval \
    --checkpoint "$OUT/supernet" --arch "$ARCH" --no-recalibrate)
  echo "$policy $t" >> "$OUT/alloc.txt"
done
glibc=$(awk '$1 == "glibc" { print $2 }' "$OUT/alloc.txt" | best)
keep=$(awk '$1 == "keep" { print $2 }' "$OUT/alloc.txt" | best)
rm -f "$OUT/alloc.txt"
awk -v g="$glibc" -v k="$keep" 'BEGIN { printf "FIGURE allocator.eval_speedup: %.2fx (glibc %.1f s, keep %.1f s, best of 2 each), target >= 1.5: %s\n", g / k, g, k, (g / k >= 1.5 ? "met" : "missed") }' >> "$LOG"
bash bench/differentiable_zoo.sh "$BUILD" >> "$LOG" 2>&1
# Zero-cost proxies against the NAS-Bench-201 table on 50 cells (the full figure uses 1,000).
bash bench/proxies_nb201.sh "$BUILD" 50 >> "$LOG" 2>&1
bash bench/ghn_zoo.sh "$BUILD" >> "$LOG" 2>&1
# Data-parallel training: two ranks of one thread against one process of two, alternating.
bash bench/distributed_train.sh "$BUILD" 40 1 >> "$LOG" 2>&1
# Parallel search: 2 and 4 workers against 1 and against one process, alternating.
bash bench/search_workers.sh "$BUILD" 8 1 >> "$LOG" 2>&1
# Threads on a busy machine: one thread per core against one thread, beside busy processes.
bash bench/threads_busy.sh "$BUILD" >> "$LOG" 2>&1
echo "SKIPPED: ghn.mobilenet figures: bench/ghn_rank_mobilenet.sh trains a supernet, two hypernetworks and 30 networks alone (several hours); run it alone" >> "$LOG"
# The checks that need a GPU (SKIPPED here: Debian's LibTorch is CPU-only).
bash bench/gpu_check.sh >> "$LOG" 2>&1
echo "SKIPPED: ghn.unseen figure: bench/ghn_transfer.sh trains GHN-2 on mobilenet for 400 steps and evaluates 12 networks of three spaces against their initialisation (about an hour); run it alone" >> "$LOG"
echo "SKIPPED: build_times: bench/build_times.sh clones and builds twice (about 10 minutes); run it alone" >> "$LOG"
echo "SKIPPED: ranking at full size: bench/ranking_bench trains 20 networks (40 minutes); the quick run recomputes docs/ranking_run.txt" >> "$LOG"
echo "SKIPPED: NAS-Bench-Macro ranking at full size: bench/ranking_bench --space zoo/nasbench_macro.yaml trains a supernet and 8 architectures alone (about an hour alone on the machine); the quick run recomputes docs/ranking_macro_run.txt" >> "$LOG"

printf '\nbench-quick: %d s; figures (whole output in %s):\n' $((SECONDS - start)) "$LOG"
grep -E '^(FIGURE|SKIPPED)' "$LOG" | sed 's/^FIGURE //'
missed=$(grep -c '^FIGURE.*: missed$' "$LOG")
met=$(grep -c '^FIGURE.*: met$' "$LOG")
echo "$met met, $missed missed"
