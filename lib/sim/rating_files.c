/* The rating session's tables: events.tsv of each recording, the behaviour files (ratings,
 * pairwise preferences) with their sidecars, and the ground truth under
 * derivatives/truth/ (file names and columns: doc/simulation.md, "Files"). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "rating_internal.h"

btfm_status btfm_rating_events_table(const rating_annotator *a, double sfreq, btfm_table **out)
{
    static const char *const columns[] = {"onset", "duration", "trial_type", "item_id", "segment",
                                          "rating", "rating_confidence", "response_time", "sample"};
    sim_table t = {0};
    btfm_status st = btfm_sim_table_new(&t, columns, 9);
    for (int64_t e = 0; !st && e < a->n_events; e++) {
        const rating_event *ev = &a->events[e];
        double cells[9] = {ev->onset, ev->duration, 0, ev->item, ev->segment ? ev->segment : NAN,
                           ev->rating, ev->confidence, ev->response_time, nearbyint(ev->onset * sfreq)};
        const char *texts[9] = {NULL, NULL, btfm_rating_event_names[ev->kind]};
        st = btfm_sim_table_row(&t, cells, texts);
    }
    if (st) {
        btfm_sim_table_free(&t);
        return st;
    }
    *out = t.t;
    return BTFM_OK;
}

/* A BIDS column description: {"column": {"Description": ..., "Units"|"Levels": ...}}. */
static btfm_status describe(btfm_json *sidecar, const char *column, const char *description,
                            const char *units)
{
    btfm_json *c = NULL;
    btfm_status st = btfm_json_new_object(&c);
    if (!st) st = btfm_json_set_string(c, "Description", description);
    if (!st && units) st = btfm_json_set_string(c, "Units", units);
    if (!st) {
        st = btfm_json_set(sidecar, column, c);
        c = NULL;
    }
    btfm_json_free(c);
    return st;
}

btfm_status btfm_rating_write_beh(const rating_annotator *a, const sim_output *o)
{
    char dir[64], path[160];
    snprintf(dir, sizeof dir, "sub-%s/beh", a->label);
    btfm_status st = btfm_sim_make_dirs(o, dir);
    static const char *const rating_columns[] = {"item_id", "rating", "rating_confidence",
                                                 "response_time"};
    sim_table t = {0};
    if (!st) st = btfm_sim_table_new(&t, rating_columns, 4);
    for (int64_t k = 0; !st && k < a->n_events; k++) {
        const rating_event *e = &a->events[k];
        if (e->kind != EV_RATING) continue;
        double cells[4] = {e->item, e->rating, e->confidence, e->response_time};
        st = btfm_sim_table_row(&t, cells, NULL);
    }
    snprintf(path, sizeof path, "%s/sub-%s_task-rating_beh.tsv", dir, a->label);
    if (!st) st = btfm_sim_table_save(&t, o, path);
    btfm_json *j = NULL;
    if (!st) st = btfm_json_new_object(&j);
    if (!st) st = btfm_json_set_string(j, "TaskName", "rating");
    if (!st) st = describe(j, "item_id", "the rated item (items are numbered from 1)", NULL);
    if (!st) st = describe(j, "rating", "Likert rating of the item, 1 (worst) to the scale's top", NULL);
    if (!st) st = describe(j, "rating_confidence", "confidence in the rating, 1 (guess) to 5 (sure)", NULL);
    if (!st) st = describe(j, "response_time", "time from the rating prompt to the response", "s");
    snprintf(path, sizeof path, "%s/sub-%s_task-rating_beh.json", dir, a->label);
    if (!st) {
        st = btfm_sim_json_save(j, o, path);
        j = NULL;
    }
    static const char *const pair_columns[] = {"pair", "item_a", "item_b", "choice", "chosen_item",
                                               "response_time"};
    if (!st) st = btfm_sim_table_new(&t, pair_columns, 6);
    for (int64_t k = 0; !st && k < a->n_pairs; k++) {
        int first = a->chosen_first[k];
        double cells[6] = {(double)(k + 1), (double)(a->pairs[2 * k] + 1), (double)(a->pairs[2 * k + 1] + 1),
                           0, (double)(a->pairs[2 * k + (first ? 0 : 1)] + 1), a->pair_time[k]};
        const char *texts[6] = {NULL, NULL, NULL, first ? "a" : "b"};
        st = btfm_sim_table_row(&t, cells, texts);
    }
    snprintf(path, sizeof path, "%s/sub-%s_task-preference_beh.tsv", dir, a->label);
    if (!st) st = btfm_sim_table_save(&t, o, path);
    if (!st) st = btfm_json_new_object(&j);
    if (!st) st = btfm_json_set_string(j, "TaskName", "preference");
    if (!st) st = describe(j, "item_a", "the item shown first (left)", NULL);
    if (!st) st = describe(j, "item_b", "the item shown second (right)", NULL);
    if (!st) st = describe(j, "choice", "the preferred one: a or b", NULL);
    if (!st) st = describe(j, "chosen_item", "the preferred item's id", NULL);
    if (!st) st = describe(j, "response_time", "time to choose", "s");
    snprintf(path, sizeof path, "%s/sub-%s_task-preference_beh.json", dir, a->label);
    if (!st) {
        st = btfm_sim_json_save(j, o, path);
        j = NULL;
    }
    btfm_json_free(j);
    btfm_sim_table_free(&t);
    return st;
}

