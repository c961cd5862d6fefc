/* EDF+/BDF+ writer: header numbers that fit their 8-character fields without losing
 * range, annotations as TALs, EDF+D records kept, atomic. A source in the same format
 * keeps its digital values and scaling exactly. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/atomic_file.h"
#include "core/number.h"
#include "edf_internal.h"

/* `v` as a plain decimal of at most `width` characters. direction < 0: the text's value
 * is <= v; > 0: >= v; 0: the nearest that fits. 0 when impossible. */
static int format_number(char *dst, int width, double v, int direction)
{
    for (int decimals = 7; decimals >= 0; decimals--) {
        double scale = pow(10.0, decimals), q = v * scale;
        double r = direction < 0 ? floor(q) : direction > 0 ? ceil(q) : nearbyint(q);
        if (fabs(q - nearbyint(q)) < 1e-9 * fmax(1.0, fabs(q))) r = nearbyint(q); /* exact */
        char text[64];
        btfm_snprintf_c(text, sizeof text, "%.*f", decimals, r / scale);
        if (strchr(text, '.')) { /* trim trailing zeros: "3.500" -> "3.5", "2." -> "2" */
            char *end = text + strlen(text) - 1;
            while (*end == '0') *end-- = '\0';
            if (*end == '.') *end = '\0';
        }
        if (strcmp(text, "-0") == 0) strcpy(text, "0");
        if ((int)strlen(text) <= width) {
            strcpy(dst, text);
            return 1;
        }
    }
    return 0;
}

/* Copy `src` into a space-padded field; bytes outside printable ASCII become '_' (the
 * header is ASCII by specification). Returns 1 when something was replaced or cut. */
static int put_field(unsigned char *dst, int width, const char *src)
{
    int changed = 0, n = (int)strlen(src);
    if (n > width) {
        n = width;
        changed = 1;
    }
    memset(dst, ' ', (size_t)width);
    for (int i = 0; i < n; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c < 32 || c > 126) {
            c = '_';
            changed = 1;
        }
        dst[i] = c;
    }
    return changed;
}

static void put_int(unsigned char *dst, int width, long long v)
{
    char text[32];
    snprintf(text, sizeof text, "%lld", v);
    put_field(dst, width, text);
}

typedef struct out_channel {
    int spr;                 /* samples per record */
    double dig_min, dig_max, phys_min, phys_max;
    double to_digital_scale, to_digital_offset; /* digital = physical_SI * scale + offset */
    int copy_digital;        /* same format as the source: copy stored values */
    char unit[9];
} out_channel;

typedef struct writer {
    btfm_dataset *ds;
    int bdf, bps;
    double duration;
    int64_t n_records;
    out_channel *ch;
    int ann_spr;             /* samples per record of the annotation signal */
    unsigned char *record;
    int64_t record_bytes;
} writer;

/* A record duration that makes every channel's samples per record whole. */
static btfm_status choose_duration(writer *w)
{
    btfm_dataset *ds = w->ds;
    if ((ds->format == BTFM_FORMAT_EDF || ds->format == BTFM_FORMAT_BDF) && ds->record_duration > 0) {
        w->duration = ds->record_duration;
        return BTFM_OK;
    }
    static const double candidates[] = {1, 0.5, 0.25, 0.2, 0.1, 2, 4, 5, 10, 0.05, 0.02, 0.01};
    for (size_t k = 0; k < sizeof candidates / sizeof *candidates; k++) {
        int ok = 1;
        for (int c = 0; c < ds->n_channels && ok; c++) {
            double n = ds->channels[c].rate * candidates[k];
            ok = n >= 1 && fabs(n - nearbyint(n)) < 1e-6;
        }
        if (ok) {
            w->duration = candidates[k];
            return BTFM_OK;
        }
    }
    return btfm_fail(BTFM_E_UNSUPPORTED, "edf: cannot store %s: no record duration from 0.01 to "
                     "10 s gives a whole number of samples per record for every channel (first "
                     "channel %g Hz)", ds->path, ds->channels[0].rate);
}

