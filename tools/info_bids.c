/* btfm info on a BIDS folder: dataset name and version, subjects, sessions, tasks,
 * datatypes with recording counts, and what lenient mode skipped; text or JSON. */
#include <stdlib.h>
#include <string.h>
#include "cli.h"

/* The string member `key` of the description's top-level object, for display only
 * (the library validated the JSON); "" when it is not found. */
static void description_string(const char *json, const char *key, char *out, size_t cap)
{
    char needle[64];
    snprintf(needle, sizeof needle, "\"%s\"", key);
    out[0] = '\0';
    const char *p = strstr(json, needle);
    if (!p) return;
    p += strlen(needle);
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ':') p++;
    if (*p++ != '"') return;
    size_t n = 0;
    for (; *p && *p != '"' && n + 1 < cap; p++) {
        if (*p == '\\' && p[1]) p++;
        out[n++] = *p;
    }
    out[n] = '\0';
}

static int64_t count_with(const btfm_bids *b, const char *key, const char *value)
{
    char query[512];
    int64_t n = 0;
    snprintf(query, sizeof query, "%s=%s", key, value);
    return btfm_bids_query(b, query, NULL, 0, &n) == BTFM_OK ? n : 0;
}

static void print_values(btfm_bids *b, const char *key, const char *label, int json, int counts)
{
    int64_t n = btfm_bids_n_values(b, key);
    if (json) printf(", \"%s\": %s", label, counts ? "{" : "[");
    else printf("  %-11s", label);
    for (int64_t i = 0; i < n; i++) {
        const char *v = btfm_bids_value(b, key, i);
        if (json) {
            printf("%s", i ? ", " : "");
            cli_json_string(stdout, v);
            if (counts) printf(": %lld", (long long)count_with(b, key, v));
        } else {
            printf("%s%s", i ? ", " : "", v);
            if (counts) printf(" (%lld)", (long long)count_with(b, key, v));
        }
    }
    if (json) printf("%s", counts ? "}" : "]");
    else printf("%s\n", n ? "" : "-");
}

int cli_info_bids(const char *path, int lenient, int json)
{
    btfm_bids *b = NULL;
    cli_progress bar; /* indexing a large dataset takes a while */
    cli_progress_init(&bar);
    btfm_set_thread_progress(cli_progress_fn, &bar);
    btfm_status st = btfm_bids_open(&b, path, lenient ? BTFM_BIDS_LENIENT : 0);
    btfm_set_thread_progress(NULL, NULL);
    cli_progress_finish(&bar);
    if (st) return cli_fail("info", NULL);
    char name[256], version[64];
    description_string(btfm_bids_description(b), "Name", name, sizeof name);
    description_string(btfm_bids_description(b), "BIDSVersion", version, sizeof version);
    int64_t n = btfm_bids_n_recordings(b), n_skipped = btfm_bids_n_skipped(b);
    if (json) {
        printf("{\"file\": ");
        cli_json_string(stdout, path);
        printf(", \"type\": \"bids\", \"name\": ");
        cli_json_string(stdout, name);
        printf(", \"bids_version\": ");
        cli_json_string(stdout, version);
        printf(", \"n_recordings\": %lld", (long long)n);
    } else {
        printf("%s: BIDS dataset \"%s\" (BIDS %s), %lld recording%s\n", path, name, version,
               (long long)n, n == 1 ? "" : "s");
    }
    /* text: "label:" then the values; tasks and datatypes with their recording counts */
    print_values(b, "sub", json ? "subjects" : "subjects:", json, 0);
    print_values(b, "ses", json ? "sessions" : "sessions:", json, 0);
    print_values(b, "task", json ? "tasks" : "tasks:", json, 1);
    print_values(b, "datatype", json ? "datatypes" : "datatypes:", json, 1);
    if (json) printf(", \"skipped\": [");
    else if (n_skipped) printf("  skipped:    %lld\n", (long long)n_skipped);
    for (int64_t i = 0; i < n_skipped; i++) {
        const char *rel, *reason;
        btfm_bids_skipped(b, i, &rel, &reason);
        if (json) {
            printf("%s{\"path\": ", i ? ", " : "");
            cli_json_string(stdout, rel);
            printf(", \"reason\": ");
            cli_json_string(stdout, reason);
            putchar('}');
        } else {
            printf("    %s: %s\n", rel, reason);
        }
    }
    if (json) printf("]}\n");
    btfm_bids_free(b);
    return CLI_OK;
}
