/* What every fuzz target of EEGLAB files asks of a structure the reader accepted: sane
 * counts, a label for every channel and event. Aborts otherwise; clears `e`. */
#ifndef BTFM_TESTS_FUZZ_EEGLAB_CHECK_H
#define BTFM_TESTS_FUZZ_EEGLAB_CHECK_H

#include <stdlib.h>
#include "io/eeglab/eeglab_internal.h"

static void check_accepted_eeglab(btfm_eeglab *e)
{
    if (e->nbchan < 1 || e->pnts < 1 || e->trials < 1 || !(e->srate > 0)) abort();
    for (int i = 0; i < e->nbchan; i++) {
        btfm_eeglab_channel c;
        if (btfm_eeglab_channel_info(e, i, &c) == BTFM_OK && (!c.label || !*c.label)) abort();
    }
    for (int64_t i = 0; i < btfm_eeglab_n_events(e); i++) {
        btfm_eeglab_event ev;
        btfm_eeglab_event_info(e, i, &ev);
        if (!ev.label) abort();
    }
    btfm_eeglab_clear(e);
}

#endif
