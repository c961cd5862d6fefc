/* btfm_reward_features: from a recording and its events to one feature row per item (or
 * per gaze-marked segment) in one call: zero-phase band-pass, epochs around each event
 * with a baseline, ERP window means, log band powers, the novelty window after the item's
 * onset, optionally in a fitted aligner's shared space. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <btfm/aligner.h>
#include <btfm/signal.h>
#include <btfm/spectrum.h>
#include "reward_internal.h"
#include "core/number.h"
#include "core/progress.h"
#include "dense/dense.h"
#include "io/dataset_internal.h"

#define FEATURES_PARAM_COUNT 12

static const btfm_param_def feature_params[FEATURES_PARAM_COUNT] = {
    {"l_freq", BTFM_PARAM_REAL, 0.5, 0, 1e4, "High-pass edge of the band-pass in Hz (0: low-pass only)."},
    {"h_freq", BTFM_PARAM_REAL, 30, 0, 1e4, "Low-pass edge in Hz (0: high-pass only)."},
    {"filter_order", BTFM_PARAM_INT, 4, 1, 16, "Butterworth order (applied forward and backward)."},
    {"tmin", BTFM_PARAM_REAL, -0.2, -60, 60, "Epoch start in seconds from the event."},
    {"tmax", BTFM_PARAM_REAL, 0.8, -60, 60, "Epoch end in seconds from the event."},
    {"erp_start", BTFM_PARAM_REAL, 0.05, -60, 60, "Start of the first ERP window (s)."},
    {"erp_stop", BTFM_PARAM_REAL, 0.65, -60, 60, "End of the last ERP window (s)."},
    {"erp_step", BTFM_PARAM_REAL, 0.1, 0.001, 60, "Width of each ERP window (s)."},
    {"band_power", BTFM_PARAM_BOOL, 1, 0, 1,
     "Log10 theta (4-8 Hz) and alpha (8-13 Hz) power over the epoch after the event."},
    {"onset_window", BTFM_PARAM_BOOL, 1, 0, 1,
     "Mean amplitude 0.3-0.4 s after the item's onset (the novelty P3a), from the last "
     "onset event before each row's event."},
    {"baseline", BTFM_PARAM_BOOL, 1, 0, 1, "Subtract each channel's mean from tmin to 0 s."},
    {"eeg_only", BTFM_PARAM_BOOL, 1, 0, 1, "Use EEG channels only (no EOG, ECG, stim)."},
};

const btfm_param_table btfm_reward_features_param_table = {
    BTFM_OBJECT_REWARD_FEATURES, "reward_features", FEATURES_PARAM_COUNT, feature_params,
};

struct btfm_reward_features {
    double params[FEATURES_PARAM_COUNT];
    char event[64], onset_event[64];
    btfm_aligner *aligner;
    int subject;
    btfm_progress_fn progress;
    void *progress_user;
    /* the last computation */
    int64_t n_rows, n_features, n_epoch_times;
    int n_sources;        /* channels used, or the aligner's components */
    float *matrix;        /* n_rows x n_features */
    float *epochs;        /* n_rows x n_epoch_times x n_sources */
    int64_t *events;      /* dataset event index of each row */
    int64_t *table_rows;  /* its row of the dataset's events table then, or -1 */
    int32_t *roles;
    char **names;
    char *config;
};

btfm_status btfm_reward_features_new(btfm_reward_features **out)
{
    BTFM_CHECK_ARG(out, "btfm_reward_features_new", "out");
    btfm_reward_features *fb = btfm_calloc(1, sizeof *fb);
    if (!fb) return btfm_fail_nomem("btfm_reward_features_new", sizeof *fb);
    btfm_params_defaults(&btfm_reward_features_param_table, fb->params);
    strcpy(fb->event, "item_end");
    strcpy(fb->onset_event, "item_onset");
    *out = fb;
    return BTFM_OK;
}

static void clear_result(btfm_reward_features *fb)
{
    for (int64_t j = 0; fb->names && j < fb->n_features; j++) btfm_free(fb->names[j]);
    btfm_free(fb->names);
    btfm_free(fb->matrix);
    btfm_free(fb->epochs);
    btfm_free(fb->events);
    btfm_free(fb->table_rows);
    btfm_free(fb->roles);
    btfm_free(fb->config);
    fb->names = NULL, fb->matrix = NULL, fb->epochs = NULL, fb->events = NULL;
    fb->table_rows = NULL;
    fb->roles = NULL, fb->config = NULL;
    fb->n_rows = fb->n_features = 0;
}

