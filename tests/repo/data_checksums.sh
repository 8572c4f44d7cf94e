#!/usr/bin/env bash
# The committed benchmark tables are the ones their README describes: each row of the README's
# checksum table names a file, the SHA-256 of the file and the SHA-256 of its decompressed text.
set -uo pipefail
root=${1:?usage: data_checksums.sh REPO_ROOT}
passed=0 failed=0
for readme in "$root"/data/*/README.md; do
  dir=$(dirname "$readme")
  rows=$(grep -E '^\| `[^`]+\.gz` \| `[0-9a-f]{64}` \| `[0-9a-f]{64}` \|' "$readme")
  if [[ -z $rows ]]; then
    echo "FAIL: $readme: expected a checksum table (| \`FILE.gz\` | \`SHA256\` | \`SHA256\` |)"
    failed=$((failed + 1))
    continue
  fi
  while IFS='|' read -r _ file packed plain _; do
    file=$(tr -d ' `' <<< "$file") packed=$(tr -d ' `' <<< "$packed") plain=$(tr -d ' `' <<< "$plain")
    got_packed=$(sha256sum "$dir/$file" 2>/dev/null | cut -d' ' -f1)
    got_plain=$(zcat "$dir/$file" 2>/dev/null | sha256sum | cut -d' ' -f1)
    if [[ $got_packed == "$packed" && $got_plain == "$plain" ]]; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
      echo "FAIL: $dir/$file: expected $packed (text $plain), got ${got_packed:-no file} (text $got_plain)"
    fi
  done <<< "$rows"
done
echo "$passed passed, $failed failed"
[[ $failed -eq 0 && $passed -gt 0 ]]
