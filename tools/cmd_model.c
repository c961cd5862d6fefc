/* btfm model: fit a linear readout (ridge, banded ridge, logistic regression, a
 * Bradley-Terry reward of item features from preferred pairs) on .npy or .tsv matrices
 * and save it; predict with a saved model; score it on held-out data. `fit --held-out K`
 * also reports each target's nested held-out score (encoding and decoding models). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "npy.h"

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* A matrix from a .npy file (1-D: one column; 2-D) or a .tsv table with a header row and
 * numbers in every column (n/a refused); 0, or -1 with the message printed. */
static int read_matrix(const char *what, const char *path, float **data, int64_t *rows,
                       int64_t *cols)
{
    char err[512];
    if (has_suffix(path, ".tsv")) {
        btfm_table *t;
        if (btfm_table_read(&t, path)) {
            cli_fail(what, NULL);
            return -1;
        }
        *rows = btfm_table_n_rows(t);
        *cols = btfm_table_n_columns(t);
        double *column = malloc(sizeof(double) * (size_t)(*rows + 1));
        *data = malloc(sizeof(float) * (size_t)(*rows * *cols + 1));
        int rc = column && *data ? 0 : -1;
        if (rc) fprintf(stderr, "btfm %s: %s: out of memory\n", what, path);
        for (int j = 0; !rc && j < *cols; j++) {
            if (btfm_table_column_numbers(t, j, column)) {
                cli_fail(what, NULL);
                rc = -1;
            }
            for (int64_t i = 0; !rc && i < *rows; i++) {
                if (isnan(column[i])) {
                    fprintf(stderr, "btfm %s: %s: row %lld, column '%s' is n/a; every cell "
                            "must be a number\n", what, path, (long long)i + 1,
                            btfm_table_column_name(t, j));
                    rc = -1;
                }
                (*data)[i * *cols + j] = (float)column[i];
            }
        }
        free(column);
        btfm_table_free(t);
        if (rc) free(*data);
        return rc;
    }
    int64_t shape[NPY_MAX_NDIM];
    int ndim;
    if (npy_read_f32_nd(path, data, shape, &ndim, err, sizeof err)) {
        fprintf(stderr, "btfm %s: %s\n", what, err);
        return -1;
    }
    if (ndim == 1 || ndim == 2) {
        *rows = shape[0];
        *cols = ndim == 2 ? shape[1] : 1;
        if (*rows >= 1 && *cols >= 1) return 0;
    }
    npy_shape_text(shape, ndim, err, sizeof err);
    fprintf(stderr, "btfm %s: %s holds an array of shape %s; expected a matrix (samples x "
            "columns) or a vector\n", what, path, err);
    free(*data);
    return -1;
}

/* "a,b,c" as numbers; the count, or -1 with a usage error printed. */
static int number_list(const char *option, const char *text, double **out)
{
    int n = 1;
    for (const char *p = text; *p; p++) n += *p == ',';
    *out = malloc(sizeof(double) * (size_t)n);
    if (!*out) return -1;
    if (cli_number_list(text, *out, n) != n) {
        free(*out);
        *out = NULL;
        cli_usage_error("model", "%s takes finite numbers separated by commas, got '%s'", option,
                        text);
        return -1;
    }
    return n;
}

static int type_number(const char *name)
{
    const char *known;
    for (int t = 1; (known = btfm_model_type_name(t)) != NULL; t++)
        if (strcmp(known, name) == 0) return t;
    return 0;
}

static int score_number(const char *name)
{
    const char *known;
    for (int k = 1; (known = btfm_model_score_name(k)) != NULL; k++)
        if (strcmp(known, name) == 0) return k;
    return 0;
}

/* Whole numbers of a one-column matrix as int32 or int64 (wide) values; NULL with the
 * message printed when one is not whole. */
