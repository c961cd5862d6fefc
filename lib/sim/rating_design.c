/* What happens in a rating session, before any signal: the items' latent values and
 * segments, then per annotator the traits, the values as this annotator perceives them,
 * the ratings, the timeline of items and gaze, the event-locked components with their
 * amplitudes, blinks, saccades and artifacts, the topography and the pairwise choices.
 * Every draw comes from its own stream, so adding items or annotators never changes
 * what the others got. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rating_internal.h"

const char *const btfm_rating_event_names[4] = {"item_onset", "gaze", "item_end", "rating"};
const char *const btfm_rating_source_names[N_SOURCES] = {
    "reward", "frn", "theta", "p3a", "alpha_left", "alpha_right", "background_1",
    "background_2", "background_3", "background_4", "background_5", "background_6",
    "background_7", "background_8"};
const char *const btfm_rating_component_names[N_COMPONENT_KINDS] = {"p3a", "segment_rewp", "rewp",
                                                               "frn", "theta"};
const char *const btfm_rating_transient_names[5] = {"blink", "saccade", "muscle", "pop", "movement"};

/* Where each source sits and how wide it spreads (radians on the unit sphere). */
static const struct {
    const char *site;
    double width;
} source_sites[N_SOURCES] = {
    {"CPPz", 0.45}, {"FCz", 0.40}, {"FFCz", 0.45}, {"FCCz", 0.45}, {"PO3", 0.45},
    {"PO4", 0.45}, {"Fp1", 0.6}, {"Fp2", 0.6}, {"FC5", 0.6}, {"FC6", 0.6}, {"CP5", 0.6},
    {"CP6", 0.6}, {"PO7", 0.6}, {"PO8", 0.6}};

/* Component timing: latency and width (s) of each kind. */
static const double component_latency[N_COMPONENT_KINDS] = {0.35, 0.30, 0.30, 0.25, 0.45};
static const double component_width[N_COMPONENT_KINDS] = {0.07, 0.06, 0.06, 0.035, 0.15};

static double softplus(double x) { return x > 30 ? x : btfm_sim_log(1.0 + btfm_sim_exp(x)); }

/* The latent values from their normal draws (doc/simulation.md, "Items"). */
static void latent_from_z(const double z[N_LATENT], double out[N_LATENT])
{
    out[LAT_REWARD] = btfm_sim_round6(z[0]);
    out[LAT_CONFIDENCE] = btfm_sim_round6(btfm_sim_logistic(1.5 * fabs(z[0]) - 0.3 + 0.8 * z[1]));
    out[LAT_NEGATIVE_AFFECT] = btfm_sim_round6(softplus(-1.2 * z[0] + 0.7 * z[2] - 0.5));
    out[LAT_NOVELTY] = btfm_sim_round6(btfm_sim_logistic(1.7 * z[3]));
}

static uint64_t seed_of(const btfm_sim *sim) { return (uint64_t)RP(sim, SEED); }

/* ---- items ---- */

btfm_status btfm_rating_design_new(rating_design *d, const btfm_sim *sim)
{
    memset(d, 0, sizeof *d);
    int n = d->n_items = (int)RP(sim, N_ITEMS);
    int lo = (int)RP(sim, SEGMENTS_MIN), hi = (int)RP(sim, SEGMENTS_MAX);
    d->latent = btfm_malloc((size_t)n * N_LATENT * sizeof(double));
    d->z = btfm_malloc((size_t)n * N_LATENT * sizeof(double));
    d->n_item_segments = btfm_malloc((size_t)n * sizeof(int));
    d->first_segment = btfm_malloc((size_t)n * sizeof(int64_t));
    size_t max_segments = (size_t)n * (size_t)hi;
    d->segment_reward = btfm_malloc(max_segments * sizeof(double));
    d->segment_length = btfm_malloc(max_segments * sizeof(double));
    if (!d->latent || !d->z || !d->n_item_segments || !d->first_segment || !d->segment_reward ||
        !d->segment_length) {
        btfm_rating_design_free(d);
        return btfm_fail_nomem("btfm_sim_rating_session: items", max_segments * 16);
    }
    sim_rng r;
    btfm_sim_rng_init(&r, seed_of(sim), SIM_STREAM_ITEMS, 0);
    double segment_sd = RP(sim, SEGMENT_REWARD_SD);
    for (int m = 0; m < n; m++) {
        double *z = d->z + (size_t)m * N_LATENT;
        for (int k = 0; k < N_LATENT; k++) z[k] = btfm_sim_rng_normal(&r);
        latent_from_z(z, d->latent + (size_t)m * N_LATENT);
        int count = lo + (int)btfm_sim_rng_below(&r, (uint64_t)(hi - lo + 1));
        d->n_item_segments[m] = count;
        d->first_segment[m] = d->n_segments;
        for (int s = 0; s < count; s++, d->n_segments++) {
            double reward = d->latent[(size_t)m * N_LATENT + LAT_REWARD];
            d->segment_reward[d->n_segments] = btfm_sim_round6(reward + segment_sd * btfm_sim_rng_normal(&r));
            d->segment_length[d->n_segments] = btfm_sim_round6(btfm_sim_exp(0.3 * btfm_sim_rng_normal(&r)));
        }
    }
    return BTFM_OK;
}

