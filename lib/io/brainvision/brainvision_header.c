/* The BrainVision header (.vhdr): [Common Infos], [Binary Infos] and [Channel Infos],
 * parsed from memory and checked; every refusal names the file, the line and what was
 * expected. Other sections ([Comment], [Coordinates], ...) are skipped. */
#include <math.h>
#include <string.h>
#include <strings.h>
#include "brainvision_internal.h"

#define MAX_CHANNELS 65536 /* far above any amplifier; bounds allocations from bad input */

enum { SEC_OTHER, SEC_COMMON, SEC_BINARY, SEC_CHANNELS, SEC_COUNT };
static const char *section_names[SEC_COUNT] = {"", "Common Infos", "Binary Infos", "Channel Infos"};

/* A Ch<n> line waiting for NumberOfChannels, which may come later in the file. */
typedef struct pending_channel {
    int64_t number;
    char *value;
    int line;
} pending_channel;

typedef struct parse {
    btfm_bv_header *h;
    int section_line[SEC_COUNT]; /* where each section starts, 0 when absent */
    int key_line[8];             /* where each required key was seen */
    pending_channel *pending;
    int64_t n_pending, cap_pending;
} parse;

/* Required keys: index into parse.key_line, section, name, what is expected. */
enum { K_DATA_FILE, K_DATA_FORMAT, K_ORIENTATION, K_N_CHANNELS, K_INTERVAL, K_BINARY_FORMAT };
static const struct { int section; const char *name, *expected; } required[] = {
    [K_DATA_FILE] = {SEC_COMMON, "DataFile", "the name of the data file"},
    [K_DATA_FORMAT] = {SEC_COMMON, "DataFormat", "BINARY"},
    [K_ORIENTATION] = {SEC_COMMON, "DataOrientation", "MULTIPLEXED or VECTORIZED"},
    [K_N_CHANNELS] = {SEC_COMMON, "NumberOfChannels", "the number of channels"},
    [K_INTERVAL] = {SEC_COMMON, "SamplingInterval", "the sampling interval in microseconds"},
    [K_BINARY_FORMAT] = {SEC_BINARY, "BinaryFormat", "INT_16, INT_32 or IEEE_FLOAT_32"},
};
#define N_REQUIRED ((int)(sizeof required / sizeof *required))

static btfm_status bad(const btfm_bv_text *t, btfm_status st, const char *key, const char *value,
                       const char *expected)
{
    char k[128], v[256];
    return btfm_fail(st, "brainvision: %s: line %d: %s=%s: expected %s", t->file, t->line,
                     btfm_printable(key, k, sizeof k), btfm_printable(value, v, sizeof v),
                     expected);
}

static int pick(const char *value, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcasecmp(value, names[i]) == 0) return i;
    return -1;
}

static btfm_status common_key(parse *p, const char *key, char *value)
{
    btfm_bv_header *h = p->h;
    btfm_bv_text *t = &h->text;
    int64_t n;
    if (strcasecmp(key, "DataFile") == 0) {
        if (!*value) return bad(t, BTFM_E_FORMAT, key, value, required[K_DATA_FILE].expected);
        h->data_file = value;
        p->key_line[K_DATA_FILE] = t->line;
    } else if (strcasecmp(key, "MarkerFile") == 0) {
        h->marker_file = *value ? value : NULL;
    } else if (strcasecmp(key, "DataFormat") == 0) {
        if (strcasecmp(value, "BINARY") != 0)
            return bad(t, strcasecmp(value, "ASCII") == 0 ? BTFM_E_UNSUPPORTED : BTFM_E_FORMAT,
                       key, value, "BINARY (ASCII data files are not supported)");
        p->key_line[K_DATA_FORMAT] = t->line;
    } else if (strcasecmp(key, "DataOrientation") == 0) {
        static const char *const names[] = {"MULTIPLEXED", "VECTORIZED"};
        if ((h->vectorized = pick(value, names, 2)) < 0)
            return bad(t, BTFM_E_FORMAT, key, value, required[K_ORIENTATION].expected);
        p->key_line[K_ORIENTATION] = t->line;
    } else if (strcasecmp(key, "DataType") == 0) {
        if (strcasecmp(value, "TIMEDOMAIN") != 0)
            return bad(t, BTFM_E_UNSUPPORTED, key, value, "TIMEDOMAIN (other data types are not "
                       "supported)");
    } else if (strcasecmp(key, "NumberOfChannels") == 0) {
        if (btfm_bv_parse_int(value, &n) != 0 || n < 0 || n > MAX_CHANNELS)
            return bad(t, BTFM_E_FORMAT, key, value, "a whole number of channels in [1, 65536]");
        if (n == 0) return bad(t, BTFM_E_FORMAT, key, value, "at least one channel");
        h->n_channels = (int)n;
        p->key_line[K_N_CHANNELS] = t->line;
    } else if (strcasecmp(key, "SamplingInterval") == 0) {
        if (btfm_bv_parse_double(value, &h->interval_us) != 0 || !(h->interval_us > 0) ||
            !isfinite(1e6 / h->interval_us))
            return bad(t, BTFM_E_FORMAT, key, value, "a positive number of microseconds "
                       "(a finite sampling rate)");
        p->key_line[K_INTERVAL] = t->line;
    } else if (strcasecmp(key, "DataPoints") == 0) {
        if (btfm_bv_parse_int(value, &n) != 0 || n < 0)
            return bad(t, BTFM_E_FORMAT, key, value, "a whole number of samples (0 or more)");
        h->data_points = n;
    }
    return BTFM_OK; /* Codepage was used for decoding; other keys carry nothing we need */
}

