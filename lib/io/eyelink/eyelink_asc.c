/* EyeLink ASCII exports (.asc, written by SR Research's edf2asc): sample lines (time,
 * then per eye x, y, pupil, optional velocities, resolution and input port), the
 * SAMPLES line that says which columns a block has and its rate, START/END of recording
 * blocks, and the end-of-event lines EFIX, ESACC, EBLINK and MSG (EyeLink 1000 Plus
 * User Manual, "ASC file format"; channel names as MNE's read_raw_eyelink gives them). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "core/number.h"
#include "eyelink_internal.h"

#define MAX_TOKENS 40

typedef struct reader {
    btfm_asc *a;
    const char *where;
    int64_t line;
    int64_t max_rows;
    int have_layout, eyes[2], vel, res, input; /* the current SAMPLES line */
    int64_t block_base, block_count;         /* grid index of the block's first sample */
    int in_block;
    double last_end_ms;                      /* END of the previous block, NaN before */
    int64_t rows_cap;
} reader;

static btfm_status fail_line(const reader *r, const char *what, const char *token)
{
    return btfm_fail(BTFM_E_FORMAT, "eyelink: %s: line %lld: %s%s%s%s", r->where,
                     (long long)r->line, what, token ? " (\"" : "", token ? token : "",
                     token ? "\")" : "");
}

/* Split a line in place at blanks into at most MAX_TOKENS tokens. */
static int tokenize(char *s, char **tok)
{
    int n = 0;
    while (*s && n < MAX_TOKENS) {
        while (*s == ' ' || *s == '\t' || *s == '\r') *s++ = 0;
        if (!*s) break;
        tok[n++] = s;
        while (*s && *s != ' ' && *s != '\t' && *s != '\r') s++;
    }
    return n;
}

/* A whole decimal number token; 0 on success. "." (no value) gives NaN. */
static int number(const char *t, double *v)
{
    if (strcmp(t, ".") == 0) {
        *v = NAN;
        return 0;
    }
    char *end;
    *v = btfm_strtod_c_end(t, &end);
    return end == t || *end || !isfinite(*v);
}

static btfm_status add_event(reader *r, int kind, int eye, double start, double end,
                             const char *text)
{
    btfm_asc *a = r->a;
    if (a->n_events == a->events_cap) {
        int64_t cap = a->events_cap ? 2 * a->events_cap : 64;
        btfm_asc_event *e = btfm_realloc(a->events, (size_t)cap * sizeof *e);
        if (!e) return btfm_fail_nomem("eyelink events", (size_t)cap * sizeof *e);
        a->events = e;
        a->events_cap = cap;
    }
    btfm_asc_event *e = &a->events[a->n_events];
    memset(e, 0, sizeof *e);
    if (text && !(e->text = btfm_text_to_utf8(text, strlen(text))))
        return btfm_fail_nomem("eyelink message", strlen(text));
    e->kind = kind;
    e->eye = eye;
    e->start_ms = start;
    e->end_ms = end;
    a->n_events++;
    return BTFM_OK;
}

/* The columns a SAMPLES line announces, as MNE names them. */
static btfm_status set_layout(reader *r, char **tok, int n)
{
    int eyes[2] = {0, 0}, vel = 0, res = 0, input = 0, gaze = 1;
    double rate = NAN;
    for (int i = 1; i < n; i++) {
        if (strcmp(tok[i], "LEFT") == 0) eyes[0] = 1;
        else if (strcmp(tok[i], "RIGHT") == 0) eyes[1] = 1;
        else if (strcmp(tok[i], "VEL") == 0) vel = 1;
        else if (strcmp(tok[i], "RES") == 0) res = 1;
        else if (strcmp(tok[i], "INPUT") == 0) input = 1;
        else if (strcmp(tok[i], "HREF") == 0 || strcmp(tok[i], "PUPIL") == 0) gaze = 0;
        else if (strcmp(tok[i], "RATE") == 0 && i + 1 < n && number(tok[++i], &rate))
            return fail_line(r, "RATE is not a number", tok[i]);
    }
    if (!(rate > 0 && rate <= 10000))
        return fail_line(r, "a SAMPLES line needs RATE between 0 and 10000 Hz", NULL);
    if (!eyes[0] && !eyes[1]) return fail_line(r, "a SAMPLES line names neither LEFT nor RIGHT", NULL);
    btfm_asc *a = r->a;
    if (r->have_layout) {
        if (rate != a->rate || eyes[0] != r->eyes[0] || eyes[1] != r->eyes[1] || vel != r->vel ||
            res != r->res || input != r->input)
            return fail_line(r, "the sample columns or rate change between recording blocks "
                             "(export each block to its own file)", NULL);
        return BTFM_OK;
    }
    static const char *const pos[2][3] = {{"xpos_left", "ypos_left", "pupil_left"},
                                          {"xpos_right", "ypos_right", "pupil_right"}};
    static const char *const velocity[2][2] = {{"xvel_left", "yvel_left"},
                                               {"xvel_right", "yvel_right"}};
    int c = 0;
    for (int e = 0; e < 2; e++)
        for (int k = 0; eyes[e] && k < 3; k++) {
            a->names[c] = pos[e][k];
            a->types[c] = k < 2 ? BTFM_CH_GAZE : BTFM_CH_PUPIL;
            a->units[c++] = k < 2 ? (gaze ? "px" : "") : "";
        }
    for (int e = 0; vel && e < 2; e++)
        for (int k = 0; eyes[e] && k < 2; k++) {
            a->names[c] = velocity[e][k];
            a->types[c] = BTFM_CH_MISC;
            a->units[c++] = gaze ? "deg/s" : "";
        }
    if (res) {
        a->names[c] = "xres"; a->types[c] = BTFM_CH_MISC; a->units[c++] = "px/deg";
        a->names[c] = "yres"; a->types[c] = BTFM_CH_MISC; a->units[c++] = "px/deg";
    }
    if (input) { a->names[c] = "DIN"; a->types[c] = BTFM_CH_STIM; a->units[c++] = ""; }
    a->n_columns = c;
    a->rate = rate;
    r->have_layout = 1;
    r->eyes[0] = eyes[0];
    r->eyes[1] = eyes[1];
    r->vel = vel;
    r->res = res;
    r->input = input;
    return BTFM_OK;
}

