/* btfm align: fit an aligner on per-subject matrices (time x features) and map data into
 * the common space. Inputs are .npy matrices or any dataset (NIfTI volumes masked with
 * --mask, EDF, BrainVision). */
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

/* A time x features matrix from a .npy file or a dataset (masked by `mask`: a mask image,
 * or "epi", "background"); 0 on success, else the message printed. */
static int read_matrix(const char *what, const char *path, const char *mask, float **data,
                       int64_t *rows, int64_t *cols)
{
    char err[512];
    if (has_suffix(path, ".npy")) {
        if (!npy_read_f32(path, data, rows, cols, err, sizeof err)) return 0;
        fprintf(stderr, "btfm align %s: %s\n", what, err);
        return -1;
    }
    btfm_dataset *ds;
    if (cli_open_dataset(what[0] == 'f' ? "align fit" : "align transform", path, 0, &ds))
        return -1;
    btfm_status st = BTFM_OK;
    if (mask) {
        if (strcmp(mask, "epi") == 0) st = btfm_dataset_mask_compute(ds, BTFM_MASK_EPI, 0);
        else if (strcmp(mask, "background") == 0)
            st = btfm_dataset_mask_compute(ds, BTFM_MASK_BACKGROUND, 0);
        else st = btfm_dataset_mask_image(ds, mask);
    }
    if (!st) {
        *rows = btfm_dataset_n_times(ds);
        *cols = btfm_dataset_n_channels(ds);
        *data = malloc(sizeof(float) * (size_t)(*rows * *cols) + 1);
        st = *data ? btfm_dataset_read(ds, 0, *rows, NULL, 0, *data) : BTFM_E_NOMEM;
        if (st) free(*data);
    }
    btfm_dataset_free(ds);
    if (st) cli_fail(what[0] == 'f' ? "align fit" : "align transform", path);
    return st ? -1 : 0;
}

static int method_number(const char *name)
{
    const char *known;
    for (int m = 1; (known = btfm_align_method_name(m)) != NULL; m++)
        if (strcmp(known, name) == 0) return m;
    return 0;
}

/* --param name=value */
static int set_named_param(btfm_aligner *a, const char *spec)
{
    int param;
    double value;
    int rc = cli_param_option("align", BTFM_OBJECT_ALIGNER, spec, &param, &value);
    if (rc == CLI_OK && btfm_aligner_set_param(a, param, value)) rc = cli_fail("align fit", NULL);
    return rc;
}

static int align_fit(int argc, char **argv)
{
    const char *method = "srm", *out = NULL, *mask = NULL, *plot = NULL;
    btfm_aligner *a = NULL;
    int rc = CLI_OK, n_params = 0, n_inputs = 0;
    char spec[80];
    /* Options and inputs are collected first, so options may come anywhere. */
    char **params = calloc((size_t)argc * 2, sizeof *params), **inputs = params + argc;
    if (!params) return cli_fail("align fit", NULL);
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--method") == 0 && i + 1 < argc) method = argv[++i];
        else if (strcmp(argv[i], "--n-features") == 0 && i + 1 < argc) {
            snprintf(spec, sizeof spec, "n_features=%s", argv[++i]);
            params[n_params++] = spec;
        } else if (strcmp(argv[i], "--param") == 0 && i + 1 < argc) params[n_params++] = argv[++i];
        else if (strcmp(argv[i], "--mask") == 0 && i + 1 < argc) mask = argv[++i];
        else if (strcmp(argv[i], "--plot") == 0 && i + 1 < argc) plot = argv[++i];
        else if (argv[i][0] == '-') {
            free(params);
            return cli_unknown_option("align", argv[i]);
        } else if (!out) out = argv[i];
        else inputs[n_inputs++] = argv[i];
    }
    if (!out || n_inputs < 2) {
        free(params);
        return cli_usage_error("align", "fit needs OUT.model and at least two inputs");
    }
    int m = method_number(method);
    if (!m) {
        free(params);
        return cli_usage_error("align", "unknown method '%s' (hyperalignment, srm, "
                               "probabilistic_srm)", method);
    }
    if (btfm_aligner_new(&a, m)) { free(params); return cli_fail("align fit", NULL); }
    /* Under mpirun each rank reads a contiguous block of the inputs, in their order. */
    int rank, size;
    cli_mpi_begin(&rank, &size);
    const int first = (int)((long)n_inputs * rank / size);
    const int last = (int)((long)n_inputs * (rank + 1) / size);
    for (int i = 0; i < n_params && rc == CLI_OK; i++) rc = set_named_param(a, params[i]);
    /* The plot's held-out fit needs every input: this rank's are kept, rank 0 reads the
     * others after the fit. */
    float **kept = plot ? calloc((size_t)n_inputs, sizeof *kept) : NULL;
    int64_t *kept_cols = plot ? calloc((size_t)n_inputs, sizeof *kept_cols) : NULL;
    int64_t kept_rows = 0;
    if (plot && (!kept || !kept_cols)) rc = cli_fail("align fit", NULL);
    for (int i = first; i < last && rc == CLI_OK; i++) {
        float *data;
        int64_t rows, cols;
        if (read_matrix("fit", inputs[i], mask, &data, &rows, &cols)) {
            rc = CLI_FAILED;
            break;
        }
        if (btfm_aligner_add_subject(a, data, rows, cols)) rc = cli_fail("align fit", inputs[i]);
        if (kept) {
            kept[i] = data;
            kept_cols[i] = cols;
            kept_rows = rows;
        } else
            free(data);
    }
    if (cli_mpi_failed(rc != CLI_OK) && rc == CLI_OK) /* another rank said why */
        rc = CLI_FAILED;
    cli_progress bar; /* rank 0's, on its standard error */
    cli_progress_init(&bar);
    if (rank == 0) btfm_aligner_set_progress(a, cli_progress_fn, &bar);
    btfm_status st = rc == CLI_OK ? cli_mpi_fit(a) : BTFM_OK;
    cli_progress_finish(&bar);
    btfm_aligner_set_progress(a, NULL, NULL);
    if (rc == CLI_OK && (st || (rank == 0 && btfm_aligner_save(a, out))))
        rc = cli_fail("align fit", NULL);
    cli_mpi_end();
    if (rc == CLI_OK && rank == 0) {
        int n, iterations;
        int64_t k;
        btfm_aligner_n_subjects(a, &n);
        btfm_aligner_n_components(a, &k);
        double change;
        btfm_aligner_fit_info(a, &iterations, NULL);
        btfm_aligner_fit_change(a, &change);
        printf("%s: %s, %d subjects, %lld components, %d iterations", out,
               btfm_align_method_name(m), n, (long long)k, iterations);
        if (!isnan(change)) printf(" (final relative objective change %.3g)", change);
        printf("\n");
    }
    for (int i = 0; rc == CLI_OK && plot && rank == 0 && i < n_inputs; i++)
        if (!kept[i] && read_matrix("fit", inputs[i], mask, &kept[i], &kept_rows, &kept_cols[i]))
            rc = CLI_FAILED;
    if (rc == CLI_OK && plot && rank == 0)
        rc = cli_align_plot(plot, a, kept, kept_cols, n_inputs, kept_rows);
    for (int i = 0; kept && i < n_inputs; i++) free(kept[i]);
    free(kept);
    free(kept_cols);
    btfm_aligner_free(a);
    free(params);
    return rc;
}

