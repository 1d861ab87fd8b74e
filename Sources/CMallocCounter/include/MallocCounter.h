#ifndef CHAINRULE_MALLOC_COUNTER_H
#define CHAINRULE_MALLOC_COUNTER_H

#include <stdint.h>

/// Number of heap allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc) made by
/// the process since it started. Linked only into the benchmark executable.
uint64_t cr_allocation_count(void);

/// Whether allocations are really counted (glibc); elsewhere the count stays 0.
int cr_allocation_counting_available(void);

#endif
