#!/usr/bin/env bash
# Round trip of safetensors files between ChainRule and the reference Python library, both ways:
#   1. Python (safetensors.numpy) writes python_written.safetensors;
#   2. `swift test --filter InteropTests` writes swift_written.safetensors and reads Python's;
#   3. Python reads swift_written.safetensors.
# Each side checks names, dtypes, shapes, bit patterns and metadata against its own copy of the
# fixture. Needs python3 with venv and access to PyPI; exits non-zero on any failure.
# Environment: PYTHON (default python3), SWIFT (default swift).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
script="$root/Tests/Interop/safetensors_interop.py"
work="$(mktemp -d "${TMPDIR:-/tmp}/chainrule-interop.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "== creating a Python environment with safetensors and numpy in $work/venv"
# Exit 77 ("skipped") when Python's packages cannot be had here, e.g. without network.
"${PYTHON:-python3}" -m venv "$work/venv" || exit 77
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check safetensors numpy \
  || exit 77
py="$work/venv/bin/python"
"$py" -c 'import numpy, safetensors; print("safetensors", safetensors.__version__, "numpy", numpy.__version__)'

files="$work/files"
mkdir "$files"

echo "== Python writes python_written.safetensors"
"$py" "$script" write "$files/python_written.safetensors"

echo "== Swift writes swift_written.safetensors and reads python_written.safetensors"
(cd "$root" && CHAINRULE_INTEROP_DIR="$files" "${SWIFT:-swift}" test --filter InteropTests)
for needed in swift_written.safetensors swift_read_python.ok; do
  if [[ ! -f "$files/$needed" ]]; then
    echo "interop: the Swift tests did not produce $needed (were they skipped?)" >&2
    exit 1
  fi
done

echo "== Python reads swift_written.safetensors"
"$py" "$script" read "$files/swift_written.safetensors"

echo "interop: OK (Swift -> Python and Python -> Swift)"
