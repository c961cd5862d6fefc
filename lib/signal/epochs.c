/* Epochs around events with MNE's conventions (mne.Epochs): sample offsets rounded half
 * to even, baseline mean over the epoch times within [bmin, bmax], rejection by
 * peak-to-peak amplitude per channel; from memory or from a dataset's windows. */
#include <math.h>
#include <string.h>
#include <strings.h>
#include <stdlib.h>
#include "signal_internal.h"
#include "io/dataset_internal.h"
#include "core/number.h"

int64_t btfm_epochs_n_times(double tmin, double tmax, double sfreq)
{
    if (!(sfreq > 0) || !isfinite(sfreq))
        return btfm_fail(BTFM_E_RANGE, "btfm_epochs: sfreq = %g Hz must be positive and finite", sfreq);
    if (!isfinite(tmin) || !isfinite(tmax) || fabs(tmin * sfreq) > 1e15 || fabs(tmax * sfreq) > 1e15)
        return btfm_fail(BTFM_E_RANGE, "btfm_epochs: tmin = %g s and tmax = %g s must be finite",
                         tmin, tmax);
    int64_t first = (int64_t)nearbyint(tmin * sfreq), last = (int64_t)nearbyint(tmax * sfreq);
    if (last < first)
        return btfm_fail(BTFM_E_RANGE, "btfm_epochs: tmax = %g s is before tmin = %g s", tmax, tmin);
    return last - first + 1;
}

btfm_status btfm_epoch_geometry_make(btfm_epoch_geometry *plan, double tmin, double tmax,
                                     double bmin, double bmax, double sfreq)
{
    plan->n_times = btfm_epochs_n_times(tmin, tmax, sfreq);
    if (plan->n_times < 0) return (btfm_status)plan->n_times;
    plan->offset = (int64_t)nearbyint(tmin * sfreq);
    plan->base_lo = plan->base_hi = 0;
    if (isnan(bmin) && isnan(bmax)) return BTFM_OK;
    if (isnan(bmin) || isnan(bmax) || bmin > bmax)
        return btfm_fail(BTFM_E_RANGE, "btfm_epochs: baseline [%g, %g] s: give both ends (NaN "
                         "and NaN for none; -INFINITY/+INFINITY for the epoch's edges), "
                         "min <= max", bmin, bmax);
    /* mne.baseline.rescale: first time >= bmin, last time <= bmax (times = samples / sfreq). */
    int64_t lo = -1, hi = -1;
    for (int64_t i = 0; i < plan->n_times; i++) {
        double t = (double)(plan->offset + i) / sfreq;
        if (lo < 0 && t >= bmin) lo = i;
        if (t <= bmax) hi = i + 1;
    }
    if (lo < 0 || hi < 0 || lo >= hi)
        return btfm_fail(BTFM_E_RANGE, "btfm_epochs: baseline [%g, %g] s holds no sample of the "
                         "epoch [%g, %g] s", bmin, bmax, plan->offset / sfreq,
                         (plan->offset + plan->n_times - 1) / sfreq);
    plan->base_lo = lo;
    plan->base_hi = hi;
    return BTFM_OK;
}

/* Baseline-correct one epoch in place; return the first channel whose peak-to-peak
 * amplitude exceeds its limit, or BTFM_EPOCH_KEPT. */
int btfm_epoch_finish(const btfm_epoch_geometry *plan, float *e, int n_channels,
                      const double *reject, double *work)
{
    const size_t C = (size_t)n_channels;
    double *lo = work, *hi = work + C, *mean = work + 2 * C;
    for (size_t c = 0; c < C; c++) lo[c] = INFINITY, hi[c] = -INFINITY, mean[c] = 0;
    for (int64_t t = 0; t < plan->n_times; t++) {
        const float *row = e + (size_t)t * C;
        for (size_t c = 0; c < C; c++) {
            lo[c] = row[c] < lo[c] ? row[c] : lo[c];
            hi[c] = row[c] > hi[c] ? row[c] : hi[c];
        }
    }
    int reason = BTFM_EPOCH_KEPT;
    if (reject)
        for (size_t c = 0; c < C && reason == BTFM_EPOCH_KEPT; c++)
            if (reject[c] > 0 && hi[c] - lo[c] > reject[c]) reason = (int)c;
    if (reason != BTFM_EPOCH_KEPT || plan->base_hi == plan->base_lo) return reason;
    for (int64_t t = plan->base_lo; t < plan->base_hi; t++)
        for (size_t c = 0; c < C; c++) mean[c] += e[(size_t)t * C + c];
    for (size_t c = 0; c < C; c++) mean[c] /= (double)(plan->base_hi - plan->base_lo);
    for (int64_t t = 0; t < plan->n_times; t++)
        for (size_t c = 0; c < C; c++) e[(size_t)t * C + c] = (float)(e[(size_t)t * C + c] - mean[c]);
    return reason;
}

typedef btfm_status (*fetch_fn)(void *ctx, int64_t first, int64_t count, float *out);

