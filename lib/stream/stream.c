/* The stream handle's settings: the parameter table, picks, names, bands, ERP windows,
 * channel roles and the reward head, all copied and only read by configuration. */
#include <math.h>
#include <string.h>
#include "stream_internal.h"

static const btfm_param_def stream_params[STREAM_PARAM_COUNT] = {
    {"n_channels", BTFM_PARAM_INT, 1, 1, 65536, "Values in each pushed sample (channels)."},
    {"sfreq", BTFM_PARAM_REAL, 250, 1, 1e6, "Sampling rate of the pushed samples, in Hz."},
    {"window", BTFM_PARAM_REAL, 1.0, 1e-3, 3600, "Length of each analysis window, in s."},
    {"hop", BTFM_PARAM_REAL, 0.25, 1e-3, 3600,
     "Time between the ends of consecutive windows, in s (a multiple of segment_step)."},
    {"segment", BTFM_PARAM_REAL, 0.5, 1e-3, 3600,
     "Welch segment length, in s (at most the window)."},
    {"segment_step", BTFM_PARAM_REAL, 0.25, 1e-3, 3600,
     "Time between the starts of Welch segments, in s (at most the segment)."},
    {"highpass", BTFM_PARAM_REAL, 1.0, 0, 1e6,
     "Cut-off of the causal Butterworth high-pass, in Hz (0: none)."},
    {"lowpass", BTFM_PARAM_REAL, 40.0, 0, 1e6,
     "Cut-off of the causal Butterworth low-pass, in Hz (0: none)."},
    {"filter_order", BTFM_PARAM_INT, 4, 1, 10, "Order of the Butterworth filter."},
    {"notch", BTFM_PARAM_REAL, 0, 0, 1e6, "Frequency of a notch filter, in Hz (0: none)."},
    {"notch_q", BTFM_PARAM_REAL, 30, 0.1, 1000, "Quality factor of the notch filter."},
    {"reference", BTFM_PARAM_INT, 0, 0, 1,
     "Re-reference of the picks: 0 none, 1 their common average."},
    {"relative", BTFM_PARAM_BOOL, 0, 0, 1,
     "Band powers divided by the power over the span of all bands."},
    {"amplitude_limit", BTFM_PARAM_REAL, 0, 0, 1e30,
     "A filtered sample whose magnitude exceeds it flags its channel (0: off)."},
    {"flat_limit", BTFM_PARAM_REAL, 0, 0, 1e30,
     "A window whose peak-to-peak amplitude is below it flags the channel as flat (0: off)."},
    {"epoch_tmin", BTFM_PARAM_REAL, -0.2, -60, 60, "Epoch start relative to a marker, in s."},
    {"epoch_tmax", BTFM_PARAM_REAL, 0.8, -60, 60, "Epoch end relative to a marker, in s."},
    {"baseline", BTFM_PARAM_BOOL, 1, 0, 1,
     "Subtract each channel's mean over [epoch_tmin, 0] from an epoch."},
    {"history", BTFM_PARAM_REAL, 4, 0, 3600,
     "How long filtered samples are kept for markers that arrive late, in s."},
    {"capacity", BTFM_PARAM_INT, 256, 1, 1 << 24, "Rows the output ring holds."},
    {"overflow", BTFM_PARAM_INT, 0, 0, 1,
     "A full output ring: 0 drops its oldest row (counted), 1 refuses the push."},
    {"eog_channel", BTFM_PARAM_INT, -1, -1, 65535,
     "Pushed channel holding vertical EOG for the blink rate (-1: none)."},
    {"blink_threshold", BTFM_PARAM_REAL, 5e-5, 0, 1e30,
     "EOG amplitude (1-10 Hz) that counts as a blink, in the pushed unit."},
    {"blink_period", BTFM_PARAM_REAL, 30, 1, 3600, "The blink rate counts the last s."},
    {"detrend", BTFM_PARAM_INT, 1, 0, 1, "Welch segments: 0 as they are, 1 mean removed."},
};

const btfm_param_table btfm_stream_param_table = {
    BTFM_OBJECT_STREAM, "stream", STREAM_PARAM_COUNT, stream_params,
};

static const char *const index_names[BTFM_STREAM_N_INDICES] = {
    "fm_theta", "theta_alpha", "engagement", "posterior_alpha", "blink_rate",
};

const char *btfm_stream_index_name(int index)
{
    return index >= 0 && index < BTFM_STREAM_N_INDICES ? index_names[index] : NULL;
}

btfm_status btfm_stream_new(btfm_stream **out)
{
    BTFM_CHECK_ARG(out, "btfm_stream_new", "out");
    *out = btfm_params_alloc(sizeof **out, &btfm_stream_param_table, "btfm_stream_new");
    return *out ? BTFM_OK : BTFM_E_NOMEM;
}

static void free_names(btfm_stream *s)
{
    for (int i = 0; i < s->n_names; i++) btfm_free(s->names[i]);
    btfm_free(s->names);
    s->names = NULL;
    s->n_names = 0;
}

