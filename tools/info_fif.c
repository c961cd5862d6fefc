/* btfm info on a FIF recording: what the file reports about its processing (first sample,
 * filters, SSP projectors, MaxFilter history, compensation), from the dataset's metadata;
 * none of it is applied to the data. */
#include <string.h>
#include "cli.h"

static int number(const btfm_dataset *ds, const char *key, double *v)
{
    int64_t n = 0;
    return btfm_dataset_meta_numbers(ds, key, v, 1, &n) == BTFM_OK && n == 1;
}

static const char *text(const btfm_dataset *ds, const char *key)
{
    const char *s = NULL;
    return btfm_dataset_meta_string(ds, key, &s) == BTFM_OK ? s : NULL;
}

static int64_t length(const btfm_dataset *ds, const char *key)
{
    int64_t n = 0;
    return btfm_dataset_meta_length(ds, key, &n) == BTFM_OK ? n : 0;
}

static void print_projectors(const btfm_dataset *ds)
{
    int64_t n = length(ds, "/fif/projectors");
    printf("  projectors: %lld (reported, not applied)\n", (long long)n);
    for (int64_t i = 0; i < n; i++) {
        char key[96];
        double kind = -1, n_vectors = 0;
        int active = 0;
        snprintf(key, sizeof key, "/fif/projectors/%lld/kind", (long long)i);
        number(ds, key, &kind);
        snprintf(key, sizeof key, "/fif/projectors/%lld/n_vectors", (long long)i);
        number(ds, key, &n_vectors);
        snprintf(key, sizeof key, "/fif/projectors/%lld/active", (long long)i);
        btfm_dataset_meta_bool(ds, key, &active);
        snprintf(key, sizeof key, "/fif/projectors/%lld/channels", (long long)i);
        int64_t n_channels = length(ds, key);
        snprintf(key, sizeof key, "/fif/projectors/%lld/description", (long long)i);
        const char *desc = text(ds, key);
        printf("    projector %lld: %s (kind %g, %s, %g vector%s x %lld channels)\n",
               (long long)i + 1, desc ? desc : "", kind, active ? "active" : "inactive",
               n_vectors, n_vectors == 1 ? "" : "s", (long long)n_channels);
    }
}

static void print_history(const btfm_dataset *ds)
{
    int64_t n = length(ds, "/fif/processing_history");
    if (!n) return;
    printf("  processing history: %lld record%s\n", (long long)n, n == 1 ? "" : "s");
    for (int64_t i = 0; i < n; i++) {
        char key[96];
        snprintf(key, sizeof key, "/fif/processing_history/%lld/creator", (long long)i);
        const char *creator = text(ds, key);
        printf("    record %lld: %s;", (long long)i + 1, creator ? creator : "unknown program");
        snprintf(key, sizeof key, "/fif/processing_history/%lld/steps", (long long)i);
        int64_t steps = length(ds, key);
        for (int64_t k = 0; k < steps; k++) {
            snprintf(key, sizeof key, "/fif/processing_history/%lld/steps/%lld/block",
                     (long long)i, (long long)k);
            const char *block = text(ds, key);
            printf(" %s", block ? block : "?");
        }
        printf("%s\n", steps ? "" : " no MaxFilter steps");
    }
}

void cli_info_fif(const btfm_dataset *ds)
{
    double v;
    if (number(ds, "/fif/first_sample", &v)) printf("  first sample: %.0f\n", v);
    double hp, lp;
    if (number(ds, "/fif/highpass", &hp) && number(ds, "/fif/lowpass", &lp))
        printf("  filters:    %g - %g Hz (as recorded)\n", hp, lp);
    if (number(ds, "/fif/line_freq", &v)) printf("  line:       %g Hz\n", v);
    const char *type = text(ds, "/fif/data_type");
    if (number(ds, "/fif/n_files", &v))
        printf("  stored as:  %s in %g file%s\n", type ? type : "?", v, v == 1 ? "" : "s");
    print_projectors(ds);
    print_history(ds);
    int64_t comp = length(ds, "/fif/ctf_compensation_kinds");
    if (comp) printf("  compensation: %lld CTF/4D matrices (not applied)\n", (long long)comp);
}
