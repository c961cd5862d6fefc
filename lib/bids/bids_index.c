/* The folder walk: dataset_description.json, participants.tsv, sub-/ses-/datatype
 * folders, recordings and the metadata files sidecar resolution chooses from. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "core/read_file.h"
#include "bids_internal.h"

/* Data files by datatype folder: suffix and extensions ("" ends the list). */
static const struct recording_kind {
    const char *datatype, *suffix;
    const char *extensions[5];
} kinds[] = {
    {"eeg", "eeg", {".edf", ".bdf", ".vhdr", ".set", ""}},
    {"ieeg", "ieeg", {".edf", ".bdf", ".vhdr", ".set", ""}},
    {"meg", "meg", {".fif", ".ds", "", "", ""}},
    {"nirs", "nirs", {".snirf", "", "", "", ""}},
    {"func", "bold", {".nii", ".nii.gz", "", "", ""}},
    {"func", "cbv", {".nii", ".nii.gz", "", "", ""}},
    {"beh", "beh", {".tsv", "", "", "", ""}},
};
#define N_KINDS (sizeof kinds / sizeof *kinds)

static int is_datatype(const char *name)
{
    for (size_t i = 0; i < N_KINDS; i++)
        if (strcmp(name, kinds[i].datatype) == 0) return 1;
    return 0;
}

static int is_recording(const char *datatype, const btfm_bids_name *n)
{
    for (size_t i = 0; i < N_KINDS; i++) {
        if (strcmp(datatype, kinds[i].datatype) || strcmp(n->suffix, kinds[i].suffix)) continue;
        for (int e = 0; e < 5 && kinds[i].extensions[e][0]; e++)
            if (strcmp(n->extension, kinds[i].extensions[e]) == 0) return 1;
    }
    return 0;
}

char *btfm_bids_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *s = btfm_malloc(a + b + 2);
    if (!s) return NULL;
    memcpy(s, dir, a);
    size_t k = a;
    if (a && b) s[k++] = '/';
    memcpy(s + k, name, b);
    s[k + b] = '\0';
    return s;
}

static int compare_names(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The entries of a folder (no dot files), sorted; *names freed by free_names. */
static btfm_status list_dir(const char *path, char ***names, int *n)
{
    *names = NULL;
    *n = 0;
    DIR *d = opendir(path);
    if (!d)
        return btfm_fail(errno == ENOENT ? BTFM_E_NOTFOUND : BTFM_E_IO, "bids: %s: cannot list "
                         "the folder: %s", path, strerror(errno));
    int64_t cap = 0;
    btfm_status st = BTFM_OK;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.') continue;
        void *grown = *names;
        if ((st = btfm_reserve(&grown, &cap, *n + 1, sizeof **names, "bids folder"))) break;
        *names = grown;
        if (!((*names)[*n] = btfm_strdup(e->d_name))) {
            st = btfm_fail_nomem("bids folder", strlen(e->d_name));
            break;
        }
        (*n)++;
    }
    closedir(d);
    if (!st && *n > 1) qsort(*names, (size_t)*n, sizeof **names, compare_names);
    return st;
}

static void free_names(char **names, int n)
{
    for (int i = 0; i < n; i++) btfm_free(names[i]);
    btfm_free(names);
}

static int is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static btfm_status add_dir(btfm_bids *b, const char *rel, int parent, int *index)
{
    void *grown = b->dirs;
    btfm_status st = btfm_reserve(&grown, &b->dirs_cap, b->n_dirs + 1, sizeof *b->dirs, "bids folders");
    b->dirs = grown;
    if (st) return st;
    btfm_bids_dir *d = &b->dirs[b->n_dirs];
    memset(d, 0, sizeof *d);
    if (!(d->rel = btfm_strdup(rel))) return btfm_fail_nomem("bids folders", strlen(rel));
    d->parent = parent;
    *index = b->n_dirs++;
    return BTFM_OK;
}

/* Lenient mode records and logs; strict mode fails with the current error. */
static btfm_status skip_or_fail(btfm_bids *b, const char *rel, btfm_status st)
{
    if (!(b->flags & BTFM_BIDS_LENIENT) || st == BTFM_E_NOMEM) return st;
    const char *reason = btfm_last_error();
    btfm_warn("bids: skipping %s: %s", rel, reason);
    void *grown = b->skipped;
    btfm_status r = btfm_reserve(&grown, &b->skipped_cap, b->n_skipped + 1, sizeof *b->skipped,
                                 "bids skipped");
    b->skipped = grown;
    if (r) return r;
    btfm_bids_skip *s = &b->skipped[b->n_skipped];
    if (!(s->rel = btfm_strdup(rel)) || !(s->reason = btfm_strdup(reason))) {
        btfm_free(s->rel);
        return btfm_fail_nomem("bids skipped", strlen(reason));
    }
    b->n_skipped++;
    return BTFM_OK;
}