void btfm_reward_features_free(btfm_reward_features *fb)
{
    if (!fb) return;
    clear_result(fb);
    btfm_aligner_free(fb->aligner);
    btfm_free(fb);
}

btfm_status btfm_reward_features_set_param(btfm_reward_features *fb, int param, double value)
{
    BTFM_CHECK_ARG(fb, "btfm_reward_features_set_param", "features");
    return btfm_params_set(&btfm_reward_features_param_table, fb->params, param, value,
                           "btfm_reward_features_set_param");
}

btfm_status btfm_reward_features_get_param(const btfm_reward_features *fb, int param,
                                           double *value)
{
    BTFM_CHECK_ARG(fb, "btfm_reward_features_get_param", "features");
    return btfm_params_get(&btfm_reward_features_param_table, fb->params, param, value,
                           "btfm_reward_features_get_param");
}

btfm_status btfm_reward_features_set_progress(btfm_reward_features *fb, btfm_progress_fn fn,
                                              void *user)
{
    BTFM_CHECK_ARG(fb, "btfm_reward_features_set_progress", "features");
    fb->progress = fn;
    fb->progress_user = user;
    return BTFM_OK;
}

btfm_status btfm_reward_features_set_events(btfm_reward_features *fb, const char *event,
                                            const char *onset_event)
{
    const char *func = "btfm_reward_features_set_events";
    BTFM_CHECK_ARG(fb, func, "features");
    BTFM_CHECK_ARG(event, func, "event");
    if (!*event || strlen(event) >= sizeof fb->event ||
        (onset_event && strlen(onset_event) >= sizeof fb->onset_event))
        return btfm_fail(BTFM_E_INVALID, "%s: event labels must be 1 to %zu bytes", func,
                         sizeof fb->event - 1);
    strcpy(fb->event, event);
    strcpy(fb->onset_event, onset_event ? onset_event : "");
    return BTFM_OK;
}

btfm_status btfm_reward_features_set_aligner(btfm_reward_features *fb,
                                             const btfm_aligner *aligner, int subject)
{
    const char *func = "btfm_reward_features_set_aligner";
    BTFM_CHECK_ARG(fb, func, "features");
    btfm_aligner *copy = NULL;
    if (aligner) {
        int n_subjects;
        btfm_status st = btfm_aligner_n_subjects(aligner, &n_subjects);
        if (st) return st;
        if (btfm_aligner_is_fitted(aligner) != 1)
            return btfm_fail(BTFM_E_STATE, "%s: the aligner is not fitted", func);
        if (subject < 0 || subject >= n_subjects)
            return btfm_fail(BTFM_E_INVALID, "%s: subject is %d; the aligner has subjects 0 .. %d",
                             func, subject, n_subjects - 1);
        size_t size;
        void *bytes = NULL;
        st = btfm_aligner_save_buffer(aligner, NULL, 0, &size);
        if (!st && !(bytes = btfm_malloc(size))) st = btfm_fail_nomem(func, size);
        if (!st) st = btfm_aligner_save_buffer(aligner, bytes, size, &size);
        if (!st) st = btfm_aligner_load_buffer(&copy, bytes, size);
        btfm_free(bytes);
        if (st) return st;
    }
    btfm_aligner_free(fb->aligner);
    fb->aligner = copy;
    fb->subject = subject;
    return BTFM_OK;
}

/* Windows of the ERP part: [erp_start + w step, + step] up to erp_stop. */
static int n_windows(const btfm_reward_features *fb)
{
    double a = fb->params[5], b = fb->params[6], s = fb->params[7];
    int n = (int)floor((b - a) / s + 1e-9);
    return n > 0 ? n : 0;
}

static char *text_copy(const char *s)
{
    char *p = btfm_malloc(strlen(s) + 1);
    if (p) strcpy(p, s);
    return p;
}

