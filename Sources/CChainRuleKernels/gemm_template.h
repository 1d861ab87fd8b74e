// Blocked, packed GEMM (the Goto/BLIS scheme), instantiated by gemm.c once per precision and
// instruction set. No include guard on purpose: each inclusion stamps out one more set of
// functions.
//
// The includer defines:
//   T       scalar type                  V       GNU vector type of VL lanes of T
//   MR      rows of the register tile    NV      vectors per tile row (tile width NR = NV * VL)
//   FN(x)   name prefixer                TARGET  function attribute selecting the ISA
//   MC, KC, NC  cache blocks (see gemm.c for the sizes and why)
//   INTERLEAVE(rows, kc, src, ld, dst)  dst[p * rows + i] = src[i * ld + p] (vectorised)
//
// C is row-major, so vectors run along rows of C and B; the kernel broadcasts elements of A.
// Loop order, outermost first (BLIS's five loops):
//   jc: NC columns of C  -> pc: KC-deep slice; pack a KC x NC panel of op(B) (stays in L3)
//   ic: MC rows of C     -> pack an MC x KC block of op(A) (stays in L2)
//   jr: NR columns       -> one KC x NR micro-panel of B stays in L1 ...
//   ir: MR rows          -> ... while the micro-kernel streams MR x KC micro-panels of A past it.

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
      const T *src = a + ir;
      if (mr == MR) {
        for (ptrdiff_t p = 0; p < kc; p++) UNROLL for (int i = 0; i < MR; i++)
            dst[p * MR + i] = src[p * lda + i];
      } else {
        for (ptrdiff_t p = 0; p < kc; p++) {
          for (ptrdiff_t i = 0; i < mr; i++) dst[p * MR + i] = src[p * lda + i];
          for (ptrdiff_t i = mr; i < MR; i++) dst[p * MR + i] = 0;
        }
      }
    } else if (mr == MR) {
      // op(A)[i][p] = a[i * lda + p]: MR rows read along p, transposed in registers.
      INTERLEAVE(MR, kc, a + ir * lda, lda, dst);
    } else {
      for (ptrdiff_t i = 0; i < mr; i++) {
        const T *src = a + (ir + i) * lda;
        for (ptrdiff_t p = 0; p < kc; p++) dst[p * MR + i] = src[p];
      }
      for (ptrdiff_t p = 0; p < kc; p++)
        for (ptrdiff_t i = mr; i < MR; i++) dst[p * MR + i] = 0;
    }
  }
}