btfm_status btfm_bids_read_json(const char *path, btfm_json **out, char **text_out)
{
    char *text;
    size_t len;
    btfm_status st = btfm_read_file(path, "bids", (size_t)64 << 20, &text, &len);
    if (st) return st;
    /* Sidecars written on Windows often start with a byte-order mark; MNE-BIDS reads
     * them as utf-8-sig too. */
    size_t skip = len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    st = btfm_json_parse(out, text + skip, len - skip, path);
    if (text_out && !st) *text_out = text;
    else btfm_free(text);
    return st;
}

/* Check a metadata file once: JSON syntax, the leading columns of TSV sidecars. */
static void check_metadata_file(btfm_bids_file *f)
{
    btfm_status st = BTFM_OK;
    if (strcmp(f->parsed.extension, ".json") == 0) {
        st = btfm_bids_read_json(f->path, &f->json, NULL);
        if (!st && btfm_json_kind_of(f->json) != BTFM_JSON_OBJECT)
            st = btfm_fail(BTFM_E_FORMAT, "bids: %s: rule sidecar-object: a JSON sidecar must "
                           "hold an object", f->path);
    } else if (strcmp(f->parsed.extension, ".tsv") == 0 &&
               (strcmp(f->parsed.suffix, "events") == 0 || strcmp(f->parsed.suffix, "channels") == 0)) {
        btfm_table *t = NULL;
        st = btfm_table_read(&t, f->path);
        if (!st) st = strcmp(f->parsed.suffix, "events") == 0
                          ? btfm_bids_check_events_columns(t, f->path)
                          : btfm_bids_check_channels_columns(t, f->path);
        btfm_table_free(t);
    }
    if (st && st != BTFM_E_NOMEM) f->problem = btfm_strdup(btfm_last_error());
}

static btfm_status add_file(btfm_bids *b, int dir, const char *name, btfm_bids_name *parsed)
{
    btfm_bids_dir *d = &b->dirs[dir];
    void *grown = d->files;
    btfm_status st = btfm_reserve(&grown, &d->files_cap, d->n_files + 1, sizeof *d->files, "bids files");
    d->files = grown;
    if (st) return st;
    btfm_bids_file *f = &d->files[d->n_files];
    memset(f, 0, sizeof *f);
    char *rel = btfm_bids_join(d->rel, name);
    f->name = btfm_strdup(name);
    f->path = rel ? btfm_bids_join(b->root, rel) : NULL;
    btfm_free(rel);
    if (!f->name || !f->path) {
        btfm_free(f->name);
        btfm_free(f->path);
        return btfm_fail_nomem("bids files", strlen(name));
    }
    f->parsed = *parsed;
    memset(parsed, 0, sizeof *parsed);
    d->n_files++;
    check_metadata_file(f);
    return BTFM_OK;
}

static btfm_status add_recording(btfm_bids *b, int dir, int scans_dir, const char *datatype,
                                 const char *name, btfm_bids_name *parsed)
{
    void *grown = b->recordings;
    btfm_status st = btfm_reserve(&grown, &b->recordings_cap, b->n_recordings + 1,
                                  sizeof *b->recordings, "bids recordings");
    b->recordings = grown;
    if (st) return st;
    btfm_bids_recording *r = &b->recordings[b->n_recordings];
    memset(r, 0, sizeof *r);
    r->rel = btfm_bids_join(b->dirs[dir].rel, name);
    r->path = r->rel ? btfm_bids_join(b->root, r->rel) : NULL;
    r->datatype = btfm_strdup(datatype);
    if (!r->rel || !r->path || !r->datatype) {
        btfm_free(r->rel);
        btfm_free(r->path);
        btfm_free(r->datatype);
        return btfm_fail_nomem("bids recordings", strlen(name));
    }
    r->name = *parsed;
    memset(parsed, 0, sizeof *parsed);
    r->dir = dir;
    r->scans_dir = scans_dir;
    b->n_recordings++;
    return BTFM_OK;
}

static int is_metadata(const btfm_bids_name *n)
{
    return strcmp(n->extension, ".json") == 0 || strcmp(n->extension, ".tsv") == 0;
}

