/* SNIRF measurement channels: MNE's names ("S1_D1 760", "S1_D1 hbo"), types and units
 * from dataType and dataTypeLabel, and the probe's wavelengths and optode positions. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <btfm/fnirs.h>
#include "snirf_internal.h"

enum { DATA_CW_AMPLITUDE = 1, DATA_PROCESSED = 99999 };

/* An optode table (n x 3, or n x 2 with z = 0) in metres; NULL when absent. Tables
 * written transposed (3 x n, as MATLAB writers sometimes do) are read as well. */
static btfm_status optodes(const btfm_h5_where *w, hid_t probe, const char *kind, double scale,
                           double **xyz, int *n)
{
    char name3[32], name2[32], path[512];
    snprintf(name3, sizeof name3, "%sPos3D", kind);
    snprintf(name2, sizeof name2, "%sPos2D", kind);
    const char *name = btfm_h5_exists(probe, name3) ? name3 : btfm_h5_exists(probe, name2) ? name2 : NULL;
    *xyz = NULL;
    *n = 0;
    if (!name) return BTFM_OK;
    int want = name == name3 ? 3 : 2, rank;
    double *v;
    size_t count;
    hsize_t dims[4];
    btfm_status st = btfm_h5_read_doubles(w, probe, name, &v, &count, &rank, dims);
    if (st) return st;
    btfm_h5_path(probe, name, path, sizeof path);
    int transposed = rank == 2 && dims[1] != (hsize_t)want && dims[0] == (hsize_t)want;
    hsize_t rows = rank == 1 ? 1 : transposed ? dims[1] : dims[0];
    hsize_t cols = rank == 1 ? dims[0] : transposed ? dims[0] : dims[1];
    if (rank > 2 || cols != (hsize_t)want || rows > 100000) {
        btfm_free(v);
        return btfm_h5_fail(w, BTFM_E_FORMAT, path, "has shape %llu x %llu, expected n x %d",
                            (unsigned long long)dims[0], (unsigned long long)(rank > 1 ? dims[1] : 1),
                            want);
    }
    double *out = btfm_malloc((size_t)(rows ? rows : 1) * 3 * sizeof *out);
    if (!out) {
        btfm_free(v);
        return btfm_fail_nomem(w->format, (size_t)rows * 3 * sizeof *out);
    }
    for (hsize_t r = 0; r < rows; r++)
        for (int k = 0; k < 3; k++) {
            double x = k < want ? (transposed ? v[k * rows + r] : v[r * (hsize_t)want + k]) : 0.0;
            out[r * 3 + k] = x * scale;
        }
    btfm_free(v);
    for (size_t i = 0; i < (size_t)rows * 3; i++)
        if (!isfinite(out[i])) {
            btfm_free(out);
            return btfm_h5_fail(w, BTFM_E_FORMAT, path, "optode %zu has a coordinate that is "
                                "not finite", i / 3 + 1);
        }
    *xyz = out;
    *n = (int)rows;
    return BTFM_OK;
}

/* The channel type for a processed dataTypeLabel (case-insensitive). */
static int processed_type(const char *label, char *lower, size_t size)
{
    size_t i = 0;
    for (; label[i] && i + 1 < size; i++) lower[i] = (char)tolower((unsigned char)label[i]);
    lower[i] = '\0';
    if (strcmp(lower, "hbo") == 0) return BTFM_CH_HBO;
    if (strcmp(lower, "hbr") == 0) return BTFM_CH_HBR;
    if (strcmp(lower, "dod") == 0) return BTFM_CH_FNIRS_OD;
    return BTFM_CH_MISC;
}

static btfm_status fill(btfm_channel *c, const char *name, const char *stored_unit, int type)
{
    double factor;
    const char *si;
    const char *unit = stored_unit;
    c->gain = 1.0;
    c->type = type;
    if (*stored_unit && btfm_unit_to_si(stored_unit, &factor, &si)) {
        c->gain = factor;
        unit = si;
    }
    /* Molar concentrations: MNE's unit for HbO/HbR is M (mol/L). */
    static const struct { const char *name; double factor; } molar[] = {
        {"M", 1}, {"mol/L", 1}, {"mM", 1e-3}, {"mmol/L", 1e-3}, {"uM", 1e-6}, {"umol/L", 1e-6},
        {"\xc2\xb5M", 1e-6}, {"nM", 1e-9}};
    for (size_t i = 0; i < sizeof molar / sizeof *molar; i++)
        if (strcmp(stored_unit, molar[i].name) == 0) {
            c->gain = molar[i].factor;
            unit = "M";
        }
    if (!*stored_unit)
        unit = type == BTFM_CH_HBO || type == BTFM_CH_HBR ? "M"
             : type == BTFM_CH_FNIRS_CW_AMPLITUDE ? "V" : "";
    if (btfm_io_strdup(&c->name, name, strlen(name)) || btfm_io_strdup(&c->unit, unit, strlen(unit)) ||
        btfm_io_strdup(&c->stored_unit, stored_unit, strlen(stored_unit)) ||
        btfm_io_strdup(&c->transducer, "", 0) || btfm_io_strdup(&c->prefilter, "", 0))
        return btfm_fail_nomem("snirf", strlen(name) + 64);
    return BTFM_OK;
}

