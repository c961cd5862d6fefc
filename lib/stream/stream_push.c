/* The producer side of a stream: each pushed chunk runs, block by block, through the
 * picks, the causal filters (signal layer), the re-reference, the artifact checks, the
 * sliding Welch estimate (spectrum layer) and the history; a window that ends or an epoch
 * that completes becomes an output row. Nothing here allocates. */
#include <math.h>
#include <string.h>
#include "stream_internal.h"
#include "dense/dense.h"

static double history_time(const stream_rt *rt, int64_t sample)
{
    return rt->history_time[sample % rt->n_history];
}

static int64_t oldest_kept(const stream_rt *rt)
{
    return rt->n_samples > rt->n_history ? rt->n_samples - rt->n_history : 0;
}

/* The sample count at which the next window ends. */
static int64_t next_window_end(const stream_rt *rt)
{
    const int64_t n = rt->n_samples;
    if (n < rt->window) return rt->window;
    return n + rt->hop - (n - rt->window) % rt->hop;
}

/* Non-finite values were replaced before filtering: the filter need not look for them. */
static void filter_rows(stream_rt *rt, int64_t first, int64_t count)
{
    if (rt->iir && count > 0) {
        float *x = rt->scratch + (size_t)first * rt->n_picks;
        btfm_iir_process(rt->iir, x, count, BTFM_ALLOW_NONFINITE, x);
    }
}

/* Picks of `len` samples into the scratch block, non-finite values replaced by the
 * channel's last finite one (its filter restarted from it), then filtered. A row of finite
 * values with no channel in a gap takes the branch-free path. Returns whether any picked
 * value was not finite. */
static int pick_and_filter(stream_rt *rt, const float *x, int64_t len)
{
    const int P = rt->n_picks, C = rt->n_channels;
    const int *restrict pick = rt->pick;
    int64_t done = 0;
    int any = 0;
    if (rt->all_picked && !rt->n_gap && !btfm_dense_any_nonfinite(x, (size_t)len * C)) {
        /* every channel, all finite: the chunk as it is */
        memcpy(rt->scratch, x, sizeof(float) * (size_t)len * C);
        memcpy(rt->held, x + (size_t)(len - 1) * C, sizeof(float) * (size_t)C);
        filter_rows(rt, 0, len);
        return 0;
    }
    for (int64_t t = 0; t < len; t++) {
        const float *restrict row = x + (size_t)t * C;
        float *restrict dst = rt->scratch + (size_t)t * P;
        unsigned char *restrict bad = rt->bad + (size_t)t * P;
        int row_bad = 0;
        for (int p = 0; p < P; p++) {
            const float v = row[pick[p]];
            const int b = !isfinite(v);
            dst[p] = v;
            bad[p] = (unsigned char)b;
            row_bad |= b;
        }
        any |= row_bad;
        if (!row_bad && !rt->n_gap) {
            memcpy(rt->held, dst, sizeof(float) * (size_t)P);
            continue;
        }
        for (int p = 0; p < P; p++) {
            if (bad[p]) {
                if (!rt->in_gap[p]) {
                    filter_rows(rt, done, t - done);
                    done = t;
                    if (rt->iir && btfm_iir_reset_channel(rt->iir, p, &rt->held[p]))
                        btfm_iir_reset_channel(rt->iir, p, NULL);
                    rt->in_gap[p] = 1;
                    rt->n_gap++;
                    btfm_warn("btfm_stream_push: pushed channel %d holds a non-finite value at "
                              "sample %lld; its filter restarts from its last finite value and "
                              "the windows and epochs holding the gap are flagged",
                              rt->pick[p], (long long)(rt->n_samples + t));
                }
                rt->last_nonfinite[p] = rt->n_samples + t;
                dst[p] = rt->held[p];
            } else {
                if (rt->in_gap[p]) {
                    rt->in_gap[p] = 0;
                    rt->n_gap--;
                }
                rt->held[p] = dst[p];
            }
        }
    }
    filter_rows(rt, done, len - done);
    return any;
}

/* Blinks on the EOG channel: an excursion of the 1-10 Hz signal beyond the threshold, at
 * least 0.2 s after the previous one. */
