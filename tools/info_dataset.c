/* btfm info on a recording: header, channels and a summary of the events (how many of
 * each type and label), as text or JSON. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli.h"

typedef struct event_key {
    const char *type, *label;
} event_key;

static int compare_keys(const void *a, const void *b)
{
    const event_key *x = a, *y = b;
    int c = strcmp(x->type, y->type);
    return c ? c : strcmp(x->label, y->label);
}

/* The events sorted by (type, label), so equal ones are adjacent; NULL if none or no
 * memory (the summary is then left out, with a note). */
static event_key *sorted_events(const btfm_dataset *ds, int64_t n)
{
    if (n <= 0) return NULL;
    event_key *keys = malloc((size_t)n * sizeof *keys);
    if (!keys) return NULL;
    for (int64_t i = 0; i < n; i++)
        btfm_dataset_event(ds, i, NULL, NULL, &keys[i].type, &keys[i].label, NULL);
    qsort(keys, (size_t)n, sizeof *keys, compare_keys);
    return keys;
}

static void print_start(const btfm_dataset *ds, int json)
{
    double t;
    if (btfm_dataset_start_time(ds, &t) != BTFM_OK) {
        if (json) printf("null");
        return;
    }
    time_t whole = (time_t)t;
    if ((double)whole > t) whole--; /* floor for dates before 1970 */
    struct tm tm;
    char text[64];
    gmtime_r(&whole, &tm);
    strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
    double fraction = t - (double)whole;
    if (json) printf("\"%s", text);
    else printf("  start:      %s", text);
    if (fraction > 0) printf(".%07.0f", fraction * 1e7);
    printf(json ? "\"" : "\n");
}

static void print_channels(const btfm_dataset *ds, int json)
{
    int n = btfm_dataset_n_channels(ds);
    if (!json) printf("  channels:\n");
    for (int ch = 0; ch < n; ch++) {
        const char *name = btfm_dataset_channel_name(ds, ch);
        const char *type = btfm_channel_type_name(btfm_dataset_channel_type(ds, ch));
        const char *unit = btfm_dataset_channel_unit(ds, ch);
        double rate = btfm_dataset_channel_rate(ds, ch);
        int bad = btfm_dataset_channel_bad(ds, ch) == 1;
        if (json) {
            printf("%s{\"name\": ", ch ? ", " : "");
            cli_json_string(stdout, name);
            printf(", \"type\": \"%s\", \"unit\": ", type);
            cli_json_string(stdout, unit);
            printf(", \"rate\": ");
            cli_json_number(stdout, rate);
            printf(", \"n_samples\": %lld, \"bad\": %s",
                   (long long)btfm_dataset_channel_n_samples(ds, ch), bad ? "true" : "false");
            double xyz[3];
            if (btfm_dataset_channel_position(ds, ch, xyz) == BTFM_OK)
                for (int k = 0; k < 3; k++) {
                    printf(k ? ", " : ", \"position\": [");
                    cli_json_number(stdout, xyz[k]);
                    printf(k == 2 ? "]" : "");
                }
            printf("}");
        } else {
            printf("    %3d %-16s %-6s %-4s %g Hz%s\n", ch + 1, name, type, unit, rate,
                   bad ? " (bad)" : "");
        }
    }
}

static void print_events(const btfm_dataset *ds, int json)
{
    int64_t n = btfm_dataset_n_events(ds);
    event_key *keys = sorted_events(ds, n);
    if (json) printf("{\"count\": %lld, \"summary\": [", (long long)n);
    else printf("  events:     %lld\n", (long long)n);
    if (n > 0 && !keys && !json) printf("    (no memory for the summary)\n");
    int first = 1;
    for (int64_t i = 0; keys && i < n;) {
        int64_t j = i;
        while (j < n && compare_keys(&keys[i], &keys[j]) == 0) j++;
        if (json) {
            printf("%s{\"type\": ", first ? "" : ", ");
            cli_json_string(stdout, keys[i].type);
            printf(", \"label\": ");
            cli_json_string(stdout, keys[i].label);
            printf(", \"count\": %lld}", (long long)(j - i));
        } else {
            printf("    %-10s %-24s x %lld\n", keys[i].type, keys[i].label, (long long)(j - i));
        }
        first = 0;
        i = j;
    }
    if (json) printf("]}");
    free(keys);
}