/* Room for grid row `row`; new rows are NaN. */
static btfm_status grow_rows(reader *r, int64_t row)
{
    btfm_asc *a = r->a;
    if (row < r->rows_cap) return BTFM_OK;
    if (row >= r->max_rows)
        return btfm_fail(BTFM_E_RANGE, "eyelink: %s: line %lld: the recording would span more "
                         "than %lld samples from its start", r->where, (long long)r->line,
                         (long long)r->max_rows);
    int64_t cap = r->rows_cap ? r->rows_cap : 4096;
    while (cap <= row) cap *= 2;
    if (cap > r->max_rows) cap = r->max_rows;
    size_t bytes = (size_t)cap * (size_t)a->n_columns * sizeof(float);
    float *v = btfm_realloc(a->values, bytes);
    if (!v) return btfm_fail_nomem("eyelink samples", bytes);
    for (size_t i = (size_t)r->rows_cap * (size_t)a->n_columns; i < (size_t)cap * (size_t)a->n_columns; i++)
        v[i] = NAN;
    a->values = v;
    r->rows_cap = cap;
    return BTFM_OK;
}

static btfm_status sample(reader *r, char **tok, int n)
{
    btfm_asc *a = r->a;
    if (!r->have_layout) return fail_line(r, "a sample before any SAMPLES line", NULL);
    double t;
    if (number(tok[0], &t) || isnan(t)) return fail_line(r, "a sample time that is not a number", tok[0]);
    if (n < 1 + a->n_columns)
        return fail_line(r, "a sample line with fewer values than its SAMPLES line announces", NULL);
    if (isnan(a->first_ms)) a->first_ms = t;
    if (!r->in_block || r->block_count == 0) {
        /* Rows of a block are consecutive (at 2000 Hz two samples share a millisecond
         * time); the block's first sample fixes where it lies on the grid. */
        double at = (t - a->first_ms) * a->rate / 1000.0;
        if (!(at > -0.5 && at < 9e15)) return fail_line(r, "a sample before the recording's start", tok[0]);
        int64_t base = (int64_t)llround(at);
        if (base < a->n_rows) base = a->n_rows;
        if (base > a->n_rows) { /* rows between blocks: no sample line reaches them */
            btfm_status st = add_event(r, BTFM_ASC_GAP, 0, NAN, NAN, NULL);
            if (st) return st;
            a->events[a->n_events - 1].first_row = a->n_rows;
            a->events[a->n_events - 1].n_rows = base - a->n_rows;
        }
        r->block_base = base;
        r->block_count = 0;
        r->in_block = 1;
    }
    int64_t row = r->block_base + r->block_count;
    btfm_status st = grow_rows(r, row);
    if (st) return st;
    float *out = a->values + (size_t)row * (size_t)a->n_columns;
    for (int c = 0; c < a->n_columns; c++) {
        double v;
        if (number(tok[1 + c], &v)) return fail_line(r, "a sample value that is not a number", tok[1 + c]);
        out[c] = (float)v;
    }
    r->block_count++;
    a->n_rows = row + 1;
    return BTFM_OK;
}

