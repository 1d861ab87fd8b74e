// GEMM entry points: pick the widest kernel set this CPU supports at run time (the OpenBLAS
// DYNAMIC_ARCH approach: per-function target attributes, no global -m flags), decide from the
// product's size how many cores to use, and route tiny products to an unpacked loop.
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE  // sched_getaffinity
#endif
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ChainRuleKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ volatile("yield")
#else
#define cpu_relax() ((void)0)
#endif

// Products with fewer multiply-adds than this skip packing (measured crossover: about 7^3).
#define SMALL_WORK (8 * 8 * 8)

// A second core pays off once each thread gets this many multiply-adds (Float; Double, at half
// the rate, needs half as many). With the workers spinning (below), a hand-off costs ~1 us, and
// a 64^3 product takes ~6 us on one core. With the split schedule (see cr_gemm_split), which
// never waits mid-product, two threads took 4.1-5.0 us at 64^3 against 5.9-7.9 on one, and
// 11.5-12.2 against 17.4 at 96^3 (three alternating rounds); below 64^3 they gained nothing
// measurable. (With only the shared schedule, 64^3 had gained nothing: 6.07 vs 6.05 us.)
#define MIN_WORK_PER_THREAD_F32 (64 * 64 * 64 / 2)
#define MIN_WORK_PER_THREAD_F64 (MIN_WORK_PER_THREAD_F32 / 2)

// Chunks each thread's share of a step is cut into (see cr_gemm_job): more let the others take
// over more of a late thread's share, fewer reuse each packed micro-panel of the shared operand
// more. Measured at n = 128 / 256 (best of 20,000 calls): 2 chunks 24 / 170 us, 4 chunks 27 /
// 184 us.
#define CHUNKS_PER_THREAD 2
// Groups the shared operand of a step is packed in, so that all participants can pack it.
#define SHARED_GROUPS 8

// How long an idle worker spins before it sleeps: waking a sleeping thread costs tens of
// microseconds on a VM, a spinning one a fraction of one, and the products of one training step
// come well within this of each other. (OpenBLAS spins for far longer.)
#define SPIN_NANOSECONDS 200000

// ---------------------------------------------------------------------------------------------
// Per-thread packing buffer, kept between calls: allocating it per call made glibc map, fault in
// and trim fresh pages on every mid-sized product. Freed when its thread exits. The calling
// thread's buffer holds all of a product's packed panels, its workers' private parts included.
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
static void *cr_thread_workspace(size_t bytes) {
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

// ---------------------------------------------------------------------------------------------
// Threads. A product runs on the calling thread plus up to (cores - 1) pool workers, started on
// first use. Between products the workers spin on a generation counter for SPIN_NANOSECONDS,
// then sleep on a condition variable. One product at a time uses the pool: a caller that finds
// it busy (another thread's product) runs on its own thread rather than queueing.

static long long cr_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

// Spin-wait step. A waiter whose partner was descheduled (a busy, shared machine) gives its
// core away, but only after YIELD_AFTER_SPINS pauses (~50 us): on a VM, sched_yield costs
// ~15 us whenever another process is runnable, so yielding early made every short wait cost that.
#define YIELD_AFTER_SPINS 4096
static void cr_backoff(unsigned *spins) {
  cpu_relax();
  if (++*spins >= YIELD_AFTER_SPINS && (*spins & 1023) == 0) sched_yield();
}

// Threads a product may use: the cores this process may run on, or CHAINRULE_GEMM_THREADS if
// set to fewer (for measuring one core). Read once.
static int max_threads;
static pthread_once_t max_threads_once = PTHREAD_ONCE_INIT;

static void count_cores(void) {
  int n = 0;
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) n = CPU_COUNT(&set);
#endif
  if (n <= 0) n = (int)sysconf(_SC_NPROCESSORS_ONLN);
  const char *limit = getenv("CHAINRULE_GEMM_THREADS");
  if (limit && atoi(limit) > 0 && atoi(limit) < n) n = atoi(limit);
  max_threads = n < 1 ? 1 : n > 64 ? 64 : n;
}

