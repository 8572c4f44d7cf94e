#!/usr/bin/env bash
# The differentiable strategies from the command line, on a tiny space and synthetic data: every
# method runs and stores what it derives; the JSON answer; constraints checked before training;
# a kill -9 mid-epoch resumes to the same result; bad invocations are refused by name.
# usage: NASFORGE=path/to/nasforge differentiable_cli_test.sh REPO_ROOT
set -u
# shellcheck source=tests/tools/expect.sh
source "$(dirname "${BASH_SOURCE[0]}")/expect.sh"  # sets ROOT, NF and TMP, and cds to ROOT

printf 'batch_size: 16\nbn_recalibration_batches: 1\n' > "$TMP/small.yaml"
SP=tests/data/diff_tiny.yaml
COMMON=(--space "$SP" --data synthetic:64 --train-config "$TMP/small.yaml" --threads 2)

# DARTS: the answer as JSON, the store, the derived list, the diagnostics and the checkpoint.
expect "darts runs and answers in JSON" 0 '"trials": 1' -- \
  "$NF" search "${COMMON[@]}" --strategy darts --epochs 2 --out "$TMP/darts" --json
expect "darts stored its derived architecture" 0 "1 trials (1 replayed" -- \
  "$NF" search "${COMMON[@]}" --strategy darts --epochs 2 --out "$TMP/darts"
expect "darts wrote a diagnostics row per epoch" 0 "3" -- \
  bash -c "wc -l < '$TMP/darts/supernet/diagnostics.csv'"
expect "the diagnostics name their columns" 0 "entropy,parameter_free_share,hessian_eigenvalue" -- \
  head -1 "$TMP/darts/supernet/diagnostics.csv"
expect "the run folder's supernet evaluates" 0 "accuracy" -- \
  "$NF" eval --checkpoint "$TMP/darts/supernet" --arch "$(cat "$TMP/darts/derived.txt")"
expect "the derived network exports" 0 "passes onnx::checker" -- \
  "$NF" export --run "$TMP/darts" --rank 1 --out "$TMP/darts/model.onnx"
expect "a discrete search reuses the supernet" 0 '"trials": 3' -- \
  "$NF" search --space "$SP" --strategy random --budget 3 \
  --metric "accuracy=supernet:$TMP/darts/supernet" --json

# Every other method, on a cost that adds over units (exact parameter counts).
for M in gdas sharpdarts gold proxyless; do
  expect "$M runs" 0 "best accuracy" -- \
    "$NF" search "${COMMON[@]}" --strategy "$M" --epochs 1 --out "$TMP/$M" \
    --objective accuracy:max --objective params:min
done
expect "second-order darts runs" 0 "best accuracy" -- \
  "$NF" search "${COMMON[@]}" --strategy darts --option order=2 --epochs 1 --out "$TMP/darts2"
# An accuracy bound has no source before the supernet exists: it is checked on what is derived.
expect "an accuracy bound is checked on the derived architecture" 0 "1 infeasible" -- \
  "$NF" search "${COMMON[@]}" --strategy darts --epochs 1 --out "$TMP/darts_acc" \
  --constraint 'accuracy>=101'


# HardCoRe under a parameter bound: every derived architecture meets it.
expect "hardcore meets its bound" 0 "0 infeasible" -- \
  "$NF" search "${COMMON[@]}" --strategy hardcore --epochs 1 --out "$TMP/hc" \
  --constraint 'params<=9000'
expect "hardcore's diagnostics show no violation" 0 ",0," -- \
  tail -1 "$TMP/hc/supernet/diagnostics.csv"
expect "an impossible bound stops before training" 2 "constraint params <= 10 cannot be met" -- \
  "$NF" search "${COMMON[@]}" --strategy hardcore --epochs 1 --out "$TMP/hc_bad" \
  --constraint 'params<=10'
expect "nothing was trained for it" 1 "" -- test -e "$TMP/hc_bad/supernet/checkpoint.pt"
expect "hardcore needs a bound" 1 "strategy hardcore needs a bound on its cost" -- \
  "$NF" search "${COMMON[@]}" --strategy hardcore --epochs 1 --out "$TMP/hc2" \
  --objective params:min --objective accuracy:max

# kill -9 mid-epoch (after step 6 of 8), then the same command: the same derived architecture and
# the same diagnostics as a straight run.
expect "a straight gdas run" 0 "best accuracy" -- \
  "$NF" search "${COMMON[@]}" --strategy gdas --epochs 2 --option checkpoint_every=1 \
  --out "$TMP/straight"
expect "a gdas run killed mid-epoch" 137 "" -- \
  env NASFORGE_TEST_KILL_AFTER_STEP=6 "$NF" search "${COMMON[@]}" --strategy gdas --epochs 2 \
  --option checkpoint_every=1 --out "$TMP/killed"
expect "the killed run left no answer" 1 "" -- test -e "$TMP/killed/derived.txt"
expect "the killed run resumes" 0 "best accuracy" -- \
  "$NF" search "${COMMON[@]}" --strategy gdas --epochs 2 --option checkpoint_every=1 \
  --out "$TMP/killed"
expect "resumed and straight runs derive the same" 0 "" -- \
  cmp "$TMP/straight/derived.txt" "$TMP/killed/derived.txt"
expect "resumed and straight runs have the same diagnostics" 0 "" -- \
  cmp "$TMP/straight/supernet/diagnostics.csv" "$TMP/killed/supernet/diagnostics.csv"
expect "resumed and straight runs log the same curves, each step once" 0 "" -- \
  cmp "$TMP/straight/supernet/train_log.csv" "$TMP/killed/supernet/train_log.csv"
expect "the search's report.html shows its training too" 0 '"hessian_eigenvalue"' -- \
  grep -o '"hessian_eigenvalue"' "$TMP/killed/report.html"
expect "the report has the derived trial and the per-step curves" 0 '"kind": "search"' -- \
  "$NF" report "$TMP/killed" "$TMP/killed/supernet" --json
expect "another configuration on the folder is refused" 1 "holds a search with another configuration" -- \
  "$NF" search "${COMMON[@]}" --strategy gdas --epochs 2 --option tau_max=5 --out "$TMP/killed"

# Refusals.
expect "a budget is refused" 1 "--budget: strategy darts trains for --epochs" -- \
  "$NF" search "${COMMON[@]}" --strategy darts --budget 5 --out "$TMP/x"
expect "data is required" 1 "strategy darts trains a supernet: expected --data" -- \
  "$NF" search --space "$SP" --strategy darts --out "$TMP/x"
expect "an unknown knob is named" 1 "strategy darts has no knob 'ordr' (did you mean 'order'?)" -- \
  "$NF" search "${COMMON[@]}" --strategy darts --option ordr=2 --out "$TMP/x"
expect "proxyless needs a cost" 1 "strategy proxyless needs a differentiable cost" -- \
  "$NF" search "${COMMON[@]}" --strategy proxyless --epochs 1 --out "$TMP/x"
expect "list strategy needs its file" 1 "strategy list needs --option file=FILE" -- \
  "$NF" search --space "$SP" --strategy list --budget 1 --metric params=count --objective params:min

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
