/* btfm reward fit|score|pair-scores|encoder: fit a reward head on a rating session (BIDS:
 * EEG with item events, ratings, pairwise choices) and save it; score a session's items
 * with a saved head, one TSV row (or JSON object) per item; the other two live in
 * reward_pairs.c and reward_encoder.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "demo.h"
#include "reward_cli.h"

static int fit(int argc, char **argv)
{
    const char *bids = NULL, *out = NULL;
    int rc = CLI_OK;
    btfm_reward_head *h = NULL;
    if (btfm_reward_head_new(&h, BTFM_REWARD_JOINT)) return cli_fail("reward fit", NULL);
    for (int i = 2; i < argc && rc == CLI_OK; i++) {
        if (strcmp(argv[i], "--param") == 0 && i + 1 < argc) {
            int param;
            double v;
            rc = cli_param_option("reward", BTFM_OBJECT_REWARD_HEAD, argv[++i], &param, &v);
            if (rc == CLI_OK && btfm_reward_head_set_param(h, param, v)) rc = cli_fail("reward fit", NULL);
        } else if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc) {
            int mode = 0;
            for (int m = 1; btfm_reward_mode_name(m); m++)
                if (strcmp(btfm_reward_mode_name(m), argv[i + 1]) == 0) mode = m;
            if (!mode) rc = cli_usage_error("reward", "unknown mode '%s' (ratings_only, "
                                            "brain_only, joint)", argv[i + 1]);
            else btfm_reward_head_set_param(h, BTFM_REWARD_PARAM_MODE, mode);
            i++;
        } else if (argv[i][0] == '-') {
            rc = cli_unknown_option("reward", argv[i]);
        } else if (!bids) bids = argv[i];
        else if (!out) out = argv[i];
        else rc = cli_usage_error("reward", "unexpected argument '%s'", argv[i]);
    }
    if (rc == CLI_OK && (!bids || !out))
        rc = cli_usage_error("reward", "fit needs a BIDS folder and an output file");
    demo_session s;
    cli_progress bar;
    cli_progress_init(&bar);
    if (rc == CLI_OK) rc = demo_session_read(&s, "reward fit", bids, 0, cli_progress_fn, &bar);
    if (rc == CLI_OK) {
        int64_t n = 0, n_pairs = 0, row = 0, p = 0;
        const int64_t d = s.n_features;
        for (int k = 0; k < s.n_annotators; k++) n += s.a[k].n, n_pairs += s.a[k].n_pairs;
        float *x = malloc((size_t)(n * d) * sizeof *x), *r = malloc((size_t)n * sizeof *r);
        float *c = malloc((size_t)n * sizeof *c);
        int64_t *who = malloc((size_t)n * sizeof *who), *items = malloc((size_t)n * sizeof *items);
        int64_t *pairs = malloc((size_t)(2 * n_pairs + 2) * sizeof *pairs);
        if (!x || !r || !c || !who || !items || !pairs) rc = CLI_FAILED;
        for (int k = 0; rc == CLI_OK && k < s.n_annotators; k++) {
            const demo_annotator *a = &s.a[k];
            memcpy(x + row * d, a->x, (size_t)(a->n * d) * sizeof *x);
            memcpy(r + row, a->rating, (size_t)a->n * sizeof *r);
            memcpy(c + row, a->confidence, (size_t)a->n * sizeof *c);
            memcpy(items + row, a->item, (size_t)a->n * sizeof *items);
            for (int64_t i = 0; i < a->n; i++) who[row + i] = k;
            for (int64_t q = 0; q < 2 * a->n_pairs; q++) pairs[p++] = row + a->pairs[q];
            row += a->n;
        }
        btfm_reward_head_set_progress(h, cli_progress_fn, &bar);
        if (rc == CLI_OK &&
            (btfm_reward_head_set_ratings(h, r, c, n) ||
             (n_pairs && btfm_reward_head_set_pairs(h, pairs, NULL, n_pairs)) ||
             btfm_reward_head_set_items(h, items, n) || btfm_reward_head_set_roles(h, s.roles, d) ||
             btfm_reward_head_set_feature_config(h, s.config) ||
             btfm_reward_head_fit(h, x, n, d, who) || btfm_reward_head_save(h, out)))
            rc = cli_fail("reward fit", NULL);
        cli_progress_finish(&bar);
        if (rc == CLI_OK) {
            double v, beta, noise, alpha;
            btfm_reward_head_summary(h, &v, &beta, &noise, &alpha);
            printf("%s: reward head fitted on %d annotators, %lld items x %lld features, %lld "
                   "pairs; rating reliability %.3f, brain slope %.3f (noise %.3f), ridge alpha "
                   "%.3g\n", out, s.n_annotators, (long long)n, (long long)d, (long long)n_pairs,
                   v, beta, noise, alpha);
        }
        free(x), free(r), free(c), free(who), free(items), free(pairs);
        demo_session_free(&s);
    }
    btfm_reward_head_free(h);
    return rc;
}

static int score(int argc, char **argv)
{
    const char *head_path = NULL, *bids = NULL;
    int json = 0, rc = CLI_OK;
    for (int i = 2; i < argc && rc == CLI_OK; i++) {
        if (strcmp(argv[i], "--json") == 0) json = 1;
        else if (argv[i][0] == '-') rc = cli_unknown_option("reward", argv[i]);
        else if (!head_path) head_path = argv[i];
        else if (!bids) bids = argv[i];
        else rc = cli_usage_error("reward", "unexpected argument '%s'", argv[i]);
    }
    if (rc == CLI_OK && (!head_path || !bids))
        rc = cli_usage_error("reward", "score needs a head file and a BIDS folder");
    if (rc != CLI_OK) return rc;
    btfm_reward_head *h = NULL;
    if (btfm_reward_head_load(&h, head_path)) return cli_fail("reward score", head_path);
    demo_session s;
    rc = demo_session_read(&s, "reward score", bids, 0, NULL, NULL);
    if (rc == CLI_OK && btfm_reward_head_check_config(h, s.config)) rc = cli_fail("reward score", NULL);
    if (rc == CLI_OK && !json) printf("participant_id\titem_id\trating\treward\tsd\tconfidence\tpenalty\tnovelty\n");
    if (rc == CLI_OK && json) printf("[");
    int first = 1;
    for (int k = 0; rc == CLI_OK && k < s.n_annotators; k++) {
        const demo_annotator *a = &s.a[k];
        float *out = malloc((size_t)a->n * BTFM_REWARD_N_OUTPUTS * sizeof *out);
        int64_t *who = calloc((size_t)a->n, sizeof *who);
        if (!out || !who ||
            btfm_reward_head_predict(h, out, (size_t)a->n * BTFM_REWARD_N_OUTPUTS, a->x, a->n,
                                     s.n_features, who, a->rating))
            rc = cli_fail("reward score", NULL);
        for (int64_t i = 0; rc == CLI_OK && i < a->n; i++) {
            const float *o = out + i * BTFM_REWARD_N_OUTPUTS;
            char rating[32];
            if (isnan(a->rating[i])) snprintf(rating, sizeof rating, json ? "null" : "n/a");
            else snprintf(rating, sizeof rating, "%g", a->rating[i]);
            if (json) {
                printf("%s\n{\"participant_id\": \"sub-%s\", \"item_id\": %lld, \"rating\": %s",
                       first ? "" : ",", a->id, (long long)a->item[i], rating);
                for (int c = 0; c < BTFM_REWARD_N_OUTPUTS; c++) {
                    printf(", \"%s\": ", btfm_reward_output_name(c));
                    cli_json_number(stdout, o[c]);
                }
                printf("}");
                first = 0;
            } else {
                printf("sub-%s\t%lld\t%s\t%.6f\t%.6f\t%.6f\t%.6f\t%.6f\n", a->id,
                       (long long)a->item[i], rating, o[0], o[1], o[2], o[3], o[4]);
            }
        }
        free(out), free(who);
    }
    if (rc == CLI_OK && json) printf("\n]\n");
    if (rc == CLI_OK || s.a) demo_session_free(&s);
    btfm_reward_head_free(h);
    return rc;
}

int cmd_reward(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "fit") == 0) return fit(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "score") == 0) return score(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "pair-scores") == 0)
        return reward_pair_scores_command(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "encoder") == 0) return reward_encoder_command(argc, argv);
    return cli_usage_error("reward", "expected fit, score, pair-scores or encoder");
}
