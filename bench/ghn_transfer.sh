#!/usr/bin/env bash
# GHN-2 on architectures of a space it never saw (issue 16): a hypernetwork trained on
# zoo/mobilenet.yaml (Fashion-MNIST, 1x28x28) predicts the weights of architectures of
# zoo/proxyless.yaml (the same MBConv ops, 3x32x32: Fashion-MNIST padded), against those
# networks at their own initialisation. Then the same on bench/spaces/proxyless_fmnist.yaml
# (proxyless at mobilenet's 1x28x28 input: the new structure without the new input), and on
# mobilenet's own architectures (the level in the space it trained on). With SAME=1 a second
# hypernetwork, trained on proxyless itself for the same steps, shows what training on the
# target space gives (about 6x the cost: proxyless has 6x mobilenet's MACs). Each architecture
# is evaluated on VALID held-out images.
# usage: bench/ghn_transfer.sh [BUILD_DIR] [ARCHS=12] [STEPS=400] [K=4] [OUT] [SAME=0] [VALID=500]
set -euo pipefail
BUILD=${1:-build}
NF=$BUILD/bin/nasforge
ARCHS=${2:-12}
STEPS=${3:-400}
K=${4:-4}
OUT=${5:-runs/bench_ghn_transfer}
SAME=${6:-0}
VALID=${7:-500}
mkdir -p "$OUT"
train() {  # SPACE DATA OUT: GHN-2, STEPS steps of K architectures at batch 64
  "$NF" train-ghn --space "$1" --data "$2" --hypernet ghn2 --epochs 1 --max-steps "$STEPS" \
    --archs-per-step "$K" --seed 0 --out "$3" --threads 2 2> /dev/null | tail -1
}
echo "nasforge train-ghn --space zoo/mobilenet.yaml --data fashion-mnist --hypernet ghn2 --epochs 1 --max-steps $STEPS --archs-per-step $K --seed 0 --out $OUT/mobilenet"
train zoo/mobilenet.yaml fashion-mnist "$OUT/mobilenet"
GHNS=$OUT/mobilenet
if [[ $SAME == 1 ]]; then
  train zoo/proxyless.yaml fashion-mnist+pad "$OUT/proxyless"
  GHNS=$GHNS,$OUT/proxyless
fi
# Two targets: proxyless as it is (3x32x32, Fashion-MNIST padded: new structure and a stem with
# input channels the hypernetwork never decoded), and the same space at 1x28x28 (new structure only).
# And mobilenet itself: what the same hypernetwork gives the architectures of its own space.
for target in "zoo/proxyless.yaml fashion-mnist+pad $GHNS" \
  "bench/spaces/proxyless_fmnist.yaml fashion-mnist $OUT/mobilenet" \
  "zoo/mobilenet.yaml fashion-mnist $OUT/mobilenet"; do
  read -r space data ghns <<< "$target"
  echo "ghn_transfer_bench . --ghn $ghns --space $space --data $data --archs $ARCHS --valid $VALID"
  "$BUILD/bin/ghn_transfer_bench" . --ghn "$ghns" --space "$space" --data "$data" \
    --archs "$ARCHS" --valid "$VALID" --seed 0
done
