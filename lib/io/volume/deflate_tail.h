/* The tail of a one-member gzip file inflated without the data before it, so that a second
 * thread can inflate the second half of a member while the first thread inflates the first.
 *
 * A deflate block boundary is found near a chosen byte (a dynamic or stored block header
 * that parses, followed by a block that decodes). From there the data is decoded by our
 * own decoder into 16-bit symbols: bytes, or references to one of the 32 KiB of the data
 * before the boundary, which is not known yet. As soon as 32 KiB of output hold no such
 * reference, the rest is handed to ISA-L's inflate with those 32 KiB as its dictionary.
 * When the first thread reaches the boundary, its last 32 KiB fill in the references
 * (btfm_deflate_tail_set_window, then btfm_deflate_tail_copy). Nothing here proves the boundary right; the caller
 * compares the member's CRC-32 (the head's, combined with the tail's) with its trailer,
 * and reads the member the ordinary way when it differs. */
#ifndef BTFM_IO_VOLUME_DEFLATE_TAIL_H
#define BTFM_IO_VOLUME_DEFLATE_TAIL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

enum { BTFM_DEFLATE_WINDOW = 32768 };

typedef struct btfm_deflate_tail {
    size_t n;             /* the tail's length in bytes */
    uint16_t *marked;     /* its first n_marked bytes as symbols: a byte, or 0x8000 + an
                           * index into the 32 KiB window before the tail */
    size_t n_marked;
    uint16_t *marked_block; /* the block `marked` is in */
    unsigned char *data;  /* the other bytes: data[n_marked, n) */
    size_t capacity, max; /* data's size, and the most it may grow to */
    uint64_t start_bit;   /* where the tail starts in the file, in bits */
    uint32_t trailer_crc, trailer_isize; /* the member's 8-byte trailer */
    unsigned char *symbols; /* a symbol's byte, once the window is known */
} btfm_deflate_tail;

/* What another thread sees of an inflate in progress, and how it stops it. */
typedef struct btfm_deflate_tail_progress {
    atomic_int cancel;   /* set by the other thread: stop as soon as possible */
    atomic_size_t done;  /* bytes of `file` decoded so far (from its start) */
    atomic_int fast;     /* the rest goes through ISA-L */
} btfm_deflate_tail_progress;

/* Inflate the tail of the member whose compressed bytes end with its 8-byte trailer at the
 * end of `file` (size bytes, the whole file), starting at the first block boundary found
 * at or after byte `from` (and before byte `from + search`). Returns 0 and fills *t, or -1
 * when no boundary is found, the data does not decode, the member does not end exactly at
 * the trailer, memory runs out, or progress->cancel becomes nonzero (checked between
 * blocks and between chunks of output); progress also tells how far it is. The
 * caller frees *t with btfm_deflate_tail_free in every case. */
int btfm_deflate_tail_inflate(const unsigned char *file, size_t size, size_t from,
                              size_t search, btfm_deflate_tail_progress *progress,
                              btfm_deflate_tail *t);

/* The 32 KiB of data before the tail, once known: 0, or -1 when memory runs out. */
int btfm_deflate_tail_set_window(btfm_deflate_tail *t, const unsigned char *window);

/* Bytes [from, from + n) of the tail into dst, after btfm_deflate_tail_set_window; returns
 * their CRC-32. */
uint32_t btfm_deflate_tail_copy(const btfm_deflate_tail *t, size_t from, size_t n,
                                unsigned char *dst);

void btfm_deflate_tail_free(btfm_deflate_tail *t);

#endif
