#!/usr/bin/env bash
# Every differentiable strategy on every zoo space, from the CLI: one architecture step and one
# weight step on synthetic data, then the derived architecture through the driver. Prints a line
# per run and `FIGURE darts.zoo_cli_runs: OK of N`. About 4 minutes on 2 cores, alone.
# usage: bench/differentiable_zoo.sh [BUILD_DIR]   (from the repository root)
set -uo pipefail
NF=${1:-build}/bin/nasforge
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
printf 'batch_size: 4\nbn_recalibration_batches: 1\n' > "$W/small.yaml"
ok=0
n=0
for z in nb201 darts mobilenet mobilenet32 transformer fbnet proxyless spos nasbench_macro resnet; do
  for m in darts gdas sharpdarts gold hardcore proxyless; do
    n=$((n + 1))
    t0=$SECONDS
    # A bound every architecture meets gives gold, hardcore and proxyless their cost.
    if "$NF" search --space "zoo/$z.yaml" --strategy "$m" --data synthetic:16 \
        --train-config "$W/small.yaml" --epochs 1 --max-steps 1 --option hessian_iters=0 \
        --objective accuracy:max --constraint 'params<=1G' --out "$W/$z-$m" --threads 2 --json \
        > "$W/$z-$m.json" 2> "$W/$z-$m.err"; then
      ok=$((ok + 1))
      echo "ok   $z $m ($((SECONDS - t0)) s)"
    else
      echo "FAIL $z $m: $(tail -1 "$W/$z-$m.err")"
    fi
  done
done
echo "FIGURE darts.zoo_cli_runs: $ok of $n, target all: $([[ $ok -eq $n ]] && echo met || echo missed)"
