/* btfm align: fit an aligner on per-subject .npy matrices (time x features) and map data
 * into the common space. NIfTI inputs with --mask follow once the NIfTI reader exists. */
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "npy.h"

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
    const char *eq = strchr(spec, '=');
    char name[64];
    if (!eq || (size_t)(eq - spec) >= sizeof name)
        return cli_usage_error("align", "--param takes NAME=VALUE, got '%s'", spec);
    memcpy(name, spec, (size_t)(eq - spec));
    name[eq - spec] = '\0';
    char *end;
    double value = strtod(eq + 1, &end);
    if (end == eq + 1 || *end)
        return cli_usage_error("align", "--param %s: '%s' is not a number", name, eq + 1);
    int param;
    if (btfm_param_find(BTFM_OBJECT_ALIGNER, name, &param) ||
        btfm_aligner_set_param(a, param, value))
        return cli_fail("align fit");
    return CLI_OK;
}

static int align_fit(int argc, char **argv)
{
    const char *method = "srm", *out = NULL;
    btfm_aligner *a = NULL;
    int rc = CLI_OK, n_params = 0, n_inputs = 0;
    char spec[80];
    /* Options and inputs are collected first, so options may come anywhere. */
    char **params = calloc((size_t)argc * 2, sizeof *params), **inputs = params + argc;
    if (!params) return cli_fail("align fit");
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--method") == 0 && i + 1 < argc) method = argv[++i];
        else if (strcmp(argv[i], "--n-features") == 0 && i + 1 < argc) {
            snprintf(spec, sizeof spec, "n_features=%s", argv[++i]);
            params[n_params++] = spec;
        } else if (strcmp(argv[i], "--param") == 0 && i + 1 < argc) params[n_params++] = argv[++i];
        else if (strcmp(argv[i], "--mask") == 0) {
            free(params);
            return cli_usage_error("align", "--mask needs NIfTI inputs, which this build does "
                                   "not read yet; pass .npy matrices (time x features)");
        } else if (argv[i][0] == '-') {
            free(params);
            return cli_usage_error("align", "unknown option '%s'", argv[i]);
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
    if (btfm_aligner_new(&a, m)) { free(params); return cli_fail("align fit"); }
    for (int i = 0; i < n_params && rc == CLI_OK; i++) rc = set_named_param(a, params[i]);
    for (int i = 0; i < n_inputs && rc == CLI_OK; i++) {
        float *data;
        int64_t rows, cols;
        char err[512];
        if (npy_read_f32(inputs[i], &data, &rows, &cols, err, sizeof err)) {
            fprintf(stderr, "btfm align fit: %s\n", err);
            rc = CLI_FAILED;
            break;
        }
        if (btfm_aligner_add_subject(a, data, rows, cols)) rc = cli_fail(inputs[i]);
        free(data);
    }
    if (rc == CLI_OK && (btfm_aligner_fit(a) || btfm_aligner_save(a, out)))
        rc = cli_fail("align fit");
    if (rc == CLI_OK) {
        int n, iterations;
        int64_t k;
        btfm_aligner_n_subjects(a, &n);
        btfm_aligner_n_components(a, &k);
        btfm_aligner_fit_info(a, &iterations, NULL);
        printf("%s: %s, %d subjects, %lld components, %d iterations\n", out,
               btfm_align_method_name(m), n, (long long)k, iterations);
    }
    btfm_aligner_free(a);
    free(params);
    return rc;
}

static int align_transform(int argc, char **argv)
{
    const char *model = NULL, *in = NULL, *out = NULL;
    long subject = -1;
    int inverse = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--subject") == 0 && i + 1 < argc) {
            char *end;
            subject = strtol(argv[++i], &end, 10);
            if (*end || subject < 0) return cli_usage_error("align", "--subject takes an index >= 0");
        } else if (strcmp(argv[i], "--inverse") == 0) inverse = 1;
        else if (argv[i][0] == '-') return cli_usage_error("align", "unknown option '%s'", argv[i]);
        else if (!model) model = argv[i];
        else if (!in) in = argv[i];
        else if (!out) out = argv[i];
        else return cli_usage_error("align", "unexpected argument '%s'", argv[i]);
    }
    if (!out || subject < 0)
        return cli_usage_error("align", "transform needs MODEL IN.npy OUT.npy --subject I");
    btfm_aligner *a;
    if (btfm_aligner_load(&a, model)) return cli_fail(model);
    float *data, *result = NULL;
    int64_t rows, cols, width = 0;
    char err[512];
    int rc = CLI_OK;
    if (npy_read_f32(in, &data, &rows, &cols, err, sizeof err)) {
        fprintf(stderr, "btfm align transform: %s\n", err);
        btfm_aligner_free(a);
        return CLI_FAILED;
    }
    btfm_status st = inverse ? btfm_aligner_subject_features(a, (int)subject, &width)
                             : btfm_aligner_n_components(a, &width);
    if (!st && !(result = malloc(sizeof(float) * (size_t)(rows * width)))) st = BTFM_E_NOMEM;
    if (!st)
        st = inverse ? btfm_aligner_inverse_transform(a, (int)subject, data, rows, cols, result)
                     : btfm_aligner_transform(a, (int)subject, data, rows, cols, result);
    if (st) rc = cli_fail(in);
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
