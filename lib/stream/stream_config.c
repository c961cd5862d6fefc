/* Configuration of a stream: the settings checked once and turned into the filters,
 * the sliding Welch estimate, the epoch geometry, the column names and every buffer that
 * push and pull use, so that neither allocates. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "stream_internal.h"

void btfm_stream_rt_free(stream_rt *rt)
{
    if (!rt) return;
    btfm_iir_free(rt->iir);
    btfm_iir_free(rt->eog_iir);
    btfm_welch_sliding_free(rt->welch);
    void *arrays[] = {rt->pick, rt->refs, rt->is_target, rt->bands, rt->scratch, rt->bad,
                      rt->psd, rt->power, rt->held, rt->in_gap,
                      rt->last_nonfinite, rt->last_over, rt->blk_min, rt->blk_max,
                      rt->history, rt->history_time, rt->erp, rt->epoch, rt->epoch_work,
                      rt->erp_out, rt->role[0], rt->role[1], rt->eog_scratch, rt->reward_w,
                      rt->row, rt->ring};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++) btfm_free(arrays[i]);
    if (rt->column_names)
        for (int i = 0; i < rt->n_columns; i++) btfm_free(rt->column_names[i]);
    btfm_free(rt->column_names);
    btfm_free(rt);
}

static void store_time_bits(stream_rt *rt, double t)
{
    uint64_t bits;
    memcpy(&bits, &t, sizeof bits);
    atomic_store_explicit(&rt->oldest_time_bits, bits, memory_order_release);
}

void btfm_stream_rt_reset(stream_rt *rt)
{
    const int P = rt->n_picks;
    if (rt->iir) btfm_iir_reset(rt->iir, NULL);
    if (rt->eog_iir) btfm_iir_reset(rt->eog_iir, NULL);
    btfm_welch_sliding_reset(rt->welch);
    for (int p = 0; p < P; p++) {
        rt->held[p] = 0;
        rt->in_gap[p] = 0;
        rt->last_nonfinite[p] = rt->last_over[p] = -1;
    }
    rt->n_gap = 0;
    rt->n_pending = 0;
    rt->n_blinks = 0;
    rt->last_blink = INT64_MIN / 2;
    rt->blink_above = 0;
    rt->n_samples = 0;
    rt->last_time = 0;
    rt->have_time = 0;
    rt->given_time = 0;
    atomic_store(&rt->head, 0);
    atomic_store(&rt->tail, 0);
    atomic_store(&rt->dropped, 0);
    atomic_store(&rt->marker_head, 0);
    atomic_store(&rt->marker_tail, 0);
    store_time_bits(rt, -INFINITY);
    atomic_store(&rt->oldest_sample, INT64_MIN);
}

static int64_t samples_of(double seconds, double sfreq) { return (int64_t)llround(seconds * sfreq); }

static int64_t gcd64(int64_t a, int64_t b)
{
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* The cascade: a Butterworth band-, high- or low-pass and a notch, in that order. */
static btfm_status build_filter(const btfm_stream *s, stream_rt *rt, const char *func)
{
    const double *v = s->values, nyquist = rt->sfreq / 2;
    const double hp = v[BTFM_STREAM_PARAM_HIGHPASS], lp = v[BTFM_STREAM_PARAM_LOWPASS];
    const double notch = v[BTFM_STREAM_PARAM_NOTCH];
    const int order = (int)v[BTFM_STREAM_PARAM_FILTER_ORDER];
    double sos[(10 + 1) * 6];
    int n = 0;
    if (hp > 0 || lp > 0) {
        if ((hp > 0 && hp >= nyquist) || (lp > 0 && lp >= nyquist) || (hp > 0 && lp > 0 && hp >= lp))
            return btfm_fail(BTFM_E_RANGE, "%s: highpass = %g Hz, lowpass = %g Hz at %g Hz; "
                             "expected cut-offs below %g Hz (Nyquist), highpass < lowpass",
                             func, hp, lp, rt->sfreq, nyquist);
        int kind = hp > 0 && lp > 0 ? BTFM_FILTER_BANDPASS
                   : hp > 0         ? BTFM_FILTER_HIGHPASS
                                    : BTFM_FILTER_LOWPASS;
        n = btfm_butter_n_sections(order, kind);
        btfm_status st = btfm_butter(order, kind, hp > 0 ? hp : lp, lp, rt->sfreq, sos,
                                     sizeof sos / sizeof sos[0]);
        if (st) return st;
    }
    if (notch > 0) {
        if (notch >= nyquist)
            return btfm_fail(BTFM_E_RANGE, "%s: notch = %g Hz; expected below %g Hz (Nyquist)",
                             func, notch, nyquist);
        btfm_status st = btfm_iirnotch(notch, v[BTFM_STREAM_PARAM_NOTCH_Q], rt->sfreq,
                                       sos + 6 * n);
        if (st) return st;
        n++;
    }
    return n ? btfm_iir_new(&rt->iir, sos, n, rt->n_picks) : BTFM_OK;
}