void btfm_rating_design_free(rating_design *d)
{
    btfm_free(d->latent);
    btfm_free(d->z);
    btfm_free(d->n_item_segments);
    btfm_free(d->first_segment);
    btfm_free(d->segment_reward);
    btfm_free(d->segment_length);
    memset(d, 0, sizeof *d);
}

/* ---- one annotator ---- */

void btfm_rating_annotator_free(rating_annotator *a)
{
    btfm_free(a->perceived);
    btfm_free(a->segment_perceived);
    btfm_free(a->order);
    btfm_free(a->events);
    btfm_free(a->components);
    btfm_free(a->transients);
    btfm_free(a->topography);
    btfm_free(a->line_weight);
    btfm_free(a->line_phase);
    btfm_free(a->bad);
    btfm_free(a->rating);
    btfm_free(a->rating_confidence);
    btfm_free(a->response_time);
    btfm_free(a->pairs);
    btfm_free(a->chosen_first);
    btfm_free(a->p_first);
    btfm_free(a->pair_time);
    btfm_free(a->engagement_trace);
    btfm_free(a->alpha_trace);
    memset(a, 0, sizeof *a);
}

/* Traits (doc/simulation.md, "Annotators"): log-normal noise and rhythm amplitudes,
 * normal biases and peak frequencies. */
static void draw_traits(rating_annotator *a, const btfm_sim *sim)
{
    sim_rng r;
    btfm_sim_rng_init(&r, seed_of(sim), SIM_STREAM_ANNOTATOR, (uint64_t)a->index << 8);
    double spread = RP(sim, NOISE_SPREAD);
    a->noise_uv = btfm_sim_round6(RP(sim, NOISE_UV) * btfm_sim_exp(spread * btfm_sim_rng_normal(&r) - 0.5 * spread * spread));
    double f = RP(sim, ALPHA_FREQ) + RP(sim, ALPHA_FREQ_SD) * btfm_sim_rng_normal(&r);
    a->alpha_freq = btfm_sim_round6(f < 6 ? 6 : f > 14 ? 14 : f);
    a->alpha_uv = btfm_sim_round6(RP(sim, ALPHA_UV) * btfm_sim_exp(0.3 * btfm_sim_rng_normal(&r)));
    a->theta_freq = btfm_sim_round6(6.0 + 0.4 * btfm_sim_rng_normal(&r));
    a->line_uv = btfm_sim_round6(RP(sim, LINE_UV) * btfm_sim_exp(0.3 * btfm_sim_rng_normal(&r)));
    double e = 0.6 + 0.1 * btfm_sim_rng_normal(&r);
    a->engagement_mean = btfm_sim_round6(e < 0.2 ? 0.2 : e > 0.9 ? 0.9 : e);
    a->rating_bias = btfm_sim_round6(RP(sim, RATING_BIAS_SD) * btfm_sim_rng_normal(&r));
    a->rating_noise = btfm_sim_round6(RP(sim, RATING_NOISE) * btfm_sim_exp(0.3 * btfm_sim_rng_normal(&r)));
    a->rotation_deg = btfm_sim_round6(RP(sim, TOPOGRAPHY_ROTATION_DEG) * btfm_sim_rng_normal(&r));
    double axis[3], norm;
    do {
        for (int k = 0; k < 3; k++) axis[k] = btfm_sim_rng_normal(&r);
        norm = sqrt(axis[0] * axis[0] + axis[1] * axis[1] + axis[2] * axis[2]);
    } while (norm < 1e-6);
    for (int k = 0; k < 3; k++) a->rotation_axis[k] = btfm_sim_round6(axis[k] / norm);
    double mix = RP(sim, TOPOGRAPHY_MIXING);
    for (int j = 0; j < N_TASK_SOURCES; j++)
        for (int k = 0; k < N_TASK_SOURCES; k++)
            a->mixing[j][k] = btfm_sim_round6((j == k) + mix * btfm_sim_rng_normal(&r));
}

