// Host probe for run.sh: how fast this core runs right now, printed as one JSON line.
//
// A virtual machine's core can be slowed by what runs on its host: a lower clock, or a busy
// sibling hardware thread sharing the core's execution units. Two loops tell these apart:
//   clock       a chain of dependent adds, one per cycle whatever the sibling does: cycles per ns;
//   throughput  four independent chains, which a quiet core runs about four adds per cycle (its
//               four integer ALUs, less the loop's own two instructions), and which a busy
//               sibling thread slows: adds per cycle.
// Each is timed over 20 slices of ~25 ms; the line gives the median and range of the slices.
//
//   cc -O2 host_probe.c -o host_probe && ./host_probe
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define SLICES 20

static double seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

// Adds per ns of one dependent chain (= the clock in GHz): 16 adds per iteration.
static double chain_rate(long iterations) {
  uint64_t x = 0;
  double start = seconds();
  for (long i = 0; i < iterations; i++) {
    __asm__ volatile(
        "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
        "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
        "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
        "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0"
        : "+r"(x));
  }
  return 16.0 * (double)iterations / (seconds() - start) / 1e9;
}

// Adds per ns of four independent chains: 16 adds per iteration.
static double parallel_rate(long iterations) {
  uint64_t a = 0, b = 0, c = 0, d = 0;
  double start = seconds();
  for (long i = 0; i < iterations; i++) {
    __asm__ volatile(
        "add $1, %0\n\tadd $1, %1\n\tadd $1, %2\n\tadd $1, %3\n\t"
        "add $1, %0\n\tadd $1, %1\n\tadd $1, %2\n\tadd $1, %3\n\t"
        "add $1, %0\n\tadd $1, %1\n\tadd $1, %2\n\tadd $1, %3\n\t"
        "add $1, %0\n\tadd $1, %1\n\tadd $1, %2\n\tadd $1, %3"
        : "+r"(a), "+r"(b), "+r"(c), "+r"(d));
  }
  return 16.0 * (double)iterations / (seconds() - start) / 1e9;
}

static int ascending(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

int main(void) {
#if defined(__x86_64__)
  double clock[SLICES], perCycle[SLICES];
  for (int s = 0; s < SLICES; s++) {
    clock[s] = chain_rate(5000000);                    // ~25 ms at 3.5 GHz
    perCycle[s] = parallel_rate(20000000) / clock[s];  // ~25 ms on a quiet core
  }
  qsort(clock, SLICES, sizeof clock[0], ascending);
  qsort(perCycle, SLICES, sizeof perCycle[0], ascending);
  printf("{\"probe\": \"host\", \"ghz\": %.2f, \"ghz_min\": %.2f, \"ghz_max\": %.2f, "
         "\"adds_per_cycle\": %.2f, \"adds_per_cycle_min\": %.2f, \"adds_per_cycle_max\": %.2f}\n",
         clock[SLICES / 2], clock[0], clock[SLICES - 1], perCycle[SLICES / 2], perCycle[0],
         perCycle[SLICES - 1]);
  return 0;
#else
  printf("{\"probe\": \"host\", \"error\": \"the probe's loops are x86-64 assembly\"}\n");
  return 0;
#endif
}