static void detect_blinks(stream_rt *rt, const float *x, int64_t len)
{
    float *e = rt->eog_scratch;
    for (int64_t t = 0; t < len; t++) {
        float v = x[(size_t)t * rt->n_channels + rt->eog];
        e[t] = isfinite(v) ? v : (t ? e[t - 1] : 0.0f);
    }
    btfm_iir_process(rt->eog_iir, e, len, 0, e);
    for (int64_t t = 0; t < len; t++) {
        const double a = fabs(e[t]);
        const int64_t n = rt->n_samples + t;
        if (!rt->blink_above && a > rt->blink_threshold) {
            rt->blink_above = 1;
            if (n - rt->last_blink >= rt->refractory) {
                rt->blinks[rt->n_blinks % STREAM_BLINK_SLOTS] = n;
                rt->n_blinks++;
                rt->last_blink = n;
            }
        } else if (rt->blink_above && a < 0.5 * rt->blink_threshold) {
            rt->blink_above = 0;
        }
    }
}

/* Everything after filtering for one block: reference, flags, Welch, history. Each check
 * runs over the block as its own loop across channels, and only when it is asked for. */
static void process_block(stream_rt *rt, const float *x, int64_t len, const double *times)
{
    const int P = rt->n_picks;
    const int64_t N = rt->n_samples;
    const int any_bad = pick_and_filter(rt, x, len);
    float *y = rt->scratch;
    if (rt->reference == BTFM_STREAM_REFERENCE_AVERAGE)
        btfm_rereference_rows(y, len, P, rt->refs, P, rt->is_target, y);
    if (any_bad)
        for (size_t i = 0; i < (size_t)len * P; i++)
            if (rt->bad[i]) y[i] = NAN;
    if (rt->amplitude_limit > 0) {
        for (int64_t t = 0; t < len; t++)
            for (int p = 0; p < P; p++)
                if (fabsf(y[(size_t)t * P + p]) > rt->amplitude_limit) rt->last_over[p] = N + t;
    }
    if (rt->flat_limit > 0) {
        const int64_t n_blk = rt->window / rt->flat_block;
        for (int64_t t = 0; t < len; t++) {
            const float *restrict row = y + (size_t)t * P;
            const int64_t n = N + t;
            float *restrict lo = rt->blk_min + (size_t)((n / rt->flat_block) % n_blk) * P;
            float *restrict hi = rt->blk_max + (size_t)((n / rt->flat_block) % n_blk) * P;
            if (n % rt->flat_block == 0)
                for (int p = 0; p < P; p++) lo[p] = INFINITY, hi[p] = -INFINITY;
            for (int p = 0; p < P; p++) {
                lo[p] = row[p] < lo[p] ? row[p] : lo[p];
                hi[p] = row[p] > hi[p] ? row[p] : hi[p];
            }
        }
    }
    for (int64_t t = 0; t < len; t++) {
        const int64_t n = N + t;
        memcpy(rt->history + (size_t)(n % rt->n_history) * P, y + (size_t)t * P,
               sizeof(float) * (size_t)P);
        rt->history_time[n % rt->n_history] = times[t];
    }
    btfm_welch_sliding_push(rt->welch, y, len);
    if (rt->eog >= 0) detect_blinks(rt, x, len);
    rt->n_samples += len;
    rt->last_time = times[len - 1];
    rt->have_time = 1;
    double oldest = history_time(rt, oldest_kept(rt));
    uint64_t bits;
    memcpy(&bits, &oldest, sizeof bits);
    atomic_store_explicit(&rt->oldest_time_bits, bits, memory_order_release);
    atomic_store_explicit(&rt->oldest_sample, oldest_kept(rt), memory_order_release);
}

static double mean_of(const double *v, const int *idx, int n, int P)
{
    double sum = 0;
    for (int i = 0; i < n; i++) sum += v[idx ? idx[i] : i];
    (void)P;
    return sum / n;
}

