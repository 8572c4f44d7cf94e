#!/usr/bin/env bash
# train-ghn and the ghn: source from the command line, on a tiny space and synthetic data: a
# run, its resume after kill -9 to the same result as a straight run, the refusals (other
# options, another space, a damaged checkpoint), SMASH, ghn: in search and rank, and export.
# usage: NASFORGE=path/to/nasforge ghn_cli_test.sh REPO_ROOT
set -u
# shellcheck source=tests/tools/expect.sh
source "$(dirname "${BASH_SOURCE[0]}")/expect.sh"  # sets ROOT, NF and TMP, and cds to ROOT

TINY=tests/data/diff_tiny.yaml
COMMON=(--space $TINY --data synthetic:256 --epochs 2 --archs-per-step 2 --threads 2)

expect "train-ghn trains and checkpoints" 0 "(epoch 2, step 8)" -- \
  "$NF" train-ghn "${COMMON[@]}" --out "$TMP/straight"

# Killed in the middle of epoch 2, then the same command: the same final state.
(NASFORGE_TEST_KILL_AFTER_STEP=6 "$NF" train-ghn "${COMMON[@]}" --out "$TMP/killed" > /dev/null 2>&1; true) 2> /dev/null
expect "the killed run died by signal" 0 "ghn.pt" -- ls "$TMP/killed"
expect "a killed run resumes" 0 "resuming" -- "$NF" train-ghn "${COMMON[@]}" --out "$TMP/killed"
expect "... to the same result as a straight run" 0 "same" -- bash -c \
  "[[ \"\$('$NF' train-ghn ${COMMON[*]} --out '$TMP/killed' 2>/dev/null)\" == \"\$('$NF' train-ghn ${COMMON[*]} --out '$TMP/straight' 2>/dev/null | sed 's|straight|killed|')\" ]] && echo same"

# Killed within the first epoch with a checkpoint every step (--checkpoint-minutes): the resume
# starts from the step before the kill, not from the beginning, and ends where a straight run does.
(NASFORGE_TEST_KILL_AFTER_STEP=3 "$NF" train-ghn "${COMMON[@]}" --checkpoint-minutes 0.00001 \
  --out "$TMP/periodic" > /dev/null 2>&1; true) 2> /dev/null
expect "a checkpoint within the epoch survives the kill" 0 "at epoch 1, step 2" -- \
  "$NF" train-ghn "${COMMON[@]}" --out "$TMP/periodic"
expect "... and the run ends as a straight one" 0 "same" -- bash -c \
  "[[ \"\$('$NF' train-ghn ${COMMON[*]} --out '$TMP/periodic' 2>/dev/null)\" == \"\$('$NF' train-ghn ${COMMON[*]} --out '$TMP/straight' 2>/dev/null | sed 's|straight|periodic|')\" ]] && echo same"
expect "--checkpoint-minutes must be a number" 1 "expected minutes >= 0" -- \
  "$NF" train-ghn "${COMMON[@]}" --checkpoint-minutes soon --out "$TMP/x"
expect "ghn1 trains too" 0 "checkpoint:" -- \
  "$NF" train-ghn "${COMMON[@]}" --hypernet ghn1 --out "$TMP/ghn1"
expect "a run of other options is refused" 1 "other options (ghn2" -- \
  "$NF" train-ghn "${COMMON[@]}" --hypernet ghn1 --out "$TMP/straight"
expect "a run of another space is refused" 1 "another space" -- \
  "$NF" train-ghn --space zoo/resnet.yaml --data synthetic:256 --epochs 2 --archs-per-step 2 \
  --out "$TMP/straight"
expect "SMASH trains too" 0 "checkpoint:" -- \
  "$NF" train-ghn "${COMMON[@]}" --hypernet smash --out "$TMP/smash"
expect "... and scores through ghn:" 0 '"trials": 2' -- \
  "$NF" search --space $TINY --strategy random --budget 2 --metric "accuracy=ghn:$TMP/smash" \
  --objective accuracy:max --json
expect "an unknown hypernetwork is named" 1 "expected ghn2, ghn1 or smash" -- \
  "$NF" train-ghn "${COMMON[@]}" --hypernet ghn3 --out "$TMP/x"

