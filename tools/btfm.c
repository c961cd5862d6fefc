/* btfm: the command line front end of libbtfm. One file per command (cmd_*.c). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static const cli_command commands[] = {
    {"help", "[COMMAND | --man]", "show the commands, or explain one", cmd_help},
    {"version", "[--verbose]",
     "print the library version and capabilities; --verbose: the CPU, BLAS and its kernels",
     cmd_version},
    {"demo", "[--bids DIR] [--seed N] [--param NAME=VALUE] [--plot FILE.svg] [--json]",
     "fit RLHB reward heads on a (simulated) rating session and compare them", cmd_demo},
    {"info", "FILE [--json] [--complete-records] [--lenient] [--plot FILE.svg]",
     "describe a file (a libbtfm model container or a recording) or a BIDS folder", cmd_info},
    {"convert", "IN OUT [--anonymize] [--complete-records]",
     "copy a recording into the format of OUT's extension (.edf, .bdf, .vhdr)", cmd_convert},
    {"anonymize", "IN OUT [--complete-records]",
     "write a de-identified copy of a recording", cmd_anonymize},
    {"params", "[KIND] [--json]", "list the tunable parameters of each object kind", cmd_params},
    {"cothb", "bench|calibrate|tune [options]",
     "benchmark CoTHB against baselines at equal budgets, calibrate a signal, tune", cmd_cothb},
    {"align", "fit [--method M] [--n-features K] [--param NAME=VALUE] [--mask MASK] [--plot FILE.svg] OUT.model "
     "IN... | transform MODEL IN OUT.npy --subject I [--inverse] [--mask MASK] (IN: .npy or a "
     "dataset such as .nii.gz; MASK: an image, epi or background)",
     "fit hyperalignment or a shared response model; map data into the common space", cmd_align},
    {"filter", "IN OUT [--band LOW HIGH] [--low HZ] [--high HZ] [--notch HZ]... [--order N] [--notch-q Q]",
     "zero-phase Butterworth and notch filtering of a recording, written in any format", cmd_filter},
    {"epochs", "IN OUT.npy [--tmin S] [--tmax S] [--baseline BMIN BMAX] [--reject eeg=100e-6,...] [--label TEXT]",
     "cut epochs around a recording's events into a .npy array (epochs x times x channels)", cmd_epochs},
    {"psd", "IN [--sfreq HZ] [--fmin F] [--fmax F] [--nperseg N] [--window W] [--multitaper] "
     "[--bands] [--band NAME|LO:HI]... [--relative] [--average] [--out X.npy] [--plot X.svg]",
     "power spectral density (Welch or multitaper) or band power of every channel", cmd_psd},
    {"sim", "rating-session OUT [--param NAME=VALUE]... [--plot X.svg] | shared-response OUT "
     "[--param NAME=VALUE]...",
     "write a simulated rating or shared-response session as BIDS with its ground truth", cmd_sim},
    {"model", "fit OUT.model X Y [--type T] [--alphas A,B,...] [--cv K] [--groups G] "
     "[--delays D,...] [--bands B] [--param NAME=VALUE]... [--held-out K] [--scores S.npy] "
     "[--json] | predict MODEL X OUT.npy [--std | --proba] | score MODEL X Y [--kind K] "
     "[--out S.npy] [--json] (X, Y, G, B: .npy or .tsv)",
     "fit ridge, banded ridge or logistic readouts (encoding, decoding); predict; score", cmd_model},
    {"reward", "fit BIDS_DIR OUT.btfm [--mode M] [--param NAME=VALUE]... | score HEAD.btfm "
     "BIDS_DIR [--json] | pair-scores BIDS_DIR|CHOICES.tsv [--alpha A] [--json] | encoder "
     "BIDS_DIR EMBEDDINGS.tsv OUT.btfm [--folds K] [--json]",
     "fit an RLHB reward head on a rating session; score a session's items; item scores "
     "from pairwise choices; an encoder from item embeddings to brain features", cmd_reward},
    {"nirs", "od|hb|short|sci IN [OUT] [--ppf P] [--max-distance M] [--band L H LT HT] [--json]",
     "fNIRS: optical density, haemoglobin (Beer-Lambert), short-channel regression, coupling", cmd_nirs},
    {"corpus", "build SOURCE... OUT_DIR [--key-file F] [--param NAME=VALUE]... | info OUT_DIR | "
               "windows OUT_DIR [--length S] [--stride S]",
     "build a training corpus from a BIDS folder or files; describe it; count its windows", cmd_corpus},
    {"stream", "replay FILE [--pipeline CONFIG] [--realtime] [--chunk N]",
     "play a recording through a real-time pipeline, printing its rows as JSON Lines", cmd_stream},
    {"sync", "DEVICE REFERENCE [--events LABEL --output OUT] [--json]",
     "align a device's clock (eye tracker, second amplifier) to a recording by shared triggers",
     cmd_sync},
};
#define COMMAND_COUNT (sizeof commands / sizeof commands[0])

const cli_command *cli_command_at(size_t i)
{
    return i < COMMAND_COUNT ? &commands[i] : NULL;
}

const cli_command *cli_find(const char *name)
{
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        if (strcmp(commands[i].name, name) == 0) return &commands[i];
    return NULL;
}

void cli_print_usage(FILE *out, const cli_command *cmd)
{
    fprintf(out, "usage: btfm %s%s%s\n", cmd->name, *cmd->synopsis ? " " : "", cmd->synopsis);
}

static void print_overview(FILE *out)
{
    fprintf(out, "usage: btfm [--version] COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'btfm help COMMAND' or 'btfm COMMAND --help' explains a command, its options "
                 "and examples.\n");
}

int cli_param_option(const char *command, int kind, const char *spec, int *param, double *value)
{
    const char *eq = strchr(spec, '=');
    char name[64];
    if (!eq || (size_t)(eq - spec) >= sizeof name)
        return cli_usage_error(command, "--param takes NAME=VALUE, got '%s'", spec);
    memcpy(name, spec, (size_t)(eq - spec));
    name[eq - spec] = '\0';
    if (!cli_number(eq + 1, value))
        return cli_usage_error(command, "--param %s: '%s' is not a finite number", name, eq + 1);
    if (btfm_param_find(kind, name, param)) return cli_fail(command, NULL);
    return CLI_OK;
}

int cli_fail(const char *command, const char *what)
{
    if (what) fprintf(stderr, "btfm %s: %s: %s\n", command, what, btfm_last_error());
    else fprintf(stderr, "btfm %s: %s\n", command, btfm_last_error());
    return CLI_FAILED;
}

int cli_unknown_option(const char *command, const char *option)
{
    /* An option the help text documents with a value ("--plot FILE.svg") that ended the
     * line without it is not unknown: say what it needs. */
    const cli_help *h = cli_help_of(command);
    const size_t n = strlen(option);
    for (const cli_option_help *o = h ? h->options : NULL; o && o->option; o++)
        for (const char *p = strstr(o->option, option); p; p = strstr(p + 1, option))
            if ((p == o->option || p[-1] == ' ') && p[n] == ' ')
                return cli_usage_error(command, "%s needs a value (%s)", option, o->option);
    return cli_usage_error(command, "unknown option '%s'", option);
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "btfm %s: ", command);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    const cli_command *cmd = cli_find(command);
    if (cmd) {
        cli_print_usage(stderr, cmd);
        fprintf(stderr, "'btfm %s --help' explains every option, with examples.\n", cmd->name);
    }
    return CLI_USAGE;
}

