/* Where a session goes: a temporary folder beside the one asked for, renamed into place
 * when every file is written (removed after a failure or a cancellation), and the
 * helpers that write its tables and JSON files. */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "bids/bids_internal.h"
#include "core/number.h"
#include "sim_internal.h"

/* 1 when `path` is a folder with no entries. */
static int empty_folder(const char *path)
{
    DIR *d = opendir(path);
    if (!d) return 0;
    int empty = 1;
    struct dirent *e;
    while (empty && (e = readdir(d)) != NULL)
        empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    closedir(d);
    return empty;
}

btfm_status btfm_sim_output_begin(sim_output *o, const char *out_dir, const char *func)
{
    memset(o, 0, sizeof *o);
    if (!*out_dir) return btfm_fail(BTFM_E_INVALID, "%s: the output folder name is empty", func);
    struct stat sb;
    if (stat(out_dir, &sb) == 0 && !(S_ISDIR(sb.st_mode) && empty_folder(out_dir)))
        return btfm_fail(BTFM_E_INVALID, "%s: %s exists and is not an empty folder; give a new "
                         "folder (a session is never written over other files)", func, out_dir);
    size_t n = strlen(out_dir);
    while (n > 1 && out_dir[n - 1] == '/') n--; /* "out/" names the folder "out" */
    o->final = btfm_malloc(n + 1);
    o->root = btfm_malloc(n + 32);
    if (!o->final || !o->root) {
        btfm_sim_output_abort(o);
        return btfm_fail_nomem(func, n + 32);
    }
    memcpy(o->final, out_dir, n);
    o->final[n] = '\0';
    /* A fresh name made with mkdir (not mkdtemp, whose 0700 would ignore the umask). */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int made = 0;
    for (int attempt = 0; attempt < 100 && !made; attempt++) {
        unsigned k = (unsigned)now.tv_nsec + (unsigned)attempt * 7919u;
        snprintf(o->root, n + 32, "%s.tmp-%ld-%u", o->final, (long)getpid(), k);
        made = mkdir(o->root, 0777) == 0;
        if (!made && errno != EEXIST) break;
    }
    if (!made) {
        btfm_status st = btfm_fail(BTFM_E_IO, "%s: cannot create a folder beside %s (%s): %s",
                                   func, o->final, o->root, strerror(errno));
        btfm_free(o->root);
        o->root = NULL; /* not ours: never removed */
        btfm_sim_output_abort(o);
        return st;
    }
    return BTFM_OK;
}

