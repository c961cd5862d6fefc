/* Real-time stream latency (doc/streaming.md): 64 channels at 1000 Hz pushed in 10-sample
 * chunks through band-pass + notch + common average + 4 band powers per 250 ms hop + a
 * reward head; the time from a push's call to its row being ready, and the sustained
 * throughput. Prints one JSON line per run; bench_stream.py runs it beside a NumPy/SciPy
 * loop. Usage: bench_stream [SECONDS] [RUNS] */
#define _GNU_SOURCE /* RUSAGE_THREAD */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <btfm/btfm.h>

enum { C = 64, SFREQ = 1000, CHUNK = 10, N_BANDS = 4 };

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Minor page faults and involuntary context switches of this thread so far: what a slow
 * push met (first touch of memory, the scheduler running another process). */
static void usage_now(long *faults, long *switches)
{
    struct rusage u;
    getrusage(RUSAGE_THREAD, &u);
    *faults = u.ru_minflt + u.ru_majflt;
    *switches = u.ru_nivcsw;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double quantile(double *v, size_t n, double q)
{
    qsort(v, n, sizeof *v, cmp);
    return v[(size_t)(q * (double)(n - 1) + 0.5)];
}

static void fail(const char *what)
{
    fprintf(stderr, "bench_stream: %s: %s\n", what, btfm_last_error());
    exit(1);
}

/* A head fitted with normalize 0 on features with the stream's shape (bands x channels),
 * brain-only: a real reward head, fitted on random data. */
static btfm_reward_head *make_head(void)
{
    enum { N = 240, D = N_BANDS * C };
    float *x = malloc(sizeof(float) * N * D), ratings[N];
    int64_t who[N];
    unsigned seed = 7;
    for (int i = 0; i < N; i++) {
        double sum = 0;
        for (int j = 0; j < D; j++) {
            seed = seed * 1103515245u + 12345u;
            x[i * D + j] = (float)((seed >> 8) / 16777216.0);
            if (j < 8) sum += x[i * D + j];
        }
        ratings[i] = (float)sum;
        who[i] = i % 4;
    }
    btfm_reward_head *h = NULL;
    if (btfm_reward_head_new(&h, BTFM_REWARD_JOINT) ||
        btfm_reward_head_set_param(h, BTFM_REWARD_PARAM_NORMALIZE, 0) ||
        btfm_reward_head_set_param(h, BTFM_REWARD_PARAM_FOLDS, 4) ||
        btfm_reward_head_set_ratings(h, ratings, NULL, N) ||
        btfm_reward_head_fit(h, x, N, D, who))
        fail("reward head");
    free(x);
    return h;
}

int main(int argc, char **argv)
{
    const double seconds = argc > 1 ? atof(argv[1]) : 30;
    const int runs = argc > 2 ? atoi(argv[2]) : 1;
    const int64_t n = (int64_t)(seconds * SFREQ);
    float *x = malloc(sizeof(float) * (size_t)n * C);
    unsigned seed = 1;
    for (int64_t i = 0; i < n * C; i++) {
        seed = seed * 1103515245u + 12345u;
        x[i] = (float)(1e-5 * ((seed >> 8) / 16777216.0 - 0.5) +
                       2e-5 * sin(2 * M_PI * 10 * (double)(i / C) / SFREQ));
    }
    btfm_reward_head *head = make_head();
    const int64_t n_pushes = n / CHUNK;
    double *all = malloc(sizeof(double) * (size_t)n_pushes);
    double *with_row = malloc(sizeof(double) * (size_t)n_pushes);
    for (int run = 0; run < runs; run++) {
        btfm_stream *s = NULL;
        if (btfm_stream_new(&s) || btfm_stream_set_param(s, BTFM_STREAM_PARAM_N_CHANNELS, C) ||
            btfm_stream_set_param(s, BTFM_STREAM_PARAM_SFREQ, SFREQ) ||
            btfm_stream_set_param(s, BTFM_STREAM_PARAM_NOTCH, 50) ||
            btfm_stream_set_param(s, BTFM_STREAM_PARAM_REFERENCE, BTFM_STREAM_REFERENCE_AVERAGE) ||
            btfm_stream_set_reward_head(s, head) || btfm_stream_configure(s))
            fail("configure");
        const int ncol = btfm_stream_n_columns(s);
        double *rows = calloc(4 * (size_t)ncol, sizeof(double));
        memset(rows, 0, sizeof(double) * 4 * (size_t)ncol); /* a host's buffer, in use */
        size_t n_all = 0, n_row = 0, got;
        double busy = 0;
        /* rows slower than 50 us, and how many of them met a page fault or a switch */
        long slow = 0, slow_fault = 0, slow_switch = 0, faults = 0, switches = 0;
        for (int64_t p = 0; p < n_pushes; p++) {
            long f0, s0, f1, s1;
            usage_now(&f0, &s0);
            double t0 = now();
            if (btfm_stream_push(s, x + p * CHUNK * C, CHUNK, C, NULL)) fail("push");
            if (btfm_stream_pull(s, rows, 4, &got)) fail("pull");
            double dt = now() - t0;
            usage_now(&f1, &s1);
            faults += f1 - f0;
            switches += s1 - s0;
            busy += dt;
            all[n_all++] = dt;
            if (got) with_row[n_row++] = dt;
            if (got && dt > 50e-6) {
                if (getenv("BENCH_STREAM_TRACE"))
                    fprintf(stderr, "row %zu: %.1f us\n", n_row - 1, 1e6 * dt);
                slow++;
                slow_fault += f1 > f0;
                slow_switch += s1 > s0;
            }
        }
        double reward = rows[btfm_stream_find_column(s, "reward:reward")];
        printf("{\"run\": %d, \"pushes\": %zu, \"rows\": %zu, \"p50_row_us\": %.2f, "
               "\"p99_row_us\": %.2f, \"max_row_us\": %.2f, \"p50_push_us\": %.2f, "
               "\"p99_push_us\": %.2f, \"channel_samples_per_s\": %.4g, \"reward\": %.4g, "
               "\"faults\": %ld, \"switches\": %ld, \"rows_over_50us\": %ld, "
               "\"of_them_faulted\": %ld, \"of_them_switched\": %ld}\n",
               run, n_all, n_row, 1e6 * quantile(with_row, n_row, 0.5),
               1e6 * quantile(with_row, n_row, 0.99), 1e6 * quantile(with_row, n_row, 1.0),
               1e6 * quantile(all, n_all, 0.5), 1e6 * quantile(all, n_all, 0.99),
               (double)n * C / busy, reward, faults, switches, slow, slow_fault, slow_switch);
        fflush(stdout);
        free(rows);
        btfm_stream_free(s);
    }
    btfm_reward_head_free(head);
    free(all);
    free(with_row);
    free(x);
    return 0;
}
