/* The btfm_bids handle: open and free, recording accessors, queries, value lists,
 * participants, scans and tabular recordings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bids_internal.h"

#define CHECK_B(b, func) BTFM_CHECK_ARG(b, func, "bids")

void btfm_bids_recording_clear(btfm_bids_recording *r)
{
    btfm_free(r->rel);
    btfm_free(r->path);
    btfm_free(r->datatype);
    btfm_free(r->metadata);
    btfm_bids_name_clear(&r->name);
    memset(r, 0, sizeof *r);
}

void btfm_bids_free(btfm_bids *b)
{
    if (!b) return;
    for (int i = 0; i < b->n_dirs; i++) {
        btfm_bids_dir *d = &b->dirs[i];
        for (int k = 0; k < d->n_files; k++) {
            btfm_free(d->files[k].name);
            btfm_free(d->files[k].path);
            btfm_free(d->files[k].problem);
            btfm_json_free(d->files[k].json);
            btfm_bids_name_clear(&d->files[k].parsed);
        }
        btfm_free(d->files);
        btfm_free(d->rel);
        btfm_table_free(d->scans);
    }
    for (int64_t i = 0; i < b->n_recordings; i++) btfm_bids_recording_clear(&b->recordings[i]);
    for (int64_t i = 0; i < b->n_skipped; i++) {
        btfm_free(b->skipped[i].rel);
        btfm_free(b->skipped[i].reason);
    }
    for (int i = 0; i < b->n_value_lists; i++) {
        btfm_free(b->value_lists[i]->key);
        btfm_free(b->value_lists[i]->values);
        btfm_free(b->value_lists[i]);
    }
    btfm_free(b->value_lists);
    pthread_mutex_destroy(&b->values_lock);
    btfm_free(b->skipped);
    btfm_free(b->recordings);
    btfm_free(b->dirs);
    btfm_table_free(b->participants);
    btfm_free(b->description);
    btfm_free(b->root);
    btfm_free(b);
}

btfm_status btfm_bids_open(btfm_bids **out, const char *root, unsigned flags)
{
    static const char func[] = "btfm_bids_open";
    BTFM_CHECK_ARG(out, func, "out");
    *out = NULL;
    BTFM_CHECK_ARG(root, func, "root");
    if (!*root) return btfm_fail(BTFM_E_INVALID, "%s: root is empty", func);
    if (flags & ~BTFM_BIDS_LENIENT)
        return btfm_fail(BTFM_E_INVALID, "%s: %s: unknown flags 0x%x", func, root, flags);
    btfm_bids *b = btfm_calloc(1, sizeof *b);
    if (!b) return btfm_fail_nomem(func, sizeof *b);
    if (pthread_mutex_init(&b->values_lock, NULL) != 0) {
        btfm_free(b);
        return btfm_fail(BTFM_E_NOMEM, "%s: cannot make a lock", func);
    }
    b->flags = flags;
    if (!(b->root = btfm_strdup(root))) {
        btfm_free(b);
        return btfm_fail_nomem(func, strlen(root));
    }
    size_t n = strlen(b->root);
    while (n > 1 && b->root[n - 1] == '/') b->root[--n] = '\0';
    btfm_status st = btfm_bids_walk(b);
    if (st) {
        btfm_bids_free(b);
        return st;
    }
    *out = b;
    return BTFM_OK;
}

const char *btfm_bids_root(const btfm_bids *b) { return b ? b->root : NULL; }
const char *btfm_bids_description(const btfm_bids *b) { return b ? b->description : NULL; }

int64_t btfm_bids_n_recordings(const btfm_bids *b)
{
    return b ? b->n_recordings : btfm_fail(BTFM_E_INVALID, "btfm_bids_n_recordings: bids is NULL");
}

/* The recording at `index`, or NULL with the error set. */
static const btfm_bids_recording *recording(const btfm_bids *b, int64_t index, const char *func)
{
    if (!b) {
        btfm_fail(BTFM_E_INVALID, "%s: bids is NULL", func);
        return NULL;
    }
    if (index < 0 || index >= b->n_recordings) {
        btfm_fail(BTFM_E_RANGE, "%s: recording %lld is outside [0, %lld) of %s", func,
                  (long long)index, (long long)b->n_recordings, b->root);
        return NULL;
    }
    return &b->recordings[index];
}

const char *btfm_bids_recording_path(const btfm_bids *b, int64_t index)
{
    const btfm_bids_recording *r = recording(b, index, "btfm_bids_recording_path");
    return r ? r->path : NULL;
}

