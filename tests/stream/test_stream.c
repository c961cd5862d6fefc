/* The real-time stream against the library's offline functions on the whole recording
 * (sosfilt, rereference, Welch, band power, epochs, ERP means) for chunks of any size;
 * no allocation after configuration; bad input; overflow policies; a producer and a
 * consumer thread. SciPy is the independent truth in test_stream_scipy.py. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include "../common/unit.h"

enum { C = 5, SFREQ = 256 };
static const double bands[] = {1, 4, 4, 8, 8, 13, 13, 30};
static const double erp_windows[] = {0.1, 0.2, 0.3, 0.5};

/* A deterministic test signal: 10 Hz alpha, a 50 Hz hum, a DC offset and noise. */
static float *make_signal(int64_t n)
{
    float *x = malloc(sizeof(float) * (size_t)n * C);
    uint64_t state = 12345;
    for (int64_t t = 0; t < n; t++)
        for (int c = 0; c < C; c++) {
            state = state * 6364136223846793005ULL + 1442695040888963407ULL;
            double noise = ((double)(state >> 11) / 9007199254740992.0 - 0.5) * 20e-6;
            double tt = (double)t / SFREQ;
            x[t * C + c] = (float)(1e-3 * c + 10e-6 * (c + 1) * sin(2 * M_PI * 10 * tt + c) +
                                   5e-6 * sin(2 * M_PI * 50 * tt) + noise +
                                   4e-6 * sin(2 * M_PI * 6 * tt));
        }
    return x;
}

/* The tests' stream: 1-40 Hz + 50 Hz notch, CAR, two ERP windows, an optional reward head. */
static btfm_stream *make_stream_with(int overflow, int capacity, const btfm_reward_head *head)
{
    btfm_stream *s = NULL;
    ck_assert_ok(btfm_stream_new(&s));
    ck_assert_ok(btfm_stream_set_param(s, BTFM_STREAM_PARAM_N_CHANNELS, C));
    ck_assert_ok(btfm_stream_set_param(s, BTFM_STREAM_PARAM_SFREQ, SFREQ));
    ck_assert_ok(btfm_stream_set_param(s, BTFM_STREAM_PARAM_NOTCH, 50));
    ck_assert_ok(btfm_stream_set_param(s, BTFM_STREAM_PARAM_REFERENCE,
                                       BTFM_STREAM_REFERENCE_AVERAGE));
    ck_assert_ok(btfm_stream_set_param(s, BTFM_STREAM_PARAM_OVERFLOW, overflow));
    ck_assert_ok(btfm_stream_set_param(s, BTFM_STREAM_PARAM_CAPACITY, capacity));
    ck_assert_ok(btfm_stream_set_erp_windows(s, erp_windows, 2));
    if (head) ck_assert_ok(btfm_stream_set_reward_head(s, head));
    ck_assert_ok(btfm_stream_configure(s));
    return s;
}

static btfm_stream *make_stream(int overflow, int capacity)
{
    return make_stream_with(overflow, capacity, NULL);
}

/* The offline pipeline: the same cascade over the whole signal, CAR, then per window
 * Welch and band power; per marker an epoch and its ERP means. */
