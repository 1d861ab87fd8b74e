#ifndef CHAINRULE_KERNELS_H
#define CHAINRULE_KERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Row-major general matrix product: C = alpha * op(A) * op(B) + beta * C,
/// where op(X) is X or its transpose (transX != 0). op(A) is m x k, op(B) is k x n.
/// lda, ldb and ldc are the row strides of A, B and C as stored.
void cr_sgemm(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
              const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb, float beta,
              float *c, ptrdiff_t ldc);

/// Double-precision twin of `cr_sgemm`.
void cr_dgemm(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, double alpha,
              const double *a, ptrdiff_t lda, const double *b, ptrdiff_t ldb, double beta,
              double *c, ptrdiff_t ldc);

#ifdef __cplusplus
}
#endif

#endif
