/* Opening a built corpus: index.json checked against its format and version, every
 * recording binary checked against its entry's shape and memory-mapped read-only. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "loader_internal.h"
#include "core/json.h"
#include "core/read_file.h"

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void btfm_corpus_close_index(corpus_rec *recs, int64_t n_recs, char **names, int n_names)
{
    for (int64_t i = 0; recs && i < n_recs; i++) {
        corpus_rec *r = &recs[i];
        if (r->map) munmap((void *)r->map, r->map_bytes);
        btfm_free(r->id);
        for (int g = 0; g < 3; g++) btfm_free(r->group[g]);
        btfm_free(r->scale), btfm_free(r->channel_ids), btfm_free(r->positions);
        for (int64_t e = 0; r->event_labels && e < r->n_events; e++) btfm_free(r->event_labels[e]);
        btfm_free(r->event_labels), btfm_free(r->event_onsets), btfm_free(r->bad);
    }
    btfm_free(recs);
    for (int i = 0; names && i < n_names; i++) btfm_free(names[i]);
    btfm_free(names);
}

static btfm_status bad_entry(const char *index, int64_t i, const char *what)
{
    return btfm_fail(BTFM_E_FORMAT, "corpus: %s: recording %lld: %s", index, (long long)i, what);
}

static char *join(const char *a, const char *sep, const char *b)
{
    size_t n = strlen(a) + strlen(sep) + strlen(b) + 1;
    char *s = btfm_malloc(n);
    if (s) snprintf(s, n, "%s%s%s", a, sep, b);
    return s;
}

static btfm_status map_binary(const char *dir, const char *index, int64_t i, corpus_rec *r,
                              const char *file)
{
    if (strstr(file, "..") || file[0] == '/') return bad_entry(index, i, "file leaves the corpus folder");
    char *path = join(dir, "/", file);
    if (!path) return btfm_fail_nomem("corpus", 0);
    int fd;
    btfm_status st = btfm_open_regular(path, "corpus", &fd);
    if (st) { btfm_free(path); return st; }
    struct stat info;
    double expected = (double)r->n_times * (double)r->n_channels * 2.0;
    if (fstat(fd, &info) != 0) {
        st = btfm_fail(BTFM_E_IO, "corpus: %s: cannot stat (%s)", path, strerror(errno));
    } else if ((double)info.st_size != expected) {
        st = btfm_fail((double)info.st_size < expected ? BTFM_E_TRUNCATED : BTFM_E_FORMAT,
                       "corpus: %s holds %lld bytes; its entry in %s (shape %lld x %d, 2 bytes "
                       "a value) needs %.0f", path, (long long)info.st_size, index,
                       (long long)r->n_times, r->n_channels, expected);
    } else if (info.st_size > 0) {
        void *m = mmap(NULL, (size_t)info.st_size, PROT_READ, MAP_SHARED, fd, 0);
        if (m == MAP_FAILED) st = btfm_fail(BTFM_E_IO, "corpus: %s: cannot map (%s)", path,
                                            strerror(errno));
        else r->map = m, r->map_bytes = (size_t)info.st_size;
    }
    close(fd);
    btfm_free(path);
    return st;
}

static btfm_status read_floats(const btfm_json *a, int64_t n, float *out)
{
    if (btfm_json_kind_of(a) != BTFM_JSON_ARRAY || (int64_t)btfm_json_length(a) != n)
        return BTFM_E_FORMAT;
    for (int64_t k = 0; k < n; k++) {
        double v = btfm_json_number(btfm_json_at(a, (size_t)k));
        if (!isfinite(v)) return BTFM_E_FORMAT;
        out[k] = (float)v;
    }
    return BTFM_OK;
}

static btfm_status read_entry(const char *dir, const char *index, int64_t i, const btfm_json *e,
                              corpus_rec *r)
{
    const char *id = btfm_json_string(btfm_json_get(e, "id"));
    const char *file = btfm_json_string(btfm_json_get(e, "file"));
    const char *dtype = btfm_json_string(btfm_json_get(e, "dtype"));
    const char *subject = btfm_json_string(btfm_json_get(e, "subject"));
    const char *session = btfm_json_string(btfm_json_get(e, "session"));
    const btfm_json *shape = btfm_json_get(e, "shape");
    if (!id || !file || !dtype || !subject || !session || btfm_json_length(shape) != 2)
        return bad_entry(index, i, "id, file, dtype, subject, session and shape are required");
    double n_times = btfm_json_number(btfm_json_at(shape, 0));
    double n_channels = btfm_json_number(btfm_json_at(shape, 1));
    r->sfreq = btfm_json_number(btfm_json_get(e, "sfreq"));
    if (!(n_times >= 0 && n_times < 1e15 && n_times == floor(n_times)) ||
        !(n_channels >= 1 && n_channels < 1e6 && n_channels == floor(n_channels)) ||
        !(r->sfreq > 0 && isfinite(r->sfreq)))
        return bad_entry(index, i, "shape must be two whole numbers and sfreq positive");
    r->n_times = (int64_t)n_times;
    r->n_channels = (int)n_channels;
    if (strcmp(dtype, "int16") == 0) r->dtype = BTFM_CORPUS_INT16;
    else if (strcmp(dtype, "float16") == 0) r->dtype = BTFM_CORPUS_FLOAT16;
    else return bad_entry(index, i, "dtype must be int16 or float16");
    int C = r->n_channels;
    if (!(r->id = btfm_strdup(id)) || !(r->group[0] = btfm_strdup(subject)) ||
        !(r->group[1] = join(subject, "/", session)) || !(r->group[2] = btfm_strdup(id)) ||
        !(r->channel_ids = btfm_calloc((size_t)C, sizeof *r->channel_ids)) ||
        !(r->positions = btfm_malloc((size_t)C * 3 * sizeof *r->positions)))
        return btfm_fail_nomem("corpus", 0);
    if (r->dtype == BTFM_CORPUS_INT16) {
        if (!(r->scale = btfm_malloc((size_t)C * sizeof *r->scale))) return btfm_fail_nomem("corpus", 0);
        if (read_floats(btfm_json_get(e, "scale"), C, r->scale))
            return bad_entry(index, i, "scale must hold one finite number a channel");
    }
    const btfm_json *pos = btfm_json_get(e, "channel_positions");
    for (int c = 0; c < C; c++) {
        const btfm_json *p = btfm_json_at(pos, (size_t)c);
        if (read_floats(p, 3, r->positions + 3 * c))
            for (int k = 0; k < 3; k++) r->positions[3 * c + k] = NAN;
    }
    const btfm_json *ev = btfm_json_get(e, "events");
    const btfm_json *onsets = btfm_json_get(ev, "onset"), *labels = btfm_json_get(ev, "label");
    r->n_events = (int64_t)btfm_json_length(onsets);
    if ((int64_t)btfm_json_length(labels) != r->n_events)
        return bad_entry(index, i, "events.onset and events.label differ in length");
    if (r->n_events) {
        r->event_onsets = btfm_malloc((size_t)r->n_events * sizeof *r->event_onsets);
        r->event_labels = btfm_calloc((size_t)r->n_events, sizeof *r->event_labels);
        if (!r->event_onsets || !r->event_labels) return btfm_fail_nomem("corpus", 0);
        for (int64_t k = 0; k < r->n_events; k++) {
            double o = btfm_json_number(btfm_json_at(onsets, (size_t)k));
            const char *l = btfm_json_string(btfm_json_at(labels, (size_t)k));
            if (!isfinite(o) || !l) return bad_entry(index, i, "an event without onset or label");
            r->event_onsets[k] = (int64_t)o;
            if (!(r->event_labels[k] = btfm_strdup(l))) return btfm_fail_nomem("corpus", 0);
        }
    }
    const btfm_json *bads = btfm_json_get(e, "bad_segments");
    r->n_bad = (int64_t)btfm_json_length(bads);
    if (r->n_bad) {
        if (!(r->bad = btfm_malloc((size_t)r->n_bad * 2 * sizeof *r->bad)))
            return btfm_fail_nomem("corpus", 0);
        for (int64_t k = 0; k < r->n_bad; k++) {
            const btfm_json *seg = btfm_json_at(bads, (size_t)k);
            double a = btfm_json_number(btfm_json_at(seg, 0)), b = btfm_json_number(btfm_json_at(seg, 1));
            if (!isfinite(a) || !isfinite(b)) return bad_entry(index, i, "a bad segment is not two numbers");
            r->bad[2 * k] = (int64_t)a, r->bad[2 * k + 1] = (int64_t)b;
        }
    }
    return map_binary(dir, index, i, r, file);
}

static btfm_status vocabulary(const btfm_json *list, corpus_rec *recs, int64_t n_recs,
                              char ***names_out, int *n_names)
{
    int64_t total = 0;
    for (int64_t i = 0; i < n_recs; i++) total += recs[i].n_channels;
    char **names = btfm_calloc((size_t)(total > 0 ? total : 1), sizeof *names);
    if (!names) return btfm_fail_nomem("corpus", 0);
    int64_t n = 0;
    for (int64_t i = 0; i < n_recs; i++) {
        const btfm_json *ch = btfm_json_get(btfm_json_at(list, (size_t)i), "channel_names");
        for (int c = 0; c < recs[i].n_channels; c++) {
            const char *s = btfm_json_string(btfm_json_at(ch, (size_t)c));
            if (!(names[n++] = btfm_strdup(s ? s : ""))) {
                btfm_corpus_close_index(NULL, 0, names, (int)n);
                return btfm_fail_nomem("corpus", 0);
            }
        }
    }
    qsort(names, (size_t)n, sizeof *names, compare_strings);
    int64_t u = 0;
    for (int64_t k = 0; k < n; k++) {
        if (u && strcmp(names[u - 1], names[k]) == 0) btfm_free(names[k]);
        else names[u++] = names[k];
    }
    for (int64_t i = 0; i < n_recs; i++) {
        const btfm_json *ch = btfm_json_get(btfm_json_at(list, (size_t)i), "channel_names");
        for (int c = 0; c < recs[i].n_channels; c++) {
            const char *s = btfm_json_string(btfm_json_at(ch, (size_t)c));
            const char *key = s ? s : "";
            char **hit = bsearch(&key, names, (size_t)u, sizeof *names, compare_strings);
            recs[i].channel_ids[c] = (int32_t)(hit - names);
        }
    }
    *names_out = names;
    *n_names = (int)u;
    return BTFM_OK;
}

btfm_status btfm_corpus_open_index(const char *dir, corpus_rec **recs_out, int64_t *n_recs_out,
                        char ***names, int *n_names)
{
    char *index = join(dir, "/", CORPUS_INDEX);
    if (!index) return btfm_fail_nomem("corpus", 0);
    btfm_json *root = NULL;
    corpus_rec *recs = NULL;
    int64_t n = 0;
    btfm_status st = btfm_json_read_file(&root, index);
    if (st == BTFM_E_NOTFOUND)
        st = btfm_fail(st, "corpus: %s: no index (build the corpus with btfm corpus build, "
                       "or merge it with btfm_corpus_merge)", index);
    const char *format = st ? NULL : btfm_json_string(btfm_json_get(root, "format"));
    double version = st ? 0 : btfm_json_number(btfm_json_get(root, "format_version"));
    const btfm_json *list = st ? NULL : btfm_json_get(root, "recordings");
    if (st == BTFM_OK && (!format || strcmp(format, CORPUS_FORMAT) != 0))
        st = btfm_fail(BTFM_E_KIND, "corpus: %s is not a corpus index (its \"format\" is not "
                       "\"%s\")", index, CORPUS_FORMAT);
    else if (st == BTFM_OK && version != CORPUS_FORMAT_VERSION)
    {
        const char *by = btfm_json_string(btfm_json_get(root, "library_version"));
        st = btfm_fail(BTFM_E_VERSION, "corpus: %s has format version %g (written by libbtfm "
                       "%s); this library reads version %d: rebuild the corpus", index, version,
                       by ? by : "?", CORPUS_FORMAT_VERSION);
    }
    else if (st == BTFM_OK && btfm_json_kind_of(list) != BTFM_JSON_ARRAY)
        st = btfm_fail(BTFM_E_FORMAT, "corpus: %s: \"recordings\" must be an array", index);
    if (st == BTFM_OK) {
        n = (int64_t)btfm_json_length(list);
        if (n == 0) st = btfm_fail(BTFM_E_NOTFOUND, "corpus: %s lists no recording", index);
        else if (!(recs = btfm_calloc((size_t)n, sizeof *recs))) st = btfm_fail_nomem("corpus", 0);
    }
    for (int64_t i = 0; st == BTFM_OK && i < n; i++)
        st = read_entry(dir, index, i, btfm_json_at(list, (size_t)i), &recs[i]);
    if (st == BTFM_OK) st = vocabulary(list, recs, n, names, n_names);
    btfm_json_free(root);
    btfm_free(index);
    if (st) {
        btfm_corpus_close_index(recs, n, NULL, 0);
        return st;
    }
    *recs_out = recs;
    *n_recs_out = n;
    return BTFM_OK;
}
