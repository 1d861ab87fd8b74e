// Blocked, packed GEMM (Goto/BLIS scheme), instantiated by gemm.c once per precision and ISA.
// No include guard on purpose: each inclusion stamps out one more set of functions.
//
// The includer defines:
//   T       scalar type                  V       GNU vector type of VL lanes of T
//   MR      rows of the register tile    NV      vectors per tile row (tile width NR = NV * VL)
//   FN(x)   name prefixer                TARGET  function attribute selecting the ISA
//   KC, NC  a KC x NC packed block of B stays in L2 while MR x KC micro-panels of A (from a
//   MC      packed MC x KC block) each sit in L1 and sweep across it.
// C is row-major, so vectors run along rows of C and B; the kernel broadcasts elements of A.

#define NR (NV * VL)
// Tile loops must be fully unrolled so the accumulators stay in registers (-O2 will not always).
#define UNROLL _Pragma("clang loop unroll(full)")

// Packs op(A)[0..<mc][0..<kc] into MR-row micro-panels laid out p-major: dst[p * MR + i].
// Rows past mc are zero so the kernel can always compute a full tile.
TARGET static void FN(pack_a)(int trans, ptrdiff_t mc, ptrdiff_t kc, const T *a, ptrdiff_t lda,
                              T *restrict dst) {
  for (ptrdiff_t ir = 0; ir < mc; ir += MR, dst += MR * kc) {
    ptrdiff_t mr = mc - ir < MR ? mc - ir : MR;
    if (trans) {
      // op(A)[i][p] = a[p * lda + i]: each p contributes mr contiguous elements.
      for (ptrdiff_t p = 0; p < kc; p++) {
        const T *src = a + p * lda + ir;
        for (ptrdiff_t i = 0; i < mr; i++) dst[p * MR + i] = src[i];
      }
    } else {
      // Read each row sequentially (strided reads of many rows alias in L1 for power-of-2 lda).
      for (ptrdiff_t i = 0; i < mr; i++) {
        const T *src = a + (ir + i) * lda;
        for (ptrdiff_t p = 0; p < kc; p++) dst[p * MR + i] = src[p];
      }
    }
    for (ptrdiff_t p = 0; p < kc; p++)
      for (ptrdiff_t i = mr; i < MR; i++) dst[p * MR + i] = 0;
  }
}

// Packs op(B)[0..<kc][0..<nc] into NR-column micro-panels laid out p-major: dst[p * NR + j].
TARGET static void FN(pack_b)(int trans, ptrdiff_t kc, ptrdiff_t nc, const T *b, ptrdiff_t ldb,
                              T *restrict dst) {
  for (ptrdiff_t jr = 0; jr < nc; jr += NR, dst += NR * kc) {
    ptrdiff_t nr = nc - jr < NR ? nc - jr : NR;
    if (trans) {
      // op(B)[p][j] = b[j * ldb + p]: walk each stored row sequentially, scatter with stride NR.
      for (ptrdiff_t j = 0; j < nr; j++) {
        const T *src = b + (jr + j) * ldb;
        for (ptrdiff_t p = 0; p < kc; p++) dst[p * NR + j] = src[p];
      }
      for (ptrdiff_t p = 0; p < kc; p++)
        for (ptrdiff_t j = nr; j < NR; j++) dst[p * NR + j] = 0;
    } else {
      for (ptrdiff_t p = 0; p < kc; p++) {
        const T *src = b + p * ldb + jr;
        for (ptrdiff_t j = 0; j < nr; j++) dst[p * NR + j] = src[j];
        for (ptrdiff_t j = nr; j < NR; j++) dst[p * NR + j] = 0;
      }
    }
  }
}

