/* btfm reward pair-scores: each item's Bradley-Terry strength from pairwise choices alone
 * (btfm_reward_pair_scores), read from a BIDS session's preference files (every
 * annotator's choices pooled by item id) or one choices table. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli.h"
#include "reward_cli.h"

typedef struct choices {
    int64_t *chosen, *rejected;
    float *weight;
    int64_t n, capacity;
    int weighted;
} choices;

static double *column(const btfm_table *t, const char *name)
{
    int col;
    if (btfm_table_find_column(t, name, &col)) return NULL;
    double *v = malloc(((size_t)btfm_table_n_rows(t) + 1) * sizeof *v);
    if (v && btfm_table_column_numbers(t, col, v) == BTFM_OK) return v;
    free(v);
    return NULL;
}

/* Append a table's choices: columns chosen_item with item_a and item_b (the BIDS
 * preference layout) or chosen and rejected; weight when present. */
static int add_table(choices *c, const btfm_table *t, const char *where)
{
    const int64_t rows = btfm_table_n_rows(t);
    double *ch = column(t, "chosen_item"), *a = column(t, "item_a"), *b = column(t, "item_b");
    double *rej = NULL, *w = column(t, "weight");
    if (!ch || !a || !b) {
        free(ch), free(a), free(b);
        a = b = NULL;
        ch = column(t, "chosen");
        rej = column(t, "rejected");
    }
    int rc = CLI_OK;
    if (!ch || (!rej && !(a && b)))
        rc = (fprintf(stderr, "btfm reward pair-scores: %s: expected columns chosen_item, item_a, item_b "
                      "(BIDS preferences) or chosen, rejected\n", where), CLI_FAILED);
    if (rc == CLI_OK && c->n + rows > c->capacity) {
        int64_t cap = 2 * (c->n + rows) + 16;
        int64_t *x = realloc(c->chosen, (size_t)cap * sizeof *x);
        if (x) c->chosen = x;
        int64_t *y = realloc(c->rejected, (size_t)cap * sizeof *y);
        if (y) c->rejected = y;
        float *z = realloc(c->weight, (size_t)cap * sizeof *z);
        if (z) c->weight = z;
        if (!x || !y || !z) rc = (fprintf(stderr, "btfm reward pair-scores: out of memory\n"), CLI_FAILED);
        else c->capacity = cap;
    }
    for (int64_t r = 0; rc == CLI_OK && r < rows; r++) {
        double other = rej ? rej[r] : (ch[r] == a[r] ? b[r] : a[r]);
        if (!rej && ch[r] != a[r] && ch[r] != b[r]) continue; /* no choice made */
        if (!(ch[r] == floor(ch[r]) && other == floor(other) && fabs(ch[r]) < 9e15 &&
              fabs(other) < 9e15)) {
            rc = (fprintf(stderr, "btfm reward pair-scores: %s: row %lld: expected whole item ids, found "
                          "%g and %g\n", where, (long long)r + 1, ch[r], other), CLI_FAILED);
            break;
        }
        c->chosen[c->n] = (int64_t)ch[r];
        c->rejected[c->n] = (int64_t)other;
        c->weight[c->n] = w ? (float)w[r] : 1.0f;
        c->n++;
    }
    c->weighted |= w != NULL;
    free(ch), free(a), free(b), free(rej), free(w);
    return rc;
}