btfm_status btfm_rating_write_item_truth(const rating_design *d, const sim_output *o)
{
    static const char *const item_columns[] = {"item_id", "reward", "confidence",
                                               "negative_affect", "novelty", "n_segments"};
    sim_table t = {0};
    btfm_status st = btfm_sim_table_new(&t, item_columns, 6);
    for (int m = 0; !st && m < d->n_items; m++) {
        const double *l = d->latent + (size_t)m * N_LATENT;
        double cells[6] = {m + 1, l[LAT_REWARD], l[LAT_CONFIDENCE], l[LAT_NEGATIVE_AFFECT],
                           l[LAT_NOVELTY], d->n_item_segments[m]};
        st = btfm_sim_table_row(&t, cells, NULL);
    }
    if (!st) st = btfm_sim_table_save(&t, o, "derivatives/truth/items.tsv");
    static const char *const segment_columns[] = {"item_id", "segment", "reward", "length"};
    if (!st) st = btfm_sim_table_new(&t, segment_columns, 4);
    for (int m = 0; !st && m < d->n_items; m++)
        for (int s = 0; !st && s < d->n_item_segments[m]; s++) {
            int64_t k = d->first_segment[m] + s;
            double cells[4] = {m + 1, s + 1, d->segment_reward[k], d->segment_length[k]};
            st = btfm_sim_table_row(&t, cells, NULL);
        }
    if (!st) st = btfm_sim_table_save(&t, o, "derivatives/truth/segments.tsv");
    btfm_sim_table_free(&t);
    return st;
}

static const char *const annotator_columns[] = {
    "participant_id", "noise_uv", "sensor_sd_uv", "background_sd_uv", "alpha_freq", "alpha_uv",
    "theta_freq", "line_uv", "engagement_mean", "rating_bias", "rating_noise", "rotation_deg",
    "rotation_axis_x", "rotation_axis_y", "rotation_axis_z", "bad_channels", "duration_s",
    "n_samples"};
#define N_ANNOTATOR_COLUMNS ((int)(sizeof annotator_columns / sizeof *annotator_columns))

btfm_status btfm_rating_annotators_table_new(sim_table *t)
{
    return btfm_sim_table_new(t, annotator_columns, N_ANNOTATOR_COLUMNS);
}

btfm_status btfm_rating_annotators_table_add(sim_table *t, const rating_annotator *a)
{
    char id[24], bad[1024] = "";
    snprintf(id, sizeof id, "sub-%s", a->label);
    size_t used = 0;
    for (int c = 0; c < a->n_channels; c++)
        if (a->bad[c] && used + 16 < sizeof bad)
            used += (size_t)snprintf(bad + used, sizeof bad - used, "%s%s", used ? "," : "", a->names[c]);
    double cells[N_ANNOTATOR_COLUMNS] = {
        0, a->noise_uv, a->sensor_sd_uv, a->background_sd_uv, a->alpha_freq, a->alpha_uv,
        a->theta_freq, a->line_uv, a->engagement_mean, a->rating_bias, a->rating_noise,
        a->rotation_deg, a->rotation_axis[0], a->rotation_axis[1], a->rotation_axis[2], NAN,
        a->duration_s, (double)a->n_samples};
    const char *texts[N_ANNOTATOR_COLUMNS] = {id};
    texts[15] = used ? bad : "n/a";
    return btfm_sim_table_row(t, cells, texts);
}

