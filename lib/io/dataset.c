/* The dataset handle: allocation, accessors, events and records shared by every format. */
#include <math.h>
#include <string.h>
#include "core/param.h"
#include "io/volume/volume_internal.h"

/* Datasets have no tunables yet; the kind is registered so kinds stay dense. */
const btfm_param_table btfm_dataset_param_table = {BTFM_OBJECT_DATASET, "dataset", 0, NULL};

btfm_status btfm_io_strdup(char **dst, const char *src, size_t len)
{
    char *s = btfm_malloc(len + 1);
    if (!s) return btfm_fail_nomem("dataset", len + 1);
    memcpy(s, src, len);
    s[len] = '\0';
    *dst = s;
    return BTFM_OK;
}

btfm_status btfm_dataset_alloc(btfm_dataset **out, const char *path, int format, int n_channels)
{
    btfm_dataset *ds = btfm_calloc(1, sizeof *ds);
    if (!ds) return btfm_fail_nomem("dataset", sizeof *ds);
    ds->format = format;
    ds->n_channels = n_channels;
    ds->n_records = 1;
    if ((n_channels > 0 && !(ds->channels = btfm_calloc((size_t)n_channels, sizeof *ds->channels))) ||
        btfm_io_strdup(&ds->path, path, strlen(path)) || btfm_io_strdup(&ds->subject, "", 0) ||
        btfm_io_strdup(&ds->recording, "", 0)) {
        btfm_dataset_free(ds);
        return btfm_fail_nomem("dataset", (size_t)n_channels * sizeof(btfm_channel));
    }
    *out = ds;
    return BTFM_OK;
}

void btfm_channel_clear(btfm_channel *c)
{
    if (!c->shared_strings) {
        btfm_free(c->name);
        btfm_free(c->unit);
        btfm_free(c->stored_unit);
        btfm_free(c->transducer);
        btfm_free(c->prefilter);
    }
    btfm_polyphase_free(c->resampler);
    memset(c, 0, sizeof *c);
}

void btfm_channels_release(btfm_channel *channels, int n)
{
    /* Channels with shared strings and no resampler own nothing: a volume's table of
     * every voxel is freed without touching its tens of megabytes again. */
    for (int i = 0; channels && i < n; i++)
        if (!channels[i].shared_strings || channels[i].resampler) btfm_channel_clear(&channels[i]);
    btfm_free(channels);
}

btfm_status btfm_channel_own_strings(btfm_channel *c)
{
    if (!c->shared_strings) return BTFM_OK;
    char *s[5] = {0};
    const char *src[5] = {c->name, c->unit, c->stored_unit, c->transducer, c->prefilter};
    for (int i = 0; i < 5; i++)
        if (btfm_io_strdup(&s[i], src[i], strlen(src[i]))) {
            for (int j = 0; j < i; j++) btfm_free(s[j]);
            return BTFM_E_NOMEM;
        }
    c->name = s[0];
    c->unit = s[1];
    c->stored_unit = s[2];
    c->transducer = s[3];
    c->prefilter = s[4];
    c->shared_strings = 0;
    return BTFM_OK;
}

void btfm_dataset_free(btfm_dataset *ds)
{
    if (!ds) return;
    if (ds->driver && ds->driver->close) ds->driver->close(ds);
    btfm_channels_release(ds->channels, ds->n_channels);
    btfm_free(ds->channel_arena);
    btfm_volume_free(ds->volume);
    for (int64_t i = 0; i < ds->n_events; i++) {
        btfm_free(ds->events[i].type);
        btfm_free(ds->events[i].label);
    }
    btfm_free(ds->events);
    btfm_free(ds->record_onsets);
    btfm_free(ds->subject);
    btfm_free(ds->recording);
    btfm_free(ds->path);
    btfm_dataset_take_metadata(ds, NULL);
    btfm_dataset_take_events_table(ds, NULL);
    btfm_dataset_drop_geometry(ds);
    btfm_free(ds);
}

btfm_status btfm_dataset_append_event(btfm_dataset *ds, double onset, double duration,
                                   const char *type, const char *label, int code)
{
    void *events = ds->events;
    btfm_status st = btfm_reserve(&events, &ds->events_cap, ds->n_events + 1, sizeof *ds->events,
                                  "dataset events");
    ds->events = events;
    if (st) return st;
    btfm_event_rec *e = &ds->events[ds->n_events];
    memset(e, 0, sizeof *e);
    if (btfm_io_strdup(&e->type, type, strlen(type)) ||
        btfm_io_strdup(&e->label, label, strlen(label))) {
        btfm_free(e->type);
        return BTFM_E_NOMEM;
    }
    e->onset = onset;
    e->duration = duration;
    e->code = code;
    e->row = -1;
    ds->n_events++;
    return BTFM_OK;
}

static int by_onset(const btfm_event_rec *x, const btfm_event_rec *y)
{
    return (x->onset > y->onset) - (x->onset < y->onset);
}

