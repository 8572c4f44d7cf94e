#!/usr/bin/env bash
# A clone stands alone: no file of the repository reads the folder that sits beside the
# development checkout. The pattern is built in two halves so that this script does not match it.
set -uo pipefail
root=${1:?usage: self_contained.sh REPO_ROOT}
cd "$root" || exit 1
pattern='\.\./'"shared"
if git rev-parse --is-inside-work-tree > /dev/null 2>&1; then
  hits=$(git grep -n -I -E "$pattern" -- . 2>/dev/null)
  how="tracked files"
else  # an exported tree (no .git): every text file but build outputs and installed packages
  hits=$(grep -rnI -E "$pattern" . --exclude-dir=build --exclude-dir=node_modules --exclude-dir=.git)
  how="files (no git checkout here)"
fi
if [[ -n $hits ]]; then
  echo "FAIL: these $how read outside the repository; the repository must carry what it uses:"
  echo "$hits"
  echo "0 passed, 1 failed"
  exit 1
fi
echo "no $how read outside the repository"
echo "1 passed, 0 failed"