int cr_gemm_max_threads(void) {
  pthread_once(&max_threads_once, count_cores);
  return max_threads;
}

// A product's work for one participant: the caller is participant 0, worker w is w.
typedef void (*cr_task)(void *arg, int participant);

// The pool's state word: the product's generation in the high 32 bits, then a "closed" bit, then
// the number of workers that joined. A worker joins by incrementing it while the product is open;
// the caller closes it when its own work is done and waits only for workers that joined. A worker
// that wakes late (descheduled on a busy machine) finds the product closed and stays out, so the
// caller never waits for a thread that has not started: it does that thread's work itself.
#define POOL_CLOSED (1ull << 31)
#define POOL_JOINED_MASK (POOL_CLOSED - 1)

static struct {
  pthread_mutex_t busy;  // held by the caller whose product is running
  pthread_mutex_t sleep_lock;
  pthread_cond_t wake;
  atomic_ullong state;  // see POOL_CLOSED
  atomic_int sleepers;  // workers waiting on `wake`
  atomic_int left;      // joined workers done with the current product
  cr_task task;
  void *arg;
  int participants;  // of the current product, caller included: workers 1..<participants join
  int workers;       // started
} pool = {
    .busy = PTHREAD_MUTEX_INITIALIZER,
    .sleep_lock = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER,
};
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

// For tests: how long a worker waits between seeing a product and joining it, standing in for a
// worker descheduled on a busy machine (see cr_gemm_set_worker_delay).
static atomic_llong worker_delay_ns;

void cr_gemm_set_worker_delay(long long nanoseconds) {
  atomic_store(&worker_delay_ns, nanoseconds > 0 ? nanoseconds : 0);
}

static void cr_sleep_ns(long long nanoseconds) {
  struct timespec pause = {.tv_sec = nanoseconds / 1000000000, .tv_nsec = nanoseconds % 1000000000};
  nanosleep(&pause, NULL);
}

static void *pool_worker(void *index) {
  int me = (int)(ptrdiff_t)index;
  unsigned long long seen = 0;  // generation of the last product this worker saw
  for (;;) {
    unsigned long long state;
    unsigned spins = 0;
    long long deadline = cr_now_ns() + SPIN_NANOSECONDS;
    while (((state = atomic_load_explicit(&pool.state, memory_order_acquire)) >> 32) == seen) {
      cr_backoff(&spins);
      if ((spins & 255) == 0 && cr_now_ns() > deadline) {
        // Announce the sleep before re-checking: a caller publishing a product either is seen
        // here or sees `sleepers` and signals under the lock (both sides are seq_cst).
        pthread_mutex_lock(&pool.sleep_lock);
        atomic_fetch_add(&pool.sleepers, 1);
        while (((state = atomic_load(&pool.state)) >> 32) == seen)
          pthread_cond_wait(&pool.wake, &pool.sleep_lock);
        atomic_fetch_sub(&pool.sleepers, 1);
        pthread_mutex_unlock(&pool.sleep_lock);
        break;
      }
    }
    seen = state >> 32;
    long long delay = atomic_load_explicit(&worker_delay_ns, memory_order_relaxed);
    if (delay > 0) {
      cr_sleep_ns(delay);
      state = atomic_load(&pool.state);
    }
    while (!(state & POOL_CLOSED) && (state >> 32) == seen) {
      if (atomic_compare_exchange_weak(&pool.state, &state, state + 1)) {
        if (me < pool.participants) pool.task(pool.arg, me);
        atomic_fetch_add_explicit(&pool.left, 1, memory_order_release);
        break;
      }
    }
  }
  return NULL;
}

static void start_pool(void) {
  int wanted = cr_gemm_max_threads() - 1;
  for (int w = 0; w < wanted; w++) {
    pthread_t thread;
    if (pthread_create(&thread, NULL, pool_worker, (void *)(ptrdiff_t)(w + 1)) != 0) break;
    pthread_detach(thread);
    pool.workers++;
  }
}

