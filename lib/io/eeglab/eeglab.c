/* EEGLAB datasets: a .set MAT-file (level 5) holding the EEG structure, with the samples
 * inside it or in a .fdt file beside it. Read by the rules of MNE's read_raw_eeglab
 * (mne/io/eeglab/eeglab.py): samples in µV, event latencies 1-based in samples, channel
 * positions in mm with EEGLAB's x towards the nose, turned into MNE's head frame. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/number.h"
#include "core/read_file.h"
#include "eeglab_internal.h"
#ifdef BTFM_HAVE_HDF5
#include "io/hdf5/h5_internal.h"
#include "mat73.h"
#endif

#define CHUNK_ROWS 4096

typedef struct eeglab_state {
    int fd;          /* the .fdt file, -1 when the samples are in the .set */
    float *samples;  /* the .set's samples, n_times x n_channels, in µV */
} eeglab_state;

/* Rows [first, first + n) of the stored µV values, into rows (n x n_channels floats). */
static btfm_status stored_rows(btfm_dataset *ds, int64_t first, int64_t n, float *rows)
{
    eeglab_state *s = ds->state;
    size_t row = (size_t)ds->n_channels;
    if (s->samples) {
        memcpy(rows, s->samples + (size_t)first * row, (size_t)n * row * sizeof *rows);
        return BTFM_OK;
    }
    unsigned char *p = (unsigned char *)rows;
    size_t left = (size_t)n * row * 4;
    off_t at = (off_t)((size_t)first * row * 4);
    while (left > 0) {
        ssize_t got = pread(s->fd, p, left, at);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0)
            return btfm_fail(got < 0 ? BTFM_E_IO : BTFM_E_TRUNCATED, "eeglab: %s: the .fdt "
                             "data read at byte %lld failed: %s", ds->path, (long long)at,
                             got < 0 ? strerror(errno) : "the file ends early (truncated after "
                             "opening?)");
        p += got;
        left -= (size_t)got;
        at += got;
    }
    /* .fdt files are little-endian float32 */
    for (size_t i = 0; i < (size_t)n * row; i++) {
        const unsigned char *b = (const unsigned char *)(rows + i);
        uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
        memcpy(rows + i, &u, 4);
    }
    return BTFM_OK;
}

/* Calls `take` on consecutive chunks of stored rows of the window. */
static btfm_status over_rows(btfm_dataset *ds, int64_t first, int64_t count,
                             void (*take)(void *, const btfm_dataset *, int64_t, int64_t,
                                          const float *),
                             void *user)
{
    int64_t chunk = count < CHUNK_ROWS ? count : CHUNK_ROWS;
    size_t bytes = (size_t)(chunk > 0 ? chunk : 1) * (size_t)ds->n_channels * sizeof(float);
    float *rows = btfm_malloc(bytes);
    if (!rows) return btfm_fail_nomem("eeglab read", bytes);
    btfm_status st = BTFM_OK;
    for (int64_t done = 0; !st && done < count; done += chunk) {
        int64_t n = count - done < chunk ? count - done : chunk;
        if (!(st = stored_rows(ds, first + done, n, rows))) take(user, ds, done, n, rows);
    }
    btfm_free(rows);
    return st;
}

typedef struct digital { int ch; double *out; } digital;

static void take_digital(void *user, const btfm_dataset *ds, int64_t done, int64_t n,
                         const float *rows)
{
    digital *d = user;
    for (int64_t r = 0; r < n; r++) d->out[done + r] = rows[(size_t)r * (size_t)ds->n_channels + (size_t)d->ch];
}

static btfm_status eeglab_read_digital(btfm_dataset *ds, int ch, int64_t first, int64_t count,
                                       double *out)
{
    digital d = {ch, out};
    return over_rows(ds, first, count, take_digital, &d);
}

typedef struct block { const int *picks; int n_picks; size_t stride; float *out; } block;

