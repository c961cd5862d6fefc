/* Opening a command's input recording: a missing file or a folder is told in the words a
 * shell would use, before the library is asked to read it. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include "cli.h"

int cli_open_dataset(const char *command, const char *path, unsigned flags, btfm_dataset **ds)
{
    *ds = NULL;
    struct stat sb;
    if (stat(path, &sb) != 0) {
        fprintf(stderr, "btfm %s: %s: %s\n", command, path, strerror(errno));
        return CLI_FAILED;
    }
    if (S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "btfm %s: %s is a folder; expected a recording file (EDF/EDF+, BDF/BDF+, "
                "BrainVision .vhdr, NIfTI)\n", command, path);
        return CLI_FAILED;
    }
    if (btfm_dataset_open(ds, path, BTFM_FORMAT_AUTO, flags) != BTFM_OK) {
        fprintf(stderr, "btfm %s: %s\n", command, btfm_last_error());
        return CLI_FAILED;
    }
    return CLI_OK;
}