/* The loop shared by both forms: fetch each window, check it, keep it or not. */
static btfm_status cut(const char *func, const btfm_epoch_geometry *plan, int64_t n_times, int n_channels,
                       const int64_t *starts, int64_t n_events, const double *reject,
                       unsigned flags, fetch_fn fetch, void *ctx, float *out, int64_t *n_kept,
                       unsigned char *kept, int *reason)
{
    double *work = btfm_malloc(3 * (size_t)n_channels * sizeof(double));
    if (!work) return btfm_fail_nomem(func, 3 * (size_t)n_channels * sizeof(double));
    const size_t epoch_floats = (size_t)plan->n_times * (size_t)n_channels;
    int64_t count = 0;
    btfm_status st = BTFM_OK;
    for (int64_t e = 0; e < n_events && st == BTFM_OK; e++) {
        int64_t first = starts[e] + plan->offset;
        int r = BTFM_EPOCH_OUT_OF_BOUNDS;
        if (first >= 0 && first <= n_times - plan->n_times) {
            float *dst = out + (size_t)count * epoch_floats;
            st = fetch(ctx, first, plan->n_times, dst);
            if (st == BTFM_OK)
                st = btfm_signal_check_finite(func, dst, plan->n_times, n_channels, first, flags);
            if (st != BTFM_OK) break;
            r = btfm_epoch_finish(plan, dst, n_channels, reject, work);
            if (r == BTFM_EPOCH_KEPT) count++;
        }
        if (kept) kept[e] = r == BTFM_EPOCH_KEPT;
        if (reason) reason[e] = r;
    }
    btfm_free(work);
    if (st == BTFM_OK && n_kept) *n_kept = count;
    return st;
}

static btfm_status check_common(const char *func, int64_t n_events, const float *out,
                                int64_t *n_kept)
{
    if (n_events < 0)
        return btfm_fail(BTFM_E_RANGE, "%s: n_events = %lld is negative", func, (long long)n_events);
    BTFM_CHECK_ARG(n_kept, func, "n_kept");
    if (n_events > 0) BTFM_CHECK_ARG(out, func, "out");
    return BTFM_OK;
}

typedef struct array_src {
    const float *x;
    int n_channels;
} array_src;

static btfm_status fetch_array(void *ctx, int64_t first, int64_t count, float *out)
{
    const array_src *a = ctx;
    memcpy(out, a->x + (size_t)first * (size_t)a->n_channels,
           (size_t)count * (size_t)a->n_channels * sizeof(float));
    return BTFM_OK;
}

btfm_status btfm_epochs_compute(const btfm_epochs_options *o, const float *x, int64_t n_times,
                                int n_channels, double sfreq, const int64_t *event_samples,
                                int64_t n_events, float *out, int64_t *n_kept,
                                unsigned char *kept, int *reason, const char *func)
{
    btfm_status st = btfm_signal_check_array(func, x, n_times, n_channels);
    if (st == BTFM_OK) st = check_common(func, n_events, out, n_kept);
    if (st != BTFM_OK) return st;
    if (n_events > 0) BTFM_CHECK_ARG(event_samples, func, "event_samples");
    btfm_epoch_geometry plan;
    if ((st = btfm_epoch_geometry_make(&plan, o->tmin, o->tmax, o->baseline_min, o->baseline_max, sfreq)))
        return st;
    array_src src = {x, n_channels};
    return cut(func, &plan, n_times, n_channels, event_samples, n_events, o->reject_ptp,
               o->flags, fetch_array, &src, out, n_kept, kept, reason);
}

btfm_status btfm_epochs(const float *x, int64_t n_times, int n_channels, double sfreq,
                        const int64_t *event_samples, int64_t n_events, double tmin, double tmax,
                        double baseline_min, double baseline_max, const double *reject_ptp,
                        unsigned flags, float *out, int64_t *n_kept, unsigned char *kept,
                        int *reason)
{
    const btfm_epochs_options o = {tmin, tmax, baseline_min, baseline_max, flags, reject_ptp,
                                   NULL};
    return btfm_epochs_compute(&o, x, n_times, n_channels, sfreq, event_samples, n_events, out,
                               n_kept, kept, reason, "btfm_epochs");
}

/* ---- datasets ---- */

