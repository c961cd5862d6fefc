/* btfm cothb bench|calibrate|tune: the fair benchmark of tools/cothb_harness.c as a table
 * (and a figure), a reliability calibration with its signal-quality report from labelled
 * steps, and the library's tuner on a benchmark task. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "cothb_harness.h"
#include "svg_plot.h"

#define MAX_LIST 16

typedef struct bench_options {
    harness_task task;
    double dprimes[MAX_LIST], budgets[MAX_LIST];
    int n_dprimes, n_budgets, problems, tune_problems, json;
    const char *svg, *save;
} bench_options;

/* A comma-separated list of numbers in [lo, hi] after option argv[*i]. */
static int number_list(int argc, char **argv, int *i, double lo, double hi, double *out, int *n)
{
    if (*i + 1 >= argc) return cli_usage_error("cothb", "%s needs a value", argv[*i]);
    const char *option = argv[*i], *p = argv[++*i];
    *n = cli_number_list(p, out, MAX_LIST);
    for (int k = 0; k < *n; k++)
        if (!(out[k] >= lo && out[k] <= hi)) *n = -1;
    if (*n < 1)
        return cli_usage_error("cothb", "%s expects up to %d comma-separated numbers in "
                               "[%g, %g], got '%s'", option, MAX_LIST, lo, hi, p);
    return CLI_OK;
}

static int choice(const char *option, const char *value, const char *const *names, int n, int *out)
{
    if (!value) return cli_usage_error("cothb", "%s needs a value", option);
    for (int k = 0; k < n; k++)
        if (value && strcmp(value, names[k]) == 0) {
            *out = k;
            return CLI_OK;
        }
    return cli_usage_error("cothb", "%s expects %s%s%s%s%s, got '%s'", option, names[0],
                           n > 1 ? " or " : "", n > 1 ? names[1] : "", n > 2 ? " or " : "",
                           n > 2 ? names[2] : "", value);
}

/* The options bench and tune share; *i is advanced past a recognized option. Returns
 * CLI_OK, CLI_USAGE, or -1 for an option it does not know. */
static int task_option(bench_options *o, int argc, char **argv, int *i)
{
    static const char *const families[] = {"chain", "switch"};
    static const char *const signals[] = {"step", "path", "outcome"};
    static const char *const hosts[] = {"calibrated", "raw"};
    const char *opt = argv[*i], *value = *i + 1 < argc ? argv[*i + 1] : NULL;
    double v;
    int k = 0, st;
    if (strcmp(opt, "--family") == 0) {
        if ((st = choice(opt, value, families, 2, &k))) return st;
        uint64_t seed = o->task.seed;
        harness_task_defaults(&o->task, k);
        o->task.seed = seed;
        ++*i;
    } else if (strcmp(opt, "--signal") == 0) {
        if ((st = choice(opt, value, signals, 3, &o->task.signal))) return st;
        ++*i;
    } else if (strcmp(opt, "--host") == 0) {
        if ((st = choice(opt, value, hosts, 2, &o->task.host))) return st;
        ++*i;
    } else if (strcmp(opt, "--dprime") == 0) {
        return number_list(argc, argv, i, 0, 10, o->dprimes, &o->n_dprimes);
    } else if (strcmp(opt, "--budget") == 0) {
        return number_list(argc, argv, i, 1, 10000, o->budgets, &o->n_budgets);
    } else if (strcmp(opt, "--problems") == 0 || strcmp(opt, "--tune-problems") == 0 ||
               strcmp(opt, "--seed") == 0) {
        if ((st = cli_number_option("cothb", argc, argv, i, &v))) return st;
        if (!(v >= (opt[2] == 's' ? 0 : 10) && v <= 1e7 && v == floor(v)))
            return cli_usage_error("cothb", "%s expects a whole number in [%d, 1e7], got '%s'",
                                   opt, opt[2] == 's' ? 0 : 10, argv[*i]);
        if (opt[2] == 'p') o->problems = (int)v;
        else if (opt[2] == 't') o->tune_problems = (int)v;
        else o->task.seed = (uint64_t)v;
    } else if (strcmp(opt, "--json") == 0) {
        o->json = 1;
    } else if (strcmp(opt, "--svg") == 0 || strcmp(opt, "--save") == 0) {
        if (!value) return cli_usage_error("cothb", "%s needs a file name", opt);
        if (opt[3] == 'v') o->svg = value;
        else o->save = value;
        ++*i;
    } else {
        return -1;
    }
    return CLI_OK;
}

