/* The index merge: the entries and failures of the recordings in out_dir/plan.json (in
 * the order of their ids) into out_dir/index.json, written atomically. Runs alone, so the
 * recordings can be built by many processes and merged by one; what an earlier build
 * with other sources left in recordings/ stays out of the index. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <btfm/version.h>
#include "corpus_internal.h"
#include "core/json.h"

/* The entry at `path` when the file exists (*entry NULL when it does not). */
static btfm_status read_entry(const char *path, btfm_json **entry)
{
    *entry = NULL;
    struct stat info;
    if (stat(path, &info) != 0) return BTFM_OK;
    btfm_status st = btfm_json_read_file(entry, path);
    if (st) return st;
    if (btfm_json_kind_of(*entry) != BTFM_JSON_OBJECT || !btfm_json_get(*entry, "id")) {
        btfm_json_free(*entry);
        *entry = NULL;
        return btfm_fail(BTFM_E_FORMAT, "btfm_corpus_merge: %s is not a recording entry (an "
                         "object with an id)", path);
    }
    return BTFM_OK;
}

static btfm_status read_plan(const char *out_dir, btfm_json **plan, const btfm_json **ids)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", out_dir, CORPUS_PLAN);
    struct stat info;
    if (stat(path, &info) != 0)
        return btfm_fail(BTFM_E_NOTFOUND, "btfm_corpus_merge: %s: no plan (plan and build the "
                         "corpus first)", path);
    btfm_status st = btfm_json_read_file(plan, path);
    if (st) return st;
    *ids = btfm_json_get(*plan, "ids");
    if (btfm_json_number(btfm_json_get(*plan, "format_version")) != CORPUS_FORMAT_VERSION)
        return btfm_fail(BTFM_E_VERSION, "btfm_corpus_merge: %s: a plan of another format "
                         "version (expected %d)", path, CORPUS_FORMAT_VERSION);
    if (btfm_json_kind_of(*ids) != BTFM_JSON_ARRAY)
        return btfm_fail(BTFM_E_FORMAT, "btfm_corpus_merge: %s: no \"ids\" list", path);
    for (size_t i = 0; i < btfm_json_length(*ids); i++)
        if (!btfm_json_string(btfm_json_at(*ids, i)))
            return btfm_fail(BTFM_E_FORMAT, "btfm_corpus_merge: %s: id %zu is not a string",
                             path, i);
    return BTFM_OK;
}

/* Recordings are written without syncing their names (each binary's data is synced
 * before its entry is written): one sync of recordings/ here makes every rename durable
 * before the index names them. */
static btfm_status sync_recordings(const char *out_dir)
{
    char *dir = btfm_corpus_path(out_dir, "", "");
    if (!dir) return btfm_fail_nomem("btfm_corpus_merge", 0);
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    btfm_status st = BTFM_OK;
    if (fd < 0 || fsync(fd) != 0)
        st = btfm_fail(BTFM_E_IO, "btfm_corpus_merge: %s: cannot sync the folder (%s)", dir,
                       strerror(errno));
    if (fd >= 0) close(fd);
    btfm_free(dir);
    return st;
}

btfm_status btfm_corpus_merge(const char *out_dir)
{
    BTFM_CHECK_ARG(out_dir, "btfm_corpus_merge", "out_dir");
    btfm_json *plan = NULL, *index = NULL, *recordings = NULL, *failed = NULL;
    const btfm_json *ids = NULL;
    btfm_status st = read_plan(out_dir, &plan, &ids);
    if (st == BTFM_OK) st = btfm_json_new_object(&index);
    if (st == BTFM_OK) st = btfm_json_new_array(&recordings);
    if (st == BTFM_OK) st = btfm_json_new_array(&failed);
    size_t n = st == BTFM_OK ? btfm_json_length(ids) : 0;
    for (size_t i = 0; st == BTFM_OK && i < n; i++) {
        const char *id = btfm_json_string(btfm_json_at(ids, i));
        char *done = btfm_corpus_path(out_dir, id, ".json");
        char *why = btfm_corpus_path(out_dir, id, ".failed.json");
        btfm_json *entry = NULL;
        if (!done || !why) st = btfm_fail_nomem("btfm_corpus_merge", 0);
        if (st == BTFM_OK && (st = read_entry(done, &entry)) == BTFM_OK) {
            if (entry) {
                st = btfm_json_append(recordings, entry);
            } else if ((st = read_entry(why, &entry)) == BTFM_OK) {
                if (entry) st = btfm_json_append(failed, entry);
                else st = btfm_fail(BTFM_E_STATE, "btfm_corpus_merge: %s: recording %s of the "
                                    "plan is not built yet (neither %s nor %s exists)",
                                    out_dir, id, done, why);
            }
        }
        btfm_free(done);
        btfm_free(why);
    }
    if (st == BTFM_OK) st = btfm_json_set_string(index, "format", CORPUS_FORMAT);
    if (st == BTFM_OK) st = btfm_json_set_number(index, "format_version", CORPUS_FORMAT_VERSION);
    if (st == BTFM_OK) st = btfm_json_set_string(index, "library_version", btfm_version_string());
    if (st == BTFM_OK)
        st = btfm_json_set_number(index, "n_recordings", (double)btfm_json_length(recordings));
    if (st == BTFM_OK) { st = btfm_json_set(index, "recordings", recordings); recordings = NULL; }
    if (st == BTFM_OK) { st = btfm_json_set(index, "failed", failed); failed = NULL; }
    if (st == BTFM_OK) st = sync_recordings(out_dir);
    if (st == BTFM_OK) {
        char index_path[8192];
        snprintf(index_path, sizeof index_path, "%s/%s", out_dir, CORPUS_INDEX);
        st = btfm_json_write_file(index, index_path);
    }
    btfm_json_free(recordings);
    btfm_json_free(failed);
    btfm_json_free(index);
    btfm_json_free(plan);
    return st;
}