void cli_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (*p < 0x20) fprintf(out, "\\u%04x", *p);
            else fputc(*p, out);
        }
    }
    fputc('"', out);
}

void cli_json_number(FILE *out, double v)
{
    if (v != v || v - v != 0) fputs("null", out);
    else fprintf(out, "%.17g", v);
}

int cmd_help(int argc, char **argv)
{
    if (argc > 2) return cli_usage_error("help", "expected at most one command name");
    if (argc == 2 && strcmp(argv[1], "--man") == 0) {
        cli_print_man(stdout);
        return CLI_OK;
    }
    if (argc == 2) {
        const cli_command *cmd = cli_find(argv[1]);
        if (!cmd) return cli_usage_error("help", "unknown command '%s'", argv[1]);
        cli_print_help(stdout, cmd);
        return CLI_OK;
    }
    print_overview(stdout);
    return CLI_OK;
}

int cmd_version(int argc, char **argv)
{
    int verbose = argc == 2 && (strcmp(argv[1], "--verbose") == 0 || strcmp(argv[1], "-v") == 0);
    if (argc > 2 || (argc == 2 && !verbose))
        return cli_usage_error("version", "takes only --verbose");
    printf("btfm %s (library %s, capabilities: %s)\n", BTFM_VERSION_STRING,
           btfm_version_string(), btfm_capabilities());
    if (!verbose) return CLI_OK;
    size_t size;
    if (btfm_runtime_info(NULL, 0, &size)) return cli_fail("version", NULL);
    char *text = malloc(size);
    if (!text) return cli_fail("version", NULL);
    btfm_status st = btfm_runtime_info(text, size, &size);
    if (!st) fputs(text, stdout);
    free(text);
    return st ? cli_fail("version", NULL) : CLI_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_overview(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
        return cmd_version(argc - 1, argv + 1);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        return cmd_help(1, argv + 1);
    /* The command line owns its process: the library may set OpenBLAS's thread count
     * for each call (btfm_set_blas_thread_control). */
    btfm_set_blas_thread_control(1);
    const cli_command *cmd = cli_find(argv[1]);
    if (!cmd) {
        fprintf(stderr, "btfm: unknown command '%s'\n\n", argv[1]);
        print_overview(stderr);
        return CLI_USAGE;
    }
    for (int i = 2; i < argc; i++) /* `btfm COMMAND [SUBCOMMAND] --help` anywhere */
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cli_print_help(stdout, cmd);
            return CLI_OK;
        }
    if (btfm_version_number() < BTFM_VERSION_NUMBER) {
        fprintf(stderr, "btfm: this program needs libbtfm %d.%d.%d or later, but loaded %s\n",
                BTFM_VERSION_MAJOR, BTFM_VERSION_MINOR, BTFM_VERSION_PATCH, btfm_version_string());
        return CLI_FAILED;
    }
    return cmd->run(argc - 1, argv + 1);
}
