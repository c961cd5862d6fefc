/* The tail of a gzip member inflated from a block boundary (lib/io/volume/deflate_tail.c):
 * members written by zlib from data the test knows, and a few written here bit by bit and
 * checked by zlib's inflate. Block boundaries come from zlib's inflate (Z_BLOCK), so every
 * expectation (where the tail starts, its offset, its bytes and CRC-32) is independent. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <zlib.h>
#include "unit.h"
#include "io/volume/deflate_tail.h"

enum { W = BTFM_DEFLATE_WINDOW, MAX_BOUNDARIES = 4096 };

/* ---- data the test knows ---- */

static uint64_t rng_state;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

enum { RANDOM, NOISE16, TEXT, ZEROS, MIX, N_KINDS };
static const char *const KIND_NAME[] = {"random", "int16 noise", "text", "zero runs", "mix"};

static void fill(int kind, unsigned char *p, size_t n)
{
    /* text: 400 words of 2-9 letters, each followed by a space or a newline */
    char words[400][12];
    for (int k = 0; k < 400; k++) {
        int len = 2 + (int)(rnd() % 8), c = 0;
        for (; c < len; c++) words[k][c] = (char)('a' + rnd() % 26);
        words[k][c++] = rnd() % 8 ? ' ' : '\n';
        words[k][c] = 0;
    }
    size_t i = 0;
    while (i < n) {
        /* MIX: stretches of 2-9 KB, each of one kind drawn at random */
        int k = kind == MIX ? (int)(rnd() % MIX) : kind;
        size_t stretch = kind == MIX ? 2000 + rnd() % 7000 : n;
        size_t end = i + stretch < n ? i + stretch : n;
        int level = (int)(rnd() % 3);
        for (; i < end;) {
            if (k == RANDOM) {
                p[i++] = (unsigned char)rnd();
            } else if (k == NOISE16) {
                /* int16 around one of a few levels, like the voxels of an fMRI volume */
                static const int levels[3] = {0, 812, 1433};
                if (rnd() % 4096 == 0) level = (int)(rnd() % 3);
                int v = levels[level] + (int)(rnd() % 41) - 20;
                p[i++] = (unsigned char)(v & 255);
                if (i < end) p[i++] = (unsigned char)((v >> 8) & 255);
            } else if (k == TEXT) {
                const char *w = words[rnd() % 400];
                while (*w && i < end) p[i++] = (unsigned char)*w++;
            } else {
                size_t run = 1000 + rnd() % 5000;
                for (size_t r = 0; r < run && i < end; r++) p[i++] = 0;
                if (i < end) p[i++] = (unsigned char)(1 + rnd() % 255);
            }
        }
    }
}

/* One gzip member by zlib: `flush` every `every` bytes (Z_NO_FLUSH: none). A block holds
 * 2^(mem_level + 6) symbols at most. */