/* The state indices of the window just ended from its band powers, and their calibration. */
static void state_indices(stream_rt *rt, double *row, int *calibrating)
{
    const int P = rt->n_picks;
    double idx[BTFM_STREAM_N_INDICES];
    for (int i = 0; i < BTFM_STREAM_N_INDICES; i++) idx[i] = NAN;
    if (rt->indices_ok) {
        const double *theta = rt->power + (size_t)rt->index_band[0] * P,
                     *alpha = rt->power + (size_t)rt->index_band[1] * P,
                     *beta = rt->power + (size_t)rt->index_band[2] * P;
        const double fm_theta = mean_of(theta, rt->role[0], rt->n_role[0], P);
        const double post_alpha = mean_of(alpha, rt->role[1], rt->n_role[1], P);
        idx[BTFM_STREAM_INDEX_FM_THETA] = log10(fm_theta);
        idx[BTFM_STREAM_INDEX_THETA_ALPHA] = fm_theta / post_alpha;
        idx[BTFM_STREAM_INDEX_ENGAGEMENT] =
            (mean_of(theta, NULL, P, P) + mean_of(alpha, NULL, P, P)) / mean_of(beta, NULL, P, P);
        idx[BTFM_STREAM_INDEX_POSTERIOR_ALPHA] = log10(post_alpha);
    }
    if (rt->eog >= 0) {
        const int64_t since = rt->n_samples - rt->blink_period;
        int64_t count = 0;
        for (int64_t i = rt->n_blinks - 1; i >= 0 && rt->n_blinks - i <= STREAM_BLINK_SLOTS; i--) {
            if (rt->blinks[i % STREAM_BLINK_SLOTS] < since) break;
            count++;
        }
        const int64_t span = rt->n_samples < rt->blink_period ? rt->n_samples : rt->blink_period;
        idx[BTFM_STREAM_INDEX_BLINK_RATE] = (double)count * 60.0 * rt->sfreq / (double)span;
    }
    /* calibration: the host switches it; this thread alone owns the statistics */
    const int request = atomic_load_explicit(&rt->calibration_request, memory_order_acquire);
    if (request && rt->calibration_state != 1) {
        rt->calibration_state = 1;
        for (int i = 0; i < BTFM_STREAM_N_INDICES; i++)
            rt->cal_n[i] = rt->cal_mean[i] = rt->cal_m2[i] = 0;
    } else if (!request && rt->calibration_state == 1) {
        rt->calibration_state = 2;
        for (int i = 0; i < BTFM_STREAM_N_INDICES; i++)
            rt->z_sd[i] = rt->cal_n[i] >= 2 ? sqrt(rt->cal_m2[i] / (rt->cal_n[i] - 1)) : NAN;
    }
    *calibrating = rt->calibration_state == 1;
    for (int i = 0; i < BTFM_STREAM_N_INDICES; i++) {
        if (rt->calibration_state == 1 && isfinite(idx[i])) { /* Welford's update */
            rt->cal_n[i] += 1;
            double d = idx[i] - rt->cal_mean[i];
            rt->cal_mean[i] += d / rt->cal_n[i];
            rt->cal_m2[i] += d * (idx[i] - rt->cal_mean[i]);
        }
        row[rt->col_state + i] = idx[i];
        row[rt->col_z + i] = rt->calibration_state == 2 && rt->z_sd[i] > 0
                                 ? (idx[i] - rt->cal_mean[i]) / rt->z_sd[i]
                                 : NAN;
    }
}

static void clear_row(stream_rt *rt)
{
    for (int i = 0; i < rt->n_columns; i++) rt->row[i] = NAN;
}

static void emit_window(stream_rt *rt)
{
    const int P = rt->n_picks;
    const int64_t N = rt->n_samples, start = N - rt->window;
    double *row = rt->row;
    clear_row(rt);
    row[0] = history_time(rt, N - 1);
    row[1] = (double)(N - 1);
    row[2] = BTFM_STREAM_ROW_WINDOW;
    row[3] = 0;
    btfm_welch_sliding_band_power(rt->welch, rt->power);
    if (rt->band_span >= 0) {
        const double *span = rt->power + (size_t)rt->band_span * P;
        for (int b = 0; b < rt->n_bands; b++)
            for (int p = 0; p < P; p++) rt->power[(size_t)b * P + p] /= span[p];
    }
    memcpy(row + rt->col_bands, rt->power, sizeof(double) * (size_t)rt->n_bands * P);
    const int64_t n_blk = rt->window / rt->flat_block;
    unsigned all = 0;
    for (int p = 0; p < P; p++) {
        unsigned f = 0;
        if (rt->last_nonfinite[p] >= start) f |= BTFM_STREAM_FLAG_NONFINITE;
        if (rt->last_over[p] >= start) f |= BTFM_STREAM_FLAG_AMPLITUDE;
        if (rt->flat_limit > 0) {
            float lo = INFINITY, hi = -INFINITY;
            for (int64_t b = 0; b < n_blk; b++) {
                lo = fminf(lo, rt->blk_min[(size_t)b * P + p]);
                hi = fmaxf(hi, rt->blk_max[(size_t)b * P + p]);
            }
            if (hi - lo < rt->flat_limit) f |= BTFM_STREAM_FLAG_FLAT;
        }
        row[rt->col_flags + p] = f;
        all |= f;
    }
    int calibrating;
    state_indices(rt, row, &calibrating);
    if (calibrating) all |= BTFM_STREAM_FLAG_CALIBRATING;
    row[4] = all;
    if (rt->reward_windows) btfm_stream_reward_score(rt, row + rt->col_bands, row + rt->col_reward);
    btfm_stream_ring_put(rt, row);
}