static btfm_status binary_key(parse *p, const char *key, char *value)
{
    btfm_bv_text *t = &p->h->text;
    if (strcasecmp(key, "BinaryFormat") == 0) {
        static const char *const names[] = {"INT_16", "INT_32", "IEEE_FLOAT_32"};
        if ((p->h->binary_format = pick(value, names, 3)) < 0)
            return bad(t, BTFM_E_UNSUPPORTED, key, value, required[K_BINARY_FORMAT].expected);
        p->key_line[K_BINARY_FORMAT] = t->line;
    } else if (strcasecmp(key, "UseBigEndianOrder") == 0 && strcasecmp(value, "NO") != 0) {
        return bad(t, BTFM_E_UNSUPPORTED, key, value, "NO (big-endian data files are not supported)");
    }
    return BTFM_OK;
}

static btfm_status channel_key(parse *p, const char *key, char *value)
{
    btfm_bv_text *t = &p->h->text;
    int64_t number;
    if (strncasecmp(key, "Ch", 2) != 0 || btfm_bv_parse_int(key + 2, &number) != 0 || number < 1 ||
        number > MAX_CHANNELS) {
        char k[128];
        return btfm_fail(BTFM_E_FORMAT, "brainvision: %s: line %d: \"%s\" in [Channel Infos]: "
                         "expected Ch<n>=Name,Reference,Resolution,Unit with n from 1",
                         t->file, t->line, btfm_printable(key, k, sizeof k));
    }
    void *items = p->pending;
    btfm_status st = btfm_reserve(&items, &p->cap_pending, p->n_pending + 1, sizeof *p->pending,
                                  "brainvision header");
    p->pending = items;
    if (st) return st;
    p->pending[p->n_pending++] = (pending_channel){number, value, t->line};
    return BTFM_OK;
}

/* Ch<n>=Name,Reference,Resolution,Unit: resolution defaults to 1, unit to µV (the
 * specification's defaults). */