static void offline(const float *x, int64_t n, double *power, int64_t n_windows,
                    const int64_t *markers, int n_markers, double *erp)
{
    double sos[5 * 6];
    ck_assert_ok(btfm_butter(4, BTFM_FILTER_BANDPASS, 1, 40, SFREQ, sos, 24));
    ck_assert_ok(btfm_iirnotch(50, 30, SFREQ, sos + 24));
    float *y = malloc(sizeof(float) * (size_t)n * C);
    ck_assert_ok(btfm_sosfilt(sos, 5, x, n, C, NULL, 0, y));
    int refs[C];
    for (int c = 0; c < C; c++) refs[c] = c;
    ck_assert_ok(btfm_rereference(y, n, C, refs, C, NULL, 0, 0, y));
    btfm_welch_plan *plan = NULL;
    ck_assert_ok(btfm_welch_plan_new(&plan));
    ck_assert_ok(btfm_welch_plan_set_param(plan, BTFM_WELCH_PARAM_NPERSEG, 128));
    ck_assert_ok(btfm_welch_plan_set_param(plan, BTFM_WELCH_PARAM_NOVERLAP, 64));
    double psd[65 * C], freqs[65];
    for (int64_t w = 0; w < n_windows; w++) {
        const int64_t end = 256 + 64 * w;
        ck_assert_ok(btfm_welch_plan_run(plan, psd, freqs, y + (end - 256) * C, 256, C, SFREQ));
        ck_assert_ok(btfm_band_power(psd, freqs, 65, C, bands, 4, 0, power + w * 4 * C));
    }
    btfm_welch_plan_free(plan);
    const int64_t T = btfm_epochs_n_times(-0.2, 0.8, SFREQ);
    float *epochs = malloc(sizeof(float) * (size_t)(T * C * n_markers));
    int64_t kept;
    ck_assert_ok(btfm_epochs(y, n, C, SFREQ, markers, n_markers, -0.2, 0.8, -INFINITY, 0, NULL,
                             0, epochs, &kept, NULL, NULL));
    ck_assert_int_eq(kept, n_markers);
    for (int w = 0; w < 2; w++) {
        double a[64 * C];
        ck_assert_ok(btfm_erp_mean_amplitude(epochs, n_markers, T, C, SFREQ, -0.2,
                                             erp_windows[2 * w], erp_windows[2 * w + 1], 0, a));
        for (int m = 0; m < n_markers; m++)
            for (int c = 0; c < C; c++) erp[(m * 2 + w) * C + c] = a[m * C + c];
    }
    free(epochs);
    free(y);
}

static double max_rel(const double *a, const double *b, int64_t n)
{
    double worst = 0, scale = 0;
    for (int64_t i = 0; i < n; i++) scale = fmax(scale, fabs(b[i]));
    for (int64_t i = 0; i < n; i++) worst = fmax(worst, fabs(a[i] - b[i]) / fmax(fabs(b[i]), 1e-3 * scale));
    return worst;
}

START_TEST(test_equivalence_chunks)
{
    const int64_t n = UNIT_SIZE(6 * SFREQ, 3 * SFREQ);
    const int64_t n_windows = (n - 256) / 64 + 1;
    float *x = make_signal(n);
    const int64_t markers[] = {100, 333, 512};
    double *power = malloc(sizeof(double) * (size_t)n_windows * 4 * C), erp[3 * 2 * C];
    offline(x, n, power, n_windows, markers, 3, erp);
    const int64_t chunks[] = {1, 7, 13, 251, 300, 1000};
    for (size_t k = 0; k < sizeof chunks / sizeof chunks[0]; k++) {
        btfm_stream *s = make_stream(BTFM_STREAM_REFUSE, 64);
        const int ncol = btfm_stream_n_columns(s);
        const int col_theta = btfm_stream_find_column(s, "theta:0");
        const int col_erp = btfm_stream_find_column(s, "erp0:0");
        ck_assert_int_eq(col_erp - col_theta, 3 * C);
        for (int m = 0; m < 3; m++)
            ck_assert_ok(btfm_stream_push_marker(s, (double)markers[m] / SFREQ, 10 + m, "stim"));
        double *rows = malloc(sizeof(double) * 64 * (size_t)ncol);
        double *got = malloc(sizeof(double) * (size_t)n_windows * 4 * C), got_erp[3 * 2 * C];
        int64_t n_win = 0, n_ep = 0;
        for (int64_t i = 0; i < n; i += chunks[k]) {
            int64_t len = n - i < chunks[k] ? n - i : chunks[k];
            ck_assert_ok(btfm_stream_push(s, x + i * C, len, C, NULL));
            size_t got_rows;
            ck_assert_ok(btfm_stream_pull(s, rows, 64, &got_rows));
            for (size_t r = 0; r < got_rows; r++) {
                const double *row = rows + r * ncol;
                if (row[2] == BTFM_STREAM_ROW_WINDOW) {
                    ck_assert_int_eq((int64_t)row[1], 255 + 64 * n_win);
                    ck_assert_double_eq_tol(row[0], (255.0 + 64 * n_win) / SFREQ, 1e-12);
                    ck_assert_int_eq((int)row[4], 0);
                    memcpy(got + n_win * 4 * C, row + btfm_stream_find_column(s, "delta:0"),
                           sizeof(double) * 4 * C);
                    n_win++;
                } else {
                    ck_assert_int_eq((int64_t)row[1], markers[n_ep]);
                    ck_assert_int_eq((int)row[3], 10 + (int)n_ep);
                    memcpy(got_erp + n_ep * 2 * C, row + col_erp, sizeof(double) * 2 * C);
                    n_ep++;
                }
            }
        }
        ck_assert_int_eq(n_win, n_windows);
        ck_assert_int_eq(n_ep, 3);
        double e1 = max_rel(got, power, n_windows * 4 * C), e2 = max_rel(got_erp, erp, 3 * 2 * C);
        ck_assert_msg(e1 < 1e-5, "chunks of %lld: band power relative error %g",
                      (long long)chunks[k], e1);
        ck_assert_msg(e2 < 1e-5, "chunks of %lld: ERP relative error %g", (long long)chunks[k], e2);
        free(rows);
        free(got);
        btfm_stream_free(s);
    }
    free(power);
    free(x);
}
END_TEST

