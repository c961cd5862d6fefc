/* The BrainVision writer: x.vhdr + x.vmrk + x.eeg, each through an atomic replace, data
 * first and header last so a header never names half-written files. A BrainVision source
 * keeps its binary format, resolutions, units and stored numbers exactly; anything else
 * is written as IEEE_FLOAT_32 MULTIPLEXED (voltages in µV, resolution 1). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "brainvision_internal.h"
#include "core/atomic_file.h"
#include "core/number.h"

#define CHUNK_ROWS 4096 /* samples converted and written at a time */

/* What goes into the files, per channel. */
typedef struct plan {
    btfm_dataset *ds;
    const btfm_bv_state *source; /* a BrainVision source: copy its stored numbers */
    int binary_format;
    double interval_us;
    double *scale;               /* non-BrainVision source: SI value x scale = stored */
    int has_start_time;
    double start_time;
} plan;

/* The shortest decimal that reads back to the same double, whatever the locale. */
static void put_number(FILE *f, double v)
{
    char text[32];
    btfm_format_double(v, text);
    fputs(text, f);
}

/* Commas become "\1"; line breaks (which would end the entry) become spaces. */
static void put_field(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == ',') fputs("\\1", f);
        else fputc(*s == '\n' || *s == '\r' ? ' ' : *s, f);
    }
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* ---- .eeg ---- */

static void encode(unsigned char *p, int binary_format, double v)
{
    uint32_t u;
    if (binary_format == BTFM_BV_INT_16) {
        uint16_t w = (uint16_t)(int16_t)v;
        p[0] = (unsigned char)w;
        p[1] = (unsigned char)(w >> 8);
        return;
    }
    if (binary_format == BTFM_BV_INT_32) {
        u = (uint32_t)(int32_t)v;
    } else {
        float x = (float)v;
        memcpy(&u, &x, sizeof u);
    }
    for (int k = 0; k < 4; k++) p[k] = (unsigned char)(u >> (8 * k));
}

static btfm_status write_data(const plan *pl, FILE *f, const char *path)
{
    btfm_dataset *ds = pl->ds;
    size_t n_ch = (size_t)ds->n_channels, size = btfm_bv_sample_size(pl->binary_format);
    double *values = btfm_malloc(CHUNK_ROWS * n_ch * sizeof *values);
    float *physical = pl->source ? NULL : btfm_malloc(CHUNK_ROWS * n_ch * sizeof *physical);
    unsigned char *bytes = btfm_malloc(CHUNK_ROWS * n_ch * size);
    btfm_status st = !values || !bytes || (!pl->source && !physical)
                         ? btfm_fail_nomem("brainvision save", CHUNK_ROWS * n_ch * sizeof *values)
                         : BTFM_OK;
    for (int64_t first = 0; !st && first < ds->n_times; first += CHUNK_ROWS) {
        int64_t rows = ds->n_times - first < CHUNK_ROWS ? ds->n_times - first : CHUNK_ROWS;
        size_t n = (size_t)rows * n_ch;
        if (pl->source) {
            st = btfm_bv_read_rows(ds, first, rows, values);
        } else {
            st = btfm_dataset_read(ds, first, rows, NULL, 0, physical);
            for (size_t i = 0; !st && i < n; i++) values[i] = (double)physical[i] * pl->scale[i % n_ch];
        }
        for (size_t i = 0; !st && i < n; i++) encode(bytes + i * size, pl->binary_format, values[i]);
        if (!st && fwrite(bytes, size, n, f) != n)
            st = btfm_fail(BTFM_E_IO, "brainvision save: %s: write failed", path);
    }
    btfm_free(values);
    btfm_free(physical);
    btfm_free(bytes);
    return st;
}

/* ---- .vmrk ---- */

/* BrainVision marker types for the library's event types; others are kept as they are. */
static const char *marker_type(const char *type)
{
    if (!*type || strcmp(type, "annotation") == 0) return "Comment";
    if (strcmp(type, "trigger") == 0) return "Stimulus";
    return type;
}

static void put_date(FILE *f, double posix)
{
    double whole = floor(posix);
    long long micro = llround((posix - whole) * 1e6);
    if (micro >= 1000000) {
        whole += 1;
        micro -= 1000000;
    }
    time_t t = (time_t)whole;
    struct tm tm;
    gmtime_r(&t, &tm);
    fprintf(f, ",%04d%02d%02d%02d%02d%02d%06lld", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
            tm.tm_hour, tm.tm_min, tm.tm_sec, micro);
}