/* The label a sub-/ses- folder gives, checked against the file's own entity. */
static btfm_status check_folder_entity(const btfm_bids_name *n, const char *key,
                                       const char *folder_label, const char *rel)
{
    const char *label = btfm_bids_name_get(n, key);
    if (folder_label && !label)
        return btfm_fail(BTFM_E_FORMAT, "bids: %s: rule directory-entity: the file lies in "
                         "%s-%s/ but its name has no %s entity", rel, key, folder_label, key);
    if (label && !folder_label)
        return btfm_fail(BTFM_E_FORMAT, "bids: %s: rule directory-entity: the name has %s-%s "
                         "but the file is not in a %s-%s/ folder", rel, key, label, key, label);
    if (label && strcmp(label, folder_label) != 0)
        return btfm_fail(BTFM_E_FORMAT, "bids: %s: rule directory-entity: the name says %s-%s "
                         "but the folder is %s-%s/", rel, key, label, key, folder_label);
    return BTFM_OK;
}

/* A file in a subject, session or datatype folder: parse and file it. */
static btfm_status visit_file(btfm_bids *b, int dir, int scans_dir, const char *datatype,
                              const char *sub, const char *ses, const char *name)
{
    char *rel = btfm_bids_join(b->dirs[dir].rel, name);
    if (!rel) return btfm_fail_nomem("bids", strlen(name));
    btfm_bids_name n;
    btfm_status st = btfm_bids_name_parse(&n, name, rel);
    if (!st && !btfm_bids_name_get(&n, "sub"))
        st = btfm_fail(BTFM_E_FORMAT, "bids: %s: rule sub-first: a file in a subject folder "
                       "must start with sub-<label>", rel);
    if (!st && strcmp(n.entities[0].key, "sub") != 0)
        st = btfm_fail(BTFM_E_FORMAT, "bids: %s: rule entity-order: sub must be the first "
                       "entity", rel);
    if (!st) st = check_folder_entity(&n, "sub", sub, rel);
    if (!st) st = check_folder_entity(&n, "ses", ses, rel);
    if (!st) {
        if (datatype && is_recording(datatype, &n))
            st = add_recording(b, dir, scans_dir, datatype, name, &n);
        else if (is_metadata(&n))
            st = add_file(b, dir, name, &n);
    } else {
        st = skip_or_fail(b, rel, st);
    }
    btfm_bids_name_clear(&n);
    btfm_free(rel);
    return st;
}

/* A datatype folder, or a subject/session folder (datatype NULL). */
static btfm_status walk_folder(btfm_bids *b, int dir, int scans_dir, const char *datatype,
                               const char *sub, const char *ses)
{
    char *path = btfm_bids_join(b->root, b->dirs[dir].rel);
    if (!path) return btfm_fail_nomem("bids", 64);
    char **names;
    int n;
    btfm_status st = list_dir(path, &names, &n);
    for (int i = 0; !st && i < n; i++) {
        char *full = btfm_bids_join(path, names[i]);
        if (!full) {
            st = btfm_fail_nomem("bids", 64);
            break;
        }
        int folder = is_dir(full) && !(datatype && strcmp(datatype, "meg") == 0 &&
                                       strstr(names[i], ".ds"));
        btfm_free(full);
        if (!folder) {
            st = visit_file(b, dir, scans_dir, datatype, sub, ses, names[i]);
            continue;
        }
        if (datatype) continue; /* no folders inside datatype folders */
        char *rel = btfm_bids_join(b->dirs[dir].rel, names[i]);
        if (!rel) {
            st = btfm_fail_nomem("bids", 64);
            break;
        }
        int child;
        if (!ses && strncmp(names[i], "ses-", 4) == 0) {
            if (!(st = add_dir(b, rel, dir, &child)))
                st = walk_folder(b, child, child, NULL, sub, names[i] + 4);
        } else if (is_datatype(names[i])) {
            if (!(st = add_dir(b, rel, dir, &child)))
                st = walk_folder(b, child, scans_dir, names[i], sub, ses);
        }
        btfm_free(rel);
    }
    free_names(names, n);
    btfm_free(path);
    return st;
}

static btfm_status read_description(btfm_bids *b)
{
    char *path = btfm_bids_join(b->root, "dataset_description.json");
    if (!path) return btfm_fail_nomem("bids", 64);
    btfm_json *j = NULL;
    btfm_status st = btfm_bids_read_json(path, &j, &b->description);
    if (st == BTFM_E_NOTFOUND)
        st = btfm_fail(BTFM_E_FORMAT, "bids: %s: rule dataset-description: the dataset has no "
                       "dataset_description.json (required at the root, with Name and "
                       "BIDSVersion)", b->root);
    for (int k = 0; !st && k < 2; k++) {
        const char *key = k ? "BIDSVersion" : "Name";
        if (!btfm_json_string(btfm_json_get(j, key)))
            st = btfm_fail(BTFM_E_FORMAT, "bids: %s: rule dataset-description: %s must be a "
                           "string member of the object", path, key);
    }
    btfm_json_free(j);
    btfm_free(path);
    return st;
}

