/* One annotator's fMRI run over the same timeline as the EEG (as if recorded together,
 * without scanner artifacts in the EEG): a small grid with a brain-shaped baseline,
 * event-related responses through the canonical HRF in striatum- and vmPFC-like clusters
 * (reward), insula-like clusters (negative affect) and a visual cluster (the item on
 * screen), cosine drifts, motion seen through the baseline's gradient, and AR(1) noise
 * (doc/simulation.md, "fMRI"). Generated volume block by volume block. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <btfm/glm.h>
#include "core/parallel.h"
#include "io/volume/volume_internal.h"
#include "rating_internal.h"

#define HRF_OVERSAMPLING 50
#define HRF_LENGTH_S 32.0
#define BRAIN_X 30.0 /* semi-axes of the brain ellipsoid, mm */
#define BRAIN_Y 36.0
#define BRAIN_Z 28.0
#define DRIFT_PCT 1.0

enum { CL_REWARD = 0, CL_NEGATIVE = 1, CL_VISUAL = 2, N_CLASSES = 3 };

static const struct {
    const char *name;
    double centre[3], sigma_mm;
    int cls;
} clusters[] = {
    {"striatum_left", {-10, 10, -6}, 5, CL_REWARD},
    {"striatum_right", {10, 10, -6}, 5, CL_REWARD},
    {"vmpfc", {0, 26, -8}, 6, CL_REWARD},
    {"insula_left", {-22, 6, 2}, 5, CL_NEGATIVE},
    {"insula_right", {22, 6, 2}, 5, CL_NEGATIVE},
    {"visual", {0, -26, 4}, 7, CL_VISUAL},
};
#define N_CLUSTERS ((int)(sizeof clusters / sizeof *clusters))
static const char *const class_latent[N_CLASSES] = {"reward", "negative_affect", "item_on_screen"};

typedef struct bold_grid {
    int64_t nx, ny, nz, n;
    double voxel_mm;
} bold_grid;

static bold_grid grid_of(const btfm_sim *sim)
{
    bold_grid g;
    g.voxel_mm = RP(sim, FMRI_VOXEL_MM);
    g.nx = (int64_t)ceil(2 * (BRAIN_X + 2) / g.voxel_mm);
    g.ny = (int64_t)ceil(2 * (BRAIN_Y + 2) / g.voxel_mm);
    g.nz = (int64_t)ceil(2 * (BRAIN_Z + 2) / g.voxel_mm);
    g.n = g.nx * g.ny * g.nz;
    return g;
}

/* Millimetre coordinates of flat voxel v (the grid's affine: centred on the origin). */
static void voxel_mm(const bold_grid *g, int64_t v, double p[3])
{
    int64_t i = v % g->nx, j = (v / g->nx) % g->ny, k = v / (g->nx * g->ny);
    p[0] = ((double)i - 0.5 * (double)(g->nx - 1)) * g->voxel_mm;
    p[1] = ((double)j - 0.5 * (double)(g->ny - 1)) * g->voxel_mm;
    p[2] = ((double)k - 0.5 * (double)(g->nz - 1)) * g->voxel_mm;
}

/* Baseline intensity: about 1000 inside a smooth ellipsoid, 30 outside, with a gentle
 * pattern so motion has edges to act on. */
static double baseline_at(const double p[3])
{
    double r = sqrt(p[0] * p[0] / (BRAIN_X * BRAIN_X) + p[1] * p[1] / (BRAIN_Y * BRAIN_Y) +
                    p[2] * p[2] / (BRAIN_Z * BRAIN_Z));
    double inside = btfm_sim_logistic(12.0 * (1.0 - r));
    double tissue = 1000.0 + 100.0 * btfm_sim_cos(p[0] / 9.0) * btfm_sim_cos(p[1] / 11.0) * btfm_sim_cos(p[2] / 10.0);
    return 30.0 + (tissue - 30.0) * inside;
}

