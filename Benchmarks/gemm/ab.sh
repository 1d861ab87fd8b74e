#!/usr/bin/env bash
# Compares the GEMM of a git revision (old) with the working tree's (new) in one process: both
# builds run the same products alternately, so a shared machine's slow minutes fall on both.
#
#   Benchmarks/gemm/ab.sh REV [ab arguments]     e.g. ab.sh ad01fae 100, or W2=1 BLOCK=50 ab.sh ad01fae 2000
#
# The arguments and environment of ab.c are passed on (see there). Built with the toolchain's
# clang at -O2, as the package's C target.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
rev="${1:?usage: ab.sh REV [STEPS [tA tB m n k]]}"
shift
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
kernels=Sources/CChainRuleKernels
mkdir -p "$scratch/old/include"
for file in gemm.c gemm_template.h include/ChainRuleKernels.h; do
  git -C "$root" show "$rev:$kernels/$file" > "$scratch/old/$file"
done
# Every external symbol of gemm.c, renamed per build so that both link into one program.
symbols=$(grep -ho '^[a-z].* \*\{0,1\}cr_[a-z0-9_]*(' "$root/$kernels/include/ChainRuleKernels.h" \
  "$scratch/old/include/ChainRuleKernels.h" | grep -o 'cr_[a-z0-9_]*' | sort -u)
build() {  # prefix, source directory
  local defines=()
  for symbol in $symbols; do defines+=("-D$symbol=${1}_${symbol#cr_}"); done
  "${CC:-clang}" -O2 -pthread -c "$2/gemm.c" -I "$2/include" "${defines[@]}" -o "$scratch/$1.o"
}
build old "$scratch/old"
build new "$root/$kernels"
"${CC:-clang}" -O2 -pthread "$root/Benchmarks/gemm/ab.c" "$scratch/old.o" "$scratch/new.o" -o "$scratch/ab"
"$scratch/ab" "$@"
