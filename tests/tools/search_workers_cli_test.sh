#!/usr/bin/env bash
# search --workers K and search under nasforge launch, on loopback: workers give the same trials
# as one process; a worker killed mid-trial (by a test hook, by kill -9, or silenced by SIGSTOP)
# has its trial evaluated once more by another and nothing is recorded twice; a trial that kills
# two workers is recorded as failed; a killed driver's folder resumes; bad flags are refused.
# usage: NASFORGE=path/to/nasforge search_workers_cli_test.sh REPO_ROOT
set -u
# shellcheck source=tests/tools/expect.sh
source "$(dirname "${BASH_SOURCE[0]}")/expect.sh"  # sets ROOT, NF and TMP, and cds to ROOT

M=zoo/nasbench_macro.yaml
COUNT=(search --space $M --budget 20 --metric params=count --metric macs=count
  --objective params:min --objective macs:max)
V=tests/data/vit_tiny.yaml
TRAIN=(search --space $V --metric accuracy=train:1 --objective accuracy:max --data synthetic:256
  --threads 1)
# Slower trials (about 2 s each), for killing a worker while it trains.
SLOW=(search --space $V --metric accuracy=train:2 --objective accuracy:max --data synthetic:1024
  --threads 1)
# The trials of a run folder, by architecture: what must not depend on the number of workers.
trials() { sqlite3 "$1/trials.sqlite" "select arch, status, metrics from trials order by hash"; }
rows() { sqlite3 "$1/trials.sqlite" "select count(*), count(distinct hash) from trials"; }

expect "--workers 0 is refused" 1 "--workers: expected an integer in [1, 256], got 0" -- \
  "$NF" "${COUNT[@]}" --workers 0
expect "--worker-timeout must be positive" 1 "--worker-timeout: expected seconds" -- \
  "$NF" "${COUNT[@]}" --workers 2 --worker-timeout 0
expect "the differentiable strategies do not take --workers" 1 "run them data-parallel with nasforge launch" -- \
  "$NF" search --space tests/data/diff_tiny.yaml --strategy darts --data synthetic --workers 2 \
  --out "$TMP/d"
expect "a worker started with a bad endpoint says what it expected" 1 "expected ID@HOST:PORT" -- \
  env NASFORGE_SEARCH_WORKER=oops "$NF" "${COUNT[@]}"
expect "a worker whose driver is not there gives up within its timeout" 1 \
  "cannot reach the driver's task board" -- \
  env NASFORGE_SEARCH_WORKER=1@127.0.0.1:1 NASFORGE_DIST_TIMEOUT=2 timeout 60 "$NF" "${COUNT[@]}"

# Random search proposes the same architectures whatever comes back when, so two workers, three
# launched ranks and one process must record the very same trials.
"$NF" "${COUNT[@]}" --out "$TMP/one" > /dev/null 2>&1
expect "two workers search" 0 "Pareto front" -- "$NF" "${COUNT[@]}" --workers 2 --out "$TMP/two"
expect "two workers record the trials one process records" 0 "same" -- \
  bash -c "[[ \"\$(trials $TMP/one)\" == \"\$(trials $TMP/two)\" ]] && echo same" \
  2> /dev/null
expect "two workers record the trials one process records" 0 "" -- \
  diff <(trials "$TMP/one") <(trials "$TMP/two")
expect "launch -n 3: rank 0 drives two workers" 0 "Pareto front" -- \
  "$NF" launch -n 3 -- "${COUNT[@]}" --out "$TMP/launch"
expect "launched workers record the trials one process records" 0 "" -- \
  diff <(trials "$TMP/one") <(trials "$TMP/launch")
expect "an sbatch script's Slurm variables leave search a single process" 0 "Pareto front" -- \
  env SLURM_PROCID=0 SLURM_NTASKS=4 timeout 60 "$NF" "${COUNT[@]}"
expect "--workers under a launcher is refused" 1 "give one or the other" -- \
  "$NF" launch -n 2 -- "${COUNT[@]}" --workers 2

# Trials that train: a worker evaluates exactly what the driver process would.
"$NF" "${TRAIN[@]}" --budget 4 --out "$TMP/t1" > /dev/null 2>&1
expect "two workers train trials" 0 "best accuracy" -- \
  "$NF" "${TRAIN[@]}" --budget 4 --workers 2 --out "$TMP/t2"
expect "trained by workers, the same accuracies as in one process" 0 "" -- \
  diff <(trials "$TMP/t1") <(trials "$TMP/t2")