/* Rotate p about the unit axis u by `angle` radians (Rodrigues). */
static void rotate(const double u[3], double angle, const double p[3], double out[3])
{
    double s, c;
    btfm_sim_sincos(angle, &s, &c);
    double dot = u[0] * p[0] + u[1] * p[1] + u[2] * p[2];
    double cross[3] = {u[1] * p[2] - u[2] * p[1], u[2] * p[0] - u[0] * p[2], u[0] * p[1] - u[1] * p[0]};
    for (int k = 0; k < 3; k++) out[k] = p[k] * c + cross[k] * s + u[k] * dot * (1 - c);
}

/* A smooth bump on the sphere: 1 at `centre`, exp(-angle^2 / (2 width^2)) near it. */
static double bump(const double p[3], const double centre[3], double width)
{
    double dot = p[0] * centre[0] + p[1] * centre[1] + p[2] * centre[2];
    return btfm_sim_exp((dot - 1.0) / (width * width));
}

/* Channels, topography (the shared sources' bumps moved by the annotator's rotation,
 * task sources mixed), bad channels, line-noise weights and the background split. */
static btfm_status draw_channels(rating_annotator *a, const btfm_sim *sim)
{
    a->n_eeg = (int)RP(sim, N_CHANNELS);
    a->n_channels = a->n_eeg + (RP(sim, EOG) != 0 ? 2 : 0);
    btfm_sim_montage(a->n_eeg, a->names, a->positions);
    if (a->n_channels > a->n_eeg) {
        a->names[a->n_eeg] = "VEOG";
        a->names[a->n_eeg + 1] = "HEOG";
    }
    size_t nc = (size_t)a->n_channels;
    a->topography = btfm_calloc((size_t)a->n_eeg * N_SOURCES, sizeof(double));
    a->line_weight = btfm_malloc(nc * sizeof(double));
    a->line_phase = btfm_malloc(nc * sizeof(double));
    a->bad = btfm_calloc(nc, sizeof(int));
    if (!a->topography || !a->line_weight || !a->line_phase || !a->bad)
        return btfm_fail_nomem("btfm_sim_rating_session: channels", nc * N_SOURCES * 8);
    double angle = a->rotation_deg * SIM_PI / 180.0;
    double centres[N_SOURCES][3];
    for (int k = 0; k < N_SOURCES; k++) {
        double p[3];
        btfm_sim_site_position(source_sites[k].site, p);
        rotate(a->rotation_axis, angle, p, centres[k]);
    }
    double bg_power = 0;
    for (int c = 0; c < a->n_eeg; c++) {
        double *row = a->topography + (size_t)c * N_SOURCES;
        double g[N_SOURCES];
        for (int k = 0; k < N_SOURCES; k++) g[k] = bump(a->positions[c], centres[k], source_sites[k].width);
        for (int k = 0; k < N_SOURCES; k++) {
            if (k < N_TASK_SOURCES) {
                double sum = 0;
                for (int j = 0; j < N_TASK_SOURCES; j++) sum += g[j] * a->mixing[j][k];
                row[k] = btfm_sim_round6(sum);
            } else {
                row[k] = btfm_sim_round6(g[k]);
            }
            if (k >= SRC_BACKGROUND) bg_power += row[k] * row[k];
        }
    }
    bg_power /= a->n_eeg;
    double share = RP(sim, SPATIAL_NOISE);
    a->sensor_sd_uv = btfm_sim_round6(a->noise_uv * sqrt(1.0 - share));
    a->background_sd_uv = btfm_sim_round6(bg_power > 0 ? a->noise_uv * sqrt(share / bg_power) : 0);

    sim_rng r;
    btfm_sim_rng_init(&r, seed_of(sim), SIM_STREAM_ANNOTATOR, ((uint64_t)a->index << 8) | 1);
    for (size_t c = 0; c < nc; c++) {
        a->line_weight[c] = btfm_sim_round6(btfm_sim_exp(0.5 * btfm_sim_rng_normal(&r)));
        a->line_phase[c] = btfm_sim_round6(SIM_TWO_PI * btfm_sim_rng_uniform(&r));
    }
    int n_bad = (int)RP(sim, N_BAD_CHANNELS);
    int64_t pick[SIM_MONTAGE_MAX];
    btfm_sim_rng_permutation(&r, pick, a->n_eeg);
    for (int b = 0; b < n_bad; b++) a->bad[pick[b]] = b % 2 ? 2 : 1; /* noisy, flat, ... */
    return BTFM_OK;
}

