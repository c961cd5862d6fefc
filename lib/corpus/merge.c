/* The index merge: every finished recording entry of out_dir/recordings/ (in the order of
 * their ids) and every recorded failure into out_dir/index.json, written atomically. Runs
 * alone, so the recordings can be built by many processes and merged by one. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <btfm/version.h>
#include "corpus_internal.h"
#include "core/json.h"

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && strcmp(s + n - t, tail) == 0;
}

btfm_status btfm_corpus_merge(const char *out_dir)
{
    BTFM_CHECK_ARG(out_dir, "btfm_corpus_merge", "out_dir");
    char *dir = btfm_corpus_path(out_dir, "", "");
    if (!dir) return btfm_fail_nomem("btfm_corpus_merge", 0);
    DIR *d = opendir(dir);
    if (!d) {
        btfm_status st = btfm_fail(BTFM_E_NOTFOUND, "btfm_corpus_merge: %s: no recordings "
                                   "folder (plan and build the corpus first)", dir);
        btfm_free(dir);
        return st;
    }
    char **names = NULL;
    int64_t n = 0, cap = 0;
    btfm_status st = BTFM_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!ends_with(e->d_name, ".json") || strstr(e->d_name, ".tmp-")) continue;
        if ((st = btfm_reserve((void **)&names, &cap, n + 1, sizeof *names, "merge"))) break;
        if (!(names[n] = btfm_strdup(e->d_name))) { st = btfm_fail_nomem("merge", 0); break; }
        n++;
    }
    closedir(d);
    if (st == BTFM_OK) qsort(names, (size_t)n, sizeof *names, compare_names);
    btfm_json *index = NULL, *recordings = NULL, *failed = NULL;
    if (st == BTFM_OK) st = btfm_json_new_object(&index);
    if (st == BTFM_OK) st = btfm_json_new_array(&recordings);
    if (st == BTFM_OK) st = btfm_json_new_array(&failed);
    for (int64_t i = 0; st == BTFM_OK && i < n; i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s%s", dir, names[i]);
        btfm_json *entry = NULL;
        if ((st = btfm_json_read_file(&entry, path))) break;
        if (btfm_json_kind_of(entry) != BTFM_JSON_OBJECT || !btfm_json_get(entry, "id")) {
            btfm_json_free(entry);
            st = btfm_fail(BTFM_E_FORMAT, "btfm_corpus_merge: %s is not a recording entry "
                           "(an object with an id)", path);
            break;
        }
        st = btfm_json_append(ends_with(names[i], ".failed.json") ? failed : recordings, entry);
    }
    if (st == BTFM_OK) st = btfm_json_set_string(index, "format", CORPUS_FORMAT);
    if (st == BTFM_OK) st = btfm_json_set_number(index, "format_version", CORPUS_FORMAT_VERSION);
    if (st == BTFM_OK) st = btfm_json_set_string(index, "library_version", btfm_version_string());
    if (st == BTFM_OK)
        st = btfm_json_set_number(index, "n_recordings", (double)btfm_json_length(recordings));
    if (st == BTFM_OK) { st = btfm_json_set(index, "recordings", recordings); recordings = NULL; }
    if (st == BTFM_OK) { st = btfm_json_set(index, "failed", failed); failed = NULL; }
    if (st == BTFM_OK) {
        char index_path[8192];
        snprintf(index_path, sizeof index_path, "%s/%s", out_dir, CORPUS_INDEX);
        st = btfm_json_write_file(index, index_path);
    }
    btfm_json_free(recordings);
    btfm_json_free(failed);
    btfm_json_free(index);
    for (int64_t i = 0; i < n; i++) btfm_free(names[i]);
    btfm_free(names);
    btfm_free(dir);
    return st;
}
