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

/// Instruction sets of the GEMM kernels. CR_GEMM_AUTO means the default (see cr_gemm_default_isa).
enum { CR_GEMM_AUTO = 0, CR_GEMM_GENERIC = 1, CR_GEMM_AVX2 = 2, CR_GEMM_AVX512 = 3 };

/// Whether this CPU can run the kernels of `isa` (CR_GEMM_GENERIC always can).
int cr_gemm_isa_supported(int isa);
/// The instruction set used when none is forced: CHAINRULE_GEMM_ISA (generic, avx2, avx512) if
/// set to a supported one (read once; anything else is reported on stderr and ignored), else
/// the widest this CPU supports.
int cr_gemm_default_isa(void);
/// "generic", "avx2", "avx512" ("auto" for anything else).
const char *cr_gemm_isa_name(int isa);
/// The instruction set called `name`, or CR_GEMM_AUTO if none is.
int cr_gemm_isa_named(const char *name);

/// Most threads one product uses: the cores this process may run on, or CHAINRULE_GEMM_THREADS
/// if that is set to fewer (read once). Smaller products use fewer.
int cr_gemm_max_threads(void);

/// For tests: makes every pool worker wait `nanoseconds` (0: not at all) between seeing a product
/// and joining it, as a worker descheduled on a busy machine does, so that the paths where the
/// caller takes over a late worker's share run. Products stay correct, only slower.
void cr_gemm_set_worker_delay(long long nanoseconds);

/// A range [begin, end) of a parallel loop's index space, run by one thread.
typedef void (*cr_range_body)(void *context, ptrdiff_t begin, ptrdiff_t end);

/// Runs body over [0, n) on the GEMM's thread pool, cut into chunks (multiples of 16 elements)
/// of which each participant owns one contiguous run: participant 0 (the caller) the first, as
/// it gets the first rows of C in a product, so that a chunk tends to be in the cache of the
/// core that wrote it. A participant runs its own chunks, then takes any left unclaimed, so a
/// late worker's share runs on the others. `threads` > 0 forces that many participants
/// (waiting for the pool if another thread holds it); 0 decides: one per `grain` elements, and
/// only an idle pool. Capped by cr_gemm_max_threads. Returns the number of threads that ran a
/// chunk (0 when n <= 0).
int cr_parallel_for(ptrdiff_t n, ptrdiff_t grain, int threads, cr_range_body body,
                    void *context);

/// For tests: the schedule of the products the calling thread runs on several threads: 1 always
/// the split one (the smaller operand packed whole by each thread, C cut into independent units
/// handed out to whoever is free) where that pack fits its cap (8 MiB), 0 never (the shared
/// one: each k slice's shared operand packed once for all threads), -1 (the default) as the
/// size decides.
void cr_gemm_set_split_mode(int mode);

/// For tests: slows participant `participant` (0: the calling thread; w: pool worker w) of the
/// split products the calling thread runs, by `nanoseconds` before each unit it tries to claim
/// (0: not at all), as a core shared with a busy sibling thread is slowed, so that the others
/// take the units of its range it has not reached. Products stay correct, only slower.
void cr_gemm_set_unit_delay(int participant, long long nanoseconds);

/// For tests: how many units of the calling thread's last split product ran on a participant
/// that does not own them (see cr_gemm_set_unit_delay).
int cr_gemm_last_stolen_units(void);

/// `cr_sgemm` on the kernels of `isa` (CR_GEMM_AUTO: the default) and on up to `threads`
/// threads (0: decided from the product's size, using only an idle worker pool; > 0: waits for
/// the pool; capped by cr_gemm_max_threads). Returns the instruction set
/// that ran, or CR_GEMM_AUTO (computing nothing) if this CPU does not support `isa`.
int cr_sgemm_isa(int isa, int threads, int transA, int transB, ptrdiff_t m, ptrdiff_t n,
                 ptrdiff_t k, float alpha, const float *a, ptrdiff_t lda, const float *b,
                 ptrdiff_t ldb, float beta, float *c, ptrdiff_t ldc);
/// Double-precision twin of `cr_sgemm_isa`.
int cr_dgemm_isa(int isa, int threads, int transA, int transB, ptrdiff_t m, ptrdiff_t n,
                 ptrdiff_t k, double alpha, const double *a, ptrdiff_t lda, const double *b,
                 ptrdiff_t ldb, double beta, double *c, ptrdiff_t ldc);

#ifdef __cplusplus
}
#endif

#endif