// Runs task(arg, 0) on the calling thread and task(arg, w) on the workers w < participants that
// join in time; returns when all that joined are done. Alone when participants <= 1 or the pool
// is busy (another thread's product), unless `wait` (then the caller waits for its turn).
static void cr_run_parallel(cr_task task, void *arg, int participants, int wait) {
  if (participants > 1) pthread_once(&pool_once, start_pool);
  if (participants <= 1 || pool.workers == 0 ||
      (wait ? pthread_mutex_lock(&pool.busy) : pthread_mutex_trylock(&pool.busy)) != 0) {
    task(arg, 0);
    return;
  }
  pool.task = task;
  pool.arg = arg;
  pool.participants = participants;
  atomic_store_explicit(&pool.left, 0, memory_order_relaxed);
  unsigned long long generation = (atomic_load(&pool.state) >> 32) + 1;
  atomic_store(&pool.state, generation << 32);  // seq_cst: publishes the fields above
  if (atomic_load(&pool.sleepers) > 0) {
    pthread_mutex_lock(&pool.sleep_lock);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.sleep_lock);
  }
  task(arg, 0);
  int joined = (int)(atomic_fetch_or(&pool.state, POOL_CLOSED) & POOL_JOINED_MASK);
  unsigned spins = 0;
  while (atomic_load_explicit(&pool.left, memory_order_acquire) < joined) cr_backoff(&spins);
  pthread_mutex_unlock(&pool.busy);
}

// cr_parallel_for (declared in ChainRuleKernels.h) on the same pool. The index space is cut into
// chunks, participant p owning the p-th contiguous run of them. Each takes its own chunks in
// order, then any chunk still unclaimed, the others' backwards (from the far end of the next
// participant's run), as the GEMM's participants do: a worker that joins late (or never) costs
// time, not correctness, and one descheduled on a busy machine holds up at most the chunk it is
// in, not half the loop. Chunk boundaries are multiples of 16 elements (a cache line of
// floats), so that no line is written by two cores.
#define FOR_CHUNKS_PER_PARTICIPANT 8
#define FOR_MAX_CHUNKS 64

typedef struct {
  cr_range_body body;
  void *context;
  ptrdiff_t n;
  int parts, chunks;
  atomic_int claimed[FOR_MAX_CHUNKS];
  atomic_int ran;  // participants that ran at least one chunk
} cr_for_job;

static ptrdiff_t cr_for_bound(const cr_for_job *job, int chunk) {
  if (chunk >= job->chunks) return job->n;
  return (ptrdiff_t)((__int128)job->n * chunk / job->chunks) & ~(ptrdiff_t)15;
}

static int cr_for_claim(cr_for_job *job, int chunk) {
  if (atomic_exchange_explicit(&job->claimed[chunk], 1, memory_order_relaxed)) return 0;
  ptrdiff_t lo = cr_for_bound(job, chunk), hi = cr_for_bound(job, chunk + 1);
  if (hi > lo) job->body(job->context, lo, hi);
  return 1;
}

static void cr_for_task(void *arg, int participant) {
  cr_for_job *job = arg;
  if (participant >= job->parts) return;
  int chunks = job->chunks, parts = job->parts;
  int lo = participant * chunks / parts, hi = (participant + 1) * chunks / parts, ran = 0;
  for (int i = 0; i < chunks; i++) {
    int chunk = i < hi - lo ? lo + i : (hi - 1 - i + chunks) % chunks;
    ran |= cr_for_claim(job, chunk);
  }
  if (ran) atomic_fetch_add_explicit(&job->ran, 1, memory_order_relaxed);
}