/* Names, roles and the configuration text of the feature layout. */
static btfm_status describe(btfm_reward_features *fb, btfm_dataset *ds, const int *channels,
                            int n_channels, const char *func)
{
    const int W = n_windows(fb), S = fb->n_sources;
    const int bands = fb->params[8] != 0, onset = fb->params[9] != 0 && fb->onset_event[0];
    fb->n_features = (int64_t)S * (W + 2 * bands + onset);
    fb->names = btfm_calloc((size_t)fb->n_features, sizeof *fb->names);
    fb->roles = btfm_malloc((size_t)fb->n_features * sizeof *fb->roles);
    if (!fb->names || !fb->roles) return btfm_fail_nomem(func, (size_t)fb->n_features * 12);
    char name[160], source[64];
    int64_t j = 0;
    const int common = BTFM_REWARD_ROLE_VALUE | BTFM_REWARD_ROLE_CONFIDENCE | BTFM_REWARD_ROLE_PENALTY;
    for (int part = 0; part < W + 2 * bands + onset; part++)
        for (int s = 0; s < S; s++, j++) {
            if (fb->aligner) snprintf(source, sizeof source, "component%d", s + 1);
            else snprintf(source, sizeof source, "%s", btfm_dataset_channel_name(ds, channels[s]));
            if (part < W) {
                double a = fb->params[5] + part * fb->params[7];
                btfm_snprintf_c(name, sizeof name, "%s:erp:%.3f-%.3f", source, a, a + fb->params[7]);
                fb->roles[j] = common;
            } else if (part < W + 2 * bands) {
                snprintf(name, sizeof name, "%s:%s", source, part == W ? "theta" : "alpha");
                fb->roles[j] = BTFM_REWARD_ROLE_VALUE | BTFM_REWARD_ROLE_CONFIDENCE;
            } else {
                snprintf(name, sizeof name, "%s:onset:0.300-0.400", source);
                fb->roles[j] = BTFM_REWARD_ROLE_NOVELTY;
            }
            if (!(fb->names[j] = text_copy(name))) return btfm_fail_nomem(func, sizeof name);
        }
    /* The configuration: everything that decides what a column means. */
    size_t cap = 512;
    for (int c = 0; c < n_channels; c++) cap += strlen(btfm_dataset_channel_name(ds, channels[c])) + 1;
    fb->config = btfm_malloc(cap);
    if (!fb->config) return btfm_fail_nomem(func, cap);
    int len = btfm_snprintf_c(fb->config, cap, "event=%s onset=%s filter=%g-%g/%d epoch=%g..%g "
                       "baseline=%d erp=%g..%g/%g bands=%d aligner=%d sources=%d channels=",
                       fb->event, onset ? fb->onset_event : "-", fb->params[0], fb->params[1],
                       (int)fb->params[2], fb->params[3], fb->params[4], (int)fb->params[10],
                       fb->params[5], fb->params[6], fb->params[7], bands,
                       fb->aligner != NULL, S);
    for (int c = 0; c < n_channels && len > 0 && (size_t)len < cap; c++)
        len += snprintf(fb->config + len, cap - (size_t)len, "%s%s", c ? "," : "",
                        btfm_dataset_channel_name(ds, channels[c]));
    return BTFM_OK;
}

/* Epochs (n_events x T x n_channels of the chosen channels) around the listed samples. */
static btfm_status cut(const btfm_reward_features *fb, const float *x, int64_t n_times,
                       int n_all, const int *channels, int n_channels, double sfreq,
                       const int64_t *samples, int64_t n_events, double tmin, double tmax,
                       int baseline, float *out, const char *func)
{
    const int64_t T = btfm_epochs_n_times(tmin, tmax, sfreq);
    float *all = btfm_dense_zeros_f(n_events * T, n_all, func);
    unsigned char *kept = btfm_malloc((size_t)n_events);
    int64_t n_kept;
    btfm_status st = all && kept ? BTFM_OK : BTFM_E_NOMEM;
    if (!st) st = btfm_epochs(x, n_times, n_all, sfreq, samples, n_events, tmin, tmax,
                              baseline ? -INFINITY : NAN, baseline ? 0.0 : NAN, NULL, 0, all,
                              &n_kept, kept, NULL);
    (void)fb;
    for (int64_t e = 0; !st && e < n_events; e++)
        if (!kept[e]) {
            st = btfm_fail(BTFM_E_RANGE, "%s: event %lld at sample %lld: the epoch %g..%g s "
                           "reaches outside the recording", func, (long long)e,
                           (long long)samples[e], tmin, tmax);
        }
    /* kept epochs are consecutive; all were kept. */
    for (int64_t r = 0; !st && r < n_events * T; r++)
        for (int c = 0; c < n_channels; c++)
            out[r * n_channels + c] = all[r * n_all + channels[c]];
    btfm_free(all);
    btfm_free(kept);
    return st;
}