static void options_defaults(bench_options *o)
{
    memset(o, 0, sizeof *o);
    harness_task_defaults(&o->task, HARNESS_CHAIN);
    o->dprimes[0] = 2;
    o->n_dprimes = 1;
    o->budgets[0] = 24;
    o->n_budgets = 1;
    o->problems = 1000;
    o->tune_problems = 400;
}

static void print_cell(const harness_cell *cell, int json, int first)
{
    const harness_task *t = &cell->task;
    if (json) {
        printf("%s{\"family\": \"%s\", \"dprime\": ", first ? "" : ",\n ",
               t->family == HARNESS_CHAIN ? "chain" : "switch");
        cli_json_number(stdout, t->dprime);
        printf(", \"budget\": %d, \"best_baseline\": \"%s\", \"methods\": {", cell->budget,
               harness_method_name(cell->best_baseline));
        int comma = 0;
        for (int m = 0; m < HARNESS_METHOD_COUNT; m++) {
            if (!cell->ran[m]) continue;
            printf("%s\"%s\": {\"accuracy\": ", comma++ ? ", " : "", harness_method_name(m));
            cli_json_number(stdout, cell->accuracy[m]);
            printf(", \"low\": ");
            cli_json_number(stdout, cell->low[m]);
            printf(", \"high\": ");
            cli_json_number(stdout, cell->high[m]);
            printf(", \"steps\": ");
            cli_json_number(stdout, cell->steps[m]);
            printf("}");
        }
        printf("}, \"differences\": {");
        comma = 0;
        for (int v = 0; v < 3; v++) {
            if (!cell->ran[HARNESS_M_COTHB + v]) continue;
            printf("%s\"%s\": [", comma++ ? ", " : "", harness_method_name(HARNESS_M_COTHB + v));
            cli_json_number(stdout, cell->diff[v]);
            printf(", ");
            cli_json_number(stdout, cell->diff_low[v]);
            printf(", ");
            cli_json_number(stdout, cell->diff_high[v]);
            printf("]");
        }
        printf("}}");
        return;
    }
    printf("d' = %g, budget %d:\n", t->dprime, cell->budget);
    for (int m = 0; m < HARNESS_METHOD_COUNT; m++) {
        if (!cell->ran[m]) continue;
        printf("  %-17s %6.3f  [%5.3f, %5.3f]  %5.1f steps%s\n", harness_method_name(m),
               cell->accuracy[m], cell->low[m], cell->high[m], cell->steps[m],
               m == cell->best_baseline ? "  (best baseline)" : "");
    }
    for (int v = 0; v < 3; v++)
        if (cell->ran[HARNESS_M_COTHB + v])
            printf("  %s - best baseline: %+6.3f  [%+6.3f, %+6.3f]\n",
                   harness_method_name(HARNESS_M_COTHB + v), cell->diff[v], cell->diff_low[v],
                   cell->diff_high[v]);
}

