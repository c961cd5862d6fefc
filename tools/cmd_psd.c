/* btfm psd: Welch (or multitaper) power spectral density of every channel of a recording
 * or of a .npy array (time x channels, one channel, or epochs x times x channels), printed
 * as a table, written as .npy or drawn as SVG; with --bands, the power in frequency bands
 * instead. Epochs get a spectrum each, or their mean with --average. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "npy.h"
#include "svg_plot.h"

enum { MAX_BANDS = 64 };

typedef struct psd_options {
    const char *in, *out, *plot;
    double sfreq, fmin, fmax;
    long nperseg;
    int window, multitaper, relative, average, n_bands;
    double bands[2 * MAX_BANDS];
    char band_names[MAX_BANDS][32];
} psd_options;

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* --band NAME (a named band) or LO:HI (Hz) */
static int add_band(psd_options *o, const char *spec)
{
    if (o->n_bands == MAX_BANDS) return cli_usage_error("psd", "at most %d bands", MAX_BANDS);
    double *edges = o->bands + 2 * o->n_bands;
    const char *name;
    for (int b = 0; (name = btfm_band_name(b)) != NULL; b++)
        if (strcmp(name, spec) == 0) {
            btfm_band_edges(b, &edges[0], &edges[1]);
            snprintf(o->band_names[o->n_bands++], 32, "%s", name);
            return CLI_OK;
        }
    char lo[32], hi[32];
    const char *colon = strchr(spec, ':');
    if (!colon || (size_t)(colon - spec) >= sizeof lo || strlen(colon + 1) >= sizeof hi)
        return cli_usage_error("psd", "--band takes a name (delta, theta, alpha, beta, gamma) "
                               "or LO:HI in Hz, got '%s'", spec);
    memcpy(lo, spec, (size_t)(colon - spec));
    lo[colon - spec] = '\0';
    strcpy(hi, colon + 1);
    if (!cli_number(lo, &edges[0]) || !cli_number(hi, &edges[1]))
        return cli_usage_error("psd", "--band %s: expected numbers LO:HI", spec);
    snprintf(o->band_names[o->n_bands++], 32, "%g-%g", edges[0], edges[1]);
    return CLI_OK;
}

static int parse(int argc, char **argv, psd_options *o)
{
    memset(o, 0, sizeof *o);
    o->fmax = INFINITY;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        double v;
        if ((strcmp(a, "--fmin") == 0 || strcmp(a, "--fmax") == 0 || strcmp(a, "--sfreq") == 0)
            && more) {
            if (!cli_number(argv[++i], &v)) return cli_usage_error("psd", "%s takes a number", a);
            if (strcmp(a, "--sfreq") == 0) o->sfreq = v;
            else if (strcmp(a, "--fmin") == 0) o->fmin = v;
            else o->fmax = v;
        } else if (strcmp(a, "--nperseg") == 0 && more) {
            char *end;
            o->nperseg = strtol(argv[++i], &end, 10);
            if (*end || o->nperseg < 1) return cli_usage_error("psd", "--nperseg takes a count >= 1");
        } else if (strcmp(a, "--window") == 0 && more) {
            const char *name = argv[++i], *known;
            o->window = -1;
            /* the windows without a shape parameter (Kaiser needs a beta) */
            for (int w = 0; w < BTFM_WINDOW_KAISER && (known = btfm_window_name(w)); w++)
                if (strcmp(known, name) == 0) o->window = w;
            if (o->window < 0)
                return cli_usage_error("psd", "unknown window '%s' (hann, hamming, blackman, "
                                       "boxcar)", name);
        } else if (strcmp(a, "--bands") == 0) {
            for (int b = 0; btfm_band_name(b); b++)
                if (add_band(o, btfm_band_name(b))) return CLI_USAGE;
        } else if (strcmp(a, "--band") == 0 && more) {
            if (add_band(o, argv[++i])) return CLI_USAGE;
        } else if (strcmp(a, "--relative") == 0) o->relative = 1;
        else if (strcmp(a, "--multitaper") == 0) o->multitaper = 1;
        else if (strcmp(a, "--average") == 0) o->average = 1;
        else if (strcmp(a, "--out") == 0 && more) o->out = argv[++i];
        else if (strcmp(a, "--plot") == 0 && more) o->plot = argv[++i];
        else if (a[0] == '-') return cli_unknown_option("psd", a);
        else if (!o->in) o->in = a;
        else return cli_usage_error("psd", "unexpected argument '%s'", a);
    }
    if (!o->in) return cli_usage_error("psd", "needs an input file");
    if (o->relative && !o->n_bands) return cli_usage_error("psd", "--relative needs --bands or --band");
    if (o->fmin > o->fmax) return cli_usage_error("psd", "--fmin is above --fmax");
    if (o->plot && o->n_bands)
        return cli_usage_error("psd", "--plot draws spectra; it does not combine with --bands");
    return CLI_OK;
}

