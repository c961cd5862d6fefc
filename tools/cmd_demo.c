/* btfm demo: the end-to-end job. Simulate the default RLHB rating session (or read one
 * given with --bids), read it through BIDS and the EEG reader, filter, epoch and build
 * item-locked features, align the annotators, fit reward heads with every annotator
 * held out in turn, and report how ratings-only, brain-only and joint rewards match the
 * latent reward: correlation, pairwise accuracy, calibration (doc/rlhb.md). */
#define _GNU_SOURCE /* nftw, dlsym's RTLD_DEFAULT */
#include <dlfcn.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"
#include "demo.h"

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void result_free(demo_result *r)
{
    for (int m = 0; m < 3; m++) free(r->reward[m]), free(r->confidence[m]);
    free(r->truth), free(r->annotator), free(r->rated);
}

/* Fit on every annotator but `held`, score `held`'s rows in the three modes. */
static int hold_out(const demo_session *s, int held, demo_result *r, int64_t first)
{
    int64_t n = 0, n_pairs = 0;
    for (int k = 0; k < s->n_annotators; k++)
        if (k != held) n += s->a[k].n, n_pairs += s->a[k].n_pairs;
    const int64_t d = s->n_features;
    float *x = malloc((size_t)(n * d) * sizeof *x), *rating = malloc((size_t)n * sizeof *rating);
    float *conf = malloc((size_t)n * sizeof *conf);
    int64_t *annot = malloc((size_t)n * sizeof *annot), *items = malloc((size_t)n * sizeof *items);
    int64_t *pairs = malloc((size_t)(2 * n_pairs + 2) * sizeof *pairs);
    int rc = x && rating && conf && annot && items && pairs ? CLI_OK : CLI_FAILED;
    int64_t row = 0, p = 0;
    for (int k = 0; rc == CLI_OK && k < s->n_annotators; k++) {
        if (k == held) continue;
        const demo_annotator *a = &s->a[k];
        memcpy(x + row * d, a->x, (size_t)(a->n * d) * sizeof *x);
        memcpy(rating + row, a->rating, (size_t)a->n * sizeof *rating);
        memcpy(conf + row, a->confidence, (size_t)a->n * sizeof *conf);
        memcpy(items + row, a->item, (size_t)a->n * sizeof *items);
        for (int64_t i = 0; i < a->n; i++) annot[row + i] = k;
        for (int64_t q = 0; q < 2 * a->n_pairs; q++) pairs[p++] = row + a->pairs[q];
        row += a->n;
    }
    btfm_reward_head *h = NULL;
    int folds = s->n_annotators - 1 < 5 ? s->n_annotators - 1 : 5;
    if (rc == CLI_OK &&
        (btfm_reward_head_new(&h, BTFM_REWARD_JOINT) ||
         btfm_reward_head_set_param(h, BTFM_REWARD_PARAM_FOLDS, folds) ||
         btfm_reward_head_set_ratings(h, rating, conf, n) ||
         (n_pairs && btfm_reward_head_set_pairs(h, pairs, NULL, n_pairs)) ||
         btfm_reward_head_set_items(h, items, n) ||
         btfm_reward_head_set_roles(h, s->roles, d) ||
         btfm_reward_head_set_feature_config(h, s->config) ||
         btfm_reward_head_fit(h, x, n, d, annot)))
        rc = cli_fail("demo", "reward head");
    const demo_annotator *a = &s->a[held];
    float *out = malloc((size_t)a->n * BTFM_REWARD_N_OUTPUTS * sizeof *out);
    int64_t *ha = malloc((size_t)a->n * sizeof *ha);
    if (!out || !ha) rc = CLI_FAILED;
    for (int64_t i = 0; rc == CLI_OK && i < a->n; i++) ha[i] = held;
    for (int mode = 1; rc == CLI_OK && mode <= 3; mode++) {
        if (btfm_reward_head_set_param(h, BTFM_REWARD_PARAM_MODE, mode) ||
            btfm_reward_head_predict(h, out, (size_t)a->n * BTFM_REWARD_N_OUTPUTS, a->x, a->n, d,
                                     ha, a->rating)) {
            rc = cli_fail("demo", "scoring");
            break;
        }
        for (int64_t i = 0; i < a->n; i++) {
            r->reward[mode - 1][first + i] = out[i * BTFM_REWARD_N_OUTPUTS + BTFM_REWARD_OUT_REWARD];
            r->confidence[mode - 1][first + i] = out[i * BTFM_REWARD_N_OUTPUTS + BTFM_REWARD_OUT_CONFIDENCE];
        }
    }
    for (int64_t i = 0; rc == CLI_OK && i < a->n; i++) {
        r->annotator[first + i] = held;
        r->rated[first + i] = !isnan(a->rating[i]);
        int64_t id = a->item[i];
        r->truth[first + i] = id >= 0 && id <= s->max_item ? (float)s->truth[id] : NAN;
    }
    btfm_reward_head_free(h);
    free(x), free(rating), free(conf), free(annot), free(items), free(pairs), free(out), free(ha);
    return rc;
}

