/* btfm_sim_shared_response: N subjects see the same stimulus; a K-dimensional shared time
 * course s(t) (unit-variance AR(1) components) drives each subject's V features through
 * an orthonormal mixing W_i = orth(c W_0 + sqrt(1 - c^2) Q_i) with spatially smooth W_0
 * and Q_i, plus Gaussian noise at the subject's SNR: x_i(t) = b + a (W_i s(t) + e_i(t))
 * (Chen et al. 2015's generative model with controllable anatomical correspondence c).
 * Written as NIfTI or EEG recordings, streamed row block by row block. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "core/parallel.h"
#include "io/dataset_internal.h"
#include "io/volume/volume_internal.h"
#include "sim_internal.h"

#define SP(sim, name) sim_param(sim, BTFM_SIM_SHARED_##name)
#define BLOCK_ROWS 64 /* rows generated at a time, at least */
#define VOXEL_MM 3.0

typedef struct shared_layout {
    int nifti;
    int64_t nx, ny, nz, n_features;
    const char *names[SIM_MONTAGE_MAX];
    double positions[SIM_MONTAGE_MAX][3];
} shared_layout;

static double sample_rate(const btfm_sim *sim, int nifti)
{
    double rate = SP(sim, SAMPLE_RATE);
    return rate > 0 ? rate : nifti ? 0.5 : 100.0;
}

/* A field of V x K normals, smoothed over the layout: a separable Gaussian of `width`
 * voxels on the grid, or a Gaussian of 0.3 x width radians over the scalp. */
static btfm_status smooth_field(const shared_layout *l, int64_t k_count, double width, double *w)
{
    if (!(width > 0)) return BTFM_OK;
    int64_t v_count = l->n_features;
    double *tmp = btfm_malloc((size_t)v_count * (size_t)k_count * sizeof(double));
    if (!tmp) return btfm_fail_nomem("btfm_sim_shared_response: smoothing", (size_t)v_count * 8);
    if (!l->nifti) {
        double angle = 0.3 * width;
        for (int64_t v = 0; v < v_count; v++) {
            for (int64_t k = 0; k < k_count; k++) tmp[v * k_count + k] = 0;
            for (int64_t u = 0; u < v_count; u++) {
                const double *p = l->positions[v], *q = l->positions[u];
                double g = btfm_sim_exp((p[0] * q[0] + p[1] * q[1] + p[2] * q[2] - 1.0) / (angle * angle));
                for (int64_t k = 0; k < k_count; k++) tmp[v * k_count + k] += g * w[u * k_count + k];
            }
        }
        memcpy(w, tmp, (size_t)v_count * (size_t)k_count * sizeof(double));
        btfm_free(tmp);
        return BTFM_OK;
    }
    int radius = (int)ceil(3 * width);
    double kernel[64];
    if (radius > 31) radius = 31;
    for (int d = -radius; d <= radius; d++) kernel[d + radius] = btfm_sim_exp(-0.5 * d * d / (width * width));
    const int64_t size[3] = {l->nx, l->ny, l->nz}, stride[3] = {1, l->nx, l->nx * l->ny};
    for (int axis = 0; axis < 3; axis++) {
        for (int64_t v = 0; v < v_count; v++) {
            int64_t coord = (v / stride[axis]) % size[axis];
            for (int64_t k = 0; k < k_count; k++) tmp[v * k_count + k] = 0;
            for (int d = -radius; d <= radius; d++) {
                int64_t c = coord + d;
                if (c < 0 || c >= size[axis]) continue;
                int64_t u = v + (int64_t)d * stride[axis];
                for (int64_t k = 0; k < k_count; k++) tmp[v * k_count + k] += kernel[d + radius] * w[u * k_count + k];
            }
        }
        memcpy(w, tmp, (size_t)v_count * (size_t)k_count * sizeof(double));
    }
    btfm_free(tmp);
    return BTFM_OK;
}

/* Orthonormal columns by modified Gram-Schmidt, twice (exact to rounding in double and
 * free of BLAS, so the same on every machine). */