static unsigned char *gzip_member(const unsigned char *data, size_t n, int level, int strategy,
                                  int mem_level, int flush, size_t every, size_t *size)
{
    z_stream z = {0};
    ck_assert_int_eq(deflateInit2(&z, level, Z_DEFLATED, 31, mem_level, strategy), Z_OK);
    size_t cap = deflateBound(&z, n) + 64 + (every ? n / every * 16 : 0);
    unsigned char *out = malloc(cap);
    z.next_out = out;
    z.avail_out = (uInt)cap;
    size_t at = 0;
    do {
        size_t k = every && flush != Z_NO_FLUSH ? every : n;
        if (k > n - at) k = n - at;
        z.next_in = (unsigned char *)data + at;
        z.avail_in = (uInt)k;
        at += k;
        int r = deflate(&z, at == n ? Z_FINISH : flush);
        ck_assert(r == (at == n ? Z_STREAM_END : Z_OK) && z.avail_in == 0);
    } while (at < n);
    *size = cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

/* ---- the truth about a member: zlib's inflate stopping at every block boundary ---- */

typedef struct boundary {
    uint64_t bit;  /* where the block's header starts */
    size_t out;    /* the uncompressed bytes before it */
    int last, type;
} boundary;

static int bit_at(const unsigned char *p, uint64_t bit) { return (p[bit >> 3] >> (bit & 7)) & 1; }

/* The member's blocks (returns their number) and its data into out (n bytes expected). */
static int blocks_of(const unsigned char *gz, size_t size, boundary *b, unsigned char *out,
                     size_t n)
{
    z_stream z = {0};
    ck_assert_int_eq(inflateInit2(&z, 31), Z_OK);
    z.next_in = (unsigned char *)gz;
    z.avail_in = (uInt)size;
    z.next_out = out;
    z.avail_out = (uInt)n + 1;
    int nb = 0, r;
    /* inflate also stops after the last block, before it reads the trailer */
    while ((r = inflate(&z, Z_BLOCK)) == Z_OK) {
        if (!(z.data_type & 128) || (nb > 0 && b[nb - 1].last)) continue;
        ck_assert_int_lt(nb, MAX_BOUNDARIES);
        uint64_t bit = (uint64_t)(z.next_in - gz) * 8 - (uint64_t)(z.data_type & 7);
        b[nb] = (boundary){bit, z.total_out, bit_at(gz, bit),
                           bit_at(gz, bit + 1) | bit_at(gz, bit + 2) << 1};
        nb++;
    }
    ck_assert_msg(r == Z_STREAM_END && z.total_out == n, "zlib: %d, %lu bytes", r,
                  (unsigned long)z.total_out);
    inflateEnd(&z);
    return nb;
}

/* Where a tail searched from byte `from` (bits [from*8, stop)) must start: the first block
 * that is not the last and is stored or dynamic (fixed blocks have no header to find). A
 * stored block's header (000) is followed by zero bits up to a byte boundary and may
 * follow zero bits, so the same block is also read from a few bits before or after its
 * header. NULL: no such block. */
static const boundary *expected_start(const unsigned char *gz, const boundary *b, int nb,
                                      uint64_t from_bit, uint64_t stop)
{
    for (int k = 0; k < nb; k++) {
        if (b[k].last || b[k].type == 1) continue;
        uint64_t first = b[k].bit, last = b[k].bit;
        if (b[k].type == 0) {
            /* the same header is read from where the zero bits before it start (within
             * the byte its length follows) to where the zero bits after it leave 3 */
            uint64_t aligned = (b[k].bit + 3 + 7) & ~(uint64_t)7;
            while (first > 0 && first + 10 > aligned && !bit_at(gz, first - 1)) first--;
            last = aligned - 3;
        }
        if (last < from_bit) continue;
        uint64_t at = first > from_bit ? first : from_bit;
        return at < stop ? &b[k] : NULL;
    }
    return NULL;
}

/* The 32 KiB before byte `at` of data (zeros before its start). */
static void window_before(const unsigned char *data, size_t at, unsigned char *window)
{
    memset(window, 0, W);
    size_t k = at < W ? at : W;
    memcpy(window + W - k, data + at - k, k);
}

/* The library's calls with the window given and nothing cancelled (cancel_now: cancelled
 * before the call). */
static int inflate_tail(const unsigned char *gz, size_t size, size_t from, size_t search,
                        int cancel_now, btfm_deflate_tail *t)
{
    btfm_deflate_tail_progress progress;
    atomic_init(&progress.cancel, cancel_now);
    atomic_init(&progress.done, 0);
    atomic_init(&progress.fast, 0);
    return btfm_deflate_tail_inflate(gz, size, from, search, &progress, t);
}

static uint32_t copy_tail(btfm_deflate_tail *t, const unsigned char *window, size_t from,
                          size_t n, unsigned char *dst)
{
    ck_assert_int_eq(btfm_deflate_tail_set_window(t, window), 0);
    return btfm_deflate_tail_copy(t, from, n, dst);
}

/* A tail's bytes and CRC-32 against the data at its offset: whole, then in pieces that
 * cut through the symbols' part and where it ends. */
static void check_bytes(btfm_deflate_tail *t, const unsigned char *data, size_t n,
                        const char *what)
{
    ck_assert_msg(t->n <= n && t->trailer_isize == (uint32_t)n, "%s: tail of %zu bytes, ISIZE %u",
                  what, t->n, t->trailer_isize);
    size_t off = n - t->n;
    unsigned char *window = malloc(W), *dst = malloc(t->n + 1);
    window_before(data, off, window);
    uint32_t crc = copy_tail(t, window, 0, t->n, dst);
    size_t bad = 0;
    while (bad < t->n && dst[bad] == data[off + bad]) bad++;
    ck_assert_msg(bad == t->n, "%s: tail byte %zu of %zu (offset %zu) is %d, expected %d", what,
                  bad, t->n, off, bad < t->n ? dst[bad] : -1, bad < t->n ? data[off + bad] : -1);
    ck_assert_msg(crc == (uint32_t)crc32(0, data + off, (uInt)t->n), "%s: CRC-32", what);
    size_t cuts[5] = {0, t->n_marked > 7 ? t->n_marked - 7 : 0, t->n_marked + 3, t->n / 2 + 1, t->n};
    for (int c = 0; c + 1 < 5; c++) {
        size_t a = cuts[c] < t->n ? cuts[c] : t->n, e = cuts[c + 1] < t->n ? cuts[c + 1] : t->n;
        if (e <= a) continue;
        memset(dst, 0, t->n);
        crc = copy_tail(t, window, a, e - a, dst);
        ck_assert_msg(memcmp(dst, data + off + a, e - a) == 0 &&
                          crc == (uint32_t)crc32(0, data + off + a, (uInt)(e - a)),
                      "%s: tail bytes [%zu, %zu)", what, a, e);
    }
    free(window);
    free(dst);
}

/* The caller's check of a tail: the CRC-32 of the data before it combined with the
 * tail's (filled in from that data) against the trailer's. 0: it rejects the tail; 1: it
 * accepts it and the bytes are right; -1: it accepts wrong bytes. */
static int caller_check(btfm_deflate_tail *t, const unsigned char *data, size_t n)
{
    size_t off = t->trailer_isize - t->n;
    if (t->n > t->trailer_isize || off + t->n > n) return 0;
    unsigned char *window = malloc(W), *dst = malloc(t->n + 1);
    window_before(data, off, window);
    uint32_t crc = copy_tail(t, window, 0, t->n, dst);
    ck_assert(crc == (uint32_t)crc32(0, dst, (uInt)t->n));
    uint32_t member = (uint32_t)crc32_combine(crc32(0, data, (uInt)off), crc, (z_off_t)t->n);
    int right = t->trailer_isize == n && memcmp(dst, data + off, t->n) == 0;
    free(window);
    free(dst);
    return member != t->trailer_crc ? 0 : right ? 1 : -1;
}

/* One search: success exactly where zlib's blocks say a tail can start, at the right
 * offset and with the right bytes; -1 otherwise. */
static void check_search(const unsigned char *gz, size_t size, const boundary *b, int nb,
                         const unsigned char *data, size_t n, size_t from, size_t search,
                         const char *what)
{
    uint64_t stop = (uint64_t)(from + search) * 8;
    if (stop > (uint64_t)(size - 8) * 8) stop = (uint64_t)(size - 8) * 8;
    const boundary *e = from + 16 <= size ? expected_start(gz, b, nb, (uint64_t)from * 8, stop) : NULL;
    btfm_deflate_tail t;
    int r = inflate_tail(gz, size, from, search, 0, &t);
    if (e) {
        ck_assert_msg(r == 0, "%s, from %zu, search %zu: refused (a %s block starts at bit %llu)",
                      what, from, search, e->type ? "dynamic" : "stored",
                      (unsigned long long)e->bit);
        ck_assert_msg(t.start_bit >= (uint64_t)from * 8 &&
                          (t.start_bit == e->bit ||
                           (e->type == 0 && t.start_bit + 10 >= ((e->bit + 10) & ~(uint64_t)7) &&
                            t.start_bit < ((e->bit + 10) & ~(uint64_t)7) - 2)),
                      "%s, from %zu: tail at bit %llu, the block at %llu", what, from,
                      (unsigned long long)t.start_bit, (unsigned long long)e->bit);
        ck_assert_msg(n - t.n == e->out, "%s, from %zu: tail at offset %zu, expected %zu", what,
                      from, n - t.n, e->out);
        check_bytes(&t, data, n, what);
    } else if (r == 0) {
        /* a false start: the tail may still decode to the trailer (a fixed-code stream
         * comes back in step with its real blocks), but the caller's check rejects it */
        ck_assert_msg(caller_check(&t, data, n) == 0, "%s, from %zu, search %zu: a tail of %zu "
                      "bytes where no block starts, with the member's CRC-32", what, from, search,
                      t.n);
    }
    btfm_deflate_tail_free(&t);
}

/* ---- members from zlib: every kind of data and of stream ---- */

typedef struct config {
    const char *name;
    int level, strategy, mem_level, flush;
    size_t every;
} config;

static const config CONFIGS[] = {
    {"level 1", 1, Z_DEFAULT_STRATEGY, 8, Z_NO_FLUSH, 0},
    {"level 6", 6, Z_DEFAULT_STRATEGY, 8, Z_NO_FLUSH, 0},
    {"level 9, small blocks", 9, Z_DEFAULT_STRATEGY, 5, Z_NO_FLUSH, 0},
    {"Z_FILTERED", 6, Z_FILTERED, 6, Z_NO_FLUSH, 0},
    {"Z_HUFFMAN_ONLY", 6, Z_HUFFMAN_ONLY, 8, Z_NO_FLUSH, 0},
    {"Z_RLE", 6, Z_RLE, 7, Z_NO_FLUSH, 0},
    {"level 0", 0, Z_DEFAULT_STRATEGY, 8, Z_NO_FLUSH, 0},
    {"Z_SYNC_FLUSH", 6, Z_DEFAULT_STRATEGY, 8, Z_SYNC_FLUSH, 20011},
    {"Z_FULL_FLUSH", 9, Z_DEFAULT_STRATEGY, 8, Z_FULL_FLUSH, 30011},
    {"Z_FIXED", 6, Z_FIXED, 6, Z_NO_FLUSH, 0},
};
enum { N_CONFIGS = sizeof CONFIGS / sizeof CONFIGS[0] };

/* Searches from the gzip header, from right before and right after blocks, from inside
 * blocks, from inside the last block, with wide and narrow ranges. */
static void check_member(int kind, const config *c, size_t n)
{
    char what[96];
    snprintf(what, sizeof what, "%s, %s, %zu bytes", KIND_NAME[kind], c->name, n);
    rng_state = 0x9e3779b97f4a7c15ull ^ (uint64_t)(kind * 131 + c->level * 7 + c->strategy);
    unsigned char *data = malloc(n), *back = malloc(n + 1);
    fill(kind, data, n);
    size_t size;
    unsigned char *gz = gzip_member(data, n, c->level, c->strategy, c->mem_level, c->flush, c->every,
                                    &size);
    boundary *b = malloc(MAX_BOUNDARIES * sizeof *b);
    int nb = blocks_of(gz, size, b, back, n);
    ck_assert_msg(memcmp(back, data, n) == 0, "%s: zlib's round trip", what);
    size_t froms[64], searches[64];
    int nf = 0;
    froms[nf] = 0, searches[nf++] = size;
    froms[nf] = 3, searches[nf++] = size;
    froms[nf] = size / 2 + 1, searches[nf++] = size;
    froms[nf] = size - 20, searches[nf++] = size;
    froms[nf] = size / 3, searches[nf++] = 5;
    for (int k = 1; k < nb && nf < 56; k += nb / 3 + 1) {
        size_t at = (size_t)(b[k].bit >> 3);
        froms[nf] = at, searches[nf++] = size;                   /* right before */
        froms[nf] = at + 1, searches[nf++] = size;               /* right after */
        froms[nf] = at > 40 ? at - 40 : 0, searches[nf++] = 41;  /* a range that ends there */
        froms[nf] = at > 40 ? at - 40 : 0, searches[nf++] = 20;  /* one that ends before */
        if (k + 1 < nb) {                                        /* well inside a block */
            froms[nf] = (size_t)((b[k].bit + b[k + 1].bit) / 16), searches[nf++] = size;
        }
    }
    froms[nf] = (size_t)(b[nb - 1].bit >> 3) + 1, searches[nf++] = size; /* in the last block */
    for (int k = 0; k < nf; k++) check_search(gz, size, b, nb, data, n, froms[k], searches[k], what);
    free(b);
    free(gz);
    free(data);
    free(back);
}

START_TEST(test_zlib_members)
{
    /* under valgrind, the mixed data only (it holds every kind) */
    int kind = UNIT_SIZE(_i, MIX);
    size_t sizes[2] = {UNIT_SIZE(80021, 70001), UNIT_SIZE(50021, 50021)};
    for (int c = 0; c < N_CONFIGS; c++) check_member(kind, &CONFIGS[c], sizes[c % 2]);
}
END_TEST

/* Dynamic-block streams searched from well inside: a tail is always found. */
START_TEST(test_dynamic_found)
{
    size_t n = UNIT_SIZE(100003, 80021);
    unsigned char *data = malloc(n), *back = malloc(n + 1);
    boundary *b = malloc(MAX_BOUNDARIES * sizeof *b);
    const int kinds[3] = {TEXT, NOISE16, MIX}, levels[3] = {1, 6, 9};
    for (int k = 0; k < 3; k++) {
        rng_state = 77 + (uint64_t)k;
        fill(kinds[k], data, n);
        size_t size;
        unsigned char *gz = gzip_member(data, n, levels[k], Z_DEFAULT_STRATEGY, 6, Z_NO_FLUSH, 0,
                                        &size);
        int nb = blocks_of(gz, size, b, back, n), dynamic = 0;
        for (int j = 1; j < nb; j++) dynamic += b[j].type == 2 && !b[j].last && b[j].bit > size * 4;
        ck_assert_msg(dynamic >= 1, "%s: no dynamic block in the second half", KIND_NAME[kinds[k]]);
        btfm_deflate_tail t;
        ck_assert_int_eq(inflate_tail(gz, size, size / 2, size / 2, 0, &t), 0);
        check_bytes(&t, data, n, KIND_NAME[kinds[k]]);
        btfm_deflate_tail_free(&t);
        check_search(gz, size, b, nb, data, n, size / 2, size / 2, KIND_NAME[kinds[k]]);
        free(gz);
    }
    free(b);
    free(data);
    free(back);
}
END_TEST

/* ---- refusals ---- */

static int tail_of(const unsigned char *gz, size_t size, size_t from, size_t search, int cancel_now)
{
    btfm_deflate_tail t;
    int r = inflate_tail(gz, size, from, search, cancel_now, &t);
    btfm_deflate_tail_free(&t);
    ck_assert(!t.data && !t.marked && !t.marked_block && !t.symbols);
    return r;
}

START_TEST(test_refusals)
{
    size_t n = UNIT_SIZE(120011, 80021);
    unsigned char *data = malloc(n), *back = malloc(n + 1);
    rng_state = 4242;
    fill(NOISE16, data, n);
    size_t size;
    unsigned char *gz = gzip_member(data, n, 6, Z_DEFAULT_STRATEGY, 6, Z_NO_FLUSH, 0, &size);
    boundary *b = malloc(MAX_BOUNDARIES * sizeof *b);
    int nb = blocks_of(gz, size, b, back, n);
    ck_assert_int_ge(nb, 3);
    /* the good member, as a reference for what follows */
    ck_assert_int_eq(tail_of(gz, size, size / 3, size, 0), 0);

    /* no boundary in the range: 64 bytes in the middle of the second block */
    size_t mid = (size_t)((b[1].bit + b[2].bit) / 16);
    ck_assert_msg(b[2].bit / 8 > mid + 80, "blocks too short for the test");
    ck_assert_int_eq(tail_of(gz, size, mid, 64, 0), -1);
    /* cancelled before the call */
    ck_assert_int_eq(tail_of(gz, size, size / 3, size, 1), -1);

    unsigned char *bad = malloc(size + 64);
    /* cut short: by one byte, by the trailer, in the last quarter, in the middle */
    const size_t cuts[4] = {1, 8, size / 4, size / 2};
    for (int k = 0; k < 4; k++) {
        memcpy(bad, gz, size - cuts[k]);
        ck_assert_msg(tail_of(bad, size - cuts[k], size / 8, size, 0) == -1, "cut by %zu", cuts[k]);
    }
    /* trailing bytes after the trailer: garbage, zeros, a second trailer */
    memcpy(bad, gz, size);
    memcpy(bad + size, "ab\x07\x01\x00\x00", 6);
    ck_assert_int_eq(tail_of(bad, size + 6, size / 3, size, 0), -1);
    memset(bad + size, 0, 8);
    ck_assert_int_eq(tail_of(bad, size + 8, size / 3, size, 0), -1);
    memcpy(bad + size, gz + size - 8, 8);
    ck_assert_int_eq(tail_of(bad, size + 8, size / 3, size, 0), -1);
    /* a trailer ISIZE smaller than the tail (which is about 2/3 of the data), and 0 */
    const uint32_t sizes[3] = {(uint32_t)(n / 2), (uint32_t)(n / 10), 0};
    for (int k = 0; k < 3; k++) {
        memcpy(bad, gz, size);
        for (int j = 0; j < 4; j++) bad[size - 4 + j] = (unsigned char)(sizes[k] >> (8 * j));
        ck_assert_msg(tail_of(bad, size, size / 3, size, 0) == -1, "ISIZE %u", sizes[k]);
    }
    /* a file too short to hold a member */
    ck_assert_int_eq(tail_of(gz, 15, 0, 15, 0), -1);
    ck_assert_int_eq(tail_of(gz, size, size - 10, size, 0), -1);

    /* two members: from in the first refuses, from in the second gives its tail */
    size_t size2;
    unsigned char *gz2 = gzip_member(data, n / 2, 9, Z_DEFAULT_STRATEGY, 8, Z_NO_FLUSH, 0, &size2);
    unsigned char *two = malloc(size + size2);
    memcpy(two, gz, size);
    memcpy(two + size, gz2, size2);
    ck_assert_int_eq(tail_of(two, size + size2, size / 3, size + size2, 0), -1);
    ck_assert_int_eq(tail_of(two, size + size2, size / 3, size - size / 3, 0), -1);
    free(two);
    free(gz2);

    /* Z_FIXED: no block has a header to find */
    size_t size3;
    unsigned char *fixed = gzip_member(data, n, 6, Z_FIXED, 6, Z_NO_FLUSH, 0, &size3);
    int nb3 = blocks_of(fixed, size3, b, back, n);
    for (int k = 0; k < nb3; k++) ck_assert_int_eq(b[k].type, 1);
    const size_t froms[4] = {0, 11, size3 / 3, size3 / 2};
    for (int k = 0; k < 4; k++) ck_assert_int_eq(tail_of(fixed, size3, froms[k], size3, 0), -1);
    free(fixed);

    free(bad);
    free(b);
    free(gz);
    free(data);
    free(back);
}
END_TEST

/* ---- damaged data ---- */

/* A flipped bit after the search's start either refuses, or gives a tail that the caller's
 * check (the head's CRC-32 combined with the tail's, against the trailer) rejects, or gives
 * the right bytes: never the trailer's CRC with wrong bytes. */
START_TEST(test_flipped_bits)
{
    size_t n = UNIT_SIZE(100003, 90001);
    unsigned char *data = malloc(n);
    rng_state = 99;
    fill(MIX, data, n);
    size_t size;
    unsigned char *gz = gzip_member(data, n, 6, Z_DEFAULT_STRATEGY, 6, Z_NO_FLUSH, 0, &size);
    unsigned char *bad = malloc(size);
    size_t from = size / 2;
    int flips = UNIT_SIZE(40, 24), refused = 0, rejected = 0, right = 0;
    for (int k = 0; k < flips; k++) {
        memcpy(bad, gz, size);
        /* spread over the compressed tail, the last flips in the trailer's CRC-32 and
         * the low byte of its ISIZE */
        static const size_t trailer[4] = {8, 7, 5, 4};
        size_t at = k < flips - 4 ? from + (size - 8 - from) * (size_t)k / (size_t)(flips - 4)
                                  : size - trailer[k - (flips - 4)];
        bad[at] ^= (unsigned char)(1u << (k * 3 % 8));
        btfm_deflate_tail t;
        if (inflate_tail(bad, size, from, size, 0, &t) != 0) {
            refused++;
        } else {
            int v = caller_check(&t, data, n);
            ck_assert_msg(v >= 0, "flip at byte %zu: the trailer's CRC-32 with wrong bytes", at);
            rejected += v == 0;
            right += v == 1;
        }
        btfm_deflate_tail_free(&t);
    }
    /* most flips are caught one way or the other */
    ck_assert_msg(refused + rejected >= flips / 2, "%d refused, %d rejected, %d right", refused,
                  rejected, right);
    free(bad);
    free(gz);
    free(data);
}
END_TEST

/* ---- references into the window, written here bit by bit ---- */

typedef struct bitw {
    unsigned char *p;
    size_t n;
    uint64_t acc;
    int have;
} bitw;

static void put(bitw *w, uint32_t v, int k)
{
    w->acc |= (uint64_t)v << w->have;
    w->have += k;
    while (w->have >= 8) {
        w->p[w->n++] = (unsigned char)w->acc;
        w->acc >>= 8;
        w->have -= 8;
    }
}

static void align(bitw *w)
{
    if (w->have) put(w, 0, 8 - w->have);
}

/* Canonical codes from code lengths (RFC 1951, 3.2.2). */
static void canonical(const unsigned char *len, int n, uint32_t *code)
{
    int count[16] = {0}, next[16];
    for (int s = 0; s < n; s++) count[len[s]]++;
    count[0] = 0;
    int c = 0;
    for (int l = 1; l < 16; l++) {
        c = (c + count[l - 1]) << 1;
        next[l] = c;
    }
    for (int s = 0; s < n; s++)
        if (len[s]) code[s] = (uint32_t)next[len[s]]++;
}

/* A Huffman code, most significant bit first. */
static void put_code(bitw *w, uint32_t code, int len)
{
    for (int k = len - 1; k >= 0; k--) put(w, (code >> k) & 1, 1);
}

static const int LBASE[29] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43,
                              51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
static const int LEXTRA[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4,
                               4, 4, 4, 5, 5, 5, 5, 0};
static const int DBASE[30] = {1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257,
                              385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289,
                              16385, 24577};
static const int DEXTRA[30] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9,
                               9, 10, 10, 11, 11, 12, 12, 13, 13};