# A worker killed mid-trial: the trial goes to another worker, once, and a new worker starts.
expect "a worker killed on trial 5 hands it to another" 0 "its trial 5" -- \
  env NASFORGE_TEST_KILL_TRIAL=5:1 "$NF" "${COUNT[@]}" --workers 2 --out "$TMP/k1"
expect "the requeued run records each trial once, as one process does" 0 "" -- \
  diff <(trials "$TMP/one") <(trials "$TMP/k1")
expect "a trial that kills two workers is recorded as failed" 0 "already a retry: recorded as failed" -- \
  env NASFORGE_TEST_KILL_TRIAL=5 "$NF" "${COUNT[@]}" --workers 2 --out "$TMP/k2"
expect "that run still records 20 distinct trials" 0 "20|20" -- rows "$TMP/k2"
expect "the failed trial names both deaths" 0 "1" -- \
  sqlite3 "$TMP/k2/trials.sqlite" \
  "select count(*) from trials where status = 'failed' and error like '%killed by signal 9%;%'"

# kill -9 from outside, while the workers train.
"$NF" "${SLOW[@]}" --budget 8 --workers 2 --out "$TMP/x" > "$TMP/x.out" 2> "$TMP/x.err" &
driver=$!
for _ in $(seq 1 900); do  # two trials done: both workers have joined, most likely
  [[ -f "$TMP/x/trials.sqlite" ]] && [[ $(sqlite3 "$TMP/x/trials.sqlite" "select count(*) from trials" 2> /dev/null) -ge 2 ]] && break
  sleep 0.1
done
victim=$(pgrep -P $driver | head -1)
kill -9 "$victim" 2> /dev/null
wait $driver
rc=$?
expect "kill -9 of a worker: the search completes" 0 "rc=0" -- echo "rc=$rc"
expect "kill -9 of a worker: the driver names it" 0 "(pid $victim) was killed by signal 9" -- \
  cat "$TMP/x.err"
expect "kill -9 of a worker: 8 trials, each once" 0 "8|8" -- rows "$TMP/x"

# A worker that stops answering (SIGSTOP) is taken for dead after --worker-timeout.
"$NF" "${SLOW[@]}" --budget 8 --workers 2 --worker-timeout 2 --out "$TMP/s" > /dev/null \
  2> "$TMP/s.err" &
driver=$!
for _ in $(seq 1 900); do  # three trials done: both workers have joined (a worker that never
  # joined has no heartbeat to stop)
  [[ -f "$TMP/s/trials.sqlite" ]] && [[ $(sqlite3 "$TMP/s/trials.sqlite" "select count(*) from trials" 2> /dev/null) -ge 3 ]] && break
  sleep 0.1
done
kill -STOP "$(pgrep -P $driver | head -1)" 2> /dev/null
wait $driver
rc=$?
expect "a silent worker: the search completes" 0 "rc=0" -- echo "rc=$rc"
expect "a silent worker is named" 0 "sent no heartbeat for" -- cat "$TMP/s.err"
expect "a silent worker: 8 trials, each once" 0 "8|8" -- rows "$TMP/s"

# The driver killed: its workers die with it, and the folder resumes, each trial recorded once.
"$NF" "${TRAIN[@]}" --budget 8 --workers 2 --out "$TMP/r" > /dev/null 2>&1 &
driver=$!
for _ in $(seq 1 600); do
  [[ -f "$TMP/r/trials.sqlite" ]] && [[ $(sqlite3 "$TMP/r/trials.sqlite" "select count(*) from trials" 2> /dev/null) -ge 2 ]] && break
  sleep 0.1
done
workers=$(pgrep -P $driver)
kill -9 $driver
wait $driver 2> /dev/null
sleep 1
left=0
for w in $workers; do  # a zombie waiting for its new parent to reap it is not left running
  state=$(ps -o stat= -p "$w" 2> /dev/null)
  [[ -n "$state" && "$state" != Z* ]] && left=$((left + 1))
done
expect "no worker outlives its driver" 0 "2 workers, 0 left" -- \
  echo "$(echo $workers | wc -w) workers, $left left"
expect "a killed driver's folder resumes with workers" 0 "replayed" -- \
  "$NF" "${TRAIN[@]}" --budget 8 --workers 2 --out "$TMP/r"
expect "the resumed run: 8 trials, each once" 0 "8|8" -- rows "$TMP/r"

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