/* The position among the picks of pushed channel c, or -1. */
static int pick_of(const stream_rt *rt, int c)
{
    for (int p = 0; p < rt->n_picks; p++)
        if (rt->pick[p] == c) return p;
    return -1;
}

static btfm_status build_spectrum(const btfm_stream *s, stream_rt *rt, const char *func)
{
    const double *v = s->values;
    const int64_t seg = samples_of(v[BTFM_STREAM_PARAM_SEGMENT], rt->sfreq);
    const int64_t step = samples_of(v[BTFM_STREAM_PARAM_SEGMENT_STEP], rt->sfreq);
    if (seg < 2 || seg > rt->window || step < 1 || step > seg || rt->hop % step)
        return btfm_fail(BTFM_E_RANGE, "%s: segment = %lld, segment_step = %lld, window = "
                         "%lld, hop = %lld samples; expected 2 <= segment <= window, 1 <= "
                         "segment_step <= segment and a hop that is a multiple of "
                         "segment_step", func, (long long)seg, (long long)step,
                         (long long)rt->window, (long long)rt->hop);
    static const double standard[] = {1, 4, 4, 8, 8, 13, 13, 30};
    rt->n_bands = s->bands ? s->n_bands : 4;
    rt->bands = btfm_malloc(sizeof(double) * 2 * (size_t)rt->n_bands);
    if (!rt->bands) return btfm_fail_nomem(func, sizeof(double) * 2 * (size_t)rt->n_bands);
    memcpy(rt->bands, s->bands ? s->bands : standard, sizeof(double) * 2 * (size_t)rt->n_bands);
    memcpy(rt->index_bands, standard + 2, sizeof rt->index_bands);
    double fmin = INFINITY, fmax = -INFINITY;
    for (int b = 0; b < rt->n_bands; b++) {
        fmin = fmin < rt->bands[2 * b] ? fmin : rt->bands[2 * b];
        fmax = fmax > rt->bands[2 * b + 1] ? fmax : rt->bands[2 * b + 1];
    }
    rt->indices_ok = 30 < rt->sfreq / 2;
    if (rt->indices_ok) {
        fmin = fmin < 4 ? fmin : 4;
        fmax = fmax > 30 ? fmax : 30;
    }
    const btfm_welch_options o = {BTFM_WINDOW_HANN, 0, seg, seg - step, 0,
                                  (int)v[BTFM_STREAM_PARAM_DETREND], BTFM_SCALING_DENSITY,
                                  BTFM_AVERAGE_MEAN, 0};
    btfm_status st = btfm_welch_sliding_new(&rt->welch, &o, rt->sfreq, rt->window, rt->n_picks,
                                            fmin, fmax, func);
    if (st) return st;
    const int K = rt->n_bins = btfm_welch_sliding_n_freqs(rt->welch);
    const size_t P = (size_t)rt->n_picks;
    const int n_all = rt->n_bands + 1 + STREAM_INDEX_BANDS;
    rt->psd = btfm_calloc((size_t)K * P, sizeof(double));
    rt->power = btfm_calloc((size_t)n_all * P, sizeof(double));
    double *all = btfm_malloc(sizeof(double) * 2 * (size_t)n_all);
    if (!rt->psd || !rt->power || !all) {
        btfm_free(all);
        return btfm_fail_nomem(func, (size_t)K * P * 8);
    }
    /* every band must resolve in this spectrum: a dry run says which does not */
    const double *freqs = btfm_welch_sliding_freqs(rt->welch);
    st = btfm_band_power(rt->psd, freqs, K, rt->n_picks, rt->bands, rt->n_bands,
                         rt->relative ? BTFM_SPECTRUM_RELATIVE : 0, rt->power);
    if (st) {
        char cause[512];
        snprintf(cause, sizeof cause, "%s", btfm_last_error());
        btfm_free(all);
        return btfm_fail(st, "%s: the bands do not fit a %lld-sample segment at %g Hz (%s)",
                         func, (long long)seg, rt->sfreq, cause);
    }
    if (rt->indices_ok &&
        btfm_band_power(rt->psd, freqs, K, rt->n_picks, rt->index_bands, STREAM_INDEX_BANDS, 0,
                        rt->power))
        rt->indices_ok = 0;
    /* What a row needs, integrated segment by segment as segments finish (a window's PSD is
     * never formed): the bands, their whole span for relative powers, and theta, alpha and
     * beta for the state indices. */
    int n = rt->n_bands;
    memcpy(all, rt->bands, sizeof(double) * 2 * (size_t)n);
    rt->band_span = -1;
    if (rt->relative) {
        double lo = INFINITY, hi = -INFINITY;
        for (int b = 0; b < rt->n_bands; b++) {
            lo = lo < rt->bands[2 * b] ? lo : rt->bands[2 * b];
            hi = hi > rt->bands[2 * b + 1] ? hi : rt->bands[2 * b + 1];
        }
        all[2 * n] = lo, all[2 * n + 1] = hi;
        rt->band_span = n++;
    }
    for (int i = 0; rt->indices_ok && i < STREAM_INDEX_BANDS; i++) {
        const double lo = rt->index_bands[2 * i], hi = rt->index_bands[2 * i + 1];
        int b = 0; /* a configured band with the same edges serves (the standard ones do) */
        while (b < rt->n_bands && !(rt->bands[2 * b] == lo && rt->bands[2 * b + 1] == hi)) b++;
        if (b == rt->n_bands || rt->relative) { /* relative powers are not the absolute ones */
            all[2 * n] = lo, all[2 * n + 1] = hi;
            b = n++;
        }
        rt->index_band[i] = b;
    }
    st = btfm_welch_sliding_set_bands(rt->welch, all, n, func);
    btfm_free(all);
    return st;
}