btfm_status btfm_dataset_finish(btfm_dataset *ds)
{
    /* Events sorted by onset with a stable merge sort: equal onsets keep file order. */
    if (ds->n_events > 1) {
        btfm_event_rec *tmp = btfm_malloc((size_t)ds->n_events * sizeof *tmp);
        if (!tmp) return btfm_fail_nomem("dataset events", (size_t)ds->n_events * sizeof *tmp);
        /* merge sort keeps equal onsets in file order */
        for (int64_t width = 1; width < ds->n_events; width *= 2) {
            for (int64_t lo = 0; lo < ds->n_events; lo += 2 * width) {
                int64_t mid = lo + width < ds->n_events ? lo + width : ds->n_events;
                int64_t hi = lo + 2 * width < ds->n_events ? lo + 2 * width : ds->n_events;
                int64_t a = lo, b = mid, k = lo;
                while (a < mid && b < hi)
                    tmp[k++] = by_onset(&ds->events[b], &ds->events[a]) < 0 ? ds->events[b++] : ds->events[a++];
                while (a < mid) tmp[k++] = ds->events[a++];
                while (b < hi) tmp[k++] = ds->events[b++];
            }
            memcpy(ds->events, tmp, (size_t)ds->n_events * sizeof *tmp);
        }
        btfm_free(tmp);
    }
    double top = 0;
    for (int i = 0; i < ds->n_channels; i++)
        if (ds->channels[i].rate > top) top = ds->channels[i].rate;
    ds->sfreq = top;
    ds->n_times = 0;
    for (int i = 0; i < ds->n_channels; i++) {
        btfm_channel *c = &ds->channels[i];
        int64_t up = 1, down = 1;
        if (c->rate != top) {
            /* Rates come from samples per record (or an interval): the ratio is rational
             * with small terms; find it exactly from samples per record when possible. */
            int64_t n_top = 0;
            for (int j = 0; j < ds->n_channels; j++)
                if (ds->channels[j].rate == top) n_top = ds->channels[j].samples_per_record;
            up = n_top;
            down = c->samples_per_record;
            btfm_status st = btfm_polyphase_new(&c->resampler, (int)up, (int)down);
            if (st) return st;
        }
        int64_t n = c->resampler ? btfm_polyphase_output_len(c->resampler, c->n_samples) : c->n_samples;
        if (n > ds->n_times) ds->n_times = n;
    }
    return BTFM_OK;
}

/* ---- accessors ---- */

#define CHECK_DS(ds, func) BTFM_CHECK_ARG(ds, func, "dataset")

static int bad_channel(const btfm_dataset *ds, int ch, const char *func)
{
    if (!ds) return btfm_fail(BTFM_E_INVALID, "%s: dataset is NULL", func);
    if (ch < 0 || ch >= ds->n_channels)
        return btfm_fail(BTFM_E_RANGE, "%s: channel %d is outside [0, %d) of %s", func, ch,
                         ds->n_channels, ds->path);
    return 0;
}

int btfm_dataset_format(const btfm_dataset *ds) { return ds ? ds->format : BTFM_E_INVALID; }

int64_t btfm_dataset_n_times(const btfm_dataset *ds)
{
    return ds ? ds->n_times : btfm_fail(BTFM_E_INVALID, "btfm_dataset_n_times: dataset is NULL");
}

int btfm_dataset_n_channels(const btfm_dataset *ds)
{
    return ds ? ds->n_channels : btfm_fail(BTFM_E_INVALID, "btfm_dataset_n_channels: dataset is NULL");
}

double btfm_dataset_sfreq(const btfm_dataset *ds) { return ds ? ds->sfreq : NAN; }

btfm_status btfm_dataset_start_time(const btfm_dataset *ds, double *posix_seconds)
{
    CHECK_DS(ds, "btfm_dataset_start_time");
    BTFM_CHECK_ARG(posix_seconds, "btfm_dataset_start_time", "posix_seconds");
    if (!ds->has_start_time)
        return btfm_fail(BTFM_E_NOTFOUND, "btfm_dataset_start_time: %s stores no start time", ds->path);
    *posix_seconds = ds->start_time;
    return BTFM_OK;
}

const char *btfm_dataset_subject(const btfm_dataset *ds) { return ds ? ds->subject : NULL; }
const char *btfm_dataset_recording(const btfm_dataset *ds) { return ds ? ds->recording : NULL; }

const char *btfm_dataset_channel_name(const btfm_dataset *ds, int ch)
{
    return bad_channel(ds, ch, "btfm_dataset_channel_name") ? NULL : ds->channels[ch].name;
}

const char *btfm_dataset_channel_unit(const btfm_dataset *ds, int ch)
{
    return bad_channel(ds, ch, "btfm_dataset_channel_unit") ? NULL : ds->channels[ch].unit;
}

int btfm_dataset_channel_type(const btfm_dataset *ds, int ch)
{
    int st = bad_channel(ds, ch, "btfm_dataset_channel_type");
    return st ? st : ds->channels[ch].type;
}

