// Element-wise optimizer updates (Adam, AdamW, RMSProp), vectorised.
//
// Swift cannot vectorise these loops: its square root is a call for negative inputs, so the
// compiler keeps them scalar (about 1 µs per parameter with the divisions). Here each loop is
// written once, as an always-inlined function, and compiled three times — AVX-512, AVX2 and
// plain — with per-function target attributes (no global -m flags), picked at run time.
//
// Bit-exactness: FP_CONTRACT is off, so `a * b + c` stays two rounded operations as in the
// Swift formulas and in the tests' hand computations; vector sqrt and division are correctly
// rounded, so every path gives the same bits as the scalar loop.

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

// ---------------------------------------------------------------- Adam / AdamW

#define DEFINE_ADAM_BODY(T)                                                                        \
  ALWAYS_INLINE void adam_body_##T(ptrdiff_t n, T *restrict p, T *restrict m, T *restrict v,       \
                                   const T *restrict g, cr_adam_hyperparameters h) {               \
    const T eta = (T)h.learningRate, b1 = (T)h.beta1, b2 = (T)h.beta2, eps = (T)h.epsilon;         \
    const T c1 = (T)h.correction1, c2 = (T)h.correction2;                                          \
    const T l2 = (T)h.l2Penalty, decay = (T)h.decoupledDecay;                                      \
    const T shrink = 1 - eta * decay, keep1 = 1 - b1, keep2 = 1 - b2;                              \
    if (l2 != 0) {                                                                                 \
      for (ptrdiff_t i = 0; i < n; i++) {                                                          \
        T gi = g[i] + p[i] * l2;                                                                   \
        m[i] = m[i] * b1 + gi * keep1;                                                             \
        v[i] = v[i] * b2 + (gi * gi) * keep2;                                                      \
        p[i] -= eta * (m[i] / c1) / (ROOT(v[i] / c2) + eps);                                       \
      }                                                                                            \
    } else if (decay != 0) {                                                                       \
      for (ptrdiff_t i = 0; i < n; i++) {                                                          \
        T gi = g[i];                                                                               \
        p[i] *= shrink;                                                                            \
        m[i] = m[i] * b1 + gi * keep1;                                                             \
        v[i] = v[i] * b2 + (gi * gi) * keep2;                                                      \
        p[i] -= eta * (m[i] / c1) / (ROOT(v[i] / c2) + eps);                                       \
      }                                                                                            \
    } else {                                                                                       \
      for (ptrdiff_t i = 0; i < n; i++) {                                                          \
        T gi = g[i];                                                                               \
        m[i] = m[i] * b1 + gi * keep1;                                                             \
        v[i] = v[i] * b2 + (gi * gi) * keep2;                                                      \
        p[i] -= eta * (m[i] / c1) / (ROOT(v[i] / c2) + eps);                                       \
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

#define DEFINE_VARIANT(NAME, ATTRIBUTES)                                                           \
  ATTRIBUTES static void adam_f32_##NAME(ptrdiff_t n, float *p, float *m, float *v,                \
                                         const float *g, cr_adam_hyperparameters h) {              \
    adam_body_float(n, p, m, v, g, h);                                                             \
  }                                                                                                \
  ATTRIBUTES static void adam_f64_##NAME(ptrdiff_t n, double *p, double *m, double *v,             \
                                         const double *g, cr_adam_hyperparameters h) {             \
    adam_body_double(n, p, m, v, g, h);                                                            \
  }                                                                                                \
  ATTRIBUTES static void rmsprop_f32_##NAME(ptrdiff_t n, float *p, float *s, float *a,             \
                                            float *b, const float *g,                              \
                                            cr_rmsprop_hyperparameters h) {                        \
    rmsprop_body_float(n, p, s, a, b, g, h);                                                       \
  }                                                                                                \
  ATTRIBUTES static void rmsprop_f64_##NAME(ptrdiff_t n, double *p, double *s, double *a,          \
                                            double *b, const double *g,                            \
                                            cr_rmsprop_hyperparameters h) {                        \
    rmsprop_body_double(n, p, s, a, b, g, h);                                                      \
  }

DEFINE_VARIANT(generic, )
#if defined(__x86_64__)
DEFINE_VARIANT(avx2, __attribute__((target("avx2"))))
DEFINE_VARIANT(avx512, __attribute__((target("avx512f"))))
#define PICK(KERNEL, ...)                                                                          \
  do {                                                                                             \
    if (__builtin_cpu_supports("avx512f")) return KERNEL##_avx512(__VA_ARGS__);                    \
    if (__builtin_cpu_supports("avx2")) return KERNEL##_avx2(__VA_ARGS__);                         \
    return KERNEL##_generic(__VA_ARGS__);                                                          \
  } while (0)
#else
#define PICK(KERNEL, ...) return KERNEL##_generic(__VA_ARGS__)
#endif

void cr_adam_f32(ptrdiff_t n, float *p, float *m, float *v, const float *g,
                 cr_adam_hyperparameters h) {
  PICK(adam_f32, n, p, m, v, g, h);
}

void cr_adam_f64(ptrdiff_t n, double *p, double *m, double *v, const double *g,
                 cr_adam_hyperparameters h) {
  PICK(adam_f64, n, p, m, v, g, h);
}

void cr_rmsprop_f32(ptrdiff_t n, float *p, float *s, float *a, float *b, const float *g,
                    cr_rmsprop_hyperparameters h) {
  PICK(rmsprop_f32, n, p, s, a, b, g, h);
}

void cr_rmsprop_f64(ptrdiff_t n, double *p, double *s, double *a, double *b, const double *g,
                    cr_rmsprop_hyperparameters h) {
  PICK(rmsprop_f64, n, p, s, a, b, g, h);
}