/* Names stay unique: a repeated name gets " (2)", " (3)", ... */
static void make_unique(const btfm_dataset *ds, int upto, char *name, size_t size)
{
    size_t base = strlen(name);
    for (int k = 2;; k++) {
        int clash = 0;
        for (int j = 0; j < upto && !clash; j++) clash = strcmp(ds->channels[j].name, name) == 0;
        if (!clash) return;
        snprintf(name + base, size - base, " (%d)", k);
    }
}

btfm_status btfm_snirf_channels(btfm_dataset *ds, const btfm_h5_where *w, hid_t nirs,
                                const snirf_measurement *m, int n, double length_scale)
{
    char path[512];
    hid_t probe = btfm_h5_exists(nirs, "probe") ? H5Gopen2(nirs, "probe", H5P_DEFAULT) : -1;
    btfm_h5_path(nirs, "probe", path, sizeof path);
    if (probe < 0) return btfm_h5_fail(w, BTFM_E_FORMAT, path, "missing (expected a group)");
    double *wavelengths = NULL, *src = NULL, *det = NULL;
    size_t n_wavelengths = 0;
    int n_src = 0, n_det = 0;
    btfm_status st = BTFM_OK;
    if (btfm_h5_exists(probe, "wavelengths"))
        st = btfm_h5_read_doubles(w, probe, "wavelengths", &wavelengths, &n_wavelengths, NULL, NULL);
    /* Without a length unit the positions' scale is unknown: leave them out. */
    if (!st && length_scale > 0 && !(st = optodes(w, probe, "source", length_scale, &src, &n_src)))
        st = optodes(w, probe, "detector", length_scale, &det, &n_det);
    if (!src || !det) n_src = n_det = 0;
    for (int i = 0; i < n && !st; i++) {
        const snirf_measurement *mi = &m[i];
        char list[48], name[160], lower[64];
        snprintf(list, sizeof list, "data1/measurementList%d", i + 1);
        btfm_h5_path(nirs, list, path, sizeof path);
        int type;
        if (mi->data_type == DATA_CW_AMPLITUDE) type = BTFM_CH_FNIRS_CW_AMPLITUDE;
        else if (mi->data_type == DATA_PROCESSED) type = processed_type(mi->label, lower, sizeof lower);
        else {
            st = btfm_h5_fail(w, BTFM_E_UNSUPPORTED, path, "dataType %d: only continuous-wave "
                              "amplitude (1) and processed data (99999) are read",
                              mi->data_type);
            break;
        }
        if (mi->data_type == DATA_PROCESSED && !*mi->label) {
            st = btfm_h5_fail(w, BTFM_E_FORMAT, path, "processed data (dataType 99999) without "
                              "a dataTypeLabel (expected HbO, HbR, dOD, ...)");
            break;
        }
        double wavelength = NAN;
        int needs_wavelength = type == BTFM_CH_FNIRS_CW_AMPLITUDE || type == BTFM_CH_FNIRS_OD;
        if (needs_wavelength) {
            if (mi->wavelength_index < 1 || (size_t)mi->wavelength_index > n_wavelengths) {
                st = btfm_h5_fail(w, BTFM_E_FORMAT, path, "wavelengthIndex %d is outside the "
                                  "%zu wavelengths of /nirs/probe/wavelengths",
                                  mi->wavelength_index, n_wavelengths);
                break;
            }
            wavelength = wavelengths[mi->wavelength_index - 1];
            if (!(wavelength > 0) || !isfinite(wavelength)) {
                st = btfm_h5_fail(w, BTFM_E_FORMAT, path, "wavelength %g nm is not positive",
                                  wavelength);
                break;
            }
            /* MNE names channels by the wavelength as an integer (int(), truncating). */
            snprintf(name, sizeof name, "S%d_D%d %lld", mi->source, mi->detector,
                     (long long)wavelength);
        } else {
            snprintf(name, sizeof name, "S%d_D%d %s", mi->source, mi->detector, lower);
        }
        make_unique(ds, i, name, sizeof name);
        if ((st = fill(&ds->channels[i], name, mi->unit, type))) break;
        if (n_src && (mi->source > n_src || mi->detector > n_det)) {
            st = btfm_h5_fail(w, BTFM_E_FORMAT, path, "source %d, detector %d: the probe has %d "
                              "sources and %d detectors", mi->source, mi->detector, n_src, n_det);
            break;
        }
        st = btfm_dataset_set_nirs_channel(ds, i, mi->source, mi->detector, wavelength,
                                           n_src ? src + 3 * (mi->source - 1) : NULL,
                                           n_src ? det + 3 * (mi->detector - 1) : NULL);
    }
    btfm_free(wavelengths);
    btfm_free(src);
    btfm_free(det);
    H5Gclose(probe);
    return st;
}
