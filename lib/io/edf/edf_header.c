/* EDF/EDF+/BDF/BDF+ header: every field parsed and validated (edfplus.info, BioSemi BDF+).
 * Errors name the file, the field (and signal) and its byte offset. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "edf_internal.h"
#include "core/number.h"

#define MAX_SIGNALS 65536

typedef struct field_ctx {
    const char *path;
    const unsigned char *bytes;
    int64_t base;            /* file offset of `bytes` */
} field_ctx;

/* Copy field [off, off + len) trimmed of spaces, as raw bytes (NUL-terminated). */
static void raw_field(const field_ctx *f, size_t off, size_t len, char *dst)
{
    size_t a = 0, b = len;
    while (a < b && f->bytes[off + a] == ' ') a++;
    while (b > a && (f->bytes[off + b - 1] == ' ' || f->bytes[off + b - 1] == '\0')) b--;
    memcpy(dst, f->bytes + off + a, b - a);
    dst[b - a] = '\0';
}

static btfm_status number_field(const field_ctx *f, size_t off, size_t len, const char *what,
                                int signal, double *value)
{
    char text[96];
    raw_field(f, off, len, text);
    char *end = NULL;
    errno = 0;
    double v = text[0] ? btfm_strtod_c_end(text, &end) : NAN;
    int ok = text[0] && end && *end == '\0' && errno == 0 && isfinite(v);
    /* strtod also takes "nan", "inf" and hex floats; EDF numbers are plain decimals. */
    for (const char *p = text; ok && *p; p++)
        if (!(isdigit((unsigned char)*p) || strchr("+-.eE", *p))) ok = 0;
    if (!ok) {
        char where[48] = "";
        if (signal >= 0) snprintf(where, sizeof where, " of signal %d", signal + 1);
        for (char *p = text; *p; p++)
            if ((unsigned char)*p < 32 || (unsigned char)*p > 126) *p = '?';
        return btfm_fail(BTFM_E_FORMAT, "edf: %s: byte %lld: field \"%s\"%s is \"%s\", expected "
                         "a finite decimal number", f->path, (long long)(f->base + (int64_t)off),
                         what, where, text);
    }
    *value = v;
    return BTFM_OK;
}

static btfm_status integer_field(const field_ctx *f, size_t off, size_t len, const char *what,
                                 int signal, int64_t *value)
{
    double v;
    btfm_status st = number_field(f, off, len, what, signal, &v);
    if (st) return st;
    if (v != floor(v) || fabs(v) > 9007199254740992.0) {
        char where[48] = "";
        if (signal >= 0) snprintf(where, sizeof where, " of signal %d", signal + 1);
        return btfm_fail(BTFM_E_FORMAT, "edf: %s: byte %lld: field \"%s\"%s is %g, expected a "
                         "whole number", f->path, (long long)(f->base + (int64_t)off), what,
                         where, v);
    }
    *value = (int64_t)v;
    return BTFM_OK;
}

static btfm_status text_field(const field_ctx *f, size_t off, size_t len, char **dst)
{
    char raw[128];
    raw_field(f, off, len, raw);
    *dst = btfm_text_to_utf8(raw, strlen(raw));
    return *dst ? BTFM_OK : btfm_fail_nomem("edf", len * 2 + 1);
}

int64_t btfm_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Start date dd.mm.yy and time hh.mm.ss; EDF+ gives the 4-digit year in the recording
 * field ("Startdate 02-MAR-2002 ..."), which wins when present. */
