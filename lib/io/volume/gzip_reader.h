/* A gzip file read forward from any byte of its uncompressed data: Intel ISA-L's inflate
 * when the library is built with it (two to three times zlib's speed), else zlib's gzread.
 * Both read what gzread reads and fail with the same messages. */
#ifndef BTFM_IO_VOLUME_GZIP_READER_H
#define BTFM_IO_VOLUME_GZIP_READER_H

#include <stddef.h>
#include <stdint.h>
#include "core/internal.h"

typedef struct btfm_gzip_reader btfm_gzip_reader;

/* A reader of the open file `fd` (owned from here on, closed on failure too); `path`
 * names it in messages (the reader keeps a copy). */
btfm_status btfm_gzip_open(btfm_gzip_reader **out, int fd, const char *path);

/* Bytes [at, at + n) of the uncompressed data into buf: volume `volume` of the file, for
 * messages. Reading on from the last byte read is the fast path; a backward jump restarts
 * from the start of the file. Like gzread: members follow each other (cat a.gz b.gz,
 * bgzip), bytes after a member that do not start another one end the data, and a file
 * that is not gzip at all reads as it is. Fails with BTFM_E_TRUNCATED when the data ends
 * before at + n, BTFM_E_FORMAT on corrupted data or a failed CRC-32/length check,
 * BTFM_E_IO when the file cannot be read; messages name the volume and the byte of the
 * uncompressed data. */
btfm_status btfm_gzip_read(btfm_gzip_reader *g, int64_t at, void *buf, size_t n, int64_t volume);

/* Up to cap bytes from the start of the data (fewer where the data ends): a header.
 * Failures name the "header" where reads name a volume. */
btfm_status btfm_gzip_read_head(btfm_gzip_reader *g, void *buf, size_t cap, size_t *got);

/* After the last byte a caller needs: whether the rest of the data inflates intact, every
 * member's CRC-32 and length checked (gzread checks a member only once it reads past its
 * end). The rest is read and dropped: a read after this one starts again from the start. */
btfm_status btfm_gzip_check_end(btfm_gzip_reader *g, int64_t volume);

void btfm_gzip_close(btfm_gzip_reader *g);

#ifdef BTFM_HAVE_ISAL
/* For a read of one member on two threads (the tail by deflate_tail.h): */

/* The file a compressed reader reads (it stays the reader's), -1 for data read as it is. */
int btfm_gzip_fd(const btfm_gzip_reader *g);

/* About the offset in the file of the compressed data inflated so far. */
int64_t btfm_gzip_compressed_pos(const btfm_gzip_reader *g);

/* 1 and the CRC-32 of the data before `pos` when the reader stands at `pos` inside the
 * file's first member, else 0. */
int btfm_gzip_head_crc(const btfm_gzip_reader *g, int64_t pos, uint32_t *crc);

/* The data ends at `pos`, its member checked: the caller has inflated and checked the rest
 * of the member, and the file ends with its trailer. */
void btfm_gzip_end_at(btfm_gzip_reader *g, int64_t pos);
#endif

/* "isa-l 2.30" or "zlib 1.2.13": the inflate this build uses. */
const char *btfm_gzip_backend(void);

#endif
