# The check every CLI test script uses: `expect NAME WANT_RC WANT_SUBSTRING -- COMMAND...` runs
# the command and counts it passed when its exit code and output (stdout and stderr) match.
# Sourced by a script run as `NASFORGE=path/to/nasforge SCRIPT REPO_ROOT`: sets ROOT and NF, cds
# to ROOT and makes TMP, a folder removed on exit. The caller prints "$passed passed, $failed
# failed" at the end. NASFORGE_TEST_TIMES=FILE appends each check's wall seconds and name to
# FILE (tab-separated), to find what makes a script slow.
ROOT=${1:?repo root}
NF=${NASFORGE:?set NASFORGE to the binary}
cd "$ROOT" || exit 1
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0

# expect NAME WANT_RC WANT_SUBSTRING -- COMMAND...   (the substring is searched in stdout+stderr)
expect() {
  local name=$1 want_rc=$2 want=$3
  shift 4
  local out rc start=${EPOCHREALTIME/[.,]/}
  out=$("$@" 2>&1)
  rc=$?
  if [[ -n "${NASFORGE_TEST_TIMES:-}" ]]; then
    local us=$((${EPOCHREALTIME/[.,]/} - start))
    printf '%d.%02d\t%s\n' $((us / 1000000)) $((us % 1000000 / 10000)) "$name" >> "$NASFORGE_TEST_TIMES"
  fi
  # No check may show a LibTorch stack trace or an uncaught C++ exception's text.
  if [[ "$out" == *"Exception raised from"* || "$out" == *"frame #0"* || "$out" == *"terminate called"* ]]; then
    failed=$((failed + 1))
    echo "FAIL: $name printed a LibTorch trace or an uncaught exception"
    echo "$out" | head -5 | sed 's/^/    /'
  elif [[ $rc -eq $want_rc && "$out" == *"$want"* ]]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $name (rc=$rc, want $want_rc; want output containing: $want)"
    echo "$out" | head -20 | sed 's/^/    /'
  fi
}

