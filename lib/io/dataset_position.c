/* Sensor positions, their coordinate frame and the source-detector geometry of fNIRS
 * channels: optional per-channel tables, allocated only for datasets that have them. */
#include <math.h>
#include <string.h>
#include "dataset_internal.h"
#include <btfm/fnirs.h>

static btfm_status check_channel(const btfm_dataset *ds, int ch, const char *func)
{
    BTFM_CHECK_ARG(ds, func, "dataset");
    if (ch < 0 || ch >= ds->n_channels)
        return btfm_fail(BTFM_E_RANGE, "%s: channel %d is outside [0, %d) of %s", func, ch,
                         ds->n_channels, ds->path);
    return BTFM_OK;
}

static int finite3(const double *v) { return isfinite(v[0]) && isfinite(v[1]) && isfinite(v[2]); }

/* The positions table, made (all NaN) on first use. */
static btfm_status positions_of(btfm_dataset *ds, double **out)
{
    if (!ds->positions) {
        size_t n = (size_t)ds->n_channels * 3;
        if (!(ds->positions = btfm_malloc(n * sizeof *ds->positions)))
            return btfm_fail_nomem("dataset positions", n * sizeof *ds->positions);
        for (size_t i = 0; i < n; i++) ds->positions[i] = NAN;
    }
    *out = ds->positions;
    return BTFM_OK;
}

btfm_status btfm_dataset_channel_position(const btfm_dataset *ds, int channel, double *xyz)
{
    static const char func[] = "btfm_dataset_channel_position";
    btfm_status st = check_channel(ds, channel, func);
    if (st) return st;
    BTFM_CHECK_ARG(xyz, func, "xyz");
    const double *p = ds->positions ? ds->positions + 3 * (size_t)channel : NULL;
    if (!p || !finite3(p))
        return btfm_fail(BTFM_E_NOTFOUND, "%s: %s: channel %d (%s) has no position", func,
                         ds->path, channel, ds->channels[channel].name);
    memcpy(xyz, p, 3 * sizeof *xyz);
    return BTFM_OK;
}

btfm_status btfm_dataset_set_channel_position(btfm_dataset *ds, int channel, const double *xyz)
{
    static const char func[] = "btfm_dataset_set_channel_position";
    btfm_status st = check_channel(ds, channel, func);
    if (st) return st;
    if (xyz && !finite3(xyz))
        return btfm_fail(BTFM_E_INVALID, "%s: channel %d: position (%g, %g, %g) is not finite",
                         func, channel, xyz[0], xyz[1], xyz[2]);
    if (!xyz && !ds->positions) return BTFM_OK;
    double *table;
    if ((st = positions_of(ds, &table))) return st;
    for (int k = 0; k < 3; k++) table[3 * (size_t)channel + (size_t)k] = xyz ? xyz[k] : NAN;
    return BTFM_OK;
}

const char *btfm_dataset_coordinate_frame(const btfm_dataset *ds)
{
    if (!ds) return NULL;
    return ds->coord_frame ? ds->coord_frame : "unknown";
}

btfm_status btfm_dataset_set_coordinate_frame(btfm_dataset *ds, const char *frame)
{
    static const char func[] = "btfm_dataset_set_coordinate_frame";
    BTFM_CHECK_ARG(ds, func, "dataset");
    BTFM_CHECK_ARG(frame, func, "frame");
    if (!*frame || !btfm_utf8_valid(frame, strlen(frame)))
        return btfm_fail(BTFM_E_INVALID, "%s: %s: the frame name is empty or not UTF-8", func,
                         ds->path);
    return btfm_set_string(&ds->coord_frame, frame);
}