static btfm_status build_epochs(const btfm_stream *s, stream_rt *rt, const char *func)
{
    const double *v = s->values;
    const double tmin = v[BTFM_STREAM_PARAM_EPOCH_TMIN], tmax = v[BTFM_STREAM_PARAM_EPOCH_TMAX];
    const int baseline = v[BTFM_STREAM_PARAM_BASELINE] != 0;
    if (baseline && !(tmin <= 0))
        return btfm_fail(BTFM_E_RANGE, "%s: epoch_tmin = %g s with a baseline [epoch_tmin, 0]; "
                         "expected epoch_tmin <= 0 (or baseline 0)", func, tmin);
    btfm_status st = btfm_epoch_geometry_make(&rt->geo, tmin, tmax, baseline ? -INFINITY : NAN,
                                              baseline ? 0.0 : NAN, rt->sfreq);
    if (st) return st;
    rt->tmin = tmin;
    const size_t P = (size_t)rt->n_picks, T = (size_t)rt->geo.n_times;
    rt->n_erp = s->n_erp;
    rt->epoch = btfm_calloc(T * P, sizeof(float));
    rt->epoch_work = btfm_calloc(3 * P, sizeof(double));
    rt->erp_out = btfm_calloc(P, sizeof(double));
    rt->erp = btfm_malloc(sizeof(double) * (2 * (size_t)s->n_erp + 1));
    if (!rt->epoch || !rt->epoch_work || !rt->erp_out || !rt->erp)
        return btfm_fail_nomem(func, T * P * sizeof(float));
    if (s->n_erp) memcpy(rt->erp, s->erp, sizeof(double) * 2 * (size_t)s->n_erp);
    for (int w = 0; w < rt->n_erp; w++) {
        st = btfm_erp_mean_amplitude(rt->epoch, 1, (int64_t)T, rt->n_picks, rt->sfreq, tmin,
                                     rt->erp[2 * w], rt->erp[2 * w + 1], 0, rt->erp_out);
        if (st) {
            char cause[512];
            snprintf(cause, sizeof cause, "%s", btfm_last_error());
            return btfm_fail(st, "%s: ERP window %d does not fit the epoch [%g, %g] s (%s)",
                             func, w, tmin, tmax, cause);
        }
    }
    return BTFM_OK;
}