/* Accuracy against budget, one panel per d', a line per method. */
static int bench_figure(const bench_options *o, const harness_cell *cells)
{
    svg_figure *f = svg_figure_new(1, o->n_dprimes, 360, 300,
                                   "CoTHB and baselines at equal budgets (95% intervals in the table)");
    if (!f) return cli_usage_error("cothb", "out of memory for the figure");
    int rc = CLI_OK;
    for (int d = 0; d < o->n_dprimes && rc == CLI_OK; d++) {
        svg_axes *a = svg_figure_axes(f, 0, d);
        char title[64];
        snprintf(title, sizeof title, "d' = %g", o->dprimes[d]);
        svg_axes_set_title(a, title);
        svg_axes_set_labels(a, "budget (generated steps)", "accuracy");
        svg_axes_set_ylim(a, 0, 1);
        for (int m = 0; m < HARNESS_METHOD_COUNT; m++) {
            double x[MAX_LIST], y[MAX_LIST];
            int n = 0;
            for (int b = 0; b < o->n_budgets; b++) {
                const harness_cell *c = &cells[d * o->n_budgets + b];
                if (!c->ran[m]) continue;
                x[n] = c->budget;
                y[n++] = c->accuracy[m];
            }
            if (n && (n > 1 ? svg_axes_line(a, x, y, n, harness_method_name(m), m)
                            : svg_axes_scatter(a, x, y, n, harness_method_name(m), m)))
                rc = cli_usage_error("cothb", "out of memory for the figure");
        }
    }
    char err[256];
    if (rc == CLI_OK && svg_figure_save(f, o->svg, err, sizeof err)) {
        fprintf(stderr, "btfm cothb: %s\n", err);
        rc = CLI_FAILED;
    }
    svg_figure_free(f);
    return rc;
}

static int bench(int argc, char **argv)
{
    bench_options o;
    options_defaults(&o);
    for (int i = 2; i < argc; i++) {
        int st = task_option(&o, argc, argv, &i);
        if (st < 0) return cli_unknown_option("cothb", argv[i]);
        if (st) return st;
    }
    if (o.save) return cli_usage_error("cothb", "--save belongs to 'btfm cothb tune'");
    int n_cells = o.n_dprimes * o.n_budgets;
    harness_cell *cells = calloc((size_t)n_cells, sizeof *cells);
    if (!cells) return cli_usage_error("cothb", "out of memory");
    cli_progress bar;
    cli_progress_init(&bar);
    int rc = CLI_OK;
    if (o.json) printf("[");
    for (int k = 0; k < n_cells && rc == CLI_OK; k++) {
        harness_cell *cell = &cells[k];
        cell->task = o.task;
        cell->task.dprime = o.dprimes[k / o.n_budgets];
        cell->budget = (int)o.budgets[k % o.n_budgets];
        if (cell->budget < cell->task.depth) {
            rc = cli_usage_error("cothb", "--budget %d is below the task's %d steps",
                                 cell->budget, cell->task.depth);
            break;
        }
        btfm_status st = harness_run_cell(cell, o.problems, o.tune_problems, cli_progress_fn, &bar);
        if (st) {
            fprintf(stderr, "btfm cothb bench: %s\n", harness_last_error());
            rc = st == BTFM_E_CANCELLED ? CLI_FAILED : CLI_FAILED;
            break;
        }
        print_cell(cell, o.json, k == 0);
    }
    cli_progress_finish(&bar);
    if (o.json) printf("]\n");
    if (rc == CLI_OK && o.svg) rc = bench_figure(&o, cells);
    for (int k = 0; k < n_cells; k++) harness_free_cell(&cells[k]);
    free(cells);
    return rc;
}

/* Column "correct" of t (1 right, 0 wrong) into y (its rows), each value checked. */
static int correct_column(const btfm_table *t, const char *path, double *y)
{
    int cc;
    if (btfm_table_find_column(t, "correct", &cc) || btfm_table_column_numbers(t, cc, y))
        return cli_fail("cothb calibrate", NULL);
    for (int64_t r = 0; r < btfm_table_n_rows(t); r++)
        if (y[r] != 0 && y[r] != 1)
            return cli_usage_error("cothb", "%s, row %lld: correct is %g; expected 0 or 1", path,
                                   (long long)r + 1, y[r]);
    return CLI_OK;
}

/* --features: the columns named in `list` (comma-separated) and "correct" of t through
 * the model layer's logistic fit; the weights in the columns' units, the intercept and
 * the held-out d' printed, the controller written with --save. */
