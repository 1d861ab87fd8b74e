// Tiny matrix products (a 2 x 2 layer on a batch of 4): the GEMM's unpacked loop
// (`small` in gemm_template.h) without its generality, for the execution plan, where a call's
// set-up (dispatch, strides, alpha and beta, a loop over k of one or two steps) cost several
// times the arithmetic.
//
// Bit-exactness: every element of C is the GEMM loop's dot product, summed in order from zero,
// `sum += x * y`, compiled under the same target attributes, so that it is contracted into one
// FMA exactly where the GEMM's is (AVX2 and AVX-512 here, not SSE2; NEON on arm64). The depth
// is a constant in the unrolled cases only to drop the loop: the statements are the same.
// With alpha 1 and beta 0 or 1, the GEMM's `alpha * sum + beta * c` is sum or sum + c.

#include "ChainRuleKernels.h"
#include "ChainRuleTinyProducts.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))
// A vectorised loop over a handful of elements spends more on its run-time checks (overlap,
// strides, trip count) than it saves.
#if defined(__clang__)
#define NO_VECTORIZE _Pragma("clang loop vectorize(disable) interleave(disable)")
#else
#define NO_VECTORIZE
#endif

#define DEFINE_TINY_BODY(T)                                                                      \
  /* One element: the dot product of a row of op(A) (x, step xs) and a column of op(B). */     \
  ALWAYS_INLINE T tiny_dot_##T(const T *x, ptrdiff_t xs, const T *y, ptrdiff_t ys,             \
                               ptrdiff_t k) {                                                  \
    T sum = 0;                                                                                 \
    for (ptrdiff_t p = 0; p < k; p++) sum += x[p * xs] * y[p * ys];                            \
    return sum;                                                                                \
  }                                                                                            \
  ALWAYS_INLINE void tiny_body_##T(int transA, int transB, ptrdiff_t m, ptrdiff_t n,           \
                                   ptrdiff_t k, const T *a, ptrdiff_t lda, const T *b,         \
                                   ptrdiff_t ldb, int accumulate, T *c, ptrdiff_t ldc) {       \
    ptrdiff_t aRow = transA ? 1 : lda, aStep = transA ? lda : 1;                               \
    ptrdiff_t bCol = transB ? ldb : 1, bStep = transB ? 1 : ldb;                               \
    NO_VECTORIZE for (ptrdiff_t i = 0; i < m; i++) {                                           \
      const T *x = a + i * aRow;                                                               \
      T *row = c + i * ldc;                                                                    \
      NO_VECTORIZE for (ptrdiff_t j = 0; j < n; j++) {                                         \
        T sum = tiny_dot_##T(x, aStep, b + j * bCol, bStep, k);                                \
        row[j] = accumulate ? sum + row[j] : sum;                                              \
      }                                                                                        \
    }                                                                                          \
  }                                                                                            \
  /* The depths of small layers unrolled (k a constant), any other depth as a loop. */         \
  ALWAYS_INLINE void tiny_##T(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,   \
                              const T *a, ptrdiff_t lda, const T *b, ptrdiff_t ldb,            \
                              int accumulate, T *c, ptrdiff_t ldc) {                           \
    switch (k) {                                                                               \
      case 1: tiny_body_##T(transA, transB, m, n, 1, a, lda, b, ldb, accumulate, c, ldc); break; \
      case 2: tiny_body_##T(transA, transB, m, n, 2, a, lda, b, ldb, accumulate, c, ldc); break; \
      case 4: tiny_body_##T(transA, transB, m, n, 4, a, lda, b, ldb, accumulate, c, ldc); break; \
      default: tiny_body_##T(transA, transB, m, n, k, a, lda, b, ldb, accumulate, c, ldc); break; \
    }                                                                                          \
  }

DEFINE_TINY_BODY(float)
DEFINE_TINY_BODY(double)

// One function per instruction set, with the GEMM's target attributes (gemm.c).
#define DEFINE_TINY_VARIANT(NAME, ATTRIBUTES)                                                    \
  ATTRIBUTES static void s_tiny_##NAME(int transA, int transB, ptrdiff_t m, ptrdiff_t n,       \
                                       ptrdiff_t k, const float *a, ptrdiff_t lda,             \
                                       const float *b, ptrdiff_t ldb, int accumulate,          \
                                       float *c, ptrdiff_t ldc) {                              \
    tiny_float(transA, transB, m, n, k, a, lda, b, ldb, accumulate, c, ldc);                   \
  }                                                                                            \
  ATTRIBUTES static void d_tiny_##NAME(int transA, int transB, ptrdiff_t m, ptrdiff_t n,       \
                                       ptrdiff_t k, const double *a, ptrdiff_t lda,            \
                                       const double *b, ptrdiff_t ldb, int accumulate,         \
                                       double *c, ptrdiff_t ldc) {                             \
    tiny_double(transA, transB, m, n, k, a, lda, b, ldb, accumulate, c, ldc);                  \
  }

DEFINE_TINY_VARIANT(generic, )
#if defined(__x86_64__)
DEFINE_TINY_VARIANT(avx2, __attribute__((target("avx2,fma"))))
DEFINE_TINY_VARIANT(avx512, __attribute__((target("avx512f,fma"))))
#endif

#if defined(__x86_64__)
#define TINY_PICK(S)                                   \
  switch (isa) {                                       \
    case CR_GEMM_AVX512: return S##_tiny_avx512;       \
    case CR_GEMM_AVX2: return S##_tiny_avx2;           \
    default: return S##_tiny_generic;                  \
  }
#else
#define TINY_PICK(S) return S##_tiny_generic;
#endif

#define DEFINE_TINY_PICK(NAME, KERNEL, S)                                                        \
  KERNEL NAME(int isa) {                                                                       \
    if (isa == CR_GEMM_AUTO) {                                                                 \
      isa = cr_gemm_default_isa();                                                             \
    } else if (!cr_gemm_isa_supported(isa)) {                                                  \
      return NULL;                                                                             \
    }                                                                                          \
    TINY_PICK(S)                                                                               \
  }

DEFINE_TINY_PICK(cr_sgemm_tiny_kernel_for, cr_sgemm_tiny_kernel, s)
DEFINE_TINY_PICK(cr_dgemm_tiny_kernel_for, cr_dgemm_tiny_kernel, d)