int cr_parallel_for(ptrdiff_t n, ptrdiff_t grain, int threads, cr_range_body body,
                    void *context) {
  if (n <= 0) return 0;
  ptrdiff_t parts = threads > 0 ? threads : n / (grain > 0 ? grain : 1);
  if (parts > cr_gemm_max_threads()) parts = cr_gemm_max_threads();
  if (parts <= 1) {
    body(context, 0, n);
    return 1;
  }
  ptrdiff_t chunks = parts * FOR_CHUNKS_PER_PARTICIPANT;
  if (chunks > FOR_MAX_CHUNKS) chunks = parts > FOR_MAX_CHUNKS ? parts : FOR_MAX_CHUNKS;
  if (parts > FOR_MAX_CHUNKS) parts = chunks = FOR_MAX_CHUNKS;
  cr_for_job job = {
      .body = body, .context = context, .n = n, .parts = (int)parts, .chunks = (int)chunks};
  for (int chunk = 0; chunk < job.chunks; chunk++) atomic_init(&job.claimed[chunk], 0);
  atomic_init(&job.ran, 0);
  cr_run_parallel(cr_for_task, &job, job.parts, threads > 0);
  return atomic_load(&job.ran);
}

// One product as plain data, shared by its participants (the template's functions read it).
// The work is a sequence of steps (one k slice, and in row mode one NC-wide panel, each); a step
// packs one shared operand and is cut into chunks. Each participant walks the steps itself,
// claiming its own share of each step's chunks and then any chunk of the step still unclaimed
// (see the template's `task`), so that a participant that is late or slow (a shared machine)
// simply does fewer, and nobody waits for a step to be opened: whoever first claims a chunk of
// step s + 1 packs its shared operand while the others still compute step s (the first
// claimers of a step pack it together, in groups).
//   Row mode: the shared operand is the step's B panel; a chunk is a band of rows of C, whose
//     claimer packs that band of A into its private buffer.
//   Column mode (m <= MC): the shared operand is the step's A block; a chunk is a band of
//     columns, whose claimer packs that band of B.
// The shared buffer is doubled: step s packs into half s % 2 once step s - 2 is finished.
// The split schedule (see cr_gemm_split) reads the problem (transA ... ldc), `rowMode` (units
// of rows, else of columns), `tiles`, `kSteps`, `kc`, `participants`, `claimed` (per unit),
// `finished` (units) and the fields below its heading.
typedef struct {
  int transA, transB;
  ptrdiff_t m, n, k;
  double alpha;
  const void *a;
  ptrdiff_t lda;
  const void *b;
  ptrdiff_t ldb;
  double beta;
  void *c;
  ptrdiff_t ldc;
  int rowMode;
  ptrdiff_t tiles;                    // tile rows (row mode) or tile columns of C, cut in chunks
  int chunks, steps, kSteps;          // chunks per step, steps, k slices per panel
  ptrdiff_t kc;                       // depth of a k slice (the last may be shallower), <= KC
  ptrdiff_t sharedStride, ownStride;  // elements per shared half / per participant
  void *shared, *own;                 // the two shared halves; the private buffers
  int participants;                   // planned, the caller included (chunk ownership)
  atomic_int *claimed;                // per step and chunk: whether a participant took it
  atomic_int finished;                // chunks finished, all steps together
  atomic_int *packNext, *packDone;    // per step: groups of its shared operand claimed / packed
  atomic_int *done;                   // per step: chunks finished
  atomic_int *progress;               // per chunk: the last step of it that is finished
  // The split schedule only (see split_task in the template):
  ptrdiff_t sliceStride, wholeStride;  // elements per k slice / all slices of a whole pack
  void *whole;                         // each participant's whole pack, own buffer after it
  int units;                           // units of C, all participants' together
  ptrdiff_t *unitStart;                // per unit, and one past the last: its first tile
  int *firstUnit;                      // per participant, and one past the last: its first unit
  int slowed;                          // for tests: the participant slowed before each unit
  long long slowedNanoseconds;         // by this much (see cr_gemm_set_unit_delay)
  atomic_int stolen;                   // units run by a participant that does not own them
} cr_gemm_job;

// For tests (see cr_gemm_set_unit_delay), per calling thread: which participant of its split
// products to slow and by how much, and how many units of its last one changed hands.
static _Thread_local int slowed_participant = -1;
static _Thread_local long long slowed_nanoseconds;
static _Thread_local int last_stolen_units;

