/* What a FIF file says about its processing, reported and never applied: SSP projectors
 * (with their vectors and whether they were active), the processing history (MaxFilter
 * records), CTF compensation, filters, the first sample, and MNE annotations as events.
 * All of it lands in the dataset's metadata under "fif". */
#include <math.h>
#include <string.h>
#include "core/json.h"
#include "fif_internal.h"

static const char *name_of(const fif_file *f) { return f->path ? f->path : "fif"; }

/* A string tag of `kind` in block `b` as a member of `obj` (absent tag: nothing). */
static btfm_status copy_string(btfm_json *obj, const char *key, const fif_file *f,
                               const fif_tree *t, int32_t b, int32_t kind)
{
    const fif_tag *tag = btfm_fif_find_tag(t, b, kind);
    if (!tag) return BTFM_OK;
    char *s;
    btfm_status st = btfm_fif_read_string(f, tag, &s);
    if (st) return st;
    st = btfm_json_set_string(obj, key, s);
    btfm_free(s);
    return st;
}

static btfm_status copy_number(btfm_json *obj, const char *key, const fif_file *f,
                               const fif_tree *t, int32_t b, int32_t kind)
{
    const fif_tag *tag = btfm_fif_find_tag(t, b, kind);
    if (!tag) return BTFM_OK;
    double v;
    int32_t i;
    btfm_status st = tag->type == FIFFT_INT ? btfm_fif_read_int(f, tag, &i) : btfm_fif_read_double(f, tag, &v);
    if (st) return st;
    if (tag->type == FIFFT_INT) v = i;
    return isfinite(v) ? btfm_json_set_number(obj, key, v) : BTFM_OK;
}

/* Split "a:b:c" into a JSON array of strings (MNE's name lists), with the 15-character
 * names of channels that have long names (extended channel info) given in full. */
static btfm_status name_list(btfm_json **out, char *list, const fif_info *info)
{
    btfm_json *arr;
    btfm_status st = btfm_json_new_array(&arr);
    for (char *name = list, *end; !st && *name; name = *end ? end + 1 : end) {
        end = strchr(name, ':');
        if (!end) end = name + strlen(name);
        char saved = *end;
        *end = '\0';
        const char *full = name;
        for (int i = 0; i < info->n_channels; i++)
            if (info->channels[i].long_name && strcmp(info->channels[i].name, name) == 0)
                full = info->channels[i].long_name;
        btfm_json *s;
        if (!(st = btfm_json_new_string(&s, full))) st = btfm_json_append(arr, s);
        *end = saved;
    }
    if (st) {
        btfm_json_free(arr);
        return st;
    }
    *out = arr;
    return BTFM_OK;
}

/* The rows of a float matrix tag as arrays of numbers. */
static btfm_status matrix_rows(btfm_json **out, const fif_file *f, const fif_tag *tag,
                               int32_t *rows, int32_t *cols)
{
    btfm_status st = btfm_fif_matrix_dims(f, tag, rows, cols);
    if (st) return st;
    int64_t n = (int64_t)*rows * *cols;
    double *v = btfm_malloc((size_t)(n ? n : 1) * sizeof *v);
    if (!v) return btfm_fail_nomem("fif projector", (size_t)n * sizeof *v);
    fif_tag plain = *tag; /* the values without the dimension trailer */
    plain.type = tag->type & 0xFFFF;
    plain.size = (int32_t)(tag->size - 12);
    if (plain.type == FIFFT_INT) st = btfm_fail(BTFM_E_FORMAT, "fif: %s: projector vectors at byte "
                                                "%lld are integers", name_of(f), (long long)tag->pos);
    if (!st && n) st = btfm_fif_read_floats(f, &plain, v, n);
    btfm_json *arr = NULL;
    if (!st) st = btfm_json_new_array(&arr);
    for (int32_t r = 0; !st && r < *rows; r++) {
        btfm_json *row;
        if (!(st = btfm_json_new_array(&row))) st = btfm_json_append(arr, row);
        for (int32_t c = 0; !st && c < *cols; c++) {
            btfm_json *x;
            if (!(st = btfm_json_new_number(&x, v[(size_t)r * (size_t)*cols + (size_t)c]))) st = btfm_json_append(row, x);
        }
    }
    btfm_free(v);
    if (st) {
        btfm_json_free(arr);
        return st;
    }
    *out = arr;
    return BTFM_OK;
}