typedef struct op {
    int len, dist; /* a match, or a literal: len 0 and the byte in dist */
} op;

/* Literals and matches, then the end of the block, in the codes given; the data they make
 * is appended to out[*n]. */
static void put_ops(bitw *w, const unsigned char *lit, const uint32_t *litc,
                    const unsigned char *dist, const uint32_t *distc, const op *ops, int n_ops,
                    unsigned char *out, size_t *n)
{
    for (int k = 0; k < n_ops; k++) {
        if (ops[k].len == 0) {
            put_code(w, litc[ops[k].dist], lit[ops[k].dist]);
            out[(*n)++] = (unsigned char)ops[k].dist;
            continue;
        }
        int L = ops[k].len, D = ops[k].dist, i = 28, j = 29;
        while (LBASE[i] > L) i--;
        while (DBASE[j] > D) j--;
        put_code(w, litc[257 + i], lit[257 + i]);
        put(w, (uint32_t)(L - LBASE[i]), LEXTRA[i]);
        put_code(w, distc[j], dist[j]);
        put(w, (uint32_t)(D - DBASE[j]), DEXTRA[j]);
        ck_assert((size_t)D <= *n);
        for (int c = 0; c < L; c++, (*n)++) out[*n] = out[*n - (size_t)D];
    }
    put_code(w, litc[256], lit[256]);
}