/* Scaling of each output channel: the source's when the format matches, else the range of
 * the data in a convenient unit (uV for volts). */
/* Whole-dataset passes go through btfm_dataset_read a block of rows at a time (every
 * channel at the dataset rate): one sequential pass instead of one strided pass a channel. */
enum { BLOCK_FLOATS = 1 << 18 };

static int at_dataset_rate(const btfm_dataset *ds)
{
    for (int i = 0; i < ds->n_channels; i++)
        if (ds->channels[i].resampler || ds->channels[i].n_samples != ds->n_times) return 0;
    return 1;
}

/* Each channel's range and first non-finite sample (-1: none). */
typedef struct range_scan {
    float *lo, *hi, *nan_probe;
    int64_t *first_bad;
} range_scan;

BTFM_HOT BTFM_SIMD_CLONES static void range_rows(const float *x, int64_t rows, int width,
                                                 float *restrict lo, float *restrict hi,
                                                 float *restrict probe)
{
    for (int64_t t = 0; t < rows; t++) {
        const float *row = x + (size_t)t * (size_t)width;
        for (int j = 0; j < width; j++) {
            float v = row[j];
            lo[j] = v < lo[j] ? v : lo[j];
            hi[j] = v > hi[j] ? v : hi[j];
            probe[j] += v * 0.0f; /* NaN from the first infinity or NaN on */
        }
    }
}

static btfm_status scan_ranges(btfm_dataset *ds, range_scan *r)
{
    const int width = ds->n_channels;
    int64_t rows = BLOCK_FLOATS / width > 0 ? BLOCK_FLOATS / width : 1;
    float *buf = btfm_malloc((size_t)rows * (size_t)width * sizeof(float));
    if (!buf) return btfm_fail_nomem("edf save", (size_t)rows * (size_t)width * sizeof(float));
    for (int j = 0; j < width; j++) {
        r->lo[j] = INFINITY;
        r->hi[j] = -INFINITY;
        r->nan_probe[j] = 0.0f;
        r->first_bad[j] = -1;
    }
    btfm_status st = BTFM_OK;
    for (int64_t first = 0; first < ds->n_times && !st; first += rows) {
        int64_t n = ds->n_times - first < rows ? ds->n_times - first : rows;
        if ((st = btfm_dataset_read(ds, first, n, NULL, 0, buf))) break;
        range_rows(buf, n, width, r->lo, r->hi, r->nan_probe);
        for (int j = 0; j < width; j++) {
            if (r->first_bad[j] >= 0 || !isnan(r->nan_probe[j])) continue;
            for (int64_t t = 0; t < n && r->first_bad[j] < 0; t++)
                if (!isfinite(buf[(size_t)t * (size_t)width + (size_t)j])) r->first_bad[j] = first + t;
        }
    }
    btfm_free(buf);
    return st;
}

