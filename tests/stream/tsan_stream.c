/* Three threads on one stream, each in its role (doc/THREADING.md): a producer pushing
 * 10-sample chunks, a consumer pulling so slowly that the ring overflows and rows are
 * dropped while being read, a marker thread pushing markers and switching calibration.
 * In a ThreadSanitizer build (-Db_sanitize=thread) this is the race check; in every build
 * it checks that rows arrive in order and that rows read plus rows dropped account for
 * every row made. Exit status 0 on success. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <btfm/btfm.h>

enum { C = 8, SFREQ = 256, SECONDS = 40 };

static btfm_stream *s;
static float *x;
static volatile int producer_done;

static void *produce(void *arg)
{
    (void)arg;
    const int64_t n = (int64_t)SECONDS * SFREQ;
    for (int64_t i = 0; i < n; i += 10)
        if (btfm_stream_push(s, x + i * C, 10, C, NULL)) {
            fprintf(stderr, "push: %s\n", btfm_last_error());
            exit(1);
        }
    __atomic_store_n(&producer_done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void *markers(void *arg)
{
    (void)arg;
    for (int k = 0; k < 100 && !__atomic_load_n(&producer_done, __ATOMIC_ACQUIRE); k++) {
        double t = 1.0 + 0.3 * k;
        btfm_stream_push_marker(s, t, k, "m"); /* BTFM_E_RANGE once the producer is ahead */
        btfm_stream_set_calibration(s, k % 20 < 10);
    }
    return NULL;
}

int main(void)
{
    x = malloc(sizeof(float) * (size_t)SECONDS * SFREQ * C);
    for (int64_t i = 0; i < (int64_t)SECONDS * SFREQ * C; i++)
        x[i] = (float)(1e-5 * sin(0.37 * (double)i));
    if (btfm_stream_new(&s) || btfm_stream_set_param(s, BTFM_STREAM_PARAM_N_CHANNELS, C) ||
        btfm_stream_set_param(s, BTFM_STREAM_PARAM_SFREQ, SFREQ) ||
        btfm_stream_set_param(s, BTFM_STREAM_PARAM_CAPACITY, 3) ||
        btfm_stream_set_param(s, BTFM_STREAM_PARAM_HISTORY, 30) || btfm_stream_configure(s)) {
        fprintf(stderr, "configure: %s\n", btfm_last_error());
        return 1;
    }
    const int ncol = btfm_stream_n_columns(s);
    double *rows = malloc(sizeof(double) * 2 * (size_t)ncol);
    pthread_t producer, marker;
    pthread_create(&producer, NULL, produce, NULL);
    pthread_create(&marker, NULL, markers, NULL);
    int64_t n_read = 0;
    double last_window = -1;
    for (;;) {
        int done = __atomic_load_n(&producer_done, __ATOMIC_ACQUIRE);
        size_t got;
        if (btfm_stream_pull(s, rows, 2, &got)) return 1;
        for (size_t r = 0; r < got; r++) {
            const double *row = rows + r * (size_t)ncol;
            if (row[2] == BTFM_STREAM_ROW_WINDOW) {
                if (!(row[1] > last_window)) {
                    fprintf(stderr, "window rows out of order: %g after %g\n", row[1],
                            last_window);
                    return 1;
                }
                last_window = row[1];
            }
        }
        n_read += (int64_t)got;
        if (done && got == 0) break;
    }
    pthread_join(producer, NULL);
    pthread_join(marker, NULL);
    const int64_t windows = ((int64_t)SECONDS * SFREQ - SFREQ) / (SFREQ / 4) + 1;
    const int64_t dropped = btfm_stream_n_dropped(s);
    if (n_read + dropped < windows) {
        fprintf(stderr, "%lld rows read and %lld dropped; %lld windows were made\n",
                (long long)n_read, (long long)dropped, (long long)windows);
        return 1;
    }
    printf("%lld rows read, %lld dropped\n", (long long)n_read, (long long)dropped);
    btfm_stream_free(s);
    free(rows);
    free(x);
    return 0;
}
