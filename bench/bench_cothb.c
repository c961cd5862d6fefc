/* CoTHB speed and memory: median time of one next + add_node + observe cycle, with the
 * current path at depth 20, 200, 2,000 and 10,000 (a chain grown first, then random
 * reliabilities that make the controller branch, decompose and retrieve there), against
 * a budget of 1 microsecond a cycle (ratio = median / 1000 ns); bytes per node and the
 * allocations made while stepping (amortized growth only).
 *
 *   bench_cothb [CYCLES]      (default 20000) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <btfm/btfm.h>

static long allocations;

static void *count_malloc(size_t size, void *user) { (void)user; allocations++; return malloc(size); }
static void *count_realloc(void *p, size_t size, void *user)
{
    (void)user;
    allocations++;
    return realloc(p, size);
}
static void count_free(void *p, void *user) { (void)user; free(p); }

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static uint64_t rng = 42;
static double uniform(void)
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng >> 11) * 0x1.0p-53;
}

/* One host cycle: ask, add the node if asked, observe a reliability (random, or
 * `fixed` when it is not negative). */
static int cycle(btfm_cothb *c, double fixed)
{
    int action;
    int64_t node, id;
    if (btfm_cothb_next(c, &action, &node, NULL)) return -1;
    if (action == BTFM_COTHB_STOP || action == BTFM_COTHB_ANSWER) return 1;
    if (action <= BTFM_COTHB_DECOMPOSE) {
        if (btfm_cothb_add_node(c, node, &id)) return -1;
        double s[1] = {fixed >= 0 ? fixed : uniform()};
        if (btfm_cothb_observe(c, id, s, 1)) return -1;
    }
    return 0;
}

static int measure(int trace, int policy, long depth, long cycles)
{
    btfm_cothb *c;
    if (btfm_cothb_new(&c)) return 1;
    btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MAX_STEPS, 1e12);
    btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MAX_NODES, 1e12);
    btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MAX_DEPTH, 1e9);
    btfm_cothb_set_param(c, BTFM_COTHB_PARAM_TRACE, trace);
    btfm_cothb_set_param(c, BTFM_COTHB_PARAM_POLICY, policy);
    for (long d = 0; d < depth; d++)
        if (cycle(c, 0.95)) return fprintf(stderr, "bench_cothb: %s\n", btfm_last_error()), 1;
    enum { BATCH = 100 };
    long batches = cycles / BATCH;
    double *per_cycle = malloc(sizeof(double) * (size_t)batches);
    long allocs_before = allocations;
    int64_t nodes_before = btfm_cothb_node_count(c);
    for (long b = 0; b < batches; b++) {
        double t0 = now_ns();
        for (int i = 0; i < BATCH; i++)
            if (cycle(c, -1)) return fprintf(stderr, "bench_cothb: %s\n", btfm_last_error()), 1;
        per_cycle[b] = (now_ns() - t0) / BATCH;
    }
    int64_t current;
    int current_depth;
    btfm_cothb_progress(c, &current, NULL, NULL);
    btfm_cothb_node_info(c, current, NULL, NULL, NULL, &current_depth, NULL);
    qsort(per_cycle, (size_t)batches, sizeof *per_cycle, by_value);
    double median = per_cycle[batches / 2], best = per_cycle[0];
    printf("policy %d  trace %-3s  depth %6ld (at the end %6d)  nodes %6lld -> %6lld  "
           "best %7.1f  median %7.1f ns/cycle  (ratio to 1000 ns %.3f)  allocations %ld\n",
           policy, trace ? "on" : "off", depth, current_depth, (long long)nodes_before,
           (long long)btfm_cothb_node_count(c), best, median, median / 1000.0,
           allocations - allocs_before);
    free(per_cycle);
    btfm_cothb_free(c);
    return 0;
}

int main(int argc, char **argv)
{
    long cycles = argc > 1 ? atol(argv[1]) : 20000;
    if (cycles < 100) {
        fprintf(stderr, "usage: bench_cothb [CYCLES >= 100]\n");
        return 2;
    }
    btfm_set_allocator(count_malloc, count_realloc, count_free, NULL);
    printf("cothb: %zu bytes per node (node record; the trace adds about 3 x %d bytes per "
           "cycle when on)\n", btfm_cothb_node_bytes(), 88);
    static const long depths[] = {20, 200, 2000, 10000};
    for (int trace = 0; trace <= 1; trace++)
        for (size_t k = 0; k < sizeof depths / sizeof depths[0]; k++)
            if (measure(trace, 0, depths[k], cycles)) return 1;
    return 0;
}