btfm_status btfm_dataset_nirs_channel(const btfm_dataset *ds, int channel, int *source,
                                      int *detector, double *wavelength_nm, double *source_xyz,
                                      double *detector_xyz)
{
    static const char func[] = "btfm_dataset_nirs_channel";
    btfm_status st = check_channel(ds, channel, func);
    if (st) return st;
    const btfm_nirs_geometry *g = ds->nirs ? &ds->nirs[channel] : NULL;
    if (!g || g->source < 1)
        return btfm_fail(BTFM_E_NOTFOUND, "%s: %s: channel %d (%s) is not an fNIRS measurement",
                         func, ds->path, channel, ds->channels[channel].name);
    if (source) *source = g->source;
    if (detector) *detector = g->detector;
    if (wavelength_nm) *wavelength_nm = g->wavelength;
    if (source_xyz) memcpy(source_xyz, g->source_pos, sizeof g->source_pos);
    if (detector_xyz) memcpy(detector_xyz, g->detector_pos, sizeof g->detector_pos);
    return BTFM_OK;
}

btfm_status btfm_dataset_set_nirs_channel(btfm_dataset *ds, int channel, int source, int detector,
                                          double wavelength_nm, const double *source_xyz,
                                          const double *detector_xyz)
{
    static const char func[] = "btfm_dataset_set_nirs_channel";
    btfm_status st = check_channel(ds, channel, func);
    if (st) return st;
    if (source < 1 || detector < 1)
        return btfm_fail(BTFM_E_INVALID, "%s: channel %d: source %d, detector %d; expected "
                         "numbers from 1", func, channel, source, detector);
    if (!isnan(wavelength_nm) && !(wavelength_nm > 0 && isfinite(wavelength_nm)))
        return btfm_fail(BTFM_E_INVALID, "%s: channel %d: wavelength %g nm; expected a positive "
                         "wavelength or NaN", func, channel, wavelength_nm);
    if ((source_xyz && !finite3(source_xyz)) || (detector_xyz && !finite3(detector_xyz)))
        return btfm_fail(BTFM_E_INVALID, "%s: channel %d: a position is not finite", func, channel);
    if (!ds->nirs && !(ds->nirs = btfm_calloc((size_t)ds->n_channels, sizeof *ds->nirs)))
        return btfm_fail_nomem(func, (size_t)ds->n_channels * sizeof *ds->nirs);
    btfm_nirs_geometry *g = &ds->nirs[channel];
    g->source = source;
    g->detector = detector;
    g->wavelength = wavelength_nm;
    for (int k = 0; k < 3; k++) {
        g->source_pos[k] = source_xyz ? source_xyz[k] : NAN;
        g->detector_pos[k] = detector_xyz ? detector_xyz[k] : NAN;
    }
    if (!source_xyz || !detector_xyz) return btfm_dataset_set_channel_position(ds, channel, NULL);
    double mid[3];
    for (int k = 0; k < 3; k++) mid[k] = (source_xyz[k] + detector_xyz[k]) / 2;
    return btfm_dataset_set_channel_position(ds, channel, mid);
}

btfm_status btfm_dataset_copy_geometry(btfm_dataset *dst, const btfm_dataset *src)
{
    size_t n = (size_t)src->n_channels;
    if (src->positions) {
        double *table;
        btfm_status st = positions_of(dst, &table);
        if (st) return st;
        memcpy(table, src->positions, 3 * n * sizeof *table);
    }
    if (src->nirs) {
        if (!dst->nirs && !(dst->nirs = btfm_malloc(n * sizeof *dst->nirs)))
            return btfm_fail_nomem("dataset fNIRS geometry", n * sizeof *dst->nirs);
        memcpy(dst->nirs, src->nirs, n * sizeof *dst->nirs);
    }
    return src->coord_frame ? btfm_set_string(&dst->coord_frame, src->coord_frame) : BTFM_OK;
}

void btfm_dataset_drop_geometry(btfm_dataset *ds)
{
    btfm_free(ds->positions);
    btfm_free(ds->nirs);
    btfm_free(ds->coord_frame);
    ds->positions = NULL;
    ds->nirs = NULL;
    ds->coord_frame = NULL;
}
