// Element-wise optimizer updates (SGD, Adam, AdamW, RMSProp), vectorised, and on two cores for
// large parameters.
//
// Swift cannot vectorise these loops: its square root is a call for negative inputs, so the
// compiler keeps them scalar (about 1 µs per parameter with the divisions). Here each loop is
// written once, as an always-inlined function, and compiled three times — AVX-512, AVX2 and
// plain — with per-function target attributes (no global -m flags), picked at run time.
//
// Bit-exactness: FP_CONTRACT is off, so `a * b + c` stays two rounded operations as in the
// Swift formulas and in the tests' hand computations; vector sqrt and division are correctly
// rounded, so every path gives the same bits as the scalar loop. Elements are independent, so
// cutting the loop into ranges for several threads cannot change them either.

#include "ChainRuleKernels.h"
#include "ChainRuleOptimizerKernels.h"

#include <math.h>

#pragma STDC FP_CONTRACT OFF
#if defined(__clang__)
#pragma clang fp contract(off)
#endif

#define ALWAYS_INLINE static inline __attribute__((always_inline))

// A square root that never sets errno, so that the loops vectorise (`sqrtf` may set it).
#if defined(__has_builtin) && __has_builtin(__builtin_elementwise_sqrt)
#define ROOT(x) __builtin_elementwise_sqrt(x)
#else
#define ROOT(x) _Generic((x), float: sqrtf, default: sqrt)(x)
#endif

// ---------------------------------------------------------------- SGD

// One loop per case, so that each vectorises without a branch inside: DECAY (λ ≠ 0) and MODE, a
// constant at every call site below. The arithmetic is SGD.swift's, operation for operation.
enum { SGD_PLAIN, SGD_FIRST, SGD_MOMENTUM, SGD_FIRST_NESTEROV, SGD_NESTEROV };

#define DEFINE_SGD_LOOP(T)                                                                         \
  ALWAYS_INLINE void sgd_loop_##T(ptrdiff_t n, T *restrict p, T *restrict v, const T *restrict g,  \
                                  T eta, T mu, T lambda, int decay, int mode) {                    \
    const T step = -eta;                                                                           \
    for (ptrdiff_t i = 0; i < n; i++) {                                                            \
      T gi = g[i];                                                                                 \
      if (decay) gi += p[i] * lambda;                                                              \
      if (mode != SGD_PLAIN) {                                                                     \
        v[i] = mode == SGD_FIRST || mode == SGD_FIRST_NESTEROV ? gi : v[i] * mu + gi;              \
        gi = mode == SGD_FIRST_NESTEROV || mode == SGD_NESTEROV ? gi + v[i] * mu : v[i];           \
      }                                                                                            \
      p[i] += gi * step;                                                                           \
    }                                                                                              \
  }                                                                                                \
  ALWAYS_INLINE void sgd_body_##T(ptrdiff_t n, T *restrict p, T *restrict v, const T *restrict g,  \
                                  cr_sgd_hyperparameters h) {                                      \
    const T eta = (T)h.learningRate, mu = (T)h.momentum, lambda = (T)h.weightDecay;                \
    int mode = mu == 0            ? SGD_PLAIN                                                      \
               : h.nesterov       ? (h.firstStep ? SGD_FIRST_NESTEROV : SGD_NESTEROV)              \
               : h.firstStep      ? SGD_FIRST                                                      \
                                  : SGD_MOMENTUM;                                                  \
    if (lambda != 0) {                                                                             \
      switch (mode) {                                                                              \
        case SGD_PLAIN: sgd_loop_##T(n, p, v, g, eta, mu, lambda, 1, SGD_PLAIN); break;            \
        case SGD_FIRST: sgd_loop_##T(n, p, v, g, eta, mu, lambda, 1, SGD_FIRST); break;            \
        case SGD_MOMENTUM: sgd_loop_##T(n, p, v, g, eta, mu, lambda, 1, SGD_MOMENTUM); break;      \
        case SGD_FIRST_NESTEROV:                                                                   \
          sgd_loop_##T(n, p, v, g, eta, mu, lambda, 1, SGD_FIRST_NESTEROV);                        \
          break;                                                                                   \
        default: sgd_loop_##T(n, p, v, g, eta, mu, lambda, 1, SGD_NESTEROV); break;                \
      }                                                                                            \
    } else {                                                                                       \
      switch (mode) {                                                                              \
        case SGD_PLAIN: sgd_loop_##T(n, p, v, g, eta, mu, lambda, 0, SGD_PLAIN); break;            \
        case SGD_FIRST: sgd_loop_##T(n, p, v, g, eta, mu, lambda, 0, SGD_FIRST); break;            \
        case SGD_MOMENTUM: sgd_loop_##T(n, p, v, g, eta, mu, lambda, 0, SGD_MOMENTUM); break;      \
        case SGD_FIRST_NESTEROV:                                                                   \
          sgd_loop_##T(n, p, v, g, eta, mu, lambda, 0, SGD_FIRST_NESTEROV);                        \
          break;                                                                                   \
        default: sgd_loop_##T(n, p, v, g, eta, mu, lambda, 0, SGD_NESTEROV); break;                \
      }                                                                                            \
    }                                                                                              \
  }

