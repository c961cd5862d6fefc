/* btfm align fit --plot: how the fit converged (the objective after each iteration) and
 * how it generalizes: time-segment matching on the last fifth of every subject's time
 * points after a second fit, with the same settings, on the first four fifths; beside
 * it the same matching on the raw features (anatomical correspondence) when the
 * subjects share their features. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "svg_plot.h"

enum { WINDOW = 10 };

/* A fit like `a` (method and every parameter) on rows [0, split) of each subject. */
static btfm_status fit_first_rows(btfm_aligner **out, const btfm_aligner *a, float *const *data,
                                  const int64_t *cols, int n, int64_t rows, int64_t split)
{
    btfm_aligner *b;
    btfm_status st = btfm_aligner_new(&b, btfm_aligner_method(a));
    for (int p = 0; !st && p < btfm_object_n_params(BTFM_OBJECT_ALIGNER); p++) {
        double v;
        if (!(st = btfm_aligner_get_param(a, p, &v))) st = btfm_aligner_set_param(b, p, v);
    }
    (void)rows;
    for (int i = 0; !st && i < n; i++) st = btfm_aligner_add_subject(b, data[i], split, cols[i]);
    if (!st) st = btfm_aligner_fit(b);
    if (st) {
        btfm_aligner_free(b);
        return st;
    }
    *out = b;
    return BTFM_OK;
}

/* Held-out segment matching into aligned[n] (and anatomical[n] when the subjects share
 * their features; else NaN). */
static btfm_status held_out(const btfm_aligner *a, float *const *data, const int64_t *cols, int n,
                            int64_t rows, int64_t split, int64_t window, double *aligned,
                            double *anatomical)
{
    const int64_t test = rows - split;
    btfm_aligner *b = NULL;
    btfm_status st = fit_first_rows(&b, a, data, cols, n, rows, split);
    int64_t k = 0;
    if (!st) st = btfm_aligner_n_components(b, &k);
    int same = 1;
    for (int i = 1; i < n; i++) same &= cols[i] == cols[0];
    int64_t width = k > (same ? cols[0] : 0) ? k : (same ? cols[0] : 0);
    float *all = st ? NULL : malloc(sizeof(float) * (size_t)(n * test * width));
    if (!st && !all) st = BTFM_E_NOMEM;
    for (int i = 0; !st && i < n; i++)
        st = btfm_aligner_transform(b, i, data[i] + (size_t)split * (size_t)cols[i], test, cols[i],
                                    all + (size_t)i * (size_t)(test * k));
    if (!st) st = btfm_align_segment_matching_z(all, n, test, k, window, 1, aligned);
    for (int i = 0; i < n; i++) anatomical[i] = NAN;
    if (!st && same) {
        for (int i = 0; i < n; i++)
            memcpy(all + (size_t)i * (size_t)(test * cols[0]), data[i] + (size_t)split * (size_t)cols[0],
                   sizeof(float) * (size_t)(test * cols[0]));
        st = btfm_align_segment_matching_z(all, n, test, cols[0], window, 1, anatomical);
    }
    free(all);
    btfm_aligner_free(b);
    return st;
}

int cli_align_plot(const char *plot, const btfm_aligner *a, float *const *data,
                   const int64_t *cols, int n, int64_t rows)
{
    int method = btfm_aligner_method(a), iterations = 0, rc = CLI_OK;
    btfm_aligner_fit_history(a, NULL, 0, &iterations);
    double *history = malloc(sizeof(double) * (size_t)(iterations + 1));
    double *x = malloc(sizeof(double) * (size_t)(iterations + n + 1));
    double *aligned = malloc(sizeof(double) * (size_t)n * 2), *anatomical = aligned + n;
    svg_figure *fig = svg_figure_new(1, 2, 480, 340, "btfm align fit");
    if (!history || !x || !aligned || !fig) {
        fprintf(stderr, "btfm align fit: out of memory for the plot\n");
        rc = CLI_FAILED;
    }
    if (rc == CLI_OK) {
        btfm_aligner_fit_history(a, history, (size_t)iterations, &iterations);
        svg_axes *c = svg_figure_axes(fig, 0, 0);
        svg_axes_set_labels(c, "iteration", method == BTFM_ALIGN_SRM ? "relative reconstruction error"
                                           : method == BTFM_ALIGN_PROBABILISTIC_SRM ? "log-likelihood" : NULL);
        if (iterations > 0) {
            svg_axes_set_title(c, "fit convergence");
            for (int i = 0; i < iterations; i++) x[i] = i + 1;
            if (svg_axes_line(c, x, history, iterations, "objective", -1)) rc = CLI_FAILED;
        } else {
            svg_axes_set_title(c, "fit convergence: hyperalignment does not iterate");
            svg_axes_set_xlim(c, 0, 1);
            svg_axes_set_ylim(c, 0, 1);
        }
        /* the last fifth held out; windows of 10 time points, fewer for short inputs */
        const int64_t split = rows - rows / 5, test = rows - split;
        const int64_t window = test >= 2 * WINDOW ? WINDOW : test / 2;
        svg_axes *h = svg_figure_axes(fig, 0, 1);
        svg_axes_set_labels(h, "subject", "segment matching accuracy");
        svg_axes_set_ylim(h, 0, 1);
        svg_axes_set_xlim(h, -0.5, n - 0.5);
        if (window < 1 || split < 2) {
            svg_axes_set_title(h, "held-out scores: too few time points");
        } else if (held_out(a, data, cols, n, rows, split, window, aligned, anatomical) != BTFM_OK) {
            /* the model is saved; the panel says why it has no scores */
            char title[200];
            snprintf(title, sizeof title, "held-out scores: %.160s", btfm_last_error());
            svg_axes_set_title(h, title);
        } else {
            char title[160];
            snprintf(title, sizeof title, "held out: last %lld of %lld time points, windows of %lld",
                     (long long)test, (long long)rows, (long long)window);
            svg_axes_set_title(h, title);
            for (int i = 0; i < n; i++) x[i] = i;
            if (svg_axes_scatter(h, x, aligned, n, "aligned", -1)) rc = CLI_FAILED;
            if (!isnan(anatomical[0]) && svg_axes_scatter(h, x, anatomical, n, "anatomical", -1))
                rc = CLI_FAILED;
        }
    }
    char err[600];
    if (rc == CLI_OK && svg_figure_save(fig, plot, err, sizeof err)) {
        fprintf(stderr, "btfm align fit: %s\n", err);
        rc = CLI_FAILED;
    }
    svg_figure_free(fig);
    free(history);
    free(x);
    free(aligned);
    return rc;
}