static double cluster_weight(int c, const double p[3])
{
    double d2 = 0;
    for (int k = 0; k < 3; k++) d2 += (p[k] - clusters[c].centre[k]) * (p[k] - clusters[c].centre[k]);
    double w = btfm_sim_exp(-0.5 * d2 / (clusters[c].sigma_mm * clusters[c].sigma_mm));
    return w < 0.05 ? 0.0 : btfm_sim_round6(w);
}

typedef struct bold_gen {
    const btfm_sim *sim;
    const rating_annotator *a;
    bold_grid grid;
    double tr;
    int64_t n_volumes;
    int threads;
    double *hrf, *hrf_area;   /* peak-normalized kernel and its running integral (s) */
    int64_t hrf_n;
    double hrf_dt;
    /* per voxel */
    double *base, *weight;    /* n; n x N_CLASSES */
    double *motion_gain;      /* n x 6: intensity change per mm or rad of each parameter */
    double *drift;            /* n x 3, percent */
    double *noise_state;      /* n */
    sim_rng *rng;             /* n */
    /* per volume of the block */
    double *regressor;        /* block x N_CLASSES, percent */
    double *drift_cos;        /* block x 3: the drift cosines at each volume */
    double *motion;           /* n_volumes x 6 (whole run: the truth file needs it) */
    double *regressors;       /* n_volumes x N_CLASSES (whole run, for the truth file) */
    int64_t v0, count;
    float *out;
    btfm_progress *progress;
    char stage[64];
} bold_gen;

/* The HRF (or its integral) at lag tau seconds, linearly interpolated. */
static double kernel_at(const double *k, int64_t n, double dt, double tau, double beyond)
{
    if (tau <= 0) return 0;
    double x = tau / dt;
    int64_t i = (int64_t)x;
    if (i >= n - 1) return beyond;
    return k[i] + (x - (double)i) * (k[i + 1] - k[i]);
}

/* Neural regressors at volume time t, percent: sticks at item ends scaled by the
 * perceived value, a box while the item is on screen. */
static void regressors_at(const bold_gen *g, double t, double out[N_CLASSES])
{
    const btfm_sim *sim = g->sim;
    const rating_annotator *a = g->a;
    const double effect = RP(sim, FMRI_EFFECT_PCT), scale = RP(sim, EFFECT_SCALE);
    double total_area = g->hrf_area[g->hrf_n - 1];
    for (int c = 0; c < N_CLASSES; c++) out[c] = 0;
    for (int64_t e = 0; e < a->n_events; e++) {
        const rating_event *ev = &a->events[e];
        if (ev->onset > t) break;
        if (ev->onset + ev->duration + HRF_LENGTH_S < t) continue;
        const double *p = a->perceived + (size_t)(ev->item - 1) * N_LATENT;
        if (ev->kind == EV_ITEM_END) {
            double h = kernel_at(g->hrf, g->hrf_n, g->hrf_dt, t - ev->onset, 0.0);
            out[CL_REWARD] += effect * (0.5 + scale * p[LAT_REWARD]) * h;
            out[CL_NEGATIVE] += effect * (0.5 + scale * p[LAT_NEGATIVE_AFFECT]) * h;
        } else if (ev->kind == EV_ITEM_ONSET) {
            double in = kernel_at(g->hrf_area, g->hrf_n, g->hrf_dt, t - ev->onset, total_area) -
                        kernel_at(g->hrf_area, g->hrf_n, g->hrf_dt, t - ev->onset - ev->duration, total_area);
            out[CL_VISUAL] += effect * in / total_area;
        }
    }
}

enum { VOXELS_PER_TASK = 512 };