// Register-blocked micro-kernel: C[0..<mr][0..<nr] = alpha * Ap * Bp + beta * C over kc steps.
// The MR x NV accumulators live in registers for the whole k loop; beta == 0 never reads C.
TARGET static void FN(kernel)(ptrdiff_t kc, const T *restrict ap, const T *restrict bp, T *c,
                              ptrdiff_t ldc, ptrdiff_t mr, ptrdiff_t nr, T alpha, T beta) {
  V acc[MR][NV];
  UNROLL for (int i = 0; i < MR; i++)
    UNROLL for (int v = 0; v < NV; v++) acc[i][v] = (V){0};
  for (ptrdiff_t p = 0; p < kc; p++, ap += MR, bp += NR) {
    V bv[NV];
    UNROLL for (int v = 0; v < NV; v++) bv[v] = *(const V *)(bp + v * VL);  // packed: aligned
    // Scalar * vector splats ap[i] (ideally an FMA with an embedded broadcast load).
    UNROLL for (int i = 0; i < MR; i++)
      UNROLL for (int v = 0; v < NV; v++) acc[i][v] += ap[i] * bv[v];
  }
  if (mr == MR && nr == NR) {
    UNROLL for (int i = 0; i < MR; i++) {
      UNROLL for (int v = 0; v < NV; v++) {
        T *cp = c + i * ldc + v * VL;
        V r = acc[i][v] * alpha;
        if (beta != 0) {
          V old;
          memcpy(&old, cp, sizeof old);  // unaligned vector load
          r += old * beta;
        }
        memcpy(cp, &r, sizeof r);
      }
    }
  } else {
    // Edge tile: spill to a scratch tile, then write back only the valid part.
    _Alignas(64) T tile[MR * NR];
    UNROLL for (int i = 0; i < MR; i++)
      UNROLL for (int v = 0; v < NV; v++) *(V *)(tile + i * NR + v * VL) = acc[i][v];
    for (ptrdiff_t i = 0; i < mr; i++) {
      T *row = c + i * ldc;
      for (ptrdiff_t j = 0; j < nr; j++) {
        T r = alpha * tile[i * NR + j];
        row[j] = beta != 0 ? r + beta * row[j] : r;
      }
    }
  }
}

// Full blocked product. Returns 0 when the packing buffer cannot be allocated.
TARGET static int FN(gemm)(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, T alpha,
                           const T *a, ptrdiff_t lda, const T *b, ptrdiff_t ldb, T beta, T *c,
                           ptrdiff_t ldc) {
  ptrdiff_t mcMax = m < MC ? (m + MR - 1) / MR * MR : MC;
  ptrdiff_t ncMax = n < NC ? (n + NR - 1) / NR * NR : NC;
  ptrdiff_t kcMax = k < KC ? k : KC;
  ptrdiff_t aSize = (mcMax * kcMax + 15) / 16 * 16;  // keeps the B panel 64-byte aligned
  T *abuf = thread_workspace(sizeof(T) * (size_t)(aSize + kcMax * ncMax));
  if (!abuf) return 0;
  T *bbuf = abuf + aSize;
  for (ptrdiff_t ic = 0; ic < m; ic += MC) {
    ptrdiff_t mc = m - ic < MC ? m - ic : MC;
    for (ptrdiff_t pc = 0; pc < k; pc += KC) {
      ptrdiff_t kc = k - pc < KC ? k - pc : KC;
      T betaBlock = pc == 0 ? beta : 1;  // later k blocks accumulate onto the first
      FN(pack_a)(transA, mc, kc, transA ? a + pc * lda + ic : a + ic * lda + pc, lda, abuf);
      for (ptrdiff_t jc = 0; jc < n; jc += NC) {
        ptrdiff_t nc = n - jc < NC ? n - jc : NC;
        FN(pack_b)(transB, kc, nc, transB ? b + jc * ldb + pc : b + pc * ldb + jc, ldb, bbuf);
        for (ptrdiff_t ir = 0; ir < mc; ir += MR) {
          ptrdiff_t mr = mc - ir < MR ? mc - ir : MR;
          for (ptrdiff_t jr = 0; jr < nc; jr += NR) {
            ptrdiff_t nr = nc - jr < NR ? nc - jr : NR;
            FN(kernel)(kc, abuf + ir * kc, bbuf + jr * kc, c + (ic + ir) * ldc + jc + jr, ldc, mr,
                       nr, alpha, betaBlock);
          }
        }
      }
    }
  }
  return 1;
}

// Unpacked path for tiny products (2x2, 4x2, ...), where packing costs more than it saves:
// one scalar dot product per element of C, with no setup at all.
TARGET static void FN(small)(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, T alpha,
                             const T *a, ptrdiff_t lda, const T *b, ptrdiff_t ldb, T beta, T *c,
                             ptrdiff_t ldc) {
  // Steps between consecutive elements of a row of op(A) and of a column of op(B).
  ptrdiff_t aRow = transA ? 1 : lda, aStep = transA ? lda : 1;
  ptrdiff_t bCol = transB ? ldb : 1, bStep = transB ? 1 : ldb;
  for (ptrdiff_t i = 0; i < m; i++) {
    for (ptrdiff_t j = 0; j < n; j++) {
      const T *x = a + i * aRow, *y = b + j * bCol;
      T sum = 0;
      for (ptrdiff_t p = 0; p < k; p++) sum += x[p * aStep] * y[p * bStep];
      T *cij = c + i * ldc + j;
      *cij = beta != 0 ? alpha * sum + beta * *cij : alpha * sum;
    }
  }
}

#undef NR
#undef UNROLL
