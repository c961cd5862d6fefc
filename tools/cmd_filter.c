/* btfm filter: zero-phase Butterworth band-pass/high-pass/low-pass and notch filtering of
 * a recording, written in the format of OUT's extension. --low is the high-pass edge and
 * --high the low-pass edge (MNE's l_freq and h_freq). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

int cmd_filter(int argc, char **argv)
{
    const char *in = NULL, *out = NULL;
    double low = NAN, high = NAN, notch[8], order = 4, quality = 30;
    int n_notch = 0;
    for (int i = 1; i < argc; i++) {
        int st = CLI_OK;
        if (strcmp(argv[i], "--band") == 0) {
            st = cli_number_option("filter", argc, argv, &i, &low);
            if (!st) st = cli_number_option("filter", argc, argv, &i, &high);
        } else if (strcmp(argv[i], "--low") == 0) { /* high-pass edge: keep above */
            st = cli_number_option("filter", argc, argv, &i, &low);
        } else if (strcmp(argv[i], "--high") == 0) { /* low-pass edge: keep below */
            st = cli_number_option("filter", argc, argv, &i, &high);
        } else if (strcmp(argv[i], "--notch") == 0) {
            if (n_notch == 8) return cli_usage_error("filter", "at most 8 --notch frequencies");
            st = cli_number_option("filter", argc, argv, &i, &notch[n_notch++]);
        } else if (strcmp(argv[i], "--order") == 0) {
            st = cli_number_option("filter", argc, argv, &i, &order);
        } else if (strcmp(argv[i], "--notch-q") == 0) {
            st = cli_number_option("filter", argc, argv, &i, &quality);
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_unknown_option("filter", argv[i]);
        } else if (!in) in = argv[i];
        else if (!out) out = argv[i];
        else return cli_usage_error("filter", "expected IN and OUT, got a third file '%s'", argv[i]);
        if (st) return st;
    }
    if (!out) return cli_usage_error("filter", "expected IN and OUT");
    if (isnan(low) && isnan(high) && n_notch == 0)
        return cli_usage_error("filter", "give --band LOW HIGH, --low, --high or --notch");
    btfm_dataset *ds = NULL, *filtered = NULL;
    if (cli_open_dataset("filter", in, 0, &ds)) return CLI_FAILED;
    double sfreq = btfm_dataset_sfreq(ds), sos[6 * 10 + 6 * 8];
    int n = 0, kind = !isnan(low) && !isnan(high) ? BTFM_FILTER_BANDPASS
                    : !isnan(low) ? BTFM_FILTER_HIGHPASS : BTFM_FILTER_LOWPASS;
    if (!isnan(low) || !isnan(high)) {
        n = btfm_butter_n_sections((int)order, kind);
        if (n < 0 || btfm_butter((int)order, kind, isnan(low) ? high : low, high, sfreq, sos, 60)) {
            btfm_dataset_free(ds);
            return cli_fail("filter", NULL);
        }
    }
    for (int k = 0; k < n_notch; k++, n++)
        if (btfm_iirnotch(notch[k], quality, sfreq, sos + 6 * n)) {
            btfm_dataset_free(ds);
            return cli_fail("filter", NULL);
        }
    cli_progress bar; /* zero-phase filtering of a long recording takes a while */
    cli_progress_init(&bar);
    btfm_set_thread_progress(cli_progress_fn, &bar);
    btfm_status st = btfm_dataset_filtered(&filtered, ds, sos, n, 0);
    btfm_set_thread_progress(NULL, NULL);
    cli_progress_finish(&bar);
    if (st || btfm_dataset_save(filtered, out, BTFM_FORMAT_AUTO, 0)) {
        btfm_dataset_free(filtered);
        btfm_dataset_free(ds);
        return cli_fail("filter", NULL);
    }
    printf("filter: wrote %s (%d channels x %lld samples at %g Hz, %d sections)\n", out,
           btfm_dataset_n_channels(filtered), (long long)btfm_dataset_n_times(filtered), sfreq, n);
    btfm_dataset_free(filtered);
    btfm_dataset_free(ds);
    return CLI_OK;
}
