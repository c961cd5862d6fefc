/* The EEG structure of an EEGLAB .set file: the fields MNE's read_raw_eeglab reads
 * (srate, nbchan, pnts, trials, xmin, data, chanlocs, event), either inside a variable
 * called EEG or saved as variables of their own (pop_saveset's 'savemode' 'onefile' with
 * -struct). */
#include <ctype.h>
#include <math.h>
#include <string.h>
#include "core/number.h"
#include "eeglab_internal.h"

static const btfm_mat *field(const btfm_eeglab *e, const char *name)
{
    return e->root ? btfm_mat_field(e->root, 0, name) : btfm_mat_var(&e->mat, name);
}

static int is_empty(const btfm_mat *m) { return !m || m->n == 0; }

/* A numeric scalar field; `fallback` when absent or empty and fallback is not NaN. */
static btfm_status scalar(const btfm_eeglab *e, const char *name, double fallback,
                          const char *where, double *out)
{
    const btfm_mat *m = field(e, name);
    if (is_empty(m) && !isnan(fallback)) {
        *out = fallback;
        return BTFM_OK;
    }
    if (is_empty(m) || !btfm_mat_is_numeric(m))
        return btfm_fail(BTFM_E_FORMAT, "eeglab: %s: EEG.%s is %s; expected a number", where,
                         name, !m ? "missing" : is_empty(m) ? "empty" : "not numeric");
    *out = btfm_mat_number(&e->mat, m, 0);
    return BTFM_OK;
}

/* A positive whole-number field no larger than `max`. */
static btfm_status count(const btfm_eeglab *e, const char *name, double fallback, double max,
                         const char *where, int64_t *out)
{
    double v;
    btfm_status st = scalar(e, name, fallback, where, &v);
    if (st) return st;
    if (!(v >= 1 && v <= max && v == floor(v)))
        return btfm_fail(BTFM_E_FORMAT, "eeglab: %s: EEG.%s is %g; expected a whole number from "
                         "1 to %.0f", where, name, v, max);
    *out = (int64_t)v;
    return BTFM_OK;
}

static btfm_status read_fields(btfm_eeglab *e, const char *where)
{
    int64_t nbchan;
    btfm_status st;
    if ((st = scalar(e, "srate", NAN, where, &e->srate))) return st;
    if (!(e->srate > 0 && isfinite(e->srate)))
        return btfm_fail(BTFM_E_FORMAT, "eeglab: %s: EEG.srate is %g; expected a positive rate "
                         "in Hz", where, e->srate);
    if ((st = count(e, "nbchan", NAN, 65535, where, &nbchan)) ||
        (st = count(e, "pnts", NAN, 1e12, where, &e->pnts)) ||
        (st = count(e, "trials", 1, 1e9, where, &e->trials)) ||
        (st = scalar(e, "xmin", 0, where, &e->xmin)))
        return st;
    e->nbchan = (int)nbchan;
    if ((double)e->pnts * (double)e->trials * (double)e->nbchan > 9e15)
        return btfm_fail(BTFM_E_FORMAT, "eeglab: %s: nbchan %d x pnts %lld x trials %lld values "
                         "is more than a file can hold", where, e->nbchan, (long long)e->pnts,
                         (long long)e->trials);
    e->data = field(e, "data");
    const btfm_mat *locs = field(e, "chanlocs");
    if (!is_empty(locs)) {
        if (locs->cls != BTFM_MAT_STRUCT || locs->n != e->nbchan)
            return btfm_fail(BTFM_E_FORMAT, "eeglab: %s: EEG.chanlocs has %lld %s; expected a "
                             "struct array of nbchan = %d channels", where, (long long)locs->n,
                             locs->cls == BTFM_MAT_STRUCT ? "elements" : "non-struct elements",
                             e->nbchan);
        e->chanlocs = locs;
    }
    const btfm_mat *event = field(e, "event");
    if (!is_empty(event) && event->cls == BTFM_MAT_STRUCT) e->event = event;
    return BTFM_OK;
}

btfm_status btfm_eeglab_from_mat(btfm_eeglab *e, const char *where)
{
    btfm_status st = BTFM_OK;
    if (btfm_mat_var(&e->mat, "ALLEEG"))
        st = btfm_fail(BTFM_E_UNSUPPORTED, "eeglab: %s: holds ALLEEG, several datasets; save "
                       "each dataset (EEG) to its own .set file", where);
    const btfm_mat *eeg = btfm_mat_var(&e->mat, "EEG");
    if (!st && eeg) {
        if (eeg->cls != BTFM_MAT_STRUCT || eeg->n != 1)
            st = btfm_fail(BTFM_E_FORMAT, "eeglab: %s: the variable EEG is not one struct "
                           "(%lld elements of class %d)", where, (long long)eeg->n, eeg->cls);
        e->root = eeg;
    }
    if (!st) st = read_fields(e, where);
    if (st) btfm_eeglab_clear(e);
    return st;
}

