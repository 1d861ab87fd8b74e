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
// Transposed, op(A)[i][p] = a[p * lda + i]: row p of a holds column p of op(A), mc contiguous
// elements, MR of them for each micro-panel. The rows are read PACK_ROWS at a time across the
// whole block, so each cache line of a is loaded once. (Panel by panel, each panel read kc rows
// lda apart; with lda a multiple of 1024 floats they all fall in one L1 set, and every line was
// evicted before the next panel came back for its next elements: W3's 1024 x 10 x 256 weight
// gradient spent 60 % of its time packing.)
#define PACK_ROWS 4
TARGET static void FN(pack_a_transposed)(ptrdiff_t mc, ptrdiff_t kc, const T *a, ptrdiff_t lda,
                                         T *restrict dst) {
  ptrdiff_t full = mc / MR * MR;
  for (ptrdiff_t p0 = 0; p0 < kc; p0 += PACK_ROWS) {
    ptrdiff_t rows = kc - p0 < PACK_ROWS ? kc - p0 : PACK_ROWS;
    T *panel = dst + p0 * MR;
    for (ptrdiff_t ir = 0; ir < full; ir += MR, panel += MR * kc)
      for (ptrdiff_t p = 0; p < rows; p++) UNROLL for (int i = 0; i < MR; i++)
          panel[p * MR + i] = a[(p0 + p) * lda + ir + i];
    if (full < mc) {
      for (ptrdiff_t p = 0; p < rows; p++) {
        for (ptrdiff_t i = 0; i < mc - full; i++) panel[p * MR + i] = a[(p0 + p) * lda + full + i];
        for (ptrdiff_t i = mc - full; i < MR; i++) panel[p * MR + i] = 0;
      }
    }
  }
}