/* A dynamic block: every literal 9 bits, lengths 5-6, every distance 4-5 bits (complete
 * codes). */
static void put_dynamic(bitw *w, int last, const op *ops, int n_ops, unsigned char *out, size_t *n)
{
    unsigned char lit[286], dist[30];
    for (int s = 0; s < 256; s++) lit[s] = 9;
    for (int s = 256; s < 286; s++) lit[s] = s < 258 ? 5 : 6;
    for (int s = 0; s < 30; s++) dist[s] = s < 2 ? 4 : 5;
    put(w, (uint32_t)last, 1);
    put(w, 2, 2);
    put(w, 286 - 257, 5);
    put(w, 30 - 1, 5);
    put(w, 12 - 4, 4);
    /* the code length code: 4, 5, 6 and 9, two bits each */
    static const int order[12] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4};
    unsigned char cl[19] = {0};
    cl[4] = cl[5] = cl[6] = cl[9] = 2;
    for (int k = 0; k < 12; k++) put(w, cl[order[k]], 3);
    uint32_t clc[19], litc[286], distc[30];
    canonical(cl, 19, clc);
    canonical(lit, 286, litc);
    canonical(dist, 30, distc);
    for (int s = 0; s < 286; s++) put_code(w, clc[lit[s]], 2);
    for (int s = 0; s < 30; s++) put_code(w, clc[dist[s]], 2);
    put_ops(w, lit, litc, dist, distc, ops, n_ops, out, n);
}

