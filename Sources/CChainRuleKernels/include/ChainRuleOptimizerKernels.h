#ifndef CHAINRULE_OPTIMIZER_KERNELS_H
#define CHAINRULE_OPTIMIZER_KERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

// Every kernel below updates its buffers in place over n elements, on the loops of `isa` (a
// CR_GEMM_* instruction set of ChainRuleKernels.h; CR_GEMM_AUTO: the GEMM's default, which
// CHAINRULE_GEMM_ISA sets), on one thread or, for a large n, cut into ranges on the GEMM's
// thread pool (see cr_parallel_for): `threads` 0 decides from n, > 0 forces that many. Every
// instruction set and thread count gives the same bits. Each returns the number of threads
// that ran part of it: 0 when n <= 0 or this CPU lacks `isa` (nothing is computed then).

/// The hyperparameters of one SGD step (PyTorch's rule, no dampening). `nesterov` and
/// `firstStep` are flags (0 or 1); with `momentum` 0 the velocity buffer is not touched.
typedef struct {
  double learningRate, momentum, weightDecay;
  int nesterov, firstStep;
} cr_sgd_hyperparameters;

/// One SGD step over n elements: g ← g + λp (λ ≠ 0); with momentum μ ≠ 0, v ← g on the first
/// step, else v ← μv + g, then g ← nesterov ? g + μv : v; finally p ← p + g·(−η). The
/// arithmetic is IEEE, operation for operation, as in SGD.swift. `v` may be NULL when μ = 0.
int cr_sgd_f32(ptrdiff_t n, float *p, float *v, const float *g, cr_sgd_hyperparameters h,
               int isa, int threads);
/// Double-precision twin of `cr_sgd_f32`.
int cr_sgd_f64(ptrdiff_t n, double *p, double *v, const double *g, cr_sgd_hyperparameters h,
               int isa, int threads);

/// The hyperparameters of one Adam/AdamW step at a parameter's step t. The bias corrections
/// come folded into two scalars, computed once per parameter and step in double precision and
/// rounded to the element type: `stepSize` = η/(1 − β₁ᵗ) and `rootScale` = 1/√(1 − β₂ᵗ).
/// `l2Penalty` is Adam's λ (added to the gradient), `decoupledDecay` AdamW's (p ← p − ηλp).
typedef struct {
  double learningRate, beta1, beta2, epsilon, stepSize, rootScale, l2Penalty, decoupledDecay;
} cr_adam_hyperparameters;

/// One Adam step over n elements, p, m and v updated in place from the gradient g:
/// g ← g + p·λ; p ← p·(1 − η·λ_d); m ← m·β₁ + g·(1 − β₁); v ← v·β₂ + (g·g)·(1 − β₂);
/// p ← p − (stepSize·m)/(√v·rootScale + ε): one division and one square root per element.
/// The arithmetic is IEEE, operation for operation as written (no contraction into FMA), so
/// every vector width gives the same bits.
int cr_adam_f32(ptrdiff_t n, float *p, float *m, float *v, const float *g,
                cr_adam_hyperparameters h, int isa, int threads);
/// Double-precision twin of `cr_adam_f32`.
int cr_adam_f64(ptrdiff_t n, double *p, double *m, double *v, const double *g,
                cr_adam_hyperparameters h, int isa, int threads);

/// The hyperparameters of one RMSProp step (PyTorch's rule); `centered` and `momentum != 0`
/// select which of the buffers a (gradient average) and b (momentum) are read and written.
typedef struct {
  double learningRate, alpha, epsilon, weightDecay, momentum;
  int centered;
} cr_rmsprop_hyperparameters;

/// One RMSProp step over n elements: g ← g + λp; s ← αs + (1 − α)g²;
/// centred: a ← αa + (1 − α)g, d = √(s − a²) + ε, else d = √s + ε;
/// momentum μ: b ← μb + g/d, p ← p − ηb; otherwise p ← p − η(g/d).
/// `a` and `b` may be NULL when not selected.
int cr_rmsprop_f32(ptrdiff_t n, float *p, float *s, float *a, float *b, const float *g,
                   cr_rmsprop_hyperparameters h, int isa, int threads);
/// Double-precision twin of `cr_rmsprop_f32`.
int cr_rmsprop_f64(ptrdiff_t n, double *p, double *s, double *a, double *b, const double *g,
                   cr_rmsprop_hyperparameters h, int isa, int threads);

#ifdef __cplusplus
}
#endif

#endif
