#!/usr/bin/env bash
# Measures the build: a clean build without ccache, a fresh clone in another folder with a warm
# ccache (what CI and a new checkout see), and incremental rebuilds after editing one source
# file and one widely included header. Prints seconds and the ccache hit rate.
# usage: bench/build_times.sh   (from anywhere inside the repository)
set -euo pipefail
ROOT=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
git clone -q "$ROOT" "$WORK/one"
git clone -q "$ROOT" "$WORK/two"

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
seconds() {  # seconds COMMAND...: runs it quietly, prints its wall seconds to 0.1 s
  local t
  t=$(bench_seconds "$@") || { echo "bench/build_times.sh: failed: $*" >&2; return 1; }
  awk -v t="$t" 'BEGIN { printf "%.1f", t }'
}
build() { cmake -S "$1" -B "$1/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build "$1/build" -j 2; }

cold=$(CCACHE_DISABLE=1 seconds build "$WORK/one")
# Fill the cache from the first clone, then build the second clone (another folder) from it.
build "$WORK/one" >/dev/null 2>&1 || true
ccache -z >/dev/null
warm=$(seconds build "$WORK/two")
hits=$(ccache --print-stats 2>/dev/null | awk -F'\t' '$1=="direct_cache_hit"||$1=="preprocessed_cache_hit"{h+=$2} $1=="cache_miss"{m+=$2} END{ if (h+m>0) printf "%d/%d", h, h+m; else print "n/a" }')

echo "// edit" >> "$WORK/two/searchspace/src/check_network.cpp"
one_source=$(seconds cmake --build "$WORK/two/build" -j 2)
echo "// edit" >> "$WORK/two/searchspace/include/nasforge/searchspace/search_space.h"
one_header=$(seconds cmake --build "$WORK/two/build" -j 2)

printf 'clean build, no ccache:                 %6s s\n' "$cold"
printf 'fresh clone, warm ccache:               %6s s  (ccache hits %s)\n' "$warm" "$hits"
printf 'rebuild after editing one .cpp:         %6s s\n' "$one_source"
printf 'rebuild after editing search_space.h:   %6s s\n' "$one_header"