static long n_mallocs;
static void *count_malloc(size_t size, void *user)
{
    (void)user;
    __atomic_add_fetch(&n_mallocs, 1, __ATOMIC_RELAXED);
    return malloc(size);
}
static void *count_realloc(void *p, size_t size, void *user)
{
    (void)user;
    __atomic_add_fetch(&n_mallocs, 1, __ATOMIC_RELAXED);
    return realloc(p, size);
}
static void count_free(void *p, void *user)
{
    (void)user;
    free(p);
}

START_TEST(test_no_allocation)
{
    ck_assert_ok(btfm_set_allocator(count_malloc, count_realloc, count_free, NULL));
    const int64_t n = 4 * SFREQ;
    float *x = make_signal(n);
    x[500 * C + 1] = NAN; /* the gap path too */
    btfm_stream *s = make_stream(BTFM_STREAM_DROP_OLDEST, 8);
    ck_assert_ok(btfm_stream_set_calibration(s, 1));
    const int ncol = btfm_stream_n_columns(s);
    double *rows = malloc(sizeof(double) * 8 * (size_t)ncol);
    const long before = n_mallocs;
    ck_assert_ok(btfm_stream_push_marker(s, 1.5, 1, "a marker label longer than 31 bytes"));
    size_t got, total = 0;
    for (int64_t i = 0; i < n; i += 10) {
        ck_assert_ok(btfm_stream_push(s, x + i * C, n - i < 10 ? n - i : 10, C, NULL));
        if (i == 2000) ck_assert_ok(btfm_stream_set_calibration(s, 0));
        ck_assert_ok(btfm_stream_pull(s, rows, 8, &got));
        total += got;
    }
    ck_assert_int_eq(n_mallocs - before, 0);
    ck_assert_int_eq(total, (n - 256) / 64 + 1 + 1);
    btfm_stream_free(s);
    free(rows);
    free(x);
    ck_assert_int_eq(btfm_live_allocations(), 0);
    ck_assert_ok(btfm_set_allocator(NULL, NULL, NULL, NULL));
}
END_TEST