static void *whole_numbers(const char *what, const char *path, const float *v, int64_t n,
                           int wide)
{
    void *out = malloc((size_t)n * (wide ? 8 : 4) + 1);
    for (int64_t i = 0; out && i < n; i++) {
        if (v[i] != floorf(v[i]) || fabsf(v[i]) > 2e9f) {
            fprintf(stderr, "btfm %s: %s: row %lld holds %g; expected a whole number\n", what,
                    path, (long long)i + 1, (double)v[i]);
            free(out);
            return NULL;
        }
        if (wide) ((int64_t *)out)[i] = (int64_t)v[i];
        else ((int32_t *)out)[i] = (int32_t)v[i];
    }
    return out;
}

static void print_list(FILE *out, const double *v, int64_t n)
{
    fputc('[', out);
    for (int64_t i = 0; i < n; i++) {
        if (i) fputs(", ", out);
        cli_json_number(out, v[i]);
    }
    fputc(']', out);
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return isnan(x) ? !isnan(y) : isnan(y) ? -1 : (x > y) - (x < y);
}

/* Mean and median of the finite values. */
static void summary(const double *v, int64_t n, double *mean, double *median)
{
    double *s = malloc(sizeof(double) * (size_t)n + 1), sum = 0;
    int64_t k = 0;
    for (int64_t i = 0; s && i < n; i++)
        if (isfinite(v[i])) s[k++] = v[i], sum += v[i];
    if (s && k) qsort(s, (size_t)k, sizeof *s, compare_doubles);
    *mean = k ? sum / (double)k : NAN;
    *median = k ? (k % 2 ? s[k / 2] : 0.5 * (s[k / 2 - 1] + s[k / 2])) : NAN;
    free(s);
}

/* What fit reads from its command line. */
typedef struct fit_options {
    const char *out, *x, *y, *groups, *bands, *scores, *outcomes;
    int type, held_out, json, n_params;
    double *alphas, *delays;
    int n_alphas, n_delays;
    char **params;
} fit_options;

static int parse_fit(int argc, char **argv, fit_options *o)
{
    const char *type = "ridge";
    o->held_out = -1;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (strcmp(a, "--type") == 0 && more) type = argv[++i];
        else if (strcmp(a, "--alphas") == 0 && more) {
            if ((o->n_alphas = number_list(a, argv[++i], &o->alphas)) < 0) return CLI_USAGE;
        } else if (strcmp(a, "--delays") == 0 && more) {
            if ((o->n_delays = number_list(a, argv[++i], &o->delays)) < 0) return CLI_USAGE;
        } else if (strcmp(a, "--cv") == 0 && more) {
            static char spec[64];
            snprintf(spec, sizeof spec, "cv=%s", argv[++i]);
            o->params[o->n_params++] = spec;
        } else if (strcmp(a, "--param") == 0 && more) o->params[o->n_params++] = argv[++i];
        else if (strcmp(a, "--groups") == 0 && more) o->groups = argv[++i];
        else if (strcmp(a, "--bands") == 0 && more) o->bands = argv[++i];
        else if (strcmp(a, "--scores") == 0 && more) o->scores = argv[++i];
        else if (strcmp(a, "--outcomes") == 0 && more) o->outcomes = argv[++i];
        else if (strcmp(a, "--held-out") == 0 && more) {
            char *end;
            long k = strtol(argv[++i], &end, 10);
            if (*end || k < 0 || k == 1 || k > 1000000)
                return cli_usage_error("model", "--held-out takes 0 (one fold per group) or a "
                                       "number of folds >= 2, got '%s'", argv[i]);
            o->held_out = (int)k;
        } else if (strcmp(a, "--json") == 0) o->json = 1;
        else if (a[0] == '-') return cli_unknown_option("model", a);
        else if (!o->out) o->out = a;
        else if (!o->x) o->x = a;
        else if (!o->y) o->y = a;
        else return cli_usage_error("model", "unexpected argument '%s'", a);
    }
    if (!o->y) return cli_usage_error("model", "fit needs OUT.model X Y");
    if (!(o->type = type_number(type)))
        return cli_usage_error("model", "unknown --type '%s' (ridge, banded_ridge, logistic, "
                               "bradley_terry)", type);
    if (o->type == BTFM_MODEL_BRADLEY_TERRY && (o->held_out >= 0 || o->n_delays || o->bands))
        return cli_usage_error("model", "--held-out, --delays and --bands apply to ridge and "
                               "logistic models, not bradley_terry");
    if (o->outcomes && o->type != BTFM_MODEL_BRADLEY_TERRY)
        return cli_usage_error("model", "--outcomes needs --type bradley_terry");
    if (o->scores && (o->held_out < 0 || o->type == BTFM_MODEL_LOGISTIC))
        return cli_usage_error("model", "--scores needs --held-out and a ridge model");
    return CLI_OK;
}

