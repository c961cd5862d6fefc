/* Opening a command's input recording: a missing file or a folder is told in the words a
 * shell would use, before the library is asked to read it. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "cli.h"

void *cli_malloc_large(size_t bytes)
{
    void *p = malloc(bytes);
#if defined(MADV_HUGEPAGE)
    const uintptr_t huge = (uintptr_t)2 << 20;
    uintptr_t start = ((uintptr_t)p + huge - 1) & ~(huge - 1), end = ((uintptr_t)p + bytes) & ~(huge - 1);
    if (p && end > start) (void)madvise((void *)start, end - start, MADV_HUGEPAGE);
#endif
    return p;
}

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
