/* Datasets over caller data: the memory driver, and the setters that let a host build a
 * dataset (simulated or derived data) and write it in any format. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "io/volume/volume_internal.h"

typedef struct memory_state {
    float *data; /* n_times x n_channels, time-major */
} memory_state;

static btfm_status memory_read_digital(btfm_dataset *ds, int ch, int64_t first, int64_t count,
                                       double *out)
{
    const memory_state *m = ds->state;
    const float *p = m->data + (size_t)first * (size_t)ds->n_channels + (size_t)ch;
    for (int64_t i = 0; i < count; i++) out[i] = p[(size_t)i * (size_t)ds->n_channels];
    return BTFM_OK;
}

static btfm_status memory_read_block(btfm_dataset *ds, int64_t first, int64_t count,
                                     const int *picks, int n_picks, size_t stride, float *out)
{
    const memory_state *m = ds->state;
    size_t width = (size_t)ds->n_channels;
    int run = 1; /* consecutive picks: whole row spans */
    for (int j = 1; j < n_picks && run; j++) run = picks[j] == picks[0] + j;
    if (run) {
        for (int64_t t = 0; t < count; t++)
            memcpy(out + (size_t)t * stride, m->data + (size_t)(first + t) * width + (size_t)picks[0],
                   (size_t)n_picks * sizeof(float));
        return BTFM_OK;
    }
    for (int64_t t = 0; t < count; t++) {
        const float *row = m->data + (size_t)(first + t) * width;
        float *o = out + (size_t)t * stride;
        for (int j = 0; j < n_picks; j++) o[j] = row[picks[j]];
    }
    return BTFM_OK;
}

static void memory_close(btfm_dataset *ds)
{
    memory_state *m = ds->state;
    if (m) btfm_free(m->data);
    btfm_free(m);
}

static const btfm_io_driver memory_driver = {"memory", memory_read_digital, memory_read_block,
                                             memory_close};

btfm_status btfm_channel_copy(btfm_channel *c, const btfm_channel *src, int index)
{
    char number[16];
    int n = snprintf(number, sizeof number, "%d", index + 1);
    const char *name = src ? src->name : number;
    const char *unit = src ? src->unit : "";
    if (btfm_io_strdup(&c->name, name, src ? strlen(name) : (size_t)n) ||
        btfm_io_strdup(&c->unit, unit, strlen(unit)) ||
        btfm_io_strdup(&c->stored_unit, unit, strlen(unit)) ||
        btfm_io_strdup(&c->transducer, src ? src->transducer : "", src ? strlen(src->transducer) : 0) ||
        btfm_io_strdup(&c->prefilter, src ? src->prefilter : "", src ? strlen(src->prefilter) : 0))
        return BTFM_E_NOMEM;
    c->type = src ? src->type : BTFM_CH_MISC;
    c->bad = src ? src->bad : 0;
    c->gain = 1.0;
    c->offset = 0.0;
    return BTFM_OK;
}

btfm_status btfm_dataset_from_array(btfm_dataset **out, const float *data, int64_t n_times,
                                    int n_channels, double sfreq, const btfm_dataset *like)
{
    static const char func[] = "btfm_dataset_from_array";
    BTFM_CHECK_ARG(out, func, "out");
    *out = NULL;
    if (n_times < 1 || n_channels < 1)
        return btfm_fail(BTFM_E_INVALID, "%s: shape %lld x %d, expected at least 1 x 1", func,
                         (long long)n_times, n_channels);
    BTFM_CHECK_ARG(data, func, "data");
    size_t bytes;
    if (btfm_mul_size((size_t)n_times, (size_t)n_channels, &bytes) ||
        btfm_mul_size(bytes, sizeof(float), &bytes))
        return btfm_fail(BTFM_E_RANGE, "%s: %lld x %d floats do not fit in memory", func,
                         (long long)n_times, n_channels);
    float *copy = btfm_malloc_large(bytes);
    if (!copy) return btfm_fail_nomem(func, bytes);
    memcpy(copy, data, bytes);
    return btfm_dataset_adopt_array(out, copy, n_times, n_channels, sfreq, like);
}

btfm_status btfm_dataset_adopt_array(btfm_dataset **out, float *data, int64_t n_times,
                                     int n_channels, double sfreq, const btfm_dataset *like)
{
    static const char func[] = "btfm_dataset_from_array";
    *out = NULL;
    btfm_status st = BTFM_OK;
    if (!(sfreq > 0) || !isfinite(sfreq))
        st = btfm_fail(BTFM_E_INVALID, "%s: sfreq is %g, expected a finite rate above 0 Hz",
                       func, sfreq);
    else if (like && like->n_channels != n_channels)
        st = btfm_fail(BTFM_E_INVALID, "%s: `like` (%s) has %d channels, the data %d", func,
                       like->path, like->n_channels, n_channels);
    btfm_dataset *ds = NULL;
    if (st || (st = btfm_dataset_alloc(&ds, "<memory>", BTFM_FORMAT_MEMORY, n_channels))) {
        btfm_free(data);
        return st;
    }
    memory_state *m = btfm_calloc(1, sizeof *m);
    ds->state = m;
    ds->driver = &memory_driver;
    if (!m) {
        btfm_free(data);
        btfm_dataset_free(ds);
        return btfm_fail_nomem(func, sizeof *m);
    }
    m->data = data;
    for (int i = 0; i < n_channels; i++) {
        btfm_channel *c = &ds->channels[i];
        if (btfm_channel_copy(c, like ? &like->channels[i] : NULL, i)) {
            btfm_dataset_free(ds);
            return btfm_fail_nomem(func, 64);
        }
        c->rate = sfreq;
        c->n_samples = n_times;
        c->samples_per_record = (int)(n_times < INT32_MAX ? n_times : INT32_MAX);
    }
    if (like && ((like->volume && (st = btfm_volume_copy(&ds->volume, like->volume))) ||
                 (st = btfm_dataset_copy_recording(ds, like)) ||
                 (st = btfm_dataset_copy_geometry(ds, like)))) {
        btfm_dataset_free(ds);
        return st;
    }
    if ((st = btfm_dataset_finish(ds))) {
        btfm_dataset_free(ds);
        return st;
    }
    *out = ds;
    return BTFM_OK;
}