static btfm_status projector(btfm_json **out, const fif_info *info, const fif_file *f,
                             const fif_tree *t, int32_t b)
{
    btfm_json *p;
    btfm_status st = btfm_json_new_object(&p);
    if (st) return st;
    if (!btfm_fif_find_tag(t, b, FIFF_COMMENT)) st = copy_string(p, "description", f, t, b, FIFF_NAME);
    if (!st) st = copy_string(p, "description", f, t, b, FIFF_COMMENT);
    if (!st) st = copy_number(p, "kind", f, t, b, FIFF_PROJ_ITEM_KIND);
    const fif_tag *active = btfm_fif_find_tag(t, b, FIFF_MNE_PROJ_ITEM_ACTIVE);
    int32_t is_active = 0;
    if (!st && active) st = btfm_fif_read_int(f, active, &is_active);
    if (!st) st = btfm_json_set_bool(p, "active", is_active != 0);
    const fif_tag *names = btfm_fif_find_tag(t, b, FIFF_PROJ_ITEM_CH_NAME_LIST);
    const fif_tag *vectors = btfm_fif_find_tag(t, b, FIFF_PROJ_ITEM_VECTORS);
    if (!st && (!names || !vectors))
        st = btfm_fail(BTFM_E_FORMAT, "fif: %s: projector at byte %lld has no %s", name_of(f),
                       (long long)t->blocks[b].pos, names ? "vectors" : "channel list");
    char *list = NULL;
    btfm_json *channels = NULL, *data = NULL;
    int32_t rows = 0, cols = 0;
    if (!st) st = btfm_fif_read_string(f, names, &list);
    if (!st) st = name_list(&channels, list, info);
    btfm_free(list);
    if (!st) st = matrix_rows(&data, f, vectors, &rows, &cols);
    if (!st && (size_t)cols != btfm_json_length(channels))
        st = btfm_fail(BTFM_E_FORMAT, "fif: %s: projector at byte %lld has %d columns for %zu "
                       "channels", name_of(f), (long long)t->blocks[b].pos, cols,
                       btfm_json_length(channels));
    if (!st) {
        st = btfm_json_set(p, "channels", channels);
        channels = NULL;
    }
    if (!st) st = btfm_json_set_number(p, "n_vectors", rows);
    if (!st) {
        st = btfm_json_set(p, "vectors", data);
        data = NULL;
    }
    btfm_json_free(channels);
    btfm_json_free(data);
    if (st) {
        btfm_json_free(p);
        return st;
    }
    *out = p;
    return BTFM_OK;
}

static btfm_status projectors(btfm_json *fif, const fif_info *info, const fif_file *f,
                              const fif_tree *t)
{
    int32_t proj = btfm_fif_find_block(t, FIFFB_PROJ, info->meas_block, -1);
    if (proj < 0) return BTFM_OK;
    btfm_json *arr;
    btfm_status st = btfm_json_new_array(&arr);
    for (int32_t b = btfm_fif_find_block(t, FIFFB_PROJ_ITEM, proj, -1); !st && b >= 0;
         b = btfm_fif_find_block(t, FIFFB_PROJ_ITEM, proj, b)) {
        btfm_json *p;
        if (!(st = projector(&p, info, f, t, b))) st = btfm_json_append(arr, p);
    }
    return st ? (btfm_json_free(arr), st) : btfm_json_set(fif, "projectors", arr);
}

/* Names of the MaxFilter blocks of a processing record (MNE's proc_history.py). */
static const char *record_block_name(int32_t kind)
{
    switch (kind) {
    case 501: return "sss_ctc";
    case 502: return "sss_info";
    case 503: return "sss_cal";
    case 504: return "max_st";
    case 510: return "ias";
    default: return NULL;
    }
}

