/* Fuzz target: the EyeLink ASC parser (sample lines, SAMPLES layouts, blocks, event and
 * message lines) with a bounded grid. Whatever is refused must say why. */
#include <math.h>
#include <stdlib.h>
#include "io/eyelink/eyelink_internal.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    btfm_asc a;
    if (btfm_asc_parse_limited(&a, (const char *)data, size, "fuzz.asc", 1 << 16) != BTFM_OK) {
        if (btfm_last_error()[0] == '\0') abort();
        return 0;
    }
    if (a.n_rows < 1 || a.n_columns < 1 || !(a.rate > 0) || isnan(a.first_ms)) abort();
    for (int64_t i = 0; i < a.n_events; i++)
        if (a.events[i].kind == BTFM_ASC_MESSAGE && !a.events[i].text) abort();
    btfm_asc_clear(&a);
    return 0;
}
