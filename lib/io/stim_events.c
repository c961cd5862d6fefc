/* Trigger events from a stim channel (BioSemi Status, FIF STI101/STI 014): every change of
 * the channel's value to a non-zero value starts an event that lasts until the next
 * change. Shared by the drivers whose files carry triggers as a channel. */
#include <math.h>
#include <stdio.h>
#include "dataset_internal.h"

#define CHUNK 65536 /* native samples read at a time */

/* Seconds from the first sample to native sample `n` of channel `c`, honouring the
 * record onsets of discontinuous (EDF+D) files. */
static double sample_time(const btfm_dataset *ds, const btfm_channel *c, int64_t n)
{
    int spr = c->samples_per_record;
    if (ds->record_onsets) return ds->record_onsets[n / spr] + (double)(n % spr) * ds->record_duration / spr;
    if (ds->record_duration > 0) return (double)n * ds->record_duration / spr;
    return (double)n / c->rate;
}

static btfm_status trigger(btfm_dataset *ds, const btfm_channel *c, unsigned value, int64_t onset,
                           int64_t end)
{
    char label[16];
    snprintf(label, sizeof label, "%u", value);
    double t = sample_time(ds, c, onset);
    double stop = end < c->n_samples ? sample_time(ds, c, end) : (double)c->n_samples / c->rate;
    return btfm_dataset_append_event(ds, t, stop - t, "trigger", label, (int)value);
}

btfm_status btfm_io_stim_events(btfm_dataset *ds, int ch, int physical, unsigned mask)
{
    const btfm_channel *c = &ds->channels[ch];
    double *x = btfm_malloc((size_t)CHUNK * sizeof *x);
    if (!x) return btfm_fail_nomem("stim channel", (size_t)CHUNK * sizeof *x);
    unsigned previous = 0;
    int64_t onset = 0;
    btfm_status st = BTFM_OK;
    for (int64_t first = 0; first < c->n_samples && !st; first += CHUNK) {
        int64_t n = c->n_samples - first < CHUNK ? c->n_samples - first : CHUNK;
        st = ds->driver->read_digital(ds, ch, first, n, x);
        for (int64_t i = 0; i < n && !st; i++) {
            double v = physical ? x[i] * c->gain + c->offset : x[i];
            unsigned value = isfinite(v) ? (unsigned)(int64_t)llround(v) & mask : 0;
            if (value == previous) continue;
            if (previous != 0) st = trigger(ds, c, previous, onset, first + i);
            previous = value;
            onset = first + i;
        }
    }
    if (!st && previous != 0) st = trigger(ds, c, previous, onset, c->n_samples);
    btfm_free(x);
    return st;
}
