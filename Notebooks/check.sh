#!/usr/bin/env bash
# Builds the notebooks in release mode, runs each one and checks that its committed README.md
# is what the renderer makes of the source and the fresh output, and that the figures it wrote
# (figures/: SVG charts, DOT and rendered drawings) are the committed ones, byte for byte.
# Exits non-zero on any stale page or figure. With --update, writes the pages instead (then
# commit them and the figures).
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
  if [ -n "$mode" ] && [ -d "$folder/figures" ]; then
    # The notebook has just rewritten its figures: any difference from the commit is stale.
    changed=$(git status --porcelain --untracked-files=all -- "$folder/figures")
    if [ -n "$changed" ]; then
      echo "STALE FIGURES in $folder (run Notebooks/check.sh --update and commit):"
      echo "$changed"
      status=1
    fi
  fi
done
exit $status
