/* The inheritance principle: a metadata file applies to a data file when it lies in the
 * data file's folder or a parent folder up to the root, has the same suffix and
 * extension, and its entities are a subset of the data file's. At most one applies per
 * folder; JSON files merge from the root down, for TSV files the closest wins. */
#include <string.h>
#include "bids_internal.h"

/* `except` names an entity the file may carry whatever the recording's name says (NULL: none). */
static int applies_except(const btfm_bids_file *f, const btfm_bids_recording *r,
                          const char *suffix, const char *extension, const char *except)
{
    if (strcmp(f->parsed.suffix, suffix) || strcmp(f->parsed.extension, extension)) return 0;
    for (int k = 0; k < f->parsed.n_entities; k++) {
        const btfm_bids_entity *e = &f->parsed.entities[k];
        if (except && strcmp(e->key, except) == 0) continue;
        const char *have = btfm_bids_name_get(&r->name, e->key);
        if (!have || !btfm_bids_label_equal(e->key, have, e->value)) return 0;
    }
    return 1;
}

static int applies(const btfm_bids_file *f, const btfm_bids_recording *r, const char *suffix,
                   const char *extension)
{
    return applies_except(f, r, suffix, extension, NULL);
}

btfm_status btfm_bids_sidecars(const btfm_bids *b, const btfm_bids_recording *r,
                               const char *suffix, const char *extension,
                               const btfm_bids_file **out, int cap, int *n)
{
    int chain[8], depth = 0;
    for (int d = r->dir; d >= 0 && depth < 8; d = b->dirs[d].parent) chain[depth++] = d;
    *n = 0;
    for (int level = depth - 1; level >= 0; level--) {
        const btfm_bids_dir *d = &b->dirs[chain[level]];
        const btfm_bids_file *found = NULL;
        for (int k = 0; k < d->n_files; k++) {
            const btfm_bids_file *f = &d->files[k];
            if (!applies(f, r, suffix, extension)) continue;
            if (found)
                return btfm_fail(BTFM_E_FORMAT, "bids: %s: rule inheritance-ambiguous: both %s "
                                 "and %s apply to it from %s/ (at most one %s%s per folder may)",
                                 r->rel, found->name, f->name, *d->rel ? d->rel : ".", suffix,
                                 extension);
            found = f;
        }
        if (!found) continue;
        if (found->problem)
            return btfm_fail(BTFM_E_FORMAT, "bids: %s: its sidecar is unusable: %s", r->rel,
                             found->problem);
        if (*n < cap) out[*n] = found;
        (*n)++;
    }
    return BTFM_OK;
}

const btfm_bids_file *btfm_bids_spatial_file(const btfm_bids *b, const btfm_bids_recording *r,
                                            const char *suffix, const char *extension,
                                            const char *space, int *n_candidates)
{
    *n_candidates = 0;
    for (int d = r->dir; d >= 0; d = b->dirs[d].parent) {
        const btfm_bids_file *found = NULL;
        for (int k = 0; k < b->dirs[d].n_files; k++) {
            const btfm_bids_file *f = &b->dirs[d].files[k];
            if (!applies_except(f, r, suffix, extension, "space")) continue;
            const char *label = btfm_bids_name_get(&f->parsed, "space");
            if (space && (!label || strcmp(label, space) != 0)) continue;
            (*n_candidates)++;
            if (!found) found = f; /* files are in name order */
        }
        if (found) return found;
    }
    return NULL;
}

btfm_status btfm_bids_merged_json(const btfm_bids *b, const btfm_bids_recording *r,
                                  btfm_json **out)
{
    const btfm_bids_file *files[8];
    int n;
    btfm_status st = btfm_bids_sidecars(b, r, r->name.suffix, ".json", files, 8, &n);
    if (st) return st;
    btfm_json *merged;
    if ((st = btfm_json_new_object(&merged))) return st;
    for (int i = 0; i < n && i < 8; i++) {
        btfm_json *next;
        if ((st = btfm_json_merge(&next, merged, files[i]->json))) {
            btfm_json_free(merged);
            return st;
        }
        btfm_json_free(merged);
        merged = next;
    }
    *out = merged;
    return BTFM_OK;
}

btfm_status btfm_bids_recording_metadata(btfm_bids *b, int64_t index, const char **json)
{
    static const char func[] = "btfm_bids_recording_metadata";
    BTFM_CHECK_ARG(b, func, "bids");
    BTFM_CHECK_ARG(json, func, "json");
    if (index < 0 || index >= b->n_recordings)
        return btfm_fail(BTFM_E_RANGE, "%s: recording %lld is outside [0, %lld) of %s", func,
                         (long long)index, (long long)b->n_recordings, b->root);
    btfm_bids_recording *r = &b->recordings[index];
    if (!r->metadata) {
        btfm_json *merged;
        btfm_status st = btfm_bids_merged_json(b, r, &merged);
        if (st) return st;
        st = btfm_json_dump(merged, &r->metadata, NULL);
        btfm_json_free(merged);
        if (st) return st;
    }
    *json = r->metadata;
    return BTFM_OK;
}
