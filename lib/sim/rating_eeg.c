/* One annotator's EEG, generated a block at a time while the writer asks for it: the
 * sources (event-locked components, alpha rhythms following engagement, 1/f background
 * sources) mixed through the annotator's topography, plus per-channel 1/f sensor noise,
 * line noise, blinks, saccades, artifacts and bad channels (doc/simulation.md, "EEG").
 * Channels are computed in parallel from their own random streams, so the values do
 * not depend on the number of threads. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "core/parallel.h"
#include "io/dataset_internal.h"
#include "rating_internal.h"

#define BLOCK_SECONDS 4
#define HEOG_UV 30.0           /* HEOG per unit of horizontal gaze position */
#define MAX_COMPONENT_SPAN 1.6 /* s: longest support of a component (theta: 10 x 0.15 s) */
#define MAX_TRANSIENT_SPAN 3.0 /* s: longest transient (pop decay) */
#define POP_DECAY_S 0.4
#define RANGE_UV 3276.8        /* physical range declared to the EDF/BDF writers */

enum { LAYER_BLINK = 0, LAYER_GAZE = 1, LAYER_MUSCLE_L = 2, LAYER_MUSCLE_R = 3, N_LAYERS = 4 };

typedef struct eeg_gen {
    const btfm_sim *sim;
    const rating_annotator *a;
    int64_t sfreq;
    int n_ch, n_eeg, threads;
    int64_t block;
    /* per block */
    double *engagement, *alpha_amp, *line_sin, *line_cos, *line3_sin, *line3_cos;
    double *sources;           /* N_SOURCES x block (source-major) */
    double *column;            /* per worker: one channel's block being summed */
    double *layers;            /* N_LAYERS x block */
    double *movement_gain;     /* n_ch, the movement active in this block (at most one) */
    double *movement_wave;     /* block */
    float *noise;              /* block x n_ch (sensor), then block x N_SOURCES (background) */
    float *source_noise;
    float *out;                /* the block being filled (the dataset's buffer) */
    int64_t t0, count;         /* the block */
    /* gains per channel */
    double *gain[N_LAYERS];
    /* state carried from block to block */
    sim_rng *channel_rng;      /* n_ch */
    sim_rng source_rng[N_SOURCES];
    sim_pink pink;
    sim_pink_state channel_pink, source_pink;
    double alpha_re[2], alpha_im[2], alpha_rho_cos, alpha_rho_sin, alpha_drive;
    double theta_re, theta_im, theta_rho_cos, theta_rho_sin, theta_drive;
    rating_engagement eng;
    int64_t first_component, first_transient, next_saccade;
    double gaze_from, gaze_to, gaze_onset, gaze_duration;
    double line3;              /* 0 when the third harmonic is above 0.45 sfreq */
    int64_t next_trace;
    double *engagement_trace, *alpha_trace;
    int64_t n_trace;
    btfm_progress *progress;
    char stage[64];
} eeg_gen;

static double hann(double x) { return x <= 0 || x >= 1 ? 0 : 0.5 - 0.5 * btfm_sim_cos(SIM_TWO_PI * x); }

/* Blink shape: (x^3) e^(3 (1 - x)), x = time / 0.1 s: peak 1 at 0.1 s. */
static double blink_shape(double t)
{
    if (t <= 0) return 0;
    double x = t / 0.1;
    return x * x * x * btfm_sim_exp(3.0 * (1.0 - x));
}

/* ---- the serial part of a block: engagement, sources, line phase, layers ---- */

/* Engagement e(t) (rating_engagement.c); alpha follows. */
static void engagement_block(eeg_gen *g)
{
    const rating_annotator *a = g->a;
    const double depth = RP(g->sim, ALPHA_ENGAGEMENT);
    for (int64_t i = 0; i < g->count; i++) {
        int64_t n = g->t0 + i;
        double e = btfm_rating_engagement_next(&g->eng, a, n);
        g->engagement[i] = e;
        g->alpha_amp[i] = a->alpha_uv * (1.0 - depth * e);
        if (g->next_trace < g->n_trace && n == (g->next_trace * g->sfreq + 2) / 4) {
            g->engagement_trace[g->next_trace] = btfm_sim_round6(e);
            g->alpha_trace[g->next_trace] = btfm_sim_round6(g->alpha_amp[i]);
            g->next_trace++;
        }
    }
}

