# shellcheck shell=bash
# Helpers the bench scripts share: source it, do not run it.
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# Times come from `date +%s.%N`, not bash's EPOCHREALTIME, whose decimal separator follows the
# locale (a comma would be misread by awk).

# bench_now: seconds since the epoch, to the nanosecond.
bench_now() { date +%s.%N; }

# bench_elapsed START [END]: END (default: now) minus START, in seconds to the millisecond.
bench_elapsed() { awk -v a="$1" -v b="${2:-$(bench_now)}" 'BEGIN { printf "%.3f\n", b - a }'; }

# bench_seconds CMD...: runs CMD with its output appended to $BENCH_LOG (default: thrown away),
# prints its wall seconds, and returns CMD's exit status.
bench_seconds() {
  local start rc
  start=$(bench_now)
  "$@" >> "${BENCH_LOG:-/dev/null}" 2>&1
  rc=$?
  bench_elapsed "$start"
  return $rc
}

# bench_median: the median of the numbers on stdin, one per line (the mean of the middle two for
# an even count).
bench_median() {
  sort -g | awk '{ v[NR] = $1 }
    END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
