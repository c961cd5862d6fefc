/* The btfm command line: the command table and helpers every command shares. */
#ifndef BTFM_TOOLS_CLI_H
#define BTFM_TOOLS_CLI_H

#include <stdio.h>
#include <btfm/btfm.h>

typedef struct cli_command {
    const char *name;
    const char *synopsis;    /* arguments, e.g. "FILE [--json]" */
    const char *summary;     /* one line */
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
} cli_command;

enum { CLI_OK = 0, CLI_FAILED = 1, CLI_USAGE = 2 };

/* Print "btfm <command>: <what>: <btfm_last_error()>" (without "<what>: " when `what` is
 * NULL) and return CLI_FAILED. Every message of a command starts "btfm <command>: ", where
 * <command> may go on with its subcommand ("btfm align fit: "). */
int cli_fail(const char *command, const char *what);

/* Print "btfm <command>: <message>", the command's usage, and return CLI_USAGE. */
int cli_usage_error(const char *command, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* cli_usage_error for an option the command does not accept, or, when its help text
 * documents it with a value, "OPTION needs a value" (the option ended the line). */
int cli_unknown_option(const char *command, const char *option);

/* Write `s` as a JSON string literal (quoted, escaped). */
void cli_json_string(FILE *out, const char *s);

/* Write a double as JSON (null for NaN/Inf). */
void cli_json_number(FILE *out, double v);

/* A progress bar on standard error when it is a terminal (tools/progress.c). Pass
 * cli_progress_fn with &bar as the user pointer to a btfm_*_set_progress or
 * btfm_set_thread_progress; call cli_progress_finish when the work returns. */
typedef struct cli_progress {
    int enabled, shown;
    double started;
} cli_progress;
void cli_progress_init(cli_progress *p);
int cli_progress_fn(const char *stage, double fraction, void *user);
void cli_progress_finish(cli_progress *p);

const cli_command *cli_find(const char *name);
/* The i-th command of the table (btfm.c), NULL past the end. */
const cli_command *cli_command_at(size_t i);
void cli_print_usage(FILE *out, const cli_command *cmd);

/* A command's help beyond its synopsis and summary (help_text.c): what it does, each
 * option explained, examples. */
typedef struct cli_option_help {
    const char *option; /* "--low HZ" */
    const char *text;
} cli_option_help;
typedef struct cli_help {
    const char *command;
    const char *description;          /* "\n\n" between paragraphs */
    const cli_option_help *options;   /* ends with {NULL, NULL} */
    const char *const *examples;      /* shell lines, ends with NULL */
} cli_help;
const cli_help *cli_help_of(const char *command); /* NULL when it has none */
extern const char cli_help_overview[];
extern const cli_option_help cli_help_environment[];

/* Print `cmd`'s usage, summary, description, options and examples (help.c). */
void cli_print_help(FILE *out, const cli_command *cmd);
/* Print the manual page of every command in troff (doc/btfm.1). */
void cli_print_man(FILE *out);

/* btfm info's FIF section: first sample, filters, projectors, processing history. */
void cli_info_fif(const btfm_dataset *ds);

int cmd_help(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_params(int argc, char **argv);
int cmd_cothb(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_anonymize(int argc, char **argv);
int cmd_align(int argc, char **argv);
int cmd_filter(int argc, char **argv);
int cmd_epochs(int argc, char **argv);

/* Numbers typed by the user (cli_number.c). cli_number: 1 if TEXT is one finite number.
 * cli_number_option: the number after option argv[*i] (advancing *i); CLI_OK or a usage
 * error. cli_number_list: "a,b,c" into OUT; the count, or -1 when an item is not a finite
 * number or there are more than CAPACITY. */
int cli_number(const char *text, double *value);
int cli_number_option(const char *command, int argc, char **argv, int *i, double *value);
int cli_number_list(const char *text, double *out, int capacity);

/* Parse a --param NAME=VALUE `spec` of object kind `kind` (btfm.c): the parameter's index
 * and the value; CLI_OK, or a usage error or the library's message printed. */
int cli_param_option(const char *command, int kind, const char *spec, int *param, double *value);
int cmd_psd(int argc, char **argv);
int cmd_sim(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_reward(int argc, char **argv);
int cmd_nirs(int argc, char **argv);
int cmd_corpus(int argc, char **argv);
int cmd_stream(int argc, char **argv);
int cmd_sync(int argc, char **argv);

/* Recordings (info_dataset.c, cmd_convert.c): describe one; open IN and save it as OUT
 * with `save_flags` (BTFM_SAVE_*), parsing "IN OUT [--anonymize] [--complete-records]". */
void cli_info_dataset(const char *path, const btfm_dataset *ds, int json);

/* btfm align fit --plot (align_plot.c): the fitted aligner's convergence and held-out
 * segment matching after a fit on the first four fifths of `data` (n subjects of rows x
 * cols[i]), as an SVG figure at `plot`; CLI_OK or CLI_FAILED with the reason printed. */
int cli_align_plot(const char *plot, const btfm_aligner *a, float *const *data,
                   const int64_t *cols, int n, int64_t rows);

/* btfm info --plot (info_plot.c): the first seconds of up to 32 channels of `ds` with its
 * events, as an SVG figure at `plot`; CLI_OK or CLI_FAILED with the reason printed. */
int cli_info_plot(const char *path, btfm_dataset *ds, const char *plot);

/* A BIDS folder (info_bids.c): subjects, sessions, tasks, datatypes and counts. */
int cli_info_bids(const char *path, int lenient, int json);
int cli_copy_dataset(const char *command, int argc, char **argv, unsigned save_flags);

/* Open the recording `path` for `command` (cli_open.c): 0, or CLI_FAILED with a message
 * naming the file (missing, a folder, or what the library found wrong) printed. */
int cli_open_dataset(const char *command, const char *path, unsigned flags, btfm_dataset **ds);
/* malloc for a whole recording's samples, advised to use transparent huge pages (the
 * first touch of hundreds of megabytes costs several times less); free with free(). */
void *cli_malloc_large(size_t bytes);

/* Tables (info_table.c): describe a TSV file (columns, rows, numeric ranges). */
int cli_info_table(const char *path, int json);

/* cli_mpi.c: under mpirun (builds with MPI) this process's rank and the rank count,
 * else 0 and 1; whether any rank failed (`failed` is this one's verdict); the aligner's
 * fit over every rank's subjects with the maps gathered on rank 0; a corpus build with
 * the recordings divided among the ranks; the end of MPI. */
void cli_mpi_begin(int *rank, int *size);
int cli_mpi_failed(int failed);
btfm_status cli_mpi_fit(btfm_aligner *a);
btfm_status cli_mpi_build(btfm_corpus_builder *b, const char *source, const char *out,
                          int64_t *built, int64_t *failed);
void cli_mpi_end(void);

#endif
