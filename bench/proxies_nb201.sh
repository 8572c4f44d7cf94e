#!/usr/bin/env bash
# Figure 1 of issue 16: every zero-cost proxy on NAS-Bench-201 against the CIFAR-10 table's
# valid_acc, through `nasforge rank` (batch 64, one batch, fresh weights seeded with 0).
# Protocol difference: the batches are Fashion-MNIST padded to 3x32x32 (no CIFAR-10 here), the
# published figures use CIFAR-10 batches. Prints per proxy its Spearman rho with the published
# figure where there is one, and its speed against the 50 architectures per second target.
# usage: bench/proxies_nb201.sh [BUILD_DIR] [ARCHS=1000] [DATA=fashion-mnist+pad]
set -uo pipefail
NF=${1:-build}/bin/nasforge
ARCHS=${2:-1000}
DATA=${3:-fashion-mnist+pad}
SIGNALS=proxy:synflow,proxy:snip,proxy:grasp,proxy:fisher,proxy:grad_norm,proxy:jacov,proxy:nwot
SIGNALS=$SIGNALS,proxy:zen,proxy:l2_norm,proxy:params,proxy:flops
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
echo "nasforge rank --space zoo/nb201.yaml --signals $SIGNALS --reference table:data/nasbench201/nb201_cifar10.csv.gz:valid_acc --archs $ARCHS --data $DATA --seed 0 --threads 2"
if ! "$NF" rank --space zoo/nb201.yaml --signals "$SIGNALS" \
    --reference table:data/nasbench201/nb201_cifar10.csv.gz:valid_acc --archs "$ARCHS" \
    --data "$DATA" --seed 0 --threads 2 > "$OUT" 2> /dev/null; then
  echo "SKIPPED: proxies.nb201: nasforge rank failed (is $DATA installed? make deps)"
  exit 0
fi
cat "$OUT"
# Rows: NAME=SOURCE tau [lo, hi] rho [lo, hi] top [lo, hi] s/arch setup
awk -v n="$ARCHS" '
  BEGIN { pub["synflow"] = 0.76; pub["nwot"] = 0.77 }
  $1 ~ /=proxy:/ {
    split($1, p, ":"); name = p[2]
    rho = $5; lo = $6; hi = $7; gsub(/[\[,]/, "", lo); gsub(/\]/, "", hi)
    ref = (name in pub) ? sprintf(", NAS-Bench-Suite-Zero %.2f", pub[name]) : ""
    printf "FIGURE proxies.nb201_spearman_%s: %s [%s, %s] (n = %d, Fashion-MNIST batches%s; no target)\n", name, rho, lo, hi, n, ref
    rate = ($11 > 0) ? 1 / $11 : 1e9
    printf "FIGURE proxies.nb201_archs_per_s_%s: %.1f (batch 64, 2 threads), target >= 50: %s\n", name, rate, (rate >= 50 ? "met" : "missed")
  }' "$OUT"