/* Event-locked components into the task sources' columns. */
static void components_block(eeg_gen *g)
{
    const rating_annotator *a = g->a;
    const double t_start = (double)g->t0 / (double)g->sfreq;
    const double t_end = (double)(g->t0 + g->count) / (double)g->sfreq;
    while (g->first_component < a->n_components &&
           a->components[g->first_component].onset + a->components[g->first_component].latency +
                   MAX_COMPONENT_SPAN < t_start)
        g->first_component++;
    for (int64_t k = g->first_component; k < a->n_components; k++) {
        const rating_component *c = &a->components[k];
        double peak = c->onset + c->latency, lo = peak - 5 * c->width, hi = peak + 5 * c->width;
        if (lo >= t_end) break;
        if (hi <= t_start) continue;
        int64_t i0 = (int64_t)ceil(lo * (double)g->sfreq) - g->t0;
        int64_t i1 = (int64_t)ceil(hi * (double)g->sfreq) - g->t0;
        if (i0 < 0) i0 = 0;
        if (i1 > g->count) i1 = g->count;
        for (int64_t i = i0; i < i1; i++) {
            double d = (double)(g->t0 + i) / (double)g->sfreq - peak;
            double v = c->amplitude_uv * btfm_sim_exp(-0.5 * d * d / (c->width * c->width));
            if (c->freq > 0) v *= btfm_sim_cos(SIM_TWO_PI * c->freq * d + c->phase);
            g->sources[(size_t)c->source * (size_t)g->block + (size_t)i] += v;
        }
    }
}

/* Alpha: per source a complex AR(1) oscillator at the annotator's alpha frequency (about
 * 2 Hz wide), real part of unit variance, times the engagement-dependent amplitude.
 * Background: 1/f noise per source with the annotator's source sd. */
static void rhythms_block(eeg_gen *g)
{
    const rating_annotator *a = g->a;
    for (int s = 0; s < 2; s++) {
        sim_rng *r = &g->source_rng[SRC_ALPHA_L + s];
        for (int64_t i = 0; i < g->count; i++) {
            double re = g->alpha_rho_cos * g->alpha_re[s] - g->alpha_rho_sin * g->alpha_im[s];
            double im = g->alpha_rho_sin * g->alpha_re[s] + g->alpha_rho_cos * g->alpha_im[s];
            g->alpha_re[s] = re + g->alpha_drive * btfm_sim_rng_normal(r);
            g->alpha_im[s] = im + g->alpha_drive * btfm_sim_rng_normal(r);
            g->sources[(size_t)(SRC_ALPHA_L + s) * (size_t)g->block + (size_t)i] = g->alpha_amp[i] * g->alpha_re[s];
        }
    }
    /* Ongoing frontal-midline theta growing with engagement (off by default: its own
     * stream is drawn only when it is on, so the default files do not change). */
    const double theta_uv = RP(g->sim, THETA_ENGAGEMENT_UV);
    if (theta_uv > 0) {
        sim_rng *r = &g->source_rng[SRC_THETA];
        double *src = g->sources + (size_t)SRC_THETA * (size_t)g->block;
        for (int64_t i = 0; i < g->count; i++) {
            double re = g->theta_rho_cos * g->theta_re - g->theta_rho_sin * g->theta_im;
            double im = g->theta_rho_sin * g->theta_re + g->theta_rho_cos * g->theta_im;
            g->theta_re = re + g->theta_drive * btfm_sim_rng_normal(r);
            g->theta_im = im + g->theta_drive * btfm_sim_rng_normal(r);
            src[i] += theta_uv * g->engagement[i] * g->theta_re;
        }
    }
    for (int k = 0; k < N_BACKGROUND; k++)
        btfm_sim_rng_normals(&g->source_rng[SRC_BACKGROUND + k], g->source_noise + k, g->count, N_BACKGROUND);
    btfm_sim_pink_run(&g->pink, &g->source_pink, 0, N_BACKGROUND, g->source_noise, g->count, N_BACKGROUND);
    for (int k = 0; k < N_BACKGROUND; k++)
        for (int64_t i = 0; i < g->count; i++)
            g->sources[(size_t)(SRC_BACKGROUND + k) * (size_t)g->block + (size_t)i] =
                a->background_sd_uv * g->source_noise[(size_t)i * N_BACKGROUND + (size_t)k];
}