expect "a discrete search scores with ghn:" 0 '"trials": 4' -- \
  "$NF" search --space $TINY --strategy rea --budget 4 --metric "accuracy=ghn:$TMP/straight" \
  --objective accuracy:max --json
expect "rank judges ghn: against a table-free reference" 0 "accuracy=ghn:" -- \
  "$NF" rank --space $TINY --signals "ghn:$TMP/straight,count" --reference train:1 --archs 4 \
  --data synthetic:256 --threads 2
# Prediction for another space's architectures: GHN-2 gives weights to zoo/resnet.yaml's
# networks it never saw; SMASH, bound to its space's encoding, is refused; so is other data.
expect "ghn: (GHN-2) predicts for another space" 0 '"trials": 2' -- \
  "$NF" search --space zoo/resnet.yaml --strategy random --budget 2 \
  --metric "accuracy=ghn:$TMP/straight" --objective accuracy:max --json
expect "ghn: (SMASH) of another space is refused, with why" 1 "SMASH reads its space" -- \
  "$NF" search --space zoo/resnet.yaml --strategy random --budget 2 \
  --metric "accuracy=ghn:$TMP/smash" --objective accuracy:max
expect "ghn: on another space refuses other data" 1 "trained on synthetic:256" -- \
  "$NF" search --space zoo/resnet.yaml --strategy random --budget 2 --data fashion-mnist \
  --metric "accuracy=ghn:$TMP/straight" --objective accuracy:max
RARCH=$("$NF" sample zoo/resnet.yaml --n 1 --seed 2)
expect "export --ghn --space writes another space's network" 0 "trained on space diff_tiny" -- \
  "$NF" export --ghn "$TMP/straight" --space zoo/resnet.yaml --arch "$RARCH" \
  --out "$TMP/onnx_other/model.onnx" --test-vector
expect "export --ghn refuses --data on the run's own space" 1 "--data is for --ghn on another space" -- \
  "$NF" export --ghn "$TMP/straight" --arch "$("$NF" sample $TINY --n 1 --seed 3)" --data synthetic:256 --out "$TMP/x.onnx"
expect "... which onnx runtime reproduces" 0 "2/2 test sets within 0.0001" -- \
  node tools/ort/verify.js "$TMP/onnx_other/model.onnx"
expect "ghn: of a folder without a hypernetwork is named" 1 "no ghn.yaml" -- \
  "$NF" search --space $TINY --strategy random --budget 2 --metric "accuracy=ghn:$TMP" \
  --objective accuracy:max

# Export with predicted weights: ONNX with test vectors, verified in ONNX Runtime; a search
# that used ghn: exports its best through it.
ARCH=$("$NF" sample $TINY --n 1 --seed 3)
expect "export --ghn writes ONNX" 0 "passes onnx::checker" -- \
  "$NF" export --ghn "$TMP/straight" --arch "$ARCH" --out "$TMP/onnx/model.onnx" --test-vector
expect "onnx runtime reproduces the predicted network" 0 "2/2 test sets within 0.0001" -- \
  node tools/ort/verify.js "$TMP/onnx/model.onnx"
"$NF" search --space $TINY --strategy random --budget 3 --metric "accuracy=ghn:$TMP/straight" \
  --objective accuracy:max --out "$TMP/gsearch" > /dev/null 2>&1
expect "export --run finds the search's ghn: source" 0 "(ghn2)" -- \
  "$NF" export --run "$TMP/gsearch" --format torchscript --out "$TMP/ts/model.pt"
expect "--checkpoint and --ghn together are refused" 1 "not both" -- \
  "$NF" export --ghn "$TMP/straight" --checkpoint "$TMP/straight" --arch "$ARCH" --out "$TMP/z.onnx"

head -c 2000 "$TMP/straight/ghn.pt" > "$TMP/cut.pt" && mv "$TMP/cut.pt" "$TMP/straight/ghn.pt"
expect "a damaged checkpoint is named" 1 "ghn.pt" -- \
  "$NF" search --space $TINY --strategy random --budget 2 \
  --metric "accuracy=ghn:$TMP/straight" --objective accuracy:max

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
