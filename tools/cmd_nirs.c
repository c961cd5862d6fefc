/* btfm nirs: fNIRS processing of a recording (SNIRF, or any dataset whose channels carry
 * source-detector geometry) with MNE's conventions: optical density, haemoglobin by the
 * modified Beer-Lambert law, short-channel regression, scalp coupling index. Amplitudes
 * become optical densities first for every step. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

/* The optical densities of `ds`: itself when it has no amplitude channels, else a new
 * dataset (*owned set so the caller frees it). */
static btfm_status as_od(btfm_dataset *ds, btfm_dataset **od, int *owned)
{
    *owned = 0;
    *od = ds;
    for (int c = 0; c < btfm_dataset_n_channels(ds); c++)
        if (btfm_dataset_channel_type(ds, c) == BTFM_CH_FNIRS_CW_AMPLITUDE) {
            *owned = 1;
            return btfm_dataset_optical_density(od, ds);
        }
    return BTFM_OK;
}

static int print_sci(const btfm_dataset *ds, const double *band, int json)
{
    int n = btfm_dataset_n_channels(ds);
    double *sci = malloc(sizeof *sci * (size_t)(n > 0 ? n : 1));
    if (!sci) return cli_usage_error("nirs", "out of memory");
    if (btfm_dataset_scalp_coupling_index((btfm_dataset *)ds, band, sci)) {
        free(sci);
        return cli_fail("nirs sci", NULL);
    }
    if (json) printf("{\"scalp_coupling_index\": [");
    for (int c = 0, k = 0; c < n; c++) {
        if (isnan(sci[c])) continue;
        if (json) {
            printf("%s{\"channel\": ", k++ ? ", " : "");
            cli_json_string(stdout, btfm_dataset_channel_name(ds, c));
            printf(", \"sci\": ");
            cli_json_number(stdout, sci[c]);
            printf("}");
        } else {
            printf("%-20s %7.4f%s\n", btfm_dataset_channel_name(ds, c), sci[c],
                   sci[c] < 0.5 ? "  (poor coupling)" : "");
        }
    }
    if (json) printf("]}\n");
    free(sci);
    return CLI_OK;
}

int cmd_nirs(int argc, char **argv)
{
    if (argc < 2) return cli_usage_error("nirs", "expected od, hb, short or sci");
    const char *step = argv[1], *in = NULL, *out = NULL;
    double ppf = 6.0, max_distance = 0.01, band[4] = {0.7, 1.5, 0.3, 0.3};
    int json = 0, has_band = 0;
    if (strcmp(step, "od") && strcmp(step, "hb") && strcmp(step, "short") && strcmp(step, "sci"))
        return cli_usage_error("nirs", "unknown step '%s' (expected od, hb, short or sci)", step);
    for (int i = 2; i < argc; i++) {
        int st = CLI_OK;
        if (strcmp(argv[i], "--ppf") == 0) st = cli_number_option("nirs", argc, argv, &i, &ppf);
        else if (strcmp(argv[i], "--max-distance") == 0)
            st = cli_number_option("nirs", argc, argv, &i, &max_distance);
        else if (strcmp(argv[i], "--band") == 0) {
            for (int k = 0; k < 4 && !st; k++) st = cli_number_option("nirs", argc, argv, &i, &band[k]);
            has_band = 1;
        } else if (strcmp(argv[i], "--json") == 0) json = 1;
        else if (argv[i][0] == '-' && argv[i][1])
            return cli_unknown_option("nirs", argv[i]);
        else if (!in) in = argv[i];
        else if (!out) out = argv[i];
        else return cli_usage_error("nirs", "unexpected argument '%s'", argv[i]);
        if (st) return st;
    }
    int wants_out = strcmp(step, "sci") != 0;
    if (!in || (wants_out && !out))
        return cli_usage_error("nirs", wants_out ? "expected IN and OUT" : "expected IN");
    if (!wants_out && out) return cli_usage_error("nirs", "sci prints; it takes no OUT");
    btfm_dataset *ds = NULL, *od = NULL, *result = NULL;
    int owned = 0, rc = CLI_OK;
    if (btfm_dataset_open(&ds, in, BTFM_FORMAT_AUTO, 0)) return cli_fail("nirs", NULL);
    btfm_status st = as_od(ds, &od, &owned);
    if (!st) {
        if (strcmp(step, "sci") == 0) {
            rc = print_sci(od, has_band ? band : NULL, json);
        } else if (strcmp(step, "od") == 0) {
            st = btfm_dataset_save(od, out, BTFM_FORMAT_AUTO, 0);
        } else if (strcmp(step, "hb") == 0) {
            if (!(st = btfm_dataset_beer_lambert(&result, od, ppf)))
                st = btfm_dataset_save(result, out, BTFM_FORMAT_AUTO, 0);
        } else {
            if (!(st = btfm_dataset_short_channel_regression(&result, od, max_distance)))
                st = btfm_dataset_save(result, out, BTFM_FORMAT_AUTO, 0);
        }
    }
    if (st) rc = cli_fail("nirs", NULL);
    else if (wants_out) {
        const btfm_dataset *written = result ? result : od;
        printf("nirs %s: wrote %s (%d channels x %lld samples at %g Hz)\n", step, out,
               btfm_dataset_n_channels(written), (long long)btfm_dataset_n_times(written),
               btfm_dataset_sfreq(written));
    }
    btfm_dataset_free(result);
    if (owned) btfm_dataset_free(od);
    btfm_dataset_free(ds);
    return rc;
}