static void parse_start(btfm_dataset *ds, const field_ctx *f)
{
    char date[16], clock[16];
    raw_field(f, 168, 8, date);
    raw_field(f, 176, 8, clock);
    int d, m, y, hh, mm, ss;
    if (sscanf(date, "%2d.%2d.%2d", &d, &m, &y) != 3 || sscanf(clock, "%2d.%2d.%2d", &hh, &mm, &ss) != 3 ||
        d < 1 || d > 31 || m < 1 || m > 12 || hh > 23 || mm > 59 || ss > 60 || hh < 0 || mm < 0 || ss < 0) {
        btfm_warn("edf: %s: start date \"%s\" and time \"%s\" are not dd.mm.yy and hh.mm.ss; "
                  "the start time is unknown", ds->path, date, clock);
        return;
    }
    int year = y >= 85 ? 1900 + y : 2000 + y;
    char rec[96];
    raw_field(f, 88, 80, rec);
    int d4, y4;
    char mon[4];
    static const char *months = "JANFEBMARAPRMAYJUNJULAUGSEPOCTNOVDEC";
    if (strncmp(rec, "Startdate ", 10) == 0 && sscanf(rec + 10, "%2d-%3[A-Za-z]-%4d", &d4, mon, &y4) == 3) {
        for (int i = 0; i < 3; i++) mon[i] = (char)toupper((unsigned char)mon[i]);
        const char *hit = strstr(months, mon);
        if (hit && (hit - months) % 3 == 0 && (hit - months) / 3 + 1 == m && d4 == d) year = y4;
    }
    ds->start_time = (double)(btfm_days_from_civil(year, m, d) * 86400 + hh * 3600 + mm * 60 + ss);
    ds->has_start_time = 1;
}

static btfm_status fail_at(const char *path, int64_t at, const char *fmt, const char *detail)
{
    return btfm_fail(BTFM_E_FORMAT, "edf: %s: byte %lld: %s%s", path, (long long)at, fmt, detail);
}

static int is_annotation_label(const char *label, int bdf)
{
    return strcmp(label, "EDF Annotations") == 0 || (bdf && strcmp(label, "BDF Annotations") == 0);
}

