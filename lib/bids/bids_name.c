/* BIDS file names: sub-<label>[_ses-<label>]..._<suffix><extension>, the entity order of
 * the specification's entity table, and label rules. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bids_internal.h"

/* The specification's entity table, in the order names must follow (BIDS 1.9). */
static const char *const entity_order[] = {
    "sub", "ses", "sample", "task", "tracksys", "acq", "nuc", "voi", "ce", "trc", "stain",
    "rec", "dir", "run", "mod", "echo", "flip", "inv", "mt", "part", "proc", "hemi",
    "space", "split", "recording", "chunk", "seg", "res", "den", "label", "desc",
};
#define N_ORDERED ((int)(sizeof entity_order / sizeof *entity_order))

static const char *const index_entities[] = {"run", "echo", "flip", "inv", "split", "chunk"};

static int entity_rank(const char *key)
{
    for (int i = 0; i < N_ORDERED; i++)
        if (strcmp(key, entity_order[i]) == 0) return i;
    return -1;
}

int btfm_bids_is_known_entity(const char *key) { return entity_rank(key) >= 0; }

const char *btfm_bids_entity_key(int rank)
{
    return rank >= 0 && rank < N_ORDERED ? entity_order[rank] : NULL;
}

int btfm_bids_is_index_entity(const char *key)
{
    for (size_t i = 0; i < sizeof index_entities / sizeof *index_entities; i++)
        if (strcmp(key, index_entities[i]) == 0) return 1;
    return 0;
}

/* Index labels compare as numbers: skip leading zeros, then compare digits. */
int btfm_bids_label_equal(const char *key, const char *a, const char *b)
{
    if (!btfm_bids_is_index_entity(key)) return strcmp(a, b) == 0;
    while (*a == '0' && a[1]) a++;
    while (*b == '0' && b[1]) b++;
    return strcmp(a, b) == 0;
}

const char *btfm_bids_canonical_key(const char *key)
{
    static const struct { const char *alias, *key; } aliases[] = {
        {"subject", "sub"}, {"session", "ses"}, {"acquisition", "acq"},
    };
    for (size_t i = 0; i < sizeof aliases / sizeof *aliases; i++)
        if (strcmp(key, aliases[i].alias) == 0) return aliases[i].key;
    return key;
}

static int all_alnum(const char *s, size_t n)
{
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i])) return 0;
    return 1;
}

static int all_digits(const char *s)
{
    if (!*s) return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s)) return 0;
    return 1;
}

void btfm_bids_name_clear(btfm_bids_name *n)
{
    if (!n) return;
    for (int i = 0; i < n->n_entities; i++) {
        btfm_free(n->entities[i].key);
        btfm_free(n->entities[i].value);
    }
    btfm_free(n->entities);
    btfm_free(n->suffix);
    btfm_free(n->extension);
    memset(n, 0, sizeof *n);
}

const char *btfm_bids_name_get(const btfm_bids_name *n, const char *key)
{
    for (int i = 0; i < n->n_entities; i++)
        if (strcmp(n->entities[i].key, key) == 0) return n->entities[i].value;
    return NULL;
}

static btfm_status bad_name(btfm_bids_name *out, const char *where, const char *rule,
                            const char *what)
{
    btfm_bids_name_clear(out);
    return btfm_fail(BTFM_E_FORMAT, "bids: %s: rule %s: %s", where, rule, what);
}

