/* Fuzz target: the FIF tag reader (directory and sequential scan, block nesting), the
 * measurement info, the reported metadata and the raw buffer table, through the real open
 * path over an in-memory file (split files are not followed: the input is one file), then
 * every read the handle offers. Whatever is refused must say why. */
#include <stdlib.h>
#include <string.h>
#include "io/fif/fif_internal.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static int once;
    if (!once) {
        once = 1;
        btfm_set_log_level(BTFM_LOG_ERROR);
    }
    fif_file f;
    btfm_fif_file_memory(&f, data, size, "fuzz.fif");
    btfm_dataset *ds = NULL;
    if (btfm_fif_open_file(&ds, &f, 0, 0) != BTFM_OK) {
        if (ds != NULL || btfm_last_error()[0] == '\0') abort();
        return 0;
    }
    int64_t n = btfm_dataset_n_times(ds);
    int c = btfm_dataset_n_channels(ds);
    if (n < 0 || c < 1 || !btfm_dataset_metadata(ds)) abort();
    if (n > 0 && n * c < (1 << 22)) {
        float *out = malloc((size_t)(n * c) * sizeof *out);
        if (btfm_dataset_read(ds, 0, n, NULL, 0, out) != BTFM_OK) abort();
        free(out);
        float *one = malloc((size_t)n * sizeof *one);
        if (btfm_dataset_read_native(ds, c - 1, 0, n, one) != BTFM_OK) abort();
        free(one);
    }
    for (int64_t e = 0; e < btfm_dataset_n_events(ds); e++) {
        const char *label;
        double onset;
        if (btfm_dataset_event(ds, e, &onset, NULL, NULL, &label, NULL) != BTFM_OK || !label) abort();
    }
    btfm_dataset_free(ds);
    return 0;
}