static btfm_status build_roles(const btfm_stream *s, stream_rt *rt, const char *func)
{
    for (int r = 0; r < 2; r++) {
        int n = s->role[r] ? s->n_role[r] : rt->n_picks;
        rt->role[r] = btfm_malloc(sizeof(int) * (size_t)n);
        if (!rt->role[r]) return btfm_fail_nomem(func, sizeof(int) * (size_t)n);
        rt->n_role[r] = n;
        for (int i = 0; i < n; i++) {
            int p = s->role[r] ? pick_of(rt, s->role[r][i]) : i;
            if (p < 0)
                return btfm_fail(BTFM_E_RANGE, "%s: the %s channels name channel %d, which is "
                                 "not picked", func, r ? "posterior" : "frontal", s->role[r][i]);
            rt->role[r][i] = p;
        }
    }
    const double *v = s->values;
    rt->eog = (int)v[BTFM_STREAM_PARAM_EOG_CHANNEL];
    if (rt->eog >= rt->n_channels)
        return btfm_fail(BTFM_E_RANGE, "%s: eog_channel = %d; the stream has %d channels", func,
                         rt->eog, rt->n_channels);
    rt->blink_threshold = v[BTFM_STREAM_PARAM_BLINK_THRESHOLD];
    rt->blink_period = samples_of(v[BTFM_STREAM_PARAM_BLINK_PERIOD], rt->sfreq);
    rt->refractory = samples_of(0.2, rt->sfreq);
    if (rt->eog >= 0) {
        /* blinks as MNE's find_eog_events sees them: the EOG band-passed to 1-10 Hz */
        if (!(10 < rt->sfreq / 2))
            return btfm_fail(BTFM_E_RANGE, "%s: blinks need a sampling rate above 20 Hz", func);
        double sos[2 * 6];
        btfm_status st = btfm_butter(2, BTFM_FILTER_BANDPASS, 1, 10, rt->sfreq, sos, 12);
        if (!st) st = btfm_iir_new(&rt->eog_iir, sos, 2, 1);
        if (st) return st;
        rt->eog_scratch = btfm_malloc(sizeof(float) * (size_t)rt->block);
        if (!rt->eog_scratch) return btfm_fail_nomem(func, sizeof(float) * (size_t)rt->block);
    }
    return BTFM_OK;
}

/* One column name; names are "<prefix><channel>" or whole. */
static btfm_status add_name(stream_rt *rt, int *col, const char *a, const char *b, const char *func)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s%s", a, b ? b : "");
    if (!(rt->column_names[*col] = btfm_strdup(buf))) return btfm_fail_nomem(func, strlen(buf));
    (*col)++;
    return BTFM_OK;
}

