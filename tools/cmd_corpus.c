/* btfm corpus: build a training corpus from a BIDS folder or files (with a progress bar and
 * the failures listed), describe one, and count its windows per split
 * (include/btfm/corpus.h, doc/corpus.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli.h"

static const char *const text_options[][2] = {
    {"--query", "query"},           {"--channel-types", "channel_types"},
    {"--keep-annotations", "keep_annotations"}, {"--label-column", "label_column"},
    {"--mask", "mask"},             {"--atlas", "atlas"},
};
#define N_TEXT (int)(sizeof text_options / sizeof text_options[0])

static int read_key(const char *path, char *key, size_t cap, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "btfm corpus build: cannot read the key file %s\n", path);
        return CLI_FAILED;
    }
    *len = fread(key, 1, cap, f);
    fclose(f);
    while (*len && (key[*len - 1] == '\n' || key[*len - 1] == '\r')) (*len)--;
    return CLI_OK;
}

static int is_folder(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int build(int argc, char **argv)
{
    btfm_corpus_builder *b = NULL;
    if (btfm_corpus_builder_new(&b)) return cli_fail("corpus build", NULL);
    char key[1024];
    size_t key_len = 0;
    const char *positional[4096];
    int n_pos = 0, rc = CLI_OK, json = 0;
    for (int i = 2; i < argc && rc == CLI_OK; i++) {
        const char *a = argv[i];
        int matched = 0;
        for (int t = 0; t < N_TEXT && !matched; t++) {
            if (strcmp(a, text_options[t][0]) != 0) continue;
            matched = 1;
            if (i + 1 >= argc) rc = cli_usage_error("corpus", "%s needs a value", a);
            else if (btfm_corpus_builder_set_text(b, text_options[t][1], argv[++i]))
                rc = cli_fail("corpus build", NULL);
        }
        if (matched) continue;
        if (strcmp(a, "--param") == 0) {
            int param;
            double value;
            if (i + 1 >= argc) rc = cli_usage_error("corpus", "--param needs NAME=VALUE");
            else if ((rc = cli_param_option("corpus", BTFM_OBJECT_CORPUS, argv[++i], &param, &value)) == CLI_OK &&
                     btfm_corpus_builder_set_param(b, param, value))
                rc = cli_fail("corpus build", NULL);
        } else if (strcmp(a, "--key-file") == 0 && i + 1 < argc) {
            rc = read_key(argv[++i], key, sizeof key, &key_len);
        } else if (strcmp(a, "--key") == 0 && i + 1 < argc) {
            key_len = strlen(argv[++i]);
            if (key_len > sizeof key) key_len = sizeof key;
            memcpy(key, argv[i], key_len);
        } else if (strcmp(a, "--json") == 0) {
            json = 1;
        } else if (a[0] == '-' && a[1] == '-') {
            rc = cli_unknown_option("corpus", a);
        } else if (n_pos < (int)(sizeof positional / sizeof positional[0])) {
            positional[n_pos++] = a;
        }
    }
    if (rc == CLI_OK && n_pos < 2)
        rc = cli_usage_error("corpus", "build needs a BIDS folder (or files) and an output folder");
    if (rc == CLI_OK && key_len == 0) {
        const char *env = getenv("BTFM_CORPUS_KEY");
        if (env && *env) {
            key_len = strlen(env) < sizeof key ? strlen(env) : sizeof key;
            memcpy(key, env, key_len);
        } else {
            rc = cli_usage_error("corpus", "build needs a pseudonymization key: --key-file FILE, "
                                 "--key TEXT or the environment variable BTFM_CORPUS_KEY");
        }
    }
    if (rc == CLI_OK && btfm_corpus_builder_set_key(b, key, key_len)) rc = cli_fail("corpus build", NULL);
    const char *out = n_pos > 0 ? positional[n_pos - 1] : NULL, *source = NULL;
    if (rc == CLI_OK && n_pos == 2 && is_folder(positional[0])) source = positional[0];
    for (int i = 0; rc == CLI_OK && !source && i < n_pos - 1; i++)
        if (btfm_corpus_builder_add_file(b, positional[i])) rc = cli_fail("corpus build", NULL);
    int64_t built = 0, failed = 0;
    /* Under mpirun the ranks divide the recordings and rank 0 merges the index. */
    int rank, size;
    cli_mpi_begin(&rank, &size);
    if (cli_mpi_failed(rc != CLI_OK) && rc == CLI_OK) /* another rank said why */
        rc = CLI_FAILED;
    if (rc == CLI_OK) {
        cli_progress bar; /* rank 0's, on its standard error */
        cli_progress_init(&bar);
        if (rank == 0) btfm_corpus_builder_set_progress(b, cli_progress_fn, &bar);
        btfm_status st = cli_mpi_build(b, source, out, &built, &failed);
        cli_progress_finish(&bar);
        if (st) rc = cli_fail("corpus build", NULL);
    }
    cli_mpi_end();
    btfm_corpus_builder_free(b);
    memset(key, 0, sizeof key);
    if (rc != CLI_OK || rank != 0) return rc;
    if (json)
        printf("{\"built\": %lld, \"failed\": %lld, \"corpus\": ", (long long)built, (long long)failed),
            cli_json_string(stdout, out), printf("}\n");
    else
        printf("%s: %lld recordings built, %lld failed%s\n", out, (long long)built,
               (long long)failed, failed ? " (reasons under \"failed\" in index.json)" : "");
    return CLI_OK;
}

static int open_loader(const char *dir, btfm_loader **l)
{
    if (btfm_loader_new(l, dir)) return cli_fail("corpus", NULL);
    return CLI_OK;
}