btfm_status btfm_sim_output_commit(sim_output *o)
{
    if (empty_folder(o->final)) rmdir(o->final);
    if (rename(o->root, o->final) != 0)
        return btfm_fail(BTFM_E_IO, "cannot rename the finished session %s to %s: %s", o->root,
                         o->final, strerror(errno));
    btfm_free(o->root);
    btfm_free(o->final);
    o->root = o->final = NULL;
    return BTFM_OK;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void btfm_sim_output_abort(sim_output *o)
{
    if (o->root) nftw(o->root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    btfm_free(o->root);
    btfm_free(o->final);
    o->root = o->final = NULL;
}

char *btfm_sim_path(const sim_output *o, const char *relative)
{
    size_t n = strlen(o->root) + strlen(relative) + 2;
    char *p = btfm_malloc(n);
    if (p) snprintf(p, n, "%s/%s", o->root, relative);
    return p;
}

btfm_status btfm_sim_make_dirs(const sim_output *o, const char *relative)
{
    char *path = btfm_sim_path(o, relative);
    if (!path) return btfm_fail_nomem("sim", strlen(relative));
    btfm_status st = BTFM_OK;
    for (char *p = path + strlen(o->root) + 1;; p++) {
        if (*p != '/' && *p) continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST) {
            st = btfm_fail(BTFM_E_IO, "sim: cannot create the folder %s: %s", path, strerror(errno));
            break;
        }
        *p = saved;
        if (!saved) break;
    }
    btfm_free(path);
    return st;
}

/* ---- cells, tables, JSON ---- */

const char *btfm_sim_cell(double value, char *buf)
{
    if (value != value) return "n/a";
    btfm_format_double(value, buf);
    if (strchr(buf, 'e') && value == nearbyint(value) && fabs(value) < 1e15)
        snprintf(buf, 32, "%.0f", value); /* no decimal point: locale-independent */
    return buf;
}

double btfm_sim_round6(double value)
{
    return nearbyint(value * 1e6) / 1e6;
}

btfm_status btfm_sim_table_new(sim_table *st, const char *const *columns, int n_columns)
{
    st->n_columns = n_columns;
    return btfm_table_new(&st->t, columns, n_columns);
}

btfm_status btfm_sim_table_row(sim_table *st, const double *cells, const char *const *texts)
{
    enum { MAX_COLUMNS = 160 };
    char buf[MAX_COLUMNS][32];
    const char *row[MAX_COLUMNS];
    if (st->n_columns > MAX_COLUMNS)
        return btfm_fail(BTFM_E_INTERNAL, "sim: a table of %d columns", st->n_columns);
    for (int j = 0; j < st->n_columns; j++)
        row[j] = texts && texts[j] ? texts[j] : btfm_sim_cell(cells[j], buf[j]);
    return btfm_table_add_row(st->t, row);
}

btfm_status btfm_sim_table_save(sim_table *st, const sim_output *o, const char *relative)
{
    char *path = btfm_sim_path(o, relative);
    btfm_status st_ = path ? btfm_table_save(st->t, path) : btfm_fail_nomem("sim", 64);
    btfm_free(path);
    btfm_sim_table_free(st);
    return st_;
}

void btfm_sim_table_free(sim_table *st)
{
    btfm_table_free(st->t);
    st->t = NULL;
}

btfm_status btfm_sim_tsv_open(sim_tsv *t, const sim_output *o, const char *relative,
                         const char *const *columns, int n_columns)
{
    t->open = 0;
    char *path = btfm_sim_path(o, relative);
    if (!path) return btfm_fail_nomem("sim", 64);
    btfm_status st = btfm_atomic_open(&t->af, path, 0);
    btfm_free(path);
    if (st) return st;
    t->open = 1;
    for (int j = 0; j < n_columns; j++) fprintf(t->af.fp, "%s%s", j ? "\t" : "", columns[j]);
    fputc('\n', t->af.fp);
    return BTFM_OK;
}

void btfm_sim_tsv_row(sim_tsv *t, const char *text, const double *values, int n_values)
{
    char buf[32];
    if (text) fputs(text, t->af.fp);
    for (int j = 0; j < n_values; j++)
        fprintf(t->af.fp, "%s%s", j || text ? "\t" : "", btfm_sim_cell(values[j], buf));
    fputc('\n', t->af.fp);
}

btfm_status btfm_sim_tsv_close(sim_tsv *t)
{
    if (!t->open) return BTFM_OK;
    t->open = 0;
    if (ferror(t->af.fp)) {
        btfm_status st = btfm_fail(BTFM_E_IO, "sim: writing %s failed", t->af.path);
        btfm_atomic_abort(&t->af);
        return st;
    }
    return btfm_atomic_commit(&t->af);
}

void btfm_sim_tsv_abort(sim_tsv *t)
{
    if (t->open) btfm_atomic_abort(&t->af);
    t->open = 0;
}

btfm_status btfm_sim_json_save(btfm_json *j, const sim_output *o, const char *relative)
{
    char *path = btfm_sim_path(o, relative);
    btfm_status st = path ? btfm_json_write_file(j, path) : btfm_fail_nomem("sim", 64);
    btfm_free(path);
    btfm_json_free(j);
    return st;
}

btfm_status btfm_sim_params_json(const btfm_sim *sim, btfm_json **out)
{
    btfm_status st = btfm_json_new_object(out);
    for (int i = 0; !st && i < sim->table->count; i++)
        if (strcmp(sim->table->defs[i].name, "num_threads") != 0) /* never changes the files */
            st = btfm_json_set_number(*out, sim->table->defs[i].name, sim->params[i]);
    if (st) {
        btfm_json_free(*out);
        *out = NULL;
    }
    return st;
}

btfm_status btfm_sim_truth_description(const btfm_sim *sim, const sim_output *o)
{
    btfm_json *params = NULL;
    char *root = btfm_sim_path(o, "derivatives/truth");
    btfm_status st = root ? btfm_sim_make_dirs(o, "derivatives/truth") : btfm_fail_nomem("sim", 64);
    if (!st) st = btfm_bids_write_description(root, "ground truth", "derivative");
    btfm_free(root);
    if (!st) st = btfm_sim_params_json(sim, &params);
    if (!st) st = btfm_sim_json_save(params, o, "derivatives/truth/parameters.json");
    return st;
}

int btfm_sim_threads(double num_threads)
{
    long n = (long)num_threads;
    if (n <= 0) {
        const char *env = getenv("BTFM_NUM_THREADS");
        n = env && *env ? strtol(env, NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);
    }
    if (n < 1) n = 1;
    return n > 16 ? 16 : (int)n;
}
