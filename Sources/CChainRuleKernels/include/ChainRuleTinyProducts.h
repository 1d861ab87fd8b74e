#ifndef CHAINRULE_TINY_PRODUCTS_H
#define CHAINRULE_TINY_PRODUCTS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Products with m * n * k at most this run on the tiny kernels below in the
/// execution plan: far below the size from which the GEMM packs (8 x 8 x 8), so the GEMM runs
/// them on its unpacked loop, whose numbers the tiny kernels repeat.
enum { CR_GEMM_TINY_WORK = 64 };

/// C = op(A) * op(B) (accumulate == 0) or C = op(A) * op(B) + C (accumulate != 0), row major,
/// op(A) m x k, op(B) k x n, all positive: the same bits as `cr_sgemm_isa` with alpha 1 and
/// beta 0 or 1 on the same instruction set, for a product the GEMM runs unpacked
/// (m * n * k < 8 * 8 * 8), without its set-up.
typedef void (*cr_sgemm_tiny_kernel)(int transA, int transB, ptrdiff_t m, ptrdiff_t n,
                                     ptrdiff_t k, const float *a, ptrdiff_t lda, const float *b,
                                     ptrdiff_t ldb, int accumulate, float *c, ptrdiff_t ldc);
/// Double-precision twin of `cr_sgemm_tiny_kernel`.
typedef void (*cr_dgemm_tiny_kernel)(int transA, int transB, ptrdiff_t m, ptrdiff_t n,
                                     ptrdiff_t k, const double *a, ptrdiff_t lda,
                                     const double *b, ptrdiff_t ldb, int accumulate, double *c,
                                     ptrdiff_t ldc);

/// The tiny kernel of `isa` (CR_GEMM_AUTO: the GEMM's default), or NULL if this CPU does not
/// support `isa`. Picked once by a caller that runs many products (the choice is fixed for the
/// process), so that a product costs one call.
cr_sgemm_tiny_kernel cr_sgemm_tiny_kernel_for(int isa);
/// Double-precision twin of `cr_sgemm_tiny_kernel_for`.
cr_dgemm_tiny_kernel cr_dgemm_tiny_kernel_for(int isa);

#ifdef __cplusplus
}
#endif

#endif
