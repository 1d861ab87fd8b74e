#ifndef CHAINRULE_MALLOC_COUNTER_H
#define CHAINRULE_MALLOC_COUNTER_H

#include <stdint.h>

/// Number of heap allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc) made by
/// the process since it started. Linked into the benchmark executable and the test bundle.
uint64_t cr_allocation_count(void);

/// The same count for the calling thread only: a test measures its own code while other tests
/// run on other threads.
uint64_t cr_thread_allocation_count(void);

/// Whether allocations are really counted (glibc, no sanitizer); elsewhere the counts stay 0.
int cr_allocation_counting_available(void);

#endif
