/* EDF+/BDF+ time-stamped annotation lists (TALs): "+onset[\x15duration]\x14text\x14...\x00".
 * The first TAL of each record holds the record's onset with an empty text; that is how
 * EDF+D gaps are known. Also the BioSemi Status channel's trigger events. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "edf_internal.h"
#include "core/number.h"

#define GAP_TOLERANCE 1e-7 /* seconds; onsets are decimal text */

typedef struct tal_ctx {
    btfm_dataset *ds;
    int64_t record;
    int64_t file_offset;     /* of the annotation bytes being parsed */
} tal_ctx;

static btfm_status tal_error(const tal_ctx *t, size_t pos, const char *what)
{
    return btfm_fail(BTFM_E_FORMAT, "edf: %s: byte %lld: annotation in data record %lld: %s",
                     t->ds->path, (long long)(t->file_offset + (int64_t)pos), (long long)t->record, what);
}

/* A signed decimal "+12.5" / "-0.25" (onset) or unsigned "3.5" (duration). */
static int parse_decimal(const unsigned char *p, size_t len, int sign_required, double *value)
{
    if (len == 0 || len > 64) return 0;
    size_t i = 0;
    if (sign_required && p[0] != '+' && p[0] != '-') return 0;
    if (p[0] == '+' || p[0] == '-') i = 1;
    int digits = 0, dots = 0;
    for (size_t k = i; k < len; k++) {
        if (p[k] >= '0' && p[k] <= '9') digits++;
        else if (p[k] == '.' && !dots) dots++;
        else return 0;
    }
    if (!digits) return 0;
    char text[72];
    memcpy(text, p, len);
    text[len] = '\0';
    *value = btfm_strtod_c(text);
    return 1;
}

/* Parse one annotation signal's bytes of one record. *record_onset receives the onset of
 * the first TAL when `timekeeping` (and is left NAN otherwise). */
static btfm_status parse_tals(const tal_ctx *t, const unsigned char *b, size_t len, int timekeeping,
                              double *record_onset, btfm_dataset *ds)
{
    size_t pos = 0;
    int first = 1;
    while (pos < len) {
        if (b[pos] == 0) { /* padding after the last TAL */
            pos++;
            continue;
        }
        size_t start = pos;
        while (pos < len && b[pos] != 0x14 && b[pos] != 0x15) pos++;
        double onset, duration = 0;
        if (pos == len || !parse_decimal(b + start, pos - start, 1, &onset))
            return tal_error(t, start, "expected an onset like \"+12.5\" followed by 0x14 or 0x15");
        if (b[pos] == 0x15) {
            size_t d0 = ++pos;
            while (pos < len && b[pos] != 0x14) pos++;
            if (pos == len || !parse_decimal(b + d0, pos - d0, 0, &duration))
                return tal_error(t, d0, "expected a duration like \"3.5\" followed by 0x14");
        }
        pos++; /* the 0x14 after onset/duration */
        int n_texts = 0;
        while (pos < len && b[pos] != 0) {
            size_t s0 = pos;
            while (pos < len && b[pos] != 0x14 && b[pos] != 0) pos++;
            if (pos == len || b[pos] != 0x14)
                return tal_error(t, s0, "an annotation text is not closed by 0x14");
            size_t n = pos - s0;
            pos++;
            if (first && timekeeping && n_texts == 0 && n == 0) {
                *record_onset = onset; /* the record's own time-keeping TAL */
                n_texts++;
                continue;
            }
            n_texts++;
            if (n == 0) continue;
            char *label = btfm_text_to_utf8((const char *)b + s0, n);
            if (!label) return btfm_fail_nomem("edf annotations", n * 2 + 1);
            btfm_status st = btfm_dataset_append_event(ds, onset, duration, "annotation", label, 0);
            btfm_free(label);
            if (st) return st;
        }
        if (pos == len) return tal_error(t, start, "a TAL is not terminated by 0x00");
        pos++; /* the 0x00 that ends the TAL */
        first = 0;
    }
    return BTFM_OK;
}

