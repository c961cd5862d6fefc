/* fNIRS processing of whole datasets: the channels' source-detector geometry picks the
 * pairs, wavelengths and distances for the array functions of fnirs.c, and the results
 * become new in-memory datasets with names and types as MNE gives them. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "io/dataset_internal.h"
#include "fnirs_internal.h"

static const btfm_nirs_geometry *geometry(const btfm_dataset *ds, int c)
{
    return ds->nirs && ds->nirs[c].source > 0 ? &ds->nirs[c] : NULL;
}

static double distance(const btfm_nirs_geometry *g)
{
    double s = 0;
    for (int k = 0; k < 3; k++) s += (g->source_pos[k] - g->detector_pos[k]) * (g->source_pos[k] - g->detector_pos[k]);
    return sqrt(s); /* NaN when a position is unknown */
}

btfm_status btfm_fnirs_pairs(const btfm_dataset *ds, int type, int *pair, int *n_pairs)
{
    int n = 0;
    for (int c = 0; c < ds->n_channels; c++) {
        const btfm_nirs_geometry *g = geometry(ds, c);
        pair[c] = -1;
        if (!g || ds->channels[c].type != type) continue;
        for (int j = 0; j < c && pair[c] < 0; j++) {
            const btfm_nirs_geometry *h = geometry(ds, j);
            if (pair[j] >= 0 && h->source == g->source && h->detector == g->detector) pair[c] = pair[j];
        }
        if (pair[c] < 0) pair[c] = n++;
    }
    *n_pairs = n;
    return BTFM_OK;
}

btfm_status btfm_dataset_nirs_distances(const btfm_dataset *ds, double *distance_m)
{
    static const char func[] = "btfm_dataset_nirs_distances";
    BTFM_CHECK_ARG(ds, func, "dataset");
    BTFM_CHECK_ARG(distance_m, func, "distance_m");
    for (int c = 0; c < ds->n_channels; c++) {
        const btfm_nirs_geometry *g = geometry(ds, c);
        distance_m[c] = g ? distance(g) : NAN;
    }
    return BTFM_OK;
}

btfm_status btfm_dataset_short_channels(const btfm_dataset *ds, double max_distance_m,
                                        unsigned char *is_short)
{
    static const char func[] = "btfm_dataset_short_channels";
    BTFM_CHECK_ARG(ds, func, "dataset");
    BTFM_CHECK_ARG(is_short, func, "is_short");
    if (!(max_distance_m > 0) || !isfinite(max_distance_m))
        return btfm_fail(BTFM_E_INVALID, "%s: max_distance_m = %g, expected a positive distance "
                         "(MNE uses 0.01)", func, max_distance_m);
    for (int c = 0; c < ds->n_channels; c++) {
        const btfm_nirs_geometry *g = geometry(ds, c);
        is_short[c] = g && distance(g) < max_distance_m;
    }
    return BTFM_OK;
}

/* The whole recording, time-major; caller frees. */
static btfm_status read_all(btfm_dataset *ds, const char *func, float **out)
{
    size_t n = (size_t)ds->n_times * (size_t)ds->n_channels;
    *out = btfm_malloc((n ? n : 1) * sizeof **out);
    if (!*out) return btfm_fail_nomem(func, n * sizeof **out);
    btfm_status st = btfm_dataset_read(ds, 0, ds->n_times, NULL, 0, *out);
    if (st) {
        btfm_free(*out);
        *out = NULL;
    }
    return st;
}

static int count_type(const btfm_dataset *ds, int type)
{
    int n = 0;
    for (int c = 0; c < ds->n_channels; c++) n += ds->channels[c].type == type;
    return n;
}

