// GEMM entry points: pick the widest kernel set this CPU supports at run time (the OpenBLAS
// DYNAMIC_ARCH approach: per-function target attributes, no global -m flags), and route tiny
// products to an unpacked loop.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ChainRuleKernels.h"

// Products with fewer multiply-adds than this skip packing (measured crossover: about 7^3).
#define SMALL_WORK (8 * 8 * 8)

// Per-thread packing buffer, kept between calls: allocating it per call made glibc map, fault in
// and trim fresh pages on every mid-sized product. Freed when its thread exits.
typedef struct {
  void *ptr;
  size_t size;
} cr_workspace;

static pthread_key_t workspace_key;
static pthread_once_t workspace_once = PTHREAD_ONCE_INIT;

static void free_workspace(void *w) {
  free(((cr_workspace *)w)->ptr);
  free(w);
}

static void make_workspace_key(void) { pthread_key_create(&workspace_key, free_workspace); }

// Returns this thread's 64-byte aligned buffer of at least `bytes` bytes, or NULL.
static void *thread_workspace(size_t bytes) {
  pthread_once(&workspace_once, make_workspace_key);
  cr_workspace *w = pthread_getspecific(workspace_key);
  if (!w) {
    w = calloc(1, sizeof *w);
    if (!w || pthread_setspecific(workspace_key, w) != 0) {
      free(w);
      return NULL;
    }
  }
  if (w->size < bytes) {
    free(w->ptr);
    w->size = 0;
    if (posix_memalign(&w->ptr, 64, bytes) != 0) {
      w->ptr = NULL;
      return NULL;
    }
    w->size = bytes;
  }
  return w->ptr;
}

#define CAT2(a, b) a##_##b
#define CAT(a, b) CAT2(a, b)
#define FN(name) CAT(PREFIX, name)

// Portable instantiation: 16-byte GNU vectors lower to SSE2 on x86-64 and NEON on arm64.
#define TARGET
#define KC 256
#define NC 512
#define MC 768
#define MR 4
#define NV 2

#define PREFIX s_generic
#define T float
#define VL 4
typedef float s_generic_v __attribute__((vector_size(16)));
#define V s_generic_v
#include "gemm_template.h"
#undef PREFIX
#undef T
#undef VL
#undef V

#define PREFIX d_generic
#define T double
#define VL 2
typedef double d_generic_v __attribute__((vector_size(16)));
#define V d_generic_v
#include "gemm_template.h"
#undef PREFIX
#undef T
#undef VL
#undef V

#undef TARGET
#undef MR

#if defined(__x86_64__)
// AVX2 + FMA (Haswell and later, Zen 1-3): 16 ymm registers hold a 6 x 2-vector tile.
#define TARGET __attribute__((target("avx2,fma")))
#define MR 6

#define PREFIX s_avx2
#define T float
#define VL 8
typedef float s_avx2_v __attribute__((vector_size(32)));
#define V s_avx2_v
#include "gemm_template.h"
#undef PREFIX
#undef T
#undef VL
#undef V

#define PREFIX d_avx2
#define T double
#define VL 4
typedef double d_avx2_v __attribute__((vector_size(32)));
#define V d_avx2_v
#include "gemm_template.h"
#undef PREFIX
#undef T
#undef VL
#undef V

#undef TARGET
#undef MR

// AVX-512 (Skylake-X and later, Zen 4/5): 32 zmm registers hold a 12 x 2-vector tile.
#define TARGET __attribute__((target("avx512f,fma")))
#define MR 12

#define PREFIX s_avx512
#define T float
#define VL 16
typedef float s_avx512_v __attribute__((vector_size(64)));
#define V s_avx512_v
#include "gemm_template.h"
#undef PREFIX
#undef T
#undef VL
#undef V

#define PREFIX d_avx512
#define T double
#define VL 8
typedef double d_avx512_v __attribute__((vector_size(64)));
#define V d_avx512_v
#include "gemm_template.h"
#undef PREFIX
#undef T
#undef VL
#undef V

#undef TARGET
#undef MR
#endif