static int read_choices(choices *c, const char *source)
{
    struct stat sb;
    btfm_table *t = NULL;
    if (stat(source, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        btfm_bids *b = NULL;
        if (btfm_bids_open(&b, source, 0)) return cli_fail("reward pair-scores", source);
        int64_t idx[4096], n = 0;
        int rc = btfm_bids_query(b, "datatype=beh task=preference", idx, 4096, &n)
                     ? cli_fail("reward pair-scores", source) : CLI_OK;
        if (rc == CLI_OK && n == 0)
            rc = (fprintf(stderr, "btfm reward pair-scores: %s has no preference files "
                          "(sub-*/beh/*_task-preference_beh.tsv)\n", source), CLI_FAILED);
        for (int64_t k = 0; rc == CLI_OK && k < n && k < 4096; k++) {
            const char *path = btfm_bids_recording_path(b, idx[k]);
            rc = btfm_bids_read_table(b, idx[k], &t) ? cli_fail("reward pair-scores", path) : add_table(c, t, path);
            btfm_table_free(t);
            t = NULL;
        }
        btfm_bids_free(b);
        return rc;
    }
    if (btfm_table_read(&t, source)) return cli_fail("reward pair-scores", source);
    int rc = add_table(c, t, source);
    btfm_table_free(t);
    return rc;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Index of id in the sorted ids. */
static int64_t find(const int64_t *ids, int64_t n, int64_t id)
{
    const int64_t *p = bsearch(&id, ids, (size_t)n, sizeof *ids, cmp_id);
    return p ? p - ids : -1;
}

int reward_pair_scores_command(int argc, char **argv)
{
    const char *source = NULL;
    double alpha = 1;
    int json = 0, rc = CLI_OK;
    for (int i = 2; i < argc && rc == CLI_OK; i++) {
        if (strcmp(argv[i], "--json") == 0) json = 1;
        else if (strcmp(argv[i], "--alpha") == 0) rc = cli_number_option("reward", argc, argv, &i, &alpha);
        else if (argv[i][0] == '-') rc = cli_unknown_option("reward", argv[i]);
        else if (!source) source = argv[i];
        else rc = cli_usage_error("reward", "unexpected argument '%s'", argv[i]);
    }
    if (rc == CLI_OK && !source)
        rc = cli_usage_error("reward", "pair-scores needs a BIDS folder or a choices table");
    if (rc != CLI_OK) return rc;
    choices c = {0};
    rc = read_choices(&c, source);
    int64_t *ids = NULL, *pairs = NULL, *count = NULL, n_ids = 0;
    float *scores = NULL;
    if (rc == CLI_OK) {
        ids = malloc((size_t)(2 * c.n + 1) * sizeof *ids);
        pairs = malloc((size_t)(2 * c.n + 1) * sizeof *pairs);
        if (!ids || !pairs) rc = (fprintf(stderr, "btfm reward pair-scores: out of memory\n"), CLI_FAILED);
    }
    if (rc == CLI_OK) {
        for (int64_t p = 0; p < c.n; p++) ids[2 * p] = c.chosen[p], ids[2 * p + 1] = c.rejected[p];
        qsort(ids, (size_t)(2 * c.n), sizeof *ids, cmp_id);
        for (int64_t k = 0; k < 2 * c.n; k++)
            if (k == 0 || ids[k] != ids[n_ids - 1]) ids[n_ids++] = ids[k];
        scores = malloc((size_t)(n_ids + 1) * sizeof *scores);
        count = calloc((size_t)(n_ids + 1), sizeof *count);
        if (!scores || !count) rc = (fprintf(stderr, "btfm reward pair-scores: out of memory\n"), CLI_FAILED);
    }
    for (int64_t p = 0; rc == CLI_OK && p < c.n; p++) {
        pairs[2 * p] = find(ids, n_ids, c.chosen[p]);
        pairs[2 * p + 1] = find(ids, n_ids, c.rejected[p]);
        count[pairs[2 * p]]++, count[pairs[2 * p + 1]]++;
    }
    if (rc == CLI_OK && btfm_reward_pair_scores(scores, (size_t)n_ids, n_ids, pairs,
                                                c.weighted ? c.weight : NULL, c.n, alpha))
        rc = cli_fail("reward pair-scores", NULL);
    if (rc == CLI_OK) {
        if (json) printf("[");
        else printf("item_id\tscore\tn_pairs\n");
        for (int64_t k = 0; k < n_ids; k++) {
            if (json) {
                printf("%s\n{\"item_id\": %lld, \"score\": ", k ? "," : "", (long long)ids[k]);
                cli_json_number(stdout, scores[k]);
                printf(", \"n_pairs\": %lld}", (long long)count[k]);
            } else {
                printf("%lld\t%.6f\t%lld\n", (long long)ids[k], scores[k], (long long)count[k]);
            }
        }
        if (json) printf("\n]\n");
    }
    free(c.chosen), free(c.rejected), free(c.weight);
    free(ids), free(pairs), free(count), free(scores);
    return rc;
}