btfm_status btfm_reward_features_compute(btfm_reward_features *fb, btfm_dataset *ds)
{
    const char *func = "btfm_reward_features_compute";
    BTFM_CHECK_ARG(fb, func, "features");
    BTFM_CHECK_ARG(ds, func, "dataset");
    clear_result(fb);
    const double sfreq = btfm_dataset_sfreq(ds);
    const int64_t n_times = btfm_dataset_n_times(ds);
    const int n_all = btfm_dataset_n_channels(ds);
    const double tmin = fb->params[3], tmax = fb->params[4];
    const int W = n_windows(fb);
    if (!(tmin < 0 && tmax > 0) || fb->params[5] < 0 || fb->params[6] > tmax)
        return btfm_fail(BTFM_E_INVALID, "%s: the epoch %g..%g s must contain 0 and the ERP "
                         "windows %g..%g s", func, tmin, tmax, fb->params[5], fb->params[6]);
    btfm_progress prog;
    btfm_status st = btfm_progress_start(&prog, fb->progress, fb->progress_user, "features");
    if (st) return st;
    int *channels = btfm_malloc((size_t)(n_all > 0 ? n_all : 1) * sizeof *channels);
    unsigned char *bad = btfm_calloc((size_t)(n_all > 0 ? n_all : 1), 1);
    if (!channels || !bad) st = btfm_fail_nomem(func, (size_t)n_all * 5);
    int n_channels = 0;
    for (int c = 0; !st && c < n_all; c++) {
        int type = btfm_dataset_channel_type(ds, c);
        int is_bad = btfm_dataset_channel_bad(ds, c) == 1;
        if (fb->aligner && is_bad) continue; /* the aligner was fitted on good channels */
        if (fb->params[11] != 0 ? type == BTFM_CH_EEG : type != BTFM_CH_STIM) {
            bad[n_channels] = (unsigned char)is_bad;
            channels[n_channels++] = c;
        }
    }
    if (!st && n_channels == 0)
        st = btfm_fail(BTFM_E_INVALID, "%s: the recording has no %s channel", func,
                       fb->params[11] != 0 ? "EEG" : "data");
    /* The events: rows are the events labelled `event`; each has the last onset before. */
    const int64_t n_ev = btfm_dataset_n_events(ds);
    int64_t n_rows = 0;
    fb->events = btfm_malloc((size_t)(n_ev > 0 ? n_ev : 1) * sizeof *fb->events);
    fb->table_rows = btfm_malloc((size_t)(n_ev > 0 ? n_ev : 1) * sizeof *fb->table_rows);
    int64_t *samples = btfm_malloc((size_t)(n_ev > 0 ? n_ev : 1) * 2 * sizeof *samples);
    if (!st && (!fb->events || !fb->table_rows || !samples))
        st = btfm_fail_nomem(func, (size_t)n_ev * 32);
    int64_t last_onset = -1;
    int onset = fb->params[9] != 0 && fb->onset_event[0];
    for (int64_t e = 0; !st && e < n_ev; e++) {
        double t;
        const char *label;
        st = btfm_dataset_event(ds, e, &t, NULL, NULL, &label, NULL);
        if (st) break;
        int64_t s = (int64_t)floor(t * sfreq + 0.5);
        if (onset && label && strcmp(label, fb->onset_event) == 0) last_onset = s;
        if (label && strcmp(label, fb->event) == 0) {
            if (onset && last_onset < 0) {
                st = btfm_fail(BTFM_E_FORMAT, "%s: event %lld (%s at %g s) has no %s event "
                               "before it; set onset_window 0 or name the onset event", func,
                               (long long)e, fb->event, t, fb->onset_event);
                break;
            }
            fb->events[n_rows] = e;
            fb->table_rows[n_rows] = ds->events[e].row;
            samples[n_rows] = s;
            samples[n_ev + n_rows] = last_onset;
            n_rows++;
        }
    }
    if (!st && n_rows == 0)
        st = btfm_fail(BTFM_E_NOTFOUND, "%s: the recording has no \"%s\" event", func, fb->event);
    float *x = NULL;
    if (!st && !(x = btfm_dense_zeros_f(n_times, n_all, func))) st = BTFM_E_NOMEM;
    if (!st) {
        /* Zero-phase band-pass (or one edge) of every channel. */
        double lo = fb->params[0], hi = fb->params[1];
        int order = (int)fb->params[2];
        int kind = lo > 0 && hi > 0 ? BTFM_FILTER_BANDPASS : lo > 0 ? BTFM_FILTER_HIGHPASS
                                                                    : BTFM_FILTER_LOWPASS;
        if (lo <= 0 && hi <= 0) {
            st = btfm_dataset_read(ds, 0, n_times, NULL, 0, x);
        } else {
            double sos[6 * 32];
            st = btfm_butter(order, kind, lo > 0 ? lo : hi, hi, sfreq, sos, sizeof sos / sizeof *sos);
            if (!st) st = btfm_dataset_filter(ds, sos, btfm_butter_n_sections(order, kind), 0, x);
        }
    }
    if (!st) st = btfm_progress_update(&prog, "epochs", 0.5);
    const int64_t T = st ? 0 : btfm_epochs_n_times(tmin, tmax, sfreq);
    float *ep = NULL, *on = NULL;
    if (!st) {
        ep = btfm_dense_zeros_f(n_rows * T, n_channels, func);
        on = onset ? btfm_dense_zeros_f(n_rows * T, n_channels, func) : NULL;
        if (!ep || (onset && !on)) st = BTFM_E_NOMEM;
    }
    if (!st) st = cut(fb, x, n_times, n_all, channels, n_channels, sfreq, samples, n_rows, tmin,
                      tmax, fb->params[10] != 0, ep, func);
    if (!st && onset)
        st = cut(fb, x, n_times, n_all, channels, n_channels, sfreq, samples + n_ev, n_rows,
                 tmin, tmax, fb->params[10] != 0, on, func);
    btfm_free(x);
    /* Bad channels carry nothing: zeros. */
    for (int64_t r = 0; !st && r < n_rows * T; r++)
        for (int c = 0; c < n_channels; c++)
            if (bad[c]) {
                ep[r * n_channels + c] = 0;
                if (on) on[r * n_channels + c] = 0;
            }
    int S = n_channels;
    if (!st && fb->aligner) {
        int64_t K, V;
        st = btfm_aligner_n_components(fb->aligner, &K);
        if (!st) st = btfm_aligner_subject_features(fb->aligner, fb->subject, &V);
        if (!st && V != n_channels)
            st = btfm_fail(BTFM_E_INVALID, "%s: the aligner's subject %d has %lld features; the "
                           "recording has %d channels in use", func, fb->subject, (long long)V,
                           n_channels);
        float *a = NULL, *b = NULL;
        if (!st) {
            a = btfm_dense_zeros_f(n_rows * T, K, func);
            b = onset ? btfm_dense_zeros_f(n_rows * T, K, func) : NULL;
            if (!a || (onset && !b)) st = BTFM_E_NOMEM;
        }
        if (!st) st = btfm_aligner_transform(fb->aligner, fb->subject, ep, n_rows * T, V, a);
        if (!st && onset) st = btfm_aligner_transform(fb->aligner, fb->subject, on, n_rows * T, V, b);
        if (!st) {
            btfm_free(ep);
            btfm_free(on);
            ep = a, on = b, S = (int)K;
        } else {
            btfm_free(a);
            btfm_free(b);
        }
    }
    fb->n_sources = S;
    fb->n_epoch_times = T;
    if (!st) st = describe(fb, ds, channels, n_channels, func);
    if (!st) st = btfm_progress_update(&prog, "features", 0.7);
    const int bands = fb->params[8] != 0;
    double *amp = NULL;
    if (!st) {
        fb->n_rows = n_rows;
        fb->matrix = btfm_dense_zeros_f(n_rows, fb->n_features, func);
        amp = btfm_dense_zeros(n_rows, S, func);
        if (!fb->matrix || !amp) st = BTFM_E_NOMEM;
    }
    const int parts = W + 2 * bands + onset;
    for (int w = 0; !st && w < W; w++) {
        double a = fb->params[5] + w * fb->params[7];
        st = btfm_erp_mean_amplitude(ep, n_rows, T, S, sfreq, tmin, a, a + fb->params[7], 0, amp);
        for (int64_t r = 0; !st && r < n_rows; r++)
            for (int s = 0; s < S; s++)
                fb->matrix[r * fb->n_features + (int64_t)w * S + s] = (float)amp[r * S + s];
    }
    if (!st && onset) {
        st = btfm_erp_mean_amplitude(on, n_rows, T, S, sfreq, tmin, 0.3, 0.4, 0, amp);
        for (int64_t r = 0; !st && r < n_rows; r++)
            for (int s = 0; s < S; s++)
                fb->matrix[r * fb->n_features + (int64_t)(parts - 1) * S + s] = (float)amp[r * S + s];
    }
    if (!st && bands) {
        /* Welch over the epoch after the event, one segment: the periodogram. */
        const int64_t first = (int64_t)floor(-tmin * sfreq + 0.5), len = T - first;
        const int64_t nf = len / 2 + 1;
        double *psd = btfm_dense_zeros(nf, S, func), *freqs = btfm_dense_zeros(nf, 1, func);
        double *power = btfm_dense_zeros(2, S, func);
        const double edges[4] = {4, 8, 8, 13};
        if (!psd || !freqs || !power) st = BTFM_E_NOMEM;
        for (int64_t r = 0; !st && r < n_rows; r++) {
            st = btfm_welch(ep + (r * T + first) * S, len, S, sfreq, BTFM_WINDOW_HANN, len, 0, 0,
                            BTFM_DETREND_CONSTANT, BTFM_SCALING_DENSITY, BTFM_AVERAGE_MEAN, 0,
                            psd, freqs);
            if (!st) st = btfm_band_power(psd, freqs, nf, S, edges, 2, 0, power);
            for (int b = 0; !st && b < 2; b++)
                for (int s = 0; s < S; s++)
                    fb->matrix[r * fb->n_features + (int64_t)(W + b) * S + s] =
                        !fb->aligner && bad[s] ? 0.0f : (float)log10(power[b * S + s] + 1e-30);
        }
        btfm_free(psd);
        btfm_free(freqs);
        btfm_free(power);
    }
    btfm_free(amp);
    btfm_free(on);
    btfm_free(channels);
    btfm_free(bad);
    btfm_free(samples);
    if (!st) st = btfm_progress_done(&prog, "features");
    if (st) {
        btfm_free(ep);
        clear_result(fb);
        return st;
    }
    fb->epochs = ep;
    return BTFM_OK;
}

