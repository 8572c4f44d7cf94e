#!/usr/bin/env bash
# The report in a real browser: headless Chromium (Debian's, installed by `make deps`) loads the
# page of two small table-source searches from a file URL, runs its script, and leaves its DOM
# (--dump-dom) and a screenshot, which tests/report/dom_check.py compares with the stores.
# Views are opened through the page's hash (#sort=, #filter=, #trial=), the same state its
# clicks write; tests/report/pointer.js then hovers and clicks a point with a real pointer.
# Exits 77 (ctest: skipped) with a SKIPPED line where there is no Chromium.
# usage: NASFORGE=build/bin/nasforge tests/report/report_browser_test.sh REPO_ROOT
source "$(dirname "$0")/../tools/expect.sh"

CHROME=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [[ -z "$CHROME" ]]; then
  echo "SKIPPED: report_browser_test: no Chromium on this machine (make deps installs Debian's chromium)"
  exit 77
fi
if ! command -v python3 > /dev/null; then
  echo "SKIPPED: report_browser_test: no python3 to read the DOM Chromium leaves"
  exit 77
fi
# Chromium that is installed but cannot start here (no /dev/shm in a container, say) is said,
# with its own first error, and skipped; one that starts must then pass every check.
probe=$(timeout 60 "$CHROME" --headless --no-sandbox --disable-gpu --no-first-run \
  --user-data-dir="$TMP/probe" --dump-dom 'data:text/html,<p id=x>alive</p>' 2> "$TMP/probe.err")
if [[ "$probe" != *alive* ]]; then
  echo "SKIPPED: report_browser_test: $CHROME did not start: $(grep -v dbus "$TMP/probe.err" | head -2)"
  exit 77
fi
CHECK="python3 tests/report/dom_check.py"
ACC=data/nasbench201/nb201_cifar10.csv.gz
LAT=data/nasbench201/nb201_latency_ms.csv.gz
CONSOLE="$TMP/console.txt"
: > "$CONSOLE"
# chrome URL FLAGS...: one headless page load (virtual time lets the scripts finish); every
# console line the page printed is gathered in $CONSOLE.
views=0
chrome() {
  local url=$1
  shift
  views=$((views + 1))
  timeout 60 "$CHROME" --headless --no-sandbox --disable-gpu --no-first-run \
    --user-data-dir="$TMP/profile$views" --enable-logging=stderr --v=0 \
    --virtual-time-budget=10000 "$@" "$url" 2> "$TMP/chrome$views.err"
  local rc=$?
  grep ":CONSOLE" "$TMP/chrome$views.err" >> "$CONSOLE"
  return $rc
}
# browser OUT URL: the DOM after the scripts ran.
browser() { chrome "$2" --dump-dom > "$1"; }

for s in nsga2 random; do
  expect "$s search writes report.html" 0 "report: $TMP/$s/report.html" -- \
    "$NF" search --space zoo/nb201.yaml --strategy $s --budget 60 --seed 4 \
    --metric "accuracy=table:$ACC:valid_acc" --metric "latency_ms@raspi4=table:$LAT:raspi4" \
    --objective accuracy:max --objective latency_ms@raspi4:min \
    --constraint 'latency_ms@raspi4<=12' --out "$TMP/$s"
done
PAGE="$TMP/report.html"
expect "report of both runs" 0 "$PAGE" -- "$NF" report "$TMP/nsga2" "$TMP/random" --out "$PAGE"
URL="file://$PAGE"

browser "$TMP/dom.html" "$URL"
expect "the page's script ran to the end" 0 'data-nf-ready="true"' -- cat "$TMP/dom.html"
expect "nsga2: one drawn point per trial of the store's front" 0 "front of nsga2" -- \
  $CHECK front "$TMP/dom.html" "$TMP/nsga2/trials.sqlite" nsga2
expect "random: one drawn point per trial of the store's front" 0 "front of random" -- \
  $CHECK front "$TMP/dom.html" "$TMP/random/trials.sqlite" random
expect "the constraint line is at the bound's coordinate" 0 "constraint latency_ms@raspi4 <= 12 drawn" -- \
  $CHECK constraint "$TMP/dom.html" "$TMP/nsga2/trials.sqlite" nsga2
expect "random search is drawn as the baseline" 0 "random (baseline)" -- cat "$TMP/dom.html"

browser "$TMP/desc.html" "$URL#sort=accuracy:desc"
expect "sorting by accuracy reorders the table, best first" 0 "sorted by accuracy desc" -- \
  $CHECK sorted "$TMP/desc.html" accuracy desc
