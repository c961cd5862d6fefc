/* btfm psd: Welch (or multitaper) power spectral density of every channel of a recording
 * or of a .npy matrix (time x channels), printed as a table or written as .npy; with
 * --bands, the power in frequency bands instead. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "npy.h"

enum { MAX_BANDS = 64 };

typedef struct psd_options {
    const char *in, *out;
    double sfreq, fmin, fmax;
    long nperseg;
    int window, multitaper, relative, n_bands;
    double bands[2 * MAX_BANDS];
    char band_names[MAX_BANDS][32];
} psd_options;

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int parse_number(const char *text, double *out)
{
    char *end;
    *out = strtod(text, &end);
    return end != text && *end == '\0' && isfinite(*out);
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
    if (!parse_number(lo, &edges[0]) || !parse_number(hi, &edges[1]))
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
            if (!parse_number(argv[++i], &v)) return cli_usage_error("psd", "%s takes a number", a);
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
            for (int w = 0; (known = btfm_window_name(w)) != NULL; w++)
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
        else if (strcmp(a, "--out") == 0 && more) o->out = argv[++i];
        else if (a[0] == '-') return cli_usage_error("psd", "unknown option '%s'", a);
        else if (!o->in) o->in = a;
        else return cli_usage_error("psd", "unexpected argument '%s'", a);
    }
    if (!o->in) return cli_usage_error("psd", "needs an input file");
    if (o->relative && !o->n_bands) return cli_usage_error("psd", "--relative needs --bands or --band");
    if (o->fmin > o->fmax) return cli_usage_error("psd", "--fmin is above --fmax");
    return CLI_OK;
}

/* The input as a time-major float matrix, its sampling rate and channel names. */
static int load(const psd_options *o, float **data, int64_t *n_times, int *n_channels,
                double *sfreq, btfm_dataset **ds)
{
    *ds = NULL;
    if (ends_with(o->in, ".npy")) {
        char err[512];
        int64_t cols;
        if (npy_read_f32(o->in, data, n_times, &cols, err, sizeof err)) {
            fprintf(stderr, "btfm psd: %s\n", err);
            return CLI_FAILED;
        }
        if (!(o->sfreq > 0)) {
            free(*data);
            return cli_usage_error("psd", "a .npy input needs --sfreq HZ");
        }
        *n_channels = (int)cols;
        *sfreq = o->sfreq;
        return CLI_OK;
    }
    if (cli_open_dataset("psd", o->in, 0, ds)) return CLI_FAILED;
    *n_times = btfm_dataset_n_times(*ds);
    *n_channels = btfm_dataset_n_channels(*ds);
    *sfreq = o->sfreq > 0 ? o->sfreq : btfm_dataset_sfreq(*ds);
    *data = malloc(sizeof(float) * (size_t)(*n_times > 0 ? *n_times : 1) * (size_t)*n_channels);
    if (!*data || btfm_dataset_read(*ds, 0, *n_times, NULL, 0, *data)) {
        int rc = *data ? cli_fail(o->in) : (fprintf(stderr, "btfm psd: out of memory\n"), CLI_FAILED);
        free(*data);
        btfm_dataset_free(*ds);
        *ds = NULL;
        return rc;
    }
    return CLI_OK;
}

static void print_header(const char *first, const btfm_dataset *ds, int n_channels)
{
    printf("%s", first);
    for (int c = 0; c < n_channels; c++) {
        if (ds) printf("\t%s", btfm_dataset_channel_name(ds, c));
        else printf("\t%d", c);
    }
    printf("\n");
}

/* Rows first..first+count of a (rows x n_channels) matrix as float32 .npy. */
static int write_npy(const char *path, const double *m, int64_t first, int64_t count,
                     int n_channels)
{
    float *f = malloc(sizeof(float) * (size_t)(count > 0 ? count : 1) * (size_t)n_channels);
    char err[512];
    int rc = CLI_OK;
    if (!f) return fprintf(stderr, "btfm psd: out of memory\n"), CLI_FAILED;
    for (int64_t i = 0; i < count * n_channels; i++) f[i] = (float)m[first * n_channels + i];
    if (npy_write_f32(path, f, count, n_channels, err, sizeof err)) {
        fprintf(stderr, "btfm psd: %s\n", err);
        rc = CLI_FAILED;
    }
    free(f);
    return rc;
}

int cmd_psd(int argc, char **argv)
{
    psd_options o;
    int rc = parse(argc, argv, &o);
    if (rc) return rc;
    float *data = NULL;
    int64_t n_times = 0;
    int n_channels = 0;
    double sfreq = 0.0;
    btfm_dataset *ds = NULL;
    if ((rc = load(&o, &data, &n_times, &n_channels, &sfreq, &ds))) return rc;

    int64_t n_freqs = o.multitaper ? n_times / 2 + 1
                                   : (o.nperseg ? o.nperseg : (n_times < 256 ? n_times : 256)) / 2 + 1;
    if (n_freqs < 1) n_freqs = 1;
    double *psd = malloc(sizeof(double) * (size_t)n_freqs * (size_t)(n_channels > 0 ? n_channels : 1));
    double *freqs = malloc(sizeof(double) * (size_t)n_freqs);
    double *power = malloc(sizeof(double) * (size_t)(o.n_bands ? o.n_bands : 1) * (size_t)(n_channels > 0 ? n_channels : 1));
    btfm_status st = !psd || !freqs || !power ? BTFM_E_NOMEM : BTFM_OK;
    if (!st)
        st = o.multitaper ? btfm_psd_multitaper(data, n_times, n_channels, sfreq, 0.0, 1, 0, NULL,
                                                psd, freqs)
                          : btfm_welch(data, n_times, n_channels, sfreq, o.window, o.nperseg, -1,
                                       0, BTFM_DETREND_CONSTANT, BTFM_SCALING_DENSITY,
                                       BTFM_AVERAGE_MEAN, 0, psd, freqs);
    if (!st && o.n_bands)
        st = btfm_band_power(psd, freqs, n_freqs, n_channels, o.bands, o.n_bands,
                             o.relative ? BTFM_SPECTRUM_RELATIVE : 0, power);
    if (st) {
        rc = st == BTFM_E_NOMEM ? (fprintf(stderr, "btfm psd: out of memory\n"), CLI_FAILED)
                                : cli_fail(o.in);
    } else if (o.n_bands) {
        if (o.out) {
            rc = write_npy(o.out, power, 0, o.n_bands, n_channels);
        } else {
            print_header(o.relative ? "band (relative)" : "band (power)", ds, n_channels);
            for (int b = 0; b < o.n_bands; b++) {
                printf("%s", o.band_names[b]);
                for (int c = 0; c < n_channels; c++) printf("\t%.6g", power[b * n_channels + c]);
                printf("\n");
            }
        }
    } else {
        int64_t first = 0, last = n_freqs - 1;
        while (first < n_freqs && freqs[first] < o.fmin) first++;
        while (last >= 0 && freqs[last] > o.fmax) last--;
        if (o.out) {
            rc = write_npy(o.out, psd, first, last >= first ? last - first + 1 : 0, n_channels);
        } else {
            print_header("freq_hz", ds, n_channels);
            for (int64_t f = first; f <= last; f++) {
                printf("%g", freqs[f]);
                for (int c = 0; c < n_channels; c++) printf("\t%.6g", psd[f * n_channels + c]);
                printf("\n");
            }
        }
    }
    free(psd);
    free(freqs);
    free(power);
    free(data);
    btfm_dataset_free(ds);
    return rc;
}