START_TEST(test_bad_input)
{
    const int64_t n = 6 * SFREQ;
    float *x = make_signal(n);
    btfm_stream *s = NULL;
    ck_assert_ok(btfm_stream_new(&s));
    ck_assert_status(btfm_stream_push(s, x, 1, C, NULL), BTFM_E_STATE);
    ck_assert_ok(btfm_stream_set_param(s, BTFM_STREAM_PARAM_HOP, 0.3));
    ck_assert_status(btfm_stream_configure(s), BTFM_E_RANGE); /* hop not a step multiple */
    btfm_stream_free(s);
    s = make_stream(BTFM_STREAM_DROP_OLDEST, 256);
    ck_assert_status(btfm_stream_set_param(s, BTFM_STREAM_PARAM_HOP, 0.5), BTFM_E_STATE);
    ck_assert_status(btfm_stream_push(s, x, 10, C + 1, NULL), BTFM_E_INVALID);
    ck_assert_int_eq(btfm_stream_n_samples(s), 0);
    double ts[4] = {0.0, 0.1, 0.05, 0.2};
    ck_assert_status(btfm_stream_push(s, x, 4, C, ts), BTFM_E_INVALID);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "timestamps[2]"));
    ck_assert_int_eq(btfm_stream_n_samples(s), 0);
    /* a NaN gap of 20 samples on channel 3 from sample 600 */
    for (int t = 600; t < 620; t++) x[t * C + 3] = NAN;
    ck_assert_ok(btfm_stream_push(s, x, n, C, NULL));
    const int ncol = btfm_stream_n_columns(s), flag3 = btfm_stream_find_column(s, "flags:3");
    const int flag1 = btfm_stream_find_column(s, "flags:1");
    const int alpha3 = btfm_stream_find_column(s, "alpha:3");
    double *rows = malloc(sizeof(double) * 256 * (size_t)ncol);
    size_t got;
    ck_assert_ok(btfm_stream_pull(s, rows, 256, &got));
    ck_assert_int_eq(got, (n - 256) / 64 + 1);
    int n_flagged = 0;
    for (size_t r = 0; r < got; r++) {
        const double *row = rows + r * ncol;
        const int64_t end = (int64_t)row[1], start = end - 255;
        const int holds_gap = start < 620 && end >= 600;
        ck_assert_int_eq((int)row[flag3], holds_gap ? BTFM_STREAM_FLAG_NONFINITE : 0);
        ck_assert_int_eq((int)row[flag1], 0);
        ck_assert_int_eq(isfinite(row[alpha3]), !holds_gap);
        n_flagged += holds_gap;
    }
    ck_assert_int_eq(n_flagged, 4); /* windows ending at 639, 703, 767, 831 */
    /* a marker whose epoch left the history is refused */
    ck_assert_status(btfm_stream_push_marker(s, 0.5, 1, NULL), BTFM_E_RANGE);
    ck_assert_status(btfm_stream_push_marker(s, NAN, 1, NULL), BTFM_E_INVALID);
    free(rows);
    btfm_stream_free(s);
    free(x);
}
END_TEST

START_TEST(test_overflow)
{
    const int64_t n = 2 * SFREQ; /* windows end at 256, 320, ..., 512: 5 rows */
    float *x = make_signal(n);
    btfm_stream *s = make_stream(BTFM_STREAM_DROP_OLDEST, 2);
    ck_assert_ok(btfm_stream_push(s, x, n, C, NULL));
    ck_assert_int_eq(btfm_stream_n_dropped(s), 3);
    const int ncol = btfm_stream_n_columns(s);
    double rows[2 * 200];
    ck_assert_int_le(ncol, 200);
    size_t got;
    ck_assert_ok(btfm_stream_pull(s, rows, 2, &got));
    ck_assert_int_eq(got, 2);
    ck_assert_int_eq((int64_t)rows[1], 447);
    ck_assert_int_eq((int64_t)rows[ncol + 1], 511);
    btfm_stream_free(s);

    s = make_stream(BTFM_STREAM_REFUSE, 2);
    ck_assert_ok(btfm_stream_push(s, x, 320, C, NULL)); /* two rows */
    ck_assert_status(btfm_stream_push(s, x + 320 * C, 64, C, NULL), BTFM_E_AGAIN);
    ck_assert_int_eq(btfm_stream_n_samples(s), 320);
    ck_assert_ok(btfm_stream_pull(s, rows, 1, &got));
    ck_assert_ok(btfm_stream_push(s, x + 320 * C, 64, C, NULL));
    ck_assert_status(btfm_stream_push(s, x, 1000, C, NULL), BTFM_E_RANGE);
    btfm_stream_free(s);
    free(x);
}
END_TEST