static int calibrate_features(const btfm_table *t, const char *path, const char *list,
                              double l2, int json, const char *save)
{
    int cols[64], n_cols = 0, rc = CLI_OK;
    for (const char *s = list; s && n_cols < 64;) {
        const char *end = strchr(s, ',');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        char name[256];
        if (len == 0 || len >= sizeof name) /* also "a,,b" and "a," */
            return cli_usage_error("cothb", "--features expects column names separated by "
                                   "commas, got '%s'", list);
        memcpy(name, s, len), name[len] = '\0';
        if (btfm_table_find_column(t, name, &cols[n_cols++])) return cli_fail("cothb calibrate", NULL);
        s = end ? end + 1 : NULL;
    }
    if (n_cols == 64) return cli_usage_error("cothb", "--features names more than 63 columns");
    const int64_t n = btfm_table_n_rows(t);
    double *column = malloc(sizeof(double) * (size_t)(n ? n : 1));
    float *x = malloc(sizeof(float) * (size_t)(n ? n : 1) * (size_t)n_cols);
    int32_t *correct = malloc(sizeof(int32_t) * (size_t)(n ? n : 1));
    double *weights = malloc(sizeof(double) * (size_t)n_cols), intercept = 0, dprime = 0;
    btfm_cothb *c = NULL;
    if (!column || !x || !correct || !weights)
        rc = cli_usage_error("cothb", "out of memory for %lld rows", (long long)n);
    for (int j = 0; rc == CLI_OK && j < n_cols; j++) {
        if (btfm_table_column_numbers(t, cols[j], column)) rc = cli_fail("cothb calibrate", NULL);
        for (int64_t r = 0; rc == CLI_OK && r < n; r++) x[r * n_cols + j] = (float)column[r];
    }
    if (rc == CLI_OK) rc = correct_column(t, path, column);
    for (int64_t r = 0; rc == CLI_OK && r < n; r++) correct[r] = column[r] == 1;
    if (rc == CLI_OK &&
        (btfm_cothb_new(&c) || btfm_cothb_calibrate_features(c, x, n, n_cols, correct, l2) ||
         btfm_cothb_feature_weights(c, weights, (size_t)n_cols, &intercept, &dprime) ||
         (save && btfm_cothb_save(c, save))))
        rc = cli_fail("cothb calibrate", NULL);
    if (rc == CLI_OK) {
        if (json) {
            printf("{\"steps\": %lld, \"dprime\": ", (long long)n);
            cli_json_number(stdout, dprime);
            printf(", \"intercept\": ");
            cli_json_number(stdout, intercept);
            printf(", \"weights\": {");
            for (int j = 0; j < n_cols; j++) {
                printf("%s\"%s\": ", j ? ", " : "", btfm_table_column_name(t, cols[j]));
                cli_json_number(stdout, weights[j]);
            }
            printf("}}\n");
        } else {
            printf("%-18s %lld\n%-18s %.6g\n%-18s %.6g\n", "steps", (long long)n,
                   "dprime (held out)", dprime, "intercept", intercept);
            for (int j = 0; j < n_cols; j++)
                printf("weight %-11s %.6g\n", btfm_table_column_name(t, cols[j]), weights[j]);
            if (save) printf("calibrated controller saved to %s\n", save);
        }
    }
    btfm_cothb_free(c);
    free(column);
    free(x);
    free(correct);
    free(weights);
    return rc;
}

/* A TSV file with columns "score" and "correct" (1 right, 0 wrong): the calibration's
 * signal-quality report, and a reliability map fitted to all rows, written with --save;
 * or, with --features, several feature columns through calibrate_features. */
