/* Windows of a corpus and its splits: fixed-length windows (braindecode's
 * create_fixed_length_windows: starts every stride while the window fits) or one window
 * per selected event (MNE's epochs: onset + round(tmin sfreq), round(tmax sfreq) -
 * round(tmin sfreq) + 1 samples); windows touching a bad segment are skipped and counted.
 * Splits assign whole groups (subjects, sessions or recordings) by a seeded shuffle. */
#include <stdlib.h>
#include <string.h>
#include "loader_internal.h"
#include "core/random.h"

uint64_t btfm_corpus_draw(uint64_t *state, uint64_t n)
{
    __extension__ typedef unsigned __int128 wide;
    return (uint64_t)(((wide)btfm_splitmix64(state) * n) >> 64);
}

void btfm_corpus_permutation(int64_t *perm, int64_t n, uint64_t seed, uint64_t stream)
{
    uint64_t state = seed * 0x9e3779b97f4a7c15ULL ^ (stream + 1) * 0xd1b54a32d192ed03ULL;
    for (int64_t i = 0; i < n; i++) perm[i] = i;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)btfm_corpus_draw(&state, (uint64_t)i + 1);
        int64_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

void btfm_window_list_free(window_list *w)
{
    btfm_free(w->rec), btfm_free(w->start), btfm_free(w->label);
    memset(w, 0, sizeof *w);
}

/* 1 when every /-separated tag of `want` is a tag of `label` (MNE's hierarchical event
 * selection; equal labels match). */
static int tags_match(const char *want, size_t want_len, const char *label)
{
    for (const char *t = want; t < want + want_len;) {
        const char *end = memchr(t, '/', (size_t)(want + want_len - t));
        size_t n = end ? (size_t)(end - t) : (size_t)(want + want_len - t);
        int found = 0;
        for (const char *l = label; *l && !found;) {
            const char *le = strchr(l, '/');
            size_t m = le ? (size_t)(le - l) : strlen(l);
            found = m == n && strncmp(l, t, n) == 0;
            l = le ? le + 1 : l + m;
        }
        if (!found) return 0;
        t = end ? end + 1 : want + want_len;
    }
    return 1;
}