static btfm_status need_result(const btfm_reward_features *fb, const char *func)
{
    BTFM_CHECK_ARG(fb, func, "features");
    if (!fb->matrix)
        return btfm_fail(BTFM_E_STATE, "%s: no features yet (call btfm_reward_features_compute)",
                         func);
    return BTFM_OK;
}

int64_t btfm_reward_features_n_rows(const btfm_reward_features *fb)
{
    btfm_status st = need_result(fb, "btfm_reward_features_n_rows");
    return st ? st : fb->n_rows;
}

int64_t btfm_reward_features_n_features(const btfm_reward_features *fb)
{
    btfm_status st = need_result(fb, "btfm_reward_features_n_features");
    return st ? st : fb->n_features;
}

btfm_status btfm_reward_features_matrix(const btfm_reward_features *fb, float *out,
                                        size_t capacity)
{
    const char *func = "btfm_reward_features_matrix";
    btfm_status st = need_result(fb, func);
    if (st) return st;
    BTFM_CHECK_ARG(out, func, "out");
    size_t need = (size_t)fb->n_rows * (size_t)fb->n_features;
    if (capacity < need)
        return btfm_fail(BTFM_E_RANGE, "%s: out holds %zu floats; the features need %zu", func,
                         capacity, need);
    memcpy(out, fb->matrix, need * sizeof *out);
    return BTFM_OK;
}