static btfm_status build_columns(const btfm_stream *s, stream_rt *rt, const char *func)
{
    const int P = rt->n_picks, B = rt->n_bands, E = rt->n_erp;
    rt->col_flags = STREAM_FIXED_COLUMNS;
    rt->col_bands = rt->col_flags + P;
    rt->col_erp = rt->col_bands + B * P;
    rt->col_state = rt->col_erp + E * P;
    rt->col_z = rt->col_state + BTFM_STREAM_N_INDICES;
    rt->col_reward = rt->col_z + BTFM_STREAM_N_INDICES;
    rt->n_columns = rt->col_reward + rt->reward_columns;
    rt->column_names = btfm_calloc((size_t)rt->n_columns, sizeof(char *));
    rt->row = btfm_calloc((size_t)rt->n_columns, sizeof(double));
    if (!rt->column_names || !rt->row) return btfm_fail_nomem(func, (size_t)rt->n_columns * 8);
    static const char *const fixed[STREAM_FIXED_COLUMNS] = {"time", "sample", "kind", "code",
                                                            "flags"};
    int col = 0;
    btfm_status st = BTFM_OK;
    for (int i = 0; !st && i < STREAM_FIXED_COLUMNS; i++) st = add_name(rt, &col, fixed[i], NULL, func);
    char chan[64], prefix[64];
#define CHANNEL_NAME(p)                                                                    \
    (s->names && rt->pick[p] < s->n_names                                                  \
         ? s->names[rt->pick[p]]                                                           \
         : (snprintf(chan, sizeof chan, "%d", rt->pick[p]), chan))
    for (int p = 0; !st && p < P; p++) st = add_name(rt, &col, "flags:", CHANNEL_NAME(p), func);
    for (int b = 0; !st && b < B; b++) {
        snprintf(prefix, sizeof prefix, "band%d:", b);
        for (int named = 0; named <= BTFM_BAND_GAMMA; named++) {
            double lo, hi;
            btfm_band_edges(named, &lo, &hi);
            if (lo == rt->bands[2 * b] && hi == rt->bands[2 * b + 1])
                snprintf(prefix, sizeof prefix, "%s:", btfm_band_name(named));
        }
        for (int p = 0; !st && p < P; p++) st = add_name(rt, &col, prefix, CHANNEL_NAME(p), func);
    }
    for (int w = 0; !st && w < E; w++) {
        snprintf(prefix, sizeof prefix, "erp%d:", w);
        for (int p = 0; !st && p < P; p++) st = add_name(rt, &col, prefix, CHANNEL_NAME(p), func);
    }
#undef CHANNEL_NAME
    for (int i = 0; !st && i < BTFM_STREAM_N_INDICES; i++)
        st = add_name(rt, &col, "state:", btfm_stream_index_name(i), func);
    for (int i = 0; !st && i < BTFM_STREAM_N_INDICES; i++)
        st = add_name(rt, &col, "z:", btfm_stream_index_name(i), func);
    for (int i = 0; !st && i < rt->reward_columns; i++)
        st = add_name(rt, &col, "reward:", btfm_reward_output_name(i), func);
    return st;
}