static btfm_status orthonormalize(double *w, int64_t v_count, int64_t k_count)
{
    for (int pass = 0; pass < 2; pass++)
        for (int64_t k = 0; k < k_count; k++) {
            for (int64_t j = 0; j < k; j++) {
                double dot = 0;
                for (int64_t v = 0; v < v_count; v++) dot += w[v * k_count + j] * w[v * k_count + k];
                for (int64_t v = 0; v < v_count; v++) w[v * k_count + k] -= dot * w[v * k_count + j];
            }
            double norm = 0;
            for (int64_t v = 0; v < v_count; v++) norm += w[v * k_count + k] * w[v * k_count + k];
            norm = sqrt(norm);
            if (!(norm > 1e-12))
                return btfm_fail(BTFM_E_NUMERIC, "btfm_sim_shared_response: mixing column %lld "
                                 "vanished; raise the feature count or lower the spatial "
                                 "smoothness", (long long)k + 1);
            for (int64_t v = 0; v < v_count; v++) w[v * k_count + k] /= norm;
        }
    return BTFM_OK;
}

/* A V x K field of normals from stream `entity`, smoothed. */
static btfm_status random_field(const btfm_sim *sim, const shared_layout *l, uint64_t entity,
                                double *w)
{
    int64_t k_count = (int64_t)SP(sim, N_COMPONENTS);
    sim_rng r;
    btfm_sim_rng_init(&r, (uint64_t)SP(sim, SEED), SIM_STREAM_SHARED, entity);
    for (int64_t i = 0; i < l->n_features * k_count; i++) w[i] = btfm_sim_rng_normal(&r);
    return smooth_field(l, k_count, SP(sim, SPATIAL_SMOOTHNESS), w);
}

typedef struct shared_gen {
    const btfm_sim *sim;
    const shared_layout *layout;
    int subject, threads;
    int64_t n_times, k_count;
    const double *mixing;    /* V x K */
    double noise_sd, scale, baseline;
    sim_rng course[512];     /* the shared components' streams, advanced block by block */
    double *state;           /* K: each component's AR(1) value */
    double *block_course;    /* BLOCK_ROWS x K */
    int64_t t0;
    float *out;
    btfm_progress *progress;
    char stage[64];
} shared_gen;

/* The shared course from component k's stream: s_k(0) ~ N(0, 1), then
 * s_k(t) = rho s_k(t-1) + sqrt(1 - rho^2) e. The same for every subject. */
static void course_step(shared_gen *g, int64_t t, double *row)
{
    double rho = SP(g->sim, SMOOTHNESS), drive = sqrt(1.0 - rho * rho);
    for (int64_t k = 0; k < g->k_count; k++) {
        double e = btfm_sim_rng_normal(&g->course[k]);
        g->state[k] = t == 0 ? e : rho * g->state[k] + drive * e;
        row[k] = g->state[k];
    }
}

static btfm_status row_task(void *ctx, int64_t i, int worker)
{
    (void)worker;
    shared_gen *g = ctx;
    int64_t v_count = g->layout->n_features, t = g->t0 + i;
    sim_rng r;
    btfm_sim_rng_init(&r, (uint64_t)SP(g->sim, SEED), SIM_STREAM_SHARED,
                 (3ULL << 56) | ((uint64_t)g->subject << 40) | (uint64_t)t);
    const double *s = g->block_course + (size_t)i * (size_t)g->k_count;
    float *row = g->out + (size_t)i * (size_t)v_count;
    for (int64_t v = 0; v < v_count; v++) {
        const double *w = g->mixing + (size_t)v * (size_t)g->k_count;
        double x = 0;
        for (int64_t k = 0; k < g->k_count; k++) x += w[k] * s[k];
        x += g->noise_sd * btfm_sim_rng_normal(&r);
        row[v] = (float)(g->baseline + g->scale * x);
    }
    return BTFM_OK;
}

static btfm_status produce(void *ctx, int64_t first, int64_t count, float *out)
{
    shared_gen *g = ctx;
    g->t0 = first;
    g->out = out;
    for (int64_t i = 0; i < count; i++) course_step(g, first + i, g->block_course + (size_t)i * (size_t)g->k_count);
    btfm_status st = btfm_parallel_for(g->threads, count, row_task, g);
    if (st) return st;
    if (!g->layout->nifti)
        for (size_t i = 0; i < (size_t)count * (size_t)g->layout->n_features; i++) out[i] *= 1e-6f;
    return btfm_progress_update(g->progress, g->stage, (double)(first + count) / (double)g->n_times);
}