static void take_block(void *user, const btfm_dataset *ds, int64_t done, int64_t n,
                       const float *rows)
{
    block *b = user;
    for (int64_t r = 0; r < n; r++) {
        const float *in = rows + (size_t)r * (size_t)ds->n_channels;
        float *o = b->out + (size_t)(done + r) * b->stride;
        for (int j = 0; j < b->n_picks; j++)
            o[j] = (float)(in[b->picks[j]] * ds->channels[b->picks[j]].gain);
    }
}

static btfm_status eeglab_read_block(btfm_dataset *ds, int64_t first, int64_t count,
                                     const int *picks, int n_picks, size_t stride, float *out)
{
    block b = {picks, n_picks, stride, out};
    return over_rows(ds, first, count, take_block, &b);
}

static void eeglab_close(btfm_dataset *ds)
{
    eeglab_state *s = ds->state;
    if (!s) return;
    if (s->fd >= 0) close(s->fd);
    btfm_free(s->samples);
    btfm_free(s);
    ds->state = NULL;
}

static const btfm_io_driver eeglab_driver = {"eeglab", eeglab_read_digital, eeglab_read_block,
                                             eeglab_close};

/* ---- the samples ---- */

/* The .fdt beside the .set: `name` as EEG.data gives it (relative to the .set's folder),
 * else the .set's own stem with .fdt (files renamed on disk), as MNE looks. */