static btfm_status read_participants(btfm_bids *b)
{
    char *path = btfm_bids_join(b->root, "participants.tsv");
    if (!path) return btfm_fail_nomem("bids", 64);
    btfm_status st = btfm_table_read(&b->participants, path);
    if (st == BTFM_E_NOTFOUND) st = BTFM_OK;
    else if (!st && strcmp(btfm_table_column_name(b->participants, 0), "participant_id") != 0)
        st = btfm_fail(BTFM_E_FORMAT, "bids: %s: rule participants-columns: the first column "
                       "is \"%s\", expected participant_id", path,
                       btfm_table_column_name(b->participants, 0));
    btfm_free(path);
    return st;
}

static int compare_recordings(const void *x, const void *y)
{
    return strcmp(((const btfm_bids_recording *)x)->rel, ((const btfm_bids_recording *)y)->rel);
}

static const char *const not_indexed[] = {"derivatives", "sourcedata", "code", "stimuli",
                                          "phenotype"};

btfm_status btfm_bids_walk(btfm_bids *b)
{
    /* The calling thread's callback: half for the subject folders, half for the checks
     * of the recordings. */
    btfm_progress progress;
    btfm_status st = btfm_progress_start(&progress, NULL, NULL, "BIDS index");
    if (st) return st;
    btfm_progress folders = btfm_progress_part(&progress, 0, 0.5);
    btfm_progress checks = btfm_progress_part(&progress, 0.5, 1);
    int root;
    st = add_dir(b, "", -1, &root);
    if (!st) st = read_description(b);
    if (!st) st = read_participants(b);
    char **names = NULL;
    int n = 0;
    if (!st) st = list_dir(b->root, &names, &n);
    for (int i = 0; !st && i < n; i++) {
        if ((st = btfm_progress_update(&folders, "folders", (double)i / n))) break;
        int skip = 0;
        for (size_t k = 0; k < sizeof not_indexed / sizeof *not_indexed; k++)
            skip |= strcmp(names[i], not_indexed[k]) == 0;
        char *full = btfm_bids_join(b->root, names[i]);
        if (!full) {
            st = btfm_fail_nomem("bids", 64);
            break;
        }
        int folder = is_dir(full);
        btfm_free(full);
        if (skip) continue;
        if (folder && strncmp(names[i], "sub-", 4) == 0) {
            int child;
            if (!(st = add_dir(b, names[i], root, &child)))
                st = walk_folder(b, child, child, NULL, names[i] + 4, NULL);
        } else if (!folder) {
            /* Root sidecars (task-rest_bold.json, events.json); other files are not
             * BIDS names (README, CHANGES, dataset_description.json) and are left out. */
            btfm_bids_name parsed;
            if (btfm_bids_name_parse(&parsed, names[i], names[i]) == BTFM_OK) {
                if (is_metadata(&parsed)) st = add_file(b, root, names[i], &parsed);
                btfm_bids_name_clear(&parsed);
            }
        }
    }
    free_names(names, n);
    if (st) return st;
    if (b->n_recordings > 1)
        qsort(b->recordings, (size_t)b->n_recordings, sizeof *b->recordings, compare_recordings);
    /* Checks that need the sidecars; lenient mode drops the recordings that fail. */
    int64_t kept = 0;
    for (int64_t i = 0; i < b->n_recordings; i++) {
        btfm_bids_recording *r = &b->recordings[i];
        st = btfm_progress_update(&checks, "recordings", (double)i / b->n_recordings);
        int cancelled = st != BTFM_OK; /* never skipped, even when lenient */
        if (!st) st = btfm_bids_check_recording(b, r);
        if (st && !cancelled && (st = skip_or_fail(b, r->rel, st)) == BTFM_OK) {
            btfm_bids_recording_clear(r);
            continue;
        }
        if (st) { /* keep every recording not yet freed, for btfm_bids_free */
            memmove(&b->recordings[kept], r, (size_t)(b->n_recordings - i) * sizeof *r);
            b->n_recordings = kept + (b->n_recordings - i);
            return st;
        }
        b->recordings[kept++] = *r;
    }
    b->n_recordings = kept;
    if (btfm_progress_done(&progress, "BIDS index") == BTFM_E_CANCELLED) btfm_clear_error();
    return BTFM_OK;
}
