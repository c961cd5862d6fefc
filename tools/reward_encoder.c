/* btfm reward encoder: the other direction. From a table of the host's item embeddings
 * (item_id and one column per dimension) and a rating session, fit the encoding model
 * that predicts each annotator's brain features (btfm_reward_encoder_fit), report each
 * feature's held-out r on unseen items (and the ratings'), and save the model. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "demo.h"
#include "reward_cli.h"

typedef struct embeddings {
    float *x;       /* n x dim */
    int64_t *id;    /* item id of each row */
    int64_t n, dim;
} embeddings;

static int read_embeddings(embeddings *e, const char *path)
{
    btfm_table *t = NULL;
    int id_col;
    if (btfm_table_read(&t, path) || btfm_table_find_column(t, "item_id", &id_col))
        return (btfm_table_free(t), cli_fail("reward encoder", path));
    const int64_t n = btfm_table_n_rows(t);
    const int cols = btfm_table_n_columns(t);
    e->n = n, e->dim = cols - 1;
    double *v = malloc(((size_t)n + 1) * sizeof *v);
    e->x = malloc(((size_t)(n * e->dim) + 1) * sizeof *e->x);
    e->id = malloc(((size_t)n + 1) * sizeof *e->id);
    int rc = v && e->x && e->id ? CLI_OK : (fprintf(stderr, "btfm reward encoder: out of memory\n"), CLI_FAILED);
    if (rc == CLI_OK && (n < 2 || e->dim < 1))
        rc = (fprintf(stderr, "btfm reward encoder: %s: expected item_id and at least one embedding "
                      "column, and two items or more\n", path), CLI_FAILED);
    for (int c = 0, k = 0; rc == CLI_OK && c < cols; c++) {
        if (btfm_table_column_numbers(t, c, v)) {
            rc = cli_fail("reward encoder", path);
            break;
        }
        for (int64_t r = 0; r < n && rc == CLI_OK; r++) {
            if (isnan(v[r]))
                rc = (fprintf(stderr, "btfm reward encoder: %s: row %lld, column %s is n/a; expected "
                              "a number\n", path, (long long)r + 1, btfm_table_column_name(t, c)),
                      CLI_FAILED);
            else if (c == id_col) e->id[r] = (int64_t)v[r];
            else e->x[r * e->dim + k] = (float)v[r];
        }
        if (c != id_col) k++;
    }
    free(v);
    btfm_table_free(t);
    return rc;
}

/* The row of each presentation's item in the embeddings, or a message naming it. */
static int64_t embedding_row(const embeddings *e, int64_t id)
{
    for (int64_t r = 0; r < e->n; r++)
        if (e->id[r] == id) return r;
    return -1;
}

