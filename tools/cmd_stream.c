/* btfm stream replay: play a recording through a real-time stream, chunk by chunk at the
 * recording's pace or as fast as possible, its events as markers, and print each output
 * row as one JSON object a line: how a neurofeedback setup is tried without an amplifier. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli.h"

enum { MAX_LIST = 256 };

typedef struct replay_config {
    btfm_stream *s;
    btfm_dataset *ds;
    btfm_reward_head *head;
} replay_config;

static int channel_of(const btfm_dataset *ds, const char *name)
{
    for (int c = 0; c < btfm_dataset_n_channels(ds); c++)
        if (strcmp(btfm_dataset_channel_name(ds, c), name) == 0) return c;
    return -1;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r')) *--e = 0;
    return s;
}

/* "Fz, Cz" into channel indices; -1 with a message for an unknown name. */
static int channel_list(const btfm_dataset *ds, char *text, int *out, const char *where)
{
    int n = 0;
    for (char *tok = strtok(text, ","); tok; tok = strtok(NULL, ",")) {
        char *name = trim(tok);
        int c = channel_of(ds, name);
        if (c < 0 || n == MAX_LIST) {
            fprintf(stderr, "btfm stream: %s: no channel '%s' in the recording\n", where, name);
            return -1;
        }
        out[n++] = c;
    }
    return n;
}

/* "4 8, 8 13" into pairs of numbers; -1 when malformed. */
static int pair_list(char *text, double *out)
{
    int n = 0;
    for (char *tok = strtok(text, ","); tok; tok = strtok(NULL, ",")) {
        char *space = strpbrk(trim(tok), " \t");
        if (!space || n == MAX_LIST) return -1;
        *space = 0;
        if (!cli_number(trim(tok), &out[2 * n]) || !cli_number(trim(space + 1), &out[2 * n + 1]))
            return -1;
        n++;
    }
    return n;
}

/* One "name = value" line of a pipeline file. */
static int config_line(replay_config *r, const char *path, int line, char *key, char *value)
{
    int ints[MAX_LIST], n;
    double pairs[2 * MAX_LIST];
    char where[300];
    snprintf(where, sizeof where, "%s:%d", path, line);
    int st = 0;
    if (!strcmp(key, "picks") || !strcmp(key, "frontal") || !strcmp(key, "posterior")) {
        if ((n = channel_list(r->ds, value, ints, where)) < 0) return CLI_USAGE;
        st = !strcmp(key, "picks") ? btfm_stream_set_picks(r->s, ints, n)
             : btfm_stream_set_role(r->s, !strcmp(key, "frontal") ? BTFM_STREAM_ROLE_FRONTAL
                                                                  : BTFM_STREAM_ROLE_POSTERIOR,
                                    ints, n);
    } else if (!strcmp(key, "bands") || !strcmp(key, "erp_windows")) {
        if ((n = pair_list(value, pairs)) < 1)
            return cli_usage_error("stream", "%s: %s takes pairs of numbers, \"4 8, 8 13\"",
                                   where, key);
        st = !strcmp(key, "bands") ? btfm_stream_set_bands(r->s, pairs, n)
                                   : btfm_stream_set_erp_windows(r->s, pairs, n);
    } else if (!strcmp(key, "eog")) {
        int c = channel_of(r->ds, value);
        if (c < 0) return cli_usage_error("stream", "%s: no channel '%s'", where, value);
        st = btfm_stream_set_param(r->s, BTFM_STREAM_PARAM_EOG_CHANNEL, c);
    } else if (!strcmp(key, "reward_head")) {
        btfm_reward_head_free(r->head);
        r->head = NULL;
        if (btfm_reward_head_load(&r->head, value)) return cli_fail("stream", value);
        st = btfm_stream_set_reward_head(r->s, r->head);
    } else {
        char spec[600];
        snprintf(spec, sizeof spec, "%s=%s", key, value);
        int param;
        double v;
        int rc = cli_param_option("stream", BTFM_OBJECT_STREAM, spec, &param, &v);
        if (rc != CLI_OK) return rc;
        st = btfm_stream_set_param(r->s, param, v);
    }
    return st ? cli_fail("stream", where) : CLI_OK;
}

static int read_config(replay_config *r, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "btfm stream: %s: %s\n", path, strerror(errno));
        return CLI_FAILED;
    }
    char buf[4096];
    int rc = CLI_OK;
    for (int line = 1; rc == CLI_OK && fgets(buf, sizeof buf, f); line++) {
        char *hash = strchr(buf, '#');
        if (hash) *hash = 0;
        char *text = trim(buf);
        if (!*text) continue;
        char *eq = strchr(text, '=');
        if (!eq) {
            rc = cli_usage_error("stream", "%s:%d: expected name = value", path, line);
            break;
        }
        *eq = 0;
        rc = config_line(r, path, line, trim(text), trim(eq + 1));
    }
    fclose(f);
    return rc;
}

