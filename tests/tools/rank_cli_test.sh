#!/usr/bin/env bash
# nasforge rank and the proxy: source from the command line: statistics as text and JSON, the
# reference read back from its store (so an interrupted ranking resumes), --archs-from, and bad
# invocations refused by name.
# usage: NASFORGE=path/to/nasforge rank_cli_test.sh REPO_ROOT
set -u
# shellcheck source=tests/tools/expect.sh
source "$(dirname "${BASH_SOURCE[0]}")/expect.sh"  # sets ROOT, NF and TMP, and cds to ROOT

NB=zoo/nb201.yaml
TABLE=data/nasbench201/nb201_cifar10.csv.gz
REF="table:$TABLE:valid_acc"

expect "rank prints each signal's statistics" 0 "synflow=proxy:synflow" -- \
  "$NF" rank --space $NB --signals count,proxy:synflow,proxy:nwot:1x8 --reference "$REF" \
  --archs 8 --data synthetic:64 --threads 2
expect "rank answers in JSON" 0 '"top_precision": {"value"' -- \
  "$NF" rank --space $NB --signals count --reference "$REF" --archs 8 --json
"$NF" rank --space $NB --signals count --reference "$REF" --archs 5 --json > "$TMP/values.json" 2>&1
expect "the JSON holds every architecture's values, their mean and median" 0 "consistent" -- \
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const ok = (v) => {
      const s = [...v.values].sort((a, b) => a - b);
      const mean = v.values.reduce((a, b) => a + b, 0) / v.values.length;
      return v.values.length === 5 && Math.abs(v.median - s[2]) < 1e-9 &&
             Math.abs(v.mean - mean) < 1e-6 * Math.max(1, Math.abs(mean)) && new Set(s).size > 1;
    };
    if (r.architectures.length === 5 && ok(r.reference) && ok(r.signals[0])) console.log("consistent");
    else console.log(JSON.stringify(r));' "$TMP/values.json"
expect "a named signal keeps its name" 0 '"signal": "macs=count"' -- \
  "$NF" rank --space $NB --signals macs=count --reference "$REF" --archs 8 --json

# The reference kept in a store: train:1 on a tiny space, then more architectures with the same
# seed, whose first ones were evaluated already.
printf 'batch_size: 16\nbn_recalibration_batches: 0\n' > "$TMP/small.yaml"
TINY=tests/data/diff_tiny.yaml
expect "a stand-alone-trained reference" 0 "0 read back from the store" -- \
  "$NF" rank --space $TINY --signals count,proxy:synflow,train:0 --reference train:1 --archs 3 \
  --data synthetic:64 --store "$TMP/ref.sqlite" --threads 2
expect "a longer ranking resumes from the store" 0 "3 read back from the store" -- \
  "$NF" rank --space $TINY --signals count --reference train:1 --archs 5 \
  --data synthetic:64 --store "$TMP/ref.sqlite" --threads 2
expect "a train: reference reports its measurement noise (16 validation images)" 0 \
  '"noise": {"sample_size": 16' -- \
  "$NF" rank --space $TINY --signals count --reference train:1 --archs 5 \
  --data synthetic:64 --store "$TMP/ref.sqlite" --threads 2 --json
expect "... and says so in words" 0 "binomial standard error" -- \
  "$NF" rank --space $TINY --signals count --reference train:1 --archs 5 \
  --data synthetic:64 --store "$TMP/ref.sqlite" --threads 2
expect "the store refuses another reference" 1 "reference" -- \
  "$NF" rank --space $TINY --signals count --reference train:2 --archs 3 \
  --data synthetic:64 --store "$TMP/ref.sqlite" --threads 2
# Two processes share the reference's work: each evaluates half of the architectures into one
# store at the same time; a ranking of them all then reads every value back. (train:0, the
# network at initialisation, stands in for the hours of a real reference.)
"$NF" rank --space $TINY --signals count --reference count --archs 6 --json > "$TMP/six.json"
node -e '
  const fs = require("fs");
  const a = JSON.parse(fs.readFileSync(process.argv[1], "utf8")).architectures;
  const csv = (rows) => "arch\n" + rows.map((x) => "\"" + x + "\"\n").join("");
  fs.writeFileSync(process.argv[2], csv(a.slice(0, 3)));
  fs.writeFileSync(process.argv[3], csv(a.slice(3)));' "$TMP/six.json" "$TMP/half_a.csv" "$TMP/half_b.csv"
for half in a b; do
  "$NF" rank --space $TINY --signals count --reference train:0 --archs-from "$TMP/half_$half.csv" \
    --data synthetic:64 --store "$TMP/shared.sqlite" --threads 1 > "$TMP/half_$half.out" 2>&1 &
done
wait
expect "two processes committed their halves into one store at once" 0 "both done" -- \
  bash -c "grep -q '3 architectures' '$TMP/half_a.out' && grep -q '3 architectures' '$TMP/half_b.out' && echo both done || cat '$TMP'/half_?.out"
expect "... from which a ranking of all reads every value back" 0 "6 read back from the store" -- \
  "$NF" rank --space $TINY --signals count --reference train:0 --archs 6 \
  --data synthetic:64 --store "$TMP/shared.sqlite" --threads 2
echo "not a database" > "$TMP/bad.sqlite"
expect "a damaged store is named" 1 "bad.sqlite" -- \
  "$NF" rank --space $NB --signals count --reference "$REF" --archs 4 --store "$TMP/bad.sqlite"

zcat $TABLE | head -11 > "$TMP/ten.csv"
expect "--archs-from ranks the rows of a table" 0 "10 architectures" -- \
  "$NF" rank --space $NB --signals count --reference "$REF" --archs-from "$TMP/ten.csv"

expect "an unknown proxy is named, with the closest" 1 "did you mean 'synflow'" -- \
  "$NF" rank --space $NB --signals proxy:synflw --reference "$REF" --archs 4
expect "a proxy that reads images needs --data" 1 "--data" -- \
  "$NF" rank --space $NB --signals proxy:snip --reference "$REF" --archs 4
expect "a bad batch shape is refused" 1 "BATCHESxSIZE" -- \
  "$NF" rank --space $NB --signals proxy:snip:0x8 --reference "$REF" --archs 4 --data synthetic
expect "a bad signal is refused before the reference is evaluated" 1 "unknown proxy" -- \
  "$NF" rank --space $TINY --signals count,proxy:nope --reference train:1 --archs 3 \
  --data synthetic:64 --store "$TMP/untouched.sqlite"
expect "... and nothing was stored" 0 "absent" -- \
  bash -c "test -e '$TMP/untouched.sqlite' || echo absent"
expect "a proxy is not an accuracy" 1 "a proxy gives a score" -- \
  "$NF" rank --space $NB --signals accuracy=proxy:synflow --reference "$REF" --archs 4
expect "--reference is required" 1 "--reference" -- \
  "$NF" rank --space $NB --signals count
expect "too few architectures" 1 "at least 3" -- \
  "$NF" rank --space $NB --signals count --reference "$REF" --archs 2

expect "a search maximises a proxy" 0 '"trials": 4' -- \
  "$NF" search --space $NB --strategy random --budget 4 --metric synflow=proxy:synflow \
  --objective synflow:max --json

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