/* The input as n_epochs time-major float matrices (1 for a recording or a 2-D or 1-D
 * array), its sampling rate and channel names. */
static int load(const psd_options *o, float **data, int64_t *n_epochs, int64_t *n_times,
                int *n_channels, double *sfreq, int *epochs_axis, btfm_dataset **ds)
{
    *ds = NULL;
    *n_epochs = 1;
    *epochs_axis = 0;
    if (ends_with(o->in, ".npy")) {
        char err[512];
        int64_t shape[NPY_MAX_NDIM];
        int ndim;
        if (npy_read_f32_nd(o->in, data, shape, &ndim, err, sizeof err)) {
            fprintf(stderr, "btfm psd: %s\n", err);
            return CLI_FAILED;
        }
        int64_t channels = ndim == 1 ? 1 : shape[ndim - 1];
        if (ndim < 1 || ndim > 3 || shape[ndim == 3] < 1 || channels < 1 || channels > INT32_MAX) {
            char shown[160];
            npy_shape_text(shape, ndim, shown, sizeof shown);
            free(*data);
            fprintf(stderr, "btfm psd: %s: shape %s; expected (times,), (times, channels) or "
                    "(epochs, times, channels)\n", o->in, shown);
            return CLI_FAILED;
        }
        if (!(o->sfreq > 0)) {
            free(*data);
            return cli_usage_error("psd", "a .npy input needs --sfreq HZ");
        }
        *n_epochs = ndim == 3 ? shape[0] : 1;
        *epochs_axis = ndim == 3;
        *n_times = shape[ndim == 3];
        *n_channels = (int)channels;
        *sfreq = o->sfreq;
        return CLI_OK;
    }
    if (cli_open_dataset("psd", o->in, 0, ds)) return CLI_FAILED;
    *n_times = btfm_dataset_n_times(*ds);
    *n_channels = btfm_dataset_n_channels(*ds);
    *sfreq = o->sfreq > 0 ? o->sfreq : btfm_dataset_sfreq(*ds);
    *data = cli_malloc_large(sizeof(float) * (size_t)(*n_times > 0 ? *n_times : 1) * (size_t)*n_channels);
    if (!*data || btfm_dataset_read(*ds, 0, *n_times, NULL, 0, *data)) {
        int rc = *data ? cli_fail("psd", o->in) : (fprintf(stderr, "btfm psd: out of memory\n"), CLI_FAILED);
        free(*data);
        btfm_dataset_free(*ds);
        *ds = NULL;
        return rc;
    }
    return CLI_OK;
}

static void print_header(const char *first, int epochs, const btfm_dataset *ds, int n_channels)
{
    printf("%s%s", epochs ? "epoch\t" : "", first);
    for (int c = 0; c < n_channels; c++) {
        if (ds) printf("\t%s", btfm_dataset_channel_name(ds, c));
        else printf("\t%d", c);
    }
    printf("\n");
}

/* n_epochs x rows x n_channels values as float32 .npy: 2-D when there is one matrix and
 * the input had no epochs axis, else 3-D. */
