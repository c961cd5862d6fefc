/* Whole files in and out of memory, for the TSV and JSON readers and writers. Internal. */
#ifndef BTFM_CORE_READ_FILE_H
#define BTFM_CORE_READ_FILE_H

#include <stddef.h>
#include "internal.h"

/* Open `path` for reading as *fd (O_CLOEXEC) if it is a regular file. The open does not
 * block (O_NONBLOCK, cleared after the check), so a FIFO or a device named like a
 * recording is refused instead of waiting forever for a writer. BTFM_E_NOTFOUND when it
 * does not exist, BTFM_E_IO when it cannot be opened or is not a regular file (the message
 * names what it is). `who` starts the messages. */
btfm_status btfm_open_regular(const char *path, const char *who, int *fd);

/* Read n bytes at `offset` of fd into buf, through short reads and EINTR: *got is n
 * unless the file ends first. Returns 0, or the errno of a failed read (*got then holds
 * the bytes read before it). */
int btfm_pread_full(int fd, void *buf, size_t n, int64_t offset, size_t *got);

/* Read all of the regular file `path` into a new buffer (*bytes, *len bytes, followed by
 * a NUL not counted in *len; release with btfm_free). `who` starts the messages.
 * BTFM_E_NOTFOUND when the file does not exist, BTFM_E_IO when it cannot be read or is
 * not a regular file, BTFM_E_RANGE when it is larger than `max_bytes`. */
btfm_status btfm_read_file(const char *path, const char *who, size_t max_bytes, char **bytes,
                           size_t *len);

/* Read and decompress all of the gzip file `path` (one or more gzip members) into a new
 * buffer, as btfm_read_file does; BTFM_E_RANGE when it decompresses to more than
 * `max_bytes`, BTFM_E_FORMAT for corrupt or truncated gzip data. */
btfm_status btfm_read_gzip_file(const char *path, const char *who, size_t max_bytes,
                                char **bytes, size_t *len);

/* Replace `path` with `len` bytes atomically (lib/core/atomic_file.h, durable): the file
 * holds its old content or the new one, never a mix. `who` starts the messages. */
btfm_status btfm_write_file(const char *path, const char *who, const void *bytes, size_t len);

#endif