static int fit_and_report(const demo_session *s, const embeddings *e, const char *out,
                          int folds, int json)
{
    int64_t n = 0, n_rated = 0, d = 0;
    for (int k = 0; k < s->n_annotators; k++) n += s->a[k].n;
    /* features constant within every annotator (bad channels) are left out */
    int64_t *keep = malloc(((size_t)s->n_features + 1) * sizeof *keep);
    float *x = malloc(((size_t)(n * s->n_features) + 1) * sizeof *x);
    float *rating = malloc(((size_t)n + 1) * sizeof *rating);
    int64_t *item = malloc(((size_t)n + 1) * sizeof *item), *who = malloc(((size_t)n + 1) * sizeof *who);
    int64_t *r_item = malloc(((size_t)n + 1) * sizeof *r_item), *r_who = malloc(((size_t)n + 1) * sizeof *r_who);
    double *r = malloc(((size_t)s->n_features + 1) * sizeof *r), r_rating = NAN;
    btfm_model *m = NULL, *mr = NULL;
    int rc = keep && x && rating && item && who && r_item && r_who && r ? CLI_OK : CLI_FAILED;
    for (int64_t j = 0; rc == CLI_OK && j < s->n_features; j++) {
        int varies = 0;
        for (int k = 0; k < s->n_annotators && !varies; k++)
            for (int64_t i = 1; i < s->a[k].n && !varies; i++)
                varies = s->a[k].x[i * s->n_features + j] != s->a[k].x[j];
        if (varies) keep[d++] = j;
    }
    int64_t row = 0;
    for (int k = 0; rc == CLI_OK && k < s->n_annotators; k++) {
        const demo_annotator *a = &s->a[k];
        for (int64_t i = 0; rc == CLI_OK && i < a->n; i++, row++) {
            item[row] = embedding_row(e, a->item[i]);
            if (item[row] < 0)
                rc = (fprintf(stderr, "btfm reward encoder: item %lld (sub-%s) has no embedding\n",
                              (long long)a->item[i], a->id), CLI_FAILED);
            who[row] = k;
            for (int64_t j = 0; j < d; j++) x[row * d + j] = a->x[i * s->n_features + keep[j]];
            if (!isnan(a->rating[i])) {
                rating[n_rated] = a->rating[i];
                r_item[n_rated] = item[row], r_who[n_rated++] = k;
            }
        }
    }
    static const double alphas[] = {1e-2, 1e-1, 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6};
    const int n_alphas = (int)(sizeof alphas / sizeof *alphas);
    if (rc == CLI_OK &&
        (btfm_model_new(&m, BTFM_MODEL_RIDGE) || btfm_model_set_alphas(m, alphas, n_alphas) ||
         btfm_reward_encoder_fit(m, r, (size_t)d, e->x, e->n, e->dim, item, x, n, d, who, folds) ||
         btfm_model_save(m, out)))
        rc = cli_fail("reward encoder", NULL);
    if (rc == CLI_OK && n_rated > folds &&
        (btfm_model_new(&mr, BTFM_MODEL_RIDGE) || btfm_model_set_alphas(mr, alphas, n_alphas) ||
         btfm_reward_encoder_fit(mr, &r_rating, 1, e->x, e->n, e->dim, r_item, rating, n_rated, 1,
                                 r_who, folds)))
        rc = cli_fail("reward encoder", "ratings");
    if (rc == CLI_OK && json) {
        printf("{\"model\": ");
        cli_json_string(stdout, out);
        printf(", \"rows\": %lld, \"embedding_dim\": %lld, \"rating_r\": ", (long long)n,
               (long long)e->dim);
        cli_json_number(stdout, r_rating);
        printf(", \"features\": [");
        for (int64_t j = 0; j < d; j++) {
            printf("%s\n{\"name\": ", j ? "," : "");
            cli_json_string(stdout, s->names[keep[j]]);
            printf(", \"held_out_r\": ");
            cli_json_number(stdout, r[j]);
            printf("}");
        }
        printf("\n]}\n");
    } else if (rc == CLI_OK) {
        printf("%s: encoder from %lld-dimensional item embeddings to %lld brain features "
               "(%lld left out as constant), %lld presentations by %d annotators; held-out r "
               "on items the fit never saw (%d folds)\n", out, (long long)e->dim, (long long)d,
               (long long)(s->n_features - d), (long long)n, s->n_annotators, folds);
        printf("feature\theld_out_r\n");
        if (!isnan(r_rating)) printf("rating\t%.4f\n", r_rating);
        for (int64_t j = 0; j < d; j++) printf("%s\t%.4f\n", s->names[keep[j]], r[j]);
    }
    btfm_model_free(m), btfm_model_free(mr);
    free(keep), free(x), free(rating), free(item), free(who), free(r_item), free(r_who), free(r);
    return rc;
}

int reward_encoder_command(int argc, char **argv)
{
    const char *bids = NULL, *emb_path = NULL, *out = NULL;
    double folds = 5;
    int json = 0, rc = CLI_OK;
    for (int i = 2; i < argc && rc == CLI_OK; i++) {
        if (strcmp(argv[i], "--json") == 0) json = 1;
        else if (strcmp(argv[i], "--folds") == 0) rc = cli_number_option("reward", argc, argv, &i, &folds);
        else if (argv[i][0] == '-') rc = cli_unknown_option("reward", argv[i]);
        else if (!bids) bids = argv[i];
        else if (!emb_path) emb_path = argv[i];
        else if (!out) out = argv[i];
        else rc = cli_usage_error("reward", "unexpected argument '%s'", argv[i]);
    }
    if (rc == CLI_OK && !out)
        rc = cli_usage_error("reward", "encoder needs a BIDS folder, an embeddings table and "
                             "an output file");
    if (rc == CLI_OK && !(folds >= 3 && folds <= 1000 && folds == floor(folds)))
        rc = cli_usage_error("reward", "--folds %g: expected a whole number of 3 .. 1000", folds);
    if (rc != CLI_OK) return rc;
    embeddings e = {0};
    demo_session s;
    rc = read_embeddings(&e, emb_path);
    if (rc == CLI_OK) rc = demo_session_read(&s, "reward encoder", bids, 0, NULL, NULL);
    if (rc == CLI_OK) {
        rc = fit_and_report(&s, &e, out, (int)folds, json);
        demo_session_free(&s);
    }
    free(e.x), free(e.id);
    return rc;
}