static int write_npy(const char *path, const double *m, int64_t n_epochs, int64_t rows,
                     int n_channels, int epochs_axis)
{
    size_t count = (size_t)(n_epochs * rows) * (size_t)n_channels;
    float *f = malloc(sizeof(float) * (count ? count : 1));
    char err[512];
    int rc = CLI_OK;
    if (!f) return fprintf(stderr, "btfm psd: out of memory\n"), CLI_FAILED;
    for (size_t i = 0; i < count; i++) f[i] = (float)m[i];
    int64_t shape[3] = {n_epochs, rows, n_channels};
    if (npy_write_f32_nd(path, f, epochs_axis ? shape : shape + 1, epochs_axis ? 3 : 2, err,
                         sizeof err)) {
        fprintf(stderr, "btfm psd: %s\n", err);
        rc = CLI_FAILED;
    }
    free(f);
    return rc;
}

/* The spectra (mean over epochs when there are several) as an SVG line plot, one line a
 * channel, log power over frequency. */
static int plot(const psd_options *o, const double *psd, const double *freqs, int64_t rows,
                int n_epochs, int n_channels, const btfm_dataset *ds)
{
    char title[600], err[600];
    snprintf(title, sizeof title, "%s: %s%s", o->in, o->multitaper ? "multitaper PSD" : "Welch PSD",
             n_epochs > 1 ? " (mean over epochs)" : "");
    svg_figure *fig = svg_figure_new(1, 1, 900, 520, title);
    double *y = malloc(sizeof(double) * (size_t)(rows > 0 ? rows : 1));
    int rc = fig && y ? CLI_OK : CLI_FAILED;
    svg_axes *ax = fig ? svg_figure_axes(fig, 0, 0) : NULL;
    if (ax) {
        /* the unit of the channels when they share one (recordings are in SI units) */
        const char *unit = ds && n_channels > 0 ? btfm_dataset_channel_unit(ds, 0) : NULL;
        for (int c = 1; unit && c < n_channels; c++)
            if (strcmp(unit, btfm_dataset_channel_unit(ds, c)) != 0) unit = NULL;
        char ylabel[64];
        snprintf(ylabel, sizeof ylabel, "power spectral density (%s%s/Hz)", unit && *unit ? unit : "unit",
                 "^2");
        svg_axes_set_labels(ax, "frequency (Hz)", ylabel);
        svg_axes_set_ylog(ax, 1);
    }
    for (int c = 0; rc == CLI_OK && c < n_channels; c++) {
        for (int64_t f = 0; f < rows; f++) {
            double sum = 0;
            for (int e = 0; e < n_epochs; e++) sum += psd[((int64_t)e * rows + f) * n_channels + c];
            y[f] = sum / n_epochs;
        }
        char name[32];
        snprintf(name, sizeof name, "%d", c);
        if (svg_axes_line(ax, freqs, y, rows, ds ? btfm_dataset_channel_name(ds, c) : name, -1))
            rc = CLI_FAILED;
    }
    if (rc == CLI_OK && svg_figure_save(fig, o->plot, err, sizeof err)) {
        fprintf(stderr, "btfm psd: %s\n", err);
        rc = CLI_FAILED;
    } else if (rc != CLI_OK) {
        fprintf(stderr, "btfm psd: out of memory for the plot\n");
    }
    free(y);
    svg_figure_free(fig);
    return rc;
}