btfm_status btfm_dataset_copy_recording(btfm_dataset *dst, const btfm_dataset *src)
{
    btfm_status st;
    for (int64_t e = 0; e < src->n_events; e++) {
        const btfm_event_rec *ev = &src->events[e];
        if ((st = btfm_dataset_append_event(dst, ev->onset, ev->duration, ev->type, ev->label,
                                            ev->code)))
            return st;
        dst->events[dst->n_events - 1].row = ev->row;
    }
    dst->has_start_time = src->has_start_time;
    dst->start_time = src->start_time;
    if (btfm_set_string(&dst->subject, src->subject) ||
        btfm_set_string(&dst->recording, src->recording))
        return btfm_fail_nomem("dataset copy", 64);
    return btfm_dataset_copy_extras(dst, src);
}

btfm_status btfm_set_string(char **field, const char *value)
{
    char *copy;
    btfm_status st = btfm_io_strdup(&copy, value, strlen(value));
    if (st) return st;
    btfm_free(*field);
    *field = copy;
    return BTFM_OK;
}

static btfm_status channel_string(btfm_dataset *ds, int ch, const char *value, const char *func,
                                  size_t field)
{
    BTFM_CHECK_ARG(ds, func, "dataset");
    if (ch < 0 || ch >= ds->n_channels)
        return btfm_fail(BTFM_E_RANGE, "%s: channel %d is outside [0, %d) of %s", func, ch,
                         ds->n_channels, ds->path);
    BTFM_CHECK_ARG(value, func, "value");
    if (!btfm_utf8_valid(value, strlen(value)))
        return btfm_fail(BTFM_E_INVALID, "%s: channel %d: the value is not valid UTF-8", func, ch);
    if (btfm_channel_own_strings(&ds->channels[ch])) return btfm_fail_nomem(func, 64);
    return btfm_set_string((char **)((char *)&ds->channels[ch] + field), value);
}

btfm_status btfm_dataset_set_channel_name(btfm_dataset *ds, int channel, const char *name)
{
    static const char func[] = "btfm_dataset_set_channel_name";
    if (name && !*name)
        return btfm_fail(BTFM_E_INVALID, "%s: channel %d: the name is empty", func, channel);
    return channel_string(ds, channel, name, func, offsetof(btfm_channel, name));
}

btfm_status btfm_dataset_set_channel_unit(btfm_dataset *ds, int channel, const char *unit)
{
    static const char func[] = "btfm_dataset_set_channel_unit";
    btfm_status st = channel_string(ds, channel, unit, func, offsetof(btfm_channel, unit));
    return st ? st : btfm_set_string(&ds->channels[channel].stored_unit, unit);
}

btfm_status btfm_dataset_add_event(btfm_dataset *ds, double onset, double duration,
                                      const char *type, const char *label, int code)
{
    return btfm_dataset_insert_event(ds, onset, duration, type, label, code, -1);
}

btfm_status btfm_dataset_insert_event(btfm_dataset *ds, double onset, double duration,
                                      const char *type, const char *label, int code, int64_t row)
{
    static const char func[] = "btfm_dataset_add_event";
    BTFM_CHECK_ARG(ds, func, "dataset");
    BTFM_CHECK_ARG(type, func, "type");
    BTFM_CHECK_ARG(label, func, "label");
    if (!isfinite(onset) || !isfinite(duration) || duration < 0)
        return btfm_fail(BTFM_E_INVALID, "%s: %s: onset %g s, duration %g s; expected finite "
                         "values and a duration of at least 0", func, ds->path, onset, duration);
    if (!btfm_utf8_valid(type, strlen(type)) || !btfm_utf8_valid(label, strlen(label)))
        return btfm_fail(BTFM_E_INVALID, "%s: %s: type or label is not valid UTF-8", func, ds->path);
    btfm_status st = btfm_dataset_append_event(ds, onset, duration, type, label, code);
    if (st) return st;
    /* Keep the order by onset; equal onsets stay in insertion order. */
    btfm_event_rec e = ds->events[ds->n_events - 1];
    e.row = row;
    int64_t i = ds->n_events - 1;
    while (i > 0 && ds->events[i - 1].onset > onset) {
        ds->events[i] = ds->events[i - 1];
        i--;
    }
    ds->events[i] = e;
    return BTFM_OK;
}