int btfm_bids_recording_n_entities(const btfm_bids *b, int64_t index)
{
    const btfm_bids_recording *r = recording(b, index, "btfm_bids_recording_n_entities");
    return r ? r->name.n_entities : btfm_last_error_status();
}

btfm_status btfm_bids_recording_entity_at(const btfm_bids *b, int64_t index, int k,
                                          const char **key, const char **value)
{
    static const char func[] = "btfm_bids_recording_entity_at";
    const btfm_bids_recording *r = recording(b, index, func);
    if (!r) return btfm_last_error_status();
    if (k < 0 || k >= r->name.n_entities)
        return btfm_fail(BTFM_E_RANGE, "%s: entity %d is outside [0, %d) of %s", func, k,
                         r->name.n_entities, r->rel);
    if (key) *key = r->name.entities[k].key;
    if (value) *value = r->name.entities[k].value;
    return BTFM_OK;
}

static const char *entity_of(const btfm_bids_recording *r, const char *key)
{
    if (strcmp(key, "datatype") == 0) return r->datatype;
    if (strcmp(key, "suffix") == 0) return r->name.suffix;
    if (strcmp(key, "extension") == 0) return r->name.extension;
    return btfm_bids_name_get(&r->name, btfm_bids_canonical_key(key));
}

const char *btfm_bids_recording_entity(const btfm_bids *b, int64_t index, const char *key)
{
    const btfm_bids_recording *r = recording(b, index, "btfm_bids_recording_entity");
    if (!r) return NULL;
    if (!key) {
        btfm_fail(BTFM_E_INVALID, "btfm_bids_recording_entity: key is NULL");
        return NULL;
    }
    return entity_of(r, key);
}

/* ---- queries ---- */

typedef struct query_term {
    const char *key;       /* canonical */
    char *labels;          /* comma-separated, NUL-split in place */
    int n_labels;
} query_term;

static int key_in_use(const btfm_bids *b, const char *key)
{
    if (btfm_bids_is_known_entity(key) || !strcmp(key, "datatype") || !strcmp(key, "suffix") ||
        !strcmp(key, "extension"))
        return 1;
    for (int64_t i = 0; i < b->n_recordings; i++)
        if (btfm_bids_name_get(&b->recordings[i].name, key)) return 1;
    return 0;
}

/* "key1, key2" of the entities the recordings use, for messages. */
static void keys_in_use(const btfm_bids *b, char *out, size_t cap)
{
    size_t used = (size_t)snprintf(out, cap, "datatype, suffix, extension");
    for (int64_t i = 0; i < b->n_recordings && used < cap; i++) {
        const btfm_bids_name *n = &b->recordings[i].name;
        for (int k = 0; k < n->n_entities && used < cap; k++) {
            char needle[80];
            snprintf(needle, sizeof needle, ", %s,", n->entities[k].key);
            char probe[1100];
            snprintf(probe, sizeof probe, ", %s,", out);
            if (strstr(probe, needle)) continue;
            used += (size_t)snprintf(out + used, cap - used, ", %s", n->entities[k].key);
        }
    }
}

static int term_matches(const query_term *t, const btfm_bids_recording *r)
{
    const char *have = entity_of(r, t->key);
    if (!have) return 0;
    const char *label = t->labels;
    for (int i = 0; i < t->n_labels; i++, label += strlen(label) + 1)
        if (btfm_bids_label_equal(t->key, have, label)) return 1;
    return 0;
}

btfm_status btfm_bids_query(const btfm_bids *b, const char *query, int64_t *indices,
                            int64_t cap, int64_t *n)
{
    static const char func[] = "btfm_bids_query";
    CHECK_B(b, func);
    BTFM_CHECK_ARG(query, func, "query");
    BTFM_CHECK_ARG(n, func, "n");
    if (cap < 0) return btfm_fail(BTFM_E_RANGE, "%s: cap is %lld, expected >= 0", func, (long long)cap);
    if (cap > 0) BTFM_CHECK_ARG(indices, func, "indices");
    char *text = btfm_strdup(query);
    if (!text) return btfm_fail_nomem(func, strlen(query));
    query_term terms[64];
    int n_terms = 0;
    btfm_status st = BTFM_OK;
    for (char *save = NULL, *tok = strtok_r(text, " \t\n", &save); tok;
         tok = strtok_r(NULL, " \t\n", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq || eq == tok || !eq[1]) {
            st = btfm_fail(BTFM_E_INVALID, "%s: term \"%s\" of \"%s\" is not key=label "
                           "(expected e.g. \"sub=01 task=rest\")", func, tok, query);
            break;
        }
        if (n_terms == 64) {
            st = btfm_fail(BTFM_E_RANGE, "%s: more than 64 terms in \"%s\"", func, query);
            break;
        }
        *eq = '\0';
        query_term *t = &terms[n_terms++];
        t->key = btfm_bids_canonical_key(tok);
        t->labels = eq + 1;
        t->n_labels = 1;
        for (char *c = t->labels; *c; c++)
            if (*c == ',') {
                *c = '\0';
                t->n_labels++;
            }
        if (!key_in_use(b, t->key)) {
            char keys[1024];
            keys_in_use(b, keys, sizeof keys);
            st = btfm_fail(BTFM_E_INVALID, "%s: no recording of %s has the key \"%s\" and it is "
                           "not a BIDS entity; keys in this dataset: %s", func, b->root, tok, keys);
            break;
        }
    }
    int64_t count = 0;
    for (int64_t i = 0; !st && i < b->n_recordings; i++) {
        int ok = 1;
        for (int k = 0; ok && k < n_terms; k++) ok = term_matches(&terms[k], &b->recordings[i]);
        if (!ok) continue;
        if (count < cap) indices[count] = i;
        count++;
    }
    btfm_free(text);
    if (!st) *n = count;
    return st;
}

