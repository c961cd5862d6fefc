/* btfm info: describe a file: a libbtfm model container, a TSV table (info_table.c), a
 * recording (EDF/BDF, BrainVision, NIfTI, FIF, SNIRF, EEGLAB, EyeLink: info_dataset.c,
 * info_fif.c), or a BIDS folder (info_bids.c). */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include "cli.h"

static void print_shape(FILE *out, int ndim, const int64_t *shape, int json)
{
    fputc(json ? '[' : '(', out);
    for (int d = 0; d < ndim; d++)
        fprintf(out, "%s%lld", d ? ", " : "", (long long)shape[d]);
    fputc(json ? ']' : ')', out);
}

static void print_container(const char *path, const btfm_container *c, int json)
{
    int n = btfm_container_n_arrays(c);
    if (json) {
        printf("{\"file\": ");
        cli_json_string(stdout, path);
        printf(", \"type\": \"container\", \"kind\": ");
        cli_json_string(stdout, btfm_container_kind(c));
        printf(", \"arrays\": [");
    } else {
        printf("%s: libbtfm container, kind \"%s\", %d array%s\n", path, btfm_container_kind(c),
               n, n == 1 ? "" : "s");
    }
    for (int i = 0; i < n; i++) {
        const char *name;
        int dtype, ndim;
        int64_t shape[BTFM_CONTAINER_MAX_NDIM];
        btfm_container_array_info(c, i, &name, &dtype, &ndim, shape);
        if (json) {
            printf("%s{\"name\": ", i ? ", " : "");
            cli_json_string(stdout, name);
            printf(", \"dtype\": \"%s\", \"shape\": ", btfm_dtype_name(dtype));
            print_shape(stdout, ndim, shape, 1);
            putchar('}');
        } else {
            printf("  %-24s %-5s ", name, btfm_dtype_name(dtype));
            print_shape(stdout, ndim, shape, 0);
            putchar('\n');
        }
    }
    if (json) printf("]}\n");
}

/* True when the file starts with the container magic (doc/container.md); anything else
 * is tried as a recording. */
static int is_container(const char *path)
{
    static const unsigned char magic[8] = {0x89, 'B', 'T', 'F', 'M', '\r', '\n', 0x1a};
    unsigned char head[8];
    FILE *f = fopen(path, "rb");
    if (!f) return 0; /* the recording route reports why */
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    return n == sizeof head && memcmp(head, magic, sizeof head) == 0;
}

static int info_recording(const char *path, unsigned flags, int json, const char *plot)
{
    btfm_dataset *ds = NULL;
    btfm_status st = btfm_dataset_open(&ds, path, BTFM_FORMAT_AUTO, flags);
    /* a recognized format's own refusal (an EEGLAB v7.3 file) says more than the list */
    if (st == BTFM_E_UNSUPPORTED && strstr(btfm_last_error(), "not a recognized format")) {
        fprintf(stderr, "btfm info: %s: neither a libbtfm container, a table (.tsv) nor a "
                "recording (EDF/EDF+, BDF/BDF+, BrainVision .vhdr, NIfTI, FIF, SNIRF, EEGLAB .set, "
                "EyeLink .asc, BIDS _physio.tsv.gz)\n", path);
        return CLI_FAILED;
    }
    if (st) {
        fprintf(stderr, "btfm info: %s\n", btfm_last_error());
        return CLI_FAILED;
    }
    cli_info_dataset(path, ds, json);
    int rc = plot ? cli_info_plot(path, ds, plot) : CLI_OK;
    btfm_dataset_free(ds);
    return rc;
}

int cmd_info(int argc, char **argv)
{
    const char *path = NULL, *plot = NULL;
    int json = 0, lenient = 0;
    unsigned flags = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) json = 1;
        else if (strcmp(argv[i], "--complete-records") == 0) flags |= BTFM_OPEN_COMPLETE_RECORDS;
        else if (strcmp(argv[i], "--lenient") == 0) lenient = 1;
        else if (strcmp(argv[i], "--plot") == 0) {
            if (i + 1 >= argc) return cli_usage_error("info", "--plot needs a FILE.svg");
            plot = argv[++i];
        }
        else if (argv[i][0] == '-' && argv[i][1]) return cli_unknown_option("info", argv[i]);
        else if (path) return cli_usage_error("info", "expected one FILE, got '%s' and '%s'", path, argv[i]);
        else path = argv[i];
    }
    if (!path) return cli_usage_error("info", "missing FILE");
    struct stat sb;
    if (stat(path, &sb) != 0) {
        fprintf(stderr, "btfm info: %s: %s\n", path, strerror(errno));
        return CLI_FAILED;
    }
    size_t len = strlen(path);
    int table = len > 4 && strcmp(path + len - 4, ".tsv") == 0;
    if (plot && (S_ISDIR(sb.st_mode) || table || is_container(path)))
        return cli_usage_error("info", "--plot draws a recording's channels; %s is a %s", path,
                               S_ISDIR(sb.st_mode) ? "folder" : table ? "table" : "model container");
    if (S_ISDIR(sb.st_mode)) return cli_info_bids(path, lenient, json);
    if (table) return cli_info_table(path, json);
    if (!is_container(path)) return info_recording(path, flags, json, plot);
    btfm_container *c = NULL;
    if (btfm_container_load(&c, path, NULL) != BTFM_OK) return cli_fail("info", NULL);
    print_container(path, c, json);
    btfm_container_free(c);
    return CLI_OK;
}