TARGET static void FN(pack_a)(int trans, ptrdiff_t mc, ptrdiff_t kc, const T *a, ptrdiff_t lda,
                              T *restrict dst) {
  if (trans) {
    FN(pack_a_transposed)(mc, kc, a, lda, dst);
    return;
  }
  for (ptrdiff_t ir = 0; ir < mc; ir += MR, dst += MR * kc) {
    ptrdiff_t mr = mc - ir < MR ? mc - ir : MR;
    if (mr == MR) {
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
// Plain, op(B)[p][j] = b[p * ldb + j]: the full micro-panels are packed PACK_ROWS rows of b at
// a time across all of them, as a transposed A is, rather than panel by panel down all kc rows
// ldb apart: from a source in cache that took 2.5-3.5 times as long (256 x 1024 with ldb 1024:
// 74-92 us against 30-38; 256 x 64: 4.9-5.3 against 1.8), from memory about twice as long.
TARGET static void FN(pack_b)(int trans, ptrdiff_t kc, ptrdiff_t nc, const T *b, ptrdiff_t ldb,
                              T *restrict dst) {
  if (!trans) {
    ptrdiff_t full = nc / NR * NR;
    for (ptrdiff_t p0 = 0; p0 < kc; p0 += PACK_ROWS) {
      ptrdiff_t rows = kc - p0 < PACK_ROWS ? kc - p0 : PACK_ROWS;
      T *panel = dst + p0 * NR;
      for (ptrdiff_t jr = 0; jr < full; jr += NR, panel += NR * kc)
        for (ptrdiff_t p = 0; p < rows; p++) UNROLL for (int v = 0; v < NV; v++) {
            V x;
            memcpy(&x, b + (p0 + p) * ldb + jr + v * VL, sizeof x);  // unaligned vector load
            *(V *)(panel + p * NR + v * VL) = x;                     // packed: aligned
          }
    }
    b += full;  // the last, partial micro-panel below
    dst += full * kc;
    nc -= full;
  }
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
// registers, plus NV for the row of B and one broadcast); beta == 0 never reads C. Not inlined:
// inlined into its callers, clang spilled accumulators inside the k loop (2.5x slower).
TARGET __attribute__((noinline)) static void FN(kernel)(ptrdiff_t kc, const T *restrict ap,
                                                        const T *restrict bp, T *c, ptrdiff_t ldc,
                                                        ptrdiff_t mr, ptrdiff_t nr, T alpha,
                                                        T beta) {
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
  for (ptrdiff_t p = 0; p < kc; p++, ap += MR, bp += NR) {
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

// Packs group `g` (of SHARED_GROUPS) of the micro-panels of the shared operand of `step` (row
// mode: a B panel; column mode: the A block) into the step's half of the shared buffer.
TARGET static void FN(pack_shared)(const cr_gemm_job *job, int step, int g) {
  const T *a = job->a, *b = job->b;
  ptrdiff_t lda = job->lda, ldb = job->ldb;
  ptrdiff_t pc = (step % job->kSteps) * job->kc, kc = job->k - pc < job->kc ? job->k - pc : job->kc;
  T *dst = (T *)job->shared + (step % 2) * job->sharedStride;
  if (job->rowMode) {
    ptrdiff_t jc = (step / job->kSteps) * NC, nc = job->n - jc < NC ? job->n - jc : NC;
    ptrdiff_t panels = (nc + NR - 1) / NR, per = (panels + SHARED_GROUPS - 1) / SHARED_GROUPS;
    ptrdiff_t j0 = g * per * NR, j1 = (g + 1) * per * NR < nc ? (g + 1) * per * NR : nc;
    if (j1 <= j0) return;
    const T *src = job->transB ? b + (jc + j0) * ldb + pc : b + pc * ldb + jc + j0;
    FN(pack_b)(job->transB, kc, j1 - j0, src, ldb, dst + j0 * kc);
  } else {
    ptrdiff_t panels = (job->m + MR - 1) / MR, per = (panels + SHARED_GROUPS - 1) / SHARED_GROUPS;
    ptrdiff_t i0 = g * per * MR, i1 = (g + 1) * per * MR < job->m ? (g + 1) * per * MR : job->m;
    if (i1 <= i0) return;
    const T *src = job->transA ? a + pc * lda + i0 : a + i0 * lda + pc;
    FN(pack_a)(job->transA, i1 - i0, kc, src, lda, dst + i0 * kc);
  }
}

// Claims and packs groups of the shared operand of `step` until none is left unclaimed. Its
// half of the shared buffer is free once step - 2 is finished.
TARGET static void FN(help_pack)(cr_gemm_job *job, int step) {
  if (atomic_load_explicit(&job->packNext[step], memory_order_relaxed) >= SHARED_GROUPS) return;
  unsigned spins = 0;
  if (step >= 2)
    while (atomic_load_explicit(&job->done[step - 2], memory_order_acquire) < job->chunks)
      cr_backoff(&spins);
  for (;;) {
    int g = atomic_fetch_add_explicit(&job->packNext[step], 1, memory_order_relaxed);
    if (g >= SHARED_GROUPS) return;
    FN(pack_shared)(job, step, g);
    atomic_fetch_add_explicit(&job->packDone[step], 1, memory_order_release);
  }
}

// Waits until the shared operand of `step` is packed and `chunk` of the step before is done.
static void FN(wait_ready)(cr_gemm_job *job, int step, ptrdiff_t chunk) {
  unsigned spins = 0;
  while (atomic_load_explicit(&job->packDone[step], memory_order_acquire) < SHARED_GROUPS ||
         atomic_load_explicit(&job->progress[chunk], memory_order_acquire) < step - 1)
    cr_backoff(&spins);
}

// Computes chunk `chunk` of `step` (see cr_gemm_job): helps pack the step's shared operand if
// groups of it are left, packs its own operand into participant p's private buffer, then waits
// for the shared operand to be complete and for the same chunk of the previous step (same block
// of C) if another participant is still on either.
TARGET static void FN(run_chunk)(cr_gemm_job *job, int step, ptrdiff_t chunk, int p) {
  const T *a = job->a, *b = job->b;
  T *c = job->c;
  ptrdiff_t m = job->m, n = job->n, lda = job->lda, ldb = job->ldb, ldc = job->ldc;
  ptrdiff_t pc = (step % job->kSteps) * job->kc, kc = job->k - pc < job->kc ? job->k - pc : job->kc;
  T alpha = (T)job->alpha, beta = pc == 0 ? (T)job->beta : 1;  // later slices accumulate
  T *own = (T *)job->own + p * job->ownStride;
  const T *shared = (const T *)job->shared + (step % 2) * job->sharedStride;
  // The chunk's tiles along the cut side: chunks differ by at most one tile.
  ptrdiff_t tile = job->rowMode ? MR : NR;
  ptrdiff_t lo = chunk * job->tiles / job->chunks * tile;
  ptrdiff_t hi = (chunk + 1) * job->tiles / job->chunks * tile;
  FN(help_pack)(job, step);
  if (job->rowMode) {
    ptrdiff_t jc = (step / job->kSteps) * NC, nc = n - jc < NC ? n - jc : NC;
    ptrdiff_t mc = (hi < m ? hi : m) - lo;
    FN(pack_a)(job->transA, mc, kc, job->transA ? a + pc * lda + lo : a + lo * lda + pc, lda, own);
    FN(wait_ready)(job, step, chunk);
    FN(macro)(mc, nc, kc, alpha, own, shared, beta, c + lo * ldc + jc, ldc);
  } else {
    ptrdiff_t nc = (hi < n ? hi : n) - lo;
    FN(pack_b)(job->transB, kc, nc, job->transB ? b + lo * ldb + pc : b + pc * ldb + lo, ldb, own);
    FN(wait_ready)(job, step, chunk);
    FN(macro)(m, nc, kc, alpha, shared, own, beta, c + lo, ldc);
  }
  atomic_store_explicit(&job->progress[chunk], step, memory_order_release);
  atomic_fetch_add_explicit(&job->done[step], 1, memory_order_release);
  atomic_fetch_add_explicit(&job->finished, 1, memory_order_release);
}

// A participant's part of a product. Step by step, it claims its own chunks first (participant
// p of P owns chunks [p * chunks / P, (p + 1) * chunks / P) of every step, so that the same
// rows or columns of C stay in its cache from one k slice to the next), then any chunk of the
// step still unclaimed, from the end of the owner's order (a late or descheduled owner loses
// them); it moves on only when every chunk of the step is claimed, so every chunk a later step
// waits for is being computed. The caller (p == 0) then waits for the chunks others claimed.
TARGET static void FN(task)(void *arg, int p) {
  cr_gemm_job *job = arg;
  int chunks = job->chunks, participants = job->participants;
  int lo = (int)((ptrdiff_t)p * chunks / participants);
  int hi = (int)((ptrdiff_t)(p + 1) * chunks / participants);
  for (int step = 0; step < job->steps; step++) {
    atomic_int *claimed = job->claimed + (ptrdiff_t)step * chunks;
    for (int i = 0; i < chunks; i++) {
      // Own chunks in order, then the others' backwards from just before the own ones.
      int chunk = i < hi - lo ? lo + i : (lo - 1 - (i - (hi - lo)) + chunks) % chunks;
      if (atomic_load_explicit(&claimed[chunk], memory_order_relaxed) ||
          atomic_exchange_explicit(&claimed[chunk], 1, memory_order_relaxed))
        continue;
      FN(run_chunk)(job, step, chunk, p);
    }
  }
  if (p != 0) return;
  int total = job->steps * chunks;
  unsigned spins = 0;
  while (atomic_load_explicit(&job->finished, memory_order_acquire) < total) cr_backoff(&spins);
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

// The split schedule (see cr_gemm_split). Each participant packs the whole smaller operand, all
// k slices of it (row mode: op(B); column mode: op(A)), into its own buffer the first time it
// claims a unit, then computes units of C: bands of whole tile rows (row mode) or columns, each
// over every k slice, so that no unit waits for another. Units are claimed like the shared
// schedule's chunks (own first, front to back; then the others', from the back), and each
// participant's units halve in size (see cr_split_units): a slow or late participant's small
// last units go to whoever is done first, so the two meet at a small unit.
TARGET static void FN(split_pack_whole)(const cr_gemm_job *s, T *whole) {
  const T *a = s->a, *b = s->b;
  for (int step = 0; step < s->kSteps; step++) {
    ptrdiff_t pc = step * s->kc, kc = s->k - pc < s->kc ? s->k - pc : s->kc;
    T *dst = whole + step * s->sliceStride;
    if (s->rowMode)
      FN(pack_b)(s->transB, kc, s->n, s->transB ? b + pc : b + pc * s->ldb, s->ldb, dst);
    else
      FN(pack_a)(s->transA, s->m, kc, s->transA ? a + pc * s->lda : a + pc, s->lda, dst);
  }
}

TARGET static void FN(split_unit)(const cr_gemm_job *s, int unit, const T *whole, T *own) {
  const T *a = s->a, *b = s->b;
  T *c = s->c;
  ptrdiff_t lda = s->lda, ldb = s->ldb, ldc = s->ldc;
  ptrdiff_t size = s->rowMode ? s->m : s->n, tile = s->rowMode ? MR : NR;
  ptrdiff_t lo = s->unitStart[unit] * tile, hi = s->unitStart[unit + 1] * tile;
  if (hi > size) hi = size;
  for (int step = 0; step < s->kSteps; step++) {
    ptrdiff_t pc = step * s->kc, kc = s->k - pc < s->kc ? s->k - pc : s->kc;
    T alpha = (T)s->alpha, beta = step == 0 ? (T)s->beta : 1;  // later slices accumulate
    const T *slice = whole + step * s->sliceStride;
    if (s->rowMode) {  // rows lo..<hi (at most MC) against all of op(B)
      FN(pack_a)(s->transA, hi - lo, kc, s->transA ? a + pc * lda + lo : a + lo * lda + pc, lda,
                 own);
      FN(macro)(hi - lo, s->n, kc, alpha, own, slice, beta, c + lo * ldc, ldc);
    } else {  // columns lo..<hi against all of op(A), in blocks of at most MC rows
      FN(pack_b)(s->transB, kc, hi - lo, s->transB ? b + lo * ldb + pc : b + pc * ldb + lo, ldb,
                 own);
      ptrdiff_t tilesM = (s->m + MR - 1) / MR, blocks = (tilesM + MC / MR - 1) / (MC / MR);
      for (ptrdiff_t block = 0; block < blocks; block++) {  // of equal size: 256 = 126 + 130
        ptrdiff_t i0 = block * tilesM / blocks * MR, i1 = (block + 1) * tilesM / blocks * MR;
        if (i1 > s->m) i1 = s->m;
        FN(macro)(i1 - i0, hi - lo, kc, alpha, slice + i0 * kc, own, beta, c + i0 * ldc + lo, ldc);
      }
    }
  }
}

TARGET static void FN(split_task)(void *arg, int p) {
  cr_gemm_job *s = arg;
  int units = s->units, lo = s->firstUnit[p], hi = s->firstUnit[p + 1], packed = 0;
  // Each participant packs into its own part of the caller's workspace, which stays in its
  // core's cache from one product to the next while the same thread trains.
  T *whole = (T *)s->whole + p * (s->wholeStride + s->ownStride);
  T *own = whole + s->wholeStride;
  for (int i = 0; i < units; i++) {
    int unit = i < hi - lo ? lo + i : (lo - 1 - (i - (hi - lo)) + units) % units;
    if (atomic_load_explicit(&s->claimed[unit], memory_order_relaxed)) continue;
    if (p == s->slowed) cr_sleep_ns(s->slowedNanoseconds);
    if (atomic_exchange_explicit(&s->claimed[unit], 1, memory_order_relaxed)) continue;
    if (i >= hi - lo) atomic_fetch_add_explicit(&s->stolen, 1, memory_order_relaxed);
    if (!packed) FN(split_pack_whole)(s, whole);
    packed = 1;
    FN(split_unit)(s, unit, whole, own);
    atomic_fetch_add_explicit(&s->finished, 1, memory_order_release);
  }
  if (p != 0) return;
  unsigned spins = 0;
  while (atomic_load_explicit(&s->finished, memory_order_acquire) < units) cr_backoff(&spins);
  last_stolen_units = atomic_load_explicit(&s->stolen, memory_order_relaxed);
}

// Runs the product on up to `threads` threads (see cr_run_parallel for `wait`). Returns 0 when
// the packing buffers cannot be allocated.
static int FN(gemm)(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, T alpha,
                    const T *a, ptrdiff_t lda, const T *b, ptrdiff_t ldb, T beta, T *c,
                    ptrdiff_t ldc, int threads, int wait) {
  cr_gemm_job job = {.transA = transA, .transB = transB, .m = m, .n = n, .k = k, .alpha = alpha,
                     .a = a, .lda = lda, .b = b, .ldb = ldb, .beta = beta, .c = c, .ldc = ldc};
  ptrdiff_t tilesM = (m + MR - 1) / MR, tilesN = (n + NR - 1) / NR;
  // The fewest KC-deep slices, all of (nearly) equal depth: k = 784 in slices of 256 would leave
  // a last slice 16 deep, where loading and storing C costs as much as the multiply-adds.
  job.kSteps = (int)((k + KC - 1) / KC);
  job.kc = (k + job.kSteps - 1) / job.kSteps;
  ptrdiff_t kcMax = job.kc;
  ptrdiff_t align = 64 / sizeof(T);
  if (threads > 1 && cr_gemm_split(m, n, k, threads)) {
    job.rowMode = m >= n;  // the smaller operand is packed whole: op(B) when m >= n
    job.tiles = job.rowMode ? tilesM : tilesN;
    job.sliceStride = (job.rowMode ? tilesN * NR : tilesM * MR) * kcMax;
    job.sliceStride = (job.sliceStride + align - 1) / align * align;
    job.wholeStride = job.kSteps * job.sliceStride;
    if ((double)job.wholeStride * sizeof(T) <= SPLIT_MAX_PACK_BYTES) {
      ptrdiff_t minTiles = job.rowMode ? SPLIT_MIN_ROW_TILES : SPLIT_MIN_COLUMN_TILES,
                maxTiles = job.rowMode ? MC / MR : NC / NR;
      ptrdiff_t widest;  // tiles
      job.units = cr_split_units(job.tiles, threads, minTiles, maxTiles, NULL, NULL, &widest);
      job.ownStride = (widest * (job.rowMode ? MR : NR) * kcMax + align - 1) / align * align;
      // Every participant's part is the caller's to allocate, so that the workspace grows in
      // the first product of a size, never later in a worker that missed it.
      size_t elements = (size_t)threads * (size_t)(job.wholeStride + job.ownStride);
      size_t counters = sizeof(ptrdiff_t) * (size_t)(job.units + 1) +
                        sizeof(atomic_int) * (size_t)job.units +
                        sizeof(int) * (size_t)(threads + 1);
      T *buffer = cr_thread_workspace(sizeof(T) * elements + counters);
      if (!buffer) return 0;
      job.whole = buffer;
      job.unitStart = (ptrdiff_t *)(buffer + elements);
      job.claimed = (atomic_int *)(job.unitStart + job.units + 1);
      job.firstUnit = (int *)(job.claimed + job.units);
      cr_split_units(job.tiles, threads, minTiles, maxTiles, job.firstUnit, job.unitStart,
                     &widest);
      for (int u = 0; u < job.units; u++) atomic_init(&job.claimed[u], 0);
      job.participants = threads;
      job.slowed = slowed_participant;
      job.slowedNanoseconds = slowed_nanoseconds;
      atomic_init(&job.stolen, 0);
      atomic_init(&job.finished, 0);
      cr_run_parallel(FN(split_task), &job, threads, wait);
      return 1;
    }
  }
  // Column mode when A is a single block and C has more tile columns than tile rows. Each mode
  // cuts its side into chunks of whole tiles, at most a cache block (MC rows, NC columns) each,
  // and with threads at least CHUNKS_PER_THREAD per thread, as many for each (so each owns an
  // equal share: 6 tile rows for 2 threads are cut 1 + 2 + 1 + 2, not 2 + 2 + 2).
  job.rowMode = threads <= 1 || m > MC || tilesM >= tilesN;
  job.tiles = job.rowMode ? tilesM : tilesN;
  ptrdiff_t perBlock = job.rowMode ? MC / MR : NC / NR;
  ptrdiff_t chunks = (job.tiles + perBlock - 1) / perBlock;
  if (threads > 1) {
    if (chunks < (ptrdiff_t)threads * CHUNKS_PER_THREAD) chunks = threads * CHUNKS_PER_THREAD;
    chunks = (chunks + threads - 1) / threads * threads;
    if (chunks > job.tiles) chunks = job.tiles;
  }
  job.chunks = (int)chunks;
  ptrdiff_t band = (job.tiles + chunks - 1) / chunks * (job.rowMode ? MR : NR);  // the widest
  if (job.rowMode) {
    ptrdiff_t ncMax = n < NC ? tilesN * NR : NC;
    job.steps = job.kSteps * (int)((n + NC - 1) / NC);
    job.sharedStride = kcMax * ncMax;
    job.ownStride = band * kcMax;
  } else {
    job.steps = job.kSteps;
    job.sharedStride = tilesM * MR * kcMax;
    job.ownStride = kcMax * band;
  }
  // Rounded to 64 bytes so that every block and panel starts aligned.
  job.sharedStride = (job.sharedStride + align - 1) / align * align;
  job.ownStride = (job.ownStride + align - 1) / align * align;
  size_t elements = (size_t)(2 * job.sharedStride + threads * job.ownStride);
  size_t counters = (size_t)job.chunks + 3 * (size_t)job.steps + (size_t)job.steps * job.chunks;
  T *buffer = cr_thread_workspace(sizeof(T) * elements + sizeof(atomic_int) * counters);
  if (!buffer) return 0;
  job.shared = buffer;
  job.own = buffer + 2 * job.sharedStride;
  job.progress = (atomic_int *)(buffer + elements);
  job.packNext = job.progress + job.chunks;
  job.packDone = job.packNext + job.steps;
  job.done = job.packDone + job.steps;
  job.claimed = job.done + job.steps;
  for (ptrdiff_t i = 0; i < (ptrdiff_t)job.steps * job.chunks; i++) atomic_init(&job.claimed[i], 0);
  job.participants = threads;
  for (int chunk = 0; chunk < job.chunks; chunk++) atomic_init(&job.progress[chunk], -1);
  for (int step = 0; step < job.steps; step++) {
    atomic_init(&job.packNext[step], 0);
    atomic_init(&job.packDone[step], 0);
    atomic_init(&job.done[step], 0);
  }
  atomic_init(&job.finished, 0);
  cr_run_parallel(FN(task), &job, threads, wait);
  return 1;
}

#undef NR
#undef UNROLL
#undef PACK_ROWS