int btfm_eeglab_is_v73(const unsigned char *bytes, size_t len)
{
    static const char v73[] = "MATLAB 7.3 MAT-file";
    return len >= sizeof v73 - 1 && memcmp(bytes, v73, sizeof v73 - 1) == 0;
}

btfm_status btfm_eeglab_parse(btfm_eeglab *e, const unsigned char *bytes, size_t len,
                              const char *where)
{
    memset(e, 0, sizeof *e);
    if (btfm_eeglab_is_v73(bytes, len))
        return btfm_fail(BTFM_E_UNSUPPORTED, "eeglab: %s: a MATLAB v7.3 (HDF5) .set file is "
                         "read from its file (btfm_dataset_open), not from bytes", where);
    btfm_status st = btfm_mat_parse(&e->mat, bytes, len, where);
    return st ? st : btfm_eeglab_from_mat(e, where);
}

void btfm_eeglab_clear(btfm_eeglab *e)
{
    btfm_mat_file_clear(&e->mat);
    memset(e, 0, sizeof *e);
}

static const char *text_of(const btfm_mat *m)
{
    return m && m->cls == BTFM_MAT_CHAR && m->text ? m->text : NULL;
}

/* A coordinate: a finite number, NaN when absent or empty. */
static double coordinate(const btfm_eeglab *e, int i, const char *axis)
{
    const btfm_mat *m = btfm_mat_field(e->chanlocs, i, axis);
    return is_empty(m) ? NAN : btfm_mat_number(&e->mat, m, 0);
}

btfm_status btfm_eeglab_channel_info(const btfm_eeglab *e, int i, btfm_eeglab_channel *out)
{
    memset(out, 0, sizeof *out);
    btfm_snprintf_c(out->fallback, sizeof out->fallback, "EEG %03d", i);
    out->label = out->fallback;
    out->type = BTFM_CH_EEG;
    if (!e->chanlocs) return BTFM_OK;
    const char *label = text_of(btfm_mat_field(e->chanlocs, i, "labels"));
    if (label && *label) out->label = label;
    if (!btfm_utf8_valid(out->label, strlen(out->label)))
        return btfm_fail(BTFM_E_FORMAT, "eeglab: channel %d: its label is not valid UTF-8", i + 1);
    const char *type = text_of(btfm_mat_field(e->chanlocs, i, "type"));
    if (type) {
        /* MNE: the type trimmed and lower-cased; unknown types are EEG */
        char name[32];
        size_t n = 0;
        while (*type && isspace((unsigned char)*type)) type++;
        for (; type[n] && n < sizeof name - 1; n++) name[n] = (char)tolower((unsigned char)type[n]);
        while (n > 0 && isspace((unsigned char)name[n - 1])) n--;
        name[n] = 0;
        int t = btfm_channel_type_from_name(name);
        if (t) out->type = t;
    }
    for (int k = 0; k < 3; k++) out->xyz[k] = coordinate(e, i, (const char *[]){"X", "Y", "Z"}[k]);
    out->has_position = isfinite(out->xyz[0]) && isfinite(out->xyz[1]) && isfinite(out->xyz[2]);
    return BTFM_OK;
}

int64_t btfm_eeglab_n_events(const btfm_eeglab *e)
{
    return e->event ? e->event->n : 0;
}

void btfm_eeglab_event_info(const btfm_eeglab *e, int64_t i, btfm_eeglab_event *out)
{
    memset(out, 0, sizeof *out);
    const btfm_mat *latency = btfm_mat_field(e->event, i, "latency");
    const btfm_mat *duration = btfm_mat_field(e->event, i, "duration");
    const btfm_mat *type = btfm_mat_field(e->event, i, "type");
    out->latency = is_empty(latency) ? NAN : btfm_mat_number(&e->mat, latency, 0);
    out->duration = is_empty(duration) ? 0 : btfm_mat_number(&e->mat, duration, 0);
    if (!isfinite(out->duration) || out->duration < 0) out->duration = 0;
    out->label = text_of(type);
    if (out->label && !btfm_utf8_valid(out->label, strlen(out->label))) out->label = NULL;
    if (!out->label && !is_empty(type) && btfm_mat_is_numeric(type)) {
        double v = btfm_mat_number(&e->mat, type, 0);
        btfm_format_double(v, out->number);
        if (v == floor(v) && fabs(v) <= 2147483647.0) out->code = (int)v;
        out->label = out->number;
    }
    if (!out->label) out->label = "";
}