static void write_markers(const plan *pl, FILE *f, const char *eeg_name)
{
    const btfm_dataset *ds = pl->ds;
    fputs("Brain Vision Data Exchange Marker File, Version 1.0\n\n[Common Infos]\nCodepage=UTF-8\n"
          "DataFile=", f);
    put_field(f, eeg_name);
    fputs("\n\n[Marker Infos]\n"
          "; Each entry: Mk<Marker number>=<Type>,<Description>,<Position in data points>,\n"
          "; <Size in data points>, <Channel number (0 = marker is related to all channels)>\n"
          "; Fields are delimited by commas, some fields might be omitted (empty).\n"
          "; Commas in type or description text are coded as \"\\1\".\n", f);
    /* Mk1 starts the recording and carries its date; a stored first New Segment is it. */
    fputs("Mk1=New Segment,,1,1,0", f);
    if (pl->has_start_time) put_date(f, pl->start_time);
    fputc('\n', f);
    int64_t number = 2;
    int first_segment_seen = 0;
    for (int64_t i = 0; i < ds->n_events; i++) {
        const btfm_event_rec *e = &ds->events[i];
        int64_t position = llround(e->onset * ds->sfreq) + 1;
        if (strcmp(e->type, "gap") == 0) continue;
        if (strcmp(e->type, "New Segment") == 0 && position == 1 && !first_segment_seen) {
            first_segment_seen = 1;
            continue;
        }
        fprintf(f, "Mk%lld=", (long long)number++);
        put_field(f, marker_type(e->type));
        fputc(',', f);
        put_field(f, e->label);
        fprintf(f, ",%lld,%lld,0\n", (long long)position, (long long)llround(e->duration * ds->sfreq));
    }
}

/* ---- .vhdr ---- */

static void write_header(const plan *pl, FILE *f, const char *eeg_name, const char *vmrk_name)
{
    const btfm_dataset *ds = pl->ds;
    fputs("Brain Vision Data Exchange Header File Version 1.0\n; Data written by libbtfm\n\n"
          "[Common Infos]\nCodepage=UTF-8\nDataFile=", f);
    put_field(f, eeg_name);
    fputs("\nMarkerFile=", f);
    put_field(f, vmrk_name);
    fprintf(f, "\nDataFormat=BINARY\n; Data orientation: MULTIPLEXED=ch1,pt1, ch2,pt1 ...\n"
            "DataOrientation=MULTIPLEXED\nNumberOfChannels=%d\n"
            "; Sampling interval in microseconds\nSamplingInterval=", ds->n_channels);
    put_number(f, pl->interval_us);
    fprintf(f, "\n\n[Binary Infos]\nBinaryFormat=%s\n\n[Channel Infos]\n"
            "; Each entry: Ch<Channel number>=<Name>,<Reference channel name>,\n"
            "; <Resolution in \"Unit\">,<Unit>, Future extensions..\n"
            "; Fields are delimited by commas, some fields might be omitted (empty).\n"
            "; Commas in channel names are coded as \"\\1\".\n",
            btfm_bv_format_name(pl->binary_format));
    for (int i = 0; i < ds->n_channels; i++) {
        const btfm_channel *c = &ds->channels[i];
        fprintf(f, "Ch%d=", i + 1);
        put_field(f, c->name);
        fputc(',', f);
        if (pl->source) {
            const btfm_bv_channel_info *info = &pl->source->header.channels[i];
            put_field(f, info->reference);
            fputc(',', f);
            put_number(f, info->resolution);
            fputc(',', f);
            put_field(f, info->unit);
        } else {
            /* Volts are written in µV, the unit BrainVision readers expect; an empty unit
             * would read back as µV, so it is written as "n/a". */
            const char *unit = strcmp(c->unit, "V") == 0 ? "\xC2\xB5V" : *c->unit ? c->unit : "n/a";
            fputs(",1,", f);
            put_field(f, unit);
        }
        fputc('\n', f);
    }
}

/* ---- the three files ---- */

static btfm_status commit_or_abort(btfm_atomic_file *af, btfm_status st, const char *path)
{
    if (!st && ferror(af->fp))
        st = btfm_fail(BTFM_E_IO, "brainvision save: %s: write failed", path);
    if (st) {
        btfm_atomic_abort(af);
        return st;
    }
    return btfm_atomic_commit(af);
}