static double corr_where(const float *a, const float *b, const unsigned char *mask, int64_t n)
{
    double ma = 0, mb = 0, saa = 0, sbb = 0, sab = 0, c = 0;
    for (int64_t i = 0; i < n; i++)
        if (!mask[i] && !isnan(b[i])) ma += a[i], mb += b[i], c++;
    if (c < 3) return NAN;
    ma /= c, mb /= c;
    for (int64_t i = 0; i < n; i++)
        if (!mask[i] && !isnan(b[i])) {
            saa += (a[i] - ma) * (a[i] - ma);
            sbb += (b[i] - mb) * (b[i] - mb);
            sab += (a[i] - ma) * (b[i] - mb);
        }
    return saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : NAN;
}

/* The held-out fits are independent: they run on two threads (each fit spreads its folds
 * over the library's threads too), taking annotators from a shared counter. */
typedef struct hold_out_pool {
    const demo_session *s;
    demo_result *r;
    const int64_t *first;
    atomic_int next, done, failed;
} hold_out_pool;

static void *hold_out_worker(void *arg)
{
    hold_out_pool *p = arg;
    for (int k; !atomic_load(&p->failed) && (k = atomic_fetch_add(&p->next, 1)) < p->s->n_annotators;) {
        if (hold_out(p->s, k, p->r, p->first[k]) != CLI_OK) atomic_store(&p->failed, 1);
        atomic_fetch_add(&p->done, 1);
    }
    return NULL;
}

static int hold_out_all(const demo_session *s, demo_result *r, cli_progress *bar)
{
    int64_t *first = malloc(((size_t)s->n_annotators + 1) * sizeof *first);
    if (!first) return CLI_FAILED;
    first[0] = 0;
    for (int k = 0; k < s->n_annotators; k++) first[k + 1] = first[k] + s->a[k].n;
    hold_out_pool p = {.s = s, .r = r, .first = first};
    pthread_t helper;
    const int helped = pthread_create(&helper, NULL, hold_out_worker, &p) == 0;
    /* the calling thread works too and reports progress between its fits */
    for (int k; !atomic_load(&p.failed) && (k = atomic_fetch_add(&p.next, 1)) < s->n_annotators;) {
        if (hold_out(s, k, r, first[k]) != CLI_OK) atomic_store(&p.failed, 1);
        atomic_fetch_add(&p.done, 1);
        cli_progress_fn("reward heads, annotator held out",
                        0.5 + 0.5 * (double)atomic_load(&p.done) / s->n_annotators, bar);
    }
    if (helped) pthread_join(helper, NULL);
    free(first);
    return atomic_load(&p.failed) ? CLI_FAILED : CLI_OK;
}

/* OpenBLAS's idle workers spin (sched_yield) between calls. The demo's products are small
 * (hundreds of rows), so a second OpenBLAS thread gains little, and on a loaded machine
 * its spinning takes the cores from the work: the demo runs OpenBLAS on one thread unless
 * OPENBLAS_NUM_THREADS says otherwise (the command owns its process). */
static void one_blas_thread(void)
{
    if (getenv("OPENBLAS_NUM_THREADS") || getenv("OMP_NUM_THREADS")) return;
    void (*set)(int);
    void *sym = dlsym(RTLD_DEFAULT, "openblas_set_num_threads");
    if (!sym) return;
    memcpy(&set, &sym, sizeof set);
    set(1);
}