void btfm_stream_free(btfm_stream *s)
{
    if (!s) return;
    btfm_stream_rt_free(s->rt);
    btfm_free(s->picks);
    free_names(s);
    btfm_free(s->bands);
    btfm_free(s->erp);
    btfm_free(s->role[0]);
    btfm_free(s->role[1]);
    btfm_reward_head_free(s->head);
    btfm_free(s);
}

/* Settings change only before configuration. */
static btfm_status unconfigured(const btfm_stream *s, const char *func)
{
    BTFM_CHECK_ARG(s, func, "stream");
    if (s->rt)
        return btfm_fail(BTFM_E_STATE, "%s: the stream is configured; settings are fixed "
                         "from btfm_stream_configure on (make a new stream)", func);
    return BTFM_OK;
}

btfm_status btfm_stream_set_param(btfm_stream *s, int param, double value)
{
    btfm_status st = unconfigured(s, "btfm_stream_set_param");
    return st ? st : btfm_params_set(&btfm_stream_param_table, s->values, param, value,
                                     "btfm_stream_set_param");
}

btfm_status btfm_stream_get_param(const btfm_stream *s, int param, double *value)
{
    BTFM_CHECK_ARG(s, "btfm_stream_get_param", "stream");
    return btfm_params_get(&btfm_stream_param_table, s->values, param, value,
                           "btfm_stream_get_param");
}

/* A copy of n values of `size` bytes into *dst (freed first); n = 0 or src NULL clears. */
static btfm_status copy_array(void **dst, const void *src, int n, size_t size, const char *func)
{
    void *copy = NULL;
    if (src && n > 0) {
        copy = btfm_malloc((size_t)n * size);
        if (!copy) return btfm_fail_nomem(func, (size_t)n * size);
        memcpy(copy, src, (size_t)n * size);
    }
    btfm_free(*dst);
    *dst = copy;
    return BTFM_OK;
}

static btfm_status check_count(int n, const void *p, const char *func, const char *what)
{
    if (p && n < 1)
        return btfm_fail(BTFM_E_RANGE, "%s: %d %s; expected at least 1 (or NULL for the "
                         "default)", func, n, what);
    return BTFM_OK;
}

btfm_status btfm_stream_set_picks(btfm_stream *s, const int *channels, int n_picks)
{
    static const char func[] = "btfm_stream_set_picks";
    btfm_status st = unconfigured(s, func);
    if (!st) st = check_count(n_picks, channels, func, "picks");
    for (int i = 0; !st && channels && i < n_picks; i++)
        if (channels[i] < 0)
            st = btfm_fail(BTFM_E_RANGE, "%s: channels[%d] = %d; expected a channel index >= 0",
                           func, i, channels[i]);
    if (!st) st = copy_array((void **)&s->picks, channels, n_picks, sizeof(int), func);
    if (!st) s->n_picks = channels ? n_picks : 0;
    return st;
}

btfm_status btfm_stream_set_channel_names(btfm_stream *s, const char *const *names,
                                          int n_channels)
{
    static const char func[] = "btfm_stream_set_channel_names";
    btfm_status st = unconfigured(s, func);
    if (!st) st = check_count(n_channels, names, func, "names");
    if (st) return st;
    free_names(s);
    if (!names) return BTFM_OK;
    s->names = btfm_calloc((size_t)n_channels, sizeof(char *));
    if (!s->names) return btfm_fail_nomem(func, (size_t)n_channels * sizeof(char *));
    s->n_names = n_channels;
    for (int i = 0; i < n_channels; i++) {
        if (!names[i] || !btfm_utf8_valid(names[i], strlen(names[i]))) {
            free_names(s);
            return btfm_fail(BTFM_E_INVALID, "%s: names[%d] is %s; expected UTF-8 text", func,
                             i, names[i] ? "not valid UTF-8" : "NULL");
        }
        if (!(s->names[i] = btfm_strdup(names[i]))) {
            free_names(s);
            return btfm_fail_nomem(func, strlen(names[i]) + 1);
        }
    }
    return BTFM_OK;
}

static btfm_status check_pairs(const double *v, int n, const char *func, const char *what,
                               double lo)
{
    for (int i = 0; i < n; i++)
        if (!isfinite(v[2 * i]) || !isfinite(v[2 * i + 1]) || v[2 * i] >= v[2 * i + 1] ||
            v[2 * i] < lo)
            return btfm_fail(BTFM_E_RANGE, "%s: %s %d is [%g, %g]; expected finite edges with "
                             "start < stop", func, what, i, v[2 * i], v[2 * i + 1]);
    return BTFM_OK;
}

btfm_status btfm_stream_set_bands(btfm_stream *s, const double *edges, int n_bands)
{
    static const char func[] = "btfm_stream_set_bands";
    btfm_status st = unconfigured(s, func);
    if (!st) st = check_count(n_bands, edges, func, "bands");
    if (!st && edges) st = check_pairs(edges, n_bands, func, "band", 0);
    if (!st) st = copy_array((void **)&s->bands, edges, 2 * n_bands, sizeof(double), func);
    if (!st) s->n_bands = edges ? n_bands : 0;
    return st;
}

