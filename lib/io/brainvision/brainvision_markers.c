/* The BrainVision marker file (.vmrk): Mk<n>=Type,Description,Position,Size,Channel[,Date]
 * lines of [Marker Infos], parsed from memory; every refusal names file, line and what
 * was expected. */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "brainvision_internal.h"

static btfm_status bad_field(const btfm_bv_text *t, const char *key, const char *field,
                             const char *value, const char *expected)
{
    char k[128], v[256];
    return btfm_fail(BTFM_E_FORMAT, "brainvision: %s: line %d: %s %s \"%s\": expected %s", t->file,
                     t->line, btfm_printable(key, k, sizeof k), field,
                     btfm_printable(value, v, sizeof v), expected);
}

/* YYYYMMDDhhmmssuuuuuu (microseconds), as the recorder writes it; "" or all zeros = none. */
static int parse_date(const char *s, int *has_date, double *posix)
{
    *has_date = 0;
    size_t n = strlen(s);
    if (n == 0 || strspn(s, "0") == n) return 0;
    if (n != 20 || strspn(s, "0123456789") != 20) return -1;
    int v[7];
    static const int width[7] = {4, 2, 2, 2, 2, 2, 6};
    for (int i = 0, at = 0; i < 7; at += width[i++]) {
        v[i] = 0;
        for (int k = 0; k < width[i]; k++) v[i] = v[i] * 10 + (s[at + k] - '0');
    }
    if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 60)
        return -1;
    struct tm tm = {.tm_year = v[0] - 1900, .tm_mon = v[1] - 1, .tm_mday = v[2],
                    .tm_hour = v[3], .tm_min = v[4], .tm_sec = v[5]};
    *posix = (double)timegm(&tm) + v[6] * 1e-6;
    *has_date = 1;
    return 0;
}

static btfm_status add_marker(btfm_bv_markers *m, const char *key, char *value)
{
    btfm_bv_text *t = &m->text;
    void *items = m->items;
    btfm_status st = btfm_reserve(&items, &m->cap, m->n + 1, sizeof *m->items, "brainvision markers");
    m->items = items;
    if (st) return st;
    char *f[6] = {NULL, "", "", "", "", ""};
    int n = btfm_bv_split_fields(value, f, 6);
    if (n < 3)
        return btfm_fail(BTFM_E_FORMAT, "brainvision: %s: line %d: %s has %d field%s; expected "
                         "Type,Description,Position,Size,Channel[,Date]", t->file, t->line, key,
                         n, n == 1 ? "" : "s");
    btfm_bv_marker *mk = &m->items[m->n];
    memset(mk, 0, sizeof *mk);
    mk->type = f[0];
    mk->description = f[1];
    if (btfm_bv_parse_int(f[2], &mk->position) != 0 || mk->position < 1)
        return bad_field(t, key, "position", f[2], "a whole sample number (1 = first sample)");
    if (*f[3] && (btfm_bv_parse_int(f[3], &mk->size) != 0 || mk->size < 0))
        return bad_field(t, key, "size", f[3], "a whole number of samples (0 or more)");
    if (*f[4] && btfm_bv_parse_int(f[4], &mk->channel) != 0)
        return bad_field(t, key, "channel", f[4], "a channel number (0 = all channels)");
    if (parse_date(f[5], &mk->has_date, &mk->date) != 0)
        return bad_field(t, key, "date", f[5], "YYYYMMDDhhmmss followed by 6 digits of microseconds");
    m->n++;
    return BTFM_OK;
}

btfm_status btfm_bv_markers_parse(btfm_bv_markers *m, const char *bytes, size_t len, const char *file)
{
    memset(m, 0, sizeof *m);
    btfm_status st = btfm_bv_text_init(&m->text, bytes, len, file);
    if (st) return st;
    btfm_bv_check_banner(&m->text, "Marker File");
    int in_markers = 0;
    char *line, *name, *key, *value;
    while (!st && (line = btfm_bv_next_line(&m->text)) != NULL) {
        if ((name = btfm_bv_section(line)) != NULL) {
            in_markers = strcasecmp(name, "Marker Infos") == 0;
            continue;
        }
        if (!in_markers) continue;
        int64_t number;
        if (!btfm_bv_key_value(line, &key, &value) || strncasecmp(key, "Mk", 2) != 0 ||
            btfm_bv_parse_int(key + 2, &number) != 0) {
            st = btfm_fail(BTFM_E_FORMAT, "brainvision: %s: line %d: \"%.40s\" in [Marker Infos]: "
                           "expected Mk<n>=Type,Description,Position,Size,Channel[,Date]", file,
                           m->text.line, line);
            break;
        }
        st = add_marker(m, key, value);
    }
    if (st) btfm_bv_markers_clear(m);
    return st;
}

void btfm_bv_markers_clear(btfm_bv_markers *m)
{
    btfm_bv_text_clear(&m->text);
    btfm_free(m->items);
    memset(m, 0, sizeof *m);
}

int btfm_bv_marker_code(const char *description)
{
    const char *p = description;
    if (!isalpha((unsigned char)*p)) return 0;
    p++;
    while (*p == ' ') p++;
    if (!isdigit((unsigned char)*p)) return 0;
    long code = 0;
    for (; isdigit((unsigned char)*p); p++)
        if ((code = code * 10 + (*p - '0')) > 1000000000) return 0;
    return *p == '\0' ? (int)code : 0;
}