int cmd_psd(int argc, char **argv)
{
    psd_options o;
    int rc = parse(argc, argv, &o);
    if (rc) return rc;
    float *data = NULL;
    int64_t n_epochs = 1, n_times = 0;
    int n_channels = 0;
    double sfreq = 0.0;
    btfm_dataset *ds = NULL;
    int epochs_axis;
    if ((rc = load(&o, &data, &n_epochs, &n_times, &n_channels, &sfreq, &epochs_axis, &ds)))
        return rc;

    /* One Welch plan serves every epoch. */
    btfm_welch_plan *plan = NULL;
    btfm_status st = o.multitaper ? BTFM_OK : btfm_welch_plan_new(&plan);
    if (!st) st = o.multitaper ? BTFM_OK : btfm_welch_plan_set_param(plan, BTFM_WELCH_PARAM_WINDOW,
                                                                      o.window);
    if (!st) st = o.multitaper ? BTFM_OK : btfm_welch_plan_set_param(plan, BTFM_WELCH_PARAM_NPERSEG,
                                                                      (double)o.nperseg);
    int64_t n_freqs = o.multitaper ? n_times / 2 + 1 : plan ? btfm_welch_plan_n_freqs(plan, n_times) : 1;
    if (n_freqs < 1) n_freqs = 1;
    size_t per = (size_t)n_freqs * (size_t)(n_channels > 0 ? n_channels : 1);
    size_t per_band = (size_t)(o.n_bands ? o.n_bands : 1) * (size_t)(n_channels > 0 ? n_channels : 1);
    double *psd = malloc(sizeof(double) * per * (size_t)n_epochs);
    double *freqs = malloc(sizeof(double) * (size_t)n_freqs);
    double *power = malloc(sizeof(double) * per_band * (size_t)n_epochs);
    if (!st && (!psd || !freqs || !power)) st = BTFM_E_NOMEM;
    for (int64_t e = 0; !st && e < n_epochs; e++) {
        const float *x = data + (size_t)(e * n_times) * (size_t)n_channels;
        double *out = psd + per * (size_t)e;
        st = o.multitaper ? btfm_psd_multitaper(x, n_times, n_channels, sfreq, 0.0, 1, 0, NULL,
                                                out, freqs)
                          : btfm_welch_plan_run(plan, out, freqs, x, n_times, n_channels, sfreq);
        if (!st && o.n_bands)
            st = btfm_band_power(out, freqs, n_freqs, n_channels, o.bands, o.n_bands,
                                 o.relative ? BTFM_SPECTRUM_RELATIVE : 0,
                                 power + per_band * (size_t)e);
    }
    /* Rows to show: the bands, or the frequencies in [fmin, fmax], packed per epoch. */
    int64_t first = 0, rows = o.n_bands;
    double *result = o.n_bands ? power : psd;
    if (!st && !o.n_bands) {
        int64_t last = n_freqs - 1;
        while (first < n_freqs && freqs[first] < o.fmin) first++;
        while (last >= 0 && freqs[last] > o.fmax) last--;
        rows = last >= first ? last - first + 1 : 0;
        for (int64_t e = 0; e < n_epochs; e++)
            memmove(psd + (size_t)(e * rows) * (size_t)n_channels,
                    psd + per * (size_t)e + (size_t)first * (size_t)n_channels,
                    sizeof(double) * (size_t)rows * (size_t)n_channels);
    }
    if (!st && o.average && epochs_axis) { /* the mean over epochs, into the first */
        for (int64_t i = 0; i < rows * n_channels; i++) {
            double sum = 0;
            for (int64_t e = 0; e < n_epochs; e++) sum += result[e * rows * n_channels + i];
            result[i] = sum / (double)n_epochs;
        }
        n_epochs = 1;
        epochs_axis = 0;
    }
    if (st) {
        rc = st == BTFM_E_NOMEM ? (fprintf(stderr, "btfm psd: out of memory\n"), CLI_FAILED)
                                : cli_fail("psd", o.in);
    } else {
        if (o.out) rc = write_npy(o.out, result, n_epochs, rows, n_channels, epochs_axis);
        if (o.plot && rc == CLI_OK)
            rc = plot(&o, result, freqs + first, rows, (int)n_epochs, n_channels, ds);
        if (!o.out && !o.plot) {
            print_header(o.n_bands ? (o.relative ? "band (relative)" : "band (power)") : "freq_hz",
                         epochs_axis, ds, n_channels);
            for (int64_t e = 0; e < n_epochs; e++)
                for (int64_t r = 0; r < rows; r++) {
                    if (epochs_axis) printf("%lld\t", (long long)e);
                    if (o.n_bands) printf("%s", o.band_names[r]);
                    else printf("%g", freqs[first + r]);
                    for (int c = 0; c < n_channels; c++)
                        printf("\t%.6g", result[(e * rows + r) * n_channels + c]);
                    printf("\n");
                }
        }
    }
    btfm_welch_plan_free(plan);
    free(psd);
    free(freqs);
    free(power);
    free(data);
    btfm_dataset_free(ds);
    return rc;
}
