/* btfm epochs: epochs around a recording's events (all but EDF+D gaps, or those with a
 * label, MNE's /-separated tags included) into a .npy array of n_epochs x n_times x
 * n_channels float32. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "npy.h"

/* The epochs plan of the options: a baseline when --baseline gave one (an infinite end
 * is the epoch's edge), rejection by channel type. */
static btfm_status make_plan(btfm_epochs_plan **plan, double tmin, double tmax, double bmin,
                             double bmax, const char *reject)
{
    btfm_status st = btfm_epochs_plan_new(plan);
    const int baseline = !isnan(bmin) || !isnan(bmax);
    const double values[][2] = {
        {BTFM_EPOCHS_PARAM_TMIN, tmin},
        {BTFM_EPOCHS_PARAM_TMAX, tmax},
        {BTFM_EPOCHS_PARAM_BASELINE, baseline},
        {BTFM_EPOCHS_PARAM_BASELINE_FROM_START, baseline && isinf(bmin)},
        {BTFM_EPOCHS_PARAM_BASELINE_MIN, baseline && isfinite(bmin) ? bmin : 0},
        {BTFM_EPOCHS_PARAM_BASELINE_TO_END, baseline && isinf(bmax)},
        {BTFM_EPOCHS_PARAM_BASELINE_MAX, baseline && isfinite(bmax) ? bmax : 0},
    };
    for (size_t i = 0; !st && i < sizeof values / sizeof values[0]; i++)
        st = btfm_epochs_plan_set_param(*plan, (int)values[i][0], values[i][1]);
    if (!st) st = btfm_epochs_plan_set_reject_spec(*plan, reject);
    return st;
}

int cmd_epochs(int argc, char **argv)
{
    const char *in = NULL, *out = NULL, *reject = NULL, *label = NULL;
    double tmin = -0.2, tmax = 0.5, bmin = NAN, bmax = NAN;
    for (int i = 1; i < argc; i++) {
        int st = CLI_OK;
        if (strcmp(argv[i], "--tmin") == 0) st = cli_number_option("epochs", argc, argv, &i, &tmin);
        else if (strcmp(argv[i], "--tmax") == 0) st = cli_number_option("epochs", argc, argv, &i, &tmax);
        else if (strcmp(argv[i], "--baseline") == 0) {
            st = cli_number_option("epochs", argc, argv, &i, &bmin);
            if (!st) st = cli_number_option("epochs", argc, argv, &i, &bmax);
        } else if (strcmp(argv[i], "--reject") == 0 || strcmp(argv[i], "--label") == 0) {
            if (i + 1 >= argc) return cli_usage_error("epochs", "%s needs a value", argv[i]);
            if (argv[i][2] == 'r') reject = argv[++i];
            else label = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1] && !(argv[i][1] >= '0' && argv[i][1] <= '9')) {
            return cli_unknown_option("epochs", argv[i]);
        } else if (!in) in = argv[i];
        else if (!out) out = argv[i];
        else return cli_usage_error("epochs", "expected IN and OUT.npy, got a third file '%s'", argv[i]);
        if (st) return st;
    }
    if (!out) return cli_usage_error("epochs", "expected IN and OUT.npy");
    btfm_dataset *ds = NULL;
    if (cli_open_dataset("epochs", in, 0, &ds)) return CLI_FAILED;
    int64_t n_all = btfm_dataset_n_events(ds), n_events = 0;
    int64_t *events = malloc(sizeof(int64_t) * (size_t)(n_all + 1));
    /* no matching event is an error that lists the labels there are */
    if (events && btfm_dataset_select_events(ds, label, events, n_all, &n_events)) {
        free(events);
        btfm_dataset_free(ds);
        return cli_fail("epochs", NULL);
    }
    int64_t n_times = btfm_epochs_n_times(tmin, tmax, btfm_dataset_sfreq(ds)), n_kept = 0;
    int n_channels = btfm_dataset_n_channels(ds);
    float *data = n_times > 0 && events
        ? malloc(sizeof(float) * (size_t)(n_events ? n_events : 1) * (size_t)n_times * (size_t)n_channels)
        : NULL;
    int *reason = events ? malloc(sizeof(int) * (size_t)(n_events + 1)) : NULL;
    int rc = CLI_OK;
    btfm_epochs_plan *plan = NULL;
    if (n_times < 0 || !data || !reason || make_plan(&plan, tmin, tmax, bmin, bmax, reject) ||
        btfm_epochs_plan_run_dataset(plan, data, &n_kept, NULL, reason, ds, events, n_events)) {
        rc = !data && n_times >= 0 ? (fprintf(stderr, "btfm epochs: out of memory\n"), CLI_FAILED)
                                   : cli_fail("epochs", NULL);
    } else {
        char err[512];
        int64_t shape[3] = {n_kept, n_times, n_channels};
        if (npy_write_f32_nd(out, data, shape, 3, err, sizeof err)) {
            fprintf(stderr, "btfm epochs: %s\n", err);
            rc = CLI_FAILED;
        } else {
            int64_t out_of_bounds = 0;
            for (int64_t e = 0; e < n_events; e++) out_of_bounds += reason[e] == BTFM_EPOCH_OUT_OF_BOUNDS;
            printf("epochs: wrote %s (%lld epochs x %lld samples x %d channels; %lld of %lld "
                   "events dropped: %lld out of bounds, %lld rejected)\n", out, (long long)n_kept,
                   (long long)n_times, n_channels, (long long)(n_events - n_kept), (long long)n_events,
                   (long long)out_of_bounds, (long long)(n_events - n_kept - out_of_bounds));
        }
    }
    btfm_epochs_plan_free(plan);
    free(reason);
    free(data);
    free(events);
    btfm_dataset_free(ds);
    return rc;
}