static btfm_status voxels_task(void *ctx, int64_t task, int worker)
{
    (void)worker;
    bold_gen *g = ctx;
    const double noise = RP(g->sim, FMRI_NOISE_PCT), phi = RP(g->sim, FMRI_AR);
    const double innovation = noise * sqrt(1.0 - phi * phi);
    int64_t v0 = task * VOXELS_PER_TASK, v1 = v0 + VOXELS_PER_TASK < g->grid.n ? v0 + VOXELS_PER_TASK : g->grid.n;
    for (int64_t v = v0; v < v1; v++) {
        const double *w = g->weight + (size_t)v * N_CLASSES, *mg = g->motion_gain + (size_t)v * 6;
        const double *dr = g->drift + (size_t)v * 3;
        for (int64_t i = 0; i < g->count; i++) {
            int64_t vol = g->v0 + i;
            double e = g->noise_state[v];
            e = vol == 0 ? noise * btfm_sim_rng_normal(&g->rng[v]) : phi * e + innovation * btfm_sim_rng_normal(&g->rng[v]);
            g->noise_state[v] = e;
            double pct = e;
            for (int c = 0; c < N_CLASSES; c++) pct += w[c] * g->regressor[(size_t)i * N_CLASSES + (size_t)c];
            for (int k = 0; k < 3; k++) pct += dr[k] * g->drift_cos[(size_t)i * 3 + (size_t)k];
            double value = g->base[v] * (1.0 + 0.01 * pct);
            for (int k = 0; k < 6; k++) value += mg[k] * g->motion[(size_t)vol * 6 + (size_t)k];
            g->out[(size_t)i * (size_t)g->grid.n + (size_t)v] = (float)value;
        }
    }
    return BTFM_OK;
}

static btfm_status produce(void *ctx, int64_t first, int64_t count, float *out)
{
    bold_gen *g = ctx;
    g->v0 = first;
    g->count = count;
    g->out = out;
    const double run = (double)g->n_volumes * g->tr;
    for (int64_t i = 0; i < count; i++) {
        double *r = g->regressor + (size_t)i * N_CLASSES, t = ((double)(first + i) + 0.5) * g->tr;
        regressors_at(g, t, r);
        for (int k = 0; k < 3; k++) g->drift_cos[(size_t)i * 3 + (size_t)k] = btfm_sim_cos(SIM_PI * (k + 1) * t / run);
        memcpy(g->regressors + (size_t)(first + i) * N_CLASSES, r, N_CLASSES * sizeof(double));
    }
    int64_t tasks = (g->grid.n + VOXELS_PER_TASK - 1) / VOXELS_PER_TASK;
    btfm_status st = btfm_parallel_for(g->threads, tasks, voxels_task, g);
    if (st) return st;
    return btfm_progress_update(g->progress, g->stage, (double)(first + count) / (double)g->n_volumes);
}

static void gen_free(bold_gen *g)
{
    btfm_free(g->hrf);
    btfm_free(g->hrf_area);
    btfm_free(g->base);
    btfm_free(g->weight);
    btfm_free(g->motion_gain);
    btfm_free(g->drift);
    btfm_free(g->noise_state);
    btfm_free(g->rng);
    btfm_free(g->regressor);
    btfm_free(g->drift_cos);
    btfm_free(g->motion);
    btfm_free(g->regressors);
}

/* The SPM canonical HRF of the fmri layer on a TR / 50 grid, scaled to peak 1 and rounded
 * to float precision (libm's last bits never reach the files), with its integral. */
static btfm_status make_hrf(bold_gen *g)
{
    btfm_status st = btfm_glm_hrf(BTFM_HRF_SPM, g->tr, HRF_OVERSAMPLING, HRF_LENGTH_S, 0.0, NULL, 0, &g->hrf_n);
    if (st) return st;
    g->hrf = btfm_malloc((size_t)g->hrf_n * sizeof(double));
    g->hrf_area = btfm_malloc((size_t)g->hrf_n * sizeof(double));
    if (!g->hrf || !g->hrf_area) return btfm_fail_nomem("btfm_sim_rating_session: HRF", (size_t)g->hrf_n * 16);
    st = btfm_glm_hrf(BTFM_HRF_SPM, g->tr, HRF_OVERSAMPLING, HRF_LENGTH_S, 0.0, g->hrf, (size_t)g->hrf_n, &g->hrf_n);
    if (st) return st;
    double peak = 0;
    for (int64_t i = 0; i < g->hrf_n; i++) peak = g->hrf[i] > peak ? g->hrf[i] : peak;
    g->hrf_dt = g->tr / HRF_OVERSAMPLING;
    double area = 0;
    for (int64_t i = 0; i < g->hrf_n; i++) {
        g->hrf[i] = (double)(float)(g->hrf[i] / peak);
        g->hrf_area[i] = area;
        area += g->hrf[i] * g->hrf_dt;
    }
    return BTFM_OK;
}

