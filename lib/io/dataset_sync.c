/* Clock alignment of two recordings of one session (an eye tracker and the EEG) through
 * the triggers both logged: triggers are paired by code and time (robust to triggers that
 * only one side logged), a least-squares line maps one clock onto the other, and events of
 * one are imported into the other through that line. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "dataset_internal.h"

/* Two triggers of one code pair when, through the line, they fall within this window of
 * each other (s) while the line is being found: wider than any trigger's jitter (a sample
 * of a slow EEG, software-timed markers), narrower than half the usual spacing. */
#define SYNC_WINDOW_S 0.05
/* Once the line is found the window shrinks to this many robust standard deviations of
 * the residuals (not below SYNC_FLOOR_S), so that a stray trigger near a missing one is
 * left out. */
#define SYNC_SIGMAS 6.0
#define SYNC_FLOOR_S 1e-3
/* At most this many same-code time differences are voted on (every k-th trigger of `ds`
 * beyond that). */
#define SYNC_MAX_VOTES ((size_t)1 << 22)
#define SYNC_MAX_ROUNDS 64

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

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
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

/* The pairing state: a's and b's triggers grouped by code; for each of a's triggers the
 * first and end index of b's triggers with its code (lo == hi: none). */
typedef struct pairing {
    const trigger *a, *b;
    int64_t na, nb;
    int64_t *lo, *hi;
    int64_t *match, *owner;  /* a -> b index or -1; b -> a index or -1 */
    double *resid;           /* per a: residual of its candidate */
} pairing;

static void code_ranges(pairing *p)
{
    int64_t j = 0;
    for (int64_t i = 0; i < p->na; i++) {
        while (j < p->nb && p->b[j].code < p->a[i].code) j++;
        int64_t e = j;
        while (e < p->nb && p->b[e].code == p->a[i].code) e++;
        p->lo[i] = j;
        p->hi[i] = e;
    }
}

/* Every k-th of a's triggers votes, k chosen to keep the votes under SYNC_MAX_VOTES. */
static int64_t vote_stride(const pairing *p)
{
    size_t total = 0;
    for (int64_t i = 0; i < p->na; i++) total += (size_t)(p->hi[i] - p->lo[i]);
    return (int64_t)(total / SYNC_MAX_VOTES) + 1;
}

static size_t vote_count(const pairing *p)
{
    size_t n = 0;
    for (int64_t i = 0, stride = vote_stride(p); i < p->na; i += stride)
        n += (size_t)(p->hi[i] - p->lo[i]);
    return n;
}

/* The clock offset most same-code pairs agree on within SYNC_WINDOW_S (drift ignored:
 * it only spreads the true pairs, the line fits that follow take it up). */
static double voted_offset(const pairing *p, double *d)
{
    size_t n = 0;
    for (int64_t i = 0, stride = vote_stride(p); i < p->na; i += stride)
        for (int64_t j = p->lo[i]; j < p->hi[i]; j++)
            d[n++] = p->b[j].onset - p->a[i].onset;
    qsort(d, n, sizeof *d, by_value);
    size_t best = 0, best_count = 0;
    for (size_t i = 0, j = 0; i < n; i++) {
        if (j < i) j = i;
        while (j + 1 < n && d[j + 1] - d[i] <= SYNC_WINDOW_S) j++;
        if (j - i + 1 > best_count) { best_count = j - i + 1; best = i; }
    }
    return n ? d[best + best_count / 2] : 0.0;
}

/* Pair each of a's triggers with b's nearest one of its code within tol of the line,
 * one to one (the closer wins a contested trigger); the number of pairs. */
static int64_t pair_up(pairing *p, double offset, double slope, double tol)
{
    for (int64_t j = 0; j < p->nb; j++) p->owner[j] = -1;
    for (int64_t i = 0; i < p->na; i++) {
        p->match[i] = -1;
        double t = offset + slope * p->a[i].onset;
        int64_t lo = p->lo[i], hi = p->hi[i];
        while (lo < hi) { /* first of b's triggers at or after t */
            int64_t mid = lo + (hi - lo) / 2;
            if (p->b[mid].onset < t) lo = mid + 1;
            else hi = mid;
        }
        int64_t best = -1;
        if (lo < p->hi[i]) best = lo;
        if (lo > p->lo[i] && (best < 0 || t - p->b[lo - 1].onset < p->b[best].onset - t))
            best = lo - 1;
        if (best < 0 || !(fabs(p->b[best].onset - t) <= tol)) continue;
        p->resid[i] = p->b[best].onset - t;
        int64_t rival = p->owner[best];
        if (rival >= 0 && fabs(p->resid[rival]) <= fabs(p->resid[i])) continue;
        if (rival >= 0) p->match[rival] = -1;
        p->owner[best] = i;
        p->match[i] = best;
    }
    int64_t n = 0;
    for (int64_t i = 0; i < p->na; i++) n += p->match[i] >= 0;
    return n;
}

