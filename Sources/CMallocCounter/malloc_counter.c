// Counts heap allocations by interposing glibc's allocator entry points, the way malloc
// interposers in benchmark harnesses do. The benchmark executable and the test bundle link
// this target. Under a sanitizer, whose runtime owns malloc, nothing is interposed.
#include "MallocCounter.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define CR_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CR_SANITIZED 1
#endif

#if defined(__GLIBC__) && !defined(CR_SANITIZED)
#include <stddef.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);

static uint64_t allocations;
// Initial-exec TLS: reading it never allocates (no lazy TLS block), even from inside malloc.
static __thread uint64_t thread_allocations __attribute__((tls_model("initial-exec")));

static inline void count_one(void) {
  __atomic_fetch_add(&allocations, 1, __ATOMIC_RELAXED);
  thread_allocations += 1;
}

void *malloc(size_t size) {
  count_one();
  return __libc_malloc(size);
}

void *calloc(size_t count, size_t size) {
  count_one();
  return __libc_calloc(count, size);
}

void *realloc(void *pointer, size_t size) {
  count_one();
  return __libc_realloc(pointer, size);
}

int posix_memalign(void **result, size_t alignment, size_t size) {
  count_one();
  void *pointer = __libc_memalign(alignment, size);
  if (pointer == NULL) return 12;  // ENOMEM
  *result = pointer;
  return 0;
}

void *aligned_alloc(size_t alignment, size_t size) {
  count_one();
  return __libc_memalign(alignment, size);
}

uint64_t cr_allocation_count(void) { return __atomic_load_n(&allocations, __ATOMIC_RELAXED); }
uint64_t cr_thread_allocation_count(void) { return thread_allocations; }
int cr_allocation_counting_available(void) { return 1; }
#else
uint64_t cr_allocation_count(void) { return 0; }
uint64_t cr_thread_allocation_count(void) { return 0; }
int cr_allocation_counting_available(void) { return 0; }
#endif