static int evaluate(const demo_session *s, demo_result *r, cli_progress *bar)
{
    memset(r, 0, sizeof *r);
    for (int k = 0; k < s->n_annotators; k++) r->n += s->a[k].n;
    int rc = CLI_OK;
    for (int m = 0; m < 3; m++) {
        r->reward[m] = malloc((size_t)r->n * sizeof(float));
        r->confidence[m] = malloc((size_t)r->n * sizeof(float));
        if (!r->reward[m] || !r->confidence[m]) rc = CLI_FAILED;
    }
    r->truth = malloc((size_t)r->n * sizeof *r->truth);
    r->annotator = malloc((size_t)r->n * sizeof *r->annotator);
    r->rated = malloc((size_t)r->n);
    if (!r->truth || !r->annotator || !r->rated) rc = CLI_FAILED;
    if (rc == CLI_OK) rc = hold_out_all(s, r, bar);
    for (int m = 0; rc == CLI_OK && m < 3; m++) {
        double out[BTFM_REWARD_N_METRICS];
        if (btfm_reward_metrics(out, BTFM_REWARD_N_METRICS, NULL, r->reward[m], r->confidence[m],
                                r->truth, NULL, r->n))
            rc = cli_fail("demo", "metrics");
        memcpy(r->metrics[m], out, sizeof out);
        r->r_unrated[m] = corr_where(r->reward[m], r->truth, r->rated, r->n);
    }
    return rc;
}

static const char *const mode_label[3] = {"ratings-only", "brain-only", "joint"};

static void print_table(const demo_session *s, const demo_result *r, double seconds,
                        const char *source)
{
    int64_t rated = 0;
    for (int64_t i = 0; i < r->n; i++) rated += r->rated[i];
    printf("RLHB reward heads: %s\n", source);
    printf("%d annotators, %lld item presentations (%.0f%% rated), %lld features%s; each "
           "annotator held out in turn\n\n", s->n_annotators, (long long)r->n,
           100.0 * (double)rated / (double)r->n, (long long)s->n_features,
           s->aligned ? " in a shared SRM space" : "");
    printf("%-14s %10s %10s %10s %10s %12s\n", "mode", "pearson r", "spearman", "pairwise",
           "ECE", "r (unrated)");
    for (int m = 0; m < 3; m++)
        printf("%-14s %10.3f %10.3f %10.3f %10.3f %12.3f\n", mode_label[m],
               r->metrics[m][BTFM_REWARD_METRIC_PEARSON], r->metrics[m][BTFM_REWARD_METRIC_SPEARMAN],
               r->metrics[m][BTFM_REWARD_METRIC_PAIRWISE], r->metrics[m][BTFM_REWARD_METRIC_ECE],
               r->r_unrated[m]);
    printf("\nagainst the latent reward of each item (held-out annotators' brain signals and "
           "ratings);\nECE of P(reward above the median); %.1f s\n", seconds);
}

static void print_json(const demo_session *s, const demo_result *r, double seconds,
                       const char *source)
{
    printf("{\"source\": ");
    cli_json_string(stdout, source);
    printf(", \"annotators\": %d, \"items\": %lld, \"features\": %lld, \"aligned\": %s, "
           "\"seconds\": ", s->n_annotators, (long long)r->n, (long long)s->n_features,
           s->aligned ? "true" : "false");
    cli_json_number(stdout, seconds);
    printf(", \"modes\": {");
    static const char *const key[3] = {"ratings_only", "brain_only", "joint"};
    for (int m = 0; m < 3; m++) {
        printf("%s\"%s\": {\"pearson\": ", m ? ", " : "", key[m]);
        cli_json_number(stdout, r->metrics[m][BTFM_REWARD_METRIC_PEARSON]);
        printf(", \"spearman\": ");
        cli_json_number(stdout, r->metrics[m][BTFM_REWARD_METRIC_SPEARMAN]);
        printf(", \"pairwise_accuracy\": ");
        cli_json_number(stdout, r->metrics[m][BTFM_REWARD_METRIC_PAIRWISE]);
        printf(", \"ece\": ");
        cli_json_number(stdout, r->metrics[m][BTFM_REWARD_METRIC_ECE]);
        printf(", \"pearson_unrated\": ");
        cli_json_number(stdout, r->r_unrated[m]);
        printf("}");
    }
    printf("}}\n");
}

