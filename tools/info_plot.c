/* btfm info --plot: a channel overview of a recording as SVG: the first seconds of up to
 * 32 channels as stacked traces, each scaled to its own range over those seconds (so
 * that EEG in uV and a trigger channel read alike), with the events that fall there. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "cli.h"
#include "svg_plot.h"

enum { MAX_TRACES = 32, MAX_MARKERS = 60 };
static const double SECONDS = 10.0;

int cli_info_plot(const char *path, btfm_dataset *ds, const char *plot)
{
    const double sfreq = btfm_dataset_sfreq(ds);
    int64_t n = (int64_t)ceil(SECONDS * sfreq);
    if (n > btfm_dataset_n_times(ds)) n = btfm_dataset_n_times(ds);
    const int n_channels = btfm_dataset_n_channels(ds);
    const int shown = n_channels < MAX_TRACES ? n_channels : MAX_TRACES;
    float *x = malloc(sizeof *x * (size_t)(n > 0 ? n : 1) * (size_t)shown);
    double *t = malloc(sizeof *t * (size_t)(n > 0 ? n : 1)), *y = malloc(sizeof *y * (size_t)(n > 0 ? n : 1));
    double offsets[MAX_TRACES];
    const char *names[MAX_TRACES];
    int picks[MAX_TRACES], rc = CLI_OK;
    for (int c = 0; c < shown; c++) picks[c] = c;
    char title[600];
    snprintf(title, sizeof title, "%.400s: the first %.3g s of %d of %d channel%s, each scaled to "
             "its range", path, (double)n / sfreq, shown, n_channels, n_channels == 1 ? "" : "s");
    svg_figure *fig = svg_figure_new(1, 1, 900, 60 + 22.0 * shown, title);
    if (!x || !t || !y || !fig) {
        fprintf(stderr, "btfm info: out of memory for the plot\n");
        rc = CLI_FAILED;
    } else if (n > 0 && btfm_dataset_read(ds, 0, n, picks, shown, x) != BTFM_OK) {
        rc = cli_fail("info", NULL);
    }
    svg_axes *a = fig ? svg_figure_axes(fig, 0, 0) : NULL;
    if (rc == CLI_OK) {
        svg_axes_set_labels(a, "time (s)", NULL);
        svg_axes_set_legend(a, 0);
        svg_axes_set_xlim(a, 0, n > 1 ? (double)(n - 1) / sfreq : 1.0);
        svg_axes_set_ylim(a, -0.75, shown - 0.25);
        for (int64_t i = 0; i < n; i++) t[i] = (double)i / sfreq;
        /* channel 0 on top; each trace spans [offset - 0.4, offset + 0.4] */
        for (int c = 0; rc == CLI_OK && c < shown; c++) {
            double lo = INFINITY, hi = -INFINITY;
            for (int64_t i = 0; i < n; i++) {
                double v = x[(size_t)i * (size_t)shown + (size_t)c];
                if (v < lo) lo = v;
                if (v > hi) hi = v;
            }
            double mid = 0.5 * (lo + hi), half = hi > lo ? 0.5 * (hi - lo) : 1.0;
            offsets[c] = shown - 1 - c;
            names[c] = btfm_dataset_channel_name(ds, c);
            for (int64_t i = 0; i < n; i++)
                y[i] = offsets[c] + 0.4 * (x[(size_t)i * (size_t)shown + (size_t)c] - mid) / half;
            if (svg_axes_line(a, t, y, n, names[c], -1)) rc = CLI_FAILED;
        }
        if (rc == CLI_OK && svg_axes_set_yticks(a, shown, offsets, names)) rc = CLI_FAILED;
        const double end = (double)n / sfreq;
        int markers = 0;
        for (int64_t e = 0; rc == CLI_OK && e < btfm_dataset_n_events(ds) && markers < MAX_MARKERS; e++) {
            double onset;
            const char *label;
            if (btfm_dataset_event(ds, e, &onset, NULL, NULL, &label, NULL) != BTFM_OK) continue;
            if (onset < 0 || onset >= end) continue;
            if (svg_axes_vline(a, onset, label)) rc = CLI_FAILED;
            markers++;
        }
        if (rc != CLI_OK) fprintf(stderr, "btfm info: out of memory for the plot\n");
    }
    char err[600];
    if (rc == CLI_OK && svg_figure_save(fig, plot, err, sizeof err)) {
        fprintf(stderr, "btfm info: %s\n", err);
        rc = CLI_FAILED;
    }
    svg_figure_free(fig);
    free(x);
    free(t);
    free(y);
    return rc;
}