btfm_status btfm_stream_set_erp_windows(btfm_stream *s, const double *windows, int n_windows)
{
    static const char func[] = "btfm_stream_set_erp_windows";
    btfm_status st = unconfigured(s, func);
    if (!st) st = check_count(n_windows, windows, func, "windows");
    if (!st && windows) st = check_pairs(windows, n_windows, func, "window", -INFINITY);
    if (!st) st = copy_array((void **)&s->erp, windows, 2 * n_windows, sizeof(double), func);
    if (!st) s->n_erp = windows ? n_windows : 0;
    return st;
}

btfm_status btfm_stream_set_role(btfm_stream *s, int role, const int *channels, int n_channels)
{
    static const char func[] = "btfm_stream_set_role";
    btfm_status st = unconfigured(s, func);
    if (st) return st;
    if (role != BTFM_STREAM_ROLE_FRONTAL && role != BTFM_STREAM_ROLE_POSTERIOR)
        return btfm_fail(BTFM_E_INVALID, "%s: role %d is unknown; expected 0 (frontal) or 1 "
                         "(posterior)", func, role);
    if ((st = check_count(n_channels, channels, func, "channels"))) return st;
    st = copy_array((void **)&s->role[role], channels, n_channels, sizeof(int), func);
    if (!st) s->n_role[role] = channels ? n_channels : 0;
    return st;
}

btfm_status btfm_stream_set_reward_head(btfm_stream *s, const btfm_reward_head *head)
{
    static const char func[] = "btfm_stream_set_reward_head";
    btfm_status st = unconfigured(s, func);
    if (st) return st;
    btfm_reward_head *copy = NULL;
    if (head) {
        if (btfm_reward_head_is_fitted(head) != 1)
            return btfm_fail(BTFM_E_STATE, "%s: the head is not fitted", func);
        size_t size = 0;
        st = btfm_reward_head_save_buffer(head, NULL, 0, &size);
        if (st) return st;
        void *bytes = btfm_malloc(size);
        if (!bytes) return btfm_fail_nomem(func, size);
        st = btfm_reward_head_save_buffer(head, bytes, size, &size);
        if (!st) st = btfm_reward_head_load_buffer(&copy, bytes, size);
        btfm_free(bytes);
        if (st) return st;
    }
    btfm_reward_head_free(s->head);
    s->head = copy;
    return BTFM_OK;
}

btfm_status btfm_stream_configure(btfm_stream *s)
{
    btfm_status st = unconfigured(s, "btfm_stream_configure");
    return st ? st : btfm_stream_build(s, &s->rt);
}

btfm_status btfm_stream_reset(btfm_stream *s)
{
    BTFM_CHECK_ARG(s, "btfm_stream_reset", "stream");
    if (s->rt) btfm_stream_rt_reset(s->rt);
    return BTFM_OK;
}

int btfm_stream_n_columns(const btfm_stream *s)
{
    if (!s || !s->rt)
        return btfm_fail(BTFM_E_STATE, "btfm_stream_n_columns: %s", s ? "configure the stream "
                         "first" : "stream is NULL");
    return s->rt->n_columns;
}

const char *btfm_stream_column_name(const btfm_stream *s, int column)
{
    if (!s || !s->rt || column < 0 || column >= s->rt->n_columns) return NULL;
    return s->rt->column_names[column];
}

int btfm_stream_find_column(const btfm_stream *s, const char *name)
{
    static const char func[] = "btfm_stream_find_column";
    int n = btfm_stream_n_columns(s);
    if (n < 0) return n;
    BTFM_CHECK_ARG(name, func, "name");
    for (int i = 0; i < n; i++)
        if (!strcmp(s->rt->column_names[i], name)) return i;
    return btfm_fail(BTFM_E_NOTFOUND, "%s: no column \"%s\" (columns: \"%s\" ... \"%s\")", func,
                     name, s->rt->column_names[0], s->rt->column_names[n - 1]);
}

int64_t btfm_stream_n_dropped(const btfm_stream *s)
{
    if (!s || !s->rt) return 0;
    return atomic_load_explicit(&s->rt->dropped, memory_order_relaxed);
}

int64_t btfm_stream_n_samples(const btfm_stream *s)
{
    return s && s->rt ? s->rt->n_samples : 0;
}

btfm_status btfm_stream_set_calibration(btfm_stream *s, int on)
{
    BTFM_CHECK_ARG(s, "btfm_stream_set_calibration", "stream");
    if (!s->rt)
        return btfm_fail(BTFM_E_STATE, "btfm_stream_set_calibration: configure the stream "
                         "first");
    atomic_store_explicit(&s->rt->calibration_request, on ? 1 : 0, memory_order_release);
    return BTFM_OK;
}