void cr_gemm_set_unit_delay(int participant, long long nanoseconds) {
  slowed_participant = nanoseconds > 0 ? participant : -1;
  slowed_nanoseconds = nanoseconds > 0 ? nanoseconds : 0;
}

int cr_gemm_last_stolen_units(void) { return last_stolen_units; }

// A product on several threads runs one of two schedules (both described by a cr_gemm_job).
// The shared one packs each k slice's shared operand once, for all participants, and hands out
// chunks step by step; the split one has each participant pack the smaller operand whole and
// cuts C into independent units, each over all of k: the smaller operand is packed once per
// participant, but nobody waits for anyone until the end. The size decides (cr_gemm_split)
// unless a test forces one schedule for the products its thread calls (cr_gemm_set_split_mode).
static _Thread_local int split_mode = -1;

void cr_gemm_set_split_mode(int mode) { split_mode = mode < 0 ? -1 : mode > 0; }

// Products below this many multiply-adds take the split schedule. Measured on the 2-core VM
// (AVX2, 2-5 alternating rounds of each schedule, medians per round, shared vs split): W2's
// 64x128x784 57-121 vs 90-143 GFLOP/s and 784x128x64 (A transposed) 106-121 vs 140, split
// ahead in every round; W3's 256x1024x784 102-157 vs 123-154, 1024x1024x256 (A transposed)
// 154-173 vs 165-196, 512^3 141-175 vs 154-181, split ahead in most rounds; 1024^3 160-186 vs
// 104-181, shared ahead: there the packing the split repeats (all of B for each band of
// rows) costs more than the waits it saves. (Those rounds ran the split's first form, one fixed
// band per participant; with units (2026-12-02), 1024^3 still favoured the shared schedule:
// 11.8-13.2 ms against 13.0-13.8, three rounds of 60 alternating calls.)
#define SPLIT_MAX_WORK (512.0 * 1024 * 1024)

// Whether a product on `threads` threads takes the split schedule.
static int cr_gemm_split(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, int threads) {
  (void)threads;
  if (split_mode >= 0) return split_mode;
  return (double)m * (double)n * (double)k < SPLIT_MAX_WORK;
}

// The split schedule's units (see split_task in the template). Each participant owns a range of
// C's tile rows (row mode) or tile columns and cuts it front to back into units of half of
// what is left, so it starts with large units and ends with small ones; whoever is done with
// its own range first takes the others' units from their far end. A participant slowed by the
// host (a busy sibling thread) thus hands its last small units to the other, instead of
// making it wait: with one fixed band each, the caller of W3's five large products waited
// 6-8 % of its own time for the worker (100 steps, one run); with units, 1.1-1.6 %.
//
// Bytes of the smaller operand each participant packs whole; larger ones take the shared
// schedule (the 784-1024 wide layers' operands are 0.8-1 MiB).
#define SPLIT_MAX_PACK_BYTES (8 << 20)
// Fewest tiles in a unit, but a range's last. A unit of rows streams all of the packed op(B)
// past its tiles, and below 4 tiles (24 rows) that costs more than their multiply-adds; a unit
// of columns reuses the packed op(A) as it is, but each unit costs a pass over its k slices.
#define SPLIT_MIN_ROW_TILES 4
#define SPLIT_MIN_COLUMN_TILES 2

// A unit's size in tiles, when `left` tiles of its participant's range are left: half of them,
// within [minTiles, maxTiles], and all that are left if fewer than minTiles would remain.
static ptrdiff_t cr_split_unit_size(ptrdiff_t left, ptrdiff_t minTiles, ptrdiff_t maxTiles) {
  ptrdiff_t size = (left + 1) / 2;
  if (size > maxTiles) size = maxTiles;
  if (size < minTiles) size = minTiles;
  return left - size < minTiles ? left : size;  // no last unit below minTiles
}

