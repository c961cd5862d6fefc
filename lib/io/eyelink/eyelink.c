/* EyeLink .asc recordings as datasets: gaze and pupil channels on a regular grid at the
 * sampling rate (NaN where the tracker lost the eye and between recording blocks), and
 * fixations, saccades, blinks and messages as events (MNE's read_raw_eyelink names). */
#include <math.h>
#include <string.h>
#include "core/read_file.h"
#include "eyelink_internal.h"

#define MAX_ASC_FILE ((size_t)1 << 34)

static btfm_status add_events(btfm_dataset *ds, const btfm_asc *a)
{
    static const char *const kinds[] = {NULL, "fixation", "saccade", "blink", "message"};
    static const char *const labels[] = {NULL, "fixation", "saccade", "BAD_blink", NULL};
    for (int64_t i = 0; i < a->n_events; i++) {
        const btfm_asc_event *e = &a->events[i];
        btfm_status st;
        if (e->kind == BTFM_ASC_GAP) { /* as MNE marks the stretches between blocks */
            if ((st = btfm_dataset_append_event(ds, (double)e->first_row / a->rate,
                                                (double)e->n_rows / a->rate, "gap",
                                                "BAD_ACQ_SKIP", 0)))
                return st;
            continue;
        }
        double onset = (e->start_ms - a->first_ms) / 1000.0;
        double duration = (e->end_ms - e->start_ms) / 1000.0;
        if (onset < 0) continue; /* before the first block: calibration messages */
        const char *label = e->kind == BTFM_ASC_MESSAGE ? e->text : labels[e->kind];
        int code = e->kind == BTFM_ASC_MESSAGE ? btfm_io_message_code(e->text) : e->eye;
        if ((st = btfm_dataset_append_event(ds, onset, duration, kinds[e->kind], label, code)))
            return st;
    }
    return BTFM_OK;
}

static btfm_status describe(btfm_dataset *ds, const btfm_asc *a)
{
    btfm_status st = BTFM_OK;
    for (int c = 0; !st && c < a->n_columns; c++) {
        btfm_channel *ch = &ds->channels[c];
        if ((st = btfm_channel_own_strings(ch)) || (st = btfm_set_string(&ch->name, a->names[c])) ||
            (st = btfm_set_string(&ch->unit, a->units[c])) ||
            (st = btfm_set_string(&ch->stored_unit, a->units[c])))
            break;
        ch->type = a->types[c];
    }
    return st;
}

btfm_status btfm_eyelink_open(btfm_dataset **out, const char *path, unsigned flags)
{
    (void)flags;
    *out = NULL;
    char *text = NULL;
    size_t len = 0;
    btfm_status st = btfm_read_file(path, "eyelink", MAX_ASC_FILE, &text, &len);
    if (st) return st;
    btfm_asc a;
    st = btfm_asc_parse(&a, text, len, path);
    btfm_free(text);
    if (st) return st;
    btfm_dataset *ds = NULL;
    st = btfm_dataset_adopt_array(&ds, a.values, a.n_rows, a.n_columns, a.rate, NULL);
    a.values = NULL; /* the dataset's now, or freed */
    if (!st) {
        ds->format = BTFM_FORMAT_EYELINK;
        st = btfm_set_string(&ds->path, path);
    }
    if (!st) st = describe(ds, &a);
    if (!st) st = add_events(ds, &a);
    if (!st) st = btfm_dataset_finish(ds);
    btfm_asc_clear(&a);
    if (st) {
        btfm_dataset_free(ds);
        return st;
    }
    *out = ds;
    return BTFM_OK;
}