/* A fixed-code block (RFC 1951, 3.2.6: 32 distance codes of 5 bits, 30 and 31 unused). */
static void put_fixed(bitw *w, int last, const op *ops, int n_ops, unsigned char *out, size_t *n)
{
    unsigned char lit[288], dist[32];
    for (int s = 0; s < 288; s++) lit[s] = s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8;
    for (int s = 0; s < 32; s++) dist[s] = 5;
    uint32_t litc[288], distc[32];
    canonical(lit, 288, litc);
    canonical(dist, 32, distc);
    put(w, (uint32_t)last, 1);
    put(w, 1, 2);
    put_ops(w, lit, litc, dist, distc, ops, n_ops, out, n);
}

static void put_stored(bitw *w, int last, const unsigned char *src, size_t len, unsigned char *out,
                       size_t *n)
{
    put(w, (uint32_t)last, 1);
    put(w, 0, 2);
    align(w);
    put(w, (uint32_t)len, 16);
    put(w, (uint32_t)(~len & 0xffff), 16);
    memcpy(w->p + w->n, src, len);
    w->n += len;
    memcpy(out + *n, src, len);
    *n += len;
}

/* A member whose tail, from a dynamic block after a Z_SYNC_FLUSH, starts with references
 * to the far end of the window (distance 32768), 258-byte matches and matches whose
 * source runs from the window into the tail. LONG_TAIL: then 40000 stored bytes and a
 * last dynamic block with the same references, which ISA-L decodes with the window it is
 * given; otherwise a short stored last block, all of it decoded by our decoder, after a
 * fixed-code block with the same references for FIXED_BLOCK. */
