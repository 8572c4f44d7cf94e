#!/usr/bin/env bash
# Issue 16's "done when", from the CLI on every zoo space: train-ghn (each of ghn2, ghn1, smash,
# two steps on synthetic data), then `nasforge rank` with the trained ghn:, every proxy and count
# against stand-alone training (train:1) on 3 architectures, then export --ghn to ONNX. Prints a
# line per run and `FIGURE ghn.zoo_cli_runs: OK of N`.
# usage: bench/ghn_zoo.sh [BUILD_DIR]   (from the repository root)
set -uo pipefail
NF=${1:-build}/bin/nasforge
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
printf 'batch_size: 8\nbn_recalibration_batches: 1\noptimizer: {type: adam, lr: 0.001}\ngrad_clip: 5\n' > "$W/small.yaml"
PROXIES=proxy:synflow:1x4,proxy:snip:1x4,proxy:grasp:1x4,proxy:fisher:1x4,proxy:grad_norm:1x4
PROXIES=$PROXIES,proxy:jacov:1x4,proxy:nwot:1x4,proxy:zen:1x4,proxy:l2_norm,proxy:params,proxy:flops
ok=0
n=0
run() {  # NAME COMMAND...
  local name=$1 t0=$SECONDS
  shift
  n=$((n + 1))
  if "$@" > "$W/out" 2> "$W/err"; then
    ok=$((ok + 1))
    echo "ok   $name ($((SECONDS - t0)) s)"
  else
    echo "FAIL $name: $(grep -v '\[' "$W/err" | tail -1)"
  fi
}
for z in nb201 darts mobilenet mobilenet32 transformer fbnet proxyless spos nasbench_macro resnet; do
  for h in ghn2 ghn1 smash; do
    run "$z train-ghn $h" "$NF" train-ghn --space "zoo/$z.yaml" --data synthetic:16 \
      --config "$W/small.yaml" --epochs 1 --max-steps 2 --archs-per-step 1 --hypernet "$h" \
      --out "$W/$z-$h" --threads 2
  done
  run "$z rank" "$NF" rank --space "zoo/$z.yaml" \
    --signals "ghn:$W/$z-ghn2,ghn:$W/$z-ghn1,ghn:$W/$z-smash,$PROXIES,count" \
    --reference train:1 --archs 3 --data synthetic:16 --threads 2 --resamples 100
  run "$z export --ghn" "$NF" export --ghn "$W/$z-ghn2" \
    --arch "$("$NF" sample "zoo/$z.yaml" --n 1 --seed 1)" --out "$W/$z.onnx"
done
echo "FIGURE ghn.zoo_cli_runs: $ok of $n, target all: $([[ $ok -eq $n ]] && echo met || echo missed)"