/* A producer thread pushes 10-sample chunks while this thread pulls: every row arrives,
 * in order, equal to a single-threaded run. */
typedef struct producer {
    btfm_stream *s;
    const float *x;
    int64_t n;
} producer;

static void *produce(void *arg)
{
    producer *p = arg;
    for (int64_t i = 0; i < p->n;) {
        int64_t len = p->n - i < 10 ? p->n - i : 10;
        int st = btfm_stream_push(p->s, p->x + i * C, len, C, NULL);
        if (st == BTFM_E_AGAIN) continue;
        if (st) return (void *)1;
        i += len;
    }
    return NULL;
}

START_TEST(test_threads)
{
    const int64_t n = UNIT_SIZE(20 * SFREQ, 4 * SFREQ);
    float *x = make_signal(n);
    btfm_stream *ref = make_stream(BTFM_STREAM_REFUSE, 1024);
    ck_assert_ok(btfm_stream_push(ref, x, n, C, NULL));
    const int ncol = btfm_stream_n_columns(ref);
    const int64_t n_rows = (n - 256) / 64 + 1;
    double *want = malloc(sizeof(double) * (size_t)(n_rows * ncol));
    double *have = malloc(sizeof(double) * (size_t)(n_rows * ncol));
    size_t got;
    ck_assert_ok(btfm_stream_pull(ref, want, (size_t)n_rows, &got));
    ck_assert_int_eq(got, n_rows);
    btfm_stream *s = make_stream(BTFM_STREAM_REFUSE, 4);
    producer p = {s, x, n};
    pthread_t thread;
    ck_assert_int_eq(pthread_create(&thread, NULL, produce, &p), 0);
    int64_t have_rows = 0;
    while (have_rows < n_rows) {
        ck_assert_ok(btfm_stream_pull(s, have + have_rows * ncol, 3, &got));
        have_rows += (int64_t)got;
    }
    void *result;
    pthread_join(thread, &result);
    ck_assert_ptr_null(result);
    ck_assert_all(i, n_rows * ncol, memcmp(&want[i], &have[i], sizeof(double)) == 0,
                  "row %lld, column %lld differs", (long long)(i / ncol), (long long)(i % ncol));
    btfm_stream_free(s);
    btfm_stream_free(ref);
    free(want);
    free(have);
    free(x);
}
END_TEST

/* A stream like make_stream's with a reward head (or none), its rows with markers every
 * 0.5 s from 1 s, pushed in chunks of `chunk`; the row count into *n_rows. */
static double *stream_rows(const float *x, int64_t n, int64_t chunk, const btfm_reward_head *head,
                           btfm_stream **out, size_t *n_rows)
{
    btfm_stream *s = make_stream_with(BTFM_STREAM_DROP_OLDEST, 256, head);
    for (double t = 1.0; t < (double)n / SFREQ - 1.0; t += 0.5)
        ck_assert_ok(btfm_stream_push_marker(s, t, 1, "item"));
    const int ncol = btfm_stream_n_columns(s);
    size_t cap = 256, total = 0, got;
    double *rows = malloc(sizeof(double) * cap * (size_t)ncol);
    for (int64_t i = 0; i < n; i += chunk) {
        ck_assert_ok(btfm_stream_push(s, x + i * C, n - i < chunk ? n - i : chunk, C, NULL));
        ck_assert_ok(btfm_stream_pull(s, rows + total * ncol, cap - total, &got));
        total += got;
        ck_assert_uint_lt(total, cap);
    }
    *out = s;
    *n_rows = total;
    return rows;
}