static btfm_status build(const btfm_stream *s, stream_rt *rt, const char *func)
{
    const double *v = s->values;
    rt->n_channels = (int)v[BTFM_STREAM_PARAM_N_CHANNELS];
    rt->sfreq = v[BTFM_STREAM_PARAM_SFREQ];
    rt->window = samples_of(v[BTFM_STREAM_PARAM_WINDOW], rt->sfreq);
    rt->hop = samples_of(v[BTFM_STREAM_PARAM_HOP], rt->sfreq);
    if (rt->window < 2 || rt->hop < 1)
        return btfm_fail(BTFM_E_RANGE, "%s: window = %lld and hop = %lld samples at %g Hz; "
                         "expected a window of at least 2 samples and a hop of at least 1",
                         func, (long long)rt->window, (long long)rt->hop, rt->sfreq);
    rt->block = 128;
    rt->relative = v[BTFM_STREAM_PARAM_RELATIVE] != 0;
    rt->reference = (int)v[BTFM_STREAM_PARAM_REFERENCE];
    rt->amplitude_limit = v[BTFM_STREAM_PARAM_AMPLITUDE_LIMIT];
    rt->flat_limit = v[BTFM_STREAM_PARAM_FLAT_LIMIT];
    rt->overflow = (int)v[BTFM_STREAM_PARAM_OVERFLOW];
    rt->n_picks = s->picks ? s->n_picks : rt->n_channels;
    const size_t P = (size_t)rt->n_picks;
    rt->pick = btfm_malloc(sizeof(int) * P);
    rt->refs = btfm_malloc(sizeof(int) * P);
    rt->is_target = btfm_malloc(P);
    if (!rt->pick || !rt->refs || !rt->is_target) return btfm_fail_nomem(func, P * 9);
    for (size_t p = 0; p < P; p++) {
        rt->pick[p] = s->picks ? s->picks[p] : (int)p;
        if (rt->pick[p] >= rt->n_channels)
            return btfm_fail(BTFM_E_RANGE, "%s: pick %zu is channel %d; the stream has %d "
                             "channels (n_channels)", func, p, rt->pick[p], rt->n_channels);
        rt->refs[p] = (int)p;
        rt->is_target[p] = 1;
    }
    rt->all_picked = rt->n_picks == rt->n_channels;
    for (size_t p = 0; p < P; p++) rt->all_picked &= rt->pick[p] == (int)p;
    btfm_status st = build_filter(s, rt, func);
    if (!st) st = build_spectrum(s, rt, func);
    if (!st) st = build_epochs(s, rt, func);
    if (!st) st = build_roles(s, rt, func);
    if (st) return st;
    if (s->head) {
        st = btfm_stream_reward_build(s->head, rt, func);
        if (st) return st;
    }
    if ((st = build_columns(s, rt, func))) return st;
    const size_t B = (size_t)rt->block;
    rt->flat_block = gcd64(rt->window, rt->hop);
    const size_t n_blk = (size_t)(rt->window / rt->flat_block);
    rt->n_history = samples_of(v[BTFM_STREAM_PARAM_HISTORY], rt->sfreq) + rt->geo.n_times +
                    (int64_t)B;
    const size_t H = (size_t)rt->n_history;
    rt->capacity = (uint64_t)v[BTFM_STREAM_PARAM_CAPACITY];
    rt->scratch = btfm_malloc(sizeof(float) * B * P);
    rt->bad = btfm_malloc(B * P);
    rt->held = btfm_calloc(P, sizeof(float));
    rt->in_gap = btfm_calloc(P, 1);
    rt->last_nonfinite = btfm_malloc(sizeof(int64_t) * P);
    rt->last_over = btfm_malloc(sizeof(int64_t) * P);
    rt->blk_min = btfm_malloc(sizeof(float) * (n_blk + 1) * P);
    rt->blk_max = btfm_malloc(sizeof(float) * (n_blk + 1) * P);
    rt->history = btfm_malloc(sizeof(float) * H * P);
    rt->history_time = btfm_malloc(sizeof(double) * H);
    size_t ring_words;
    if (btfm_mul_size((size_t)rt->capacity, (size_t)rt->n_columns, &ring_words))
        return btfm_fail(BTFM_E_RANGE, "%s: capacity = %llu rows is too large", func,
                         (unsigned long long)rt->capacity);
    rt->ring = btfm_malloc(sizeof(uint64_t) * ring_words);
    if (!rt->scratch || !rt->bad || !rt->held || !rt->in_gap || !rt->last_nonfinite ||
        !rt->last_over || !rt->blk_min || !rt->blk_max || !rt->history || !rt->history_time ||
        !rt->ring)
        return btfm_fail_nomem(func, sizeof(float) * H * P + sizeof(uint64_t) * ring_words);
    /* Touch every page of the large buffers now: the first write to a fresh page faults
     * (microseconds each, more on a loaded machine), and the history and the ring would
     * otherwise take those faults inside pushes during the first seconds and rows. */
    memset(rt->history, 0, sizeof(float) * H * P);
    memset(rt->history_time, 0, sizeof(double) * H);
    memset(rt->ring, 0, sizeof(uint64_t) * ring_words);
    float *zeros = btfm_calloc(B * (size_t)rt->n_channels, sizeof(float));
    if (!zeros) return btfm_fail_nomem(func, B * (size_t)rt->n_channels * sizeof(float));
    btfm_stream_rt_reset(rt);
    btfm_stream_rt_warm(rt, zeros);
    btfm_free(zeros);
    btfm_stream_rt_reset(rt);
    return BTFM_OK;
}

btfm_status btfm_stream_build(btfm_stream *s, stream_rt **out)
{
    static const char func[] = "btfm_stream_configure";
    stream_rt *rt = btfm_calloc(1, sizeof *rt);
    if (!rt) return btfm_fail_nomem(func, sizeof *rt);
    btfm_status st = build(s, rt, func);
    if (st) {
        btfm_stream_rt_free(rt);
        return st;
    }
    *out = rt;
    return BTFM_OK;
}