static int align_transform(int argc, char **argv)
{
    const char *model = NULL, *in = NULL, *out = NULL, *mask = NULL;
    long subject = -1;
    int inverse = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--subject") == 0 && i + 1 < argc) {
            char *end;
            subject = strtol(argv[++i], &end, 10);
            if (*end || subject < 0) return cli_usage_error("align", "--subject takes an index >= 0");
        } else if (strcmp(argv[i], "--inverse") == 0) inverse = 1;
        else if (strcmp(argv[i], "--mask") == 0 && i + 1 < argc) mask = argv[++i];
        else if (argv[i][0] == '-') return cli_unknown_option("align", argv[i]);
        else if (!model) model = argv[i];
        else if (!in) in = argv[i];
        else if (!out) out = argv[i];
        else return cli_usage_error("align", "unexpected argument '%s'", argv[i]);
    }
    if (!out || subject < 0)
        return cli_usage_error("align", "transform needs MODEL IN OUT.npy --subject I");
    btfm_aligner *a;
    if (btfm_aligner_load(&a, model)) return cli_fail("align transform", model);
    float *data, *result = NULL;
    int64_t rows, cols, width = 0;
    char err[512];
    int rc = CLI_OK;
    if (read_matrix("transform", in, mask, &data, &rows, &cols)) {
        btfm_aligner_free(a);
        return CLI_FAILED;
    }
    btfm_status st = inverse ? btfm_aligner_subject_features(a, (int)subject, &width)
                             : btfm_aligner_n_components(a, &width);
    if (!st && !(result = malloc(sizeof(float) * (size_t)(rows * width)))) st = BTFM_E_NOMEM;
    if (!st)
        st = inverse ? btfm_aligner_inverse_transform(a, (int)subject, data, rows, cols, result)
                     : btfm_aligner_transform(a, (int)subject, data, rows, cols, result);
    if (st) rc = cli_fail("align transform", in);
    else if (npy_write_f32(out, result, rows, width, err, sizeof err)) {
        fprintf(stderr, "btfm align transform: %s\n", err);
        rc = CLI_FAILED;
    }
    free(data);
    free(result);
    btfm_aligner_free(a);
    return rc;
}

int cmd_align(int argc, char **argv)
{
    if (argc < 2) return cli_usage_error("align", "expected 'fit' or 'transform'");
    if (strcmp(argv[1], "fit") == 0) return align_fit(argc, argv);
    if (strcmp(argv[1], "transform") == 0) return align_transform(argc, argv);
    return cli_usage_error("align", "unknown subcommand '%s' (fit, transform)", argv[1]);
}