static btfm_status plan_channels(writer *w, int format, const range_scan *scan)
{
    btfm_dataset *ds = w->ds;
    const double dmin = w->bdf ? -8388608 : -32768, dmax = w->bdf ? 8388607 : 32767;
    int same = ds->format == format;
    for (int i = 0; i < ds->n_channels; i++) {
        btfm_channel *c = &ds->channels[i];
        out_channel *o = &w->ch[i];
        o->spr = (int)nearbyint(c->rate * w->duration);
        if (same) {
            o->copy_digital = 1;
            o->dig_min = c->dig_min;
            o->dig_max = c->dig_max;
            o->phys_min = c->phys_min;
            o->phys_max = c->phys_max;
            snprintf(o->unit, sizeof o->unit, "%s", c->stored_unit);
            continue;
        }
        /* The data's range: declared by the producer, else from the scan of all channels
         * together, else one pass over the channel at its native rate. */
        double lo = c->has_range ? c->range_min : INFINITY, hi = c->has_range ? c->range_max : -INFINITY;
        if (!c->has_range && scan) {
            if (scan->first_bad[i] >= 0)
                return btfm_fail(BTFM_E_NUMERIC, "edf: cannot store channel %d (%s) of %s: "
                                 "sample %lld is not finite", i, c->name, ds->path,
                                 (long long)scan->first_bad[i]);
            lo = scan->lo[i];
            hi = scan->hi[i];
        }
        float buf[8192];
        for (int64_t first = 0; !c->has_range && !scan && first < c->n_samples; first += 8192) {
            int64_t n = c->n_samples - first < 8192 ? c->n_samples - first : 8192;
            btfm_status st = btfm_dataset_read_native(ds, i, first, n, buf);
            if (st) return st;
            for (int64_t k = 0; k < n; k++) {
                if (!isfinite(buf[k]))
                    return btfm_fail(BTFM_E_NUMERIC, "edf: cannot store channel %d (%s) of %s: "
                                     "sample %lld is not finite", i, c->name, ds->path, (long long)(first + k));
                if (buf[k] < lo) lo = buf[k];
                if (buf[k] > hi) hi = buf[k];
            }
        }
        double factor;
        const char *si;
        int volts = btfm_unit_to_si(c->unit, &factor, &si) && strcmp(c->unit, "V") == 0;
        double unit_scale = volts ? 1e6 : 1.0;
        snprintf(o->unit, sizeof o->unit, "%s", volts ? "uV" : c->unit);
        lo *= unit_scale;
        hi *= unit_scale;
        if (!(hi > lo)) { /* a flat channel still needs a range */
            lo -= 1;
            hi += 1;
        }
        char text[16];
        if (!format_number(text, 8, lo, -1) || !format_number(text, 8, hi, 1))
            return btfm_fail(BTFM_E_RANGE, "edf: cannot store channel %d (%s) of %s: its range "
                             "[%g, %g] %s does not fit the 8-character fields", i, c->name,
                             ds->path, lo, hi, o->unit);
        format_number(text, 8, lo, -1);
        o->phys_min = btfm_strtod_c(text);
        format_number(text, 8, hi, 1);
        o->phys_max = btfm_strtod_c(text);
        o->dig_min = dmin;
        o->dig_max = dmax;
        double scale = (dmax - dmin) / (o->phys_max - o->phys_min);
        o->to_digital_scale = scale * unit_scale;
        o->to_digital_offset = dmin - o->phys_min * scale;
    }
    return BTFM_OK;
}

/* "+12.5" with up to 7 decimals, trailing zeros trimmed. */
static int format_onset(char *dst, size_t cap, double t, int sign)
{
    char text[48];
    btfm_snprintf_c(text, sizeof text, sign ? "%+.7f" : "%.7f", t);
    char *end = text + strlen(text) - 1;
    while (*end == '0') *end-- = '\0';
    if (*end == '.') *end = '\0';
    return snprintf(dst, cap, "%s", text);
}

/* The TAL of event e, or 0 when the event is not written as an annotation. */
static size_t event_tal(const btfm_event_rec *e, double shift, char *dst, size_t cap)
{
    if (strcmp(e->type, "gap") == 0 || strcmp(e->type, "trigger") == 0) return 0;
    char onset[48], duration[48] = "";
    format_onset(onset, sizeof onset, e->onset + shift, 1);
    if (e->duration > 0) {
        duration[0] = 0x15;
        format_onset(duration + 1, sizeof duration - 1, e->duration, 0);
    }
    int n = snprintf(dst, cap, "%s%s\x14%s\x14", onset, duration, e->label);
    if (n < 0 || (size_t)n + 1 > cap) return 0;
    dst[n] = '\0'; /* the TAL's terminating 0x00 is counted by the caller */
    return (size_t)n + 1;
}

static double record_onset(const writer *w, int64_t r)
{
    const btfm_dataset *ds = w->ds;
    return ds->record_onsets && r < ds->n_records ? ds->record_onsets[r] : (double)r * w->duration;
}

