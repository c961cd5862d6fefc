/* Electrode positions of EEG and iEEG (ECoG, sEEG) recordings: electrodes.tsv gives
 * name, x, y, z per contact, coordsystem.json the system and units they are in (BIDS
 * specification, modality-specific files: electrodes and coordinate systems). */
#include <math.h>
#include <string.h>
#include "bids_internal.h"

/* Metres per unit of a coordsystem's units; 0 for units that are not lengths ("pixels",
 * "n/a"). */
static double metres_per(const char *units)
{
    static const struct { const char *name; double scale; } known[] = {
        {"m", 1.0}, {"cm", 0.01}, {"mm", 0.001}};
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        if (strcmp(units, known[i].name) == 0) return known[i].scale;
    return 0.0;
}

/* A string member of the coordsystem: the modality's key first (iEEGCoordinateSystem),
 * then the other modalities' (EEG, then the generic key of newer BIDS versions). */
static const char *coordsystem_string(const btfm_json *json, const char *datatype,
                                      const char *what)
{
    const char *prefixes[] = {strcmp(datatype, "ieeg") == 0 ? "iEEG" : "EEG", "iEEG", "EEG", ""};
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++) {
        char key[64];
        strcpy(key, prefixes[i]);
        strcat(key, what);
        const btfm_json *v = btfm_json_get(json, key);
        if (btfm_json_kind_of(v) == BTFM_JSON_STRING) return btfm_json_string(v);
    }
    return NULL;
}

static btfm_status refuse(const btfm_bids *b, const char *where, const char *rule,
                          const char *what)
{
    if (b->flags & BTFM_BIDS_LENIENT) {
        btfm_warn("bids: %s: rule %s: %s; positions not applied", where, rule, what);
        return BTFM_E_NOTFOUND;
    }
    return btfm_fail(BTFM_E_FORMAT, "bids: %s: rule %s: %s", where, rule, what);
}

/* The system name and metres per unit of the coordsystem.json paired with `electrodes`;
 * BTFM_E_NOTFOUND (after a warning) when lenient mode skips the positions. */
static btfm_status read_coordsystem(const btfm_bids *b, const btfm_bids_recording *r,
                                    const btfm_bids_file *electrodes, const char **system,
                                    double *scale)
{
    const char *space = btfm_bids_name_get(&electrodes->parsed, "space");
    int n;
    const btfm_bids_file *c = btfm_bids_spatial_file(b, r, "coordsystem", ".json", space, &n);
    if (!c)
        return refuse(b, electrodes->path, "electrodes-coordsystem",
                      "no coordsystem.json of the same space states the coordinates' system "
                      "and units");
    if (c->problem) return refuse(b, c->path, "electrodes-coordsystem", c->problem);
    *system = coordsystem_string(c->json, r->datatype, "CoordinateSystem");
    const char *units = coordsystem_string(c->json, r->datatype, "CoordinateUnits");
    if (!*system || !**system || !units)
        return refuse(b, c->path, "coordsystem-fields",
                      strcmp(r->datatype, "ieeg") == 0
                          ? "iEEGCoordinateSystem and iEEGCoordinateUnits must be strings"
                          : "EEGCoordinateSystem and EEGCoordinateUnits must be strings");
    if (!(*scale = metres_per(units))) {
        btfm_warn("bids: %s: coordinate units \"%s\" are not m, cm or mm; positions not applied",
                  c->path, units);
        return BTFM_E_NOTFOUND;
    }
    return BTFM_OK;
}

/* Columns name, x, y, z of the table as numbers (NaN for n/a), into xyz (3 x n_rows). */
static btfm_status read_columns(const btfm_table *t, const char *where, int *name_col,
                                double *xyz[3])
{
    static const char *const axes[] = {"x", "y", "z"};
    int64_t n_rows = btfm_table_n_rows(t);
    if (btfm_table_find_column(t, "name", name_col))
        return btfm_fail(BTFM_E_FORMAT, "bids: %s: rule electrodes-columns: no column \"name\" "
                         "(expected name, x, y, z)", where);
    for (int k = 0; k < 3; k++) {
        int col;
        if (btfm_table_find_column(t, axes[k], &col))
            return btfm_fail(BTFM_E_FORMAT, "bids: %s: rule electrodes-columns: no column "
                             "\"%s\" (expected name, x, y, z)", where, axes[k]);
        size_t bytes = (size_t)(n_rows > 0 ? n_rows : 1) * sizeof(double);
        if (!(xyz[k] = btfm_malloc(bytes))) return btfm_fail_nomem("electrodes.tsv", bytes);
        btfm_status st = btfm_table_column_numbers(t, col, xyz[k]);
        if (st) return st;
    }
    return BTFM_OK;
}

btfm_status btfm_bids_apply_electrodes(const btfm_bids *b, const btfm_bids_recording *r,
                                       btfm_dataset *ds)
{
    int n_candidates;
    const btfm_bids_file *e = btfm_bids_spatial_file(b, r, "electrodes", ".tsv", NULL,
                                                     &n_candidates);
    if (!e) return BTFM_OK;
    if (n_candidates > 1)
        btfm_warn("bids: %s: %d electrodes.tsv files of different spaces apply; positions "
                  "from %s", r->rel, n_candidates, e->name);
    const char *system = NULL;
    double scale = 0.0;
    btfm_status st = read_coordsystem(b, r, e, &system, &scale);
    if (st) return st == BTFM_E_NOTFOUND ? BTFM_OK : st;
    btfm_table *t;
    if ((st = btfm_table_read(&t, e->path))) return st;
    double *xyz[3] = {NULL, NULL, NULL};
    int name_col;
    st = read_columns(t, e->path, &name_col, xyz);
    /* The file describes the contacts anew: positions from the data file give way. */
    for (int ch = 0; !st && ch < ds->n_channels; ch++)
        st = btfm_dataset_set_channel_position(ds, ch, NULL);
    for (int64_t row = 0; !st && row < btfm_table_n_rows(t); row++) {
        int ch;
        double p[3] = {xyz[0][row] * scale, xyz[1][row] * scale, xyz[2][row] * scale};
        /* Contacts the recording lacks (unrecorded, bipolar pairs' members) and contacts
         * without coordinates (n/a) give no position. */
        if (btfm_dataset_find_channel(ds, btfm_table_cell(t, row, name_col), &ch)) continue;
        if (!isfinite(p[0]) || !isfinite(p[1]) || !isfinite(p[2])) continue;
        st = btfm_dataset_set_channel_position(ds, ch, p);
    }
    if (!st) {
        btfm_clear_error(); /* the contacts find_channel did not find */
        st = btfm_dataset_set_coordinate_frame(ds, system);
    }
    for (int k = 0; k < 3; k++) btfm_free(xyz[k]);
    btfm_table_free(t);
    return st;
}