static btfm_status write_files(const plan *pl, const char *vhdr, char *eeg, char *vmrk)
{
    btfm_atomic_file af;
    btfm_status st = btfm_atomic_open(&af, eeg, 1);
    if (st) return st;
    st = commit_or_abort(&af, write_data(pl, af.fp, eeg), eeg);
    if (!st && !(st = btfm_atomic_open(&af, vmrk, 1))) {
        write_markers(pl, af.fp, base_name(eeg));
        st = commit_or_abort(&af, BTFM_OK, vmrk);
    }
    if (!st && !(st = btfm_atomic_open(&af, vhdr, 1))) {
        write_header(pl, af.fp, base_name(eeg), base_name(vmrk));
        st = commit_or_abort(&af, BTFM_OK, vhdr);
    }
    return st;
}

/* The start date as it will be written: btfm_dataset_anonymize applied to a copy of the
 * identifying fields, never to the caller's dataset. */
static btfm_status plan_identity(plan *pl, unsigned flags)
{
    pl->has_start_time = pl->ds->has_start_time;
    pl->start_time = pl->ds->start_time;
    if (!(flags & BTFM_SAVE_ANONYMIZE)) return BTFM_OK;
    char subject[1] = "", recording[1] = "";
    btfm_dataset copy = {.path = pl->ds->path, .subject = subject, .recording = recording,
                         .has_start_time = pl->has_start_time, .start_time = pl->start_time};
    btfm_status st = btfm_dataset_anonymize(&copy);
    pl->start_time = copy.start_time;
    return st;
}

static btfm_status plan_channels(plan *pl)
{
    btfm_dataset *ds = pl->ds;
    if (ds->driver == &btfm_bv_driver) {
        pl->source = ds->state;
        pl->binary_format = pl->source->header.binary_format;
        pl->interval_us = pl->source->header.interval_us;
        return BTFM_OK;
    }
    if (!(ds->sfreq > 0) || !isfinite(ds->sfreq))
        return btfm_fail(BTFM_E_INVALID, "brainvision save: %s: sampling rate %g Hz; expected a "
                         "positive rate", ds->path, ds->sfreq);
    pl->binary_format = BTFM_BV_IEEE_FLOAT_32;
    pl->interval_us = 1e6 / ds->sfreq;
    pl->scale = btfm_malloc((size_t)ds->n_channels * sizeof *pl->scale);
    if (!pl->scale) return btfm_fail_nomem("brainvision save", (size_t)ds->n_channels * sizeof *pl->scale);
    for (int i = 0; i < ds->n_channels; i++)
        pl->scale[i] = strcmp(ds->channels[i].unit, "V") == 0 ? 1e6 : 1.0;
    return BTFM_OK;
}

/* x.vhdr -> x.eeg / x.vmrk beside it. */
static char *sibling(const char *vhdr, const char *ext)
{
    size_t stem = strlen(vhdr) - strlen(".vhdr");
    char *out = btfm_malloc(stem + strlen(ext) + 1);
    if (!out) return NULL;
    memcpy(out, vhdr, stem);
    strcpy(out + stem, ext);
    return out;
}

btfm_status btfm_brainvision_save(btfm_dataset *ds, const char *path, unsigned flags)
{
    size_t n = strlen(path);
    if (n <= 5 || strcasecmp(path + n - 5, ".vhdr") != 0 || path[n - 6] == '/')
        return btfm_fail(BTFM_E_INVALID, "brainvision save: %s: expected a header path ending in "
                         ".vhdr (the data and marker files are written beside it)", path);
    if (ds->n_channels < 1)
        return btfm_fail(BTFM_E_INVALID, "brainvision save: %s: the dataset has no channels; "
                         "BrainVision needs at least one", ds->path);
    plan pl = {.ds = ds};
    char *eeg = sibling(path, ".eeg"), *vmrk = sibling(path, ".vmrk");
    btfm_status st = !eeg || !vmrk ? btfm_fail_nomem("brainvision save", n + 8) : BTFM_OK;
    if (!st) st = plan_identity(&pl, flags);
    if (!st) st = plan_channels(&pl);
    if (!st) st = write_files(&pl, path, eeg, vmrk);
    btfm_free(pl.scale);
    btfm_free(eeg);
    btfm_free(vmrk);
    return st;
}
