#!/usr/bin/env bash
# nasforge launch and data-parallel training from the command line, on loopback: two ranks train
# and checkpoint once, a run resumes on another number of ranks, a killed worker stops the run
# naming its rank (and the run folder resumes), a rendezvous nobody joins times out, and bad
# launcher environments are refused by variable.
# usage: NASFORGE=path/to/nasforge distributed_cli_test.sh REPO_ROOT
set -u
# shellcheck source=tests/tools/expect.sh
source "$(dirname "${BASH_SOURCE[0]}")/expect.sh"  # sets ROOT, NF and TMP, and cds to ROOT

V=tests/data/vit_tiny.yaml
printf 'batch_size: 32\nbn_recalibration_batches: 2\nepochs: 2\n' > "$TMP/c.yaml"
TRAIN=(train-supernet --space $V --data synthetic:256 --config "$TMP/c.yaml" --threads 1)

expect "launch --help shows the one-letter flag" 0 "-n VALUE" -- "$NF" launch --help
expect "launch without a command" 1 "expected the command after --" -- "$NF" launch -n 2
expect "launch refuses a command that does not run distributed" 1 "'rank' does not run distributed" -- \
  "$NF" launch -n 2 -- rank --space $V --signals count --reference count --archs 3
expect "a command that does not run distributed refuses to run as one rank of several" 1 \
  "starts this process as rank 1 of 2" -- \
  env RANK=1 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=29999 "$NF" rank --space $V \
  --signals count --reference count --archs 3
expect "an sbatch script's Slurm variables do not stop a single-process command" 0 "15625" -- \
  env SLURM_PROCID=0 SLURM_NTASKS=4 "$NF" size zoo/nb201.yaml
expect "launch refuses zero workers" 1 "-n: expected an integer in [1, 1024], got '0'" -- \
  "$NF" launch -n 0 -- train --space $V
expect "launch refuses a master without a port" 1 "--master: expected ADDR:PORT" -- \
  "$NF" launch -n 2 --master localhost -- train --space $V
expect "launch of a program that does not exist" 127 "cannot run" -- \
  "$NF" launch -n 2 -- /nonexistent/program

expect "two ranks train a supernet" 0 "on 2 ranks" -- \
  "$NF" launch -n 2 -- "${TRAIN[@]}" --out "$TMP/k2" --max-steps 4
"$NF" launch -n 2 -- "${TRAIN[@]}" --out "$TMP/k2b" --max-steps 4 > "$TMP/k2b.out" 2> "$TMP/k2b.err"
expect "only rank 0 prints the result and the progress" 0 "1 1" -- \
  bash -c "echo \$(grep -c '^checkpoint:' '$TMP/k2b.out') \$(grep -c 'steps per epoch' '$TMP/k2b.err')"
expect "the two-rank run resumes on one rank" 0 "step 8," -- \
  "$NF" "${TRAIN[@]}" --out "$TMP/k2" --max-steps 8
expect "a one-rank run resumes on two" 0 "step 12," -- \
  "$NF" launch -n 2 -- "${TRAIN[@]}" --out "$TMP/k2" --max-steps 12
expect "stand-alone training on two ranks" 0 "valid accuracy" -- \
  "$NF" launch -n 2 -- train --space $V --arch "$("$NF" sample $V --n 1 --seed 3 2> /dev/null | head -1)" \
  --data synthetic:128 --config "$TMP/c.yaml" --epochs 1 --threads 1

expect "two ranks train a hypernetwork" 0 "on 2 ranks" -- \
  "$NF" launch -n 2 -- train-ghn --space $V --data synthetic:128 --config "$TMP/c.yaml" \
  --archs-per-step 2 --max-steps 3 --out "$TMP/ghn" --threads 1
expect "the hypernetwork's run resumes on one rank" 0 "step 5)" -- \
  "$NF" train-ghn --space $V --data synthetic:128 --config "$TMP/c.yaml" \
  --archs-per-step 2 --max-steps 5 --out "$TMP/ghn" --threads 1

