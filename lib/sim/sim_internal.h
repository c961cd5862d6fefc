/* The sim layer's shared pieces: the simulator handle, the output folder that appears
 * only when complete, table and JSON helpers for the truth files, the EEG montage, the
 * 1/f noise filter and the thread count. */
#ifndef BTFM_SIM_INTERNAL_H
#define BTFM_SIM_INTERNAL_H

#include <btfm/bids.h>
#include <btfm/dataset.h>
#include <btfm/param.h>
#include <btfm/sim.h>
#include <btfm/table.h>
#include <btfm/version.h>
#include "core/atomic_file.h"
#include "core/internal.h"
#include "core/json.h"
#include "core/param.h"
#include "core/progress.h"
#include "sim_math.h"
#include "sim_random.h"

#define SIM_MAX_PARAMS 64

struct btfm_sim {
    int kind;                         /* btfm_object_kind */
    const btfm_param_table *table;
    double params[SIM_MAX_PARAMS];
    btfm_progress_fn progress;
    void *progress_user;
};

extern const btfm_param_table btfm_sim_rating_param_table;
extern const btfm_param_table btfm_sim_shared_param_table;

/* Parameter `param` of the simulator (checked indices: the tables' own enums). */
static inline double sim_param(const btfm_sim *sim, int param) { return sim->params[param]; }
static inline int sim_param_int(const btfm_sim *sim, int param) { return (int)sim->params[param]; }

/* Threads for a session: num_threads, else BTFM_NUM_THREADS, else the processors online
 * (at most 16). */
int btfm_sim_threads(double num_threads);

/* ---- the output folder (sim_output.c) ---- */

/* A dataset written into a temporary folder beside `final` and renamed into place. */
typedef struct sim_output {
    char *final;  /* the folder asked for */
    char *root;   /* the temporary folder being written */
} sim_output;

/* Refuse an existing non-empty `out_dir`; make the temporary folder. */
btfm_status btfm_sim_output_begin(sim_output *o, const char *out_dir, const char *func);
/* Rename the finished folder into place (replacing an empty `final`). */
btfm_status btfm_sim_output_commit(sim_output *o);
/* Remove the temporary folder and everything in it; free the paths. */
void btfm_sim_output_abort(sim_output *o);
/* root + "/" + relative, a new string (NULL when out of memory). */
char *btfm_sim_path(const sim_output *o, const char *relative);
/* Create the folders of `relative` (a folder path) under the root. */
btfm_status btfm_sim_make_dirs(const sim_output *o, const char *relative);

/* ---- tables and JSON ---- */

/* A number for a TSV cell or JSON: the shortest text that reads back to the same
 * double (whole numbers without exponent), "n/a" for NaN. buf holds 32 bytes. */
const char *btfm_sim_cell(double value, char *buf);

/* Round to 6 decimals: truth values are drawn, rounded, then used, so the files hold
 * exactly what the generator used, in short text. */
double btfm_sim_round6(double value);

/* A table with `n` columns whose rows are added as doubles (NaN for n/a) or strings. */
typedef struct sim_table {
    btfm_table *t;
    int n_columns;
} sim_table;
btfm_status btfm_sim_table_new(sim_table *st, const char *const *columns, int n_columns);
/* cells[j] is used when texts == NULL or texts[j] == NULL, else texts[j]. */
btfm_status btfm_sim_table_row(sim_table *st, const double *cells, const char *const *texts);
/* Save under the output root at `relative` and free the table (also on failure). */
btfm_status btfm_sim_table_save(sim_table *st, const sim_output *o, const char *relative);
void btfm_sim_table_free(sim_table *st);

/* A TSV file written row by row (for tables too long to hold as text cells): header,
 * then rows of an optional leading text cell and numbers; atomic. */
typedef struct sim_tsv {
    btfm_atomic_file af;
    int open;
} sim_tsv;
btfm_status btfm_sim_tsv_open(sim_tsv *t, const sim_output *o, const char *relative,
                         const char *const *columns, int n_columns);
void btfm_sim_tsv_row(sim_tsv *t, const char *text, const double *values, int n_values);
/* Commit (BTFM_E_IO when a write failed); abort removes the file. */
btfm_status btfm_sim_tsv_close(sim_tsv *t);
void btfm_sim_tsv_abort(sim_tsv *t);

/* Write a JSON object at root/relative and free it (also on failure). */
btfm_status btfm_sim_json_save(btfm_json *j, const sim_output *o, const char *relative);

/* Every parameter of the simulator as a JSON object {name: value}. */
btfm_status btfm_sim_params_json(const btfm_sim *sim, btfm_json **out);

/* derivatives/truth/dataset_description.json (a BIDS derivative) with the parameters
 * in parameters.json beside it. */
btfm_status btfm_sim_truth_description(const btfm_sim *sim, const sim_output *o);

/* ---- EEG montage (montage.c) ---- */

/* Names and unit-sphere positions (x right, y anterior, z up) of the first n_channels
 * sites of the montage order (the 32-channel 10-20 cap, then the 64-channel 10-10 cap,
 * then 10-5 sites), n_channels <= SIM_MONTAGE_MAX. */
#define SIM_MONTAGE_MAX 128
void btfm_sim_montage(int n_channels, const char **names, double (*positions)[3]);
/* The position of any 10-20/10-10/10-5 label ("CPz", "FFC3h"); 0 when unknown. */
int btfm_sim_site_position(const char *label, double position[3]);

/* ---- 1/f noise (pink.c) ---- */

/* A cascade of first-order pole-zero sections whose power falls as 1/f^exponent from
 * f_low up to Nyquist (poles two per decade, zeros between them), scaled so that unit
 * white input gives unit output variance. */
#define SIM_PINK_MAX_SECTIONS 24
typedef struct sim_pink {
    int n_sections;
    double pole[SIM_PINK_MAX_SECTIONS], zero[SIM_PINK_MAX_SECTIONS], gain[SIM_PINK_MAX_SECTIONS];
    double input_scale;
} sim_pink;
void btfm_sim_pink_design(sim_pink *p, double exponent, double f_low, double sfreq);

/* State of `n` parallel filters (section-major: state[k * n + i]). */
typedef struct sim_pink_state {
    double *x_prev, *y_prev; /* SIM_PINK_MAX_SECTIONS * n each */
    int n;
} sim_pink_state;
btfm_status btfm_sim_pink_state_new(sim_pink_state *s, int n);
void btfm_sim_pink_state_free(sim_pink_state *s);
/* Filter `count` rows of white noise in place: x[t * stride + i] for filters
 * i in [first, first + width) of the state, t in [0, count). */
void btfm_sim_pink_run(const sim_pink *p, sim_pink_state *s, int first, int width, float *x,
                  int64_t count, size_t stride);

#endif
