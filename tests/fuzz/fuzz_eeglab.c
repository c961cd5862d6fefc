/* Fuzz target: the MAT-file level 5 parser (tags, small elements, compressed variables,
 * nested cells and structs) and the EEG structure read from it: every channel and event
 * the parsed structure offers. Whatever is refused must say why. */
#include <stdlib.h>
#include <string.h>
#include "io/eeglab/eeglab_internal.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    btfm_eeglab e;
    if (btfm_eeglab_parse(&e, data, size, "fuzz.set") != BTFM_OK) {
        if (btfm_last_error()[0] == '\0') abort();
        return 0;
    }
    if (e.nbchan < 1 || e.pnts < 1 || e.trials < 1 || !(e.srate > 0)) abort();
    for (int i = 0; i < e.nbchan; i++) {
        btfm_eeglab_channel c;
        if (btfm_eeglab_channel_info(&e, i, &c) == BTFM_OK && (!c.label || !*c.label)) abort();
    }
    for (int64_t i = 0; i < btfm_eeglab_n_events(&e); i++) {
        btfm_eeglab_event ev;
        btfm_eeglab_event_info(&e, i, &ev);
        if (!ev.label) abort();
    }
    btfm_eeglab_clear(&e);
    return 0;
}
