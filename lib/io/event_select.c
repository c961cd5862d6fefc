/* Choosing events by label with MNE's hierarchical tags: "stim" selects "stim/left" and
 * "stim/right", "left" selects "stim/left" and "resp/left", "stim/left" selects
 * "left/stim" too (each tag of the query must be a tag of the label, in any order). */
#include <string.h>
#include "dataset_internal.h"

/* 1 when the `n`-byte tag starting at `tag` is one of the /-separated tags of `label`. */
static int has_tag(const char *label, const char *tag, size_t n)
{
    for (const char *p = label;;) {
        size_t len = strcspn(p, "/");
        if (len == n && memcmp(p, tag, n) == 0) return 1;
        if (!p[len]) return 0;
        p += len + 1;
    }
}

static int matches(const char *label, const char *query)
{
    if (strcmp(label, query) == 0) return 1;
    for (const char *q = query;;) {
        size_t len = strcspn(q, "/");
        if (len == 0 || !has_tag(label, q, len)) return 0; /* an empty tag never matches */
        if (!q[len]) return 1;
        q += len + 1;
    }
}

static const char *label_at(const void *ds, int64_t i)
{
    const char *label = "";
    btfm_dataset_event(ds, i, NULL, NULL, NULL, &label, NULL);
    return label;
}

btfm_status btfm_dataset_event_labels_text(const btfm_dataset *ds, char *out, size_t cap)
{
    btfm_name_list(out, cap, btfm_dataset_n_events(ds), label_at, ds);
    return BTFM_OK;
}

btfm_status btfm_dataset_select_events(const btfm_dataset *ds, const char *label,
                                       int64_t *indices, int64_t capacity, int64_t *n_selected)
{
    static const char func[] = "btfm_dataset_select_events";
    BTFM_CHECK_ARG(ds, func, "dataset");
    BTFM_CHECK_ARG(n_selected, func, "n_selected");
    *n_selected = 0;
    if (indices && capacity < 0)
        return btfm_fail(BTFM_E_INVALID, "%s: capacity %lld is negative", func, (long long)capacity);
    int64_t n = btfm_dataset_n_events(ds), count = 0;
    for (int64_t e = 0; e < n; e++) {
        const char *type = "", *text = "";
        btfm_dataset_event(ds, e, NULL, NULL, &type, &text, NULL);
        int keep = label ? matches(text, label) : strcmp(type, "gap") != 0;
        if (!keep) continue;
        if (indices && count < capacity) indices[count] = e;
        count++;
    }
    *n_selected = count;
    if (count == 0) {
        char known[400];
        btfm_dataset_event_labels_text(ds, known, sizeof known);
        if (n == 0)
            return btfm_fail(BTFM_E_NOTFOUND, "%s: %s has no events", func, ds->path);
        if (!label)
            return btfm_fail(BTFM_E_NOTFOUND, "%s: %s has only gaps between records for events "
                             "(labels: %s)", func, ds->path, known);
        return btfm_fail(BTFM_E_NOTFOUND, "%s: %s has no event labelled \"%s\" (nor one with "
                         "the /-separated tags of it); its event labels are: %s", func, ds->path,
                         label, known);
    }
    if (indices && count > capacity)
        return btfm_fail(BTFM_E_RANGE, "%s: %lld events match, more than the capacity %lld "
                         "(call with indices NULL for the count)", func, (long long)count,
                         (long long)capacity);
    return BTFM_OK;
}
