/* btfm demo: a rating session read the way a lab would read its own: the BIDS index, each
 * EEG recording through its reader with the sidecars applied, item-locked features from
 * the events, ratings from the events, pairwise choices from beh/, and the latent reward
 * from the simulator's truth when present; optionally the annotators aligned by SRM. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "demo.h"

static void free_names(demo_session *s)
{
    for (int64_t j = 0; s->names && j < s->n_features; j++) free(s->names[j]);
    free(s->names);
    s->names = NULL;
}

void demo_session_free(demo_session *s)
{
    free_names(s);
    for (int k = 0; s->a && k < s->n_annotators; k++) {
        demo_annotator *a = &s->a[k];
        free(a->x), free(a->item), free(a->rating), free(a->confidence), free(a->pairs);
        free(a->epochs);
    }
    free(s->a), free(s->config), free(s->roles), free(s->truth);
    memset(s, 0, sizeof *s);
}

/* A column's numbers, or NULL with the library's message printed. */
static double *numbers(const char *command, const btfm_table *t, const char *name)
{
    int col;
    double *v = NULL;
    if (btfm_table_find_column(t, name, &col) == BTFM_OK &&
        (v = malloc(((size_t)btfm_table_n_rows(t) + 1) * sizeof *v)) &&
        btfm_table_column_numbers(t, col, v) == BTFM_OK)
        return v;
    free(v);
    cli_fail(command, NULL);
    return NULL;
}

/* Ratings (from the events' rating rows) and pairs (beh/ preference choices). */
static int labels(const char *command, demo_annotator *a, btfm_bids *b, btfm_dataset *ds,
                  int64_t max_item)
{
    const btfm_table *ev;
    int rc = CLI_FAILED, tt;
    int64_t *row_of = malloc(((size_t)max_item + 2) * sizeof *row_of);
    a->rating = malloc((size_t)a->n * sizeof *a->rating);
    a->confidence = malloc((size_t)a->n * sizeof *a->confidence);
    if (!row_of || !a->rating || !a->confidence) {
        free(row_of);
        fprintf(stderr, "btfm %s: out of memory\n", command);
        return CLI_FAILED;
    }
    for (int64_t k = 0; k <= max_item + 1; k++) row_of[k] = -1;
    for (int64_t r = 0; r < a->n; r++) {
        row_of[a->item[r]] = r;
        a->rating[r] = NAN;
        a->confidence[r] = 1;
    }
    if (btfm_dataset_events_table(ds, &ev) || btfm_table_find_column(ev, "trial_type", &tt)) {
        free(row_of);
        return cli_fail(command, "events");
    }
    double *item = numbers(command, ev, "item_id"), *rating = numbers(command, ev, "rating");
    double *conf = numbers(command, ev, "rating_confidence");
    for (int64_t e = 0; item && rating && conf && e < btfm_table_n_rows(ev); e++)
        if (strcmp(btfm_table_cell(ev, e, tt), "rating") == 0 && item[e] >= 0 &&
            item[e] <= (double)max_item && row_of[(int64_t)item[e]] >= 0) {
            a->rating[row_of[(int64_t)item[e]]] = (float)rating[e];
            a->confidence[row_of[(int64_t)item[e]]] = isnan(conf[e]) ? 1.0f : (float)conf[e];
        }
    if (item && rating && conf) rc = CLI_OK;
    free(item), free(rating), free(conf);
    /* Pairwise choices, when the session has them. */
    char query[160];
    int64_t idx, n = 0;
    snprintf(query, sizeof query, "sub=%s datatype=beh task=preference", a->id);
    if (rc == CLI_OK && btfm_bids_query(b, query, &idx, 1, &n) == BTFM_OK && n == 1) {
        btfm_table *t = NULL;
        if (btfm_bids_read_table(b, idx, &t)) {
            rc = cli_fail(command, "preferences");
        } else {
            double *ia = numbers(command, t, "item_a"), *ib = numbers(command, t, "item_b");
            double *ch = numbers(command, t, "chosen_item");
            int64_t rows = btfm_table_n_rows(t);
            a->pairs = malloc(((size_t)rows + 1) * 2 * sizeof *a->pairs);
            for (int64_t p = 0; ia && ib && ch && a->pairs && p < rows; p++) {
                double other = ch[p] == ia[p] ? ib[p] : ia[p];
                if (!(ch[p] >= 0 && ch[p] <= (double)max_item && other >= 0 && other <= (double)max_item))
                    continue;
                int64_t c = row_of[(int64_t)ch[p]], o = row_of[(int64_t)other];
                if (c < 0 || o < 0) continue;
                a->pairs[2 * a->n_pairs] = c;
                a->pairs[2 * a->n_pairs + 1] = o;
                a->n_pairs++;
            }
            if (!ia || !ib || !ch || !a->pairs) rc = CLI_FAILED;
            free(ia), free(ib), free(ch);
            btfm_table_free(t);
        }
    }
    free(row_of);
    return rc;
}