/* The features of the rows of `kind` (d columns from `col`) as floats; their count. */
static int64_t features_of(const double *rows, size_t n_rows, int ncol, int kind, int col, int d,
                           float *f)
{
    int64_t n = 0;
    for (size_t r = 0; r < n_rows; r++) {
        if (rows[r * ncol + 2] != kind) continue;
        for (int j = 0; j < d; j++) f[n * d + j] = (float)rows[r * ncol + col + j];
        n++;
    }
    return n;
}

/* The reward columns of window rows (band powers) and epoch rows (ERP means) against
 * btfm_reward_head_predict on the same rows' features: heads fitted (joint, no
 * per-annotator normalization) on a first pass's rows, ratings from a few features. */
START_TEST(test_reward_columns)
{
    const int64_t n = 20 * SFREQ;
    float *x = make_signal(n);
    for (int64_t t = 0; t < n; t++) /* alpha waxing and waning, so the ratings have signal */
        for (int c = 0; c < C; c++)
            x[t * C + c] *= (float)(1.0 + 0.8 * sin(2 * M_PI * (double)t / (3.7 * SFREQ) + c));
    btfm_stream *plain;
    size_t n_rows;
    double *rows = stream_rows(x, n, 64, NULL, &plain, &n_rows);
    int ncol = btfm_stream_n_columns(plain);
    const int kinds[2] = {BTFM_STREAM_ROW_WINDOW, BTFM_STREAM_ROW_EPOCH};
    const int dims[2] = {4 * C, 2 * C};
    const int cols[2] = {btfm_stream_find_column(plain, "delta:0"),
                         btfm_stream_find_column(plain, "erp0:0")};
    const int64_t expect[2] = {(n - 256) / 64 + 1, 36};
    for (int k = 0; k < 2; k++) {
        const int d = dims[k];
        float *f = malloc(sizeof(float) * n_rows * (size_t)d);
        const int64_t m = features_of(rows, n_rows, ncol, kinds[k], cols[k], d, f);
        ck_assert_int_eq(m, expect[k]);
        float *ratings = malloc(sizeof(float) * (size_t)m);
        int64_t *who = malloc(sizeof(int64_t) * (size_t)m);
        uint64_t state = 99;
        for (int64_t i = 0; i < m; i++) {
            state = state * 6364136223846793005ULL + 1442695040888963407ULL;
            double mean = 0, sd = 0;
            for (int64_t j = 0; j < m; j++) mean += f[j * d + 2];
            mean /= (double)m;
            for (int64_t j = 0; j < m; j++) sd += (f[j * d + 2] - mean) * (f[j * d + 2] - mean);
            sd = sqrt(sd / (double)m);
            ratings[i] = (float)((f[i * d + 2] - mean) / sd +
                                 ((double)(state >> 11) / 9007199254740992.0 - 0.5));
            who[i] = i % 4;
        }
        btfm_reward_head *h = NULL;
        ck_assert_ok(btfm_reward_head_new(&h, BTFM_REWARD_JOINT));
        ck_assert_ok(btfm_reward_head_set_param(h, BTFM_REWARD_PARAM_NORMALIZE, 0));
        ck_assert_ok(btfm_reward_head_set_param(h, BTFM_REWARD_PARAM_FOLDS, 4));
        ck_assert_ok(btfm_reward_head_set_ratings(h, ratings, NULL, m));
        ck_assert_ok(btfm_reward_head_fit(h, f, m, d, who));
        btfm_stream *s;
        size_t n_scored;
        double *scored = stream_rows(x, n, 13, h, &s, &n_scored);
        const int sc = btfm_stream_n_columns(s), col_reward = btfm_stream_find_column(s, "reward:reward");
        ck_assert_int_eq(sc, ncol + BTFM_REWARD_N_OUTPUTS);
        ck_assert_int_eq(col_reward, ncol);
        float *g = malloc(sizeof(float) * n_scored * (size_t)d);
        ck_assert_int_eq(features_of(scored, n_scored, sc, kinds[k], cols[k], d, g), m);
        ck_assert_int_eq(memcmp(f, g, sizeof(float) * (size_t)(m * d)), 0); /* same rows */
        float *want = malloc(sizeof(float) * (size_t)m * BTFM_REWARD_N_OUTPUTS);
        memset(who, 0, sizeof(int64_t) * (size_t)m); /* one new person, no rating */
        ck_assert_ok(btfm_reward_head_predict(h, want, (size_t)m * BTFM_REWARD_N_OUTPUTS, f, m, d,
                                              who, NULL));
        double worst = 0, lo = INFINITY, hi = -INFINITY;
        int64_t i = 0;
        for (size_t r = 0; r < n_scored; r++) {
            const double *row = scored + r * sc;
            const int mine = row[2] == kinds[k];
            for (int o = 0; o < BTFM_REWARD_N_OUTPUTS; o++) {
                const double v = row[col_reward + o];
                if (!mine) { /* the other kind of row is not scored */
                    ck_assert(isnan(v));
                    continue;
                }
                const double w = want[i * BTFM_REWARD_N_OUTPUTS + o];
                worst = fmax(worst, fabs(v - w) / fmax(1.0, fabs(w)));
            }
            if (mine) {
                lo = fmin(lo, row[col_reward]);
                hi = fmax(hi, row[col_reward]);
                i++;
            }
        }
        /* float features and float outputs on both sides: a few float roundings apart */
        ck_assert_msg(worst < 2e-6, "%s rows: reward columns differ from predict by %g",
                      k ? "epoch" : "window", worst);
        ck_assert_msg(hi - lo > 0.1, "the reward hardly moves (%g .. %g)", lo, hi);
        btfm_stream_free(s);
        btfm_reward_head_free(h);
        free(want);
        free(g);
        free(scored);
        free(who);
        free(ratings);
        free(f);
    }
    btfm_stream_free(plain);
    free(rows);
    free(x);
}
END_TEST