/* The line's phase: sin and cos of 2 pi f n / fs, from the cycle count's fraction. */
static void line_block(eeg_gen *g)
{
    double f = RP(g->sim, LINE_FREQ);
    for (int64_t i = 0; i < g->count; i++) {
        double cycles = f * (double)(g->t0 + i) / (double)g->sfreq;
        double phase = SIM_TWO_PI * (cycles - floor(cycles));
        btfm_sim_sincos(phase, &g->line_sin[i], &g->line_cos[i]);
        if (g->line3 > 0) {
            double c3 = 3.0 * (cycles - floor(cycles));
            btfm_sim_sincos(SIM_TWO_PI * (c3 - floor(c3)), &g->line3_sin[i], &g->line3_cos[i]);
        }
    }
}

/* Muscle noise of transient `tr`: differenced normals from its own stream, restarted at
 * its first sample so every block sees the same values. */
static void muscle_into(eeg_gen *g, const rating_transient *tr, double *wave)
{
    sim_rng r;
    btfm_sim_rng_init(&r, (uint64_t)RP(g->sim, SEED), SIM_STREAM_ARTIFACT,
                 ((uint64_t)g->a->index << 32) | (uint64_t)tr->index);
    int64_t n0 = (int64_t)ceil(tr->onset * (double)g->sfreq);
    int64_t n1 = (int64_t)ceil((tr->onset + tr->duration) * (double)g->sfreq);
    double prev = btfm_sim_rng_normal(&r);
    for (int64_t n = n0; n < n1 && n < g->t0 + g->count; n++) {
        double x = btfm_sim_rng_normal(&r), v = (x - prev) * 0.70710678118654752;
        prev = x;
        if (n < g->t0) continue;
        double pos = ((double)n / (double)g->sfreq - tr->onset) / tr->duration;
        wave[n - g->t0] += tr->amplitude_uv * hann(pos) * v;
    }
}

static void transients_block(eeg_gen *g)
{
    const rating_annotator *a = g->a;
    const double t_start = (double)g->t0 / (double)g->sfreq;
    const double t_end = (double)(g->t0 + g->count) / (double)g->sfreq;
    memset(g->layers, 0, (size_t)N_LAYERS * (size_t)g->block * sizeof(double));
    memset(g->movement_wave, 0, (size_t)g->block * sizeof(double));
    while (g->first_transient < a->n_transients &&
           a->transients[g->first_transient].onset + MAX_TRANSIENT_SPAN < t_start)
        g->first_transient++;
    const rating_transient *movement = NULL;
    for (int64_t k = g->first_transient; k < a->n_transients; k++) {
        const rating_transient *tr = &a->transients[k];
        if (tr->onset >= t_end) break;
        if (tr->onset + tr->duration <= t_start || tr->kind == TR_SACCADE || tr->kind == TR_POP)
            continue;
        if (tr->kind == TR_MUSCLE) {
            muscle_into(g, tr, g->layers + (size_t)(LAYER_MUSCLE_L + tr->channel) * (size_t)g->block);
            continue;
        }
        int64_t i0 = (int64_t)ceil(tr->onset * (double)g->sfreq) - g->t0;
        int64_t i1 = (int64_t)ceil((tr->onset + tr->duration) * (double)g->sfreq) - g->t0;
        if (i0 < 0) i0 = 0;
        if (i1 > g->count) i1 = g->count;
        if (tr->kind == TR_MOVEMENT) movement = tr; /* they never overlap at these rates; the last wins */
        for (int64_t i = i0; i < i1; i++) {
            double d = (double)(g->t0 + i) / (double)g->sfreq - tr->onset;
            if (tr->kind == TR_BLINK)
                g->layers[(size_t)LAYER_BLINK * (size_t)g->block + (size_t)i] += tr->amplitude_uv * blink_shape(d);
            else
                g->movement_wave[i] = tr->amplitude_uv * hann(d / tr->duration);
        }
    }
    for (int c = 0; c < g->n_ch; c++) {
        double gain = 0;
        if (movement && c < g->n_eeg) {
            const double *p = a->positions[c];
            double dot = p[0] * movement->direction[0] + p[1] * movement->direction[1] +
                         p[2] * movement->direction[2];
            gain = btfm_sim_exp(dot - 1.0);
        }
        g->movement_gain[c] = gain;
    }
    /* Horizontal gaze: saccades ramp from the current position to the next. */
    double *gaze = g->layers + (size_t)LAYER_GAZE * (size_t)g->block;
    for (int64_t i = 0; i < g->count; i++) {
        double t = (double)(g->t0 + i) / (double)g->sfreq;
        for (;;) {
            while (g->next_saccade < a->n_transients && a->transients[g->next_saccade].kind != TR_SACCADE)
                g->next_saccade++;
            if (g->next_saccade >= a->n_transients || a->transients[g->next_saccade].onset > t) break;
            const rating_transient *s = &a->transients[g->next_saccade++];
            g->gaze_from = g->gaze_to;
            g->gaze_to = s->value;
            g->gaze_onset = s->onset;
            g->gaze_duration = s->duration;
        }
        double x = (t - g->gaze_onset) / g->gaze_duration;
        gaze[i] = x >= 1 ? g->gaze_to : g->gaze_from + (g->gaze_to - g->gaze_from) * x;
    }
}

