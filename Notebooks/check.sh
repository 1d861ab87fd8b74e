#!/usr/bin/env bash
# Builds the notebooks in release mode, runs each one and checks that its committed README.md
# is what the renderer makes of the source and the fresh output. Exits non-zero on any stale
# page. With --update, writes the pages instead (then commit them and the figures).
#
#   Notebooks/check.sh            # CI: fail when a README.md is out of date
#   Notebooks/check.sh --update   # after editing a notebook
set -euo pipefail
cd "$(dirname "$0")/.."
mode=--check
[ "${1:-}" = "--update" ] && mode=""

swift build -c release --product notebook-render
status=0
for folder in Notebooks/[0-9][0-9]-*/; do
  folder=${folder%/}
  name=${folder##*/[0-9][0-9]-}
  swift build -c release --product "$name"
  output=$(mktemp)
  start=$(date +%s%N)
  if ! ".build/release/$name" >"$output"; then
    echo "FAILED: $name exited with an error"; status=1; rm -f "$output"; continue
  fi
  milliseconds=$((($(date +%s%N) - start) / 1000000))
  echo "$name ran in $milliseconds ms"
  .build/release/notebook-render $mode --output "$output" "$folder" || status=1
  rm -f "$output"
done
exit $status
