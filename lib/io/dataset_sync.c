/* Clock alignment of two recordings of one session (an eye tracker and the EEG) through
 * the triggers both logged: the k-th event with code c in one is paired with the k-th event
 * with code c in the other, and a least-squares line maps one clock onto the other; events
 * of one are imported into the other through that line. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "dataset_internal.h"

/* Events that carry a trigger code: not eye movements, not acquisition gaps. */
static int is_trigger(const btfm_event_rec *e)
{
    static const char *const not_triggers[] = {"fixation", "saccade", "blink", "gap"};
    if (e->code == 0) return 0;
    for (size_t i = 0; i < sizeof not_triggers / sizeof *not_triggers; i++)
        if (strcmp(e->type, not_triggers[i]) == 0) return 0;
    return 1;
}

typedef struct trigger { int code; int64_t order; double onset; } trigger;

/* By code, then in onset order (events are kept sorted by onset). */
static int by_code(const void *a, const void *b)
{
    const trigger *x = a, *y = b;
    if (x->code != y->code) return x->code < y->code ? -1 : 1;
    return (x->order > y->order) - (x->order < y->order);
}

/* The triggers of ds grouped by code, into t (room for n_events); their number. */
static int64_t triggers_of(const btfm_dataset *ds, trigger *t)
{
    int64_t n = 0;
    for (int64_t i = 0; i < ds->n_events; i++)
        if (is_trigger(&ds->events[i]))
            t[n++] = (trigger){ds->events[i].code, i, ds->events[i].onset};
    qsort(t, (size_t)n, sizeof *t, by_code);
    return n;
}

btfm_status btfm_dataset_sync(const btfm_dataset *ds, const btfm_dataset *reference,
                              double *offset_s, double *drift, double *rms_s, int64_t *n_pairs)
{
    static const char func[] = "btfm_dataset_sync";
    BTFM_CHECK_ARG(ds, func, "dataset");
    BTFM_CHECK_ARG(reference, func, "reference");
    size_t count = (size_t)ds->n_events + (size_t)reference->n_events + 1;
    trigger *a = btfm_malloc(count * sizeof *a);
    double *x = btfm_malloc(count * 2 * sizeof *x);
    if (!a || !x) {
        btfm_free(a);
        btfm_free(x);
        return btfm_fail_nomem("dataset sync", count * (sizeof *a + 2 * sizeof *x));
    }
    trigger *b = a + ds->n_events;
    double *y = x + count;
    int64_t na = triggers_of(ds, a), nb = triggers_of(reference, b), n = 0;
    /* Merge the two groupings: within a code, the k-th of one with the k-th of the other. */
    for (int64_t i = 0, j = 0; i < na && j < nb;) {
        if (a[i].code != b[j].code) {
            if (a[i].code < b[j].code) i++;
            else j++;
            continue;
        }
        int code = a[i].code;
        for (; i < na && j < nb && a[i].code == code && b[j].code == code; i++, j++) {
            x[n] = a[i].onset;
            y[n++] = b[j].onset;
        }
        while (i < na && a[i].code == code) i++;
        while (j < nb && b[j].code == code) j++;
    }
    btfm_free(a);
    /* Least squares about the means. */
    double mx = 0, my = 0, sxx = 0, sxy = 0, sse = 0;
    for (int64_t i = 0; i < n; i++) { mx += x[i]; my += y[i]; }
    if (n > 0) { mx /= (double)n; my /= (double)n; }
    for (int64_t i = 0; i < n; i++) {
        sxx += (x[i] - mx) * (x[i] - mx);
        sxy += (x[i] - mx) * (y[i] - my);
    }
    if (n < 2 || !(sxx > 0)) {
        btfm_free(x);
        return btfm_fail(BTFM_E_NOTFOUND, "%s: %s and %s share %lld trigger(s) at distinct "
                         "times; two or more are needed (events with the same non-zero code, "
                         "e.g. an EyeLink \"MSG ... TRIGGER 5\" and the EEG's trigger 5)", func,
                         ds->path ? ds->path : "(dataset)",
                         reference->path ? reference->path : "(reference)", (long long)n);
    }
    double slope = sxy / sxx, intercept = my - slope * mx;
    for (int64_t i = 0; i < n; i++) {
        double r = y[i] - (intercept + slope * x[i]);
        sse += r * r;
    }
    btfm_free(x);
    if (offset_s) *offset_s = intercept;
    if (drift) *drift = slope - 1.0;
    if (rms_s) *rms_s = sqrt(sse / (double)n);
    if (n_pairs) *n_pairs = n;
    return BTFM_OK;
}

btfm_status btfm_dataset_import_events(btfm_dataset *ds, const btfm_dataset *source,
                                       const char *label, double offset_s, double drift,
                                       int64_t *n_imported)
{
    static const char func[] = "btfm_dataset_import_events";
    BTFM_CHECK_ARG(ds, func, "dataset");
    BTFM_CHECK_ARG(source, func, "source");
    if (n_imported) *n_imported = 0;
    double scale = 1.0 + drift;
    if (!isfinite(offset_s) || !(scale > 0) || !isfinite(scale))
        return btfm_fail(BTFM_E_INVALID, "%s: offset %g s, drift %g; expected finite values "
                         "and a drift above -1 (time runs forward in both clocks)", func,
                         offset_s, drift);
    if (ds == source)
        return btfm_fail(BTFM_E_INVALID, "%s: %s: a dataset cannot import its own events",
                         func, ds->path);
    int64_t n = 0;
    btfm_status st = btfm_dataset_select_events(source, label, NULL, 0, &n);
    if (st) return st;
    int64_t *pick = btfm_malloc((size_t)(n > 0 ? n : 1) * sizeof *pick);
    btfm_event_rec *merged = btfm_malloc((size_t)(ds->n_events + n + 1) * sizeof *merged);
    if (!pick || !merged) {
        btfm_free(pick);
        btfm_free(merged);
        return btfm_fail_nomem(func, (size_t)(ds->n_events + n + 1) * sizeof *merged);
    }
    int64_t n0 = ds->n_events;
    if (!(st = btfm_dataset_select_events(source, label, pick, n, &n)))
        for (int64_t i = 0; !st && i < n; i++) {
            const btfm_event_rec *e = &source->events[pick[i]];
            st = btfm_dataset_append_event(ds, offset_s + scale * e->onset, scale * e->duration,
                                           e->type, e->label, e->code);
        }
    btfm_free(pick);
    if (st) { /* the dataset as it was */
        for (int64_t i = n0; i < ds->n_events; i++) {
            btfm_free(ds->events[i].type);
            btfm_free(ds->events[i].label);
        }
        ds->n_events = n0;
        btfm_free(merged);
        return st;
    }
    /* Both runs are in onset order (the mapping keeps order): merge them, the dataset's
     * own events first at equal onsets. */
    const btfm_event_rec *own = ds->events, *added = ds->events + n0;
    int64_t a = 0, b = 0, k = 0;
    while (a < n0 && b < n) merged[k++] = added[b].onset < own[a].onset ? added[b++] : own[a++];
    while (a < n0) merged[k++] = own[a++];
    while (b < n) merged[k++] = added[b++];
    memcpy(ds->events, merged, (size_t)k * sizeof *merged);
    btfm_free(merged);
    if (n_imported) *n_imported = n;
    return BTFM_OK;
}