// ---------------------------------------------------------------------------------------------
// Instruction-set selection. The default is the widest set this CPU supports, unless the
// environment variable CHAINRULE_GEMM_ISA (generic, avx2 or avx512) names another, read once;
// cr_sgemm_isa / cr_dgemm_isa force one per call (the tests use them to cover every path).

int cr_gemm_isa_supported(int isa) {
  switch (isa) {
    case CR_GEMM_GENERIC: return 1;
#if defined(__x86_64__)
    case CR_GEMM_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case CR_GEMM_AVX512: return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
#endif
    default: return 0;
  }
}

const char *cr_gemm_isa_name(int isa) {
  switch (isa) {
    case CR_GEMM_GENERIC: return "generic";
    case CR_GEMM_AVX2: return "avx2";
    case CR_GEMM_AVX512: return "avx512";
    default: return "auto";
  }
}

int cr_gemm_isa_named(const char *name) {
  for (int isa = CR_GEMM_GENERIC; isa <= CR_GEMM_AVX512; isa++)
    if (strcmp(name, cr_gemm_isa_name(isa)) == 0) return isa;
  return CR_GEMM_AUTO;
}

static int default_isa;
static pthread_once_t default_isa_once = PTHREAD_ONCE_INIT;

static void choose_default_isa(void) {
  default_isa = CR_GEMM_GENERIC;
  for (int isa = CR_GEMM_AVX512; isa > CR_GEMM_GENERIC; isa--)
    if (cr_gemm_isa_supported(isa)) {
      default_isa = isa;
      break;
    }
  const char *name = getenv("CHAINRULE_GEMM_ISA");
  if (!name || !*name) return;
  int isa = cr_gemm_isa_named(name);
  if (isa != CR_GEMM_AUTO && cr_gemm_isa_supported(isa)) {
    default_isa = isa;
  } else {
    fprintf(stderr,
            "ChainRule: CHAINRULE_GEMM_ISA=%s is %s (expected generic, avx2 or avx512); "
            "using %s\n",
            name, isa == CR_GEMM_AUTO ? "not a known instruction set" : "not supported by this CPU",
            cr_gemm_isa_name(default_isa));
  }
}

int cr_gemm_default_isa(void) {
  pthread_once(&default_isa_once, choose_default_isa);
  return default_isa;
}

// Dispatch for one precision: tiny or degenerate products take the unpacked loop, the rest the
// blocked one (falling back to the loop if its buffers cannot be allocated).
#define RUN(P)                                                                            \
  do {                                                                                    \
    if (!blocked || !P##_gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)) \
      P##_small(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);           \
  } while (0)

#if defined(__x86_64__)
#define DISPATCH(S)                          \
  switch (isa) {                             \
    case CR_GEMM_AVX512: RUN(S##_avx512); break; \
    case CR_GEMM_AVX2: RUN(S##_avx2); break; \
    default: RUN(S##_generic); break;        \
  }
#else
#define DISPATCH(S) RUN(S##_generic)
#endif

#define DEFINE_GEMM(NAME, T, S)                                                                  \
  int NAME##_isa(int isa, int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, T alpha, \
                 const T *a, ptrdiff_t lda, const T *b, ptrdiff_t ldb, T beta, T *c,             \
                 ptrdiff_t ldc) {                                                                \
    if (isa == CR_GEMM_AUTO) isa = cr_gemm_default_isa();                                       \
    if (!cr_gemm_isa_supported(isa)) return CR_GEMM_AUTO;                                       \
    if (m <= 0 || n <= 0) return isa;                                                            \
    if (alpha == 0 || k < 0) k = 0; /* C = beta * C; A and B are not read */                     \
    int blocked = k > 0 && (double)m * (double)n * (double)k >= SMALL_WORK;                      \
    DISPATCH(S);                                                                                 \
    return isa;                                                                                  \
  }                                                                                              \
  void NAME(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, T alpha, const T *a,  \
            ptrdiff_t lda, const T *b, ptrdiff_t ldb, T beta, T *c, ptrdiff_t ldc) {             \
    NAME##_isa(CR_GEMM_AUTO, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);     \
  }

DEFINE_GEMM(cr_sgemm, float, s)
DEFINE_GEMM(cr_dgemm, double, d)