DEFINE_SGD_LOOP(float)
DEFINE_SGD_LOOP(double)

// ---------------------------------------------------------------- Adam / AdamW

// One division and one square root per element: the bias corrections are folded into two
// scalars computed once per parameter and step (Adam.swift), stepSize = η/(1 − β₁ᵗ) and
// rootScale = 1/√(1 − β₂ᵗ), so that p ← p − (stepSize·m)/(√v·rootScale + ε). Dividing m by
// 1 − β₁ᵗ and v by 1 − β₂ᵗ per element, as the textbook writes it, took three divisions, which
// share the divider with the square root: the one-division loop takes 34-38 % less time (AVX2,
// one thread, 1,280 and 100,352 elements, Float).
#define ADAM_UPDATE(i) p[i] -= (stepSize * m[i]) / (ROOT(v[i]) * rootScale + eps)

#define DEFINE_ADAM_BODY(T)                                                                        \
  ALWAYS_INLINE void adam_body_##T(ptrdiff_t n, T *restrict p, T *restrict m, T *restrict v,       \
                                   const T *restrict g, cr_adam_hyperparameters h) {               \
    const T eta = (T)h.learningRate, b1 = (T)h.beta1, b2 = (T)h.beta2, eps = (T)h.epsilon;         \
    const T stepSize = (T)h.stepSize, rootScale = (T)h.rootScale;                                  \
    const T l2 = (T)h.l2Penalty, decay = (T)h.decoupledDecay;                                      \
    const T shrink = 1 - eta * decay, keep1 = 1 - b1, keep2 = 1 - b2;                              \
    if (l2 != 0) {                                                                                 \
      for (ptrdiff_t i = 0; i < n; i++) {                                                          \
        T gi = g[i] + p[i] * l2;                                                                   \
        m[i] = m[i] * b1 + gi * keep1;                                                             \
        v[i] = v[i] * b2 + (gi * gi) * keep2;                                                      \
        ADAM_UPDATE(i);                                                                            \
      }                                                                                            \
    } else if (decay != 0) {                                                                       \
      for (ptrdiff_t i = 0; i < n; i++) {                                                          \
        T gi = g[i];                                                                               \
        p[i] *= shrink;                                                                            \
        m[i] = m[i] * b1 + gi * keep1;                                                             \
        v[i] = v[i] * b2 + (gi * gi) * keep2;                                                      \
        ADAM_UPDATE(i);                                                                            \
      }                                                                                            \
    } else {                                                                                       \
      for (ptrdiff_t i = 0; i < n; i++) {                                                          \
        T gi = g[i];                                                                               \
        m[i] = m[i] * b1 + gi * keep1;                                                             \
        v[i] = v[i] * b2 + (gi * gi) * keep2;                                                      \
        ADAM_UPDATE(i);                                                                            \
      }                                                                                            \
    }                                                                                              \
  }

DEFINE_ADAM_BODY(float)
DEFINE_ADAM_BODY(double)

// ---------------------------------------------------------------- RMSProp

#define DEFINE_RMSPROP_BODY(T)                                                                     \
  ALWAYS_INLINE void rmsprop_body_##T(ptrdiff_t n, T *restrict p, T *restrict s, T *restrict a,    \
                                      T *restrict b, const T *restrict g,                          \
                                      cr_rmsprop_hyperparameters h) {                              \
    const T eta = (T)h.learningRate, alpha = (T)h.alpha, eps = (T)h.epsilon;                       \
    const T lambda = (T)h.weightDecay, mu = (T)h.momentum, keep = 1 - alpha;                       \
    for (ptrdiff_t i = 0; i < n; i++) {                                                            \
      T gi = g[i];                                                                                 \
      if (lambda != 0) gi += p[i] * lambda;                                                        \
      s[i] = s[i] * alpha + (gi * gi) * keep;                                                      \
      T meanSquare = s[i];                                                                         \
      if (h.centered) {                                                                            \
        a[i] = a[i] * alpha + gi * keep;                                                           \
        meanSquare -= a[i] * a[i];                                                                 \
      }                                                                                            \
      T denominator = ROOT(meanSquare) + eps;                                                      \
      if (mu != 0) {                                                                               \
        b[i] = b[i] * mu + gi / denominator;                                                       \
        p[i] -= eta * b[i];                                                                        \
      } else {                                                                                     \
        p[i] -= eta * (gi / denominator);                                                          \
      }                                                                                            \
    }                                                                                              \
  }

