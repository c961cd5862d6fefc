/* Atomic file replacement: write a temporary file beside the target, flush it, rename
 * it into place. A crash or an error leaves the target as it was. */
#ifndef BTFM_CORE_ATOMIC_FILE_H
#define BTFM_CORE_ATOMIC_FILE_H

#include <stdio.h>
#include "internal.h"

typedef struct btfm_atomic_file {
    FILE *fp;             /* write here between open and commit */
    char *tmp_path;
    char *path;
    int durable;          /* fsync the file and its folder */
} btfm_atomic_file;

btfm_status btfm_atomic_open(btfm_atomic_file *af, const char *path, int durable);

/* Flush, fsync (if durable), close and rename over the target. On failure the temporary
 * file is removed and the target is untouched. Releases `af` either way. */
btfm_status btfm_atomic_commit(btfm_atomic_file *af);

/* Give up: close and remove the temporary file. Safe on an already released `af`. */
void btfm_atomic_abort(btfm_atomic_file *af);

#endif