/* Groups and bands: one whole number per sample or per feature, from .npy or .tsv. */
static int set_indices(btfm_model *m, const char *option, const char *path, int64_t expected)
{
    float *v;
    int64_t rows, cols;
    const int groups = strcmp(option, "--groups") == 0;
    if (read_matrix("model fit", path, &v, &rows, &cols)) return CLI_FAILED;
    if (cols != 1 || rows != expected) {
        fprintf(stderr, "btfm model fit: %s %s has %lld x %lld values; expected one per %s "
                "(%lld)\n", option, path, (long long)rows, (long long)cols,
                groups ? "sample" : "feature", (long long)expected);
        free(v);
        return CLI_FAILED;
    }
    void *w = whole_numbers("model fit", path, v, rows, groups);
    free(v);
    if (!w) return CLI_FAILED;
    btfm_status st = groups ? btfm_model_set_groups(m, w, rows)
                            : btfm_model_set_bands(m, w, rows);
    free(w);
    return st ? cli_fail("model fit", option) : CLI_OK;
}

/* --held-out: nested held-out predictions, their R^2 and Pearson r per target. */
static int held_out_scores(btfm_model *m, const fit_options *o, const float *x, int64_t n,
                           int64_t p, const float *y, int64_t t, const int32_t *labels,
                           double *r2, double *r, double *accuracy)
{
    const int logistic = o->type == BTFM_MODEL_LOGISTIC;
    int64_t width = t;
    if (logistic) {
        width = 0;
        for (int64_t i = 0; i < n; i++) width = labels[i] + 1 > width ? labels[i] + 1 : width;
    }
    float *pred = malloc(sizeof(float) * (size_t)(n * width));
    cli_progress bar;
    cli_progress_init(&bar);
    btfm_model_set_progress(m, cli_progress_fn, &bar);
    btfm_status st = pred ? btfm_model_cross_predict(m, pred, x, n, p, y, t, o->held_out)
                          : BTFM_E_NOMEM;
    cli_progress_finish(&bar);
    btfm_model_set_progress(m, NULL, NULL);
    if (!st && logistic) {
        int64_t right = 0;
        for (int64_t i = 0; i < n; i++) {
            int64_t best = 0;
            for (int64_t c = 1; c < width; c++)
                if (pred[i * width + c] > pred[i * width + best]) best = c;
            right += best == labels[i];
        }
        *accuracy = (double)right / (double)n;
    } else if (!st) {
        st = btfm_model_score_columns(r2, BTFM_SCORE_R2, y, pred, n, t);
        if (!st) st = btfm_model_score_columns(r, BTFM_SCORE_PEARSON, y, pred, n, t);
    }
    free(pred);
    return st ? cli_fail("model fit", "--held-out") : CLI_OK;
}

/* Bradley-Terry: Y holds the pairs (first, second; item rows of X counted from 0), one
 * per row, and --outcomes one value per pair (1 first preferred, 0 second, 0.5 a tie). */