// Packs op(B)[0..<kc][0..<nc] into NR-column micro-panels laid out p-major: dst[p * NR + j].
// Columns past nc are zero.
TARGET static void FN(pack_b)(int trans, ptrdiff_t kc, ptrdiff_t nc, const T *b, ptrdiff_t ldb,
                              T *restrict dst) {
  for (ptrdiff_t jr = 0; jr < nc; jr += NR, dst += NR * kc) {
    ptrdiff_t nr = nc - jr < NR ? nc - jr : NR;
    if (trans && nr == NR) {
      // op(B)[p][j] = b[j * ldb + p]: NR stored rows read along p, transposed in registers.
      INTERLEAVE(NR, kc, b + jr * ldb, ldb, dst);
    } else if (trans) {
      for (ptrdiff_t j = 0; j < nr; j++) {
        const T *src = b + (jr + j) * ldb;
        for (ptrdiff_t p = 0; p < kc; p++) dst[p * NR + j] = src[p];
      }
      for (ptrdiff_t p = 0; p < kc; p++)
        for (ptrdiff_t j = nr; j < NR; j++) dst[p * NR + j] = 0;
    } else if (nr == NR) {
      // op(B)[p][j] = b[p * ldb + j]: a row of NR contiguous elements per p, copied as vectors.
      const T *src = b + jr;
      for (ptrdiff_t p = 0; p < kc; p++) UNROLL for (int v = 0; v < NV; v++) {
          V x;
          memcpy(&x, src + p * ldb + v * VL, sizeof x);
          *(V *)(dst + p * NR + v * VL) = x;
        }
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
// The MR x NV accumulators live in registers for the whole k loop (AVX2: 12 of the 16 ymm
// registers, plus NV for the row of B and one broadcast); beta == 0 never reads C.
TARGET static void FN(kernel)(ptrdiff_t kc, const T *restrict ap, const T *restrict bp, T *c,
                              ptrdiff_t ldc, ptrdiff_t mr, ptrdiff_t nr, T alpha, T beta) {
  // Fetch the tile of C now so that its cache misses overlap the k loop.
  UNROLL for (int i = 0; i < MR; i++) {
    if (i < mr) {
      __builtin_prefetch(c + i * ldc, 1);
      __builtin_prefetch(c + i * ldc + NR - 1, 1);
    }
  }
  V acc[MR][NV];
  UNROLL for (int i = 0; i < MR; i++)
    UNROLL for (int v = 0; v < NV; v++) acc[i][v] = (V){0};
  // Unrolled by 4: the loop bookkeeping then costs a fraction of an FMA slot per step.
  _Pragma("clang loop unroll_count(4)") for (ptrdiff_t p = 0; p < kc; p++, ap += MR, bp += NR) {
    V bv[NV];
    UNROLL for (int v = 0; v < NV; v++) bv[v] = *(const V *)(bp + v * VL);  // packed: aligned
    // Scalar * vector splats ap[i] (a broadcast load feeding NV FMAs).
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

// Macro-kernel: C[0..<mc][0..<nc] (+)= alpha * (packed A block) * (packed B panel). The jr loop
// is outside so each micro-panel of B is loaded into L1 once and reused by all mc / MR tiles.
TARGET static void FN(macro)(ptrdiff_t mc, ptrdiff_t nc, ptrdiff_t kc, T alpha, const T *ap,
                             const T *bp, T beta, T *c, ptrdiff_t ldc) {
  for (ptrdiff_t jr = 0; jr < nc; jr += NR) {
    ptrdiff_t nr = nc - jr < NR ? nc - jr : NR;
    for (ptrdiff_t ir = 0; ir < mc; ir += MR) {
      ptrdiff_t mr = mc - ir < MR ? mc - ir : MR;
      FN(kernel)(kc, ap + ir * kc, bp + jr * kc, c + ir * ldc + jr, ldc, mr, nr, alpha, beta);
    }
  }
}

// One thread's share of a product (see cr_gemm_job in gemm.c). Splitting the rows of C, the
// threads pack disjoint micro-panels of each B panel into a shared, double-buffered panel, meet
// at a barrier, and each multiplies its own rows (packing its own A blocks). Splitting the
// columns, each thread computes an independent product on its columns with private buffers.
TARGET static void FN(task)(void *arg, int t, int threads) {
  cr_gemm_job *job = arg;
  int transA = job->transA, transB = job->transB;
  ptrdiff_t m = job->m, n = job->n, k = job->k, lda = job->lda, ldb = job->ldb, ldc = job->ldc;
  T alpha = (T)job->alpha, beta = (T)job->beta;
  const T *a = job->a, *b = job->b;
  T *c = job->c;
  T *abuf = (T *)job->abuf + t * job->aStride;
  int sharedB = job->splitRows && threads > 1;
  // This thread's rows [m0, m1) and columns [n0, n1) of C, in whole register tiles.
  ptrdiff_t m0 = 0, m1 = m, n0 = 0, n1 = n;
  if (job->splitRows) {
    cr_share(m, MR, t, threads, &m0, &m1);
  } else {
    cr_share(n, NR, t, threads, &n0, &n1);
  }
  int step = 0;  // (jc, pc) panels done: selects the half of the double-buffered B panel
  for (ptrdiff_t jc = n0; jc < n1; jc += NC) {
    ptrdiff_t nc = n1 - jc < NC ? n1 - jc : NC;
    for (ptrdiff_t pc = 0; pc < k; pc += KC, step++) {
      ptrdiff_t kc = k - pc < KC ? k - pc : KC;
      T betaBlock = pc == 0 ? beta : 1;  // later k slices accumulate onto the first
      const T *bsrc = transB ? b + jc * ldb + pc : b + pc * ldb + jc;
      T *bp;
      if (sharedB) {
        // Pack this thread's micro-panels of the shared panel, then wait for the others'.
        // Writing half step % 2 is safe: every thread passed the previous barrier, so none
        // still reads the panel of step - 2.
        bp = (T *)job->bbuf + (step % 2) * job->bStride;
        ptrdiff_t p0, p1;
        cr_share(nc, NR, t, threads, &p0, &p1);
        if (p1 > p0)
          FN(pack_b)(transB, kc, p1 - p0, transB ? bsrc + p0 * ldb : bsrc + p0, ldb,
                     bp + p0 * kc);
        cr_barrier_wait(&job->barrier, threads);
      } else {
        bp = (T *)job->bbuf + t * job->bStride;
        FN(pack_b)(transB, kc, nc, bsrc, ldb, bp);
      }
      for (ptrdiff_t ic = m0; ic < m1; ic += MC) {
        ptrdiff_t mc = m1 - ic < MC ? m1 - ic : MC;
        FN(pack_a)(transA, mc, kc, transA ? a + pc * lda + ic : a + ic * lda + pc, lda, abuf);
        FN(macro)(mc, nc, kc, alpha, abuf, bp, betaBlock, c + ic * ldc + jc, ldc);
      }
    }
  }
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

// Runs the product on up to `threads` threads (see cr_run_parallel for `wait`), cutting C
// along whichever side shares out more evenly in whole tiles. Returns 0 when the packing buffers
// cannot be allocated.
static int FN(gemm)(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, T alpha,
                    const T *a, ptrdiff_t lda, const T *b, ptrdiff_t ldb, T beta, T *c,
                    ptrdiff_t ldc, int threads, int wait) {
  cr_gemm_job job = {.transA = transA, .transB = transB, .m = m, .n = n, .k = k, .alpha = alpha,
                     .a = a, .lda = lda, .b = b, .ldb = ldb, .beta = beta, .c = c, .ldc = ldc};
  ptrdiff_t tilesM = (m + MR - 1) / MR, tilesN = (n + NR - 1) / NR;
  if (threads > (tilesM > tilesN ? tilesM : tilesN)) threads = tilesM > tilesN ? tilesM : tilesN;
  // Fraction of the threads' time spent on useful tiles, for each way of cutting C. Rows win
  // ties: their threads share one packed B panel instead of each packing its own.
  double rowsUse = (double)tilesM / (threads * ((tilesM + threads - 1) / threads));
  double colsUse = (double)tilesN / (threads * ((tilesN + threads - 1) / threads));
  job.splitRows = rowsUse >= colsUse;
  // Buffers sized for the whole product, so that they also serve a call that ends up on one
  // thread; rounded to 64 bytes so every block and panel starts aligned.
  ptrdiff_t mcMax = m < MC ? (m + MR - 1) / MR * MR : MC;
  ptrdiff_t ncMax = n < NC ? (n + NR - 1) / NR * NR : NC;
  ptrdiff_t kcMax = k < KC ? k : KC;
  ptrdiff_t align = 64 / sizeof(T);
  job.aStride = (mcMax * kcMax + align - 1) / align * align;
  job.bStride = (kcMax * ncMax + align - 1) / align * align;
  // A: one block per thread; B: the double-buffered shared panel, or one panel per thread.
  ptrdiff_t bPanels = threads > 2 ? threads : 2;
  size_t elements = (size_t)(threads * job.aStride + bPanels * job.bStride);
  T *buffer = cr_thread_workspace(sizeof(T) * elements);
  if (!buffer) return 0;
  job.abuf = buffer;
  job.bbuf = buffer + threads * job.aStride;
  cr_run_parallel(FN(task), &job, threads, wait);
  return 1;
}

#undef NR
#undef UNROLL