/* Per item as this annotator saw it, with the amplitudes injected at its events. */
static btfm_status write_perceived(const rating_design *d, const rating_annotator *a,
                                   const sim_output *o, const char *dir)
{
    static const char *const columns[] = {
        "item_id", "position", "onset", "item_end", "reward", "confidence", "negative_affect",
        "novelty", "rating", "rating_confidence", "response_time", "p3a_uv", "rewp_uv", "frn_uv",
        "theta_uv"};
    enum { N = 15 };
    double *onset = btfm_malloc((size_t)d->n_items * 2 * sizeof(double));
    double *amp = btfm_calloc((size_t)d->n_items * N_COMPONENT_KINDS, sizeof(double));
    if (!onset || !amp) {
        btfm_free(onset);
        btfm_free(amp);
        return btfm_fail_nomem("btfm_sim_rating_session: truth", (size_t)d->n_items * 56);
    }
    for (int64_t e = 0; e < a->n_events; e++) {
        const rating_event *ev = &a->events[e];
        if (ev->kind == EV_ITEM_ONSET) onset[2 * (ev->item - 1)] = ev->onset;
        if (ev->kind == EV_ITEM_END) onset[2 * (ev->item - 1) + 1] = ev->onset;
    }
    for (int64_t k = 0; k < a->n_components; k++) {
        const rating_component *c = &a->components[k];
        if (c->kind != COMP_SEGMENT) amp[(size_t)(c->item - 1) * N_COMPONENT_KINDS + (size_t)c->kind] = c->amplitude_uv;
    }
    int64_t *position = btfm_malloc((size_t)d->n_items * sizeof(int64_t));
    sim_table t = {0};
    btfm_status st = position ? btfm_sim_table_new(&t, columns, N) : btfm_fail_nomem("truth", 64);
    for (int k = 0; position && k < d->n_items; k++) position[a->order[k]] = k + 1;
    for (int m = 0; !st && m < d->n_items; m++) {
        const double *p = a->perceived + (size_t)m * N_LATENT;
        const double *c = amp + (size_t)m * N_COMPONENT_KINDS;
        double cells[N] = {m + 1, (double)position[m], onset[2 * m], onset[2 * m + 1], p[LAT_REWARD],
                           p[LAT_CONFIDENCE], p[LAT_NEGATIVE_AFFECT], p[LAT_NOVELTY], a->rating[m],
                           a->rating_confidence[m], a->response_time[m], c[COMP_P3A], c[COMP_REWP],
                           c[COMP_FRN], c[COMP_THETA]};
        st = btfm_sim_table_row(&t, cells, NULL);
    }
    char path[160];
    snprintf(path, sizeof path, "%s/sub-%s_perceived.tsv", dir, a->label);
    if (!st) st = btfm_sim_table_save(&t, o, path);
    else if (position) btfm_sim_table_free(&t);
    btfm_free(position);
    btfm_free(onset);
    btfm_free(amp);
    return st;
}

static btfm_status write_components(const rating_annotator *a, const sim_output *o, const char *dir)
{
    static const char *const columns[] = {"onset", "latency", "width", "amplitude_uv", "frequency",
                                          "phase", "source", "component", "item_id", "segment"};
    sim_table t = {0};
    btfm_status st = btfm_sim_table_new(&t, columns, 10);
    for (int64_t k = 0; !st && k < a->n_components; k++) {
        const rating_component *c = &a->components[k];
        double cells[10] = {c->onset, c->latency, c->width, c->amplitude_uv,
                            c->freq > 0 ? c->freq : NAN, c->freq > 0 ? c->phase : NAN, 0, 0,
                            c->item, c->segment ? c->segment : NAN};
        const char *texts[10] = {NULL, NULL, NULL, NULL, NULL, NULL, btfm_rating_source_names[c->source],
                                 btfm_rating_component_names[c->kind]};
        st = btfm_sim_table_row(&t, cells, texts);
    }
    char path[160];
    snprintf(path, sizeof path, "%s/sub-%s_components.tsv", dir, a->label);
    if (!st) st = btfm_sim_table_save(&t, o, path);
    btfm_sim_table_free(&t);
    return st;
}