// Cuts `tiles` tiles into the split schedule's units: participant p's range is
// [p * tiles / parts, (p + 1) * tiles / parts), cut front to back by cr_split_unit_size. Fills
// firstUnit[0...parts] and unitStart[0...units] when they are not NULL, and *widest with the
// most tiles in one unit (not always in the widest range: 3 tiles make one unit, 4 two, with
// minTiles 2); returns the count.
static int cr_split_units(ptrdiff_t tiles, int parts, ptrdiff_t minTiles, ptrdiff_t maxTiles,
                          int *firstUnit, ptrdiff_t *unitStart, ptrdiff_t *widest) {
  int units = 0;
  *widest = 0;
  for (int p = 0; p < parts; p++) {
    if (firstUnit) firstUnit[p] = units;
    ptrdiff_t at = p * tiles / parts, end = (p + 1) * tiles / parts;
    while (at < end) {
      ptrdiff_t size = cr_split_unit_size(end - at, minTiles, maxTiles);
      if (size > *widest) *widest = size;
      if (unitStart) unitStart[units] = at;
      at += size;
      units++;
    }
  }
  if (firstUnit) firstUnit[parts] = units;
  if (unitStart) unitStart[units] = tiles;
  return units;
}

// ---------------------------------------------------------------------------------------------
// Packing helper: dst[p * rows + i] = src[i * ld + p] for i < rows, p < kc. This is the
// transposition that packing A (plain) and B (transposed) needs; done element by element it
// costs as much as the multiplication itself for n <= 128. Here 4 x 4 (float) or 2 x 2 (double)
// blocks are transposed in SSE registers (SSE2 is part of x86-64; inside an AVX2 function the
// compiler emits the VEX forms). Each row is read one cache line (16 floats, 8 doubles) at a
// time: the rows are ld apart, and for power-of-two ld more than 8 of them alias to one L1 set.
static inline void interleave_f32(ptrdiff_t rows, ptrdiff_t kc, const float *src, ptrdiff_t ld,
                                  float *restrict dst) {
  ptrdiff_t p = 0;
#if defined(__x86_64__)
  for (; p + 16 <= kc; p += 16) {
    ptrdiff_t i = 0;
    for (; i + 4 <= rows; i += 4) {
      const float *s = src + i * ld + p;
      for (int q = 0; q < 16; q += 4) {
        __m128 r0 = _mm_loadu_ps(s + q), r1 = _mm_loadu_ps(s + ld + q);
        __m128 r2 = _mm_loadu_ps(s + 2 * ld + q), r3 = _mm_loadu_ps(s + 3 * ld + q);
        _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
        float *d = dst + (p + q) * rows + i;
        _mm_storeu_ps(d, r0);
        _mm_storeu_ps(d + rows, r1);
        _mm_storeu_ps(d + 2 * rows, r2);
        _mm_storeu_ps(d + 3 * rows, r3);
      }
    }
    for (; i + 2 <= rows; i += 2) {
      const float *s = src + i * ld + p;
      for (int q = 0; q < 16; q += 4) {
        __m128 r0 = _mm_loadu_ps(s + q), r1 = _mm_loadu_ps(s + ld + q);
        __m128 lo = _mm_unpacklo_ps(r0, r1), hi = _mm_unpackhi_ps(r0, r1);
        float *d = dst + (p + q) * rows + i;
        _mm_storel_pi((__m64 *)d, lo);
        _mm_storeh_pi((__m64 *)(d + rows), lo);
        _mm_storel_pi((__m64 *)(d + 2 * rows), hi);
        _mm_storeh_pi((__m64 *)(d + 3 * rows), hi);
      }
    }
    for (; i < rows; i++)
      for (int q = 0; q < 16; q++) dst[(p + q) * rows + i] = src[i * ld + p + q];
  }
#endif
  for (; p < kc; p++)
    for (ptrdiff_t i = 0; i < rows; i++) dst[p * rows + i] = src[i * ld + p];
}