# A worker killed (kill -9) at step 2: the launcher names it and stops the other; the folder
# holds nothing half-written, and the same command then completes.
expect "a killed worker stops the run, naming its rank" 137 "rank 1 (pid" -- \
  env NASFORGE_TEST_KILL_AFTER_STEP=2 NASFORGE_TEST_KILL_RANK=1 \
  "$NF" launch -n 2 --timeout 20 -- "${TRAIN[@]}" --out "$TMP/dead" --max-steps 4
expect "after the kill the run completes" 0 "step 4," -- \
  "$NF" launch -n 2 -- "${TRAIN[@]}" --out "$TMP/dead" --max-steps 4

# SIGTERM sent to launch (a scheduler's stop) reaches the workers, and launch exits 128 + 15.
"$NF" launch -n 2 -- "${TRAIN[@]}" --out "$TMP/term" --epochs 1000 > "$TMP/term.out" 2>&1 &
LAUNCHER=$!
sleep 2
kill -TERM $LAUNCHER
wait $LAUNCHER
TERM_RC=$?
expect "SIGTERM to launch reaches the workers" 0 "143 passing signal 15" -- \
  bash -c "echo $TERM_RC \$(grep -o 'passing signal 15' '$TMP/term.out')"

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
expect "a rendezvous nobody joins times out" 1 "waited 2 s for the other ranks" -- \
  env RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT="$PORT" NASFORGE_DIST_TIMEOUT=2 \
  "$NF" "${TRAIN[@]}" --out "$TMP/alone" --max-steps 2
expect "a rank outside the world" 1 "RANK: expected an integer in [0, 1], got '3'" -- \
  env RANK=3 WORLD_SIZE=2 MASTER_PORT=29999 "$NF" "${TRAIN[@]}" --out "$TMP/bad" --max-steps 2
expect "a bad timeout" 1 "NASFORGE_DIST_TIMEOUT" -- \
  env RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=29999 NASFORGE_DIST_TIMEOUT=soon \
  "$NF" "${TRAIN[@]}" --out "$TMP/bad" --max-steps 2

# A differentiable search on two ranks: on the BN-free space, the same losses and the same
# argmax as one process (diagnostics.csv, 6 digits), and a two-rank run resumed on one rank
# mid-epoch ends the same. Second-order darts is refused on several ranks.
printf 'batch_size: 16\n' > "$TMP/d.yaml"
DARTS=(search --space $V --data synthetic:128 --train-config "$TMP/d.yaml" --threads 1
  --strategy darts --epochs 2)
# The columns that must agree: train_loss, train_accuracy, valid_loss, entropy and argmax (the
# Hessian's power iteration amplifies rounding, so its column is left out).
cols() { cut -d, -f1-5,8,15 "$1/supernet/diagnostics.csv"; }
"$NF" "${DARTS[@]}" --out "$TMP/d1" > /dev/null 2>&1
expect "darts on two ranks" 0 "best accuracy" -- "$NF" launch -n 2 -- "${DARTS[@]}" --out "$TMP/d2"
expect "darts on two ranks takes the steps of one process" 0 "" -- \
  diff <(cols "$TMP/d1") <(cols "$TMP/d2")
"$NF" launch -n 2 -- "${DARTS[@]}" --max-steps 5 --out "$TMP/d3" > /dev/null 2>&1
expect "a two-rank darts search resumes on one rank" 0 "best accuracy" -- \
  "$NF" "${DARTS[@]}" --out "$TMP/d3"
expect "... and ends as the straight run" 0 "" -- diff <(cols "$TMP/d1") <(cols "$TMP/d3")
expect "second-order darts is refused on several ranks" 1 "second-order darts on several ranks" -- \
  "$NF" launch -n 2 -- "${DARTS[@]}" --option order=2 --out "$TMP/d4"

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
