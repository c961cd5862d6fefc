/* The epochs plan: the options of btfm_epochs and btfm_dataset_epochs as a parameter table
 * (the zstd CCtx pattern) plus rejection limits, run through the same epoching. */
#include <math.h>
#include <string.h>
#include "signal_internal.h"
#include "core/param.h"

enum { EPOCHS_PARAM_COUNT = 8 };

struct btfm_epochs_plan {
    double values[EPOCHS_PARAM_COUNT];
    double *reject_ptp; /* n_reject limits, or NULL */
    int n_reject;
    char *reject_spec;  /* or NULL */
};

static const btfm_param_def epochs_params[EPOCHS_PARAM_COUNT] = {
    {"tmin", BTFM_PARAM_REAL, -0.2, -1e6, 1e6, "Epoch start relative to the event, in s."},
    {"tmax", BTFM_PARAM_REAL, 0.5, -1e6, 1e6, "Epoch end relative to the event, in s."},
    {"baseline", BTFM_PARAM_BOOL, 1, 0, 1,
     "Subtract each channel's mean over the baseline interval from the epoch."},
    {"baseline_min", BTFM_PARAM_REAL, 0, -1e6, 1e6,
     "Baseline start in s (ignored while baseline_from_start is set)."},
    {"baseline_from_start", BTFM_PARAM_BOOL, 1, 0, 1,
     "The baseline starts at the epoch's first sample (MNE's None)."},
    {"baseline_max", BTFM_PARAM_REAL, 0, -1e6, 1e6,
     "Baseline end in s (ignored while baseline_to_end is set)."},
    {"baseline_to_end", BTFM_PARAM_BOOL, 0, 0, 1,
     "The baseline ends at the epoch's last sample (MNE's None)."},
    {"allow_nonfinite", BTFM_PARAM_BOOL, 0, 0, 1,
     "Let NaN/Inf samples into the epochs instead of failing."},
};

const btfm_param_table btfm_epochs_plan_param_table = {
    BTFM_OBJECT_EPOCHS_PLAN, "epochs_plan", EPOCHS_PARAM_COUNT, epochs_params,
};

btfm_status btfm_epochs_plan_new(btfm_epochs_plan **out)
{
    BTFM_CHECK_ARG(out, "btfm_epochs_plan_new", "out");
    *out = btfm_params_alloc(sizeof **out, &btfm_epochs_plan_param_table, "btfm_epochs_plan_new");
    return *out ? BTFM_OK : BTFM_E_NOMEM;
}

void btfm_epochs_plan_free(btfm_epochs_plan *p)
{
    if (!p) return;
    btfm_free(p->reject_ptp);
    btfm_free(p->reject_spec);
    btfm_free(p);
}

btfm_status btfm_epochs_plan_set_param(btfm_epochs_plan *p, int param, double value)
{
    BTFM_CHECK_ARG(p, "btfm_epochs_plan_set_param", "plan");
    return btfm_params_set(&btfm_epochs_plan_param_table, p->values, param, value,
                           "btfm_epochs_plan_set_param");
}

btfm_status btfm_epochs_plan_get_param(const btfm_epochs_plan *p, int param, double *value)
{
    BTFM_CHECK_ARG(p, "btfm_epochs_plan_get_param", "plan");
    return btfm_params_get(&btfm_epochs_plan_param_table, p->values, param, value,
                           "btfm_epochs_plan_get_param");
}

btfm_status btfm_epochs_plan_set_reject(btfm_epochs_plan *p, const double *reject_ptp,
                                        int n_channels)
{
    static const char func[] = "btfm_epochs_plan_set_reject";
    BTFM_CHECK_ARG(p, func, "plan");
    double *copy = NULL;
    if (reject_ptp) {
        if (n_channels < 1)
            return btfm_fail(BTFM_E_RANGE, "%s: n_channels = %d; expected at least 1", func,
                             n_channels);
        for (int c = 0; c < n_channels; c++)
            if (!(reject_ptp[c] >= 0))
                return btfm_fail(BTFM_E_RANGE, "%s: reject_ptp[%d] = %g; expected a limit >= 0 "
                                 "(0 or +INFINITY for none)", func, c, reject_ptp[c]);
        if (!(copy = btfm_malloc((size_t)n_channels * sizeof *copy)))
            return btfm_fail_nomem(func, (size_t)n_channels * sizeof *copy);
        memcpy(copy, reject_ptp, (size_t)n_channels * sizeof *copy);
    }
    btfm_free(p->reject_ptp);
    p->reject_ptp = copy;
    p->n_reject = copy ? n_channels : 0;
    return BTFM_OK;
}

