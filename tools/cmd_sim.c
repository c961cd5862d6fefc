/* btfm sim: write a simulated rating session or shared-response session as a BIDS folder
 * with its ground truth (include/btfm/sim.h), with a progress bar; optionally draw the
 * written session's event-locked averages by latent value, read back from the files. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "cli.h"
#include "svg_plot.h"

/* What nftw counts: the files written and their bytes. */
typedef struct tally {
    long files;
    double bytes;
} tally;
static _Thread_local tally *counting;

static int count_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)path;
    (void)ftw;
    if (flag == FTW_F) {
        counting->files++;
        counting->bytes += (double)sb->st_size;
    }
    return 0;
}

/* ---- --plot: event-locked averages by tercile of the latent value ---- */

enum { PLOT_SAMPLES_MAX = 1024 };

/* One panel: a component read at `channel`, locked to `event`, split by `latent`. */
typedef struct panel_spec {
    const char *title, *channel, *event, *latent;
} panel_spec;

static const panel_spec panels[] = {
    {"reward positivity at Pz, by item reward", "Pz", "item_end", "reward"},
    {"FRN at Fz, by negative affect", "Fz", "item_end", "negative_affect"},
    {"P3a at Cz, by novelty", "Cz", "item_onset", "novelty"},
};
#define N_PANELS (int)(sizeof panels / sizeof panels[0])

/* The items' latent values from derivatives/truth/items.tsv: latent[p][item] for each
 * panel's column; the tercile bounds of each. */
static int read_latents(const char *root, double **latent, int *n_items, double bounds[][2])
{
    char path[4096];
    snprintf(path, sizeof path, "%s/derivatives/truth/items.tsv", root);
    btfm_table *t;
    if (btfm_table_read(&t, path)) return cli_fail("sim", "--plot");
    *n_items = (int)btfm_table_n_rows(t);
    for (int p = 0; p < N_PANELS; p++) {
        int col;
        latent[p] = calloc((size_t)*n_items + 1, sizeof(double));
        double *sorted = calloc((size_t)*n_items + 1, sizeof(double));
        if (!latent[p] || !sorted || btfm_table_find_column(t, panels[p].latent, &col) ||
            btfm_table_column_numbers(t, col, latent[p])) {
            free(sorted);
            btfm_table_free(t);
            return cli_fail("sim", "--plot");
        }
        memcpy(sorted, latent[p], sizeof(double) * (size_t)*n_items);
        for (int i = 1; i < *n_items; i++) /* insertion sort: items are few */
            for (int j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
                double x = sorted[j];
                sorted[j] = sorted[j - 1];
                sorted[j - 1] = x;
            }
        bounds[p][0] = sorted[*n_items / 3];
        bounds[p][1] = sorted[2 * *n_items / 3];
        free(sorted);
    }
    btfm_table_free(t);
    return CLI_OK;
}

/* Add every annotator's epochs (-0.2 .. 0.8 s, baseline the 200 ms before) of each panel
 * to sums by tercile. */
static int accumulate(const char *root, double **latent, int n_items, double bounds[][2],
                      double sums[][3][PLOT_SAMPLES_MAX], long counts[][3], double *sfreq,
                      int *n_samples)
{
    btfm_bids *b;
    if (btfm_bids_open(&b, root, 0)) return cli_fail("sim", "--plot");
    int64_t n_rec, indices[1024];
    int rc = CLI_OK;
    if (btfm_bids_query(b, "datatype=eeg", indices, 1024, &n_rec)) rc = cli_fail("sim", "--plot");
    for (int64_t r = 0; rc == CLI_OK && r < n_rec && r < 1024; r++) {
        btfm_dataset *ds;
        if (btfm_bids_open_recording(b, indices[r], &ds)) {
            rc = cli_fail("sim", "--plot");
            break;
        }
        *sfreq = btfm_dataset_sfreq(ds);
        int pre = (int)lround(0.2 * *sfreq), len = (int)lround(1.0 * *sfreq);
        if (len > PLOT_SAMPLES_MAX) len = PLOT_SAMPLES_MAX;
        *n_samples = len;
        const btfm_table *events;
        int type_col, item_col;
        float *window = malloc(sizeof(float) * (size_t)len);
        if (!window || btfm_dataset_events_table(ds, &events) ||
            btfm_table_find_column(events, "trial_type", &type_col) ||
            btfm_table_find_column(events, "item_id", &item_col)) {
            free(window);
            btfm_dataset_free(ds);
            rc = cli_fail("sim", "--plot");
            break;
        }
        for (int p = 0; p < N_PANELS && rc == CLI_OK; p++) {
            int channel;
            if (btfm_dataset_find_channel(ds, panels[p].channel, &channel) ||
                btfm_dataset_channel_bad(ds, channel) == 1)
                continue; /* this montage lacks the channel, or it is bad here */
            for (int64_t e = 0; e < btfm_table_n_rows(events); e++) {
                if (strcmp(btfm_table_cell(events, e, type_col), panels[p].event) != 0) continue;
                double onset;
                int64_t k;
                btfm_dataset_event(ds, e, &onset, NULL, NULL, NULL, NULL);
                int64_t first = (int64_t)llround(onset * *sfreq) - pre;
                int item = atoi(btfm_table_cell(events, e, item_col));
                if (first < 0 || first + len > btfm_dataset_n_times(ds) || item < 1 || item > n_items)
                    continue;
                if (btfm_dataset_read(ds, first, len, &channel, 1, window)) {
                    rc = cli_fail("sim", "--plot");
                    break;
                }
                double base = 0;
                for (k = 0; k < pre; k++) base += window[k];
                base /= pre;
                double v = latent[p][item - 1];
                int tercile = v < bounds[p][0] ? 0 : v < bounds[p][1] ? 1 : 2;
                for (k = 0; k < len; k++) sums[p][tercile][k] += 1e6 * (window[k] - base);
                counts[p][tercile]++;
            }
        }
        free(window);
        btfm_dataset_free(ds);
    }
    btfm_bids_free(b);
    return rc;
}