static inline void interleave_f64(ptrdiff_t rows, ptrdiff_t kc, const double *src, ptrdiff_t ld,
                                  double *restrict dst) {
  ptrdiff_t p = 0;
#if defined(__x86_64__)
  for (; p + 8 <= kc; p += 8) {
    ptrdiff_t i = 0;
    for (; i + 2 <= rows; i += 2) {
      const double *s = src + i * ld + p;
      for (int q = 0; q < 8; q += 2) {
        __m128d r0 = _mm_loadu_pd(s + q), r1 = _mm_loadu_pd(s + ld + q);
        double *d = dst + (p + q) * rows + i;
        _mm_storeu_pd(d, _mm_unpacklo_pd(r0, r1));
        _mm_storeu_pd(d + rows, _mm_unpackhi_pd(r0, r1));
      }
    }
    for (; i < rows; i++)
      for (int q = 0; q < 8; q++) dst[(p + q) * rows + i] = src[i * ld + p + q];
  }
#endif
  for (; p < kc; p++)
    for (ptrdiff_t i = 0; i < rows; i++) dst[p * rows + i] = src[i * ld + p];
}

#define CAT2(a, b) a##_##b
#define CAT(a, b) CAT2(a, b)
#define FN(name) CAT(PREFIX, name)

// Each instantiation below picks the register tile (MR x NV vectors) from the register count,
// and cache blocks for a Zen 3 core (32 KiB L1d, 512 KiB L2 per core, 32 MiB L3):
//   KC: depth of a slice; a KC x NR micro-panel of B (16 KiB) fills half of L1, so it stays
//       there while the A micro-panels stream past it.
//   MC: rows of an A block; MC x KC (240 KiB) is about half of L2, leaving the rest for the B
//       micro-panels and C tiles passing through.
//   NC: columns of a B panel; KC x NC (2 MiB, twice for the double buffer) lives in L3.
// Each precision has its own values so the byte sizes stay the same.

// Portable instantiation: 16-byte GNU vectors lower to SSE2 on x86-64 and NEON on arm64; 16
// registers hold a 4 x 2-vector tile.
#define TARGET
#define MR 4
#define NV 2

#define PREFIX s_generic
#define T float
#define VL 4
#define KC 256
#define MC 240
#define NC 2048
#define INTERLEAVE interleave_f32
typedef float s_generic_v __attribute__((vector_size(16)));
#define V s_generic_v
#include "gemm_template.h"
#undef PREFIX
#undef T
#undef VL
#undef V
#undef KC
#undef MC
#undef NC
#undef INTERLEAVE

#define PREFIX d_generic
#define T double
#define VL 2
#define KC 256
#define MC 120
#define NC 1024
#define INTERLEAVE interleave_f64
typedef double d_generic_v __attribute__((vector_size(16)));
#define V d_generic_v
#include "gemm_template.h"
#undef PREFIX
#undef T
#undef VL
#undef V
#undef KC
#undef MC
#undef NC
#undef INTERLEAVE

#undef TARGET
#undef MR
#undef NV

#if defined(__x86_64__)
// AVX2 + FMA (Haswell and later, Zen 1-3): 16 ymm registers hold a 6 x 2-vector tile (6 x 16
// floats, 6 x 8 doubles, as in BLIS's Haswell kernels): 12 accumulators, 2 vectors of B and one
// broadcast of A. 12 independent FMA chains cover the 2 pipes x 4-5 cycles of FMA latency.
#define TARGET __attribute__((target("avx2,fma")))
#define MR 6
#define NV 2

#define PREFIX s_avx2
#define T float
#define VL 8
#define KC 256
#define MC 240
#define NC 2048
#define INTERLEAVE interleave_f32
typedef float s_avx2_v __attribute__((vector_size(32)));
#define V s_avx2_v
#include "gemm_template.h"
#undef PREFIX
#undef T
#undef VL
#undef V
#undef KC
#undef MC
#undef NC
#undef INTERLEAVE

#define PREFIX d_avx2
#define T double
#define VL 4
#define KC 256
#define MC 120
#define NC 1024
#define INTERLEAVE interleave_f64
typedef double d_avx2_v __attribute__((vector_size(32)));
#define V d_avx2_v
#include "gemm_template.h"
#undef PREFIX
#undef T
#undef VL
#undef V
#undef KC
#undef MC
#undef NC
#undef INTERLEAVE