static int read_pairs(const fit_options *o, int64_t n_items, int64_t n_pairs, int64_t cols,
                      const float *y, int64_t **pairs, float **outcomes)
{
    if (cols != 2) {
        fprintf(stderr, "btfm model fit: bradley_terry takes the pairs in Y, two columns of "
                "item rows of X (first, second); %s has %lld columns\n", o->y, (long long)cols);
        return CLI_FAILED;
    }
    if (!(*pairs = whole_numbers("model fit", o->y, y, 2 * n_pairs, 1))) return CLI_FAILED;
    for (int64_t k = 0; k < 2 * n_pairs; k++)
        if ((*pairs)[k] < 0 || (*pairs)[k] >= n_items) {
            fprintf(stderr, "btfm model fit: %s: row %lld names item %lld; X %s has items 0 .. "
                    "%lld\n", o->y, (long long)(k / 2 + 1), (long long)(*pairs)[k], o->x,
                    (long long)n_items - 1);
            return CLI_FAILED;
        }
    if (!o->outcomes) return CLI_OK;
    int64_t rows, c;
    if (read_matrix("model fit", o->outcomes, outcomes, &rows, &c)) return CLI_FAILED;
    if (rows != n_pairs || c != 1) {
        fprintf(stderr, "btfm model fit: --outcomes %s has %lld x %lld values; expected one "
                "per pair (%lld)\n", o->outcomes, (long long)rows, (long long)c,
                (long long)n_pairs);
        return CLI_FAILED;
    }
    return CLI_OK;
}