enum { SHORT_TAIL, LONG_TAIL, FIXED_BLOCK };
static const char *const VARIANT_NAME[] = {"window references", "window references, long tail",
                                           "window references, fixed-code block"};

static void window_member(int variant)
{
    enum { HEAD = 50021 };
    size_t cap = 200000, n = 0;
    unsigned char *data = malloc(cap), *gz = malloc(cap), *back = malloc(cap);
    rng_state = 1234 + (uint64_t)variant;
    fill(RANDOM, data, HEAD);
    n = HEAD;
    z_stream z = {0};
    ck_assert_int_eq(deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = data;
    z.avail_in = HEAD;
    z.next_out = gz;
    z.avail_out = (uInt)cap;
    ck_assert_int_eq(deflate(&z, Z_SYNC_FLUSH), Z_OK);
    size_t head_bytes = cap - z.avail_out;
    deflateEnd(&z);
    bitw w = {gz, head_bytes, 0, 0};
    const op refs[] = {
        {258, 32768}, {258, 1}, {0, 'A'}, {0, 'B'}, {0, 0xff}, {258, 32768}, {3, 32768},
        {258, 1000}, {100, 32768}, {258, 32763}, {257, 32768}, {0, 'Z'}, {10, 5}, {258, 32768},
    };
    const int n_refs = sizeof refs / sizeof refs[0];
    put_dynamic(&w, 0, refs, n_refs, data, &n);
    unsigned char extra[40000];
    fill(RANDOM, extra, sizeof extra);
    if (variant == LONG_TAIL) {
        put_stored(&w, 0, extra, sizeof extra, data, &n);
        put_dynamic(&w, 1, refs, n_refs, data, &n);
    } else {
        if (variant == FIXED_BLOCK) put_fixed(&w, 0, refs, n_refs, data, &n);
        put_stored(&w, 1, extra, 1001, data, &n);
    }
    align(&w);
    uint32_t crc = (uint32_t)crc32(0, data, (uInt)n);
    put(&w, crc, 32);
    put(&w, (uint32_t)n, 32);
    size_t size = w.n;
    /* zlib's inflate makes the same data from it */
    boundary *b = malloc(MAX_BOUNDARIES * sizeof *b);
    int nb = blocks_of(gz, size, b, back, n);
    ck_assert(memcmp(back, data, n) == 0);
    /* from the empty stored block of the flush (a byte or two before) and from the block */
    const size_t froms[3] = {head_bytes - 6, head_bytes - 4, head_bytes};
    for (int k = 0; k < 3; k++) {
        btfm_deflate_tail t;
        ck_assert_int_eq(inflate_tail(gz, size, froms[k], 64, 0, &t), 0);
        ck_assert_int_eq(n - t.n, HEAD);
        ck_assert(t.n_marked > 0 && t.n_marked <= t.n);
        check_bytes(&t, data, n, VARIANT_NAME[variant]);
        /* the references are filled in from the window: a zeroed one gives other bytes */
        unsigned char *zero = calloc(W, 1), *dst = malloc(t.n);
        copy_tail(&t, zero, 0, t.n, dst);
        ck_assert(memcmp(dst, data + HEAD, 258) != 0);
        free(zero);
        free(dst);
        btfm_deflate_tail_free(&t);
        check_search(gz, size, b, nb, data, n, froms[k], 64, VARIANT_NAME[variant]);
    }
    free(b);
    free(data);
    free(gz);
    free(back);
}

START_TEST(test_window_references)
{
    window_member(SHORT_TAIL);
    window_member(LONG_TAIL);
}
END_TEST

/* A fixed-code block in the stretch our decoder decodes: its distances are the fixed
 * code's (RFC 1951, 3.2.6), whatever dynamic block came before. */
START_TEST(test_fixed_block_in_tail) { window_member(FIXED_BLOCK); }
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("deflate_tail");
    TCase *tc = tcase_create("core");
    unit_set_timeout(tc, 3.0);
    tcase_add_loop_test(tc, test_zlib_members, 0, UNIT_SIZE(N_KINDS, 1));
    tcase_add_test(tc, test_dynamic_found);
    tcase_add_test(tc, test_refusals);
    tcase_add_test(tc, test_flipped_bits);
    tcase_add_test(tc, test_window_references);
    tcase_add_test(tc, test_fixed_block_in_tail);
    suite_add_tcase(s, tc);
    return s;
}

BTFM_UNIT_MAIN(make_suite)