static int selected(const char *selection, const char *label)
{
    if (!selection || !*selection) return 1;
    for (const char *s = selection; s;) {
        const char *end = strchr(s, ',');
        size_t n = end ? (size_t)(end - s) : strlen(s);
        if (n && tags_match(s, n, label)) return 1;
        s = end ? end + 1 : NULL;
    }
    return 0;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

btfm_status btfm_corpus_labels(const corpus_rec *recs, int64_t n_recs, const char *selection,
                          char ***labels_out, int *n_labels)
{
    int64_t n = 0;
    for (int64_t i = 0; i < n_recs; i++) n += recs[i].n_events;
    char **labels = btfm_calloc((size_t)(n > 0 ? n : 1), sizeof *labels);
    if (!labels) return btfm_fail_nomem("corpus", 0);
    int64_t k = 0;
    for (int64_t i = 0; i < n_recs; i++)
        for (int64_t e = 0; e < recs[i].n_events; e++)
            if (selected(selection, recs[i].event_labels[e])) labels[k++] = recs[i].event_labels[e];
    qsort(labels, (size_t)k, sizeof *labels, compare_strings);
    int64_t u = 0;
    for (int64_t j = 0; j < k; j++)
        if (!u || strcmp(labels[u - 1], labels[j]) != 0) labels[u++] = labels[j];
    for (int64_t j = 0; j < u; j++)
        if (!(labels[j] = btfm_strdup(labels[j]))) {
            for (int64_t m = 0; m < j; m++) btfm_free(labels[m]);
            btfm_free(labels);
            return btfm_fail_nomem("corpus", 0);
        }
    *labels_out = labels;
    *n_labels = (int)u;
    return BTFM_OK;
}

/* The split (0 train, 1 validation, 2 test) of each of n groups: a seeded permutation, the
 * first round(test n) test, the next round(val n) validation. */
static void assign_splits(unsigned char *split, int64_t n, const window_spec *s, int64_t *perm)
{
    btfm_corpus_permutation(perm, n, s->seed, 0x5917);
    int64_t n_test = (int64_t)(s->test_fraction * (double)n + 0.5);
    int64_t n_val = (int64_t)(s->val_fraction * (double)n + 0.5);
    if (n_test + n_val > n) n_val = n - n_test;
    for (int64_t k = 0; k < n; k++)
        split[perm[k]] = k < n_test ? 2 : k < n_test + n_val ? 1 : 0;
}

static int in_split(int split_of, int want) { return want == 3 || split_of == want; }

static btfm_status add(window_list *w, int32_t rec, int64_t start, int32_t label)
{
    if (w->n == w->cap) {
        int64_t cap = w->cap ? 2 * w->cap : 1024;
        int32_t *r = btfm_realloc(w->rec, (size_t)cap * sizeof *r);
        if (r) w->rec = r;
        int64_t *s = btfm_realloc(w->start, (size_t)cap * sizeof *s);
        if (s) w->start = s;
        int32_t *l = btfm_realloc(w->label, (size_t)cap * sizeof *l);
        if (l) w->label = l;
        if (!r || !s || !l) return btfm_fail_nomem("corpus windows", (size_t)cap);
        w->cap = cap;
    }
    w->rec[w->n] = rec, w->start[w->n] = start, w->label[w->n] = label;
    w->n++;
    return BTFM_OK;
}

static int touches_bad(const corpus_rec *r, int64_t start, int64_t length)
{
    for (int64_t k = 0; k < r->n_bad; k++)
        if (start < r->bad[2 * k + 1] && start + length > r->bad[2 * k]) return 1;
    return 0;
}

btfm_status btfm_corpus_windows(const corpus_rec *recs, int64_t n_recs, const window_spec *s,
                           char **labels, int n_labels, window_list *out, int64_t *n_out,
                           int64_t *skipped_out)
{
    btfm_status st = BTFM_OK;
    int by = s->split_by < 3 ? s->split_by : -1;
    /* groups: distinct keys in sorted order */
    const char **keys = NULL;
    int64_t *group = NULL, *perm = NULL, n_groups = 0;
    unsigned char *split = NULL;
    window_list all = {0};
    if (by >= 0) {
        keys = btfm_malloc((size_t)n_recs * sizeof *keys);
        group = btfm_malloc((size_t)n_recs * sizeof *group);
        perm = btfm_malloc((size_t)n_recs * sizeof *perm);
        split = btfm_malloc((size_t)n_recs);
        if (!keys || !group || !perm || !split) { st = btfm_fail_nomem("corpus windows", 0); goto done; }
        for (int64_t i = 0; i < n_recs; i++) keys[i] = recs[i].group[by];
        qsort(keys, (size_t)n_recs, sizeof *keys, compare_strings);
        for (int64_t i = 0; i < n_recs; i++)
            if (!n_groups || strcmp(keys[n_groups - 1], keys[i]) != 0) keys[n_groups++] = keys[i];
        for (int64_t i = 0; i < n_recs; i++) {
            const char *key = recs[i].group[by];
            const char **hit = bsearch(&key, keys, (size_t)n_groups, sizeof *keys, compare_strings);
            group[i] = hit - keys;
        }
        assign_splits(split, n_groups, s, perm);
    }
    window_list *w = out ? out : &all;
    int64_t count = 0, skipped = 0;
    for (int64_t i = 0; i < n_recs; i++) {
        const corpus_rec *r = &recs[i];
        if (by >= 0 && !in_split(split[group[i]], s->split)) continue;
        if (!s->event_locked) {
            for (int64_t start = 0; start + s->length <= r->n_times; start += s->stride) {
                if (touches_bad(r, start, s->length)) { skipped++; continue; }
                count++;
                if ((out || by < 0) && (st = add(w, (int32_t)i, start, -1))) goto done;
            }
            continue;
        }
        for (int64_t e = 0; e < r->n_events; e++) {
            const char *label = r->event_labels[e];
            if (!selected(s->events, label)) continue;
            int64_t start = r->event_onsets[e] + s->offset;
            if (start < 0 || start + s->length > r->n_times || touches_bad(r, start, s->length)) {
                skipped++;
                continue;
            }
            char **hit = bsearch(&label, labels, (size_t)n_labels, sizeof *labels, compare_strings);
            count++;
            if ((out || by < 0) && (st = add(w, (int32_t)i, start, hit ? (int32_t)(hit - labels) : -1)))
                goto done;
        }
    }
    if (by < 0) { /* split by window: the same rule over the windows */
        unsigned char *wsplit = btfm_malloc((size_t)(w->n > 0 ? w->n : 1));
        int64_t *wperm = btfm_malloc((size_t)(w->n > 0 ? w->n : 1) * sizeof *wperm);
        if (!wsplit || !wperm) {
            btfm_free(wsplit), btfm_free(wperm);
            st = btfm_fail_nomem("corpus windows", 0);
            goto done;
        }
        assign_splits(wsplit, w->n, s, wperm);
        int64_t k = 0;
        for (int64_t j = 0; j < w->n; j++) {
            if (!in_split(wsplit[j], s->split)) continue;
            w->rec[k] = w->rec[j], w->start[k] = w->start[j], w->label[k] = w->label[j];
            k++;
        }
        w->n = k;
        count = k;
        btfm_free(wsplit), btfm_free(wperm);
    }
    if (n_out) *n_out = count;
    if (skipped_out) *skipped_out = skipped;
done:
    btfm_window_list_free(&all);
    btfm_free(keys), btfm_free(group), btfm_free(perm), btfm_free(split);
    return st;
}
