/* btfm convert: read a recording and write it in the format its new name's extension
 * gives (.edf, .bdf, .vhdr); the copy shared with btfm anonymize. */
#include <string.h>
#include "cli.h"

int cli_copy_dataset(const char *command, int argc, char **argv, unsigned save_flags)
{
    const char *in = NULL, *out = NULL;
    unsigned open_flags = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--complete-records") == 0) open_flags |= BTFM_OPEN_COMPLETE_RECORDS;
        else if (strcmp(argv[i], "--anonymize") == 0 && strcmp(command, "convert") == 0)
            save_flags |= BTFM_SAVE_ANONYMIZE;
        else if (argv[i][0] == '-' && argv[i][1]) return cli_unknown_option(command, argv[i]);
        else if (!in) in = argv[i];
        else if (!out) out = argv[i];
        else return cli_usage_error(command, "expected IN and OUT, got a third file '%s'", argv[i]);
    }
    if (!out) return cli_usage_error(command, "expected IN and OUT");
    btfm_dataset *ds = NULL;
    if (cli_open_dataset(command, in, open_flags, &ds)) return CLI_FAILED;
    if (btfm_dataset_save(ds, out, BTFM_FORMAT_AUTO, save_flags)) {
        btfm_dataset_free(ds);
        return cli_fail(command, NULL);
    }
    printf("%s: wrote %s (%d channels x %lld samples at %g Hz, %lld events%s)\n", command, out,
           btfm_dataset_n_channels(ds), (long long)btfm_dataset_n_times(ds),
           btfm_dataset_sfreq(ds), (long long)btfm_dataset_n_events(ds),
           save_flags & BTFM_SAVE_ANONYMIZE ? ", de-identified" : "");
    btfm_dataset_free(ds);
    return CLI_OK;
}

int cmd_convert(int argc, char **argv)
{
    return cli_copy_dataset("convert", argc, argv, 0);
}