btfm_status btfm_dataset_set_channel_type(btfm_dataset *ds, int ch, int type)
{
    int st = bad_channel(ds, ch, "btfm_dataset_set_channel_type");
    if (st) return st;
    if (!btfm_channel_type_name(type))
        return btfm_fail(BTFM_E_INVALID, "btfm_dataset_set_channel_type: unknown channel type %d "
                         "for channel %d (%s)", type, ch, ds->channels[ch].name);
    ds->channels[ch].type = type;
    return BTFM_OK;
}

double btfm_dataset_channel_rate(const btfm_dataset *ds, int ch)
{
    return bad_channel(ds, ch, "btfm_dataset_channel_rate") ? NAN : ds->channels[ch].rate;
}

int64_t btfm_dataset_channel_n_samples(const btfm_dataset *ds, int ch)
{
    int st = bad_channel(ds, ch, "btfm_dataset_channel_n_samples");
    return st ? st : ds->channels[ch].n_samples;
}

int btfm_dataset_channel_bad(const btfm_dataset *ds, int ch)
{
    int st = bad_channel(ds, ch, "btfm_dataset_channel_bad");
    return st ? st : ds->channels[ch].bad;
}

btfm_status btfm_dataset_set_channel_bad(btfm_dataset *ds, int ch, int bad)
{
    int st = bad_channel(ds, ch, "btfm_dataset_set_channel_bad");
    if (st) return st;
    ds->channels[ch].bad = bad != 0;
    return BTFM_OK;
}

static const char *channel_name_at(const void *ds, int64_t i)
{
    return ((const btfm_dataset *)ds)->channels[i].name;
}

btfm_status btfm_dataset_find_channel(const btfm_dataset *ds, const char *name, int *channel)
{
    CHECK_DS(ds, "btfm_dataset_find_channel");
    BTFM_CHECK_ARG(name, "btfm_dataset_find_channel", "name");
    BTFM_CHECK_ARG(channel, "btfm_dataset_find_channel", "channel");
    for (int i = 0; i < ds->n_channels; i++)
        if (strcmp(ds->channels[i].name, name) == 0) {
            *channel = i;
            return BTFM_OK;
        }
    char known[400];
    btfm_name_list(known, sizeof known, ds->n_channels, channel_name_at, ds);
    return btfm_fail(BTFM_E_NOTFOUND, "btfm_dataset_find_channel: %s has no channel \"%s\" "
                     "(its channels: %s)", ds->path, name, known);
}

int64_t btfm_dataset_n_events(const btfm_dataset *ds)
{
    return ds ? ds->n_events : btfm_fail(BTFM_E_INVALID, "btfm_dataset_n_events: dataset is NULL");
}

btfm_status btfm_dataset_event(const btfm_dataset *ds, int64_t index, double *onset_s,
                               double *duration_s, const char **type, const char **label,
                               int *code)
{
    CHECK_DS(ds, "btfm_dataset_event");
    if (index < 0 || index >= ds->n_events)
        return btfm_fail(BTFM_E_RANGE, "btfm_dataset_event: event %lld is outside [0, %lld) of %s",
                         (long long)index, (long long)ds->n_events, ds->path);
    const btfm_event_rec *e = &ds->events[index];
    if (onset_s) *onset_s = e->onset;
    if (duration_s) *duration_s = e->duration;
    if (type) *type = e->type;
    if (label) *label = e->label;
    if (code) *code = e->code;
    return BTFM_OK;
}

int64_t btfm_dataset_n_records(const btfm_dataset *ds)
{
    return ds ? ds->n_records : btfm_fail(BTFM_E_INVALID, "btfm_dataset_n_records: dataset is NULL");
}

btfm_status btfm_dataset_record(const btfm_dataset *ds, int64_t index, double *onset_s,
                                int64_t *first_sample)
{
    CHECK_DS(ds, "btfm_dataset_record");
    if (index < 0 || index >= ds->n_records)
        return btfm_fail(BTFM_E_RANGE, "btfm_dataset_record: record %lld is outside [0, %lld) of %s",
                         (long long)index, (long long)ds->n_records, ds->path);
    if (onset_s)
        *onset_s = ds->record_onsets ? ds->record_onsets[index] : (double)index * ds->record_duration;
    if (first_sample)
        *first_sample = ds->n_records == 1 ? 0 : llround((double)index * ds->record_duration * ds->sfreq);
    return BTFM_OK;
}

btfm_status btfm_dataset_anonymize(btfm_dataset *ds)
{
    CHECK_DS(ds, "btfm_dataset_anonymize");
    ds->subject[0] = '\0';
    ds->recording[0] = '\0';
    if (ds->has_start_time) ds->start_time = btfm_deidentified_start(ds->start_time);
    return BTFM_OK;
}

double btfm_deidentified_start(double posix_seconds)
{
    /* 1985-01-01 (POSIX 473385600), keeping the time of day. */
    double day = fmod(posix_seconds, 86400.0);
    if (day < 0) day += 86400.0;
    return 473385600.0 + day;
}