static int model_fit(int argc, char **argv)
{
    fit_options o = {0};
    o.params = calloc((size_t)argc + 1, sizeof *o.params);
    if (!o.params) return cli_fail("model fit", NULL);
    float *x = NULL, *y = NULL;
    int32_t *labels = NULL;
    double *r2 = NULL, *r = NULL, *alpha = NULL, accuracy = NAN;
    btfm_model *m = NULL;
    int64_t n = 0, p = 0, t = 0, ny = 0;
    int rc = parse_fit(argc, argv, &o);
    if (rc == CLI_OK && btfm_model_new(&m, o.type)) rc = cli_fail("model fit", NULL);
    for (int i = 0; rc == CLI_OK && i < o.n_params; i++) {
        int param;
        double value;
        rc = cli_param_option("model", BTFM_OBJECT_MODEL, o.params[i], &param, &value);
        if (rc == CLI_OK && btfm_model_set_param(m, param, value)) rc = cli_fail("model fit", o.params[i]);
    }
    if (rc == CLI_OK && o.n_alphas > 0 && btfm_model_set_alphas(m, o.alphas, o.n_alphas))
        rc = cli_fail("model fit", "--alphas");
    if (rc == CLI_OK && o.n_delays > 0) {
        int32_t *d = malloc(sizeof(int32_t) * (size_t)o.n_delays);
        for (int i = 0; d && i < o.n_delays; i++) {
            if (o.delays[i] != floor(o.delays[i]) || fabs(o.delays[i]) >= 1e6) {
                free(d);
                d = NULL;
                rc = cli_usage_error("model", "--delays takes whole numbers of samples");
            } else d[i] = (int32_t)o.delays[i];
        }
        if (d && btfm_model_set_delays(m, d, o.n_delays)) rc = cli_fail("model fit", "--delays");
        free(d);
    }
    if (rc == CLI_OK && (read_matrix("model fit", o.x, &x, &n, &p) ||
                         read_matrix("model fit", o.y, &y, &ny, &t)))
        rc = CLI_FAILED;
    int64_t *pairs = NULL;
    float *outcomes = NULL;
    if (rc == CLI_OK && o.type == BTFM_MODEL_BRADLEY_TERRY)
        rc = read_pairs(&o, n, ny, t, y, &pairs, &outcomes);
    if (rc == CLI_OK && ny != n && !pairs) {
        fprintf(stderr, "btfm model fit: X %s has %lld rows but Y %s has %lld; one row per "
                "sample in both\n", o.x, (long long)n, o.y, (long long)ny);
        rc = CLI_FAILED;
    }
    if (rc == CLI_OK && o.groups) rc = set_indices(m, "--groups", o.groups, pairs ? ny : n);
    if (rc == CLI_OK && o.bands) rc = set_indices(m, "--bands", o.bands, p);
    if (rc == CLI_OK && o.type == BTFM_MODEL_LOGISTIC) {
        if (t != 1) {
            fprintf(stderr, "btfm model fit: logistic regression takes one column of class "
                    "labels 0 .. K - 1 in Y; %s has %lld columns\n", o.y, (long long)t);
            rc = CLI_FAILED;
        } else if (!(labels = whole_numbers("model fit", o.y, y, n, 0))) rc = CLI_FAILED;
    }
    if (rc == CLI_OK) {
        cli_progress bar;
        cli_progress_init(&bar);
        btfm_model_set_progress(m, cli_progress_fn, &bar);
        btfm_status st = pairs    ? btfm_model_fit_pairs(m, x, n, p, pairs, outcomes, ny)
                         : labels ? btfm_model_fit_classes(m, x, n, p, labels)
                                  : btfm_model_fit(m, x, n, p, y, t);
        cli_progress_finish(&bar);
        btfm_model_set_progress(m, NULL, NULL);
        if (st || btfm_model_save(m, o.out)) rc = cli_fail("model fit", NULL);
    }
    int64_t outputs = 0;
    if (rc == CLI_OK) {
        btfm_model_dims(m, NULL, NULL, &outputs);
        alpha = malloc(sizeof(double) * (size_t)outputs);
        if (!alpha || btfm_model_alpha(m, alpha, (size_t)outputs)) rc = cli_fail("model fit", NULL);
    }
    if (rc == CLI_OK && o.held_out >= 0) {
        r2 = calloc((size_t)t * 2, sizeof(double));
        r = r2 ? r2 + t : NULL;
        rc = r2 ? held_out_scores(m, &o, x, n, p, y, t, labels, r2, r, &accuracy)
                : cli_fail("model fit", NULL);
    }
    if (rc == CLI_OK && o.scores && r2) {
        char err[512];
        float *s = malloc(sizeof(float) * (size_t)(2 * t));
        for (int64_t j = 0; s && j < 2 * t; j++) s[j] = (float)r2[j];
        if (!s || npy_write_f32(o.scores, s, 2, t, err, sizeof err)) {
            fprintf(stderr, "btfm model fit: %s\n", s ? err : "out of memory");
            rc = CLI_FAILED;
        }
        free(s);
    }
    if (rc == CLI_OK) {
        double mean, median, r2_mean = NAN, r2_median = NAN, r_mean = NAN, r_median = NAN;
        summary(alpha, outputs, &mean, &median);
        if (r2 && !labels) {
            summary(r2, t, &r2_mean, &r2_median);
            summary(r, t, &r_mean, &r_median);
        }
        if (o.json) {
            printf("{\"model\": ");
            cli_json_string(stdout, o.out);
            printf(", \"type\": \"%s\", \"n_samples\": %lld, \"n_features\": %lld, "
                   "\"n_outputs\": %lld, ", btfm_model_type_name(o.type),
                   (long long)n, (long long)p, (long long)outputs);
            if (pairs) printf("\"n_pairs\": %lld, ", (long long)ny);
            printf("\"alpha\": ");
            print_list(stdout, alpha, outputs);
            if (r2 && labels) {
                printf(", \"held_out_accuracy\": ");
                cli_json_number(stdout, accuracy);
            } else if (r2) {
                printf(", \"held_out_r2\": ");
                print_list(stdout, r2, t);
                printf(", \"held_out_pearson\": ");
                print_list(stdout, r, t);
            }
            printf("}\n");
        } else {
            if (pairs)
                printf("%s: bradley_terry, %lld pairs of %lld items x %lld features, alpha "
                       "%g\n", o.out, (long long)ny, (long long)n, (long long)p, median);
            else
                printf("%s: %s, %lld samples x %lld features -> %lld outputs, alpha median "
                       "%g (mean %g)\n", o.out, btfm_model_type_name(o.type), (long long)n,
                       (long long)p, (long long)outputs, median, mean);
            if (r2 && labels) printf("held-out accuracy %.4f\n", accuracy);
            else if (r2)
                printf("held-out R^2 mean %.4f median %.4f, Pearson r mean %.4f median %.4f\n",
                       r2_mean, r2_median, r_mean, r_median);
        }
    }
    btfm_model_free(m);
    free(x);
    free(y);
    free(labels);
    free(pairs);
    free(outcomes);
    free(r2);
    free(alpha);
    free(o.alphas);
    free(o.delays);
    free(o.params);
    return rc;
}