static btfm_status write_topography(const rating_annotator *a, const sim_output *o, const char *dir)
{
    enum { FIXED = 5 };
    const char *columns[FIXED + N_SOURCES] = {"name", "x", "y", "z", "status"};
    for (int k = 0; k < N_SOURCES; k++) columns[FIXED + k] = btfm_rating_source_names[k];
    static const char *const status[] = {"good", "noisy", "flat"};
    sim_table t = {0};
    btfm_status st = btfm_sim_table_new(&t, columns, FIXED + N_SOURCES);
    for (int c = 0; !st && c < a->n_eeg; c++) {
        double cells[FIXED + N_SOURCES];
        const char *texts[FIXED + N_SOURCES] = {a->names[c], NULL, NULL, NULL, status[a->bad[c]]};
        for (int k = 0; k < 3; k++) cells[1 + k] = btfm_sim_round6(a->positions[c][k]);
        for (int k = 0; k < N_SOURCES; k++) cells[FIXED + k] = a->topography[(size_t)c * N_SOURCES + (size_t)k];
        st = btfm_sim_table_row(&t, cells, texts);
    }
    char path[160];
    snprintf(path, sizeof path, "%s/sub-%s_topography.tsv", dir, a->label);
    if (!st) st = btfm_sim_table_save(&t, o, path);
    btfm_sim_table_free(&t);
    return st;
}

static btfm_status write_artifacts(const rating_annotator *a, const sim_output *o, const char *dir)
{
    static const char *const columns[] = {"onset", "duration", "type", "channel", "amplitude_uv",
                                          "position"};
    sim_table t = {0};
    btfm_status st = btfm_sim_table_new(&t, columns, 6);
    for (int64_t k = 0; !st && k < a->n_transients; k++) {
        const rating_transient *tr = &a->transients[k];
        const char *channel = tr->kind == TR_POP ? a->names[tr->channel]
                            : tr->kind == TR_MUSCLE ? (tr->channel ? "right" : "left") : NULL;
        double cells[6] = {tr->onset, tr->duration, 0, NAN,
                           tr->kind == TR_SACCADE ? NAN : tr->amplitude_uv,
                           tr->kind == TR_SACCADE ? tr->value : NAN};
        const char *texts[6] = {NULL, NULL, btfm_rating_transient_names[tr->kind], channel};
        st = btfm_sim_table_row(&t, cells, texts);
    }
    char path[160];
    snprintf(path, sizeof path, "%s/sub-%s_artifacts.tsv", dir, a->label);
    if (!st) st = btfm_sim_table_save(&t, o, path);
    btfm_sim_table_free(&t);
    return st;
}

static btfm_status write_traces(const rating_annotator *a, const sim_output *o, const char *dir)
{
    static const char *const columns[] = {"onset", "engagement", "alpha_uv"};
    sim_table t = {0};
    btfm_status st = btfm_sim_table_new(&t, columns, 3);
    for (int64_t k = 0; !st && k < a->n_trace; k++) {
        double cells[3] = {k * TRACE_STEP_S, a->engagement_trace[k], a->alpha_trace[k]};
        st = btfm_sim_table_row(&t, cells, NULL);
    }
    char path[160];
    snprintf(path, sizeof path, "%s/sub-%s_engagement.tsv", dir, a->label);
    if (!st) st = btfm_sim_table_save(&t, o, path);
    btfm_sim_table_free(&t);
    return st;
}

static btfm_status write_pairs(const rating_annotator *a, const sim_output *o, const char *dir)
{
    static const char *const columns[] = {"pair", "item_a", "item_b", "p_a", "chosen_item"};
    sim_table t = {0};
    btfm_status st = btfm_sim_table_new(&t, columns, 5);
    for (int64_t k = 0; !st && k < a->n_pairs; k++) {
        double cells[5] = {(double)(k + 1), (double)(a->pairs[2 * k] + 1), (double)(a->pairs[2 * k + 1] + 1),
                           a->p_first[k], (double)(a->pairs[2 * k + (a->chosen_first[k] ? 0 : 1)] + 1)};
        st = btfm_sim_table_row(&t, cells, NULL);
    }
    char path[160];
    snprintf(path, sizeof path, "%s/sub-%s_pairs.tsv", dir, a->label);
    if (!st) st = btfm_sim_table_save(&t, o, path);
    btfm_sim_table_free(&t);
    return st;
}

btfm_status btfm_rating_write_annotator_truth(const btfm_sim *sim, const rating_design *d,
                                         const rating_annotator *a, const sim_output *o)
{
    (void)sim;
    char dir[64];
    snprintf(dir, sizeof dir, "derivatives/truth/sub-%s", a->label);
    btfm_status st = btfm_sim_make_dirs(o, dir);
    if (!st) st = write_perceived(d, a, o, dir);
    if (!st) st = write_components(a, o, dir);
    if (!st) st = write_topography(a, o, dir);
    if (!st) st = write_artifacts(a, o, dir);
    if (!st) st = write_traces(a, o, dir);
    if (!st) st = write_pairs(a, o, dir);
    return st;
}