btfm_status btfm_dataset_optical_density(btfm_dataset **out, btfm_dataset *ds)
{
    static const char func[] = "btfm_dataset_optical_density";
    BTFM_CHECK_ARG(out, func, "out");
    *out = NULL;
    BTFM_CHECK_ARG(ds, func, "dataset");
    int n_cw = count_type(ds, BTFM_CH_FNIRS_CW_AMPLITUDE);
    if (n_cw == 0)
        return btfm_fail(BTFM_E_INVALID, "%s: %s has no continuous-wave amplitude channels", func,
                         ds->path);
    float *x, *cw = NULL;
    btfm_status st = read_all(ds, func, &x);
    if (st) return st;
    size_t nt = (size_t)ds->n_times, nc = (size_t)ds->n_channels;
    /* The amplitude channels side by side: MNE's floor for values <= 0 spans all of them. */
    if (!(cw = btfm_malloc((nt ? nt : 1) * (size_t)n_cw * sizeof *cw))) {
        btfm_free(x);
        return btfm_fail_nomem(func, nt * (size_t)n_cw * sizeof *cw);
    }
    for (size_t t = 0; t < nt; t++)
        for (size_t c = 0, k = 0; c < nc; c++)
            if (ds->channels[c].type == BTFM_CH_FNIRS_CW_AMPLITUDE) cw[t * (size_t)n_cw + k++] = x[t * nc + c];
    st = btfm_fnirs_optical_density(cw, ds->n_times, n_cw, 0, cw);
    for (size_t t = 0; !st && t < nt; t++)
        for (size_t c = 0, k = 0; c < nc; c++)
            if (ds->channels[c].type == BTFM_CH_FNIRS_CW_AMPLITUDE) x[t * nc + c] = cw[t * (size_t)n_cw + k++];
    btfm_dataset *od = NULL;
    if (!st) st = btfm_dataset_from_array(&od, x, ds->n_times, ds->n_channels, ds->sfreq, ds);
    for (int c = 0; !st && c < ds->n_channels; c++)
        if (ds->channels[c].type == BTFM_CH_FNIRS_CW_AMPLITUDE &&
            (!(st = btfm_dataset_set_channel_type(od, c, BTFM_CH_FNIRS_OD))))
            st = btfm_dataset_set_channel_unit(od, c, "");
    btfm_free(cw);
    btfm_free(x);
    if (st) {
        btfm_dataset_free(od);
        return st;
    }
    *out = od;
    return BTFM_OK;
}

/* Channel `c` of src copied into channel `k` of dst (name, type, unit, bad, geometry). */
static btfm_status copy_channel(btfm_dataset *dst, int k, const btfm_dataset *src, int c)
{
    const btfm_channel *ch = &src->channels[c];
    const btfm_nirs_geometry *g = geometry(src, c);
    btfm_status st;
    if ((st = btfm_dataset_set_channel_name(dst, k, ch->name)) ||
        (st = btfm_dataset_set_channel_type(dst, k, ch->type)) ||
        (st = btfm_dataset_set_channel_unit(dst, k, ch->unit)) ||
        (st = btfm_dataset_set_channel_bad(dst, k, ch->bad)))
        return st;
    if (g) return btfm_dataset_set_nirs_channel(dst, k, g->source, g->detector, g->wavelength,
                                                g->source_pos, g->detector_pos);
    const double *p = src->positions ? src->positions + 3 * (size_t)c : NULL;
    return p && isfinite(p[0]) ? btfm_dataset_set_channel_position(dst, k, p) : BTFM_OK;
}

/* The HbO (kind 0) or HbR (1) channel of a pair whose first optical density is channel c. */
static btfm_status hb_channel(btfm_dataset *dst, int k, const btfm_dataset *src, int c, int bad,
                              int kind)
{
    const btfm_nirs_geometry *g = geometry(src, c);
    const char *name = src->channels[c].name, *space = strchr(name, ' ');
    char label[256];
    snprintf(label, sizeof label, "%.*s %s", (int)(space ? space - name : (ptrdiff_t)strlen(name)),
             name, kind ? "hbr" : "hbo");
    btfm_status st;
    const double *sp = isfinite(g->source_pos[0]) ? g->source_pos : NULL;
    const double *dp = isfinite(g->detector_pos[0]) ? g->detector_pos : NULL;
    if ((st = btfm_dataset_set_channel_name(dst, k, label)) ||
        (st = btfm_dataset_set_channel_type(dst, k, kind ? BTFM_CH_HBR : BTFM_CH_HBO)) ||
        (st = btfm_dataset_set_channel_unit(dst, k, "M")) ||
        (st = btfm_dataset_set_channel_bad(dst, k, bad)))
        return st;
    return btfm_dataset_set_nirs_channel(dst, k, g->source, g->detector, NAN, sp, dp);
}