static btfm_status gen_init(bold_gen *g, const btfm_sim *sim, const rating_annotator *a)
{
    memset(g, 0, sizeof *g);
    g->sim = sim;
    g->a = a;
    g->grid = grid_of(sim);
    g->tr = RP(sim, FMRI_TR);
    g->n_volumes = (int64_t)ceil(a->duration_s / g->tr);
    g->threads = btfm_sim_threads(RP(sim, NUM_THREADS));
    size_t n = (size_t)g->grid.n, nv = (size_t)g->n_volumes;
    g->base = btfm_malloc(n * sizeof(double));
    g->weight = btfm_calloc(n * N_CLASSES, sizeof(double));
    g->motion_gain = btfm_malloc(n * 6 * sizeof(double));
    g->drift = btfm_malloc(n * 3 * sizeof(double));
    g->noise_state = btfm_calloc(n, sizeof(double));
    g->rng = btfm_malloc(n * sizeof(sim_rng));
    g->regressor = btfm_malloc(16 * N_CLASSES * sizeof(double));
    g->drift_cos = btfm_malloc(16 * 3 * sizeof(double));
    g->motion = btfm_malloc(nv * 6 * sizeof(double));
    g->regressors = btfm_malloc(nv * N_CLASSES * sizeof(double));
    if (!g->base || !g->weight || !g->motion_gain || !g->drift || !g->noise_state || !g->rng ||
        !g->regressor || !g->drift_cos || !g->motion || !g->regressors)
        return btfm_fail_nomem("btfm_sim_rating_session: fMRI", n * 120 + nv * 72);
    btfm_status st = make_hrf(g);
    if (st) return st;
    uint64_t seed = (uint64_t)RP(sim, SEED), who = (uint64_t)a->index << 24;
    for (int64_t v = 0; v < g->grid.n; v++) {
        double p[3];
        voxel_mm(&g->grid, v, p);
        g->base[v] = btfm_sim_round6(baseline_at(p));
        for (int c = 0; c < N_CLUSTERS; c++) {
            double *w = &g->weight[(size_t)v * N_CLASSES + (size_t)clusters[c].cls];
            double x = cluster_weight(c, p);
            if (x > *w) *w = x;
        }
        /* Motion: a voxel moved by d sees -grad(baseline) . d; rotations (radians) move it
         * by omega x p. */
        double grad[3], step = g->grid.voxel_mm;
        for (int k = 0; k < 3; k++) {
            double q[3] = {p[0], p[1], p[2]}, r[3] = {p[0], p[1], p[2]};
            q[k] += step;
            r[k] -= step;
            grad[k] = (baseline_at(q) - baseline_at(r)) / (2 * step);
        }
        double *mg = g->motion_gain + (size_t)v * 6;
        for (int k = 0; k < 3; k++) mg[k] = btfm_sim_round6(-grad[k]);
        mg[3] = btfm_sim_round6(-(grad[1] * -p[2] + grad[2] * p[1])); /* rot_x: omega x p = (0, -z, y) */
        mg[4] = btfm_sim_round6(-(grad[0] * p[2] + grad[2] * -p[0])); /* rot_y: (z, 0, -x) */
        mg[5] = btfm_sim_round6(-(grad[0] * -p[1] + grad[1] * p[0])); /* rot_z: (-y, x, 0) */
        sim_rng r;
        btfm_sim_rng_init(&r, seed, SIM_STREAM_BOLD, (1ULL << 48) | who | (uint64_t)v);
        for (int k = 0; k < 3; k++) g->drift[(size_t)v * 3 + (size_t)k] = btfm_sim_round6(DRIFT_PCT / (k + 1) * btfm_sim_rng_normal(&r));
        btfm_sim_rng_init(&g->rng[v], seed, SIM_STREAM_BOLD, who | (uint64_t)v);
    }
    /* Motion parameters: AR(1) walks (rho 0.98) with sd fmri_motion_mm for translations and
     * fmri_motion_mm / 50 mm for rotations (radians), as fMRIPrep reports them. */
    sim_rng r;
    btfm_sim_rng_init(&r, seed, SIM_STREAM_BOLD, (2ULL << 48) | who);
    double sd = RP(sim, FMRI_MOTION_MM), rho = 0.98, drive = sqrt(1.0 - rho * rho);
    double state[6] = {0};
    for (int64_t vol = 0; vol < g->n_volumes; vol++)
        for (int k = 0; k < 6; k++) {
            double s = k < 3 ? sd : sd / 50.0;
            state[k] = vol == 0 ? s * btfm_sim_rng_normal(&r) : rho * state[k] + drive * s * btfm_sim_rng_normal(&r);
            g->motion[(size_t)vol * 6 + (size_t)k] = btfm_sim_round6(state[k]);
        }
    return BTFM_OK;
}

