/* Fuzz target: the tail of a gzip member inflated from a block boundary found by searching
 * from a byte (lib/io/volume/deflate_tail.c). The input is the file; the byte to search
 * from is its bytes 4-6 (a gzip header's modification time, free to vary) modulo its size,
 * the range byte 7 (0: to the end). A tail found is copied whole with a zeroed window. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "io/volume/deflate_tail.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (size < 8) return 0;
    uint32_t isize = (uint32_t)data[size - 4] | (uint32_t)data[size - 3] << 8 |
                     (uint32_t)data[size - 2] << 16 | (uint32_t)data[size - 1] << 24;
    size_t from = ((size_t)data[4] | (size_t)data[5] << 8 | (size_t)data[6] << 16) % size;
    size_t search = data[7] ? (size_t)data[7] << 6 : size;
    btfm_deflate_tail_progress progress;
    atomic_init(&progress.cancel, 0);
    atomic_init(&progress.done, 0);
    atomic_init(&progress.fast, 0);
    btfm_deflate_tail t;
    if (btfm_deflate_tail_inflate(data, size, from, search, &progress, &t) == 0) {
        uint64_t stop = (uint64_t)(from + search < size - 8 ? from + search : size - 8) * 8;
        if (t.start_bit < (uint64_t)from * 8 || t.start_bit >= stop) abort();
        if (t.n_marked > t.n || t.n > (size_t)t.trailer_isize + 1 || t.trailer_isize != isize) abort();
        unsigned char window[BTFM_DEFLATE_WINDOW] = {0};
        unsigned char *dst = malloc(t.n + 1);
        if (!dst) abort();
        if (btfm_deflate_tail_set_window(&t, window) != 0) abort();
        uint32_t crc = btfm_deflate_tail_copy(&t, 0, t.n, dst);
        if (crc != (uint32_t)crc32(0, dst, (uInt)t.n)) abort();
        free(dst);
    }
    btfm_deflate_tail_free(&t);
    if (t.data || t.marked || t.marked_block || t.symbols) abort();
    return 0;
}