static btfm_status open_fdt(const char *set, const char *name, int64_t n_values, int *fd)
{
    size_t dir = strrchr(set, '/') ? (size_t)(strrchr(set, '/') - set) + 1 : 0;
    size_t n = strlen(set) + (name ? strlen(name) : 0) + 8;
    char *named = NULL, *stem = btfm_malloc(n);
    if (!stem) return btfm_fail_nomem("eeglab path", n);
    size_t stem_len = strlen(set) > 4 ? strlen(set) - 4 : strlen(set);
    memcpy(stem, set, stem_len);
    strcpy(stem + stem_len, ".fdt");
    if (name && *name && name[0] != '/') {
        if ((named = btfm_malloc(n))) {
            memcpy(named, set, dir);
            strcpy(named + dir, name);
        }
    } else if (name && *name) {
        named = btfm_malloc(strlen(name) + 1);
        if (named) strcpy(named, name);
    }
    const char *path = named && access(named, F_OK) == 0 ? named : stem;
    btfm_status st = BTFM_OK;
    if (named && path == stem && access(stem, F_OK) == 0)
        btfm_warn("eeglab: %s: EEG.data names %s, which does not exist; reading %s", set,
                  named, stem);
    if ((*fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        st = btfm_fail(errno == ENOENT ? BTFM_E_NOTFOUND : BTFM_E_IO, "eeglab: %s: the data "
                       "file %s%s%s cannot be opened: %s", set, named ? named : "",
                       named ? " (or " : "", named ? stem : stem, strerror(errno));
        if (named) btfm_fail(st, "%s)", btfm_last_error());
    } else {
        struct stat sb;
        int64_t want = n_values * 4;
        if (fstat(*fd, &sb) != 0)
            st = btfm_fail(BTFM_E_IO, "eeglab: %s: %s", path, strerror(errno));
        else if ((int64_t)sb.st_size < want)
            st = btfm_fail(BTFM_E_TRUNCATED, "eeglab: %s: %lld bytes; nbchan x pnts x trials "
                           "float32 values need %lld", path, (long long)sb.st_size,
                           (long long)want);
        else if ((int64_t)sb.st_size > want)
            btfm_warn("eeglab: %s: %lld bytes, more than the %lld that nbchan x pnts x trials "
                      "float32 values need; the rest is ignored", path, (long long)sb.st_size,
                      (long long)want);
        if (st) {
            close(*fd);
            *fd = -1;
        }
    }
    btfm_free(named);
    btfm_free(stem);
    return st;
}

/* Samples stored in the .set: nbchan x (pnts x trials), column-major, so channel fastest:
 * the time-major layout as it stands. */
static btfm_status copy_samples(const btfm_mat_file *f, const btfm_mat *data, float **out)
{
    size_t bytes = (size_t)(data->n > 0 ? data->n : 1) * sizeof **out;
    if (!(*out = btfm_malloc(bytes))) return btfm_fail_nomem("eeglab samples", bytes);
    for (int64_t i = 0; i < data->n; i++) (*out)[i] = (float)btfm_mat_number(f, data, i);
    return BTFM_OK;
}

static btfm_status load_samples(btfm_dataset *ds, const btfm_eeglab *e, eeglab_state *s)
{
    int64_t want = (int64_t)e->nbchan * e->pnts * e->trials;
    const btfm_mat *data = e->data;
    if (data && btfm_mat_is_numeric(data) && data->n > 0) {
        if (data->n != want)
            return btfm_fail(BTFM_E_FORMAT, "eeglab: %s: EEG.data holds %lld values; expected "
                             "nbchan %d x pnts %lld x trials %lld", ds->path, (long long)data->n,
                             e->nbchan, (long long)e->pnts, (long long)e->trials);
        return copy_samples(&e->mat, data, &s->samples);
    }
    const char *name = data && data->cls == BTFM_MAT_CHAR ? data->text : NULL;
    size_t len = name ? strlen(name) : 0;
    if (len >= 4 && strcmp(name + len - 4, ".dat") == 0)
        return btfm_fail(BTFM_E_UNSUPPORTED, "eeglab: %s: EEG.data names %s, an old .dat data "
                         "file; re-save the dataset with a current EEGLAB (.fdt)", ds->path, name);
    return open_fdt(ds->path, name, want, &s->fd);
}

/* ---- channels and events ---- */

static btfm_status fill_channels(btfm_dataset *ds, const btfm_eeglab *e)
{
    int64_t n_times = e->pnts * e->trials;
    for (int i = 0; i < ds->n_channels; i++) {
        btfm_channel *c = &ds->channels[i];
        btfm_eeglab_channel info;
        btfm_status st = btfm_eeglab_channel_info(e, i, &info);
        if (st) return st;
        if ((st = btfm_io_strdup(&c->name, info.label, strlen(info.label))) ||
            (st = btfm_io_strdup(&c->unit, "V", 1)) ||
            (st = btfm_io_strdup(&c->stored_unit, "uV", 2)) ||
            (st = btfm_io_strdup(&c->transducer, "", 0)) || (st = btfm_io_strdup(&c->prefilter, "", 0)))
            return st;
        c->type = info.type;
        c->rate = e->srate;
        c->n_samples = n_times;
        c->samples_per_record = n_times > INT32_MAX ? INT32_MAX : (int)n_times;
        c->gain = 1e-6; /* MNE's CAL: EEGLAB stores µV */
        if (info.has_position) {
            /* EEGLAB: x to the nose, y to the left ear, mm; MNE's head frame: x to the
             * right ear, y to the nose, m. */
            double head[3] = {-info.xyz[1] * 1e-3, info.xyz[0] * 1e-3, info.xyz[2] * 1e-3};
            if ((st = btfm_dataset_set_channel_position(ds, i, head))) return st;
        }
    }
    return ds->positions ? btfm_dataset_set_coordinate_frame(ds, "head") : BTFM_OK;
}

static btfm_status add_events(btfm_dataset *ds, const btfm_eeglab *e)
{
    for (int64_t i = 0; i < btfm_eeglab_n_events(e); i++) {
        btfm_eeglab_event ev;
        btfm_eeglab_event_info(e, i, &ev);
        if (!isfinite(ev.latency)) continue; /* MNE drops events without a latency */
        btfm_status st = btfm_dataset_append_event(ds, (ev.latency - 1) / e->srate,
                                                   ev.duration / e->srate, "event", ev.label,
                                                   ev.code);
        if (st) return st;
    }
    /* Epoched datasets: one event an epoch, so epochs can be cut again (tmin = xmin). */
    for (int64_t k = 0; e->trials > 1 && k < e->trials; k++) {
        char label[32];
        btfm_snprintf_c(label, sizeof label, "epoch %lld", (long long)(k + 1));
        btfm_status st = btfm_dataset_append_event(ds, (double)(k * e->pnts) / e->srate,
                                                   (double)e->pnts / e->srate, "epoch", label,
                                                   (int)(k + 1 > INT32_MAX ? INT32_MAX : k + 1));
        if (st) return st;
    }
    return BTFM_OK;
}

/* A v7.3 .set: the HDF5 file's variables into e->mat, then the EEG structure. */
static btfm_status parse_v73(btfm_eeglab *e, const char *path)
{
    memset(e, 0, sizeof *e);
#ifdef BTFM_HAVE_HDF5
    btfm_h5_guard g;
    btfm_h5_enter(&g);
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    btfm_status st;
    if (file < 0) {
        btfm_h5_where w = {"eeglab", path};
        st = btfm_h5_fail(&w, BTFM_E_FORMAT, NULL, "the header of a MATLAB v7.3 MAT-file, "
                          "but not an HDF5 file, or a damaged one");
    } else {
        st = btfm_mat73_read(&e->mat, file, path);
        H5Fclose(file);
    }
    btfm_h5_leave(&g);
    return st ? st : btfm_eeglab_from_mat(e, path);
#else
    return btfm_fail(BTFM_E_UNSUPPORTED, "eeglab: %s: a MATLAB v7.3 (HDF5) .set file, and this "
                     "build has no HDF5 (meson feature 'snirf'); re-save it in EEGLAB as "
                     "MATLAB v6/v7 (pop_saveset(EEG, 'version', '7')) or rebuild with HDF5",
                     path);
#endif
}

/* Whether the file (a regular one: FIFOs and devices are refused) starts with the text
 * of a v7.3 MAT header. */
static btfm_status peek_v73(const char *path, int *v73)
{
    *v73 = 0;
    int fd;
    btfm_status st = btfm_open_regular(path, "eeglab", &fd);
    if (st) return st;
    unsigned char head[32];
    ssize_t got = read(fd, head, sizeof head);
    close(fd);
    *v73 = got > 0 && btfm_eeglab_is_v73(head, (size_t)got);
    return BTFM_OK;
}

btfm_status btfm_eeglab_open(btfm_dataset **out, const char *path, unsigned flags)
{
    (void)flags;
    *out = NULL;
    char *bytes = NULL;
    size_t len = 0;
    int v73 = 0;
    btfm_status st = peek_v73(path, &v73);
    btfm_eeglab e;
    memset(&e, 0, sizeof e);
    if (!st && v73) st = parse_v73(&e, path);
    else if (!st && !(st = btfm_read_file(path, "eeglab", SIZE_MAX / 2, &bytes, &len)))
        st = btfm_eeglab_parse(&e, (const unsigned char *)bytes, len, path);
    if (st) {
        btfm_free(bytes);
        return st;
    }
    eeglab_state *s = NULL;
    btfm_dataset *ds = NULL;
    if (!(s = btfm_calloc(1, sizeof *s))) st = btfm_fail_nomem("eeglab", sizeof *s);
    if (s) s->fd = -1;
    if (!st) st = btfm_dataset_alloc(&ds, path, BTFM_FORMAT_EEGLAB, e.nbchan);
    if (st) {
        ds = NULL;
        btfm_free(s);
    } else {
        ds->driver = &eeglab_driver;
        ds->state = s;
        ds->sfreq = e.srate;
        st = load_samples(ds, &e, s);
        if (!st) st = fill_channels(ds, &e);
        if (!st) st = add_events(ds, &e);
        if (!st) st = btfm_dataset_finish(ds);
    }
    btfm_eeglab_clear(&e);
    btfm_free(bytes);
    if (st) {
        btfm_dataset_free(ds);
        return st;
    }
    *out = ds;
    return BTFM_OK;
}
