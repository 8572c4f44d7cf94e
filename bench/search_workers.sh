#!/usr/bin/env bash
# Parallel search on this host: the wall time of `nasforge search --workers K` against
# `--workers 1`, for trials that train from scratch (train:EPOCHS) and for inherited-weight
# trials (supernet:DIR), with random search so that every run evaluates the same architectures.
# Each worker gets the host's cores divided by K as threads, so 1 worker uses every core too:
# the speed-up is what evaluating several trials at once buys over one trial on all cores. The
# runs alternate (in-process, 1, 2, 4, in-process, ...) so the machine's drift hits all; each time is the median
# of REPS. Efficiency is speed-up / K; on a host with C cores and CPU-bound trials it cannot pass
# C / K. The data is synthetic by default: the figure is about the search's machinery, and the
# trials' cost does not depend on what the images show.
# usage: bench/search_workers.sh [BUILD_DIR] [BUDGET=16] [REPS=3] [SPACE=tests/data/vit_tiny.yaml] [DATA=synthetic:4096] [EPOCHS=2]
set -euo pipefail
NF=$(realpath "${1:-build}")/bin/nasforge
BUDGET=${2:-16}
REPS=${3:-3}
SPACE=${4:-tests/data/vit_tiny.yaml}
DATA=${5:-synthetic:4096}
EPOCHS=${6:-2}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

printf 'batch_size: 64\nbn_recalibration_batches: 4\n' > "$TMP/c.yaml"
"$NF" train-supernet --space "$SPACE" --data "$DATA" --config "$TMP/c.yaml" --max-steps 40 \
  --out "$TMP/supernet" > /dev/null 2>&1
declare -A times
for r in $(seq "$REPS"); do
  for src in train supernet; do
    case $src in
      train) metric="accuracy=train:$EPOCHS" ;;
      supernet) metric="accuracy=supernet:$TMP/supernet" ;;
    esac
    for k in 0 1 2 4; do  # 0: in this process, no workers
      [[ $src == supernet && $k == 4 ]] && continue
      workers=()
      [[ $k -gt 0 ]] && workers=(--workers $k)
      t0=$(bench_now)
      budget=$BUDGET
      [[ $src == supernet ]] && budget=$((3 * BUDGET))  # cheap trials: more of them
      "$NF" search --space "$SPACE" --strategy random --budget "$budget" --seed "$r" \
        --metric "$metric" --objective accuracy:max --data "$DATA" "${workers[@]}" \
        --out "$TMP/$src.$k.$r" > /dev/null 2> "$TMP/$src.$k.$r.err"
      times[$src.$k]+="$(bench_elapsed "$t0") "
    done
  done
done
for key in train.0 train.1 train.2 train.4 supernet.0 supernet.1 supernet.2; do echo "$key: ${times[$key]}s"; done
m() { printf '%s\n' ${times[$1]} | bench_median; }
echo "nasforge search --space $SPACE --strategy random --budget $BUDGET --metric accuracy=train:$EPOCHS --objective accuracy:max --data $DATA --workers K"
awk -v a="$(m train.1)" -v b="$(m train.2)" 'BEGIN { printf "FIGURE search.workers_train_2_vs_1: %.2fx (%.1f s against %.1f s for the same trials; no target)\n", a / b, b, a }'
awk -v a="$(m train.0)" -v b="$(m train.2)" 'BEGIN { printf "FIGURE search.workers_train_2_vs_in_process: %.2fx (%.1f s against %.1f s; no target)\n", a / b, b, a }'
awk -v a="$(m supernet.1)" -v b="$(m supernet.2)" 'BEGIN { printf "FIGURE search.workers_supernet_2_vs_1: %.2fx (%.1f s against %.1f s, 3 x budget trials; no target)\n", a / b, b, a }'
awk -v a="$(m supernet.0)" -v b="$(m supernet.2)" 'BEGIN { printf "FIGURE search.workers_supernet_2_vs_in_process: %.2fx (%.1f s against %.1f s; no target)\n", a / b, b, a }'
awk -v a="$(m train.0)" -v b="$(m train.1)" 'BEGIN { printf "FIGURE search.workers_1_vs_in_process_train: %.2fx (1 worker %.1f s, in-process %.1f s: the cost of a worker process; no target)\n", a / b, b, a }'
cores=$(nproc)
awk -v a="$(m train.1)" -v b="$(m train.4)" -v c="$cores" 'BEGIN { printf "FIGURE search.workers_4_efficiency: %.2f (speed-up %.2fx over 1 worker, / 4; at most %.2f on %d cores; no target)\n", a / b / 4, a / b, (c < 4 ? c : 4) / 4, c }'