static btfm_status fill_channels(parse *p)
{
    btfm_bv_header *h = p->h;
    const char *file = h->text.file;
    h->channels = btfm_calloc((size_t)h->n_channels, sizeof *h->channels);
    if (!h->channels)
        return btfm_fail_nomem("brainvision header", (size_t)h->n_channels * sizeof *h->channels);
    for (int64_t i = 0; i < p->n_pending; i++) {
        pending_channel *c = &p->pending[i];
        if (c->number > h->n_channels)
            return btfm_fail(BTFM_E_FORMAT, "brainvision: %s: line %d: Ch%lld: expected a channel "
                             "number in [1, %d] (NumberOfChannels)", file, c->line,
                             (long long)c->number, h->n_channels);
        btfm_bv_channel_info *ch = &h->channels[c->number - 1];
        if (ch->name)
            return btfm_fail(BTFM_E_FORMAT, "brainvision: %s: line %d: Ch%lld is given a second "
                             "time; expected each channel once", file, c->line, (long long)c->number);
        char *fields[4] = {NULL, "", "", ""};
        btfm_bv_split_fields(c->value, fields, 4);
        if (!*fields[0])
            return btfm_fail(BTFM_E_FORMAT, "brainvision: %s: line %d: Ch%lld has an empty name; "
                             "expected Ch<n>=Name,Reference,Resolution,Unit", file, c->line,
                             (long long)c->number);
        ch->name = fields[0];
        ch->reference = fields[1];
        ch->resolution = 1.0;
        char v[128];
        if (*fields[2] && (btfm_bv_parse_double(fields[2], &ch->resolution) != 0 || ch->resolution == 0))
            return btfm_fail(BTFM_E_FORMAT, "brainvision: %s: line %d: Ch%lld resolution \"%s\": "
                             "expected a finite non-zero number", file, c->line,
                             (long long)c->number, btfm_printable(fields[2], v, sizeof v));
        ch->unit = *fields[3] ? fields[3] : "\xC2\xB5V";
    }
    for (int i = 0; i < h->n_channels; i++)
        if (!h->channels[i].name)
            return btfm_fail(BTFM_E_FORMAT, "brainvision: %s: line %d: [Channel Infos] has no "
                             "Ch%d; expected one line for each of the %d channels", file,
                             p->section_line[SEC_CHANNELS], i + 1, h->n_channels);
    return BTFM_OK;
}

static btfm_status check_complete(parse *p)
{
    const btfm_bv_text *t = &p->h->text;
    for (int s = SEC_COMMON; s < SEC_COUNT; s++)
        if (!p->section_line[s])
            return btfm_fail(BTFM_E_FORMAT, "brainvision: %s: line %d (end of file): no [%s] "
                             "section; expected [Common Infos], [Binary Infos] and [Channel Infos]",
                             t->file, t->line, section_names[s]);
    for (int k = 0; k < N_REQUIRED; k++)
        if (!p->key_line[k])
            return btfm_fail(BTFM_E_FORMAT, "brainvision: %s: line %d: section [%s] has no %s; "
                             "expected %s=<%s>", t->file, p->section_line[required[k].section],
                             section_names[required[k].section], required[k].name,
                             required[k].name, required[k].expected);
    return fill_channels(p);
}

btfm_status btfm_bv_header_parse(btfm_bv_header *h, const char *bytes, size_t len, const char *file)
{
    memset(h, 0, sizeof *h);
    h->data_points = -1;
    btfm_status st = btfm_bv_text_init(&h->text, bytes, len, file);
    if (st) return st;
    btfm_bv_check_banner(&h->text, "Header File");
    parse p = {.h = h};
    int section = SEC_OTHER;
    char *line, *name, *key, *value;
    while (!st && (line = btfm_bv_next_line(&h->text)) != NULL) {
        if ((name = btfm_bv_section(line)) != NULL) {
            section = SEC_OTHER;
            for (int s = SEC_COMMON; s < SEC_COUNT; s++)
                if (strcasecmp(name, section_names[s]) == 0) section = s;
            if (section != SEC_OTHER) p.section_line[section] = h->text.line;
            continue;
        }
        if (section == SEC_OTHER) continue; /* free text ([Comment]) or sections we ignore */
        if (!btfm_bv_key_value(line, &key, &value)) {
            st = btfm_fail(BTFM_E_FORMAT, "brainvision: %s: line %d: \"%.40s\" in [%s]: expected "
                           "Key=Value", file, h->text.line, line, section_names[section]);
            break;
        }
        st = section == SEC_COMMON   ? common_key(&p, key, value)
             : section == SEC_BINARY ? binary_key(&p, key, value)
                                     : channel_key(&p, key, value);
    }
    if (!st) st = check_complete(&p);
    btfm_free(p.pending);
    if (st) btfm_bv_header_clear(h);
    return st;
}

void btfm_bv_header_clear(btfm_bv_header *h)
{
    btfm_bv_text_clear(&h->text);
    btfm_free(h->channels);
    memset(h, 0, sizeof *h);
    h->data_points = -1;
}