static void course_init(shared_gen *g)
{
    for (int64_t k = 0; k < g->k_count; k++)
        btfm_sim_rng_init(&g->course[k], (uint64_t)SP(g->sim, SEED), SIM_STREAM_SHARED, (1ULL << 56) | (uint64_t)k);
}

static btfm_status write_subject(const btfm_sim *sim, const shared_layout *l, int subject,
                                 const double *mixing, double noise_sd, btfm_bids_writer *w,
                                 btfm_progress *progress)
{
    shared_gen g;
    memset(&g, 0, sizeof g);
    g.sim = sim;
    g.layout = l;
    g.subject = subject;
    g.threads = btfm_sim_threads(SP(sim, NUM_THREADS));
    g.n_times = (int64_t)SP(sim, N_TIMES);
    g.k_count = (int64_t)SP(sim, N_COMPONENTS);
    g.mixing = mixing;
    g.noise_sd = noise_sd;
    g.scale = SP(sim, SIGNAL_SCALE);
    g.baseline = SP(sim, BASELINE);
    g.progress = progress;
    snprintf(g.stage, sizeof g.stage, "subject %d", subject + 1);
    course_init(&g);
    g.state = btfm_calloc((size_t)g.k_count, sizeof(double));
    btfm_dataset *ds = NULL;
    btfm_status st = g.state ? BTFM_OK : btfm_fail_nomem("btfm_sim_shared_response", (size_t)g.k_count * 8);
    double rate = sample_rate(sim, l->nifti);
    /* Blocks of at least 10 s: the longest EDF record the writer picks. */
    int64_t block = (int64_t)ceil(10.0 * rate) > BLOCK_ROWS ? (int64_t)ceil(10.0 * rate) : BLOCK_ROWS;
    g.block_course = btfm_malloc((size_t)block * (size_t)g.k_count * sizeof(double));
    if (!st && !g.block_course) st = btfm_fail_nomem("btfm_sim_shared_response", (size_t)block * 8);
    if (!st) st = btfm_dataset_generated(&ds, g.n_times, (int)l->n_features, rate, block, produce, &g);
    char entities[96], label[16];
    snprintf(label, sizeof label, "%02d", subject + 1);
    int format = (int)SP(sim, FORMAT);
    if (l->nifti) {
        if (!st) st = btfm_volume_attach_grid(ds, l->nx, l->ny, l->nz, VOXEL_MM);
        snprintf(entities, sizeof entities, "sub=%s task=shared datatype=func", label);
    } else {
        /* The declared range: ten standard deviations of the signal and noise. */
        double sd = g.scale * sqrt((double)g.k_count / (double)l->n_features + noise_sd * noise_sd);
        for (int c = 0; !st && c < (int)l->n_features; c++) {
            st = btfm_dataset_set_channel_name(ds, c, l->names[c]);
            if (!st) st = btfm_dataset_set_channel_unit(ds, c, "V");
            if (!st) st = btfm_dataset_set_channel_type(ds, c, BTFM_CH_EEG);
            ds->channels[c].has_range = 1;
            ds->channels[c].range_min = (g.baseline - 10 * sd) * 1e-6;
            ds->channels[c].range_max = (g.baseline + 10 * sd) * 1e-6;
        }
        snprintf(entities, sizeof entities, "sub=%s task=shared datatype=eeg", label);
    }
    const char *side = l->nifti ? "{\"Manufacturer\": \"libbtfm sim (simulated data)\"}"
                                : "{\"Manufacturer\": \"libbtfm sim (simulated data)\", "
                                  "\"PowerLineFrequency\": \"n/a\", \"EEGReference\": \"n/a\", "
                                  "\"SoftwareFilters\": \"n/a\"}";
    if (!st) st = btfm_bids_writer_add(w, ds, entities, format, side, NULL);
    btfm_dataset_free(ds);
    btfm_free(g.state);
    btfm_free(g.block_course);
    return st;
}