/* Least-squares line through the pairs; 0 when it is not determined. */
static int fit_line(const pairing *p, double *offset, double *slope, double *rms)
{
    double mx = 0, my = 0, sxx = 0, sxy = 0, sse = 0;
    int64_t n = 0;
    for (int64_t i = 0; i < p->na; i++)
        if (p->match[i] >= 0) { mx += p->a[i].onset; my += p->b[p->match[i]].onset; n++; }
    if (n < 2) return 0;
    mx /= (double)n;
    my /= (double)n;
    for (int64_t i = 0; i < p->na; i++)
        if (p->match[i] >= 0) {
            double dx = p->a[i].onset - mx;
            sxx += dx * dx;
            sxy += dx * (p->b[p->match[i]].onset - my);
        }
    if (!(sxx > 0)) return 0;
    *slope = sxy / sxx;
    *offset = my - *slope * mx;
    for (int64_t i = 0; i < p->na; i++)
        if (p->match[i] >= 0) {
            double r = p->b[p->match[i]].onset - (*offset + *slope * p->a[i].onset);
            sse += r * r;
        }
    *rms = sqrt(sse / (double)n);
    return 1;
}

/* 1.4826 x the median absolute residual of the pairs (a robust standard deviation). */
static double robust_sigma(const pairing *p, double offset, double slope, double *scratch)
{
    size_t n = 0;
    for (int64_t i = 0; i < p->na; i++)
        if (p->match[i] >= 0)
            scratch[n++] = fabs(p->b[p->match[i]].onset - (offset + slope * p->a[i].onset));
    if (!n) return 0;
    qsort(scratch, n, sizeof *scratch, by_value);
    return 1.4826 * (n % 2 ? scratch[n / 2] : 0.5 * (scratch[n / 2 - 1] + scratch[n / 2]));
}

/* Pair and fit until the pairs no longer change, at a fixed window; 0 when no line. */
static int settle(pairing *p, double *offset, double *slope, double *rms, double tol,
                  int64_t *prev, int64_t *n)
{
    for (int round = 0; round < SYNC_MAX_ROUNDS; round++) {
        *n = pair_up(p, *offset, *slope, tol);
        if (!fit_line(p, offset, slope, rms)) return 0;
        if (round && !memcmp(prev, p->match, (size_t)p->na * sizeof *prev)) break;
        memcpy(prev, p->match, (size_t)p->na * sizeof *prev);
    }
    *n = pair_up(p, *offset, *slope, tol);
    return fit_line(p, offset, slope, rms);
}

btfm_status btfm_dataset_sync(const btfm_dataset *ds, const btfm_dataset *reference,
                              double *offset_s, double *drift, double *rms_s, int64_t *n_pairs)
{
    static const char func[] = "btfm_dataset_sync";
    BTFM_CHECK_ARG(ds, func, "dataset");
    BTFM_CHECK_ARG(reference, func, "reference");
    size_t na_max = (size_t)ds->n_events + 1, nb_max = (size_t)reference->n_events + 1;
    trigger *t = btfm_malloc((na_max + nb_max) * sizeof *t);
    int64_t *idx = btfm_malloc((4 * na_max + nb_max) * sizeof *idx);
    double *d = NULL;
    pairing p = {.a = t, .b = t + na_max, .lo = idx, .hi = idx + na_max,
                 .match = idx + 2 * na_max, .owner = idx + 4 * na_max};
    int64_t *prev = idx + 3 * na_max;
    size_t room = 0;
    if (t && idx) {
        p.na = triggers_of(ds, t);
        p.nb = triggers_of(reference, t + na_max);
        code_ranges(&p);
        room = vote_count(&p);
        d = btfm_malloc((room + 2 * na_max) * sizeof *d);
    }
    if (!d) {
        btfm_free(t);
        btfm_free(idx);
        return btfm_fail_nomem("dataset sync", (na_max + nb_max) * sizeof *t +
                               (4 * na_max + nb_max) * sizeof *idx +
                               (room + 2 * na_max) * sizeof *d);
    }
    p.resid = d + room + na_max; /* d[0, room + na_max) is scratch */
    double offset = voted_offset(&p, d), slope = 1.0, rms = 0;
    int64_t n = 0;
    int ok = settle(&p, &offset, &slope, &rms, SYNC_WINDOW_S, prev, &n);
    if (ok) {
        double tol = SYNC_SIGMAS * robust_sigma(&p, offset, slope, d);
        tol = tol < SYNC_FLOOR_S ? SYNC_FLOOR_S : tol > SYNC_WINDOW_S ? SYNC_WINDOW_S : tol;
        ok = settle(&p, &offset, &slope, &rms, tol, prev, &n);
    }
    btfm_free(t);
    btfm_free(idx);
    btfm_free(d);
    if (!ok)
        return btfm_fail(BTFM_E_NOTFOUND, "%s: %s and %s share %lld trigger(s) at distinct "
                         "times; two or more are needed (events with the same non-zero code, "
                         "e.g. an EyeLink \"MSG ... TRIGGER 5\" and the EEG's trigger 5)", func,
                         ds->path ? ds->path : "(dataset)",
                         reference->path ? reference->path : "(reference)", (long long)n);
    if (offset_s) *offset_s = offset;
    if (drift) *drift = slope - 1.0;
    if (rms_s) *rms_s = rms;
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