/* ---- value lists ---- */

static int compare_text_labels(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* Index labels by number: without leading zeros, shorter is smaller. */
static int compare_index_labels(const void *x, const void *y)
{
    const char *a = *(const char *const *)x, *b = *(const char *const *)y;
    while (*a == '0' && a[1]) a++;
    while (*b == '0' && b[1]) b++;
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb) return la < lb ? -1 : 1;
    return strcmp(a, b);
}

static btfm_bids_values *make_value_list(btfm_bids *b, const char *key)
{
    btfm_bids_values *v = btfm_calloc(1, sizeof *v);
    if (!v || !(v->key = btfm_strdup(key)) ||
        (b->n_recordings && !(v->values = btfm_malloc((size_t)b->n_recordings * sizeof *v->values)))) {
        if (v) btfm_free(v->key);
        btfm_free(v);
        btfm_fail_nomem("bids values", (size_t)b->n_recordings * sizeof(char *));
        return NULL;
    }
    for (int64_t i = 0; i < b->n_recordings; i++) {
        const char *label = entity_of(&b->recordings[i], key);
        if (label) v->values[v->n++] = label;
    }
    int (*compare_labels)(const void *, const void *) =
        btfm_bids_is_index_entity(key) ? compare_index_labels : compare_text_labels;
    if (v->n > 1) qsort(v->values, (size_t)v->n, sizeof *v->values, compare_labels);
    int64_t kept = 0;
    for (int64_t i = 0; i < v->n; i++)
        if (kept == 0 || compare_labels(&v->values[kept - 1], &v->values[i]) != 0)
            v->values[kept++] = v->values[i];
    v->n = kept;
    return v;
}

/* The sorted distinct labels of `key`, made on first request; NULL with the error set. */
static const btfm_bids_values *value_list(btfm_bids *b, const char *key)
{
    key = btfm_bids_canonical_key(key);
    btfm_bids_values *v = NULL;
    pthread_mutex_lock(&b->values_lock);
    for (int i = 0; i < b->n_value_lists && !v; i++)
        if (strcmp(b->value_lists[i]->key, key) == 0) v = b->value_lists[i];
    if (!v) {
        void *grown = b->value_lists;
        if (!btfm_reserve(&grown, &b->value_lists_cap, b->n_value_lists + 1,
                          sizeof *b->value_lists, "bids values")) {
            b->value_lists = grown;
            if ((v = make_value_list(b, key))) b->value_lists[b->n_value_lists++] = v;
        }
    }
    pthread_mutex_unlock(&b->values_lock);
    return v;
}

int64_t btfm_bids_n_values(btfm_bids *b, const char *key)
{
    CHECK_B(b, "btfm_bids_n_values");
    BTFM_CHECK_ARG(key, "btfm_bids_n_values", "key");
    const btfm_bids_values *v = value_list(b, key);
    return v ? v->n : btfm_last_error_status();
}

const char *btfm_bids_value(btfm_bids *b, const char *key, int64_t i)
{
    if (!b || !key) {
        btfm_fail(BTFM_E_INVALID, "btfm_bids_value: %s is NULL", b ? "key" : "bids");
        return NULL;
    }
    const btfm_bids_values *v = value_list(b, key);
    if (!v) return NULL;
    if (i < 0 || i >= v->n) {
        btfm_fail(BTFM_E_RANGE, "btfm_bids_value: value %lld is outside [0, %lld) of key %s",
                  (long long)i, (long long)v->n, key);
        return NULL;
    }
    return v->values[i];
}

/* ---- skipped recordings ---- */