browser "$TMP/asc.html" "$URL#sort=latency_ms@raspi4:asc"
expect "sorting by latency reorders it, fastest first" 0 "sorted by latency_ms@raspi4 asc" -- \
  $CHECK sorted "$TMP/asc.html" latency_ms@raspi4 asc
browser "$TMP/feasible.html" "$URL#run=random&filter=feasible"
expect "filtering shows the store's feasible trials of the chosen run" 0 "filter ok:" -- \
  $CHECK rows "$TMP/feasible.html" "$TMP/random/trials.sqlite" ok
FRONT_TRIAL=$("$NF" report "$TMP/nsga2" --json | python3 -c \
  "import json, sys; print(json.load(sys.stdin)['runs'][0]['front'][0])")
browser "$TMP/selected.html" "$URL#trial=$FRONT_TRIAL"
expect "a selected trial shows its arch and its cell" 0 "trial $FRONT_TRIAL selected" -- \
  $CHECK selected "$TMP/selected.html" "$TMP/nsga2/trials.sqlite" "$FRONT_TRIAL"

# A real pointer (DevTools over a pipe, tests/report/pointer.js): hovering a front point opens
# its trial's tooltip, leaving closes it, and clicking selects it as the hash does.
if command -v node > /dev/null; then
  node tests/report/pointer.js "$CHROME" "$URL" nsga2 "$TMP/pointer_profile" > "$TMP/pointer.json"
  expect "hover shows a front point's trial, leaving hides it, a click selects it" 0 "pointer on trial" -- \
    $CHECK pointer "$TMP/pointer.json" "$TMP/nsga2/trials.sqlite"
else
  echo "SKIPPED: report_browser_test pointer checks: no node to drive Chromium (make deps installs nodejs)"
fi

# Three objectives: a chart per pair (a scatter matrix), each with that run's front.
expect "a three-objective search" 0 "report: $TMP/three/report.html" -- \
  "$NF" search --space zoo/nb201.yaml --strategy nsga2 --budget 40 --seed 2 \
  --metric "accuracy=table:$ACC:valid_acc" --metric "latency_ms@raspi4=table:$LAT:raspi4" \
  --objective accuracy:max --objective latency_ms@raspi4:min --objective params:min \
  --out "$TMP/three"
browser "$TMP/three.html" "file://$TMP/three/report.html"
expect "three objectives draw three pair charts" 0 "3 pair charts" -- \
  $CHECK pairs "$TMP/three.html" 3

# A run still going (its folder's lock held) is shown as far as it got.
# (One process holds it: the subshell becomes `sleep`, keeping the locked descriptor.)
(exec 9>> "$TMP/random/.nasforge.lock" && flock 9 && exec sleep 60) > /dev/null 2>&1 &
HOLDER=$!
sleep 0.5
"$NF" report "$TMP/random" --out "$TMP/live.html" > /dev/null
browser "$TMP/live.html.dom" "file://$TMP/live.html"
kill $HOLDER 2> /dev/null
wait $HOLDER 2> /dev/null
expect "a running search is shown as running" 0 "running (" -- cat "$TMP/live.html.dom"

# A training folder: its loss curve, drawn.
printf 'batch_size: 32\nbn_recalibration_batches: 2\n' > "$TMP/small.yaml"
expect "train-supernet writes report.html" 0 "report: $TMP/sn/report.html" -- \
  "$NF" train-supernet --space tests/data/design_mobile_tiny.yaml --data synthetic \
  --config "$TMP/small.yaml" --epochs 1 --max-steps 6 --out "$TMP/sn" --threads 2
browser "$TMP/sn.html" "file://$TMP/sn/report.html"
expect "the supernet's report draws its loss" 0 "draws loss through 6 points" -- \
  $CHECK chart "$TMP/sn.html" "train:sn:Loss" loss
expect "and its learning rate" 0 "draws lr through 6 points" -- \
  $CHECK chart "$TMP/sn.html" "train:sn:Learning rate" lr

chrome "$URL" --screenshot="$TMP/shot.png" --window-size=1280,1600 > /dev/null
expect "the screenshot is not blank" 0 "distinct colours" -- $CHECK colours "$TMP/shot.png" 40
expect "no console message from any page" 0 "" -- test ! -s "$CONSOLE"
[[ -s "$CONSOLE" ]] && head -5 "$CONSOLE"

echo "$passed passed, $failed failed ($views page loads)"
[[ $failed -eq 0 ]]
