/* CoTHB speed and memory: median time of one next + add_node + observe cycle with 10,000
 * nodes in the tree, against the 1 microsecond budget of the issue (the "reference" here
 * is that budget: ratio = median / 1000 ns), plus bytes per node and the allocations
 * made while stepping (amortized growth only).
 *
 *   bench_cothb [NODES] [CYCLES]      (defaults 10000 and 20000) */
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

/* One host cycle: ask, add the node if asked, observe a random reliability. */
static int cycle(btfm_cothb *c)
{
    int action;
    int64_t node, id;
    if (btfm_cothb_next(c, &action, &node, NULL)) return -1;
    if (action == BTFM_COTHB_STOP || action == BTFM_COTHB_ANSWER) return 1;
    if (action <= BTFM_COTHB_DECOMPOSE) {
        if (btfm_cothb_add_node(c, node, &id)) return -1;
        double s[1] = {uniform()};
        if (btfm_cothb_observe(c, id, s, 1)) return -1;
    }
    return 0;
}

static int measure(int trace, long nodes, long cycles)
{
    btfm_cothb *c;
    if (btfm_cothb_new(&c)) return 1;
    btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MAX_STEPS, 1e12);
    btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MAX_NODES, 1e12);
    btfm_cothb_set_param(c, BTFM_COTHB_PARAM_TRACE, trace);
    while (btfm_cothb_node_count(c) < nodes)
        if (cycle(c)) return fprintf(stderr, "bench_cothb: %s\n", btfm_last_error()), 1;
    enum { BATCH = 100 };
    long batches = cycles / BATCH;
    double *per_cycle = malloc(sizeof(double) * (size_t)batches);
    long allocs_before = allocations;
    int64_t nodes_before = btfm_cothb_node_count(c);
    for (long b = 0; b < batches; b++) {
        double t0 = now_ns();
        for (int i = 0; i < BATCH; i++)
            if (cycle(c)) return fprintf(stderr, "bench_cothb: %s\n", btfm_last_error()), 1;
        per_cycle[b] = (now_ns() - t0) / BATCH;
    }
    qsort(per_cycle, (size_t)batches, sizeof *per_cycle, by_value);
    double median = per_cycle[batches / 2];
    printf("trace %-3s  nodes %6lld -> %6lld  median %7.1f ns/cycle  (budget 1000 ns, "
           "ratio %.3f)  allocations during %ld cycles: %ld\n", trace ? "on" : "off",
           (long long)nodes_before, (long long)btfm_cothb_node_count(c), median,
           median / 1000.0, cycles, allocations - allocs_before);
    free(per_cycle);
    btfm_cothb_free(c);
    return 0;
}

int main(int argc, char **argv)
{
    long nodes = argc > 1 ? atol(argv[1]) : 10000, cycles = argc > 2 ? atol(argv[2]) : 20000;
    if (nodes < 2 || cycles < 100) {
        fprintf(stderr, "usage: bench_cothb [NODES >= 2] [CYCLES >= 100]\n");
        return 2;
    }
    btfm_set_allocator(count_malloc, count_realloc, count_free, NULL);
    printf("cothb: %zu bytes per node (node record; the trace adds about 3 x 88 bytes per "
           "cycle when on)\n", btfm_cothb_node_bytes());
    return measure(0, nodes, cycles) || measure(1, nodes, cycles);
}