btfm_status btfm_dataset_beer_lambert(btfm_dataset **out, btfm_dataset *ds, double ppf)
{
    static const char func[] = "btfm_dataset_beer_lambert";
    BTFM_CHECK_ARG(out, func, "out");
    *out = NULL;
    BTFM_CHECK_ARG(ds, func, "dataset");
    int nc = ds->n_channels, n_pairs = 0;
    int *pair = btfm_malloc((size_t)nc * sizeof *pair), *firsts = NULL;
    double *wavelength = btfm_malloc((size_t)nc * sizeof *wavelength);
    double *dist = btfm_malloc((size_t)nc * sizeof *dist);
    float *x = NULL, *hb = NULL, *y = NULL;
    btfm_dataset *result = NULL;
    btfm_status st = BTFM_OK;
    if (!pair || !wavelength || !dist) {
        st = btfm_fail_nomem(func, (size_t)nc * 20);
        goto done;
    }
    btfm_fnirs_pairs(ds, BTFM_CH_FNIRS_OD, pair, &n_pairs);
    if (n_pairs == 0) {
        st = btfm_fail(BTFM_E_INVALID, "%s: %s has no optical-density channels with their "
                       "source and detector (btfm_dataset_optical_density makes them)", func,
                       ds->path);
        goto done;
    }
    if (!(firsts = btfm_malloc((size_t)n_pairs * 2 * sizeof *firsts))) {
        st = btfm_fail_nomem(func, (size_t)n_pairs * 2 * sizeof *firsts);
        goto done;
    }
    /* The pair's distance and first two channels come from its first channels, as MNE. */
    for (int p = 0; p < n_pairs; p++) firsts[2 * p] = firsts[2 * p + 1] = -1;
    for (int c = 0; c < nc; c++) {
        wavelength[c] = pair[c] >= 0 ? ds->nirs[c].wavelength : NAN;
        if (pair[c] < 0) continue;
        int *f = firsts + 2 * pair[c];
        if (f[0] < 0) {
            f[0] = c;
            dist[pair[c]] = distance(&ds->nirs[c]);
        } else if (f[1] < 0) {
            f[1] = c;
        }
    }
    int n_out = 0;
    for (int c = 0; c < nc; c++) n_out += pair[c] < 0 ? 1 : firsts[2 * pair[c]] == c ? 2 : 0;
    size_t nt = (size_t)ds->n_times;
    if ((st = read_all(ds, func, &x))) goto done;
    hb = btfm_malloc((nt ? nt : 1) * 2 * (size_t)n_pairs * sizeof *hb);
    y = btfm_malloc((nt ? nt : 1) * (size_t)n_out * sizeof *y);
    if (!hb || !y) {
        st = btfm_fail_nomem(func, nt * (size_t)n_out * sizeof *y);
        goto done;
    }
    if ((st = btfm_fnirs_beer_lambert(x, ds->n_times, nc, pair, wavelength, dist, n_pairs, ppf, 0, hb)))
        goto done;
    for (size_t t = 0; t < nt; t++)
        for (int c = 0, k = 0; c < nc; c++) {
            if (pair[c] < 0) y[t * (size_t)n_out + (size_t)k++] = x[t * (size_t)nc + (size_t)c];
            else if (firsts[2 * pair[c]] == c) {
                y[t * (size_t)n_out + (size_t)k++] = hb[t * 2 * (size_t)n_pairs + 2 * (size_t)pair[c]];
                y[t * (size_t)n_out + (size_t)k++] = hb[t * 2 * (size_t)n_pairs + 2 * (size_t)pair[c] + 1];
            }
        }
    if ((st = btfm_dataset_from_array(&result, y, ds->n_times, n_out, ds->sfreq, NULL)) ||
        (st = btfm_dataset_copy_recording(result, ds)) ||
        (ds->coord_frame && (st = btfm_dataset_set_coordinate_frame(result, ds->coord_frame))))
        goto done;
    for (int c = 0, k = 0; c < nc && !st; c++) {
        if (pair[c] < 0) {
            st = copy_channel(result, k++, ds, c);
        } else if (firsts[2 * pair[c]] == c) {
            int second = firsts[2 * pair[c] + 1];
            if (!(st = hb_channel(result, k++, ds, c, ds->channels[c].bad, 0)))
                st = hb_channel(result, k++, ds, c, second >= 0 && ds->channels[second].bad, 1);
        }
    }
done:
    btfm_free(pair);
    btfm_free(firsts);
    btfm_free(wavelength);
    btfm_free(dist);
    btfm_free(x);
    btfm_free(hb);
    btfm_free(y);
    if (st) {
        btfm_dataset_free(result);
        return st;
    }
    *out = result;
    return BTFM_OK;
}