static int model_predict(int argc, char **argv)
{
    const char *path = NULL, *in = NULL, *out = NULL, *pairs_path = NULL;
    int what = 0; /* 0 predict, 1 --std, 2 --proba, 3 --pairs */
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--std") == 0) what = 1;
        else if (strcmp(argv[i], "--pairs") == 0 && i + 1 < argc) {
            what = 3;
            pairs_path = argv[++i];
        }
        else if (strcmp(argv[i], "--proba") == 0) what = 2;
        else if (argv[i][0] == '-') return cli_unknown_option("model", argv[i]);
        else if (!path) path = argv[i];
        else if (!in) in = argv[i];
        else if (!out) out = argv[i];
        else return cli_usage_error("model", "unexpected argument '%s'", argv[i]);
    }
    if (!out) return cli_usage_error("model", "predict needs MODEL X OUT.npy");
    btfm_model *m;
    if (btfm_model_load(&m, path)) return cli_fail("model predict", path);
    float *x = NULL, *pred = NULL;
    int64_t n, p, width = 0;
    int rc = read_matrix("model predict", in, &x, &n, &p) ? CLI_FAILED : CLI_OK;
    if (rc == CLI_OK) {
        btfm_model_dims(m, NULL, NULL, &width);
        if (what == 2) width = btfm_model_n_classes(m);
        if (what == 2 && width < 2) {
            fprintf(stderr, "btfm model predict: --proba needs a logistic model; %s is %s\n",
                    path, btfm_model_type_name(btfm_model_get_type(m)));
            rc = CLI_FAILED;
        }
        if (what == 3 && btfm_model_get_type(m) != BTFM_MODEL_BRADLEY_TERRY) {
            fprintf(stderr, "btfm model predict: --pairs needs a bradley_terry model; %s is "
                    "%s\n", path, btfm_model_type_name(btfm_model_get_type(m)));
            rc = CLI_FAILED;
        }
    }
    if (rc == CLI_OK && what == 3) { /* P(first preferred), P(tie), P(second) per pair */
        float *pv = NULL, *prob = NULL;
        int64_t np = 0, pc = 0, *pairs = NULL;
        double *proba = NULL;
        char err[512];
        if (read_matrix("model predict", pairs_path, &pv, &np, &pc)) rc = CLI_FAILED;
        else if (pc != 2) {
            fprintf(stderr, "btfm model predict: --pairs %s has %lld columns; expected two "
                    "(first, second)\n", pairs_path, (long long)pc);
            rc = CLI_FAILED;
        } else if (!(pairs = whole_numbers("model predict", pairs_path, pv, 2 * np, 1)))
            rc = CLI_FAILED;
        if (rc == CLI_OK) {
            proba = malloc(sizeof(double) * (size_t)(3 * np) + 1);
            prob = malloc(sizeof(float) * (size_t)(3 * np) + 1);
            if (!proba || !prob || btfm_model_predict_pairs(m, proba, x, n, p, pairs, np))
                rc = cli_fail("model predict", pairs_path);
        }
        for (int64_t k = 0; rc == CLI_OK && k < 3 * np; k++) prob[k] = (float)proba[k];
        if (rc == CLI_OK && npy_write_f32(out, prob, np, 3, err, sizeof err)) {
            fprintf(stderr, "btfm model predict: %s\n", err);
            rc = CLI_FAILED;
        }
        free(pv);
        free(pairs);
        free(proba);
        free(prob);
        free(x);
        btfm_model_free(m);
        return rc;
    }
    if (rc == CLI_OK) {
        pred = malloc(sizeof(float) * (size_t)(n * width));
        btfm_status st = !pred ? BTFM_E_NOMEM
                         : what == 0 ? btfm_model_predict(m, pred, x, n, p)
                         : what == 1 ? btfm_model_predict_std(m, pred, x, n, p)
                                     : btfm_model_predict_proba(m, pred, x, n, p);
        char err[512];
        if (st) rc = cli_fail("model predict", in);
        else if (npy_write_f32(out, pred, n, width, err, sizeof err)) {
            fprintf(stderr, "btfm model predict: %s\n", err);
            rc = CLI_FAILED;
        }
    }
    free(x);
    free(pred);
    btfm_model_free(m);
    return rc;
}