/* The features of one recording (channel space, or the aligner's subject `subject`). */
static int features(demo_session *s, demo_annotator *a, btfm_dataset *ds,
                    const btfm_aligner *aligner, int subject)
{
    btfm_reward_features *fb = NULL;
    int rc = CLI_OK;
    if (btfm_reward_features_new(&fb) || btfm_reward_features_set_aligner(fb, aligner, subject) ||
        btfm_reward_features_compute(fb, ds)) {
        btfm_reward_features_free(fb);
        return cli_fail(s->command, "features");
    }
    int64_t n = btfm_reward_features_n_rows(fb), d = btfm_reward_features_n_features(fb);
    free(a->x);
    a->x = malloc((size_t)(n * d) * sizeof *a->x);
    double *item = malloc((size_t)n * sizeof *item);
    if (!a->item) a->item = malloc((size_t)n * sizeof *a->item);
    if (!a->x || !item || !a->item) rc = CLI_FAILED;
    if (rc == CLI_OK && (btfm_reward_features_matrix(fb, a->x, (size_t)(n * d)) ||
                         btfm_reward_features_column(fb, ds, "item_id", item, (size_t)n)))
        rc = cli_fail(s->command, "features");
    for (int64_t r = 0; rc == CLI_OK && r < n; r++) a->item[r] = isnan(item[r]) ? -1 : (int64_t)item[r];
    if (rc == CLI_OK && !aligner) {
        int64_t T;
        int C;
        btfm_reward_features_epochs(fb, NULL, 0, &T, &C);
        a->epochs = malloc((size_t)(n * T * C) * sizeof *a->epochs);
        if (!a->epochs || btfm_reward_features_epochs(fb, a->epochs, (size_t)(n * T * C), &T, &C))
            rc = cli_fail(s->command, "epochs");
        s->n_times = T, s->n_channels = C;
    }
    if (rc == CLI_OK && (s->n_features && s->n_features != d))
        rc = (fprintf(stderr, "btfm %s: recordings give different feature counts (%lld, "
                      "%lld): use one montage\n", s->command, (long long)s->n_features,
                      (long long)d),
              CLI_FAILED);
    if (rc == CLI_OK) {
        s->n_features = d;
        a->n = n;
        free(s->config);
        free(s->roles);
        s->config = strdup(btfm_reward_features_config(fb));
        s->roles = malloc((size_t)d * sizeof *s->roles);
        if (!s->config || !s->roles || btfm_reward_features_roles(fb, s->roles, (size_t)d))
            rc = CLI_FAILED;
        if (rc == CLI_OK && !s->names && !(s->names = calloc((size_t)d, sizeof *s->names)))
            rc = CLI_FAILED;
        for (int64_t j = 0; rc == CLI_OK && j < d; j++)
            if (!s->names[j] && !(s->names[j] = strdup(btfm_reward_features_name(fb, j))))
                rc = CLI_FAILED;
    }
    free(item);
    btfm_reward_features_free(fb);
    return rc;
}

/* The latent reward per item from derivatives/truth/items.tsv (absent for real data). */
static int truth(demo_session *s, const char *root)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/derivatives/truth/items.tsv", root);
    btfm_table *t = NULL;
    s->truth = malloc(((size_t)s->max_item + 1) * sizeof *s->truth);
    if (!s->truth) return CLI_FAILED;
    for (int64_t k = 0; k <= s->max_item; k++) s->truth[k] = NAN;
    if (btfm_table_read(&t, path) != BTFM_OK) return CLI_OK;
    double *id = numbers(s->command, t, "item_id"), *reward = numbers(s->command, t, "reward");
    for (int64_t r = 0; id && reward && r < btfm_table_n_rows(t); r++)
        if (id[r] >= 0 && id[r] <= (double)s->max_item) s->truth[(int64_t)id[r]] = reward[r];
    int rc = id && reward ? CLI_OK : CLI_FAILED;
    free(id), free(reward);
    btfm_table_free(t);
    return rc;
}

/* SRM over the annotators' epochs of the items they all saw, in item order (good
 * channels: a bad channel's zeros carry nothing). */