/* Geometry of a volume dataset; 0 when the dataset is not a volume. */
static int print_volume(const btfm_dataset *ds, int json)
{
    int64_t shape[4];
    double affine[16], zooms[4];
    if (btfm_dataset_volume_shape(ds, shape) != BTFM_OK) return 0;
    btfm_dataset_volume_affine(ds, affine);
    btfm_dataset_volume_zooms(ds, zooms);
    const char *mask = btfm_mask_kind_name(btfm_dataset_mask_kind(ds));
    const char *order = btfm_voxel_order_name(btfm_dataset_voxel_order(ds));
    if (!order) order = "F";
    if (json) {
        printf(", \"volume\": {\"shape\": [%lld, %lld, %lld, %lld], \"zooms\": [", (long long)shape[0],
               (long long)shape[1], (long long)shape[2], (long long)shape[3]);
        for (int i = 0; i < 4; i++) {
            printf(i ? ", " : "");
            cli_json_number(stdout, zooms[i]);
        }
        printf("], \"affine\": [");
        for (int i = 0; i < 16; i++) {
            printf(i ? ", " : "");
            cli_json_number(stdout, affine[i]);
        }
        printf("], \"mask\": \"%s\", \"voxel_order\": \"%s\"}", mask, order);
        return 1;
    }
    printf("  volume:     %lld x %lld x %lld voxels x %lld volumes, voxels %g x %g x %g mm, "
           "TR %g s\n", (long long)shape[0], (long long)shape[1], (long long)shape[2],
           (long long)shape[3], zooms[0], zooms[1], zooms[2], zooms[3]);
    for (int r = 0; r < 3; r++)
        printf("  %s [%10.4f %10.4f %10.4f %10.4f]\n", r ? "          " : "affine:   ",
               affine[4 * r], affine[4 * r + 1], affine[4 * r + 2], affine[4 * r + 3]);
    printf("  mask:       %s (%d channels)\n", mask, btfm_dataset_n_channels(ds));
    /* Which voxel is which column: the silent transpose a nibabel user would meet. */
    if (order[0] == 'C')
        printf("  voxel order: C (z fastest): columns in the order of nibabel's "
               "img.get_fdata()[mask]\n");
    else
        printf("  voxel order: F (x fastest, the file's order): column k is voxel "
               "x + nx*(y + ny*z); nibabel's img.get_fdata()[mask] is in C order "
               "(voxel_order=\"C\" in Python)\n");
    return 1;
}

/* fNIRS recordings: source-detector pairs, wavelengths, short channels (< 1 cm). */
static void print_nirs(const btfm_dataset *ds, int json)
{
    int n = btfm_dataset_n_channels(ds), n_nirs = 0, n_short = 0, n_pairs = 0, n_wl = 0;
    double wavelengths[16];
    int *seen = calloc((size_t)(n > 0 ? n : 1), 2 * sizeof *seen);
    unsigned char *is_short = calloc((size_t)(n > 0 ? n : 1), 1);
    if (!seen || !is_short || btfm_dataset_short_channels(ds, 0.01, is_short)) n = 0;
    for (int c = 0; c < n; c++) {
        int s, d, known = 0;
        double w;
        if (btfm_dataset_nirs_channel(ds, c, &s, &d, &w, NULL, NULL)) continue;
        n_nirs++;
        n_short += is_short[c];
        for (int k = 0; k < n_pairs && !known; k++) known = seen[2 * k] == s && seen[2 * k + 1] == d;
        if (!known) {
            seen[2 * n_pairs] = s;
            seen[2 * n_pairs++ + 1] = d;
        }
        known = isnan(w);
        for (int k = 0; k < n_wl && !known; k++) known = wavelengths[k] == w;
        if (!known && n_wl < 16) wavelengths[n_wl++] = w;
    }
    free(seen);
    free(is_short);
    if (!n_nirs) return;
    if (json) {
        printf(", \"fnirs\": {\"pairs\": %d, \"short_channels\": %d, \"coordinate_frame\": ",
               n_pairs, n_short);
        cli_json_string(stdout, btfm_dataset_coordinate_frame(ds));
        printf(", \"wavelengths\": [");
        for (int k = 0; k < n_wl; k++) {
            printf(k ? ", " : "");
            cli_json_number(stdout, wavelengths[k]);
        }
        printf("]}");
        return;
    }
    printf("  fnirs:      %d source-detector pairs, wavelengths", n_pairs);
    for (int k = 0; k < n_wl; k++) printf(" %g", wavelengths[k]);
    printf("%s, %d short channels (< 1 cm), positions in frame \"%s\"\n", n_wl ? " nm" : " none",
           n_short, btfm_dataset_coordinate_frame(ds));
}

