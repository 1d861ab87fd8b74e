#!/usr/bin/env bash
# Round trip of safetensors files between ChainRule and the reference Python library, both ways,
# on its own: makes a fresh Python environment with safetensors and numpy, then runs the suite's
# `InteropTests` with CHAINRULE_PYTHON pointing at it (Python writes, Swift reads and checks;
# Swift writes, Python reads and checks). Plain `swift test` runs the same test whenever a Python
# with both packages is found; this script is for a machine where python3 lacks them.
# Exit status: 0 on success, 77 when Python's packages cannot be installed here, else 1.
# Environment: PYTHON (default python3), SWIFT (default swift).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/chainrule-interop.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "== creating a Python environment with safetensors and numpy in $work/venv"
"${PYTHON:-python3}" -m venv "$work/venv" || exit 77
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check safetensors numpy \
  || exit 77
py="$work/venv/bin/python"
"$py" -c 'import numpy, safetensors; print("safetensors", safetensors.__version__, "numpy", numpy.__version__)'

echo "== swift test --filter InteropTests with CHAINRULE_PYTHON=$py"
log="$work/test.log"
(cd "$root" && CHAINRULE_PYTHON="$py" "${SWIFT:-swift}" test --filter InteropTests) 2>&1 | tee "$log"
if grep -q "roundTripWithPythonsSafetensors() skipped" "$log" \
  || ! grep -q "roundTripWithPythonsSafetensors() passed" "$log"; then
  echo "interop: the round-trip test did not run and pass" >&2
  exit 1
fi
echo "interop: OK (Swift -> Python and Python -> Swift)"
