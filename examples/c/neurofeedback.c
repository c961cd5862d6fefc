/* A terminal neurofeedback display: a recording replayed at its own pace by an
 * "acquisition" thread into a stream, while the main thread pulls each window and draws a
 * bar following posterior alpha power, z-scored against the first 10 s (the calibration).
 * neurofeedback [RECORDING [--fast]]: without a recording it simulates one (a short
 * rating session); --fast replays as fast as possible (the tests run it so). */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <btfm/btfm.h>

static int fail(const char *what)
{
    fprintf(stderr, "neurofeedback: %s: %s\n", what, btfm_last_error());
    return 1;
}

typedef struct replay {
    btfm_stream *stream;
    btfm_dataset *ds;
    int fast;
    volatile int done;
} replay;

/* The acquisition thread: 40 ms chunks, each pushed when its last sample would have been
 * recorded (as an amplifier delivers them). */
static void *acquire(void *arg)
{
    replay *r = arg;
    const int C = btfm_dataset_n_channels(r->ds);
    const double sfreq = btfm_dataset_sfreq(r->ds);
    const int64_t n = btfm_dataset_n_times(r->ds), chunk = (int64_t)(0.04 * sfreq);
    float *x = malloc(sizeof(float) * (size_t)(chunk * C));
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int64_t i = 0; x && i < n; i += chunk) {
        int64_t len = n - i < chunk ? n - i : chunk;
        if (btfm_dataset_read(r->ds, i, len, NULL, 0, x)) break;
        if (!r->fast) {
            double t = (double)(i + len) / sfreq;
            struct timespec due = {start.tv_sec + (time_t)t,
                                   start.tv_nsec + (long)((t - floor(t)) * 1e9)};
            if (due.tv_nsec >= 1000000000L) due.tv_sec++, due.tv_nsec -= 1000000000L;
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL);
        }
        while (btfm_stream_push(r->stream, x, len, C, NULL) == BTFM_E_AGAIN) usleep(1000);
    }
    free(x);
    __atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void draw(double z, double time, int tty)
{
    char bar[41];
    int n = isfinite(z) ? (int)lround(20 + 6 * z) : 0; /* 20 = the calibration mean */
    n = n < 0 ? 0 : n > 40 ? 40 : n;
    memset(bar, '#', (size_t)n);
    memset(bar + n, ' ', (size_t)(40 - n));
    bar[40] = 0;
    if (isfinite(z))
        printf(tty ? "\r%7.2f s [%s] alpha z %+5.2f" : "%7.2f s [%s] alpha z %+5.2f\n", time, bar, z);
    else
        printf(tty ? "\r%7.2f s [%s] calibrating " : "%7.2f s [%s] calibrating\n", time, bar);
    fflush(stdout);
}

static int run(const char *path, int fast)
{
    replay r = {NULL, NULL, fast, 0};
    if (btfm_dataset_open(&r.ds, path, 0, 0)) return fail(path);
    const int C = btfm_dataset_n_channels(r.ds);
    int posterior[8], n_post = 0;
    const char *wanted[] = {"Pz", "P3", "P4", "POz", "O1", "Oz", "O2"};
    for (int c = 0; c < C; c++)
        for (size_t k = 0; k < sizeof wanted / sizeof wanted[0]; k++)
            if (strcmp(btfm_dataset_channel_name(r.ds, c), wanted[k]) == 0) posterior[n_post++] = c;
    if (n_post == 0) posterior[n_post++] = 0;
    if (btfm_stream_new(&r.stream) ||
        btfm_stream_set_param(r.stream, BTFM_STREAM_PARAM_N_CHANNELS, C) ||
        btfm_stream_set_param(r.stream, BTFM_STREAM_PARAM_SFREQ, btfm_dataset_sfreq(r.ds)) ||
        btfm_stream_set_param(r.stream, BTFM_STREAM_PARAM_OVERFLOW, BTFM_STREAM_REFUSE) ||
        btfm_stream_set_picks(r.stream, posterior, n_post) ||
        btfm_stream_set_role(r.stream, BTFM_STREAM_ROLE_POSTERIOR, posterior, n_post) ||
        btfm_stream_configure(r.stream))
        return fail("stream");
    const int ncol = btfm_stream_n_columns(r.stream);
    const int col_z = btfm_stream_find_column(r.stream, "z:posterior_alpha");
    double *rows = malloc(sizeof(double) * 16 * (size_t)ncol);
    btfm_stream_set_calibration(r.stream, 1);
    pthread_t thread;
    pthread_create(&thread, NULL, acquire, &r);
    const int tty = isatty(1);
    int64_t n_windows = 0;
    for (;;) {
        int done = __atomic_load_n(&r.done, __ATOMIC_ACQUIRE);
        size_t n;
        btfm_stream_pull(r.stream, rows, 16, &n);
        for (size_t i = 0; i < n; i++) {
            const double *row = rows + i * (size_t)ncol;
            if (row[2] != BTFM_STREAM_ROW_WINDOW) continue;
            if (++n_windows == 37) btfm_stream_set_calibration(r.stream, 0); /* 10 s */
            draw(row[col_z], row[0], tty);
        }
        if (done && n == 0) break;
        if (n == 0) usleep(fast ? 100 : 10000);
    }
    pthread_join(thread, NULL);
    printf("%s%lld windows\n", tty ? "\n" : "", (long long)n_windows);
    free(rows);
    btfm_stream_free(r.stream);
    btfm_dataset_free(r.ds);
    return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

int main(int argc, char **argv)
{
    int fast = argc > 2 && strcmp(argv[2], "--fast") == 0;
    if (argc > 1 && strcmp(argv[1], "--fast") != 0) return run(argv[1], fast);
    /* no recording given: a short simulated one (one reader, 20 items) */
    char tmp[] = "/tmp/neurofeedback-XXXXXX", root[256], path[320];
    if (!mkdtemp(tmp)) return 1;
    snprintf(root, sizeof root, "%s/session", tmp);
    btfm_sim *sim;
    if (btfm_sim_new(&sim, BTFM_OBJECT_SIM_RATING_SESSION)) return fail("sim");
    btfm_sim_set_param(sim, BTFM_SIM_RATING_N_ANNOTATORS, 1);
    btfm_sim_set_param(sim, BTFM_SIM_RATING_N_ITEMS, 20);
    btfm_sim_set_param(sim, BTFM_SIM_RATING_N_CHANNELS, 16);
    int st = btfm_sim_rating_session(sim, root);
    btfm_sim_free(sim);
    if (st) return fail("sim");
    snprintf(path, sizeof path, "%s/sub-01/eeg/sub-01_task-rating_eeg.edf", root);
    int rc = run(path, argc > 1); /* "neurofeedback --fast" */
    nftw(tmp, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return rc;
}