/* ---- the parallel part: channels ---- */

/* One channel's block as a column of doubles: noise, mixed sources, layers, pops, bad
 * channel, line; then stored as volts into the dataset's time-major block. */
BTFM_HOT static void channel_column(eeg_gen *g, int c, double *col)
{
    const rating_annotator *a = g->a;
    const size_t width = (size_t)g->n_ch, b = (size_t)g->block;
    const int64_t n = g->count;
    const int eeg = c < g->n_eeg, bad = a->bad[c];
    const double sensor = eeg ? a->sensor_sd_uv : 0.5 * a->sensor_sd_uv;
    for (int64_t i = 0; i < n; i++) col[i] = sensor * g->noise[(size_t)i * width + (size_t)c];
    for (int k = 0; eeg && k < N_SOURCES; k++) {
        const double w = a->topography[(size_t)c * N_SOURCES + (size_t)k], *src = g->sources + (size_t)k * b;
        for (int64_t i = 0; i < n; i++) col[i] += w * src[i];
    }
    for (int l = 0; l < N_LAYERS; l++) {
        const double w = g->gain[l][c], *layer = g->layers + (size_t)l * b;
        if (w != 0)
            for (int64_t i = 0; i < n; i++) col[i] += w * layer[i];
    }
    if (g->movement_gain[c] != 0)
        for (int64_t i = 0; i < n; i++) col[i] += g->movement_gain[c] * g->movement_wave[i];
    /* Pops of this channel touching the block: a step decaying with POP_DECAY_S. */
    const double t_end = (double)(g->t0 + n) / (double)g->sfreq;
    for (int64_t k = g->first_transient; k < a->n_transients && a->transients[k].onset < t_end; k++) {
        const rating_transient *tr = &a->transients[k];
        if (tr->kind != TR_POP || tr->channel != c) continue;
        int64_t i0 = (int64_t)ceil(tr->onset * (double)g->sfreq) - g->t0;
        int64_t i1 = (int64_t)ceil((tr->onset + tr->duration) * (double)g->sfreq) - g->t0;
        for (int64_t i = i0 < 0 ? 0 : i0; i < (i1 < n ? i1 : n); i++)
            col[i] += tr->amplitude_uv * btfm_sim_exp(-((double)(g->t0 + i) / (double)g->sfreq - tr->onset) / POP_DECAY_S);
    }
    if (bad == 1)
        for (int64_t i = 0; i < n; i++) col[i] += 40.0 * btfm_sim_rng_normal(&g->channel_rng[c]);
    if (bad == 2)
        for (int64_t i = 0; i < n; i++) col[i] *= 0.02;
    const double line_uv = RP(g->sim, LINE_FREQ) > 0 ? a->line_uv : 0.0;
    const double wl = line_uv * a->line_weight[c] * (bad == 1 ? 5.0 : bad == 2 ? 8.0 : 1.0);
    const double ls = wl * btfm_sim_cos(a->line_phase[c]), lc = wl * btfm_sim_sin(a->line_phase[c]);
    for (int64_t i = 0; i < n; i++) col[i] += ls * g->line_sin[i] + lc * g->line_cos[i];
    if (g->line3 > 0)
        for (int64_t i = 0; i < n; i++) col[i] += g->line3 * (ls * g->line3_sin[i] + lc * g->line3_cos[i]);
    for (int64_t i = 0; i < n; i++) g->out[(size_t)i * width + (size_t)c] = (float)(col[i] * 1e-6);
}

enum { CHANNELS_PER_TASK = 8 };