static void sleep_until(double t)
{
    struct timespec ts = {(time_t)t, (long)((t - floor(t)) * 1e9)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

static double monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Rows as JSON Lines: kind by name, every other column that holds a value. */
static void print_rows(const btfm_stream *s, const double *rows, size_t n, int ncol)
{
    for (size_t r = 0; r < n; r++) {
        const double *row = rows + r * (size_t)ncol;
        printf("{\"kind\": \"%s\"", row[2] == BTFM_STREAM_ROW_EPOCH ? "epoch" : "window");
        for (int c = 0; c < ncol; c++) {
            if (c == 2 || isnan(row[c]) || (row[2] == BTFM_STREAM_ROW_WINDOW && c == 3)) continue;
            printf(", ");
            cli_json_string(stdout, btfm_stream_column_name(s, c));
            printf(": ");
            cli_json_number(stdout, row[c]);
        }
        printf("}\n");
    }
}

static int replay(int argc, char **argv)
{
    const char *path = NULL, *pipeline = NULL;
    int realtime = 0, rc = CLI_OK;
    double chunk_value = 10;
    for (int i = 2; i < argc && rc == CLI_OK; i++) {
        if (!strcmp(argv[i], "--pipeline") && i + 1 < argc) pipeline = argv[++i];
        else if (!strcmp(argv[i], "--realtime")) realtime = 1;
        else if (!strcmp(argv[i], "--chunk")) rc = cli_number_option("stream", argc, argv, &i, &chunk_value);
        else if (argv[i][0] == '-') rc = cli_unknown_option("stream", argv[i]);
        else if (!path) path = argv[i];
        else rc = cli_usage_error("stream", "unexpected argument '%s'", argv[i]);
    }
    if (rc == CLI_OK && !path) rc = cli_usage_error("stream", "replay needs a recording");
    if (rc == CLI_OK && !(chunk_value >= 1 && chunk_value <= 1e6 && chunk_value == floor(chunk_value)))
        rc = cli_usage_error("stream", "--chunk takes a whole number of samples from 1");
    if (rc != CLI_OK) return rc;
    replay_config r = {NULL, NULL, NULL};
    if (cli_open_dataset("stream", path, 0, &r.ds)) return CLI_FAILED;
    const int C = btfm_dataset_n_channels(r.ds);
    const double sfreq = btfm_dataset_sfreq(r.ds);
    const int64_t n_times = btfm_dataset_n_times(r.ds), chunk = (int64_t)chunk_value;
    if (btfm_stream_new(&r.s) || btfm_stream_set_param(r.s, BTFM_STREAM_PARAM_N_CHANNELS, C) ||
        btfm_stream_set_param(r.s, BTFM_STREAM_PARAM_SFREQ, sfreq) ||
        btfm_stream_set_param(r.s, BTFM_STREAM_PARAM_OVERFLOW, BTFM_STREAM_REFUSE))
        rc = cli_fail("stream", NULL);
    /* the default picks: the EEG channels (all channels when none is marked EEG) */
    int *eeg = malloc(sizeof(int) * (size_t)C), n_eeg = 0;
    const char **names = malloc(sizeof(char *) * (size_t)C);
    for (int c = 0; eeg && names && c < C; c++) {
        names[c] = btfm_dataset_channel_name(r.ds, c);
        if (btfm_dataset_channel_type(r.ds, c) == BTFM_CH_EEG) eeg[n_eeg++] = c;
    }
    if (!eeg || !names) rc = CLI_FAILED;
    if (rc == CLI_OK && (btfm_stream_set_channel_names(r.s, names, C) ||
                         (n_eeg && btfm_stream_set_picks(r.s, eeg, n_eeg))))
        rc = cli_fail("stream", NULL);
    if (rc == CLI_OK && pipeline) rc = read_config(&r, pipeline);
    if (rc == CLI_OK && btfm_stream_configure(r.s)) rc = cli_fail("stream", pipeline);
    const int ncol = rc == CLI_OK ? btfm_stream_n_columns(r.s) : 0;
    float *x = rc == CLI_OK ? malloc(sizeof(float) * (size_t)chunk * (size_t)C) : NULL;
    double *rows = rc == CLI_OK ? malloc(sizeof(double) * 64 * (size_t)ncol) : NULL;
    if (rc == CLI_OK && (!x || !rows)) rc = CLI_FAILED;
    const int64_t n_events = btfm_dataset_n_events(r.ds);
    int64_t next_event = 0;
    const double start = monotonic();
    for (int64_t i = 0; rc == CLI_OK && i < n_times; i += chunk) {
        const int64_t len = n_times - i < chunk ? n_times - i : chunk;
        if (btfm_dataset_read(r.ds, i, len, NULL, 0, x)) {
            rc = cli_fail("stream", path);
            break;
        }
        /* events become markers once the replay reaches them, on the sample the offline
         * epochs take (btfm_dataset_epochs: the onset times the rate, rounded) */
        for (; next_event < n_events; next_event++) {
            double onset;
            const char *type, *label;
            int code;
            btfm_dataset_event(r.ds, next_event, &onset, NULL, &type, &label, &code);
            const double at = nearbyint(onset * sfreq);
            if (at >= (double)(i + len)) break;
            if (!strcmp(type, "gap")) continue;
            if (btfm_stream_push_marker_sample(r.s, (int64_t)at, code, label) &&
                btfm_last_error_status() != BTFM_E_RANGE)
                rc = cli_fail("stream", NULL);
        }
        if (realtime) sleep_until(start + (double)(i + len) / sfreq);
        for (;;) {
            int st = btfm_stream_push(r.s, x, len, C, NULL);
            size_t n;
            btfm_stream_pull(r.s, rows, 64, &n);
            print_rows(r.s, rows, n, ncol);
            if (st == BTFM_OK) break;
            if (st != BTFM_E_AGAIN) {
                rc = cli_fail("stream", NULL);
                break;
            }
        }
    }
    for (size_t n = 1; rc == CLI_OK && n;) {
        btfm_stream_pull(r.s, rows, 64, &n);
        print_rows(r.s, rows, n, ncol);
    }
    free(x), free(rows), free(eeg), free(names);
    btfm_stream_free(r.s);
    btfm_reward_head_free(r.head);
    btfm_dataset_free(r.ds);
    return rc;
}

int cmd_stream(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "replay") == 0) return replay(argc, argv);
    return cli_usage_error("stream", "expected replay");
}