static btfm_status write_run_truth(const bold_gen *g, const sim_output *o)
{
    const rating_annotator *a = g->a;
    char path[192];
    static const char *const motion_columns[] = {"trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"};
    sim_table t = {0};
    snprintf(path, sizeof path, "derivatives/truth/sub-%s", a->label);
    btfm_status st = btfm_sim_make_dirs(o, path);
    if (!st) st = btfm_sim_table_new(&t, motion_columns, 6);
    for (int64_t vol = 0; !st && vol < g->n_volumes; vol++) st = btfm_sim_table_row(&t, g->motion + (size_t)vol * 6, NULL);
    snprintf(path, sizeof path, "derivatives/truth/sub-%s/sub-%s_task-rating_desc-confounds_timeseries.tsv",
             a->label, a->label);
    if (!st) st = btfm_sim_table_save(&t, o, path);
    static const char *const reg_columns[] = {"time", "reward_pct", "negative_affect_pct", "visual_pct"};
    if (!st) st = btfm_sim_table_new(&t, reg_columns, 4);
    for (int64_t vol = 0; !st && vol < g->n_volumes; vol++) {
        double cells[4] = {((double)vol + 0.5) * g->tr};
        for (int c = 0; c < N_CLASSES; c++) cells[1 + c] = btfm_sim_round6(g->regressors[(size_t)vol * N_CLASSES + (size_t)c]);
        st = btfm_sim_table_row(&t, cells, NULL);
    }
    snprintf(path, sizeof path, "derivatives/truth/sub-%s/sub-%s_task-rating_regressors.tsv", a->label, a->label);
    if (!st) st = btfm_sim_table_save(&t, o, path);
    btfm_sim_table_free(&t);
    return st;
}

btfm_status btfm_rating_write_bold(const btfm_sim *sim, const rating_design *d,
                              const rating_annotator *a, btfm_bids_writer *w,
                              const sim_output *o, btfm_progress *progress)
{
    (void)d;
    bold_gen g;
    btfm_status st = gen_init(&g, sim, a);
    g.progress = progress;
    snprintf(g.stage, sizeof g.stage, "annotator %d: fMRI", a->index + 1);
    btfm_dataset *ds = NULL;
    btfm_table *events = NULL;
    if (!st) st = btfm_dataset_generated(&ds, g.n_volumes, (int)g.grid.n, 1.0 / g.tr, 16, produce, &g);
    if (!st) st = btfm_volume_attach_grid(ds, g.grid.nx, g.grid.ny, g.grid.nz, g.grid.voxel_mm);
    if (!st) st = btfm_rating_events_table(a, 1.0 / g.tr, &events);
    char entities[96];
    snprintf(entities, sizeof entities, "sub=%s task=rating datatype=func", a->label);
    if (!st) st = btfm_bids_writer_add(w, ds, entities, BTFM_FORMAT_NIFTI,
                                       "{\"Manufacturer\": \"libbtfm sim (simulated data)\"}", events);
    if (!st) st = write_run_truth(&g, o);
    btfm_table_free(events);
    btfm_dataset_free(ds);
    gen_free(&g);
    return st;
}