/* The epoch rows (kind 1) of a stream fed x in chunks of 13 with host times ts, into rows
 * (max_rows x ncol), with a late marker at sample 200 given by sample or by time; returns
 * how many. */
static int epoch_rows(btfm_stream *s, int by_sample, const float *x, const double *ts, int64_t n,
                      double *rows, int max_rows)
{
    const int ncol = btfm_stream_n_columns(s);
    double *buf = malloc(sizeof(double) * 64 * (size_t)ncol);
    int got_epochs = 0;
    for (int64_t i = 0; i < n; i += 13) {
        const int64_t len = n - i < 13 ? n - i : 13;
        ck_assert_ok(btfm_stream_push(s, x + i * C, len, C, ts + i));
        size_t got;
        ck_assert_ok(btfm_stream_pull(s, buf, 64, &got));
        for (size_t r = 0; r < got; r++)
            if (buf[r * ncol + 2] == BTFM_STREAM_ROW_EPOCH && got_epochs < max_rows)
                memcpy(rows + (size_t)got_epochs++ * ncol, buf + r * ncol, sizeof(double) * ncol);
        if (i == 390) { /* late markers: their samples are already in the history */
            if (by_sample)
                ck_assert_ok(btfm_stream_push_marker_sample(s, 200, 8, "late"));
            else
                ck_assert_ok(btfm_stream_push_marker(s, ts[200], 7, "late"));
        }
    }
    free(buf);
    return got_epochs;
}

/* Markers by sample index against the same markers by time, on host timestamps with
 * jitter (times that are not sample / sfreq): ahead of their samples and late, both forms
 * give the same epoch rows bit for bit, at the sample given and with its timestamp; a
 * negative sample and one whose epoch has left the history are refused. */
