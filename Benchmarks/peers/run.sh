#!/usr/bin/env bash
# Runs ChainRule's benchmark and its peers (NumPy, PyTorch eager, JAX jit, micrograd) in one
# session and prints one table with the ratios — the only fair comparison on a shared machine.
#
#   Benchmarks/peers/run.sh            full run
#   Benchmarks/peers/run.sh --quick    a few steps each (smoke test)
#
# Creates a virtual environment from PyPI in Benchmarks/peers/.venv on first use.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$root/Benchmarks/peers"
venv="$here/.venv"
quick=()
[[ "${1:-}" == "--quick" ]] && quick=(--quick)

if [[ -x "$venv/bin/python" ]] && ! "$venv/bin/python" -c 'import optax' 2>/dev/null; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check optax || true  # venvs made before Adam
fi
if [[ ! -x "$venv/bin/python" ]]; then
  echo "== creating $venv (numpy, micrograd, jax[cpu], optax, torch)" >&2
  "${PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check numpy micrograd "jax[cpu]" optax
  # The CPU-only PyTorch wheel is far smaller than the default CUDA one; use it when offered.
  "$venv/bin/pip" install --quiet --disable-pip-version-check "torch==2.13.0+cpu" \
    || "$venv/bin/pip" install --quiet --disable-pip-version-check torch
fi

echo "== building chainrule-bench (release)" >&2
(cd "$root" && swift build -c release --product chainrule-bench >&2)
results="$(mktemp)"
trap 'rm -f "$results"' EXIT
echo "== chainrule" >&2
"$root/.build/release/chainrule-bench" --json "${quick[@]}" >>"$results"
echo "== peers" >&2
"$venv/bin/python" "$here/peers.py" "${quick[@]}" >>"$results"
"$venv/bin/python" "$here/compare.py" "$results"