btfm_status btfm_edf_read_annotations(btfm_dataset *ds, edf_state *st)
{
    if (!st->plus) return BTFM_OK;
    int n_ann = 0;
    for (int i = 0; i < st->n_signals; i++) n_ann += st->signals[i].annotation;
    if (n_ann == 0) {
        if (st->discontinuous)
            return btfm_fail(BTFM_E_FORMAT, "edf: %s: an %s file needs an annotation signal for "
                             "its record onsets, and has none", ds->path, st->bdf ? "BDF+D" : "EDF+D");
        return BTFM_OK;
    }
    double *onsets = btfm_malloc((size_t)st->n_records * sizeof *onsets);
    if (!onsets) return btfm_fail_nomem("edf", (size_t)st->n_records * sizeof *onsets);
    int64_t first_event = ds->n_events;
    btfm_status status = BTFM_OK;
    for (int64_t r = 0; r < st->n_records && !status; r++) {
        onsets[r] = NAN;
        int timekeeping = 1;
        for (int i = 0; i < st->n_signals && !status; i++) {
            const edf_signal *s = &st->signals[i];
            if (!s->annotation) continue;
            size_t n = (size_t)s->samples_per_record * (size_t)st->bytes_per_sample;
            int64_t at = st->header_bytes + r * st->record_bytes + s->byte_offset;
            status = btfm_edf_pread(ds, st, at, n, st->record);
            tal_ctx t = {ds, r, at};
            if (!status) status = parse_tals(&t, st->record, n, timekeeping, &onsets[r], ds);
            timekeeping = 0;
        }
        if (!status && isnan(onsets[r]))
            status = btfm_fail(BTFM_E_FORMAT, "edf: %s: data record %lld has no time-keeping "
                               "annotation (\"+onset\\x14\\x14\\x00\") at the start of its first "
                               "annotation signal", ds->path, (long long)r);
        if (!status && r > 0 && onsets[r] < onsets[r - 1] + st->record_duration - GAP_TOLERANCE)
            status = btfm_fail(BTFM_E_FORMAT, "edf: %s: data record %lld starts at %.9g s, before "
                               "the end of record %lld (%.9g s)", ds->path, (long long)r, onsets[r],
                               (long long)(r - 1), onsets[r - 1] + st->record_duration);
    }
    if (status) {
        btfm_free(onsets);
        return status;
    }
    /* Onset 0 is the first stored sample: move the sub-second start into the start time. */
    double t0 = onsets[0];
    if (ds->has_start_time) ds->start_time += t0;
    for (int64_t r = 0; r < st->n_records; r++) onsets[r] -= t0;
    for (int64_t e = first_event; e < ds->n_events; e++) ds->events[e].onset -= t0;
    int gaps = 0;
    for (int64_t r = 0; r + 1 < st->n_records; r++) {
        double end = onsets[r] + st->record_duration, gap = onsets[r + 1] - end;
        if (gap > GAP_TOLERANCE) {
            if (!st->discontinuous) {
                btfm_free(onsets);
                return btfm_fail(BTFM_E_FORMAT, "edf: %s: record %lld starts %.9g s after the end "
                                 "of record %lld, but the file says it is continuous (%s+C)",
                                 ds->path, (long long)(r + 1), gap, (long long)r, st->bdf ? "BDF" : "EDF");
            }
            status = btfm_dataset_append_event(ds, end, gap, "gap", "gap", 0);
            if (status) {
                btfm_free(onsets);
                return status;
            }
            gaps++;
        }
    }
    if (st->discontinuous) {
        ds->record_onsets = onsets;
    } else {
        btfm_free(onsets);
    }
    if (gaps) btfm_log(BTFM_LOG_INFO, "edf: %s: %d gaps between data records", ds->path, gaps);
    return BTFM_OK;
}

btfm_status btfm_edf_read_triggers(btfm_dataset *ds, edf_state *st)
{
    if (!st->bdf) return BTFM_OK;
    int ch;
    if (btfm_dataset_find_channel(ds, "Status", &ch) != BTFM_OK) {
        btfm_clear_error();
        return BTFM_OK;
    }
    /* BioSemi: the low 16 bits carry the trigger; the high bits carry device status. */
    return btfm_io_stim_events(ds, ch, 0, 0xFFFF);
}