static int fit_aligner(demo_session *s, btfm_aligner **out)
{
    const int64_t T = s->n_times;
    const int C = s->n_channels;
    int64_t n_items = s->a[0].n;
    for (int k = 1; k < s->n_annotators; k++)
        if (s->a[k].n != n_items) return CLI_USAGE; /* not one shared item set */
    btfm_aligner *al = NULL;
    if (btfm_aligner_new(&al, BTFM_ALIGN_SRM) ||
        btfm_aligner_set_param(al, BTFM_ALIGNER_PARAM_N_FEATURES, 16))
        return cli_fail(s->command, "aligner");
    float *data = malloc((size_t)(n_items * T * C) * sizeof *data);
    int64_t *order = malloc((size_t)n_items * sizeof *order);
    int rc = data && order ? CLI_OK : CLI_FAILED;
    for (int k = 0; rc == CLI_OK && k < s->n_annotators; k++) {
        const demo_annotator *a = &s->a[k];
        for (int64_t r = 0; r < n_items; r++) order[r] = r;
        for (int64_t i = 1; i < n_items; i++) /* rows by item id (insertion sort, small) */
            for (int64_t j = i; j > 0 && a->item[order[j - 1]] > a->item[order[j]]; j--) {
                int64_t t = order[j];
                order[j] = order[j - 1], order[j - 1] = t;
            }
        int good[512], n_good = 0;
        for (int c = 0; c < C && c < 512; c++) {
            int nonzero = 0;
            for (int64_t t = 0; t < n_items * T && !nonzero; t++) nonzero = a->epochs[t * C + c] != 0;
            if (nonzero) good[n_good++] = c;
        }
        for (int64_t r = 0; r < n_items; r++)
            for (int64_t t = 0; t < T; t++)
                for (int g = 0; g < n_good; g++)
                    data[((r * T) + t) * n_good + g] = a->epochs[((order[r] * T) + t) * C + good[g]];
        if (btfm_aligner_add_subject(al, data, n_items * T, n_good)) rc = cli_fail(s->command, "aligner");
    }
    if (rc == CLI_OK && btfm_aligner_fit(al)) rc = cli_fail(s->command, "aligner");
    free(data), free(order);
    if (rc != CLI_OK) btfm_aligner_free(al);
    else *out = al;
    return rc;
}

int demo_session_read(demo_session *s, const char *command, const char *root, int align,
                      btfm_progress_fn fn, void *user)
{
    memset(s, 0, sizeof *s);
    s->command = command;
    btfm_bids *b = NULL;
    if (btfm_bids_open(&b, root, 0)) return cli_fail(command, NULL);
    int64_t idx[1024], n = 0;
    int rc = CLI_OK;
    if (btfm_bids_query(b, "datatype=eeg", idx, 1024, &n)) rc = cli_fail(command, NULL);
    if (rc == CLI_OK && n < 2)
        rc = (fprintf(stderr, "btfm %s: %s has %lld EEG recording%s; annotator-wise "
                      "cross-validation needs at least two annotators\n", command, root, (long long)n,
                      n == 1 ? "" : "s"), CLI_FAILED);
    if (n > 1024) n = 1024;
    s->a = calloc((size_t)(n > 0 ? n : 1), sizeof *s->a);
    if (!s->a) rc = CLI_FAILED;
    btfm_dataset **ds = calloc((size_t)(n > 0 ? n : 1), sizeof *ds);
    for (int64_t k = 0; rc == CLI_OK && k < n; k++) {
        demo_annotator *a = &s->a[k];
        const char *sub = btfm_bids_recording_entity(b, idx[k], "sub");
        snprintf(a->id, sizeof a->id, "%s", sub ? sub : "?");
        if (btfm_bids_open_recording(b, idx[k], &ds[k])) {
            rc = cli_fail(command, btfm_bids_recording_path(b, idx[k]));
            break;
        }
        rc = features(s, a, ds[k], NULL, 0);
        s->n_annotators = (int)(k + 1);
        for (int64_t r = 0; rc == CLI_OK && r < a->n; r++)
            if (a->item[r] > s->max_item) s->max_item = a->item[r];
        if (rc == CLI_OK && fn) fn("reading", 0.5 * (double)(k + 1) / (double)n, user);
    }
    for (int64_t k = 0; rc == CLI_OK && k < n; k++)
        rc = labels(command, &s->a[k], b, ds[k], s->max_item);
    if (rc == CLI_OK) {
        s->sfreq = btfm_dataset_sfreq(ds[0]);
        s->tmin = -0.2;
        int pz;
        s->plot_channel = btfm_dataset_find_channel(ds[0], "Pz", &pz) == BTFM_OK ? pz : 0;
        rc = truth(s, root);
    }
    btfm_aligner *al = NULL;
    int arc = rc == CLI_OK && align ? fit_aligner(s, &al) : CLI_USAGE;
    if (arc == CLI_FAILED) rc = CLI_FAILED;
    if (rc == CLI_OK && fn) fn("aligning", 0.6, user);
    for (int64_t k = 0; rc == CLI_OK && al && k < n; k++) {
        if (k == 0) free_names(s); /* the shared space has other features */
        s->n_features = 0;
        rc = features(s, &s->a[k], ds[k], al, (int)k);
        if (rc == CLI_OK && fn) fn("aligned features", 0.6 + 0.4 * (double)(k + 1) / (double)n, user);
    }
    s->aligned = al != NULL;
    btfm_aligner_free(al);
    for (int64_t k = 0; k < n; k++) btfm_dataset_free(ds[k]);
    free(ds);
    btfm_bids_free(b);
    if (rc != CLI_OK) demo_session_free(s);
    return rc;
}