btfm_status btfm_edf_parse_header(btfm_dataset **out, const char *path, int fd, int format,
                                  unsigned flags, edf_state **state)
{
    *out = NULL;
    *state = NULL;
    struct stat sb;
    if (fstat(fd, &sb) != 0) return btfm_fail(BTFM_E_IO, "edf: %s: %s", path, strerror(errno));
    int64_t file_size = (int64_t)sb.st_size;
    unsigned char fixed[256];
    ssize_t got = pread(fd, fixed, 256, 0);
    if (got < 0) return btfm_fail(BTFM_E_IO, "edf: %s: %s", path, strerror(errno));
    /* The version field first: a file that is not EDF at all (a text file named .edf)
     * is told so, whatever its length. */
    size_t head = got < 8 ? (size_t)got : 8;
    int looks_edf = memcmp(fixed, "0       ", head) == 0;
    int looks_bdf = head > 0 && fixed[0] == 0xFF && memcmp(fixed + 1, "BIOSEMI", head - 1) == 0;
    int bdf = head == 8 && looks_bdf;
    if (head > 0 && !looks_edf && !looks_bdf) {
        char start[8 * 4 + 1];
        size_t used = 0;
        for (size_t i = 0; i < head; i++) /* printable as is, else \xHH */
            used += (size_t)snprintf(start + used, sizeof start - used,
                                     fixed[i] >= 32 && fixed[i] < 127 && fixed[i] != '"' ? "%c"
                                                                                      : "\\x%02X",
                                     fixed[i]);
        return btfm_fail(BTFM_E_FORMAT, "edf: %s: not an EDF or BDF file: it starts with \"%s\" "
                         "where EDF has the version field \"0\" and 7 spaces and BDF the byte "
                         "0xFF and \"BIOSEMI\"", path, start);
    }
    if (got < 256 || file_size < 256)
        return btfm_fail(BTFM_E_TRUNCATED, "edf: %s: byte %lld: the file ends inside the 256-byte "
                         "header", path, (long long)file_size);
    field_ctx f = {path, fixed, 0};
    if ((format == BTFM_FORMAT_BDF) != bdf)
        return btfm_fail(BTFM_E_FORMAT, "edf: %s: opened as %s but the version field says %s",
                         path, format == BTFM_FORMAT_BDF ? "BDF" : "EDF", bdf ? "BDF" : "EDF");
    int64_t header_bytes, n_records, n_signals;
    double duration;
    btfm_status st;
    if ((st = integer_field(&f, 184, 8, "number of bytes in header", -1, &header_bytes)) ||
        (st = integer_field(&f, 236, 8, "number of data records", -1, &n_records)) ||
        (st = number_field(&f, 244, 8, "duration of a data record", -1, &duration)) ||
        (st = integer_field(&f, 252, 4, "number of signals", -1, &n_signals)))
        return st;
    if (n_signals < 1 || n_signals > MAX_SIGNALS)
        return btfm_fail(BTFM_E_FORMAT, "edf: %s: byte 252: number of signals is %lld, expected 1 "
                         "to %d", path, (long long)n_signals, MAX_SIGNALS);
    if (header_bytes != 256 * (n_signals + 1))
        return btfm_fail(BTFM_E_FORMAT, "edf: %s: byte 184: number of bytes in header is %lld, "
                         "expected 256 x (1 + %lld signals) = %lld", path, (long long)header_bytes,
                         (long long)n_signals, (long long)(256 * (n_signals + 1)));
    if (n_records == 0 || n_records < -1)
        return btfm_fail(BTFM_E_FORMAT, "edf: %s: byte 236: number of data records is %lld, "
                         "expected at least 1 (or -1 while recording)", path, (long long)n_records);
    if (duration < 0)
        return btfm_fail(BTFM_E_FORMAT, "edf: %s: byte 244: duration of a data record is %g s, "
                         "expected a positive number", path, duration);
    if (file_size < header_bytes)
        return btfm_fail(BTFM_E_TRUNCATED, "edf: %s: byte %lld: the file ends inside the header "
                         "of %lld bytes", path, (long long)file_size, (long long)header_bytes);
    unsigned char *sig = btfm_malloc((size_t)header_bytes - 256);
    if (!sig) return btfm_fail_nomem("edf", (size_t)header_bytes - 256);
    if (pread(fd, sig, (size_t)header_bytes - 256, 256) != header_bytes - 256) {
        btfm_free(sig);
        return btfm_fail(BTFM_E_IO, "edf: %s: cannot read the signal headers: %s", path, strerror(errno));
    }
    char reserved[48];
    raw_field(&f, 192, 44, reserved);
    int ns = (int)n_signals;
    edf_state *es = btfm_calloc(1, sizeof *es);
    btfm_dataset *ds = NULL;
    if (!es || !(es->signals = btfm_calloc((size_t)ns, sizeof *es->signals))) {
        st = btfm_fail_nomem("edf", (size_t)ns * sizeof(edf_signal));
        goto fail;
    }
    es->fd = -1;
    es->bdf = bdf;
    es->bytes_per_sample = bdf ? 3 : 2;
    es->plus = strncmp(reserved, bdf ? "BDF+" : "EDF+", 4) == 0;
    es->discontinuous = es->plus && reserved[4] == 'D';
    es->n_signals = ns;
    es->header_bytes = header_bytes;
    es->record_duration = duration;
    /* The per-signal arrays: field k of signal i at 256 + width offsets. */
    static const struct { const char *name; int width; } fields[] = {
        {"label", 16}, {"transducer type", 80}, {"physical dimension", 8},
        {"physical minimum", 8}, {"physical maximum", 8}, {"digital minimum", 8},
        {"digital maximum", 8}, {"prefiltering", 80}, {"samples per record", 8}, {"reserved", 32},
    };
    size_t start[10];
    start[0] = 0;
    for (int k = 1; k < 10; k++) start[k] = start[k - 1] + (size_t)fields[k - 1].width * (size_t)ns;
    field_ctx sf = {path, sig, 256};
    int n_channels = 0;
    for (int i = 0; i < ns; i++) {
        char label[20];
        raw_field(&sf, start[0] + 16 * (size_t)i, 16, label);
        es->signals[i].annotation = es->plus && is_annotation_label(label, bdf);
        if (!es->signals[i].annotation) n_channels++;
    }
    if (n_channels == 0 && duration == 0) {
        st = btfm_fail(BTFM_E_UNSUPPORTED, "edf: %s: an annotation-only file (record duration 0) "
                       "has no samples to present as a dataset", path);
        goto fail;
    }
    if (n_channels == 0) {
        st = btfm_fail(BTFM_E_FORMAT, "edf: %s: byte 256: all %d signals are annotations; "
                       "expected at least one data signal", path, ns);
        goto fail;
    }
    if (duration == 0) {
        st = fail_at(path, 244, "duration of a data record is 0, which only annotation-only "
                     "files may use", "");
        goto fail;
    }
    if ((st = btfm_dataset_alloc(&ds, path, format, n_channels))) goto fail;
    es->signal_of_channel = btfm_malloc((size_t)n_channels * sizeof(int));
    if (!es->signal_of_channel) {
        st = btfm_fail_nomem("edf", (size_t)n_channels * sizeof(int));
        goto fail;
    }
    int64_t record_bytes = 0;
    const int64_t dig_lo = bdf ? -8388608 : -32768, dig_hi = bdf ? 8388607 : 32767;
    for (int i = 0, ch = 0; i < ns; i++) {
        edf_signal *s = &es->signals[i];
        double pmin, pmax;
        int64_t dmin, dmax, spr;
        if ((st = number_field(&sf, start[3] + 8 * (size_t)i, 8, fields[3].name, i, &pmin)) ||
            (st = number_field(&sf, start[4] + 8 * (size_t)i, 8, fields[4].name, i, &pmax)) ||
            (st = integer_field(&sf, start[5] + 8 * (size_t)i, 8, fields[5].name, i, &dmin)) ||
            (st = integer_field(&sf, start[6] + 8 * (size_t)i, 8, fields[6].name, i, &dmax)) ||
            (st = integer_field(&sf, start[8] + 8 * (size_t)i, 8, fields[8].name, i, &spr)))
            goto fail;
        if (spr < 1 || spr > 100000000) {
            st = btfm_fail(BTFM_E_FORMAT, "edf: %s: byte %lld: samples per record of signal %d is "
                           "%lld, expected 1 to 100000000", path,
                           (long long)(256 + start[8] + 8 * (size_t)i), i + 1, (long long)spr);
            goto fail;
        }
        s->samples_per_record = (int)spr;
        s->byte_offset = record_bytes;
        record_bytes += spr * es->bytes_per_sample;
        s->channel = -1;
        if (s->annotation) continue;
        if (dmin < dig_lo || dmax > dig_hi || dmin >= dmax) {
            st = btfm_fail(BTFM_E_FORMAT, "edf: %s: byte %lld: digital minimum %lld and maximum "
                           "%lld of signal %d, expected %lld <= minimum < maximum <= %lld", path,
                           (long long)(256 + start[5] + 8 * (size_t)i), (long long)dmin,
                           (long long)dmax, i + 1, (long long)dig_lo, (long long)dig_hi);
            goto fail;
        }
        if (pmin == pmax) {
            st = btfm_fail(BTFM_E_FORMAT, "edf: %s: byte %lld: physical minimum and maximum of "
                           "signal %d are both %g, so no value can be scaled", path,
                           (long long)(256 + start[3] + 8 * (size_t)i), i + 1, pmin);
            goto fail;
        }
        s->dig_min = (int)dmin;
        s->dig_max = (int)dmax;
        s->channel = ch;
        es->signal_of_channel[ch] = i;
        btfm_channel *c = &ds->channels[ch++];
        if ((st = text_field(&sf, start[0] + 16 * (size_t)i, 16, &c->name)) ||
            (st = text_field(&sf, start[1] + 80 * (size_t)i, 80, &c->transducer)) ||
            (st = text_field(&sf, start[2] + 8 * (size_t)i, 8, &c->stored_unit)) ||
            (st = text_field(&sf, start[7] + 80 * (size_t)i, 80, &c->prefilter)))
            goto fail;
        double factor;
        const char *si;
        btfm_unit_to_si(c->stored_unit, &factor, &si);
        if ((st = btfm_io_strdup(&c->unit, si, strlen(si)))) goto fail;
        c->type = btfm_channel_type_from_label(c->name);
        c->phys_min = pmin;
        c->phys_max = pmax;
        c->dig_min = (double)dmin;
        c->dig_max = (double)dmax;
        double scale = (pmax - pmin) / (double)(dmax - dmin);
        c->gain = scale * factor;
        c->offset = (pmin - (double)dmin * scale) * factor;
        c->samples_per_record = (int)spr;
        c->rate = (double)spr / duration;
        /* a range of 1e308 overflows: every sample would read as +-inf */
        const double extreme = fabs(c->gain) * (double)(dmax > -dmin ? dmax : -dmin) +
                               fabs(c->offset);
        if (!isfinite(extreme)) {
            st = btfm_fail(BTFM_E_FORMAT, "edf: %s: byte %lld: physical minimum %g and maximum "
                           "%g of signal %d scale digital values beyond the largest finite "
                           "number; expected a finite physical range", path,
                           (long long)(256 + start[3] + 8 * (size_t)i), pmin, pmax, i + 1);
            goto fail;
        }
        if (!isfinite(c->rate)) {
            st = btfm_fail(BTFM_E_FORMAT, "edf: %s: byte 244: duration of a data record is %g "
                           "s, so signal %d's %lld samples per record make an infinite "
                           "sampling rate", path, duration, i + 1, (long long)spr);
            goto fail;
        }
    }
    es->record_bytes = record_bytes;
    int64_t data_bytes = file_size - header_bytes;
    int64_t complete = data_bytes / record_bytes, declared = 0;
    int wraps = 0;
    if (n_records == -1) {
        btfm_warn("edf: %s: the number of data records is -1 (still recording); using the %lld "
                  "complete records the file holds", path, (long long)complete);
        n_records = complete;
    } else if ((wraps = __builtin_mul_overflow(n_records, record_bytes, &declared)) ||
               data_bytes != declared) {
        /* checked: a crafted header's product can wrap to the file's size */
        if (!(flags & BTFM_OPEN_COMPLETE_RECORDS) || complete == 0) {
            char bytes[32] = "more than 2^63";
            if (!wraps) snprintf(bytes, sizeof bytes, "%lld", (long long)declared);
            st = btfm_fail(complete < n_records ? BTFM_E_TRUNCATED : BTFM_E_FORMAT,
                           "edf: %s: byte 236: the header declares %lld data records of %lld bytes "
                           "(%s bytes after the header) but the file has %lld bytes after the "
                           "header, %lld complete records; open with BTFM_OPEN_COMPLETE_RECORDS to "
                           "read the complete records", path, (long long)n_records,
                           (long long)record_bytes, bytes, (long long)data_bytes,
                           (long long)complete);
            goto fail;
        }
        btfm_warn("edf: %s: the header declares %lld data records but the file holds %lld "
                  "complete records (%lld bytes after them ignored); reading those", path,
                  (long long)n_records, (long long)complete,
                  (long long)(data_bytes - complete * record_bytes));
        if (complete < n_records) n_records = complete;
    }
    if (n_records == 0) {
        st = btfm_fail(BTFM_E_TRUNCATED, "edf: %s: byte %lld: the file holds no complete data "
                       "record of %lld bytes", path, (long long)header_bytes, (long long)record_bytes);
        goto fail;
    }
    es->n_records = n_records;
    for (int ch = 0; ch < n_channels; ch++)
        ds->channels[ch].n_samples = n_records * ds->channels[ch].samples_per_record;
    ds->n_records = n_records;
    ds->record_duration = duration;
    btfm_free(ds->subject);
    btfm_free(ds->recording);
    ds->subject = ds->recording = NULL;
    if ((st = text_field(&f, 8, 80, &ds->subject)) || (st = text_field(&f, 88, 80, &ds->recording)))
        goto fail;
    parse_start(ds, &f);
    if (!(es->record = btfm_malloc((size_t)record_bytes))) {
        st = btfm_fail_nomem("edf", (size_t)record_bytes);
        goto fail;
    }
    btfm_free(sig);
    *out = ds;
    *state = es;
    return BTFM_OK;
fail:
    btfm_free(sig);
    btfm_dataset_free(ds);
    if (es) {
        btfm_free(es->signals);
        btfm_free(es->signal_of_channel);
        btfm_free(es->record);
        btfm_free(es);
    }
    return st;
}