btfm_status btfm_reward_features_epochs(const btfm_reward_features *fb, float *out,
                                        size_t capacity, int64_t *n_times, int *n_sources)
{
    const char *func = "btfm_reward_features_epochs";
    btfm_status st = need_result(fb, func);
    if (st) return st;
    size_t need = (size_t)fb->n_rows * (size_t)fb->n_epoch_times * (size_t)fb->n_sources;
    if (n_times) *n_times = fb->n_epoch_times;
    if (n_sources) *n_sources = fb->n_sources;
    if (!out) return BTFM_OK;
    if (capacity < need)
        return btfm_fail(BTFM_E_RANGE, "%s: out holds %zu floats; the epochs need %zu", func,
                         capacity, need);
    memcpy(out, fb->epochs, need * sizeof *out);
    return BTFM_OK;
}

btfm_status btfm_reward_features_events(const btfm_reward_features *fb, int64_t *out,
                                        size_t capacity)
{
    const char *func = "btfm_reward_features_events";
    btfm_status st = need_result(fb, func);
    if (st) return st;
    BTFM_CHECK_ARG(out, func, "out");
    if (capacity < (size_t)fb->n_rows)
        return btfm_fail(BTFM_E_RANGE, "%s: out holds %zu values; %lld rows", func, capacity,
                         (long long)fb->n_rows);
    memcpy(out, fb->events, (size_t)fb->n_rows * sizeof *out);
    return BTFM_OK;
}