static int model_score(int argc, char **argv)
{
    const char *path = NULL, *xin = NULL, *yin = NULL, *kind_name = "r2", *out = NULL;
    int json = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--kind") == 0 && i + 1 < argc) kind_name = argv[++i];
        else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) out = argv[++i];
        else if (strcmp(argv[i], "--json") == 0) json = 1;
        else if (argv[i][0] == '-') return cli_unknown_option("model", argv[i]);
        else if (!path) path = argv[i];
        else if (!xin) xin = argv[i];
        else if (!yin) yin = argv[i];
        else return cli_usage_error("model", "unexpected argument '%s'", argv[i]);
    }
    if (!yin) return cli_usage_error("model", "score needs MODEL X Y");
    const int kind = score_number(kind_name);
    if (kind != BTFM_SCORE_R2 && kind != BTFM_SCORE_PEARSON && kind != BTFM_SCORE_NEG_MSE)
        return cli_usage_error("model", "unknown --kind '%s' (r2, pearson, neg_mse)", kind_name);
    btfm_model *m;
    if (btfm_model_load(&m, path)) return cli_fail("model score", path);
    float *x = NULL, *y = NULL;
    double *s = NULL;
    int64_t n, p, ny, t;
    int rc = read_matrix("model score", xin, &x, &n, &p) ||
                     read_matrix("model score", yin, &y, &ny, &t) ? CLI_FAILED : CLI_OK;
    if (rc == CLI_OK && ny != n) {
        fprintf(stderr, "btfm model score: X %s has %lld rows but Y %s has %lld\n", xin,
                (long long)n, yin, (long long)ny);
        rc = CLI_FAILED;
    }
    if (rc == CLI_OK) {
        s = malloc(sizeof(double) * (size_t)t);
        if (!s || btfm_model_score(m, s, kind, x, y, n, p, t)) rc = cli_fail("model score", xin);
    }
    if (rc == CLI_OK && out) {
        char err[512];
        float *f = malloc(sizeof(float) * (size_t)t);
        for (int64_t j = 0; f && j < t; j++) f[j] = (float)s[j];
        if (!f || npy_write_f32(out, f, 1, t, err, sizeof err)) {
            fprintf(stderr, "btfm model score: %s\n", f ? err : "out of memory");
            rc = CLI_FAILED;
        }
        free(f);
    }
    if (rc == CLI_OK) {
        double mean, median;
        summary(s, t, &mean, &median);
        if (json) {
            printf("{\"kind\": \"%s\", \"mean\": ", kind_name);
            cli_json_number(stdout, mean);
            printf(", \"median\": ");
            cli_json_number(stdout, median);
            printf(", \"scores\": ");
            print_list(stdout, s, t);
            printf("}\n");
        } else {
            printf("%s on %lld samples, %lld targets: mean %.6g, median %.6g\n", kind_name,
                   (long long)n, (long long)t, mean, median);
        }
    }
    free(x);
    free(y);
    free(s);
    btfm_model_free(m);
    return rc;
}

int cmd_model(int argc, char **argv)
{
    if (argc < 2) return cli_usage_error("model", "expected 'fit', 'predict' or 'score'");
    if (strcmp(argv[1], "fit") == 0) return model_fit(argc, argv);
    if (strcmp(argv[1], "predict") == 0) return model_predict(argc, argv);
    if (strcmp(argv[1], "score") == 0) return model_score(argc, argv);
    return cli_usage_error("model", "unknown subcommand '%s' (fit, predict, score)", argv[1]);
}
