/* Fuzz target: BIDS physio files: a sidecar and headerless rows (the input split at its
 * first NUL byte), parsed as a physio recording and as physioevents of one. Whatever is
 * refused must say why. */
#include <stdlib.h>
#include <string.h>
#include "io/physio/physio_internal.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    const char *text = (const char *)data;
    const char *nul = memchr(text, 0, size);
    size_t json_len = nul ? (size_t)(nul - text) : size;
    const char *rows = nul ? nul + 1 : text + size;
    size_t rows_len = nul ? size - json_len - 1 : 0;
    btfm_physio p;
    if (btfm_physio_parse(&p, text, json_len, rows, rows_len, "fuzz_physio.tsv") != BTFM_OK) {
        if (btfm_last_error()[0] == '\0') abort();
        return 0;
    }
    if (!(p.sfreq > 0) || btfm_table_n_rows(p.table) < 1) abort();
    btfm_dataset *ds = NULL;
    const float zero = 0;
    if (btfm_dataset_from_array(&ds, &zero, 1, 1, p.sfreq, NULL) == BTFM_OK) {
        if (btfm_physio_add_events(ds, &p, text, json_len, rows, rows_len, "fuzz.tsv") != BTFM_OK &&
            btfm_last_error()[0] == '\0')
            abort();
        btfm_dataset_free(ds);
    }
    btfm_physio_clear(&p);
    return 0;
}