#undef TARGET
#undef MR
#undef NV

// AVX-512 (Skylake-X and later, Zen 4/5): 32 zmm registers hold a 12 x 2-vector tile. The tile
// is twice as wide, so KC is halved to keep the B micro-panel at 16 KiB.
#define TARGET __attribute__((target("avx512f,fma")))
#define MR 12
#define NV 2

#define PREFIX s_avx512
#define T float
#define VL 16
#define KC 128
#define MC 480
#define NC 4096
#define INTERLEAVE interleave_f32
typedef float s_avx512_v __attribute__((vector_size(64)));
#define V s_avx512_v
#include "gemm_template.h"
#undef PREFIX
#undef T
#undef VL
#undef V
#undef KC
#undef MC
#undef NC
#undef INTERLEAVE

#define PREFIX d_avx512
#define T double
#define VL 8
#define KC 128
#define MC 240
#define NC 2048
#define INTERLEAVE interleave_f64
typedef double d_avx512_v __attribute__((vector_size(64)));
#define V d_avx512_v
#include "gemm_template.h"
#undef PREFIX
#undef T
#undef VL
#undef V
#undef KC
#undef MC
#undef NC
#undef INTERLEAVE

#undef TARGET
#undef MR
#undef NV
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
#define RUN(P)                                                                                  \
  do {                                                                                          \
    if (!blocked ||                                                                             \
        !P##_gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, threads, wait)) \
      P##_small(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);                 \
  } while (0)

#if defined(__x86_64__)
#define DISPATCH(S)                              \
  switch (isa) {                                 \
    case CR_GEMM_AVX512: RUN(S##_avx512); break; \
    case CR_GEMM_AVX2: RUN(S##_avx2); break;     \
    default: RUN(S##_generic); break;            \
  }
#else
#define DISPATCH(S) RUN(S##_generic)
#endif

#define DEFINE_GEMM(NAME, T, S, MIN_WORK)                                                         \
  int NAME##_isa(int isa, int threads, int transA, int transB, ptrdiff_t m, ptrdiff_t n,       \
                 ptrdiff_t k, T alpha, const T *a, ptrdiff_t lda, const T *b, ptrdiff_t ldb,      \
                 T beta, T *c, ptrdiff_t ldc) {                                                  \
    if (isa == CR_GEMM_AUTO) {                                                                  \
      isa = cr_gemm_default_isa();                                                               \
    } else if (!cr_gemm_isa_supported(isa)) {                                                    \
      return CR_GEMM_AUTO;                                                                       \
    }                                                                                            \
    if (m <= 0 || n <= 0) return isa;                                                            \
    if (alpha == 0 || k < 0) k = 0; /* C = beta * C; A and B are not read */                     \
    double work = (double)m * (double)n * (double)k;                                             \
    int blocked = k > 0 && work >= SMALL_WORK;                                                   \
    int wait = threads > 0; /* threads asked for: wait for the pool rather than go without */    \
    if (!blocked) {                                                                              \
      threads = 1; /* the unpacked loop runs on the calling thread */                            \
    } else {                                                                                     \
      int cores = cr_gemm_max_threads();                                                         \
      if (threads <= 0) {                                                                        \
        threads = cores;                                                                         \
        if (work < (double)threads * MIN_WORK) threads = (int)(work / MIN_WORK);                \
      }                                                                                          \
      if (threads > cores) threads = cores;                                                      \
      if (threads < 1) threads = 1;                                                              \
    }                                                                                            \
    DISPATCH(S);                                                                                 \
    return isa;                                                                                  \
  }                                                                                              \
  void NAME(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, T alpha, const T *a,  \
            ptrdiff_t lda, const T *b, ptrdiff_t ldb, T beta, T *c, ptrdiff_t ldc) {             \
    NAME##_isa(CR_GEMM_AUTO, 0, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);  \
  }

DEFINE_GEMM(cr_sgemm, float, s, MIN_WORK_PER_THREAD_F32)
DEFINE_GEMM(cr_dgemm, double, d, MIN_WORK_PER_THREAD_F64)