/* One `key-label` part of `len` bytes. */
static btfm_status parse_entity(btfm_bids_name *out, const char *part, size_t len,
                                const char *where, int *last_rank)
{
    char what[512];
    const char *dash = memchr(part, '-', len);
    if (!dash) {
        snprintf(what, sizeof what, "\"%.*s\" is not a key-label pair (expected key-label, "
                 "e.g. task-rest, or the suffix last)", (int)len, part);
        return bad_name(out, where, "entity-format", what);
    }
    size_t key_len = (size_t)(dash - part), value_len = len - key_len - 1;
    if (!all_alnum(part, key_len)) {
        snprintf(what, sizeof what, "entity key \"%.*s\" must be non-empty and alphanumeric",
                 (int)key_len, part);
        return bad_name(out, where, "entity-key", what);
    }
    if (!all_alnum(dash + 1, value_len)) {
        snprintf(what, sizeof what, "label \"%.*s\" of entity %.*s must be non-empty and "
                 "alphanumeric ([a-zA-Z0-9])", (int)value_len, dash + 1, (int)key_len, part);
        return bad_name(out, where, "entity-label", what);
    }
    btfm_bids_entity e;
    if (btfm_io_strdup(&e.key, part, key_len)) return btfm_fail_nomem("bids", len);
    if (btfm_io_strdup(&e.value, dash + 1, value_len)) {
        btfm_free(e.key);
        return btfm_fail_nomem("bids", len);
    }
    const char *problem = NULL;
    if (btfm_bids_is_index_entity(e.key) && !all_digits(e.value))
        problem = "entity-index";
    else if (btfm_bids_name_get(out, e.key))
        problem = "entity-duplicate";
    int rank = entity_rank(e.key);
    if (!problem && rank >= 0 && rank < *last_rank) problem = "entity-order";
    if (problem) {
        if (strcmp(problem, "entity-index") == 0)
            snprintf(what, sizeof what, "label \"%s\" of %s must be a non-negative integer",
                     e.value, e.key);
        else if (strcmp(problem, "entity-duplicate") == 0)
            snprintf(what, sizeof what, "entity %s appears twice", e.key);
        else
            snprintf(what, sizeof what, "entity %s must come before %s (the order of the "
                     "BIDS entity table: sub, ses, task, acq, ..., run, ...)", e.key,
                     entity_order[*last_rank]);
        btfm_free(e.key);
        btfm_free(e.value);
        return bad_name(out, where, problem, what);
    }
    if (rank >= 0) *last_rank = rank;
    btfm_bids_entity *grown = btfm_realloc(out->entities, (size_t)(out->n_entities + 1) * sizeof *grown);
    if (!grown) {
        btfm_free(e.key);
        btfm_free(e.value);
        return btfm_fail_nomem("bids", sizeof *grown);
    }
    out->entities = grown;
    out->entities[out->n_entities++] = e;
    return BTFM_OK;
}

btfm_status btfm_bids_name_parse(btfm_bids_name *out, const char *name, const char *where)
{
    memset(out, 0, sizeof *out);
    size_t len = strlen(name);
    if (!btfm_utf8_valid(name, len)) return bad_name(out, where, "file-name", "the name is not valid UTF-8");
    const char *last = strrchr(name, '_');
    const char *tail = last ? last + 1 : name;
    int last_rank = 0;
    for (const char *p = name; last && p <= last;) {
        const char *end = memchr(p, '_', (size_t)(last - p) + 1);
        btfm_status st = parse_entity(out, p, (size_t)(end - p), where, &last_rank);
        if (st) return st;
        p = end + 1;
    }
    const char *dot = strchr(tail, '.');
    size_t suffix_len = dot ? (size_t)(dot - tail) : strlen(tail);
    if (!all_alnum(tail, suffix_len)) {
        char what[512];
        snprintf(what, sizeof what, "suffix \"%.*s\" must be non-empty and alphanumeric "
                 "(expected e.g. _eeg.edf, _bold.nii.gz)", (int)suffix_len, tail);
        return bad_name(out, where, "suffix", what);
    }
    if (dot) {
        for (const char *p = dot; *p; p++)
            if (!(isalnum((unsigned char)*p) || (*p == '.' && isalnum((unsigned char)p[1]))))
                return bad_name(out, where, "extension", "the extension must be '.' and "
                                "alphanumeric parts (.edf, .nii.gz)");
    }
    if (btfm_io_strdup(&out->suffix, tail, suffix_len) ||
        btfm_io_strdup(&out->extension, dot ? dot : "", dot ? strlen(dot) : 0)) {
        btfm_bids_name_clear(out);
        return btfm_fail_nomem("bids", len);
    }
    return BTFM_OK;
}