/* Perceived values (doc/simulation.md, "Perception") and the ratings they give. */
static btfm_status draw_perception(rating_annotator *a, const btfm_sim *sim, const rating_design *d)
{
    int n = d->n_items;
    a->perceived = btfm_malloc((size_t)n * N_LATENT * sizeof(double));
    a->segment_perceived = btfm_malloc((size_t)(d->n_segments ? d->n_segments : 1) * sizeof(double));
    a->order = btfm_malloc((size_t)n * sizeof(int64_t));
    a->rating = btfm_malloc((size_t)n * sizeof(double));
    a->rating_confidence = btfm_malloc((size_t)n * sizeof(double));
    a->response_time = btfm_malloc((size_t)n * sizeof(double));
    if (!a->perceived || !a->segment_perceived || !a->order || !a->rating ||
        !a->rating_confidence || !a->response_time)
        return btfm_fail_nomem("btfm_sim_rating_session: perception", (size_t)n * 64);
    sim_rng r;
    btfm_sim_rng_init(&r, seed_of(sim), SIM_STREAM_ANNOTATOR, ((uint64_t)a->index << 8) | 2);
    double noise = RP(sim, PERCEPTION_NOISE);
    for (int m = 0; m < n; m++) {
        double z[N_LATENT];
        for (int k = 0; k < N_LATENT; k++) z[k] = d->z[(size_t)m * N_LATENT + k] + noise * btfm_sim_rng_normal(&r);
        latent_from_z(z, a->perceived + (size_t)m * N_LATENT);
    }
    for (int64_t s = 0; s < d->n_segments; s++)
        a->segment_perceived[s] = btfm_sim_round6(d->segment_reward[s] + noise * btfm_sim_rng_normal(&r));
    btfm_sim_rng_init(&r, seed_of(sim), SIM_STREAM_SCHEDULE, (uint64_t)a->index << 8);
    btfm_sim_rng_permutation(&r, a->order, n);

    /* Ratings of a random subset: Likert from the perceived reward with the annotator's
     * bias and noise; confidence 1-5 from the perceived confidence; response times. */
    int64_t *rated = btfm_malloc((size_t)n * sizeof(int64_t));
    if (!rated) return btfm_fail_nomem("btfm_sim_rating_session: ratings", (size_t)n * 8);
    btfm_sim_rng_init(&r, seed_of(sim), SIM_STREAM_BEHAVIOUR, (uint64_t)a->index << 8);
    btfm_sim_rng_permutation(&r, rated, n);
    int64_t n_rated = (int64_t)nearbyint(RP(sim, RATING_FRACTION) * n);
    int points = (int)RP(sim, LIKERT_POINTS);
    for (int m = 0; m < n; m++) a->rating[m] = a->rating_confidence[m] = a->response_time[m] = NAN;
    for (int64_t k = 0; k < n_rated; k++) {
        int64_t m = rated[k];
        const double *p = a->perceived + (size_t)m * N_LATENT;
        double score = p[LAT_REWARD] + a->rating_bias + a->rating_noise * btfm_sim_rng_normal(&r);
        double value = nearbyint(0.5 * (points + 1) + score * (points - 1) / 4.0);
        a->rating[m] = value < 1 ? 1 : value > points ? points : value;
        double conf = nearbyint(1.0 + 4.0 * p[LAT_CONFIDENCE] + 0.5 * btfm_sim_rng_normal(&r));
        a->rating_confidence[m] = conf < 1 ? 1 : conf > 5 ? 5 : conf;
        a->response_time[m] = btfm_sim_round6((0.7 + 1.3 * (1.0 - p[LAT_CONFIDENCE])) *
                                         btfm_sim_exp(0.2 * btfm_sim_rng_normal(&r)));
    }
    btfm_free(rated);
    return BTFM_OK;
}