static int plot_session(const char *root, const char *svg)
{
    double *latent[N_PANELS] = {0}, bounds[N_PANELS][2], sfreq = 0;
    static double sums[N_PANELS][3][PLOT_SAMPLES_MAX];
    long counts[N_PANELS][3] = {{0}};
    int n_items = 0, n_samples = 0;
    memset(sums, 0, sizeof sums);
    int rc = read_latents(root, latent, &n_items, bounds);
    if (rc == CLI_OK) rc = accumulate(root, latent, n_items, bounds, sums, counts, &sfreq, &n_samples);
    svg_figure *fig = rc == CLI_OK ? svg_figure_new(1, N_PANELS, 520, 380,
                                                   "Event-locked averages over annotators, by tercile of the latent value")
                                   : NULL;
    if (rc == CLI_OK && !fig) rc = cli_fail("sim", "--plot");
    static const char *const names[3] = {"lowest third", "middle third", "highest third"};
    double t[PLOT_SAMPLES_MAX], y[PLOT_SAMPLES_MAX];
    for (int k = 0; k < n_samples; k++) t[k] = (k - 0.2 * sfreq) / sfreq;
    for (int p = 0; rc == CLI_OK && p < N_PANELS; p++) {
        svg_axes *ax = svg_figure_axes(fig, 0, p);
        svg_axes_set_title(ax, panels[p].title);
        svg_axes_set_labels(ax, "time after the event (s)", "microvolts");
        for (int q = 0; q < 3; q++) {
            for (int k = 0; k < n_samples; k++) y[k] = counts[p][q] ? sums[p][q][k] / counts[p][q] : NAN;
            char label[64];
            snprintf(label, sizeof label, "%s (%ld epochs)", names[q], counts[p][q]);
            if (svg_axes_line(ax, t, y, n_samples, label, q)) rc = cli_fail("sim", "--plot");
        }
        svg_axes_vline(ax, 0, panels[p].event);
    }
    char err[512];
    if (rc == CLI_OK && svg_figure_save(fig, svg, err, sizeof err)) {
        fprintf(stderr, "btfm sim: %s\n", err);
        rc = CLI_FAILED;
    }
    svg_figure_free(fig);
    for (int p = 0; p < N_PANELS; p++) free(latent[p]);
    return rc;
}

/* ---- the command ---- */

int cmd_sim(int argc, char **argv)
{
    if (argc < 2) return cli_usage_error("sim", "expected rating-session or shared-response");
    int rating = strcmp(argv[1], "rating-session") == 0;
    if (!rating && strcmp(argv[1], "shared-response") != 0)
        return cli_usage_error("sim", "unknown simulator '%s' (rating-session, shared-response)",
                               argv[1]);
    int kind = rating ? BTFM_OBJECT_SIM_RATING_SESSION : BTFM_OBJECT_SIM_SHARED_RESPONSE;
    const char *out = NULL, *svg = NULL;
    btfm_sim *sim;
    if (btfm_sim_new(&sim, kind)) return cli_fail("sim", NULL);
    int rc = CLI_OK;
    for (int i = 2; i < argc && rc == CLI_OK; i++) {
        if (strcmp(argv[i], "--param") == 0 && i + 1 < argc) {
            int param;
            double value;
            rc = cli_param_option("sim", kind, argv[++i], &param, &value);
            if (rc == CLI_OK && btfm_sim_set_param(sim, param, value)) rc = cli_fail("sim", NULL);
        } else if (strcmp(argv[i], "--plot") == 0 && i + 1 < argc && rating) {
            svg = argv[++i];
        } else if (argv[i][0] == '-') {
            rc = !rating && strcmp(argv[i], "--plot") == 0
                     ? cli_usage_error("sim", "unknown option '--plot' (rating-session only)")
                     : cli_unknown_option("sim", argv[i]);
        } else if (!out) {
            out = argv[i];
        } else {
            rc = cli_usage_error("sim", "expected one OUT folder, got '%s' too", argv[i]);
        }
    }
    if (rc == CLI_OK && !out) rc = cli_usage_error("sim", "%s needs an OUT folder", argv[1]);
    if (rc != CLI_OK) {
        btfm_sim_free(sim);
        return rc;
    }
    cli_progress bar;
    cli_progress_init(&bar);
    btfm_sim_set_progress(sim, cli_progress_fn, &bar);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    btfm_status st = rating ? btfm_sim_rating_session(sim, out) : btfm_sim_shared_response(sim, out);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    cli_progress_finish(&bar);
    if (st) {
        btfm_sim_free(sim);
        return cli_fail("sim", argv[1]);
    }
    double seed, people, size;
    btfm_sim_get_param(sim, 0, &seed);
    btfm_sim_get_param(sim, 1, &people);
    btfm_sim_get_param(sim, 2, &size);
    btfm_sim_free(sim);
    tally t = {0, 0};
    counting = &t;
    nftw(out, count_entry, 16, FTW_PHYS);
    counting = NULL;
    printf("%s: %s, %.0f %s x %.0f %s, %ld files, %.1f MB, %.2f s (seed %.0f)\n", out,
           rating ? "rating session" : "shared response", people,
           rating ? "annotators" : "subjects", size, rating ? "items" : "time points", t.files,
           t.bytes / 1e6, (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec),
           seed);
    if (svg) {
        rc = plot_session(out, svg);
        if (rc == CLI_OK) printf("%s: event-locked averages by latent value\n", svg);
    }
    return rc;
}