static btfm_status channels_task(void *ctx, int64_t task, int worker)
{
    eeg_gen *g = ctx;
    const int c0 = (int)task * CHANNELS_PER_TASK;
    const int c1 = c0 + CHANNELS_PER_TASK < g->n_ch ? c0 + CHANNELS_PER_TASK : g->n_ch;
    const size_t width = (size_t)g->n_ch;
    for (int c = c0; c < c1; c++) btfm_sim_rng_normals(&g->channel_rng[c], g->noise + c, g->count, width);
    btfm_sim_pink_run(&g->pink, &g->channel_pink, c0, c1 - c0, g->noise + c0, g->count, width);
    double *col = g->column + (size_t)worker * (size_t)g->block;
    for (int c = c0; c < c1; c++) channel_column(g, c, col);
    return BTFM_OK;
}

static btfm_status produce(void *ctx, int64_t first, int64_t count, float *out)
{
    eeg_gen *g = ctx;
    g->t0 = first;
    g->count = count;
    g->out = out;
    memset(g->sources, 0, (size_t)g->block * N_SOURCES * sizeof(double));
    engagement_block(g);
    components_block(g);
    rhythms_block(g);
    line_block(g);
    transients_block(g);
    int64_t tasks = (g->n_ch + CHANNELS_PER_TASK - 1) / CHANNELS_PER_TASK;
    btfm_status st = btfm_parallel_for(g->threads, tasks, channels_task, g);
    if (st) return st;
    return btfm_progress_update(g->progress, g->stage, (double)(first + count) / (double)g->a->n_samples);
}

/* ---- set-up and the writer ---- */

static void gen_free(eeg_gen *g)
{
    btfm_free(g->engagement);
    btfm_free(g->alpha_amp);
    btfm_free(g->line_sin);
    btfm_free(g->line_cos);
    btfm_free(g->line3_sin);
    btfm_free(g->line3_cos);
    btfm_free(g->sources);
    btfm_free(g->column);
    btfm_free(g->layers);
    btfm_free(g->movement_gain);
    btfm_free(g->movement_wave);
    btfm_free(g->noise);
    btfm_free(g->source_noise);
    for (int l = 0; l < N_LAYERS; l++) btfm_free(g->gain[l]);
    btfm_free(g->channel_rng);
    btfm_sim_pink_state_free(&g->channel_pink);
    btfm_sim_pink_state_free(&g->source_pink);
}

