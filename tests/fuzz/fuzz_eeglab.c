/* Fuzz target: the MAT-file level 5 parser (tags, small elements, compressed variables,
 * nested cells and structs) and the EEG structure read from it: every channel and event
 * the parsed structure offers. Whatever is refused must say why. */
#include <stdlib.h>
#include <string.h>
#include "eeglab_check.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    btfm_eeglab e;
    if (btfm_eeglab_parse(&e, data, size, "fuzz.set") != BTFM_OK) {
        if (btfm_last_error()[0] == '\0') abort();
        return 0;
    }
    check_accepted_eeglab(&e);
    return 0;
}