static btfm_status write_header(writer *w, FILE *fp, const char *subject, const char *recording,
                                int has_start, double start)
{
    btfm_dataset *ds = w->ds;
    int ns = ds->n_channels + 1;
    size_t size = 256 * (size_t)(ns + 1);
    unsigned char *h = btfm_malloc(size);
    if (!h) return btfm_fail_nomem("edf save", size);
    memset(h, ' ', size);
    if (w->bdf) {
        h[0] = 0xFF;
        memcpy(h + 1, "BIOSEMI", 7);
    } else {
        h[0] = '0';
    }
    time_t t = has_start ? (time_t)floor(start) : (time_t)473385600; /* 1985-01-01 */
    struct tm tm;
    gmtime_r(&t, &tm);
    static const char *mon[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
    char text[96];
    put_field(h + 8, 80, subject[0] ? subject : "X X X X");
    if (strncmp(recording, "Startdate ", 10) == 0) {
        put_field(h + 88, 80, recording);
    } else {
        snprintf(text, sizeof text, "Startdate %02d-%s-%04d X X X%s%s", tm.tm_mday, mon[tm.tm_mon],
                 tm.tm_year + 1900, recording[0] ? " " : "", recording);
        put_field(h + 88, 80, text);
    }
    snprintf(text, sizeof text, "%02d.%02d.%02d", tm.tm_mday, tm.tm_mon + 1, tm.tm_year % 100);
    put_field(h + 168, 8, text);
    snprintf(text, sizeof text, "%02d.%02d.%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
    put_field(h + 176, 8, text);
    put_int(h + 184, 8, (long long)size);
    put_field(h + 192, 44, w->bdf ? (ds->record_onsets ? "BDF+D" : "BDF+C") : (ds->record_onsets ? "EDF+D" : "EDF+C"));
    put_int(h + 236, 8, (long long)w->n_records);
    if (!format_number(text, 8, w->duration, 0) || fabs(btfm_strtod_c(text) - w->duration) > 1e-12) {
        btfm_free(h);
        return btfm_fail(BTFM_E_RANGE, "edf: record duration %.17g s of %s does not fit 8 characters",
                         w->duration, ds->path);
    }
    put_field(h + 244, 8, text);
    put_int(h + 252, 4, ns);
    unsigned char *s = h + 256;
    int replaced = 0;
    for (int i = 0; i < ns; i++) {
        int ann = i == ds->n_channels;
        const btfm_channel *c = ann ? NULL : &ds->channels[i];
        const out_channel *o = ann ? NULL : &w->ch[i];
        replaced |= put_field(s + 16 * i, 16, ann ? (w->bdf ? "BDF Annotations" : "EDF Annotations") : c->name);
        unsigned char *p = s + 16 * ns;
        if (!ann) replaced |= put_field(p + 80 * i, 80, c->transducer ? c->transducer : "");
        p += 80 * ns;
        put_field(p + 8 * i, 8, ann ? "" : o->unit);
        p += 8 * ns;
        double pmin = ann ? -1 : o->phys_min, pmax = ann ? 1 : o->phys_max;
        double dmin = ann ? (w->bdf ? -8388608 : -32768) : o->dig_min;
        double dmax = ann ? (w->bdf ? 8388607 : 32767) : o->dig_max;
        format_number(text, 8, pmin, -1);
        put_field(p + 8 * i, 8, text);
        p += 8 * ns;
        format_number(text, 8, pmax, 1);
        put_field(p + 8 * i, 8, text);
        p += 8 * ns;
        put_int(p + 8 * i, 8, (long long)dmin);
        p += 8 * ns;
        put_int(p + 8 * i, 8, (long long)dmax);
        p += 8 * ns;
        if (!ann) replaced |= put_field(p + 80 * i, 80, c->prefilter ? c->prefilter : "");
        p += 80 * ns;
        put_int(p + 8 * i, 8, ann ? w->ann_spr : o->spr);
    }
    if (replaced)
        btfm_warn("edf: saving %s: header text outside printable ASCII was replaced by '_' "
                  "(EDF headers are ASCII) or cut to its field", ds->path);
    size_t wrote = fwrite(h, 1, size, fp);
    btfm_free(h);
    return wrote == size ? BTFM_OK : btfm_fail(BTFM_E_IO, "edf: write failed");
}

static void put_sample(unsigned char *p, int bps, long v)
{
    p[0] = (unsigned char)(v & 0xFF);
    p[1] = (unsigned char)((v >> 8) & 0xFF);
    if (bps == 3) p[2] = (unsigned char)((v >> 16) & 0xFF);
}

/* Physical values to digital ones, a row of channels at a time (vectorized, the same
 * rounding as the per-channel path): q[t width + j] for rows [0, rows). */
BTFM_HOT BTFM_SIMD_CLONES static void quantize_rows(const float *x, int64_t rows, int width,
                                                    const double *restrict scale,
                                                    const double *restrict offset,
                                                    const double *restrict lo,
                                                    const double *restrict hi, int32_t *restrict q)
{
    for (int64_t t = 0; t < rows; t++) {
        const float *row = x + (size_t)t * (size_t)width;
        int32_t *out = q + (size_t)t * (size_t)width;
        for (int j = 0; j < width; j++) {
            double d = nearbyint((double)row[j] * scale[j] + offset[j]);
            d = d < lo[j] ? lo[j] : d > hi[j] ? hi[j] : d;
            out[j] = (int32_t)d;
        }
    }
}

/* The last record is padded with the digital value nearest to 0 (physical 0 when the
 * values are rescaled). */
static double pad_value(const out_channel *o)
{
    double pad = o->dig_min > 0 ? o->dig_min : o->dig_max < 0 ? o->dig_max : 0;
    if (!o->copy_digital && o->to_digital_scale != 0)
        pad = fmin(o->dig_max, fmax(o->dig_min, nearbyint(o->to_digital_offset)));
    return pad;
}

/* Annotation signal of record r at p: the time-keeping TAL, then as many event TALs
 * (from *next_event on) as fit. */
static void put_annotations(const writer *w, unsigned char *p, int64_t r, double shift,
                            int64_t *next_event)
{
    const btfm_dataset *ds = w->ds;
    size_t ann_bytes = (size_t)w->ann_spr * (size_t)w->bps;
    memset(p, 0, ann_bytes);
    char tal[1024];
    size_t used = (size_t)format_onset(tal, sizeof tal, record_onset(w, r) + shift, 1);
    memcpy(p, tal, used);
    memcpy(p + used, "\x14\x14\0", 3);
    used += 3;
    while (*next_event < ds->n_events) {
        size_t n = event_tal(&ds->events[*next_event], shift, tal, sizeof tal);
        if (n == 0) {
            ++*next_event;
            continue;
        }
        if (used + n > ann_bytes) break;
        memcpy(p + used, tal, n);
        used += n;
        ++*next_event;
    }
}

static btfm_status write_records_blocked(writer *w, FILE *fp, double shift)
{
    btfm_dataset *ds = w->ds;
    const int width = ds->n_channels, spr = w->ch[0].spr;
    const size_t cells = (size_t)spr * (size_t)width;
    size_t bytes = cells * (sizeof(float) + sizeof(int32_t)) + (size_t)width * 4 * sizeof(double);
    unsigned char *scratch = btfm_malloc(bytes);
    if (!scratch) return btfm_fail_nomem("edf save", bytes);
    double *scale = (double *)(void *)scratch, *offset = scale + width, *lo = offset + width,
           *hi = lo + width;
    float *x = (float *)(hi + width);
    int32_t *q = (int32_t *)(x + cells);
    for (int j = 0; j < width; j++) {
        scale[j] = w->ch[j].to_digital_scale;
        offset[j] = w->ch[j].to_digital_offset;
        lo[j] = w->ch[j].dig_min;
        hi[j] = w->ch[j].dig_max;
    }
    btfm_status st = BTFM_OK;
    int64_t next_event = 0;
    for (int64_t r = 0; r < w->n_records && !st; r++) {
        int64_t first = r * spr, n = ds->n_times - first < spr ? ds->n_times - first : spr;
        if ((st = btfm_dataset_read(ds, first, n, NULL, 0, x))) break;
        quantize_rows(x, n, width, scale, offset, lo, hi, q);
        unsigned char *p = w->record;
        for (int j = 0; j < width; j++, p += (size_t)spr * w->bps) {
            const int32_t *col = q + j;
            if (w->bps == 2)
                for (int64_t k = 0; k < n; k++) {
                    int32_t v = col[(size_t)k * (size_t)width];
                    p[2 * k] = (unsigned char)(v & 0xFF);
                    p[2 * k + 1] = (unsigned char)((v >> 8) & 0xFF);
                }
            else
                for (int64_t k = 0; k < n; k++) put_sample(p + 3 * k, 3, col[(size_t)k * (size_t)width]);
            for (int64_t k = n; k < spr; k++) put_sample(p + (size_t)k * w->bps, w->bps, (long)pad_value(&w->ch[j]));
        }
        put_annotations(w, p, r, shift, &next_event);
        if (fwrite(w->record, 1, (size_t)w->record_bytes, fp) != (size_t)w->record_bytes)
            st = btfm_fail(BTFM_E_IO, "edf: write failed");
    }
    btfm_free(scratch);
    return st;
}

/* The records of a dataset whose channels all share one rate and record length, none
 * copied digitally: a record's rows read in one call, quantized together, and each
 * channel's column stored into its span of the record. */
static int block_records(const writer *w)
{
    const btfm_dataset *ds = w->ds;
    if (!at_dataset_rate(ds)) return 0;
    for (int i = 0; i < ds->n_channels; i++)
        if (w->ch[i].copy_digital || w->ch[i].spr != w->ch[0].spr) return 0;
    return 1;
}

static btfm_status write_records(writer *w, FILE *fp, double shift)
{
    if (block_records(w)) return write_records_blocked(w, fp, shift);
    btfm_dataset *ds = w->ds;
    double *dig = NULL;
    float *phys = NULL;
    int max_spr = 1;
    for (int i = 0; i < ds->n_channels; i++) if (w->ch[i].spr > max_spr) max_spr = w->ch[i].spr;
    dig = btfm_malloc((size_t)max_spr * sizeof *dig);
    phys = btfm_malloc((size_t)max_spr * sizeof *phys);
    if (!dig || !phys) {
        btfm_free(dig);
        btfm_free(phys);
        return btfm_fail_nomem("edf save", (size_t)max_spr * sizeof *dig);
    }
    btfm_status st = BTFM_OK;
    int64_t next_event = 0;
    for (int64_t r = 0; r < w->n_records && !st; r++) {
        unsigned char *p = w->record;
        for (int i = 0; i < ds->n_channels && !st; i++) {
            const btfm_channel *c = &ds->channels[i];
            const out_channel *o = &w->ch[i];
            int64_t first = r * o->spr, n = c->n_samples - first;
            if (n > o->spr) n = o->spr;
            if (n < 0) n = 0;
            if (o->copy_digital) {
                if (n) st = ds->driver->read_digital(ds, i, first, n, dig);
            } else if (n) {
                st = btfm_dataset_read_native(ds, i, first, n, phys);
                for (int64_t k = 0; k < n; k++) {
                    double d = nearbyint(phys[k] * o->to_digital_scale + o->to_digital_offset);
                    dig[k] = d < o->dig_min ? o->dig_min : d > o->dig_max ? o->dig_max : d;
                }
            }
            for (int64_t k = n; k < o->spr; k++) dig[k] = pad_value(o);
            for (int k = 0; k < o->spr; k++) put_sample(p + (size_t)k * w->bps, w->bps, (long)dig[k]);
            p += (size_t)o->spr * w->bps;
        }
        put_annotations(w, p, r, shift, &next_event);
        if (!st && fwrite(w->record, 1, (size_t)w->record_bytes, fp) != (size_t)w->record_bytes)
            st = btfm_fail(BTFM_E_IO, "edf: write failed");
    }
    btfm_free(dig);
    btfm_free(phys);
    return st;
}

btfm_status btfm_edf_save(btfm_dataset *ds, const char *path, int format, unsigned flags)
{
    writer w = {.ds = ds, .bdf = format == BTFM_FORMAT_BDF};
    w.bps = w.bdf ? 3 : 2;
    if (ds->n_channels < 1)
        return btfm_fail(BTFM_E_INVALID, "edf: cannot save %s: it has no channels", ds->path);
    btfm_status st = choose_duration(&w);
    if (st) return st;
    w.ch = btfm_calloc((size_t)ds->n_channels, sizeof *w.ch);
    if (!w.ch) return btfm_fail_nomem("edf save", (size_t)ds->n_channels * sizeof *w.ch);
    int need_scan = ds->format != format && at_dataset_rate(ds);
    for (int i = 0; need_scan && i < ds->n_channels && ds->channels[i].has_range; i++)
        if (i == ds->n_channels - 1) need_scan = 0; /* every range declared */
    range_scan scan = {0};
    if (need_scan) {
        size_t nc = (size_t)ds->n_channels;
        scan.lo = btfm_malloc(nc * (3 * sizeof(float) + sizeof(int64_t)));
        if (!scan.lo) {
            st = btfm_fail_nomem("edf save", nc * 20);
            goto done;
        }
        scan.first_bad = (int64_t *)(void *)scan.lo;
        scan.lo = (float *)(scan.first_bad + nc);
        scan.hi = scan.lo + nc;
        scan.nan_probe = scan.hi + nc;
        st = scan_ranges(ds, &scan);
        if (!st) st = plan_channels(&w, format, &scan);
        btfm_free(scan.first_bad);
    } else {
        st = plan_channels(&w, format, NULL);
    }
    if (st) goto done;
    w.n_records = 0;
    for (int i = 0; i < ds->n_channels; i++) {
        int64_t n = (ds->channels[i].n_samples + w.ch[i].spr - 1) / w.ch[i].spr;
        if (n > w.n_records) w.n_records = n;
    }
    if (ds->record_onsets && w.n_records != ds->n_records) {
        st = btfm_fail(BTFM_E_INTERNAL, "edf: %s: %lld records planned for %lld stored", ds->path,
                       (long long)w.n_records, (long long)ds->n_records);
        goto done;
    }
    /* The sub-second part of the start goes into the record onsets (EDF+). */
    int anonymize = (flags & BTFM_SAVE_ANONYMIZE) != 0;
    double start = ds->start_time;
    if (anonymize && ds->has_start_time) {
        double day = fmod(start, 86400.0);
        start = 473385600.0 + (day < 0 ? day + 86400.0 : day);
    }
    double shift = ds->has_start_time ? start - floor(start) : 0;
    /* Annotation space: the time-keeping TAL plus an even share of the event TALs. */
    size_t total = 0, longest = 0;
    char tal[1024];
    for (int64_t e = 0; e < ds->n_events; e++) {
        size_t n = event_tal(&ds->events[e], shift, tal, sizeof tal);
        total += n;
        if (n > longest) longest = n;
    }
    size_t keeping = 32;
    size_t per_record = keeping + longest + (total + (size_t)w.n_records - 1) / (size_t)w.n_records;
    w.ann_spr = (int)((per_record + (size_t)w.bps - 1) / (size_t)w.bps);
    w.record_bytes = (int64_t)w.ann_spr * w.bps;
    for (int i = 0; i < ds->n_channels; i++) w.record_bytes += (int64_t)w.ch[i].spr * w.bps;
    if (!(w.record = btfm_malloc((size_t)w.record_bytes))) {
        st = btfm_fail_nomem("edf save", (size_t)w.record_bytes);
        goto done;
    }
    btfm_atomic_file af;
    if ((st = btfm_atomic_open(&af, path, 1))) goto done;
    const char *subject = anonymize ? "" : ds->subject;
    const char *recording = anonymize ? "" : ds->recording;
    st = write_header(&w, af.fp, subject, recording, ds->has_start_time, start);
    if (!st) st = write_records(&w, af.fp, shift);
    if (st) {
        btfm_atomic_abort(&af);
    } else {
        st = btfm_atomic_commit(&af);
    }
done:
    btfm_free(w.record);
    btfm_free(w.ch);
    return st;
}