START_TEST(test_marker_by_sample)
{
    const int64_t n = 2 * SFREQ;
    float *x = make_signal(n);
    double *ts = malloc(sizeof(double) * (size_t)n);
    uint64_t state = 99;
    for (int64_t i = 0; i < n; i++) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        ts[i] = 1000.25 + (double)i / SFREQ + 1e-4 * (double)(state >> 11) / 9007199254740992.0;
    }
    const int64_t at[] = {60, 290, 300};
    btfm_stream *by_time = make_stream(BTFM_STREAM_REFUSE, 64);
    btfm_stream *by_sample = make_stream(BTFM_STREAM_REFUSE, 64);
    for (int m = 0; m < 3; m++) {
        ck_assert_ok(btfm_stream_push_marker(by_time, ts[at[m]], 10 + m, "stim"));
        ck_assert_ok(btfm_stream_push_marker_sample(by_sample, at[m], 10 + m, "stim"));
    }
    const int ncol = btfm_stream_n_columns(by_time);
    double *a = malloc(sizeof(double) * 8 * (size_t)ncol), *b = malloc(sizeof(double) * 8 * (size_t)ncol);
    ck_assert_int_eq(epoch_rows(by_time, 0, x, ts, n, a, 8), 4);
    ck_assert_int_eq(epoch_rows(by_sample, 1, x, ts, n, b, 8), 4);
    const int64_t want_sample[] = {60, 200, 290, 300};
    const int want_code[] = {10, 7, 11, 12};
    const int erp = btfm_stream_find_column(by_time, "erp0:0");
    for (int r = 0; r < 4; r++) {
        const double *row = a + (size_t)r * ncol;
        ck_assert_int_eq((int64_t)row[1], want_sample[r]);
        ck_assert_int_eq((int)row[3], want_code[r]);
        ck_assert(row[0] == ts[want_sample[r]]);
        ck_assert(isfinite(row[erp]) && row[4] == 0);
    }
    /* the late pair: by time makes code 7, by sample code 8; otherwise the same row */
    ck_assert_int_eq((int)b[ncol + 3], 8);
    b[ncol + 3] = 7;
    ck_assert_all(i, 4 * ncol, memcmp(&a[i], &b[i], sizeof(double)) == 0,
                  "row %lld, column %lld differs", (long long)(i / ncol), (long long)(i % ncol));
    /* after 4 s more, sample 10's epoch has left the 4 s history; negative is never valid */
    float *more = make_signal(4 * SFREQ);
    ck_assert_ok(btfm_stream_push(by_sample, more, 4 * SFREQ, C, NULL));
    ck_assert_status(btfm_stream_push_marker_sample(by_sample, 10, 1, NULL), BTFM_E_RANGE);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "sample 10 needs samples from -41"));
    ck_assert_status(btfm_stream_push_marker_sample(by_sample, -1, 1, NULL), BTFM_E_RANGE);
    ck_assert_status(btfm_stream_push_marker_sample(NULL, 5, 1, NULL), BTFM_E_INVALID);
    ck_assert_ok(btfm_stream_push_marker_sample(by_sample, n + 3 * SFREQ, 1, NULL));
    btfm_stream *raw = NULL;
    ck_assert_ok(btfm_stream_new(&raw));
    ck_assert_status(btfm_stream_push_marker_sample(raw, 5, 1, NULL), BTFM_E_STATE);
    btfm_stream_free(raw);
    free(more);
    free(a);
    free(b);
    free(ts);
    free(x);
    btfm_stream_free(by_time);
    btfm_stream_free(by_sample);
}
END_TEST

static Suite *stream_suite(void)
{
    Suite *suite = suite_create("stream");
    TCase *tc = tcase_create("stream");
    unit_set_timeout(tc, 2);
    tcase_add_test(tc, test_equivalence_chunks);
    tcase_add_test(tc, test_no_allocation);
    tcase_add_test(tc, test_bad_input);
    tcase_add_test(tc, test_overflow);
    tcase_add_test(tc, test_threads);
    tcase_add_test(tc, test_reward_columns);
    tcase_add_test(tc, test_marker_by_sample);
    suite_add_tcase(suite, tc);
    return suite;
}

BTFM_UNIT_MAIN(stream_suite)