static int calibrate(int argc, char **argv)
{
    static const char *const methods[] = {"platt", "isotonic"};
    const char *path = NULL, *save = NULL, *features = NULL;
    int method = 0, json = 0, folds = 5;
    double l2 = 1.0;
    for (int i = 2; i < argc; i++) {
        int st = CLI_OK;
        double v;
        if (strcmp(argv[i], "--features") == 0) {
            if (i + 1 >= argc) return cli_usage_error("cothb", "--features needs a value");
            features = argv[++i];
        } else if (strcmp(argv[i], "--l2") == 0) {
            st = cli_number_option("cothb", argc, argv, &i, &v);
            if (!st && !(v > 0 && isfinite(v)))
                st = cli_usage_error("cothb", "--l2 expects a positive number");
            l2 = v;
        } else if (strcmp(argv[i], "--method") == 0) {
            st = choice("--method", i + 1 < argc ? argv[++i] : NULL, methods, 2, &method);
        } else if (strcmp(argv[i], "--folds") == 0) {
            st = cli_number_option("cothb", argc, argv, &i, &v);
            if (!st && !(v >= 2 && v <= 100 && v == floor(v)))
                st = cli_usage_error("cothb", "--folds expects a whole number in [2, 100]");
            folds = (int)v;
        } else if (strcmp(argv[i], "--save") == 0) {
            if (i + 1 >= argc) return cli_usage_error("cothb", "--save needs a file name");
            save = argv[++i];
        } else if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (argv[i][0] == '-' || path) {
            return cli_usage_error("cothb", "unexpected argument '%s'", argv[i]);
        } else {
            path = argv[i];
        }
        if (st) return st;
    }
    if (!path) return cli_usage_error("cothb", "calibrate needs a TSV file of labelled steps");
    btfm_table *t = NULL;
    if (btfm_table_read(&t, path)) return cli_fail("cothb calibrate", NULL);
    if (features) {
        int rc = calibrate_features(t, path, features, l2, json, save);
        btfm_table_free(t);
        return rc;
    }
    int cs, rc = CLI_OK;
    int64_t n = btfm_table_n_rows(t);
    double *scores = malloc(sizeof(double) * (size_t)(n ? 2 * n : 2));
    int *correct = malloc(sizeof(int) * (size_t)(n ? n : 1));
    double report[BTFM_COTHB_QUALITY_LOG_LOSS + 1];
    btfm_cothb *c = NULL;
    if (!scores || !correct) {
        rc = cli_usage_error("cothb", "out of memory for %lld rows", (long long)n);
    } else if (btfm_table_find_column(t, "score", &cs) || btfm_table_column_numbers(t, cs, scores)) {
        rc = cli_fail("cothb calibrate", NULL);
    } else {
        rc = correct_column(t, path, scores + n);
        for (int64_t r = 0; r < n && rc == CLI_OK; r++) correct[r] = scores[n + r] == 1;
        int m = method ? BTFM_COTHB_CALIBRATION_ISOTONIC : BTFM_COTHB_CALIBRATION_PLATT;
        if (rc == CLI_OK &&
            (btfm_cothb_signal_quality(scores, correct, n, m, folds, report,
                                       BTFM_COTHB_QUALITY_LOG_LOSS + 1) ||
             btfm_cothb_new(&c) || btfm_cothb_calibrate_reliability(c, m, scores, correct, n) ||
             (save && btfm_cothb_save(c, save))))
            rc = cli_fail("cothb calibrate", NULL);
    }
    if (rc == CLI_OK) {
        if (json) printf("{\"method\": \"%s\"", methods[method]);
        for (int k = 0; k <= BTFM_COTHB_QUALITY_LOG_LOSS; k++) {
            if (json) {
                printf(", \"%s\": ", btfm_cothb_quality_name(k));
                cli_json_number(stdout, report[k]);
            } else {
                printf("%-18s %.6g\n", btfm_cothb_quality_name(k), report[k]);
            }
        }
        if (json) printf("}\n");
        if (save && !json) printf("calibrated controller saved to %s\n", save);
    }
    btfm_cothb_free(c);
    free(scores);
    free(correct);
    btfm_table_free(t);
    return rc;
}

/* The library's tuner on one benchmark task, the chosen values printed and, with --save,
 * a controller holding them written for a host to load. */