btfm_status btfm_dataset_reject_limits(const btfm_dataset *ds, const char *spec, double *reject_ptp)
{
    static const char func[] = "btfm_dataset_reject_limits";
    BTFM_CHECK_ARG(ds, func, "dataset");
    BTFM_CHECK_ARG(reject_ptp, func, "reject_ptp");
    int n_channels = btfm_dataset_n_channels(ds);
    for (int c = 0; c < n_channels; c++) reject_ptp[c] = 0;
    for (const char *p = spec ? spec : ""; *p;) {
        while (*p == ' ' || *p == ',') p++;
        if (!*p) break;
        const char *eq = strchr(p, '=');
        size_t len = eq ? (size_t)(eq - p) : 0;
        char name[32];
        if (!eq || len == 0 || len >= sizeof name)
            return btfm_fail(BTFM_E_FORMAT, "%s: \"%s\": expected TYPE=LIMIT items separated by "
                             "commas, e.g. \"eeg=100e-6,eog=250e-6\"", func, spec);
        memcpy(name, p, len);
        name[len] = 0;
        int type = btfm_channel_type_from_name(name);
        if (type <= 0)
            return btfm_fail(BTFM_E_NOTFOUND, "%s: \"%s\" is not a channel type (eeg, eog, ecg, "
                             "emg, meg_mag, meg_grad, ...)", func, name);
        char *end;
        double limit = btfm_strtod_c_end(eq + 1, &end);
        if (end == eq + 1 || !(limit > 0) || !isfinite(limit) || (*end && *end != ',' && *end != ' '))
            return btfm_fail(BTFM_E_FORMAT, "%s: the limit for %s must be a positive number "
                             "(peak-to-peak, in the channels' unit), got \"%.*s\"", func, name,
                             (int)strcspn(eq + 1, ","), eq + 1);
        for (int c = 0; c < n_channels; c++)
            if (btfm_dataset_channel_type(ds, c) == type && btfm_dataset_channel_bad(ds, c) != 1)
                reject_ptp[c] = limit;
        p = end;
    }
    return BTFM_OK;
}

static btfm_status fetch_dataset(void *ctx, int64_t first, int64_t count, float *out)
{
    return btfm_dataset_read((btfm_dataset *)ctx, first, count, NULL, 0, out);
}

btfm_status btfm_epochs_compute_dataset(const btfm_epochs_options *o, btfm_dataset *ds,
                                        const int64_t *events, int64_t n_events, float *out,
                                        int64_t *n_kept, unsigned char *kept, int *reason,
                                        const char *func)
{
    BTFM_CHECK_ARG(ds, func, "dataset");
    btfm_status st = check_common(func, n_events, out, n_kept);
    if (st != BTFM_OK) return st;
    int64_t n_ds_events = btfm_dataset_n_events(ds), n_times = btfm_dataset_n_times(ds);
    int n_channels = btfm_dataset_n_channels(ds);
    double sfreq = btfm_dataset_sfreq(ds);
    if (!events && n_events > n_ds_events)
        return btfm_fail(BTFM_E_RANGE, "%s: n_events = %lld but the dataset has %lld events",
                         func, (long long)n_events, (long long)n_ds_events);
    if (n_events == 0) { /* zero epochs is never what the caller meant */
        char known[400];
        btfm_dataset_event_labels_text(ds, known, sizeof known);
        return btfm_fail(BTFM_E_NOTFOUND, "%s: no events to cut epochs around (%s%s; "
                         "btfm_dataset_select_events chooses events by label)", func,
                         n_ds_events ? "the recording's event labels are: " : "the recording "
                         "has no events", known);
    }
    btfm_epoch_geometry plan;
    if ((st = btfm_epoch_geometry_make(&plan, o->tmin, o->tmax, o->baseline_min, o->baseline_max, sfreq)))
        return st;
    size_t bytes = ((size_t)n_events + 1) * sizeof(int64_t) + (size_t)n_channels * sizeof(double);
    int64_t *starts = btfm_malloc(bytes);
    if (!starts) return btfm_fail_nomem(func, bytes);
    double *limits = (double *)(starts + n_events + 1);
    const char *spec = o->reject_spec;
    st = btfm_dataset_reject_limits(ds, spec, limits);
    for (int64_t e = 0; e < n_events && st == BTFM_OK; e++) {
        int64_t index = events ? events[e] : e;
        double onset;
        if (index < 0 || index >= n_ds_events)
            st = btfm_fail(BTFM_E_RANGE, "%s: events[%lld] = %lld is not an event index in [0, %lld)",
                           func, (long long)e, (long long)index, (long long)n_ds_events);
        else if ((st = btfm_dataset_event(ds, index, &onset, NULL, NULL, NULL, NULL)) == BTFM_OK)
            starts[e] = (int64_t)nearbyint(onset * sfreq);
    }
    const double *reject = spec && *spec ? limits : o->reject_ptp;
    if (st == BTFM_OK)
        st = cut(func, &plan, n_times, n_channels, starts, n_events, reject, o->flags,
                 fetch_dataset, ds, out, n_kept, kept, reason);
    btfm_free(starts);
    return st;
}

btfm_status btfm_dataset_epochs(btfm_dataset *ds, const int64_t *events, int64_t n_events,
                                double tmin, double tmax, double baseline_min,
                                double baseline_max, const char *reject, unsigned flags,
                                float *out, int64_t *n_kept, unsigned char *kept, int *reason)
{
    const btfm_epochs_options o = {tmin, tmax, baseline_min, baseline_max, flags, NULL, reject};
    return btfm_epochs_compute_dataset(&o, ds, events, n_events, out, n_kept, kept, reason,
                                       "btfm_dataset_epochs");
}