static btfm_status history_record(btfm_json **out, const fif_file *f, const fif_tree *t, int32_t r)
{
    btfm_json *rec, *steps = NULL;
    btfm_status st = btfm_json_new_object(&rec);
    if (st) return st;
    st = copy_string(rec, "creator", f, t, r, FIFF_CREATOR);
    if (!st) st = copy_string(rec, "experimenter", f, t, r, FIFF_EXPERIMENTER);
    const fif_tag *date = btfm_fif_find_tag(t, r, FIFF_MEAS_DATE);
    int32_t d[2] = {0, 0};
    if (!st && date) {
        st = date->size >= 8 ? btfm_fif_read_ints(f, date, d, 2) : btfm_fif_read_int(f, date, d);
        if (!st) st = btfm_json_set_number(rec, "date", (double)d[0] + 1e-6 * d[1]);
    }
    if (!st) st = btfm_json_new_array(&steps);
    for (int32_t b = r + 1; !st && b < t->n_blocks; b++) {
        if (t->blocks[b].parent != r || !record_block_name(t->blocks[b].kind)) continue;
        btfm_json *step;
        if ((st = btfm_json_new_object(&step))) break;
        st = btfm_json_set_string(step, "block", record_block_name(t->blocks[b].kind));
        if (!st && t->blocks[b].kind == 502) {
            static const struct { const char *key; int32_t kind; } sss[] = {
                {"job", FIFF_SSS_JOB}, {"frame", FIFF_SSS_FRAME}, {"in_order", FIFF_SSS_ORD_IN},
                {"out_order", FIFF_SSS_ORD_OUT}, {"n_channels", FIFF_SSS_NMAG},
            };
            for (size_t i = 0; !st && i < sizeof sss / sizeof *sss; i++)
                st = copy_number(step, sss[i].key, f, t, b, sss[i].kind);
        }
        st = st ? (btfm_json_free(step), st) : btfm_json_append(steps, step);
    }
    if (!st) {
        st = btfm_json_set(rec, "steps", steps);
        steps = NULL;
    }
    btfm_json_free(steps);
    if (st) {
        btfm_json_free(rec);
        return st;
    }
    *out = rec;
    return BTFM_OK;
}

static btfm_status history(btfm_json *fif, const fif_file *f, const fif_tree *t)
{
    int32_t h = btfm_fif_find_block(t, FIFFB_PROCESSING_HISTORY, -1, -1);
    if (h < 0) return BTFM_OK;
    btfm_json *arr;
    btfm_status st = btfm_json_new_array(&arr);
    for (int32_t r = btfm_fif_find_block(t, FIFFB_PROCESSING_RECORD, h, -1); !st && r >= 0;
         r = btfm_fif_find_block(t, FIFFB_PROCESSING_RECORD, h, r)) {
        btfm_json *rec;
        if (!(st = history_record(&rec, f, t, r))) st = btfm_json_append(arr, rec);
    }
    return st ? (btfm_json_free(arr), st) : btfm_json_set(fif, "processing_history", arr);
}

/* CTF/4D software gradient compensation matrices: their kinds (grades). */
static btfm_status compensation(btfm_json *fif, const fif_file *f, const fif_tree *t, int32_t meas)
{
    int32_t comp = btfm_fif_find_block(t, FIFFB_MNE_CTF_COMP, meas, -1);
    if (comp < 0) return BTFM_OK;
    btfm_json *arr;
    btfm_status st = btfm_json_new_array(&arr);
    for (int32_t b = btfm_fif_find_block(t, FIFFB_MNE_CTF_COMP_DATA, comp, -1); !st && b >= 0;
         b = btfm_fif_find_block(t, FIFFB_MNE_CTF_COMP_DATA, comp, b)) {
        const fif_tag *kind = btfm_fif_find_tag(t, b, FIFF_MNE_CTF_COMP_KIND);
        int32_t k = -1;
        btfm_json *x;
        if (kind && (st = btfm_fif_read_int(f, kind, &k))) break;
        if (!(st = btfm_json_new_number(&x, k))) st = btfm_json_append(arr, x);
    }
    return st ? (btfm_json_free(arr), st) : btfm_json_set(fif, "ctf_compensation_kinds", arr);
}

/* MNE annotations: onsets (FIFF_MNE_BASELINE_MIN), ends (BASELINE_MAX), descriptions
 * (FIFF_COMMENT, colon-separated, "{COLON}" for a colon) and an optional origin time.
 * Onsets count from the measurement date (or sample 0 without one); ours from the first
 * stored sample. */