DEFINE_RMSPROP_BODY(float)
DEFINE_RMSPROP_BODY(double)

// ---------------------------------------------------------------- one body, three ISAs

// Every kernel in one shape, so that one range function runs any of them on a thread: p, up to
// three state buffers x, y, z, the gradient g and the hyperparameters h.
typedef void (*kernel_f32)(ptrdiff_t n, float *p, float *x, float *y, float *z, const float *g,
                           const void *h);
typedef void (*kernel_f64)(ptrdiff_t n, double *p, double *x, double *y, double *z,
                           const double *g, const void *h);

#define DEFINE_KERNELS(T, SUFFIX, NAME, ATTRIBUTES)                                                \
  ATTRIBUTES static void sgd_##SUFFIX##_##NAME(ptrdiff_t n, T *p, T *x, T *y, T *z, const T *g,    \
                                               const void *h) {                                    \
    (void)y, (void)z;                                                                              \
    sgd_body_##T(n, p, x, g, *(const cr_sgd_hyperparameters *)h);                                  \
  }                                                                                                \
  ATTRIBUTES static void adam_##SUFFIX##_##NAME(ptrdiff_t n, T *p, T *x, T *y, T *z, const T *g,   \
                                                const void *h) {                                   \
    (void)z;                                                                                       \
    adam_body_##T(n, p, x, y, g, *(const cr_adam_hyperparameters *)h);                             \
  }                                                                                                \
  ATTRIBUTES static void rmsprop_##SUFFIX##_##NAME(ptrdiff_t n, T *p, T *x, T *y, T *z,            \
                                                   const T *g, const void *h) {                    \
    rmsprop_body_##T(n, p, x, y, z, g, *(const cr_rmsprop_hyperparameters *)h);                    \
  }

#define DEFINE_VARIANT(NAME, ATTRIBUTES)                                                           \
  DEFINE_KERNELS(float, f32, NAME, ATTRIBUTES)                                                     \
  DEFINE_KERNELS(double, f64, NAME, ATTRIBUTES)

DEFINE_VARIANT(generic, )
#if defined(__x86_64__)
DEFINE_VARIANT(avx2, __attribute__((target("avx2"))))
DEFINE_VARIANT(avx512, __attribute__((target("avx512f"))))
#define VARIANTS(KERNEL) KERNEL##_avx512, KERNEL##_avx2, KERNEL##_generic
#else
#define VARIANTS(KERNEL) KERNEL##_generic, KERNEL##_generic, KERNEL##_generic
#endif

// The variant of `isa`; CR_GEMM_AUTO means the GEMM's default (so that CHAINRULE_GEMM_ISA=avx2
// runs the AVX2 loops here too, as on an AVX2-only CPU). NULL if this CPU lacks `isa`.
#define DEFINE_PICK(SUFFIX)                                                                        \
  static kernel_##SUFFIX pick_##SUFFIX(int isa, kernel_##SUFFIX avx512, kernel_##SUFFIX avx2,      \
                                       kernel_##SUFFIX generic) {                                  \
    if (isa == CR_GEMM_AUTO) isa = cr_gemm_default_isa();                                          \
    if (!cr_gemm_isa_supported(isa)) return NULL;                                                  \
    return isa == CR_GEMM_AVX512 ? avx512 : isa == CR_GEMM_AVX2 ? avx2 : generic;                  \
  }

DEFINE_PICK(f32)
DEFINE_PICK(f64)

// Elements per thread below which a second thread does not pay (see cr_parallel_for): the
// hand-off to a spinning worker costs ~1 us, to a sleeping one tens. Measured on the 2-core EPYC
// (AVX2 loops, gradient just written by the GEMM): one thread takes ~0.1 ns per element for SGD
// with a hot gradient and up to 0.4 ns with a cold weight (W2's 100,352: 38 us, 19 us on two),
// ~0.35 ns for Adam (one division and one root; W2: 35 us) and ~0.5 ns for RMSProp. So a
// parameter is halved from 2 x 32,768 elements for SGD (~3-6 us a half) and 2 x 16,384 for the
// others (~3-4 us a half);
// W2's and W3's weights are all above both, their biases below.
#define SGD_GRAIN 32768
#define ADAM_GRAIN 16384
#define RMSPROP_GRAIN 16384