static btfm_status gen_init(eeg_gen *g, const btfm_sim *sim, rating_annotator *a)
{
    memset(g, 0, sizeof *g);
    g->sim = sim;
    g->a = a;
    g->sfreq = (int64_t)RP(sim, SFREQ);
    g->n_ch = a->n_channels;
    g->n_eeg = a->n_eeg;
    g->threads = btfm_sim_threads(RP(sim, NUM_THREADS));
    g->block = BLOCK_SECONDS * g->sfreq;
    size_t b = (size_t)g->block, nc = (size_t)g->n_ch;
    g->engagement = btfm_malloc(b * sizeof(double));
    g->alpha_amp = btfm_malloc(b * sizeof(double));
    g->line_sin = btfm_malloc(b * sizeof(double));
    g->line_cos = btfm_malloc(b * sizeof(double));
    g->line3_sin = btfm_malloc(b * sizeof(double));
    g->line3_cos = btfm_malloc(b * sizeof(double));
    g->sources = btfm_malloc(b * N_SOURCES * sizeof(double));
    g->column = btfm_malloc((size_t)g->threads * b * sizeof(double));
    g->layers = btfm_malloc(b * N_LAYERS * sizeof(double));
    g->movement_gain = btfm_malloc(nc * sizeof(double));
    g->movement_wave = btfm_malloc(b * sizeof(double));
    g->noise = btfm_malloc(b * nc * sizeof(float));
    g->source_noise = btfm_malloc(b * N_BACKGROUND * sizeof(float));
    g->channel_rng = btfm_malloc(nc * sizeof(sim_rng));
    int ok = g->engagement && g->alpha_amp && g->line_sin && g->line_cos && g->line3_sin &&
             g->line3_cos && g->sources && g->column && g->layers && g->movement_gain && g->movement_wave &&
             g->noise && g->source_noise && g->channel_rng;
    for (int l = 0; l < N_LAYERS; l++) ok = ok && (g->gain[l] = btfm_calloc(nc, sizeof(double)));
    if (!ok) return btfm_fail_nomem("btfm_sim_rating_session: EEG block", b * nc * 8);
    btfm_status st = btfm_sim_pink_state_new(&g->channel_pink, g->n_ch);
    if (!st) st = btfm_sim_pink_state_new(&g->source_pink, N_BACKGROUND);
    if (st) return st;

    uint64_t seed = (uint64_t)RP(sim, SEED);
    for (int c = 0; c < g->n_ch; c++)
        btfm_sim_rng_init(&g->channel_rng[c], seed, SIM_STREAM_CHANNEL, ((uint64_t)a->index << 12) | (uint64_t)c);
    for (int k = 0; k < N_SOURCES; k++)
        btfm_sim_rng_init(&g->source_rng[k], seed, SIM_STREAM_SOURCE, ((uint64_t)a->index << 8) | (uint64_t)k);
    btfm_rating_engagement_init(&g->eng, sim, a);
    btfm_sim_pink_design(&g->pink, RP(sim, APERIODIC_EXPONENT), 0.5, (double)g->sfreq);
    double bandwidth = 2.0, rho = btfm_sim_exp(-SIM_PI * bandwidth / (double)g->sfreq);
    double s, c;
    btfm_sim_sincos(SIM_TWO_PI * a->alpha_freq / (double)g->sfreq, &s, &c);
    g->alpha_rho_cos = rho * c;
    g->alpha_rho_sin = rho * s;
    g->alpha_drive = sqrt(1.0 - rho * rho);
    btfm_sim_sincos(SIM_TWO_PI * a->theta_freq / (double)g->sfreq, &s, &c);
    g->theta_rho_cos = rho * c; /* theta as alpha: about 2 Hz wide */
    g->theta_rho_sin = rho * s;
    g->theta_drive = g->alpha_drive;
    g->gaze_duration = 1.0;
    double f3 = 3.0 * RP(sim, LINE_FREQ);
    g->line3 = f3 > 0 && f3 < 0.45 * (double)g->sfreq ? 0.2 : 0.0;

    /* Gains of the layers: blinks fall off from the eyes, horizontal gaze is seen
     * laterally at the front, muscle at the temples; VEOG and HEOG see their own. */
    double eye[3] = {0, 0.94, -0.34}, front[3] = {0, 1, 0}, temple[2][3];
    btfm_sim_site_position("T7", temple[0]);
    btfm_sim_site_position("T8", temple[1]);
    for (int ch = 0; ch < g->n_eeg; ch++) {
        const double *p = a->positions[ch];
        double de = p[0] * eye[0] + p[1] * eye[1] + p[2] * eye[2];
        double df = p[0] * front[0] + p[1] * front[1] + p[2] * front[2];
        g->gain[LAYER_BLINK][ch] = btfm_sim_exp((de - 1.0) / (0.6 * 0.6));
        g->gain[LAYER_GAZE][ch] = 0.5 * HEOG_UV * p[0] * btfm_sim_exp((df - 1.0) / (0.7 * 0.7));
        for (int side = 0; side < 2; side++) {
            double dt = p[0] * temple[side][0] + p[1] * temple[side][1] + p[2] * temple[side][2];
            g->gain[LAYER_MUSCLE_L + side][ch] = btfm_sim_exp((dt - 1.0) / (0.5 * 0.5));
        }
    }
    if (g->n_ch > g->n_eeg) {
        g->gain[LAYER_BLINK][g->n_eeg] = 1.0;
        g->gain[LAYER_GAZE][g->n_eeg + 1] = HEOG_UV;
    }
    /* Trace point k sits at sample round(k sfreq / 4): the last one inside the recording. */
    g->n_trace = ((a->n_samples - 1) * 4 + 2) / g->sfreq + 1;
    while (g->n_trace > 1 && ((g->n_trace - 1) * g->sfreq + 2) / 4 > a->n_samples - 1) g->n_trace--;
    a->engagement_trace = btfm_calloc((size_t)g->n_trace, sizeof(double));
    a->alpha_trace = btfm_calloc((size_t)g->n_trace, sizeof(double));
    a->n_trace = g->n_trace;
    if (!a->engagement_trace || !a->alpha_trace)
        return btfm_fail_nomem("btfm_sim_rating_session: traces", (size_t)g->n_trace * 16);
    g->engagement_trace = a->engagement_trace;
    g->alpha_trace = a->alpha_trace;
    return BTFM_OK;
}

