/* btfm demo --plot: held-out reward against the latent reward per mode, the calibration
 * curve of each mode's confidence, and the reward-related ERP at Pz by tercile of the
 * latent reward (the signal the heads read). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "demo.h"
#include "svg_plot.h"

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

int demo_plot(const char *path, const demo_session *s, const demo_result *r)
{
    static const char *const title[3] = {"ratings-only", "brain-only", "joint"};
    svg_figure *fig = svg_figure_new(2, 3, 420, 340, "btfm demo: RLHB reward heads on held-out annotators");
    double *x = malloc((size_t)r->n * sizeof *x), *y = malloc((size_t)r->n * sizeof *y);
    int rc = fig && x && y ? CLI_OK : CLI_FAILED;
    for (int m = 0; rc == CLI_OK && m < 3; m++) {
        svg_axes *ax = svg_figure_axes(fig, m / 3, m % 3);
        svg_axes_set_title(ax, title[m]);
        svg_axes_set_labels(ax, "latent reward", "predicted reward");
        for (int64_t i = 0; i < r->n; i++) x[i] = r->truth[i], y[i] = r->reward[m][i];
        if (svg_axes_scatter(ax, x, y, r->n, NULL, m)) rc = CLI_FAILED;
    }
    /* Calibration: observed frequency of latent reward above its median per decile bin. */
    float *sorted = malloc((size_t)r->n * sizeof *sorted);
    if (!sorted) rc = CLI_FAILED;
    svg_axes *cal = svg_figure_axes(fig, 1, 0);
    svg_axes_set_title(cal, "calibration");
    svg_axes_set_labels(cal, "confidence P(reward > median)", "observed fraction");
    svg_axes_set_xlim(cal, 0, 1);
    svg_axes_set_ylim(cal, 0, 1);
    if (rc == CLI_OK) {
        int64_t m = 0;
        for (int64_t i = 0; i < r->n; i++)
            if (!isnan(r->truth[i])) sorted[m++] = r->truth[i];
        qsort(sorted, (size_t)m, sizeof *sorted, cmp_float);
        double median = m ? 0.5 * (sorted[(m - 1) / 2] + sorted[m / 2]) : 0;
        const double diag[2] = {0, 1};
        svg_axes_line(cal, diag, diag, 2, "ideal", 7);
        for (int k = 0; k < 3 && rc == CLI_OK; k++) {
            double conf[10] = {0}, hit[10] = {0}, cnt[10] = {0}, px[10], py[10];
            int np = 0;
            for (int64_t i = 0; i < r->n; i++) {
                if (isnan(r->truth[i])) continue;
                int b = (int)floor(r->confidence[k][i] * 10);
                b = b < 0 ? 0 : b > 9 ? 9 : b;
                conf[b] += r->confidence[k][i], hit[b] += r->truth[i] > median, cnt[b]++;
            }
            for (int b = 0; b < 10; b++)
                if (cnt[b] >= 5) px[np] = conf[b] / cnt[b], py[np++] = hit[b] / cnt[b];
            if (svg_axes_line(cal, px, py, np, title[k], k)) rc = CLI_FAILED;
        }
    }
    /* ERP at the plot channel by tercile of the latent reward, averaged over annotators. */
    svg_axes *erp = svg_figure_axes(fig, 1, 1);
    svg_axes_set_title(erp, "ERP at Pz by latent-reward tercile");
    svg_axes_set_labels(erp, "time after item end (s)", "microvolts");
    const int64_t T = s->n_times;
    const int C = s->n_channels, ch = s->plot_channel < C ? s->plot_channel : 0;
    double *avg = calloc((size_t)(3 * T), sizeof *avg), *t = malloc((size_t)T * sizeof *t);
    double cnt[3] = {0};
    if (!avg || !t) rc = CLI_FAILED;
    if (rc == CLI_OK && sorted) {
        int64_t m = 0;
        for (int64_t i = 0; i <= s->max_item; i++)
            if (!isnan(s->truth[i])) sorted[m++] = (float)s->truth[i];
        qsort(sorted, (size_t)m, sizeof *sorted, cmp_float);
        float lo = m ? sorted[m / 3] : 0, hi = m ? sorted[(2 * m) / 3] : 0;
        for (int k = 0; k < s->n_annotators; k++) {
            const demo_annotator *a = &s->a[k];
            for (int64_t row = 0; a->epochs && row < a->n; row++) {
                double v = a->item[row] >= 0 && a->item[row] <= s->max_item ? s->truth[a->item[row]] : NAN;
                if (isnan(v)) continue;
                int g = v < lo ? 0 : v < hi ? 1 : 2;
                for (int64_t j = 0; j < T; j++) avg[g * T + j] += 1e6 * a->epochs[(row * T + j) * C + ch];
                cnt[g]++;
            }
        }
        static const char *const names[3] = {"low reward", "middle", "high reward"};
        for (int64_t j = 0; j < T; j++) t[j] = s->tmin + (double)j / s->sfreq;
        for (int g = 0; g < 3 && rc == CLI_OK; g++) {
            for (int64_t j = 0; j < T; j++) avg[g * T + j] /= cnt[g] > 0 ? cnt[g] : 1;
            if (svg_axes_line(erp, t, avg + g * T, T, names[g], g)) rc = CLI_FAILED;
        }
        svg_axes_vline(erp, 0, "item end");
    }
    /* Held-out correlation per annotator and mode. */
    svg_axes *per = svg_figure_axes(fig, 1, 2);
    svg_axes_set_title(per, "held-out r per annotator");
    svg_axes_set_labels(per, "annotator", "pearson r with latent reward");
    for (int m = 0; m < 3 && rc == CLI_OK; m++) {
        double out[64 * BTFM_REWARD_N_METRICS], ax[63], ay[63];
        int64_t groups = 0;
        if (s->n_annotators > 63) break;
        if (btfm_reward_metrics(out, 64 * BTFM_REWARD_N_METRICS, &groups, r->reward[m],
                                r->confidence[m], r->truth, r->annotator, r->n)) {
            rc = cli_fail("demo", "--plot");
            break;
        }
        for (int64_t g = 0; g < groups; g++) ax[g] = (double)g + 1, ay[g] = out[(g + 1) * BTFM_REWARD_N_METRICS];
        if (svg_axes_line(per, ax, ay, groups, title[m], m)) rc = CLI_FAILED;
    }
    char err[512];
    if (rc == CLI_OK && svg_figure_save(fig, path, err, sizeof err)) {
        fprintf(stderr, "btfm demo: %s\n", err);
        rc = CLI_FAILED;
    } else if (rc != CLI_OK && rc != CLI_FAILED) {
        rc = CLI_FAILED;
    }
    svg_figure_free(fig);
    free(x), free(y), free(sorted), free(avg), free(t);
    return rc;
}
