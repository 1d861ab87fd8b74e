// Two builds of ChainRule's GEMM in one process (their entry points renamed old_* and new_* by
// ab.sh), timed alternately block by block on the same operands, so that both see the same
// minutes of a shared machine. Prints each build's median, 10th and 90th percentile, worst and
// mean time per step.
//
//   ab STEPS                 a W3 training step's five large products (batch 256, 784-1024-1024)
//   ab STEPS tA tB m n k     one product
//   W2=1 ab STEPS            a W2 step's two large products (batch 64, 784-128)
// Environment: BLOCK (steps per turn, default 1), ISA (2 AVX2, 3 AVX-512; default 2). Each
// build has its own worker pool, whose idle worker spins for 0.2 ms after its last product and
// takes a core from the other build meanwhile: for steps shorter than about a millisecond, use
// BLOCK=50. The same revision on both sides reads the same (0.063 / 0.064 ms for 300x200x100
// with BLOCK=50, 14.31 / 14.32 ms for the W3 products with BLOCK=1); with BLOCK=1 the short
// product read 0.152 / 0.079.
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void old_sgemm_isa(int, int, int, int, ptrdiff_t, ptrdiff_t, ptrdiff_t, float, const float *,
                   ptrdiff_t, const float *, ptrdiff_t, float, float *, ptrdiff_t);
void new_sgemm_isa(int, int, int, int, ptrdiff_t, ptrdiff_t, ptrdiff_t, float, const float *,
                   ptrdiff_t, const float *, ptrdiff_t, float, float *, ptrdiff_t);

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static int ascending(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

// Shapes as {transA, transB, m, n, k}: the forward products and the weight and input gradients.
static long w3[][5] = {{0, 0, 256, 1024, 784},
                       {0, 0, 256, 1024, 1024},
                       {1, 0, 1024, 1024, 256},
                       {0, 1, 256, 1024, 1024},
                       {1, 0, 784, 1024, 256}};
static long w2[][5] = {{0, 0, 64, 128, 784}, {1, 0, 784, 128, 64}};

int main(int argc, char **argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 100;
  int block = getenv("BLOCK") ? atoi(getenv("BLOCK")) : 1;
  int isa = getenv("ISA") ? atoi(getenv("ISA")) : 2;
  long(*shapes)[5] = getenv("W2") ? w2 : w3;
  int count = getenv("W2") ? 2 : 5;
  static long one[1][5];
  if (argc > 6) {
    for (int i = 0; i < 5; i++) one[0][i] = atol(argv[2 + i]);
    shapes = one;
    count = 1;
  }
  if (steps < 1 || block < 1) return 2;
  float *a[5], *b[5], *c[5];
  for (int s = 0; s < count; s++) {
    long m = shapes[s][2], n = shapes[s][3], k = shapes[s][4];
    a[s] = malloc(sizeof(float) * m * k);
    b[s] = malloc(sizeof(float) * k * n);
    c[s] = calloc(m * n, sizeof(float));
    if (!a[s] || !b[s] || !c[s]) return 1;
    for (long i = 0; i < m * k; i++) a[s][i] = (i % 7) * 0.1f;
    for (long i = 0; i < k * n; i++) b[s][i] = (i % 5) * 0.1f;
  }
  double *times[2] = {malloc(sizeof(double) * steps), malloc(sizeof(double) * steps)};
  for (int r = 0; r < 2 * steps; r++) {
    int build = (r / block) & 1, slot = r / (2 * block) * block + r % block;
    if (slot >= steps) continue;
    double start = now();
    for (int s = 0; s < count; s++) {
      int tA = (int)shapes[s][0], tB = (int)shapes[s][1];
      long m = shapes[s][2], n = shapes[s][3], k = shapes[s][4];
      (build ? new_sgemm_isa : old_sgemm_isa)(isa, 0, tA, tB, m, n, k, 1, a[s], tA ? m : k, b[s],
                                              tB ? k : n, 0, c[s], n);
    }
    times[build][slot] = now() - start;
  }
  for (int build = 0; build < 2; build++) {
    double sum = 0;
    for (int r = 0; r < steps; r++) sum += times[build][r];
    qsort(times[build], steps, sizeof(double), ascending);
    printf("%s: median %.3f ms  p10 %.3f  p90 %.3f  max %.2f  mean %.3f\n",
           build ? "new" : "old", times[build][steps / 2] * 1e3, times[build][steps / 10] * 1e3,
           times[build][steps * 9 / 10] * 1e3, times[build][steps - 1] * 1e3,
           sum / steps * 1e3);
  }
  return 0;
}