/* Growing arrays. */
static btfm_status push(void **array, int64_t *n, int64_t *cap, size_t size, const void *value)
{
    btfm_status st = btfm_reserve(array, cap, *n + 1, size, "btfm_sim_rating_session: timeline");
    if (st) return st;
    memcpy((char *)*array + (size_t)*n * size, value, size);
    (*n)++;
    return BTFM_OK;
}

typedef struct timeline {
    int64_t events_cap, components_cap, transients_cap;
} timeline;

static btfm_status add_event(rating_annotator *a, timeline *tl, double onset, double duration,
                             int kind, int item, int segment)
{
    rating_event e = {onset, duration, kind, item, segment, NAN, NAN, NAN};
    void *p = a->events;
    btfm_status st = push(&p, &a->n_events, &tl->events_cap, sizeof e, &e);
    a->events = p;
    return st;
}

static btfm_status add_component(rating_annotator *a, timeline *tl, sim_rng *jitter, double onset,
                                 int kind, int source, double amplitude, int item, int segment,
                                 double jitter_s)
{
    double shift = jitter_s * btfm_sim_rng_normal(jitter);
    if (shift > 3 * jitter_s) shift = 3 * jitter_s;
    if (shift < -3 * jitter_s) shift = -3 * jitter_s;
    rating_component c = {
        .onset = onset, .latency = btfm_sim_round6(component_latency[kind] + shift),
        .width = component_width[kind], .amplitude_uv = btfm_sim_round6(amplitude), .source = source,
        .kind = kind, .item = item, .segment = segment};
    if (kind == COMP_THETA) {
        c.freq = a->theta_freq;
        c.phase = btfm_sim_round6(SIM_TWO_PI * btfm_sim_rng_uniform(jitter));
    }
    void *p = a->components;
    btfm_status st = push(&p, &a->n_components, &tl->components_cap, sizeof c, &c);
    a->components = p;
    return st;
}

static btfm_status add_transient(rating_annotator *a, timeline *tl, rating_transient t)
{
    t.index = a->n_transients;
    void *p = a->transients;
    btfm_status st = push(&p, &a->n_transients, &tl->transients_cap, sizeof t, &t);
    a->transients = p;
    return st;
}

/* Items one after another: the item appears, reading starts after 0.8-1.2 s with a gaze
 * event per segment (dwell proportional to the segment's length), the item ends, the
 * evaluation components follow, a rating prompt for rated items, then a pause. */