int64_t btfm_bids_n_skipped(const btfm_bids *b)
{
    return b ? b->n_skipped : btfm_fail(BTFM_E_INVALID, "btfm_bids_n_skipped: bids is NULL");
}

btfm_status btfm_bids_skipped(const btfm_bids *b, int64_t i, const char **path,
                              const char **reason)
{
    CHECK_B(b, "btfm_bids_skipped");
    if (i < 0 || i >= b->n_skipped)
        return btfm_fail(BTFM_E_RANGE, "btfm_bids_skipped: %lld is outside [0, %lld)",
                         (long long)i, (long long)b->n_skipped);
    if (path) *path = b->skipped[i].rel;
    if (reason) *reason = b->skipped[i].reason;
    return BTFM_OK;
}

/* ---- tables ---- */

btfm_status btfm_bids_participants(const btfm_bids *b, const btfm_table **table)
{
    CHECK_B(b, "btfm_bids_participants");
    BTFM_CHECK_ARG(table, "btfm_bids_participants", "table");
    *table = b->participants;
    if (!b->participants)
        return btfm_fail(BTFM_E_NOTFOUND, "btfm_bids_participants: %s has no participants.tsv",
                         b->root);
    return BTFM_OK;
}

btfm_status btfm_bids_participant_row(const btfm_bids *b, int64_t index, int64_t *row)
{
    static const char func[] = "btfm_bids_participant_row";
    const btfm_bids_recording *r = recording(b, index, func);
    if (!r) return btfm_last_error_status();
    BTFM_CHECK_ARG(row, func, "row");
    *row = -1;
    if (!b->participants)
        return btfm_fail(BTFM_E_NOTFOUND, "%s: %s has no participants.tsv", func, b->root);
    const char *sub = btfm_bids_name_get(&r->name, "sub");
    for (int64_t i = 0; i < btfm_table_n_rows(b->participants); i++) {
        const char *id = btfm_table_cell(b->participants, i, 0);
        if (strncmp(id, "sub-", 4) == 0 && strcmp(id + 4, sub) == 0) {
            *row = i;
            return BTFM_OK;
        }
    }
    return btfm_fail(BTFM_E_NOTFOUND, "%s: participants.tsv of %s has no row for sub-%s", func,
                     b->root, sub);
}

btfm_status btfm_bids_scans(btfm_bids *b, int64_t index, const btfm_table **table, int64_t *row)
{
    static const char func[] = "btfm_bids_scans";
    const btfm_bids_recording *r = recording(b, index, func);
    if (!r) return btfm_last_error_status();
    BTFM_CHECK_ARG(table, func, "table");
    BTFM_CHECK_ARG(row, func, "row");
    *table = NULL;
    *row = -1;
    btfm_bids_dir *d = &b->dirs[r->scans_dir];
    if (!d->scans_loaded) {
        for (int k = 0; k < d->n_files; k++) {
            const btfm_bids_file *f = &d->files[k];
            if (strcmp(f->parsed.suffix, "scans") || strcmp(f->parsed.extension, ".tsv")) continue;
            btfm_status st = btfm_table_read(&d->scans, f->path);
            if (st) return st;
            break;
        }
        d->scans_loaded = 1;
    }
    if (!d->scans)
        return btfm_fail(BTFM_E_NOTFOUND, "%s: %s/ has no scans.tsv", func, d->rel);
    *table = d->scans;
    int col;
    if (btfm_table_find_column(d->scans, "filename", &col))
        return btfm_fail(BTFM_E_FORMAT, "bids: %s: rule scans-columns: scans.tsv has no "
                         "filename column", d->rel);
    const char *name = r->rel + strlen(d->rel) + 1;
    for (int64_t i = 0; i < btfm_table_n_rows(d->scans); i++)
        if (strcmp(btfm_table_cell(d->scans, i, col), name) == 0) {
            *row = i;
            return BTFM_OK;
        }
    return btfm_fail(BTFM_E_NOTFOUND, "%s: the scans.tsv of %s/ has no row for %s", func, d->rel,
                     name);
}

btfm_status btfm_bids_read_table(const btfm_bids *b, int64_t index, btfm_table **out)
{
    static const char func[] = "btfm_bids_read_table";
    BTFM_CHECK_ARG(out, func, "out");
    *out = NULL;
    const btfm_bids_recording *r = recording(b, index, func);
    if (!r) return btfm_last_error_status();
    if (strcmp(r->name.extension, ".tsv") != 0)
        return btfm_fail(BTFM_E_INVALID, "%s: %s is not a table (expected a .tsv recording such "
                         "as beh/*_beh.tsv)", func, r->rel);
    return btfm_table_read(out, r->path);
}