btfm_status btfm_epochs_plan_set_reject_spec(btfm_epochs_plan *p, const char *spec)
{
    BTFM_CHECK_ARG(p, "btfm_epochs_plan_set_reject_spec", "plan");
    char *copy = NULL;
    if (spec && *spec && !(copy = btfm_strdup(spec)))
        return btfm_fail_nomem("btfm_epochs_plan_set_reject_spec", strlen(spec) + 1);
    btfm_free(p->reject_spec);
    p->reject_spec = copy;
    return BTFM_OK;
}

static btfm_epochs_options options_of(const btfm_epochs_plan *p)
{
    const double *v = p->values;
    btfm_epochs_options o = {v[BTFM_EPOCHS_PARAM_TMIN], v[BTFM_EPOCHS_PARAM_TMAX], NAN, NAN,
                             v[BTFM_EPOCHS_PARAM_ALLOW_NONFINITE] != 0 ? BTFM_ALLOW_NONFINITE : 0u,
                             p->reject_ptp, p->reject_spec};
    if (v[BTFM_EPOCHS_PARAM_BASELINE] != 0) {
        o.baseline_min = v[BTFM_EPOCHS_PARAM_BASELINE_FROM_START] != 0
                             ? -INFINITY : v[BTFM_EPOCHS_PARAM_BASELINE_MIN];
        o.baseline_max = v[BTFM_EPOCHS_PARAM_BASELINE_TO_END] != 0
                             ? INFINITY : v[BTFM_EPOCHS_PARAM_BASELINE_MAX];
    }
    return o;
}

int64_t btfm_epochs_plan_n_times(const btfm_epochs_plan *p, double sfreq)
{
    BTFM_CHECK_ARG(p, "btfm_epochs_plan_n_times", "plan");
    return btfm_epochs_n_times(p->values[BTFM_EPOCHS_PARAM_TMIN],
                               p->values[BTFM_EPOCHS_PARAM_TMAX], sfreq);
}

/* Limits set for n_reject channels must match the data's. */
static btfm_status check_reject(const btfm_epochs_plan *p, int n_channels, const char *func)
{
    if (p->reject_ptp && p->n_reject != n_channels)
        return btfm_fail(BTFM_E_INVALID, "%s: the plan's rejection limits are for %d channels "
                         "but the data have %d", func, p->n_reject, n_channels);
    return BTFM_OK;
}

btfm_status btfm_epochs_plan_run(const btfm_epochs_plan *p, float *out, int64_t *n_kept,
                                 unsigned char *kept, int *reason, const float *x,
                                 int64_t n_times, int n_channels, double sfreq,
                                 const int64_t *event_samples, int64_t n_events)
{
    static const char func[] = "btfm_epochs_plan_run";
    BTFM_CHECK_ARG(p, func, "plan");
    if (p->reject_spec && !p->reject_ptp)
        return btfm_fail(BTFM_E_STATE, "%s: rejection by channel type (\"%s\") needs a dataset "
                         "(btfm_epochs_plan_run_dataset); give arrays limits per channel with "
                         "btfm_epochs_plan_set_reject", func, p->reject_spec);
    btfm_status st = check_reject(p, n_channels, func);
    if (st) return st;
    const btfm_epochs_options o = options_of(p);
    return btfm_epochs_compute(&o, x, n_times, n_channels, sfreq, event_samples, n_events, out,
                               n_kept, kept, reason, func);
}

btfm_status btfm_epochs_plan_run_dataset(const btfm_epochs_plan *p, float *out, int64_t *n_kept,
                                         unsigned char *kept, int *reason, btfm_dataset *ds,
                                         const int64_t *events, int64_t n_events)
{
    static const char func[] = "btfm_epochs_plan_run_dataset";
    BTFM_CHECK_ARG(p, func, "plan");
    BTFM_CHECK_ARG(ds, func, "dataset");
    btfm_status st = p->reject_spec ? BTFM_OK : check_reject(p, btfm_dataset_n_channels(ds), func);
    if (st) return st;
    const btfm_epochs_options o = options_of(p);
    return btfm_epochs_compute_dataset(&o, ds, events, n_events, out, n_kept, kept, reason, func);
}
