#!/usr/bin/env bash
# nasforge as a library others install: `cmake --install` into a fresh prefix, then this folder's
# project configures with find_package(nasforge), builds, loads a zoo space and samples an
# architecture, which must be the one `nasforge sample` prints for the same seed, and runs rea
# with its own metric through nasforge::strategies (the LibTorch side of the package); the first
# program also builds with pkg-config's flags for nasforge-searchspace.
# usage: consumer_test.sh BUILD_DIR REPO_ROOT
set -euo pipefail
BUILD=$(realpath "$1")
ROOT=$(realpath "$2")
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
P="$TMP/prefix"
cmake --install "$BUILD" --prefix "$P" > "$TMP/install.log"
for f in bin/nasforge include/nasforge/searchspace/dsl.h; do
  [[ -e "$P/$f" ]] || { echo "FAIL: the install has no $f"; exit 1; }
done
config=$(find "$P" -name nasforgeConfig.cmake | head -1)
[[ -n "$config" ]] || { echo "FAIL: the install has no nasforgeConfig.cmake"; exit 1; }
echo "installed: $(find "$P" -type f | wc -l) files under the prefix"

SPACE="$ROOT/zoo/nb201.yaml"
want="$("$P/bin/nasforge" sample "$SPACE" -n 1 --seed 7)"
cmake -S "$ROOT/tests/consumer" -B "$TMP/build" -DCMAKE_PREFIX_PATH="$P" > "$TMP/configure.log" ||
  { cat "$TMP/configure.log"; echo "FAIL: find_package(nasforge)"; exit 1; }
cmake --build "$TMP/build" > "$TMP/build.log" 2>&1 ||
  { tail -30 "$TMP/build.log"; echo "FAIL: building against nasforge::searchspace"; exit 1; }
got=$("$TMP/build/consumer" "$SPACE" 7)
[[ "$got" == "nb201 15625 $want" ]] ||
  { echo "FAIL: the consumer printed '$got', expected 'nb201 15625 $want'"; exit 1; }
echo "find_package(nasforge): $got"
# rea with the caller's metric (3x3 convolutions in a cell, at most 6): after 100 trials it
# must have found a cell with at least 5, where a random cell has 1.2 on average.
got=$("$TMP/build/consumer_strategy" "$SPACE" 1)
[[ "${got%% *}" -ge 5 ]] ||
  { echo "FAIL: rea with the caller's metric found '$got', expected a score of 5 or 6"; exit 1; }
echo "nasforge::strategies with a C++ metric: $got"

# The tour: a supernet's logits (batch x classes), rea with a callback metric under params <= 1M
# (NB201's all-conv3x3 cell breaks it), and the store read back with the same best.
got=$("$TMP/build/consumer_tour" "$SPACE" "$TMP/tour")
echo "$got"
[[ "$got" == *"supernet: logits 2x10"* ]] || { echo "FAIL: the supernet's logits"; exit 1; }
best=$(sed -n 's/^search: best convs \([0-9]*\) params \([0-9.e+]*\) .*/\1 \2/p' <<< "$got")
read -r convs params <<< "$best"
[[ -n "$convs" && "$convs" -ge 3 ]] || { echo "FAIL: the callback search's best: '$best'"; exit 1; }
awk -v p="$params" 'BEGIN { exit !(p <= 1000000) }' || { echo "FAIL: params $params > 1M"; exit 1; }
[[ "$got" == *"store: 100 trials of rea, best convs $convs"* ]] ||
  { echo "FAIL: the store read back does not hold the search's 100 trials and best"; exit 1; }
# docs/library.md quotes the tour's regions verbatim (dedented): they compiled just now, so the
# doc's code is code that compiles.
python3 - "$ROOT/tests/consumer/tour.cpp" "$ROOT/docs/library.md" <<'PY' || exit 1
import re, sys, textwrap
code, doc = open(sys.argv[1]).read(), open(sys.argv[2]).read()
regions = re.findall(r"// \[tour: (\w+)\]\n(.*?)\n\s*// \[/tour\]", code, re.S)
missing = [name for name, body in regions if textwrap.dedent(body) not in doc]
if not regions or missing:
    print("FAIL: docs/library.md does not quote the tour's regions %s verbatim" % (missing or "(none found)"))
    sys.exit(1)
print("docs/library.md quotes the tour's %d regions verbatim" % len(regions))
PY

pc=$(dirname "$(find "$P" -name nasforge-searchspace.pc | head -1)")
flags=$(PKG_CONFIG_PATH="$pc" pkg-config --cflags --libs nasforge-searchspace)
g++ -std=c++17 "$ROOT/tests/consumer/main.cpp" -o "$TMP/pc_consumer" $flags ||
  { echo "FAIL: building with pkg-config's flags: $flags"; exit 1; }
got=$("$TMP/pc_consumer" "$SPACE" 7)
[[ "$got" == "nb201 15625 $want" ]] ||
  { echo "FAIL: the pkg-config build printed '$got'"; exit 1; }
echo "pkg-config nasforge-searchspace: $flags"
echo "consumer test passed"