/* The clusters (a table and a label image) and the HRF, the same for every annotator. */
btfm_status btfm_rating_write_bold_truth(const btfm_sim *sim, const sim_output *o)
{
    bold_grid grid = grid_of(sim);
    static const char *const columns[] = {"label", "name", "x", "y", "z", "sigma_mm", "latent",
                                          "n_voxels"};
    float *labels = btfm_calloc((size_t)grid.n, sizeof(float));
    if (!labels) return btfm_fail_nomem("btfm_sim_rating_session: cluster map", (size_t)grid.n * 4);
    int64_t counts[N_CLUSTERS] = {0};
    for (int64_t v = 0; v < grid.n; v++) {
        double p[3], best = 0.5;
        voxel_mm(&grid, v, p);
        for (int c = 0; c < N_CLUSTERS; c++) {
            double w = cluster_weight(c, p);
            if (w >= best) {
                best = w;
                labels[v] = (float)(c + 1);
            }
        }
        if (labels[v] > 0) counts[(int)labels[v] - 1]++;
    }
    sim_table t = {0};
    btfm_status st = btfm_sim_table_new(&t, columns, 8);
    for (int c = 0; !st && c < N_CLUSTERS; c++) {
        double cells[8] = {c + 1, 0, clusters[c].centre[0], clusters[c].centre[1], clusters[c].centre[2],
                           clusters[c].sigma_mm, 0, (double)counts[c]};
        const char *texts[8] = {NULL, clusters[c].name, NULL, NULL, NULL, NULL, class_latent[clusters[c].cls]};
        st = btfm_sim_table_row(&t, cells, texts);
    }
    if (!st) st = btfm_sim_table_save(&t, o, "derivatives/truth/clusters.tsv");
    btfm_dataset *ds = NULL;
    if (!st) st = btfm_dataset_from_array(&ds, labels, 1, (int)grid.n, 1.0 / RP(sim, FMRI_TR), NULL);
    if (!st) st = btfm_volume_attach_grid(ds, grid.nx, grid.ny, grid.nz, grid.voxel_mm);
    char *path = st ? NULL : btfm_sim_path(o, "derivatives/truth/clusters_dseg.nii.gz");
    if (!st) st = path ? btfm_dataset_save(ds, path, BTFM_FORMAT_NIFTI, 0) : btfm_fail_nomem("sim", 64);
    btfm_free(path);
    btfm_dataset_free(ds);
    btfm_free(labels);
    btfm_json *j = NULL;
    if (!st) st = btfm_json_new_object(&j);
    if (!st) st = btfm_json_set_string(j, "Model", "SPM canonical double gamma (btfm_glm_hrf, nilearn's spm_hrf), scaled to peak 1");
    if (!st) st = btfm_json_set_number(j, "PeakDelay", 6.0);
    if (!st) st = btfm_json_set_number(j, "UndershootDelay", 16.0);
    if (!st) st = btfm_json_set_number(j, "UndershootRatio", 0.167);
    if (!st) st = btfm_json_set_number(j, "TimeLength", HRF_LENGTH_S);
    if (!st) st = btfm_json_set_number(j, "RepetitionTime", RP(sim, FMRI_TR));
    if (!st) st = btfm_json_set_number(j, "VoxelSize", grid.voxel_mm);
    if (!st) st = btfm_json_set_number(j, "ARCoefficient", RP(sim, FMRI_AR));
    if (!st) st = btfm_json_set_number(j, "NoisePercent", RP(sim, FMRI_NOISE_PCT));
    if (!st) st = btfm_json_set_number(j, "DriftPercent", DRIFT_PCT);
    if (!st) {
        st = btfm_sim_json_save(j, o, "derivatives/truth/bold.json");
        j = NULL;
    }
    btfm_json_free(j);
    return st;
}