btfm_status btfm_reward_features_roles(const btfm_reward_features *fb, int32_t *out,
                                       size_t capacity)
{
    const char *func = "btfm_reward_features_roles";
    btfm_status st = need_result(fb, func);
    if (st) return st;
    BTFM_CHECK_ARG(out, func, "out");
    if (capacity < (size_t)fb->n_features)
        return btfm_fail(BTFM_E_RANGE, "%s: out holds %zu values; %lld features", func,
                         capacity, (long long)fb->n_features);
    memcpy(out, fb->roles, (size_t)fb->n_features * sizeof *out);
    return BTFM_OK;
}

const char *btfm_reward_features_name(const btfm_reward_features *fb, int64_t feature)
{
    const char *func = "btfm_reward_features_name";
    if (need_result(fb, func)) return NULL;
    if (feature < 0 || feature >= fb->n_features) {
        btfm_fail(BTFM_E_RANGE, "%s: feature %lld of %lld", func, (long long)feature,
                  (long long)fb->n_features);
        return NULL;
    }
    return fb->names[feature];
}

const char *btfm_reward_features_config(const btfm_reward_features *fb)
{
    return need_result(fb, "btfm_reward_features_config") ? NULL : fb->config;
}

btfm_status btfm_reward_features_column(const btfm_reward_features *fb, btfm_dataset *ds,
                                        const char *column, double *out, size_t capacity)
{
    const char *func = "btfm_reward_features_column";
    btfm_status st = need_result(fb, func);
    if (st) return st;
    BTFM_CHECK_ARG(ds, func, "dataset");
    BTFM_CHECK_ARG(column, func, "column");
    BTFM_CHECK_ARG(out, func, "out");
    if (capacity < (size_t)fb->n_rows)
        return btfm_fail(BTFM_E_RANGE, "%s: out holds %zu values; %lld rows", func, capacity,
                         (long long)fb->n_rows);
    const btfm_table *t;
    st = btfm_dataset_events_table(ds, &t);
    if (st) return st;
    int col;
    st = btfm_table_find_column(t, column, &col);
    if (st) return st;
    const int64_t n_table = btfm_table_n_rows(t);
    for (int64_t r = 0; r < fb->n_rows; r++)
        if (fb->table_rows[r] < 0 || fb->table_rows[r] >= n_table)
            return btfm_fail(BTFM_E_STATE, "%s: row %lld's event (event %lld) does not come "
                             "from the dataset's events table", func, (long long)r,
                             (long long)fb->events[r]);
    double *all = btfm_dense_zeros(n_table, 1, func);
    if (!all) return BTFM_E_NOMEM;
    st = btfm_table_column_numbers(t, col, all);
    for (int64_t r = 0; !st && r < fb->n_rows; r++) out[r] = all[fb->table_rows[r]];
    btfm_free(all);
    return st;
}