// One kernel call cut into ranges for cr_parallel_for.
#define DEFINE_RUN(T, SUFFIX)                                                                      \
  typedef struct {                                                                                 \
    kernel_##SUFFIX kernel;                                                                        \
    T *p, *x, *y, *z;                                                                              \
    const T *g;                                                                                    \
    const void *h;                                                                                 \
  } job_##SUFFIX;                                                                                  \
  static T *offset_##SUFFIX(T *buffer, ptrdiff_t i) { return buffer ? buffer + i : NULL; }         \
  static void range_##SUFFIX(void *context, ptrdiff_t lo, ptrdiff_t hi) {                          \
    const job_##SUFFIX *j = context;                                                               \
    j->kernel(hi - lo, j->p + lo, offset_##SUFFIX(j->x, lo), offset_##SUFFIX(j->y, lo),            \
              offset_##SUFFIX(j->z, lo), j->g + lo, j->h);                                         \
  }                                                                                                \
  static int run_##SUFFIX(kernel_##SUFFIX kernel, ptrdiff_t grain, int threads, ptrdiff_t n, T *p, \
                          T *x, T *y, T *z, const T *g, const void *h) {                           \
    if (n <= 0 || !kernel) return 0;                                                               \
    if (threads == 0 && n < 2 * grain) { /* one thread: no pool hand-off (a bias, a small net) */ \
      kernel(n, p, x, y, z, g, h);                                                                 \
      return 1;                                                                                    \
    }                                                                                              \
    job_##SUFFIX job = {kernel, p, x, y, z, g, h};                                                 \
    return cr_parallel_for(n, grain, threads, range_##SUFFIX, &job);                               \
  }

DEFINE_RUN(float, f32)
DEFINE_RUN(double, f64)

// A parameter this small (a bias, a small network's weight) takes the plain loop inline: the
// same bits as every variant, without picking one (the pick and the call cost more than it).
#define SGD_INLINE_BELOW 64

int cr_sgd_f32(ptrdiff_t n, float *p, float *v, const float *g, cr_sgd_hyperparameters h,
               int isa, int threads) {
  if (isa == CR_GEMM_AUTO && threads == 0 && n > 0 && n < SGD_INLINE_BELOW) {
    sgd_body_float(n, p, v, g, h);
    return 1;
  }
  return run_f32(pick_f32(isa, VARIANTS(sgd_f32)), SGD_GRAIN, threads,
                 n, p, v, NULL, NULL, g, &h);
}

int cr_sgd_f64(ptrdiff_t n, double *p, double *v, const double *g, cr_sgd_hyperparameters h,
               int isa, int threads) {
  if (isa == CR_GEMM_AUTO && threads == 0 && n > 0 && n < SGD_INLINE_BELOW) {
    sgd_body_double(n, p, v, g, h);
    return 1;
  }
  return run_f64(pick_f64(isa, VARIANTS(sgd_f64)), SGD_GRAIN, threads,
                 n, p, v, NULL, NULL, g, &h);
}

int cr_adam_f32(ptrdiff_t n, float *p, float *m, float *v, const float *g,
                cr_adam_hyperparameters h, int isa, int threads) {
  return run_f32(pick_f32(isa, VARIANTS(adam_f32)), ADAM_GRAIN, threads,
                 n, p, m, v, NULL, g, &h);
}

int cr_adam_f64(ptrdiff_t n, double *p, double *m, double *v, const double *g,
                cr_adam_hyperparameters h, int isa, int threads) {
  return run_f64(pick_f64(isa, VARIANTS(adam_f64)), ADAM_GRAIN, threads,
                 n, p, m, v, NULL, g, &h);
}

int cr_rmsprop_f32(ptrdiff_t n, float *p, float *s, float *a, float *b, const float *g,
                   cr_rmsprop_hyperparameters h, int isa, int threads) {
  return run_f32(pick_f32(isa, VARIANTS(rmsprop_f32)), RMSPROP_GRAIN, threads,
                 n, p, s, a, b, g, &h);
}

int cr_rmsprop_f64(ptrdiff_t n, double *p, double *s, double *a, double *b, const double *g,
                   cr_rmsprop_hyperparameters h, int isa, int threads) {
  return run_f64(pick_f64(isa, VARIANTS(rmsprop_f64)), RMSPROP_GRAIN, threads,
                 n, p, s, a, b, g, &h);
}