/* The dataset the writer pulls from: channel names, types, units, bad flags, the
 * declared range, the events as annotations or markers. */
static btfm_status make_dataset(btfm_dataset **out, eeg_gen *g)
{
    const rating_annotator *a = g->a;
    btfm_dataset *ds;
    btfm_status st = btfm_dataset_generated(&ds, a->n_samples, a->n_channels, (double)g->sfreq,
                                            g->block, produce, g);
    int mark_bad = RP(g->sim, MARK_BAD) != 0;
    for (int c = 0; !st && c < a->n_channels; c++) {
        st = btfm_dataset_set_channel_name(ds, c, a->names[c]);
        if (!st) st = btfm_dataset_set_channel_unit(ds, c, "V");
        if (!st) st = btfm_dataset_set_channel_type(ds, c, c < a->n_eeg ? BTFM_CH_EEG : BTFM_CH_EOG);
        if (!st) st = btfm_dataset_set_channel_bad(ds, c, mark_bad && a->bad[c]);
        if (!st && c < a->n_eeg) { /* on a sphere of 9 cm radius in MNE's head frame */
            double xyz[3] = {0.09 * a->positions[c][0], 0.09 * a->positions[c][1], 0.09 * a->positions[c][2]};
            st = btfm_dataset_set_channel_position(ds, c, xyz);
        }
        ds->channels[c].has_range = 1;
        ds->channels[c].range_min = -RANGE_UV * 1e-6;
        ds->channels[c].range_max = RANGE_UV * 1e-6;
    }
    for (int64_t e = 0; !st && e < a->n_events; e++) {
        const rating_event *ev = &a->events[e];
        st = btfm_dataset_add_event(ds, ev->onset, ev->duration, "annotation",
                                    btfm_rating_event_names[ev->kind], ev->item);
    }
    if (!st) st = btfm_dataset_set_coordinate_frame(ds, "head");
    if (!st) {
        ds->has_start_time = 1;
        ds->start_time = 1704099600.0 + 86400.0 * a->index; /* 2024-01-01 09:00 UTC + a days */
        char subject[32];
        snprintf(subject, sizeof subject, "sub-%s X X X", a->label);
        st = btfm_set_string(&ds->subject, subject);
    }
    if (st) {
        btfm_dataset_free(ds);
        return st;
    }
    *out = ds;
    return BTFM_OK;
}

btfm_status btfm_rating_write_eeg(const btfm_sim *sim, const rating_design *d, rating_annotator *a,
                             btfm_bids_writer *w, btfm_progress *progress)
{
    (void)d;
    eeg_gen g;
    btfm_status st = gen_init(&g, sim, a);
    g.progress = progress;
    snprintf(g.stage, sizeof g.stage, "annotator %d: EEG", a->index + 1);
    btfm_dataset *ds = NULL;
    btfm_table *events = NULL;
    btfm_json *side = NULL;
    char *side_text = NULL;
    size_t side_len;
    if (!st) st = make_dataset(&ds, &g);
    if (!st) st = btfm_rating_events_table(a, (double)g.sfreq, &events);
    if (!st) st = btfm_json_new_object(&side);
    double line = RP(sim, LINE_FREQ);
    if (!st) st = line > 0 ? btfm_json_set_number(side, "PowerLineFrequency", line)
                           : btfm_json_set_string(side, "PowerLineFrequency", "n/a");
    if (!st) st = btfm_json_set_string(side, "EEGReference", "average of the simulated scalp");
    if (!st) st = btfm_json_set_string(side, "SoftwareFilters", "n/a");
    if (!st) st = btfm_json_set_string(side, "Manufacturer", "libbtfm sim (simulated data)");
    if (!st) st = btfm_json_set_string(side, "TaskDescription",
                                       "Read model outputs segment by segment, rate some of them "
                                       "on a Likert scale; see derivatives/truth for the latent values");
    if (!st) st = btfm_json_dump(side, &side_text, &side_len);
    char entities[96];
    snprintf(entities, sizeof entities, "sub=%s task=rating datatype=eeg", a->label);
    if (!st) st = btfm_bids_writer_add(w, ds, entities, (int)RP(sim, EEG_FORMAT), side_text, events);
    btfm_free(side_text);
    btfm_json_free(side);
    btfm_table_free(events);
    btfm_dataset_free(ds);
    gen_free(&g);
    return st;
}