int cmd_demo(int argc, char **argv)
{
    const char *bids = NULL, *svg = NULL, *keep = NULL;
    int json = 0, align = 1, rc = CLI_OK;
    btfm_sim *sim = NULL;
    one_blas_thread();
    if (btfm_sim_new(&sim, BTFM_OBJECT_SIM_RATING_SESSION)) return cli_fail("demo", NULL);
    for (int i = 1; i < argc && rc == CLI_OK; i++) {
        double v;
        int param;
        if (strcmp(argv[i], "--bids") == 0 && i + 1 < argc) bids = argv[++i];
        else if (strcmp(argv[i], "--plot") == 0 && i + 1 < argc) svg = argv[++i];
        else if (strcmp(argv[i], "--keep") == 0 && i + 1 < argc) keep = argv[++i];
        else if (strcmp(argv[i], "--json") == 0) json = 1;
        else if (strcmp(argv[i], "--no-align") == 0) align = 0;
        else if (strcmp(argv[i], "--seed") == 0) {
            rc = cli_number_option("demo", argc, argv, &i, &v);
            if (rc == CLI_OK && btfm_sim_set_param(sim, BTFM_SIM_RATING_SEED, v)) rc = cli_fail("demo", NULL);
        } else if (strcmp(argv[i], "--param") == 0 && i + 1 < argc) {
            rc = cli_param_option("demo", BTFM_OBJECT_SIM_RATING_SESSION, argv[++i], &param, &v);
            if (rc == CLI_OK && btfm_sim_set_param(sim, param, v)) rc = cli_fail("demo", NULL);
        } else if (argv[i][0] == '-') rc = cli_unknown_option("demo", argv[i]);
        else rc = cli_usage_error("demo", "unknown argument '%s'", argv[i]);
    }
    char tmp[] = "/tmp/btfm-demo-XXXXXX", root[sizeof tmp + 16];
    const char *source = bids;
    char label[256];
    cli_progress bar;
    cli_progress_init(&bar);
    double t0 = now();
    int made_tmp = 0;
    if (rc == CLI_OK && !bids) {
        if (keep) {
            snprintf(label, sizeof label, "%s", keep);
        } else if (!mkdtemp(tmp)) {
            perror("btfm demo: temporary folder");
            rc = CLI_FAILED;
        } else {
            made_tmp = 1;
            snprintf(root, sizeof root, "%s/session", tmp);
            snprintf(label, sizeof label, "%s", root);
        }
        double seed = 1, effect = 1;
        btfm_sim_get_param(sim, BTFM_SIM_RATING_SEED, &seed);
        btfm_sim_get_param(sim, BTFM_SIM_RATING_EFFECT_SCALE, &effect);
        if (rc == CLI_OK) {
            btfm_sim_set_progress(sim, cli_progress_fn, &bar);
            btfm_set_thread_progress(NULL, NULL);
            if (btfm_sim_rating_session(sim, label)) rc = cli_fail("demo", "simulation");
        }
        static char text[256];
        snprintf(text, sizeof text, "simulated rating session (seed %.0f, effect scale %g)",
                 seed, effect);
        source = text;
        bids = label;
    }
    btfm_sim_free(sim);
    demo_session s;
    demo_result r;
    memset(&r, 0, sizeof r);
    if (rc == CLI_OK) rc = demo_session_read(&s, "demo", bids, align, cli_progress_fn, &bar);
    if (rc == CLI_OK) {
        rc = evaluate(&s, &r, &bar);
        cli_progress_finish(&bar);
        int truthful = 0;
        for (int64_t i = 0; i < r.n; i++) truthful |= !isnan(r.truth[i]);
        if (rc == CLI_OK && !truthful)
            printf("(no derivatives/truth/items.tsv: metrics need the latent reward)\n");
        if (rc == CLI_OK && json) print_json(&s, &r, now() - t0, source);
        else if (rc == CLI_OK) print_table(&s, &r, now() - t0, source);
        if (rc == CLI_OK && svg) {
            rc = demo_plot(svg, &s, &r);
            if (rc == CLI_OK && !json) printf("%s: predicted vs latent reward, calibration, ERP by reward tercile\n", svg);
        }
        result_free(&r);
        demo_session_free(&s);
    } else {
        cli_progress_finish(&bar);
    }
    if (made_tmp) nftw(tmp, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return rc;
}