static int regressible(const btfm_dataset *ds, int c)
{
    int type = ds->channels[c].type;
    return geometry(ds, c) &&
           (type == BTFM_CH_FNIRS_OD || type == BTFM_CH_HBO || type == BTFM_CH_HBR);
}

/* The short channel for long channel c: same type (and wavelength), nearest position. */
static int nearest_short(const btfm_dataset *ds, int c, const double *dist, double max_distance)
{
    const btfm_nirs_geometry *g = geometry(ds, c);
    if (!ds->positions) return -1;
    const double *pc = ds->positions + 3 * (size_t)c;
    int best = -1;
    double best_d = INFINITY;
    for (int s = 0; s < ds->n_channels; s++) {
        if (!regressible(ds, s) || !(dist[s] < max_distance)) continue;
        if (ds->channels[s].type != ds->channels[c].type) continue;
        const btfm_nirs_geometry *h = geometry(ds, s);
        if (ds->channels[c].type == BTFM_CH_FNIRS_OD && h->wavelength != g->wavelength) continue;
        const double *ps = ds->positions + 3 * (size_t)s;
        double d = 0;
        for (int k = 0; k < 3; k++) d += (ps[k] - pc[k]) * (ps[k] - pc[k]);
        if (d < best_d) {
            best_d = d;
            best = s;
        }
    }
    return best;
}

btfm_status btfm_dataset_short_channel_regression(btfm_dataset **out, btfm_dataset *ds,
                                                  double max_distance_m)
{
    static const char func[] = "btfm_dataset_short_channel_regression";
    BTFM_CHECK_ARG(out, func, "out");
    *out = NULL;
    BTFM_CHECK_ARG(ds, func, "dataset");
    if (!(max_distance_m > 0) || !isfinite(max_distance_m))
        return btfm_fail(BTFM_E_INVALID, "%s: max_distance_m = %g, expected a positive distance "
                         "(0.01 is usual)", func, max_distance_m);
    int nc = ds->n_channels, n_short = 0, n_long = 0;
    int *short_of = btfm_malloc((size_t)nc * sizeof *short_of);
    double *dist = btfm_malloc((size_t)nc * sizeof *dist);
    float *x = NULL;
    btfm_status st = BTFM_OK;
    if (!short_of || !dist) {
        st = btfm_fail_nomem(func, (size_t)nc * 12);
        goto done;
    }
    btfm_dataset_nirs_distances(ds, dist);
    for (int c = 0; c < nc; c++) {
        short_of[c] = -1;
        if (!regressible(ds, c)) continue;
        n_short += dist[c] < max_distance_m;
        n_long += dist[c] > max_distance_m;
    }
    if (n_short == 0 || n_long == 0) {
        st = btfm_fail(BTFM_E_NOTFOUND, "%s: %s has %d short and %d long optical-density or "
                       "haemoglobin channels (source-detector distance below / above %g m; "
                       "channels without optode positions count as neither); both are needed",
                       func, ds->path, n_short, n_long, max_distance_m);
        goto done;
    }
    for (int c = 0; c < nc; c++)
        if (regressible(ds, c) && dist[c] > max_distance_m) {
            short_of[c] = nearest_short(ds, c, dist, max_distance_m);
            if (short_of[c] < 0)
                btfm_warn("%s: %s: channel %s has no short channel of its type and wavelength; "
                          "left as it is", func, ds->path, ds->channels[c].name);
        }
    if (!(st = read_all(ds, func, &x)) &&
        !(st = btfm_fnirs_short_channel_regression(x, ds->n_times, nc, short_of, 0, x)))
        st = btfm_dataset_from_array(out, x, ds->n_times, nc, ds->sfreq, ds);
done:
    btfm_free(short_of);
    btfm_free(dist);
    btfm_free(x);
    return st;
}