static btfm_status draw_timeline(rating_annotator *a, const btfm_sim *sim, const rating_design *d,
                                 timeline *tl)
{
    sim_rng r, jitter;
    btfm_sim_rng_init(&r, seed_of(sim), SIM_STREAM_SCHEDULE, ((uint64_t)a->index << 8) | 1);
    btfm_sim_rng_init(&jitter, seed_of(sim), SIM_STREAM_TRIAL, (uint64_t)a->index);
    const double scale = RP(sim, EFFECT_SCALE), jitter_s = RP(sim, LATENCY_JITTER_MS) / 1000.0;
    const double dwell = RP(sim, SEGMENT_DWELL_S), gap = RP(sim, ITEM_GAP_S);
    double t = 2.0;
    btfm_status st = BTFM_OK;
    for (int k = 0; k < d->n_items && !st; k++) {
        int m = (int)a->order[k], id = m + 1;
        const double *p = a->perceived + (size_t)m * N_LATENT;
        double onset = btfm_sim_round6(t);
        int64_t onset_event = a->n_events;
        st = add_event(a, tl, onset, 0, EV_ITEM_ONSET, id, 0);
        if (!st) st = add_component(a, tl, &jitter, onset, COMP_P3A, SRC_P3A,
                                    RP(sim, P3A_BASE_UV) + scale * RP(sim, P3A_EFFECT_UV) * p[LAT_NOVELTY],
                                    id, 0, jitter_s);
        double g = onset + 0.8 + 0.4 * btfm_sim_rng_uniform(&r);
        int n_seg = d->n_item_segments[m];
        for (int s = 0; s < n_seg && !st; s++) {
            int64_t seg = d->first_segment[m] + s;
            double at = btfm_sim_round6(g);
            double dw = btfm_sim_round6(dwell * d->segment_length[seg] * btfm_sim_exp(0.15 * btfm_sim_rng_normal(&r)));
            if (dw < 0.25) dw = 0.25;
            st = add_event(a, tl, at, dw, EV_GAZE, id, s + 1);
            if (!st) st = add_component(a, tl, &jitter, at, COMP_SEGMENT, SRC_REWARD,
                                        scale * RP(sim, SEGMENT_EFFECT_UV) * a->segment_perceived[seg],
                                        id, s + 1, jitter_s);
            double position = n_seg > 1 ? -1.0 + 2.0 * s / (n_seg - 1) : 0.0;
            if (!st) st = add_transient(a, tl, (rating_transient){.onset = at - 0.03, .duration = 0.03,
                                                                  .value = position, .kind = TR_SACCADE,
                                                                  .channel = -1});
            g = at + dw + 0.03;
        }
        double end = btfm_sim_round6(g);
        if (!st) a->events[onset_event].duration = btfm_sim_round6(end - onset);
        if (!st) st = add_event(a, tl, end, 0, EV_ITEM_END, id, 0);
        if (!st) st = add_component(a, tl, &jitter, end, COMP_REWP, SRC_REWARD,
                                    RP(sim, REWP_BASE_UV) + scale * RP(sim, REWP_EFFECT_UV) * p[LAT_REWARD],
                                    id, 0, jitter_s);
        if (!st) st = add_component(a, tl, &jitter, end, COMP_FRN, SRC_FRN,
                                    -(RP(sim, FRN_BASE_UV) + scale * RP(sim, FRN_EFFECT_UV) * p[LAT_NEGATIVE_AFFECT]),
                                    id, 0, jitter_s);
        if (!st) st = add_component(a, tl, &jitter, end, COMP_THETA, SRC_THETA,
                                    RP(sim, THETA_BASE_UV) + scale * RP(sim, THETA_EFFECT_UV) * (1.0 - p[LAT_CONFIDENCE]),
                                    id, 0, jitter_s);
        if (!st) st = add_transient(a, tl, (rating_transient){.onset = end + 0.2, .duration = 0.04,
                                                              .value = 0.0, .kind = TR_SACCADE,
                                                              .channel = -1});
        double next = end + 1.2;
        if (!st && a->rating[m] == a->rating[m]) {
            double prompt = btfm_sim_round6(next);
            st = add_event(a, tl, prompt, a->response_time[m], EV_RATING, id, 0);
            if (!st) {
                rating_event *e = &a->events[a->n_events - 1];
                e->rating = a->rating[m];
                e->confidence = a->rating_confidence[m];
                e->response_time = a->response_time[m];
            }
            next = prompt + a->response_time[m] + 0.5;
        }
        t = next + gap * (0.7 + 0.6 * btfm_sim_rng_uniform(&r));
    }
    a->duration_s = btfm_sim_round6(t + 1.0);
    return st;
}

/* Blinks (Poisson, thinned to 30% while reading) and artifacts (Poisson: muscle bursts,
 * electrode pops, movements). */