typedef struct tune_host {
    harness_task task;
    int budget;
} tune_host;

static int tune_episode(btfm_cothb *c, int64_t problem, double *reward, void *user)
{
    tune_host *h = user;
    harness_knobs k;
    harness_knobs_defaults(&k);
    k.config = c;
    int ok = 0, used = 0;
    btfm_status st = harness_solve(&h->task, HARNESS_M_COTHB_TUNED, &k, h->budget,
                                   1000000000LL + problem, &ok, &used);
    *reward = ok;
    return st;
}

static int tune(int argc, char **argv)
{
    bench_options o;
    options_defaults(&o);
    o.problems = 500;
    for (int i = 2; i < argc; i++) {
        int st = task_option(&o, argc, argv, &i);
        if (st < 0) return cli_unknown_option("cothb", argv[i]);
        if (st) return st;
    }
    if (o.n_dprimes > 1 || o.n_budgets > 1 || o.svg)
        return cli_usage_error("cothb", "tune takes one --dprime and one --budget, and no --svg");
    tune_host host = {o.task, (int)o.budgets[0]};
    host.task.dprime = o.dprimes[0];
    if (host.budget < host.task.depth)
        return cli_usage_error("cothb", "--budget %d is below the task's %d steps", host.budget,
                               host.task.depth);
    btfm_cothb_tuner *t = NULL;
    btfm_cothb *base = NULL;
    cli_progress bar;
    cli_progress_init(&bar);
    double report[BTFM_COTHB_TUNING_SETTINGS + 1];
    int rc = CLI_OK;
    if (btfm_cothb_tuner_new(&t) || btfm_cothb_new(&base) ||
        btfm_cothb_tuner_set_param(t, BTFM_COTHB_TUNER_PARAM_PROBLEMS, o.problems) ||
        btfm_cothb_tuner_set_param(t, BTFM_COTHB_TUNER_PARAM_HELD_OUT, o.problems) ||
        btfm_cothb_tuner_set_progress(t, cli_progress_fn, &bar) ||
        btfm_cothb_tuner_run(t, base, tune_episode, &host) ||
        btfm_cothb_tuner_result(t, report, BTFM_COTHB_TUNING_SETTINGS + 1) ||
        btfm_cothb_tuner_apply(t, base) || (o.save && btfm_cothb_save(base, o.save)))
        rc = cli_fail("cothb tune", NULL);
    cli_progress_finish(&bar);
    if (rc == CLI_OK) {
        if (o.json) printf("{\"knobs\": {");
        for (int k = 0; k < btfm_cothb_tuner_n_knobs(t); k++) {
            int param;
            double chosen;
            const char *name = NULL;
            btfm_cothb_tuner_knob(t, k, &param, &chosen);
            btfm_param_info(BTFM_OBJECT_COTHB, param, &name, NULL, NULL, NULL, NULL);
            if (o.json) printf("%s\"%s\": %.17g", k ? ", " : "", name, chosen);
            else printf("%-20s %g\n", name, chosen);
        }
        if (o.json) printf("}");
        for (int k = 0; k <= BTFM_COTHB_TUNING_SETTINGS; k++) {
            if (o.json) {
                printf(", \"%s\": ", btfm_cothb_tuning_name(k));
                cli_json_number(stdout, report[k]);
            } else {
                printf("%-20s %.6g\n", btfm_cothb_tuning_name(k), report[k]);
            }
        }
        if (o.json) printf("}\n");
    }
    btfm_cothb_tuner_free(t);
    btfm_cothb_free(base);
    return rc;
}

int cmd_cothb(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "";
    if (strcmp(sub, "bench") == 0) return bench(argc, argv);
    if (strcmp(sub, "calibrate") == 0) return calibrate(argc, argv);
    if (strcmp(sub, "tune") == 0) return tune(argc, argv);
    return cli_usage_error("cothb", "expected the subcommand bench, calibrate or tune, got '%s'", sub);
}
