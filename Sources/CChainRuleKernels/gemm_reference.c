// Portable reference GEMM: correct for every shape and stride; the fast paths build on it.
#include "ChainRuleKernels.h"

#define DEFINE_REFERENCE_GEMM(NAME, T)                                                   \
  void NAME(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, T alpha,       \
            const T *a, ptrdiff_t lda, const T *b, ptrdiff_t ldb, T beta, T *c,           \
            ptrdiff_t ldc) {                                                              \
    for (ptrdiff_t i = 0; i < m; i++) {                                                   \
      T *row = c + i * ldc;                                                               \
      if (beta == 0) {                                                                    \
        for (ptrdiff_t j = 0; j < n; j++) row[j] = 0;                                     \
      } else if (beta != 1) {                                                             \
        for (ptrdiff_t j = 0; j < n; j++) row[j] *= beta;                                 \
      }                                                                                   \
      for (ptrdiff_t p = 0; p < k; p++) {                                                 \
        T aip = alpha * (transA ? a[p * lda + i] : a[i * lda + p]);                       \
        if (transB) {                                                                     \
          for (ptrdiff_t j = 0; j < n; j++) row[j] += aip * b[j * ldb + p];               \
        } else {                                                                          \
          const T *brow = b + p * ldb;                                                    \
          for (ptrdiff_t j = 0; j < n; j++) row[j] += aip * brow[j];                      \
        }                                                                                 \
      }                                                                                   \
    }                                                                                     \
  }

DEFINE_REFERENCE_GEMM(cr_sgemm, float)
DEFINE_REFERENCE_GEMM(cr_dgemm, double)