/* derivatives/truth/shared_response.tsv: the course every subject saw. */
static btfm_status write_course(const btfm_sim *sim, const sim_output *o)
{
    shared_gen g;
    memset(&g, 0, sizeof g);
    g.sim = sim;
    g.k_count = (int64_t)SP(sim, N_COMPONENTS);
    course_init(&g);
    const char *columns[512];
    char names[512][16];
    for (int64_t k = 0; k < g.k_count; k++) {
        snprintf(names[k], sizeof names[k], "component_%lld", (long long)k + 1);
        columns[k] = names[k];
    }
    double *row = btfm_malloc((size_t)g.k_count * sizeof(double));
    g.state = btfm_calloc((size_t)g.k_count, sizeof(double));
    sim_tsv t;
    btfm_status st = row && g.state ? btfm_sim_tsv_open(&t, o, "derivatives/truth/shared_response.tsv",
                                                   columns, (int)g.k_count)
                                    : btfm_fail_nomem("btfm_sim_shared_response", 64);
    for (int64_t i = 0; !st && i < (int64_t)SP(sim, N_TIMES); i++) {
        course_step(&g, i, row);
        btfm_sim_tsv_row(&t, NULL, row, (int)g.k_count);
    }
    if (!st) st = btfm_sim_tsv_close(&t);
    btfm_free(row);
    btfm_free(g.state);
    return st;
}

static btfm_status write_mixing(const btfm_sim *sim, const shared_layout *l, int subject,
                                const double *mixing, const sim_output *o)
{
    int64_t k_count = (int64_t)SP(sim, N_COMPONENTS);
    const char *columns[513] = {"feature"};
    char names[512][16];
    for (int64_t k = 0; k < k_count; k++) {
        snprintf(names[k], sizeof names[k], "component_%lld", (long long)k + 1);
        columns[k + 1] = names[k];
    }
    char path[128];
    snprintf(path, sizeof path, "derivatives/truth/sub-%02d/sub-%02d_mixing.tsv", subject + 1, subject + 1);
    char dir[64];
    snprintf(dir, sizeof dir, "derivatives/truth/sub-%02d", subject + 1);
    btfm_status st = btfm_sim_make_dirs(o, dir);
    sim_tsv t;
    if (!st) st = btfm_sim_tsv_open(&t, o, path, columns, (int)k_count + 1);
    for (int64_t v = 0; !st && v < l->n_features; v++) {
        char feature[64];
        if (l->nifti)
            snprintf(feature, sizeof feature, "%lld,%lld,%lld", (long long)(v % l->nx),
                     (long long)((v / l->nx) % l->ny), (long long)(v / (l->nx * l->ny)));
        else
            snprintf(feature, sizeof feature, "%s", l->names[v]);
        btfm_sim_tsv_row(&t, feature, mixing + (size_t)v * (size_t)k_count, (int)k_count);
    }
    if (!st) st = btfm_sim_tsv_close(&t);
    return st;
}

static btfm_status check_params(const btfm_sim *sim, shared_layout *l, const char *func)
{
    int format = (int)SP(sim, FORMAT);
    l->nifti = format == BTFM_FORMAT_NIFTI;
    if (format != BTFM_FORMAT_EDF && format != BTFM_FORMAT_BDF && format != BTFM_FORMAT_BRAINVISION &&
        !l->nifti)
        return btfm_fail(BTFM_E_INVALID, "%s: format = %d; expected %d (EDF+), %d (BDF+), %d "
                         "(BrainVision) or %d (NIfTI)", func, format, BTFM_FORMAT_EDF,
                         BTFM_FORMAT_BDF, BTFM_FORMAT_BRAINVISION, BTFM_FORMAT_NIFTI);
    if (l->nifti) {
        l->nx = (int64_t)SP(sim, GRID_X);
        l->ny = (int64_t)SP(sim, GRID_Y);
        l->nz = (int64_t)SP(sim, GRID_Z);
        l->n_features = l->nx * l->ny * l->nz;
        if (l->n_features > (1 << 20))
            return btfm_fail(BTFM_E_INVALID, "%s: a grid of %lld x %lld x %lld = %lld voxels; at "
                             "most 1048576", func, (long long)l->nx, (long long)l->ny,
                             (long long)l->nz, (long long)l->n_features);
        if (SP(sim, N_TIMES) > 32767)
            return btfm_fail(BTFM_E_INVALID, "%s: n_times = %g volumes; NIfTI-1 holds at most "
                             "32767", func, SP(sim, N_TIMES));
    } else {
        l->n_features = (int64_t)SP(sim, N_CHANNELS);
        btfm_sim_montage((int)l->n_features, l->names, l->positions);
    }
    if (SP(sim, N_COMPONENTS) > (double)l->n_features)
        return btfm_fail(BTFM_E_INVALID, "%s: n_components = %g exceeds the %lld features of each "
                         "subject", func, SP(sim, N_COMPONENTS), (long long)l->n_features);
    return BTFM_OK;
}