/* Whether a free-text identification field says more than EDF+'s "unknown" (X) and
 * the "Startdate dd-MMM-yyyy" of the recording field. */
static int identifies(const char *field)
{
    char copy[256];
    snprintf(copy, sizeof copy, "%s", field ? field : "");
    for (char *save = NULL, *tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        if (strcmp(tok, "X") == 0 || strcmp(tok, "Startdate") == 0) continue;
        if (strlen(tok) == 11 && tok[2] == '-' && tok[6] == '-') continue; /* the date */
        return 1;
    }
    return 0;
}

/* The identifying fields of a recording: the subject and recording texts, and a start
 * date other than the 1985-01-01 that de-identification (btfm anonymize) sets. */
static void print_identifying(const btfm_dataset *ds, int json)
{
    const char *found[3];
    int n = 0;
    double start;
    if (identifies(btfm_dataset_subject(ds))) found[n++] = "subject";
    if (identifies(btfm_dataset_recording(ds))) found[n++] = "recording";
    if (btfm_dataset_start_time(ds, &start) == BTFM_OK) {
        double day = floor(start / 86400.0);
        if (day != 5479.0) found[n++] = "start_date"; /* days from 1970-01-01 to 1985-01-01 */
    }
    if (json) {
        printf(", \"identifying\": [");
        for (int i = 0; i < n; i++) printf("%s\"%s\"", i ? ", " : "", found[i]);
        printf("]");
        return;
    }
    if (!n) return;
    printf("  identifying:");
    for (int i = 0; i < n; i++) printf("%s %s", i ? "," : "", found[i]);
    printf(" (btfm anonymize writes a de-identified copy)\n");
}

void cli_info_dataset(const char *path, const btfm_dataset *ds, int json)
{
    int64_t shape[4];
    int volume = btfm_dataset_volume_shape(ds, shape) == BTFM_OK;
    const char *format = btfm_format_name(btfm_dataset_format(ds));
    int64_t n_times = btfm_dataset_n_times(ds);
    double sfreq = btfm_dataset_sfreq(ds);
    int n_channels = btfm_dataset_n_channels(ds);
    if (json) {
        printf("{\"file\": ");
        cli_json_string(stdout, path);
        printf(", \"type\": \"dataset\", \"format\": \"%s\", \"sfreq\": ", format);
        cli_json_number(stdout, sfreq);
        printf(", \"n_times\": %lld, \"n_channels\": %d, \"duration_s\": ", (long long)n_times,
               n_channels);
        cli_json_number(stdout, sfreq > 0 ? (double)n_times / sfreq : 0.0);
        printf(", \"n_records\": %lld, \"start_time\": ", (long long)btfm_dataset_n_records(ds));
        print_start(ds, 1);
        printf(", \"subject\": ");
        cli_json_string(stdout, btfm_dataset_subject(ds));
        printf(", \"recording\": ");
        cli_json_string(stdout, btfm_dataset_recording(ds));
        print_identifying(ds, 1);
        print_volume(ds, 1);
        print_nirs(ds, 1);
        printf(", \"channels\": [");
        if (!volume) print_channels(ds, 1); /* voxels are described by the volume */
        printf("], \"events\": ");
        print_events(ds, 1);
        printf(", \"metadata\": %s}\n", btfm_dataset_metadata(ds));
        return;
    }
    printf("%s: %s recording, %d channels x %lld samples at %g Hz (%g s)\n", path, format,
           n_channels, (long long)n_times, sfreq, sfreq > 0 ? (double)n_times / sfreq : 0.0);
    print_start(ds, 0);
    printf("  subject:    %s\n  recording:  %s\n  records:    %lld\n",
           btfm_dataset_subject(ds), btfm_dataset_recording(ds),
           (long long)btfm_dataset_n_records(ds));
    print_identifying(ds, 0);
    if (btfm_dataset_format(ds) == BTFM_FORMAT_FIF) cli_info_fif(ds);
    print_nirs(ds, 0);
    if (!print_volume(ds, 0)) print_channels(ds, 0);
    print_events(ds, 0);
}