/* EFIX/ESACC/EBLINK eye start end duration ... */
static btfm_status end_event(reader *r, int kind, char **tok, int n)
{
    double start, end;
    if (n < 4 || (strcmp(tok[1], "L") && strcmp(tok[1], "R")) || number(tok[2], &start) ||
        number(tok[3], &end) || isnan(start) || isnan(end) || end < start)
        return fail_line(r, "an end-of-event line needs the eye (L or R), a start and an end "
                         "time", tok[0]);
    return add_event(r, kind, tok[1][0] == 'L' ? 1 : 2, start, end, NULL);
}

static btfm_status message(reader *r, char *line)
{
    char *p = line + 3;
    while (*p == ' ' || *p == '\t') p++;
    char *time_end = p;
    while (*time_end && *time_end != ' ' && *time_end != '\t') time_end++;
    char saved = *time_end;
    *time_end = 0;
    double t;
    int bad = number(p, &t) || isnan(t);
    *time_end = saved;
    if (bad) return fail_line(r, "a MSG line needs a time", NULL);
    p = time_end;
    while (*p == ' ' || *p == '\t') p++;
    size_t len = strlen(p);
    while (len && (p[len - 1] == '\r' || p[len - 1] == ' ' || p[len - 1] == '\t')) p[--len] = 0;
    return add_event(r, BTFM_ASC_MESSAGE, 0, t, t, p);
}

static btfm_status parse_line(reader *r, char *line)
{
    if (!*line || strchr("*#/;", *line)) return BTFM_OK; /* preamble, comments */
    if (strncmp(line, "MSG", 3) == 0 && (line[3] == ' ' || line[3] == '\t')) return message(r, line);
    char *tok[MAX_TOKENS];
    int n = tokenize(line, tok);
    if (n == 0) return BTFM_OK;
    if (*tok[0] >= '0' && *tok[0] <= '9') return sample(r, tok, n);
    btfm_asc *a = r->a;
    if (strcmp(tok[0], "START") == 0) {
        double t;
        if (n < 2 || number(tok[1], &t) || isnan(t)) return fail_line(r, "START needs a time", NULL);
        if (isnan(a->first_ms)) a->first_ms = t;
        r->in_block = 1;
        r->block_count = 0;
        return BTFM_OK;
    }
    if (strcmp(tok[0], "END") == 0) {
        r->in_block = 0;
        return BTFM_OK;
    }
    if (strcmp(tok[0], "SAMPLES") == 0) return set_layout(r, tok, n);
    if (strcmp(tok[0], "PUPIL") == 0 && n > 1) a->pupil_diameter = strcmp(tok[1], "DIAMETER") == 0;
    if (strcmp(tok[0], "EFIX") == 0) return end_event(r, BTFM_ASC_FIXATION, tok, n);
    if (strcmp(tok[0], "ESACC") == 0) return end_event(r, BTFM_ASC_SACCADE, tok, n);
    if (strcmp(tok[0], "EBLINK") == 0) return end_event(r, BTFM_ASC_BLINK, tok, n);
    return BTFM_OK; /* SFIX, SSACC, SBLINK, INPUT, EVENTS, PRESCALER, ... */
}

btfm_status btfm_asc_parse_limited(btfm_asc *a, const char *text, size_t len, const char *where,
                                   int64_t max_rows)
{
    memset(a, 0, sizeof *a);
    a->first_ms = NAN;
    reader r = {a, where, 0, max_rows, 0, {0, 0}, 0, 0, 0, 0, 0, 0, NAN, 0};
    char *copy = btfm_malloc(len + 1);
    if (!copy) return btfm_fail_nomem("eyelink text", len + 1);
    memcpy(copy, text, len);
    copy[len] = 0;
    btfm_status st = BTFM_OK;
    for (char *line = copy, *next; !st && line < copy + len; line = next) {
        next = memchr(line, '\n', (size_t)(copy + len - line));
        size_t line_len = next ? (size_t)(next - line) : (size_t)(copy + len - line);
        if (next) *next++ = 0;
        else next = copy + len;
        r.line++;
        if (strlen(line) != line_len)
            st = fail_line(&r, "a NUL byte: not a text file", NULL);
        else
            st = parse_line(&r, line);
    }
    btfm_free(copy);
    if (!st && a->n_rows == 0)
        st = btfm_fail(BTFM_E_FORMAT, "eyelink: %s: no samples (expected a SAMPLES line and "
                       "sample lines; export with samples, not events only)", where);
    if (st) btfm_asc_clear(a);
    return st;
}

btfm_status btfm_asc_parse(btfm_asc *a, const char *text, size_t len, const char *where)
{
    return btfm_asc_parse_limited(a, text, len, where, (int64_t)1 << 31);
}

void btfm_asc_clear(btfm_asc *a)
{
    for (int64_t i = 0; i < a->n_events; i++) btfm_free(a->events[i].text);
    btfm_free(a->events);
    btfm_free(a->values);
    memset(a, 0, sizeof *a);
}