btfm_status btfm_sim_shared_response(btfm_sim *sim, const char *out_dir)
{
    static const char func[] = "btfm_sim_shared_response";
    BTFM_CHECK_ARG(sim, func, "simulator");
    BTFM_CHECK_ARG(out_dir, func, "out_dir");
    if (sim->kind != BTFM_OBJECT_SIM_SHARED_RESPONSE)
        return btfm_fail(BTFM_E_INVALID, "%s: the simulator is a %s (kind %d); create it with "
                         "btfm_sim_new(&sim, BTFM_OBJECT_SIM_SHARED_RESPONSE)", func,
                         btfm_object_kind_name(sim->kind), sim->kind);
    shared_layout l;
    memset(&l, 0, sizeof l);
    btfm_status st = check_params(sim, &l, func);
    if (st) return st;
    btfm_progress progress;
    if ((st = btfm_progress_start(&progress, sim->progress, sim->progress_user, "shared response")))
        return st;
    sim_output o;
    if ((st = btfm_sim_output_begin(&o, out_dir, func))) return st;
    int64_t k_count = (int64_t)SP(sim, N_COMPONENTS), v_count = l.n_features;
    size_t cells = (size_t)v_count * (size_t)k_count;
    double *common = btfm_malloc(cells * sizeof(double)), *mixing = btfm_malloc(cells * sizeof(double));
    btfm_bids_writer *w = NULL;
    sim_table subjects = {0};
    static const char *const subject_columns[] = {"participant_id", "snr", "noise_sd"};
    if (!common || !mixing) st = btfm_fail_nomem(func, 2 * cells * sizeof(double));
    if (!st) st = btfm_bids_writer_new(&w, o.root, "libbtfm simulated shared response");
    if (!st) st = btfm_bids_writer_keep_identity(w, 1); /* simulated subjects identify nobody */
    if (!st) st = btfm_sim_truth_description(sim, &o);
    if (!st) st = write_course(sim, &o);
    if (!st) st = btfm_sim_table_new(&subjects, subject_columns, 3);
    if (!st) st = random_field(sim, &l, 2ULL << 56, common);
    double c = SP(sim, CORRESPONDENCE), spread = SP(sim, SNR_SPREAD);
    int n = (int)SP(sim, N_SUBJECTS);
    sim_rng r;
    btfm_sim_rng_init(&r, (uint64_t)SP(sim, SEED), SIM_STREAM_SHARED, 4ULL << 56);
    for (int s = 0; s < n && !st; s++) {
        st = random_field(sim, &l, (5ULL << 56) | (uint64_t)s, mixing);
        if (st) break;
        for (size_t i = 0; i < cells; i++) mixing[i] = c * common[i] + sqrt(1.0 - c * c) * mixing[i];
        if ((st = orthonormalize(mixing, v_count, k_count))) break;
        for (size_t i = 0; i < cells; i++) mixing[i] = btfm_sim_round6(mixing[i]);
        double snr = btfm_sim_round6(SP(sim, SNR) * btfm_sim_exp(spread * btfm_sim_rng_normal(&r) - 0.5 * spread * spread));
        double noise_sd = btfm_sim_round6(sqrt((double)k_count / (double)v_count / snr));
        btfm_progress part = btfm_progress_part(&progress, (double)s / n, (double)(s + 1) / n);
        st = write_subject(sim, &l, s, mixing, noise_sd, w, &part);
        if (!st) st = write_mixing(sim, &l, s, mixing, &o);
        char id[16];
        snprintf(id, sizeof id, "sub-%02d", s + 1);
        double row[3] = {0, snr, noise_sd};
        const char *texts[3] = {id};
        if (!st) st = btfm_sim_table_row(&subjects, row, texts);
    }
    if (!st) st = btfm_sim_table_save(&subjects, &o, "derivatives/truth/subjects.tsv");
    if (!st) st = btfm_bids_writer_finish(w);
    btfm_sim_table_free(&subjects);
    btfm_bids_writer_free(w);
    btfm_free(common);
    btfm_free(mixing);
    if (!st) st = btfm_progress_done(&progress, "shared response");
    if (!st) st = btfm_sim_output_commit(&o);
    if (st) btfm_sim_output_abort(&o);
    return st;
}
