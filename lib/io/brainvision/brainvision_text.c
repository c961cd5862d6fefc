/* BrainVision text files (.vhdr, .vmrk): decoding by Codepage, INI-style lines, comma
 * fields with "\1" escapes, strict numbers. Shared by the header and marker parsers. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "brainvision_internal.h"
#include "core/number.h"

static const struct { const char *name; size_t size; } binary_formats[] = {
    [BTFM_BV_INT_16] = {"INT_16", 2},
    [BTFM_BV_INT_32] = {"INT_32", 4},
    [BTFM_BV_IEEE_FLOAT_32] = {"IEEE_FLOAT_32", 4},
};

const char *btfm_bv_format_name(int binary_format) { return binary_formats[binary_format].name; }
size_t btfm_bv_sample_size(int binary_format) { return binary_formats[binary_format].size; }

/* Windows-1252 at 0x80-0x9F (the rest is Latin-1); its five unassigned bytes keep their
 * Latin-1 (C1 control) code points, so decoding never fails. */
static const unsigned short cp1252_high[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

static char *cp1252_to_utf8(const char *bytes, size_t len)
{
    char *out = btfm_malloc(3 * len + 1);
    if (!out) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned c = (unsigned char)bytes[i];
        if (c >= 0x80 && c < 0xA0) c = cp1252_high[c - 0x80];
        if (c == 0) {
            out[k++] = ' '; /* a stray NUL would cut the text */
        } else if (c < 0x80) {
            out[k++] = (char)c;
        } else if (c < 0x800) {
            out[k++] = (char)(0xC0 | (c >> 6));
            out[k++] = (char)(0x80 | (c & 0x3F));
        } else {
            out[k++] = (char)(0xE0 | (c >> 12));
            out[k++] = (char)(0x80 | ((c >> 6) & 0x3F));
            out[k++] = (char)(0x80 | (c & 0x3F));
        }
    }
    out[k] = '\0';
    return out;
}

/* The Codepage value, looked up on the raw bytes: its line is ASCII in every encoding. */
static int declares_ansi(const char *bytes, size_t len)
{
    static const char key[] = "codepage=";
    size_t n = sizeof key - 1;
    for (size_t i = 0; i + n <= len; i++) {
        if ((i > 0 && bytes[i - 1] != '\n') || strncasecmp(bytes + i, key, n) != 0) continue;
        size_t j = i + n;
        while (j < len && (bytes[j] == ' ' || bytes[j] == '\t')) j++;
        return len - j >= 4 && strncasecmp(bytes + j, "ANSI", 4) == 0;
    }
    return 0;
}

btfm_status btfm_bv_text_init(btfm_bv_text *t, const char *bytes, size_t len, const char *file)
{
    memset(t, 0, sizeof *t);
    t->file = file;
    if (len >= 3 && memcmp(bytes, "\xEF\xBB\xBF", 3) == 0) {
        bytes += 3;
        len -= 3;
    }
    t->text = declares_ansi(bytes, len) ? cp1252_to_utf8(bytes, len) : btfm_text_to_utf8(bytes, len);
    if (!t->text) return btfm_fail_nomem("brainvision", 3 * len + 1);
    t->next = t->text;
    return BTFM_OK;
}

void btfm_bv_text_clear(btfm_bv_text *t)
{
    btfm_free(t->text);
    memset(t, 0, sizeof *t);
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) s[--n] = '\0';
    return s;
}

char *btfm_bv_next_line(btfm_bv_text *t)
{
    while (t->next && *t->next) {
        char *line = t->next;
        char *end = strchr(line, '\n');
        if (end) {
            *end = '\0';
            t->next = end + 1;
        } else {
            t->next = NULL;
        }
        t->line++;
        line = trim(line);
        if (*line && *line != ';') return line;
    }
    t->next = NULL;
    return NULL;
}

char *btfm_bv_section(char *line)
{
    size_t n = strlen(line);
    if (n < 2 || line[0] != '[' || line[n - 1] != ']') return NULL;
    line[n - 1] = '\0';
    return trim(line + 1);
}

int btfm_bv_key_value(char *line, char **key, char **value)
{
    char *eq = strchr(line, '=');
    if (!eq) return 0;
    *eq = '\0';
    *key = trim(line);
    *value = trim(eq + 1);
    return 1;
}

static void unescape_commas(char *s)
{
    char *w = s;
    for (const char *r = s; *r; r++) {
        if (r[0] == '\\' && r[1] == '1') {
            *w++ = ',';
            r++;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

int btfm_bv_split_fields(char *s, char **fields, int max)
{
    int n = 0;
    while (n < max) {
        char *comma = strchr(s, ',');
        if (comma) *comma = '\0';
        unescape_commas(s);
        fields[n++] = s;
        if (!comma) break;
        s = comma + 1;
    }
    return n;
}

static int only_blanks(const char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    return *s == '\0';
}

int btfm_bv_parse_int(const char *s, int64_t *out)
{
    char *end;
    while (*s == ' ' || *s == '\t') s++;
    if (!(isdigit((unsigned char)*s) || ((*s == '-' || *s == '+') && isdigit((unsigned char)s[1]))))
        return -1;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || !only_blanks(end)) return -1;
    *out = v;
    return 0;
}

int btfm_bv_parse_double(const char *s, double *out)
{
    char *end;
    while (*s == ' ' || *s == '\t') s++;
    if (!*s) return -1;
    errno = 0;
    double v = btfm_strtod_c_end(s, &end);
    if (end == s || !only_blanks(end) || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

void btfm_bv_check_banner(const btfm_bv_text *t, const char *what)
{
    const char *p = t->text;
    size_t n = strcspn(p, "\r\n");
    int brand = (n >= 12 && strncmp(p, "Brain Vision", 12) == 0) ||
                (n >= 11 && strncmp(p, "BrainVision", 11) == 0);
    int kind = 0;
    for (size_t i = 0; i + strlen(what) <= n && !kind; i++)
        kind = strncmp(p + i, what, strlen(what)) == 0;
    if (!brand || !kind)
        btfm_warn("brainvision: %s: line 1: expected \"Brain Vision Data Exchange %s ...\"; "
                  "reading it anyway", t->file, what);
}