void btfm_stream_rt_warm(stream_rt *rt, const float *zeros)
{
    double times[128];
    while (rt->n_samples < rt->window) {
        int64_t len = rt->window - rt->n_samples;
        if (len > rt->block) len = rt->block;
        for (int64_t t = 0; t < len; t++) times[t] = (double)(rt->n_samples + t) / rt->sfreq;
        process_block(rt, zeros, len, times);
    }
    emit_window(rt);
}

/* The sample nearest to `time` among those kept (the earlier one on a tie). */
static int64_t nearest_sample(const stream_rt *rt, double time)
{
    int64_t lo = oldest_kept(rt), hi = rt->n_samples - 1;
    while (lo < hi) { /* first sample with time >= `time` */
        int64_t mid = lo + (hi - lo) / 2;
        if (history_time(rt, mid) < time)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo > oldest_kept(rt) && time - history_time(rt, lo - 1) <= history_time(rt, lo) - time)
        lo--;
    return lo;
}

static void emit_epoch(stream_rt *rt, const stream_pending *m, int64_t start)
{
    const int P = rt->n_picks;
    const int64_t T = rt->geo.n_times;
    double *row = rt->row;
    clear_row(rt);
    row[0] = m->time;
    row[1] = (double)m->sample;
    row[2] = BTFM_STREAM_ROW_EPOCH;
    row[3] = m->code;
    if (start < 0) {
        row[4] = BTFM_STREAM_FLAG_OUTSIDE;
        btfm_stream_ring_put(rt, row);
        return;
    }
    for (int64_t t = 0; t < T; t++)
        memcpy(rt->epoch + (size_t)t * P, rt->history + (size_t)((start + t) % rt->n_history) * P,
               sizeof(float) * (size_t)P);
    unsigned all = 0;
    for (int p = 0; p < P; p++) {
        unsigned f = 0;
        for (int64_t t = 0; t < T; t++) {
            float v = rt->epoch[(size_t)t * P + p];
            if (!isfinite(v)) f |= BTFM_STREAM_FLAG_NONFINITE;
            if (rt->amplitude_limit > 0 && fabsf(v) > rt->amplitude_limit)
                f |= BTFM_STREAM_FLAG_AMPLITUDE;
        }
        row[rt->col_flags + p] = f;
        all |= f;
    }
    row[4] = all;
    btfm_epoch_finish(&rt->geo, rt->epoch, P, NULL, rt->epoch_work);
    for (int w = 0; w < rt->n_erp; w++) {
        btfm_erp_mean_amplitude(rt->epoch, 1, T, P, rt->sfreq, rt->tmin, rt->erp[2 * w],
                                rt->erp[2 * w + 1], BTFM_ALLOW_NONFINITE, rt->erp_out);
        for (int p = 0; p < P; p++) row[rt->col_erp + w * P + p] = rt->erp_out[p];
    }
    if (rt->reward_epochs) btfm_stream_reward_score(rt, row + rt->col_erp, row + rt->col_reward);
    btfm_stream_ring_put(rt, row);
}

/* Markers in, epochs out once their last sample is here (or never can be). */
static void process_markers(stream_rt *rt)
{
    stream_marker m;
    while (rt->n_pending < STREAM_PENDING && btfm_stream_marker_take(rt, &m))
        rt->pending[rt->n_pending++] = (stream_pending){m.time, m.code, m.sample};
    if (rt->n_samples == 0) return;
    const int64_t last = rt->n_samples - 1, oldest = oldest_kept(rt);
    int kept = 0;
    for (int i = 0; i < rt->n_pending; i++) {
        stream_pending *p = &rt->pending[i];
        int done = 0;
        if (isnan(p->time) && p->sample >= oldest && p->sample <= last)
            p->time = history_time(rt, p->sample); /* given by sample: its time is here */
        if (p->sample < 0 && p->time <= history_time(rt, last)) {
            if (p->time < history_time(rt, oldest) - 0.5 / rt->sfreq) {
                p->sample = -1;
                emit_epoch(rt, p, -1); /* before the history: flagged, no values */
                done = 1;
            } else {
                p->sample = nearest_sample(rt, p->time);
            }
        }
        if (!done && p->sample >= 0) {
            const int64_t start = p->sample + rt->geo.offset;
            if (start + rt->geo.n_times - 1 <= last) {
                emit_epoch(rt, p, start >= oldest ? start : -1);
                done = 1;
            }
        }
        if (!done) rt->pending[kept++] = *p;
    }
    rt->n_pending = kept;
}