static btfm_status annotations(btfm_dataset *ds, const fif_info *info, const fif_file *f,
                               const fif_tree *t, int64_t first_samp)
{
    int32_t b = btfm_fif_find_block(t, FIFFB_MNE_ANNOTATIONS, -1, -1);
    if (b < 0) return BTFM_OK;
    const fif_tag *on = btfm_fif_find_tag(t, b, FIFF_MNE_BASELINE_MIN);
    const fif_tag *off = btfm_fif_find_tag(t, b, FIFF_MNE_BASELINE_MAX);
    const fif_tag *desc = btfm_fif_find_tag(t, b, FIFF_COMMENT);
    const fif_tag *orig = btfm_fif_find_tag(t, b, FIFF_MEAS_DATE);
    if (!on || !off || !desc) return BTFM_OK; /* MNE writes an empty block as nothing */
    int64_t n = on->size / (on->type == FIFFT_DOUBLE ? 8 : 4);
    double *x = btfm_malloc((size_t)(2 * n + 1) * sizeof *x), origin = 0;
    char *text = NULL;
    btfm_status st = x ? BTFM_OK : btfm_fail_nomem("fif annotations", (size_t)(2 * n + 1) * sizeof *x);
    if (!st) st = btfm_fif_read_floats(f, on, x, n);
    if (!st) st = btfm_fif_read_floats(f, off, x + n, n);
    if (!st) st = btfm_fif_read_string(f, desc, &text);
    if (!st && orig && info->has_meas_date) {
        double o[2] = {0, 0};
        if (orig->type == FIFFT_INT) {
            int32_t v[2] = {0, 0};
            st = orig->size >= 8 ? btfm_fif_read_ints(f, orig, v, 2) : btfm_fif_read_int(f, orig, v);
            o[0] = v[0] + 1e-6 * v[1];
        } else if (orig->size == 16) {
            fif_tag two = *orig; /* (seconds, microseconds) as doubles */
            st = btfm_fif_read_floats(f, &two, o, 2);
            o[0] += 1e-6 * o[1];
        } else {
            st = btfm_fif_read_double(f, orig, o);
        }
        origin = o[0] - info->meas_date;
    }
    double start = (double)first_samp / info->sfreq;
    char *name = text;
    for (int64_t i = 0; !st && i < n; i++) {
        char *end = name ? strchr(name, ':') : NULL;
        if (!name || (!end && i + 1 < n)) {
            st = btfm_fail(BTFM_E_FORMAT, "fif: %s: %lld annotations but fewer descriptions "
                           "(byte %lld)", name_of(f), (long long)n, (long long)desc->pos);
            break;
        }
        if (end) *end = '\0';
        /* "{COLON}" stands for ':' in descriptions */
        for (char *c; (c = strstr(name, "{COLON}")) != NULL;) {
            *c = ':';
            memmove(c + 1, c + 7, strlen(c + 7) + 1);
        }
        double onset = x[i] + origin - start, duration = x[n + i] - x[i];
        if (!isfinite(onset) || !isfinite(duration) || duration < 0) duration = 0;
        if (isfinite(onset)) st = btfm_dataset_append_event(ds, onset, duration, "annotation", name, 0);
        name = end ? end + 1 : NULL;
    }
    btfm_free(text);
    btfm_free(x);
    return st;
}

btfm_status btfm_fif_read_meta(btfm_dataset *ds, const fif_info *info, const fif_file *f,
                               const fif_tree *t, int64_t first_samp, int n_files,
                               const char *data_type)
{
    btfm_json *root = NULL, *fif = NULL;
    btfm_status st = btfm_json_new_object(&root);
    if (!st) st = btfm_json_new_object(&fif);
    if (st) {
        btfm_json_free(root);
        return st;
    }
    int32_t ib = info->info_block;
    st = btfm_json_set_number(fif, "first_sample", (double)first_samp);
    if (!st) st = btfm_json_set_number(fif, "n_files", n_files);
    if (!st) st = btfm_json_set_string(fif, "data_type", data_type);
    if (!st) st = copy_number(fif, "highpass", f, t, ib, FIFF_HIGHPASS);
    if (!st) st = copy_number(fif, "lowpass", f, t, ib, FIFF_LOWPASS);
    if (!st) st = copy_number(fif, "line_freq", f, t, ib, FIFF_LINE_FREQ);
    if (!st) st = copy_number(fif, "custom_ref_applied", f, t, ib, FIFF_MNE_CUSTOM_REF);
    if (!st) st = copy_string(fif, "experimenter", f, t, ib, FIFF_EXPERIMENTER);
    if (!st) st = copy_string(fif, "description", f, t, ib, FIFF_COMMENT);
    if (!st && info->has_meas_date) st = btfm_json_set_number(fif, "meas_date", info->meas_date);
    if (!st && info->has_dev_head) st = btfm_json_set_numbers(fif, "dev_head_t", info->dev_head, 12);
    if (!st) st = projectors(fif, info, f, t);
    if (!st) st = history(fif, f, t);
    if (!st) st = compensation(fif, f, t, info->meas_block);
    if (!st) st = btfm_json_set(root, "fif", fif);
    else btfm_json_free(fif);
    if (!st) st = btfm_dataset_take_metadata(ds, root);
    else btfm_json_free(root);
    return st ? st : annotations(ds, info, f, t, first_samp);
}