static int info(int argc, char **argv)
{
    int json = argc > 3 && strcmp(argv[3], "--json") == 0;
    if (argc < 3 || argc > 4 || (argc == 4 && !json))
        return cli_usage_error("corpus", "info takes OUT_DIR [--json]");
    btfm_loader *l;
    if (open_loader(argv[2], &l)) return CLI_FAILED;
    int64_t n = btfm_loader_n_recordings(l), samples = 0;
    double sfreq = btfm_loader_sfreq(l);
    for (int64_t i = 0; i < n; i++) {
        int64_t t;
        btfm_loader_recording(l, i, NULL, &t, NULL);
        samples += t;
    }
    if (json) {
        printf("{\"recordings\": %lld, \"sfreq\": ", (long long)n);
        cli_json_number(stdout, sfreq);
        printf(", \"hours\": ");
        cli_json_number(stdout, (double)samples / sfreq / 3600.0);
        printf(", \"max_channels\": %d, \"channel_names\": [", btfm_loader_n_channels(l));
        for (int c = 0; c < btfm_loader_n_channel_names(l); c++) {
            if (c) printf(", ");
            cli_json_string(stdout, btfm_loader_channel_name(l, c));
        }
        printf("], \"ids\": [");
        for (int64_t i = 0; i < n; i++) {
            const char *id;
            btfm_loader_recording(l, i, &id, NULL, NULL);
            if (i) printf(", ");
            cli_json_string(stdout, id);
        }
        printf("]}\n");
    } else {
        printf("corpus %s: %lld recordings, %.3f h at %g Hz, up to %d channels (%d names)\n",
               argv[2], (long long)n, (double)samples / sfreq / 3600.0, sfreq,
               btfm_loader_n_channels(l), btfm_loader_n_channel_names(l));
        for (int64_t i = 0; i < n; i++) {
            const char *id;
            int64_t t;
            int c;
            btfm_loader_recording(l, i, &id, &t, &c);
            printf("  %s  %lld samples x %d channels\n", id, (long long)t, c);
        }
    }
    btfm_loader_free(l);
    return CLI_OK;
}

static int windows(int argc, char **argv)
{
    if (argc < 3) return cli_usage_error("corpus", "windows takes OUT_DIR [options]");
    if (argv[2][0] == '-' && argv[2][1] == '-') { /* an option where OUT_DIR belongs */
        if (argc == 3 && strcmp(argv[2], "--json") != 0) return cli_unknown_option("corpus", argv[2]);
        return cli_usage_error("corpus", "windows takes OUT_DIR before its options");
    }
    btfm_loader *l;
    if (open_loader(argv[2], &l)) return CLI_FAILED;
    int rc = CLI_OK, json = 0;
    static const struct { const char *option; int param; } numbers[] = {
        {"--length", BTFM_LOADER_WINDOW_S}, {"--stride", BTFM_LOADER_STRIDE_S},
        {"--tmin", BTFM_LOADER_TMIN},       {"--tmax", BTFM_LOADER_TMAX},
    };
    for (int i = 3; i < argc && rc == CLI_OK; i++) {
        int matched = 0;
        for (size_t k = 0; k < sizeof numbers / sizeof numbers[0] && !matched; k++) {
            if (strcmp(argv[i], numbers[k].option) != 0) continue;
            double v;
            matched = 1;
            if ((rc = cli_number_option("corpus", argc, argv, &i, &v)) == CLI_OK &&
                btfm_loader_set_param(l, numbers[k].param, v))
                rc = cli_fail("corpus windows", NULL);
        }
        if (matched) continue;
        if (strcmp(argv[i], "--events") == 0 && i + 1 < argc) {
            if (btfm_loader_set_param(l, BTFM_LOADER_EVENT_LOCKED, 1) ||
                btfm_loader_set_events(l, argv[++i]))
                rc = cli_fail("corpus windows", NULL);
        } else if (strcmp(argv[i], "--param") == 0 && i + 1 < argc) {
            int param;
            double value;
            if ((rc = cli_param_option("corpus", BTFM_OBJECT_LOADER, argv[++i], &param, &value)) == CLI_OK &&
                btfm_loader_set_param(l, param, value))
                rc = cli_fail("corpus windows", NULL);
        } else if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else {
            rc = cli_unknown_option("corpus", argv[i]);
        }
    }
    static const char *const names[] = {"train", "val", "test", "all"};
    int64_t n[4] = {0}, skipped[4] = {0};
    for (int s = 0; s < 4 && rc == CLI_OK; s++)
        if (btfm_loader_count(l, s, &n[s], &skipped[s])) rc = cli_fail("corpus windows", NULL);
    if (rc == CLI_OK) {
        int64_t len = btfm_loader_window_len(l);
        if (json) {
            printf("{\"window_samples\": %lld", (long long)len);
            for (int s = 0; s < 4; s++) printf(", \"%s\": %lld", names[s], (long long)n[s]);
            printf(", \"skipped\": %lld}\n", (long long)skipped[3]);
        } else {
            printf("windows of %lld samples:", (long long)len);
            for (int s = 0; s < 4; s++) printf(" %s %lld", names[s], (long long)n[s]);
            printf("; skipped (gaps, bad segments, ends) %lld\n", (long long)skipped[3]);
        }
    }
    btfm_loader_free(l);
    return rc;
}

int cmd_corpus(int argc, char **argv)
{
    if (argc < 2) return cli_usage_error("corpus", "give build, info or windows");
    if (strcmp(argv[1], "build") == 0) return build(argc, argv);
    if (strcmp(argv[1], "info") == 0) return info(argc, argv);
    if (strcmp(argv[1], "windows") == 0) return windows(argc, argv);
    return cli_usage_error("corpus", "unknown subcommand '%s' (build, info or windows)", argv[1]);
}