/* Rows a push of n samples may make at most: its windows and every waiting marker. */
static uint64_t rows_needed(stream_rt *rt, int64_t n)
{
    int64_t first = next_window_end(rt), windows = 0;
    if (first <= rt->n_samples + n) windows = 1 + (rt->n_samples + n - first) / rt->hop;
    uint64_t markers = atomic_load_explicit(&rt->marker_head, memory_order_acquire) -
                       atomic_load_explicit(&rt->marker_tail, memory_order_relaxed);
    return (uint64_t)windows + (uint64_t)rt->n_pending + markers;
}

static btfm_status check_times(const stream_rt *rt, const double *ts, int64_t n, const char *func)
{
    for (int64_t i = 0; i < n; i++) {
        const double prev = i ? ts[i - 1] : rt->last_time;
        if (!isfinite(ts[i]))
            return btfm_fail(BTFM_E_INVALID, "%s: timestamps[%lld] = %g; expected finite times "
                             "in s", func, (long long)i, ts[i]);
        if ((i || rt->have_time) && ts[i] < prev)
            return btfm_fail(BTFM_E_INVALID, "%s: timestamps[%lld] = %.9g s is before the "
                             "previous sample's %.9g s; expected non-decreasing times (nothing "
                             "of this chunk was taken)", func, (long long)i, ts[i], prev);
    }
    return BTFM_OK;
}

btfm_status btfm_stream_push(btfm_stream *s, const float *chunk, int64_t n_samples,
                             int n_channels, const double *timestamps)
{
    static const char func[] = "btfm_stream_push";
    BTFM_CHECK_ARG(s, func, "stream");
    stream_rt *rt = s->rt;
    if (!rt) return btfm_fail(BTFM_E_STATE, "%s: configure the stream first", func);
    if (n_channels != rt->n_channels)
        return btfm_fail(BTFM_E_INVALID, "%s: the chunk has %d channels; the stream was "
                         "configured for %d (n_channels)", func, n_channels, rt->n_channels);
    if (n_samples < 0)
        return btfm_fail(BTFM_E_RANGE, "%s: n_samples = %lld; expected >= 0", func,
                         (long long)n_samples);
    if (n_samples == 0) return BTFM_OK;
    BTFM_CHECK_ARG(chunk, func, "chunk");
    if (timestamps) {
        btfm_status st = check_times(rt, timestamps, n_samples, func);
        if (st) return st;
    }
    if (rt->overflow == BTFM_STREAM_REFUSE) {
        const uint64_t need = rows_needed(rt, n_samples);
        if (need > rt->capacity)
            return btfm_fail(BTFM_E_RANGE, "%s: %lld samples make up to %llu rows, more than "
                             "the output ring holds (%llu, capacity); push smaller chunks",
                             func, (long long)n_samples, (unsigned long long)need,
                             (unsigned long long)rt->capacity);
        if (need > btfm_stream_ring_free(rt))
            return btfm_fail(BTFM_E_AGAIN, "%s: the output ring has room for %llu rows and "
                             "this chunk may make %llu; pull rows, then push again", func,
                             (unsigned long long)btfm_stream_ring_free(rt),
                             (unsigned long long)need);
    }
    if (timestamps) rt->given_time = 1;
    double times[128];
    for (int64_t i = 0; i < n_samples;) {
        const int64_t end = next_window_end(rt);
        int64_t len = n_samples - i;
        if (len > rt->block) len = rt->block;
        if (len > end - rt->n_samples) len = end - rt->n_samples;
        for (int64_t t = 0; t < len; t++)
            times[t] = timestamps ? timestamps[i + t]
                       : rt->given_time ? rt->last_time + (double)(t + 1) / rt->sfreq
                                       : (double)(rt->n_samples + t) / rt->sfreq;
        process_block(rt, chunk + (size_t)i * rt->n_channels, len, times);
        if (rt->n_samples == end) emit_window(rt);
        process_markers(rt);
        i += len;
    }
    return BTFM_OK;
}