static btfm_status draw_transients(rating_annotator *a, const btfm_sim *sim, timeline *tl)
{
    sim_rng r;
    btfm_status st = BTFM_OK;
    double rate = RP(sim, BLINK_RATE) / 60.0;
    btfm_sim_rng_init(&r, seed_of(sim), SIM_STREAM_SCHEDULE, ((uint64_t)a->index << 8) | 2);
    int64_t cursor = 0;
    for (double t = 0; rate > 0 && !st;) {
        t += -btfm_sim_log(btfm_sim_rng_uniform(&r)) / rate;
        if (t > a->duration_s - 1.0) break;
        double keep = btfm_sim_rng_uniform(&r), amplitude = btfm_sim_exp(0.25 * btfm_sim_rng_normal(&r));
        if (btfm_rating_reading_at(a, t, &cursor) && keep > 0.3) continue;
        st = add_transient(a, tl, (rating_transient){
            .onset = btfm_sim_round6(t), .duration = 0.6, .kind = TR_BLINK, .channel = -1,
            .amplitude_uv = btfm_sim_round6(RP(sim, BLINK_UV) * amplitude)});
    }
    rate = RP(sim, ARTIFACT_RATE) / 60.0;
    btfm_sim_rng_init(&r, seed_of(sim), SIM_STREAM_SCHEDULE, ((uint64_t)a->index << 8) | 3);
    for (double t = 0; rate > 0 && !st;) {
        t += -btfm_sim_log(btfm_sim_rng_uniform(&r)) / rate;
        if (t > a->duration_s - 3.0) break;
        double u = btfm_sim_rng_uniform(&r), size = 0.5 + btfm_sim_rng_uniform(&r);
        rating_transient tr = {.onset = btfm_sim_round6(t), .channel = -1};
        if (u < 0.5) {
            tr.kind = TR_MUSCLE;
            tr.duration = btfm_sim_round6(0.3 + 1.2 * btfm_sim_rng_uniform(&r));
            tr.channel = (int)btfm_sim_rng_below(&r, 2);
            tr.amplitude_uv = btfm_sim_round6(0.25 * RP(sim, ARTIFACT_UV) * size);
        } else if (u < 0.75) {
            tr.kind = TR_POP;
            tr.duration = 3.0; /* 7.5 decay constants */
            tr.channel = (int)btfm_sim_rng_below(&r, (uint64_t)a->n_eeg);
            tr.amplitude_uv = btfm_sim_round6(RP(sim, ARTIFACT_UV) * size * (btfm_sim_rng_uniform(&r) < 0.5 ? -1 : 1));
        } else {
            tr.kind = TR_MOVEMENT;
            tr.duration = btfm_sim_round6(0.5 + 1.5 * btfm_sim_rng_uniform(&r));
            tr.amplitude_uv = btfm_sim_round6(RP(sim, ARTIFACT_UV) * size);
            double norm = 0;
            for (int k = 0; k < 3; k++) {
                tr.direction[k] = btfm_sim_rng_normal(&r);
                norm += tr.direction[k] * tr.direction[k];
            }
            norm = sqrt(norm) + 1e-12;
            for (int k = 0; k < 3; k++) tr.direction[k] = btfm_sim_round6(tr.direction[k] / norm);
        }
        st = add_transient(a, tl, tr);
    }
    return st;
}

/* Blinks kept with probability 1 - blink_engagement e(t), from a stream of their own
 * (nothing is drawn when the coupling is off, so the default files do not change). Runs
 * on the events sorted by onset, as the EEG generator sees them. */
static void thin_blinks(rating_annotator *a, const btfm_sim *sim)
{
    const double depth = RP(sim, BLINK_ENGAGEMENT);
    if (!(depth > 0)) return;
    sim_rng r;
    btfm_sim_rng_init(&r, seed_of(sim), SIM_STREAM_SCHEDULE, ((uint64_t)a->index << 8) | 4);
    rating_engagement eng;
    btfm_rating_engagement_init(&eng, sim, a);
    const double sfreq = RP(sim, SFREQ);
    int64_t n = 0, kept = 0;
    double e = btfm_rating_engagement_next(&eng, a, 0);
    for (int64_t k = 0; k < a->n_transients; k++) {
        rating_transient tr = a->transients[k];
        if (tr.kind == TR_BLINK) {
            const int64_t at = (int64_t)floor(tr.onset * sfreq);
            while (n < at) e = btfm_rating_engagement_next(&eng, a, ++n);
            if (btfm_sim_rng_uniform(&r) >= 1.0 - depth * e) continue;
        }
        a->transients[kept++] = tr;
    }
    a->n_transients = kept;
}

/* Start of a component's support: the generator evaluates it within 5 widths of its peak. */
static double support_start(const rating_component *c)
{
    return c->onset + c->latency - 5.0 * c->width;
}

static int by_support(const void *x, const void *y)
{
    const rating_component *a = x, *b = y;
    double sa = support_start(a), sb = support_start(b);
    if (sa != sb) return sa < sb ? -1 : 1;
    /* Equal starts: a fixed order so qsort's choice never shows. */
    if (a->item != b->item) return a->item < b->item ? -1 : 1;
    if (a->kind != b->kind) return a->kind < b->kind ? -1 : 1;
    return a->segment < b->segment ? -1 : a->segment > b->segment;
}

