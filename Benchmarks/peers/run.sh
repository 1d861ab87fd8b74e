#!/usr/bin/env bash
# Runs ChainRule's benchmark and its peers (NumPy, PyTorch eager, JAX jit, micrograd) in one
# session and prints one table with the ratios — the only fair comparison on a shared machine.
#
#   Benchmarks/peers/run.sh            full run
#   Benchmarks/peers/run.sh --quick    a few steps each (smoke test)
#   Benchmarks/peers/run.sh --sweep    how cost grows, ChainRule beside PyTorch, drawn as
#                                      Docs/sweep-{batch,width,nodes}.svg
#   Benchmarks/peers/run.sh --avx2     every side held to AVX2 + FMA on an AVX-512 machine (the
#                                      target kind, a Zen 3 EPYC, has no AVX-512): ChainRule's
#                                      GEMM, OpenBLAS and NumPy's loops, MKL, oneDNN and ATen
#                                      (PyTorch), XLA's own code (JAX). JAX's matrix products
#                                      follow the CPU whatever the flags say (AVX-512 here), so
#                                      JAX is shown with its own ratio, not counted as a peer
#   Benchmarks/peers/run.sh --rounds 3 every side measured 3 times, alternating, and each cell the
#                                      median of its rounds (a shared machine's minutes differ)
#
# Before each round, host_probe.c measures the core's clock and its free integer throughput (a
# busy sibling thread on a virtual machine's host lowers it); compare.py prints both.
#
# Creates a virtual environment from PyPI in Benchmarks/peers/.venv on first use.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$root/Benchmarks/peers"
venv="$here/.venv"
quick=()
sweep=0
rounds=1
unheld=()
while [[ $# -gt 0 ]]; do
  argument="$1"
  shift
  case "$argument" in
    --quick) quick=(--quick) ;;
    --rounds)
      rounds="${1:-}"
      shift || true
      [[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --rounds needs a positive count" >&2; exit 2; }
      ;;
    --sweep) sweep=1 ;;
    --avx2)
      export CHAINRULE_GEMM_ISA=avx2 OPENBLAS_CORETYPE=Haswell MKL_ENABLE_INSTRUCTIONS=AVX2
      export ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2
      export NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL AVX512_SPR"  # NumPy's own loops
      # This caps the code XLA generates, not its matrix products: YNNPACK picks its kernels
      # from CPUID (perf: ynn::dot_fp32_5x64x1_1x16x1_avx512, zmm FMAs), and with YNNPACK off
      # Eigen's kernel runs zmm too (gdb), at 186 GFLOP/s for 1024^3 even under SSE4_2.
      export XLA_FLAGS=--xla_cpu_max_isa=AVX2
      unheld=(--unheld=jax)
      ;;
    *) echo "run.sh: unknown option $argument" >&2; exit 2 ;;
  esac
done

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

echo "== building chainrule-bench and chainrule (release)" >&2
(cd "$root" && swift build -c release --product chainrule-bench >&2)
(cd "$root" && swift build -c release --product chainrule >&2)
results="$(mktemp)"
scratch="$(mktemp -d)"
trap 'rm -rf "$results" "$scratch"' EXIT
# The host probe (host_probe.c): the core's clock and how much of its throughput is left, before
# each round, so that a round slowed by the host shows as such. Built with the toolchain's clang.
probe="$scratch/host_probe"
"${CC:-clang}" -O2 "$here/host_probe.c" -o "$probe" 2>/dev/null || cc -O2 "$here/host_probe.c" -o "$probe" \
  || { echo "run.sh: could not build host_probe.c; rounds are not probed" >&2; probe=""; }
if [[ $sweep -eq 1 ]]; then
  echo "== sweep: chainrule, then torch" >&2
  "$root/.build/release/chainrule-bench" --sweep "${quick[@]}" >>"$results"
  "$venv/bin/python" "$here/peers.py" --sweep "${quick[@]}" >>"$results"
  cat "$results"
  "$root/.build/release/chainrule-bench" --plot-sweep="$results" --out="$root/Docs"
  echo "wrote Docs/sweep-batch.svg, Docs/sweep-width.svg, Docs/sweep-nodes.svg" >&2
  exit 0
fi
for ((round = 1; round <= rounds; round++)); do
  [[ $rounds -gt 1 ]] && echo "== round $round of $rounds" >&2
  [[ -n "$probe" ]] && "$probe" >>"$results"
  echo "== chainrule" >&2
  "$root/.build/release/chainrule-bench" --json "${quick[@]}" >>"$results"
  echo "== peers" >&2
  "$venv/bin/python" "$here/peers.py" "${quick[@]}" >>"$results"
  # The CLI workload: the README's digits command (default optimizer, Adam) and a wider network,
  # beside the same training in PyTorch (digits_torch.py), in samples per second.
  echo "== CLI: chainrule train on the digits, and PyTorch" >&2
  for config in "32 20" "1024,1024 1"; do
    read -r hidden epochs <<<"$config"
    [[ ${#quick[@]} -gt 0 ]] && epochs=1
    line="$("$root/.build/release/chainrule" train --data "$root/Data/digits/digits.csv" --label label \
      --hidden "$hidden" --epochs "$epochs" --save "$scratch/digits.safetensors" | grep 'samples/s)')"
    rate="$(sed -E 's/.*\(([0-9]+) samples\/s\).*/\1/' <<<"$line")"
    echo "{\"workload\": \"CLI digits hidden=$hidden\", \"peer\": \"chainrule\", \"samples_per_second\": $rate}" >>"$results"
    "$venv/bin/python" "$here/digits_torch.py" "$root/Data/digits/digits.csv" --hidden "$hidden" \
      --epochs "$epochs" | sed -E "s/^\{/{\"workload\": \"CLI digits hidden=$hidden\", /" >>"$results" \
      || echo '{"peer": "torch", "error": "digits_torch.py failed"}' >>"$results"
  done
done
"$venv/bin/python" "$here/compare.py" "$results" "${unheld[@]}"
