/* Score a batch of items from a recording with a saved reward head, as a C/C++ training
 * framework would: rlhb_reward HEAD.btfm BIDS_ROOT SUBJECT (the subject's EEG recording
 * with its events.tsv). Without arguments it makes both first: a small simulated rating
 * session, its features, a joint head fitted on two annotators and saved; then it loads
 * the head and scores the third annotator's recording. Run by the tests. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <btfm/btfm.h>

static int fail(const char *what)
{
    fprintf(stderr, "%s: %s\n", what, btfm_last_error());
    return 1;
}

/* Features of one recording (rows: items) and its ratings from the events (NaN: none). */
static int features_of(btfm_dataset *ds, float **x, float **ratings, int64_t *n, int64_t *d,
                       char *config, size_t config_size)
{
    btfm_reward_features *fb;
    if (btfm_reward_features_new(&fb) || btfm_reward_features_compute(fb, ds))
        return fail("features");
    *n = btfm_reward_features_n_rows(fb);
    *d = btfm_reward_features_n_features(fb);
    *x = malloc((size_t)(*n * *d) * sizeof **x);
    *ratings = malloc((size_t)*n * sizeof **ratings);
    double *item = malloc((size_t)*n * sizeof *item);
    if (!*x || !*ratings || !item) return 1;
    btfm_reward_features_matrix(fb, *x, (size_t)(*n * *d));
    btfm_reward_features_column(fb, ds, "item_id", item, (size_t)*n);
    snprintf(config, config_size, "%s", btfm_reward_features_config(fb));
    /* Ratings sit on the events' "rating" rows, matched to items by item_id. */
    const btfm_table *ev;
    int tt, id_col, r_col;
    btfm_dataset_events_table(ds, &ev);
    btfm_table_find_column(ev, "trial_type", &tt);
    btfm_table_find_column(ev, "item_id", &id_col);
    btfm_table_find_column(ev, "rating", &r_col);
    for (int64_t r = 0; r < *n; r++) {
        (*ratings)[r] = NAN;
        for (int64_t e = 0; e < btfm_table_n_rows(ev); e++)
            if (strcmp(btfm_table_cell(ev, e, tt), "rating") == 0 &&
                atof(btfm_table_cell(ev, e, id_col)) == item[r])
                (*ratings)[r] = (float)atof(btfm_table_cell(ev, e, r_col));
    }
    free(item);
    btfm_reward_features_free(fb);
    return 0;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int prepare(const char *root, const char *head_path)
{
    btfm_sim *sim;
    btfm_bids *b;
    if (btfm_sim_new(&sim, BTFM_OBJECT_SIM_RATING_SESSION)) return fail("sim");
    btfm_sim_set_param(sim, BTFM_SIM_RATING_N_ANNOTATORS, 3);
    btfm_sim_set_param(sim, BTFM_SIM_RATING_N_ITEMS, 60);
    btfm_sim_set_param(sim, BTFM_SIM_RATING_RATING_FRACTION, 0.5);
    btfm_sim_set_param(sim, BTFM_SIM_RATING_N_CHANNELS, 16);
    btfm_sim_set_param(sim, BTFM_SIM_RATING_SFREQ, 125);
    if (btfm_sim_rating_session(sim, root)) return fail("sim");
    btfm_sim_free(sim);
    if (btfm_bids_open(&b, root, 0)) return fail("bids");
    int64_t idx[3], n_rec;
    btfm_bids_query(b, "datatype=eeg", idx, 3, &n_rec);
    float *x = NULL, *ratings = NULL;
    int64_t *annot = NULL, rows = 0, d = 0;
    char config[4096];
    for (int k = 0; k < 2; k++) { /* fit on two annotators */
        btfm_dataset *ds;
        float *xk, *rk;
        int64_t n;
        if (btfm_bids_open_recording(b, idx[k], &ds)) return fail("recording");
        if (features_of(ds, &xk, &rk, &n, &d, config, sizeof config)) return 1;
        x = realloc(x, (size_t)((rows + n) * d) * sizeof *x);
        ratings = realloc(ratings, (size_t)(rows + n) * sizeof *ratings);
        annot = realloc(annot, (size_t)(rows + n) * sizeof *annot);
        memcpy(x + rows * d, xk, (size_t)(n * d) * sizeof *x);
        memcpy(ratings + rows, rk, (size_t)n * sizeof *ratings);
        for (int64_t i = 0; i < n; i++) annot[rows + i] = k;
        rows += n;
        free(xk), free(rk);
        btfm_dataset_free(ds);
    }
    btfm_reward_head *h;
    if (btfm_reward_head_new(&h, BTFM_REWARD_JOINT) ||
        btfm_reward_head_set_param(h, BTFM_REWARD_PARAM_FOLDS, 2) ||
        btfm_reward_head_set_ratings(h, ratings, NULL, rows) ||
        btfm_reward_head_set_feature_config(h, config) ||
        btfm_reward_head_fit(h, x, rows, d, annot) || btfm_reward_head_save(h, head_path))
        return fail("fit");
    printf("fitted a joint head on %lld items x %lld features and saved it\n",
           (long long)rows, (long long)d);
    btfm_reward_head_free(h);
    btfm_bids_free(b);
    free(x), free(ratings), free(annot);
    return 0;
}

int main(int argc, char **argv)
{
    char tmp[] = "/tmp/rlhb-example-XXXXXX", root[64], head_path[64];
    const char *head_file = head_path, *bids_root = root, *subject = "03";
    if (argc > 3) {
        head_file = argv[1], bids_root = argv[2], subject = argv[3];
    } else {
        if (!mkdtemp(tmp)) return 1;
        snprintf(root, sizeof root, "%s/session", tmp);
        snprintf(head_path, sizeof head_path, "%s/head.btfm", tmp);
        if (prepare(root, head_path)) return 1;
    }

    /* The host's side: load the head, build the recording's features, score them. */
    btfm_reward_head *h;
    btfm_bids *b;
    btfm_dataset *ds;
    char query[128];
    int64_t idx, n_found;
    snprintf(query, sizeof query, "sub=%s datatype=eeg", subject);
    if (btfm_reward_head_load(&h, head_file)) return fail(head_file);
    if (btfm_bids_open(&b, bids_root, 0) || btfm_bids_query(b, query, &idx, 1, &n_found) ||
        n_found < 1 || btfm_bids_open_recording(b, idx, &ds))
        return fail(bids_root);
    float *x, *ratings;
    int64_t n, d;
    char config[4096];
    if (features_of(ds, &x, &ratings, &n, &d, config, sizeof config)) return 1;
    if (btfm_reward_head_check_config(h, config)) return fail("features");
    float *out = malloc((size_t)n * BTFM_REWARD_N_OUTPUTS * sizeof *out);
    int64_t *annot = calloc((size_t)n, sizeof *annot); /* one new annotator */
    if (btfm_reward_head_predict(h, out, (size_t)n * BTFM_REWARD_N_OUTPUTS, x, n, d, annot,
                                 NULL))
        return fail("predict");
    printf("scored %lld items of sub-%s\n  item  reward  confidence  penalty  novelty\n",
           (long long)n, subject);
    for (int64_t i = 0; i < n && i < 5; i++) {
        const float *o = out + i * BTFM_REWARD_N_OUTPUTS;
        printf("  %4lld  %6.3f  %10.3f  %7.3f  %7.3f\n", (long long)i, o[BTFM_REWARD_OUT_REWARD],
               o[BTFM_REWARD_OUT_CONFIDENCE], o[BTFM_REWARD_OUT_PENALTY], o[BTFM_REWARD_OUT_NOVELTY]);
    }
    free(x), free(ratings), free(out), free(annot);
    btfm_dataset_free(ds);
    btfm_bids_free(b);
    btfm_reward_head_free(h);
    if (argc <= 3) nftw(tmp, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