static int by_onset(const void *x, const void *y)
{
    const rating_transient *a = x, *b = y;
    if (a->onset != b->onset) return a->onset < b->onset ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

static int events_by_onset(const void *x, const void *y)
{
    const rating_event *a = x, *b = y;
    if (a->onset != b->onset) return a->onset < b->onset ? -1 : 1;
    if (a->item != b->item) return a->item < b->item ? -1 : 1;
    if (a->kind != b->kind) return a->kind < b->kind ? -1 : 1;
    return a->segment < b->segment ? -1 : a->segment > b->segment;
}

/* Pairwise preferences: distinct random pairs, the first chosen with the Bradley-Terry
 * probability of the perceived rewards. */
static btfm_status draw_pairs(rating_annotator *a, const btfm_sim *sim, const rating_design *d)
{
    int64_t n = a->n_pairs = (int64_t)RP(sim, N_PAIRS);
    a->pairs = btfm_malloc((size_t)(n ? n : 1) * 2 * sizeof(int64_t));
    a->chosen_first = btfm_malloc((size_t)(n ? n : 1) * sizeof(int));
    a->p_first = btfm_malloc((size_t)(n ? n : 1) * sizeof(double));
    a->pair_time = btfm_malloc((size_t)(n ? n : 1) * sizeof(double));
    if (!a->pairs || !a->chosen_first || !a->p_first || !a->pair_time)
        return btfm_fail_nomem("btfm_sim_rating_session: pairs", (size_t)n * 40);
    sim_rng r;
    btfm_sim_rng_init(&r, seed_of(sim), SIM_STREAM_BEHAVIOUR, ((uint64_t)a->index << 8) | 1);
    /* Pairs already drawn, as keys i * n_items + j (i < j) in an open-addressing set. */
    uint64_t slots = 16;
    while (slots < 2 * (uint64_t)n) slots *= 2;
    uint64_t *seen = btfm_malloc(slots * sizeof(uint64_t));
    if (!seen) return btfm_fail_nomem("btfm_sim_rating_session: pairs", slots * 8);
    for (uint64_t q = 0; q < slots; q++) seen[q] = UINT64_MAX;
    double beta = RP(sim, BT_SCALE);
    for (int64_t k = 0; k < n; k++) {
        int64_t i, j;
        for (;;) {
            i = (int64_t)btfm_sim_rng_below(&r, (uint64_t)d->n_items);
            j = (int64_t)btfm_sim_rng_below(&r, (uint64_t)d->n_items - 1);
            if (j >= i) j++;
            uint64_t key = (uint64_t)(i < j ? i : j) * (uint64_t)d->n_items + (uint64_t)(i < j ? j : i);
            uint64_t q = (key * 0x9E3779B97F4A7C15ULL) & (slots - 1);
            while (seen[q] != UINT64_MAX && seen[q] != key) q = (q + 1) & (slots - 1);
            if (seen[q] == key) continue;
            seen[q] = key;
            break;
        }
        a->pairs[2 * k] = i;
        a->pairs[2 * k + 1] = j;
        double diff = a->perceived[(size_t)i * N_LATENT + LAT_REWARD] - a->perceived[(size_t)j * N_LATENT + LAT_REWARD];
        a->p_first[k] = btfm_sim_round6(btfm_sim_logistic(beta * diff));
        a->chosen_first[k] = btfm_sim_rng_uniform(&r) < a->p_first[k];
        a->pair_time[k] = btfm_sim_round6((1.0 + 1.5 * btfm_sim_exp(-fabs(diff))) * btfm_sim_exp(0.2 * btfm_sim_rng_normal(&r)));
    }
    btfm_free(seen);
    return BTFM_OK;
}

btfm_status btfm_rating_annotator_new(rating_annotator *a, const btfm_sim *sim, const rating_design *d,
                                 int index)
{
    memset(a, 0, sizeof *a);
    a->index = index;
    snprintf(a->label, sizeof a->label, "%02d", index + 1);
    timeline tl = {0, 0, 0};
    draw_traits(a, sim);
    btfm_status st = draw_channels(a, sim);
    if (!st) st = draw_perception(a, sim, d);
    if (!st) st = draw_timeline(a, sim, d, &tl);
    if (!st) st = draw_transients(a, sim, &tl);
    if (!st) st = draw_pairs(a, sim, d);
    if (st) {
        btfm_rating_annotator_free(a);
        return st;
    }
    qsort(a->events, (size_t)a->n_events, sizeof *a->events, events_by_onset);
    qsort(a->components, (size_t)a->n_components, sizeof *a->components, by_support);
    qsort(a->transients, (size_t)a->n_transients, sizeof *a->transients, by_onset);
    thin_blinks(a, sim);
    /* Whole seconds: EDF's 1 s records hold the recording without padding. */
    a->n_samples = (int64_t)ceil(a->duration_s) * (int64_t)RP(sim, SFREQ);
    return BTFM_OK;
}
