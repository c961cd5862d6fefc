/* btfm_deflate_tail: a deflate block boundary found by parsing candidate headers, our own
 * decoder (RFC 1951) for the stretch whose back-references reach before the boundary, and
 * the library inflate (ISA-L's, else zlib's) for the rest once they stop.
 *
 * Our decoder writes 16-bit symbols after 32 KiB of placeholders, one for each byte of the
 * unknown window (0x8000 + its index): a back-reference into the window copies
 * placeholders, and copies of copies stay placeholders, with no test in the copy loop. */
#include <string.h>
#include <zlib.h>
#ifdef BTFM_HAVE_ISAL
#  include <isa-l.h>
#  include <isa-l/igzip_lib.h>
#endif
#include "core/internal.h"
#include "deflate_tail.h"

enum {
    MARK = 0x8000,
    WINDOW = BTFM_DEFLATE_WINDOW,
    FAST_BITS = 11,
    COPY_SLACK = 16,
    OUT_CHUNK = 1 << 20,           /* the library inflate's output between looks at
                                    * `progress` (about a millisecond) */
    MAX_BITS = 15,
    MAX_CANDIDATE_FAILURES = 1 << 20,
};

/* ---- bits, least significant first ---- */

typedef struct bits {
    const unsigned char *p;
    size_t n;       /* bytes */
    uint64_t pos;   /* the next bit */
    int overrun;    /* a read went past the end */
} bits;

/* At least 56 bits from pos (zeros past the end). */
static inline uint64_t peek(const bits *b)
{
    size_t i = (size_t)(b->pos >> 3);
    uint64_t v = 0;
    if (i + 8 <= b->n) {
        memcpy(&v, b->p + i, 8);
    } else {
        for (size_t k = 0; i + k < b->n && k < 8; k++) v |= (uint64_t)b->p[i + k] << (8 * k);
    }
    return v >> (b->pos & 7);
}

static inline void skip(bits *b, unsigned k)
{
    b->pos += k;
    if (b->pos > (uint64_t)b->n * 8) b->overrun = 1;
}

static inline unsigned take(bits *b, unsigned k)
{
    unsigned v = (unsigned)(peek(b) & ((1u << k) - 1));
    skip(b, k);
    return v;
}

/* ---- canonical Huffman codes ---- */

/* A decoded symbol as our tables hold it: the code's length (bits 0-3), the extra bits
 * that follow it (4-7), its kind (8-9) and its value (16-31: a byte or code length, a
 * match length's or distance's base). 0 means "not in the table" (a longer code). A byte
 * is the one kind tested with one comparison. */
enum { K_BAD = 0, K_VALUE = 1, K_LENGTH = 2, K_END = 3 };
enum { LITLEN, DIST, CODELEN };

#define ENTRY(len, extra, kind, value) \
    ((uint32_t)(len) | (uint32_t)(extra) << 4 | (uint32_t)(kind) << 8 | (uint32_t)(value) << 16)

static const uint16_t LEN_BASE[29] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
                                      35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
static const uint8_t LEN_EXTRA[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
                                      3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const uint16_t DIST_BASE[30] = {1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129,
                                       193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097,
                                       6145, 8193, 12289, 16385, 24577};
static const uint8_t DIST_EXTRA[30] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
                                       7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
static const uint8_t CL_ORDER[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2,
                                     14, 1, 15};

static uint32_t entry_of(int kind, int sym, int len)
{
    if (kind == LITLEN) {
        if (sym < 256) return ENTRY(len, 0, K_VALUE, sym);
        if (sym == 256) return ENTRY(len, 0, K_END, 0);
        if (sym > 285) return ENTRY(len, 0, K_BAD, 0);
        return ENTRY(len, LEN_EXTRA[sym - 257], K_LENGTH, LEN_BASE[sym - 257]);
    }
    if (kind == DIST) {
        if (sym >= 30) return ENTRY(len, 0, K_BAD, 0);
        return ENTRY(len, DIST_EXTRA[sym], K_VALUE, DIST_BASE[sym]);
    }
    return ENTRY(len, 0, K_VALUE, sym);
}

typedef struct huff {
    uint32_t fast[1 << FAST_BITS];
    uint16_t count[MAX_BITS + 1];
    uint16_t symbol[288];
    int kind;
    int empty;                     /* no symbol has a code (a distance code may) */
} huff;

/* The code of lengths len[0, n): 0 when it is usable the way zlib's inflate accepts it
 * (complete, or a single code of length 1 where `single_ok`). */
static int build(huff *h, const unsigned char *len, int n, int single_ok, int kind)
{
    uint16_t offs[MAX_BITS + 2];
    h->kind = kind;
    memset(h->count, 0, sizeof h->count);
    for (int s = 0; s < n; s++) h->count[len[s]]++;
    h->empty = h->count[0] == n;
    int left = 1, max = 0;
    for (int l = 1; l <= MAX_BITS; l++) {
        left <<= 1;
        left -= h->count[l];
        if (left < 0) return -1;
        if (h->count[l]) max = l;
    }
    if (h->empty) return single_ok ? 0 : -1;
    if (left > 0 && !(single_ok && max == 1)) return -1;
    offs[1] = 0;
    for (int l = 1; l <= MAX_BITS; l++) offs[l + 1] = (uint16_t)(offs[l] + h->count[l]);
    for (int s = 0; s < n; s++)
        if (len[s]) h->symbol[offs[len[s]]++] = (uint16_t)s;
    memset(h->fast, 0, sizeof h->fast);
    /* canonical codes: each length's first code follows the shorter lengths' codes */
    unsigned next[MAX_BITS + 1], code = 0;
    next[0] = 0;
    for (int l = 1; l <= MAX_BITS; l++) {
        code = (code + (l > 1 ? h->count[l - 1] : 0)) << 1;
        next[l] = code;
    }
    for (int s = 0; s < n; s++) {
        int l = len[s];
        if (!l || l > FAST_BITS) continue;
        unsigned c = next[l]++, rev = 0;
        for (int k = 0; k < l; k++) rev |= ((c >> k) & 1u) << (l - 1 - k);
        uint32_t e = entry_of(kind, s, l);
        for (unsigned i = rev; i < (1u << FAST_BITS); i += 1u << l) h->fast[i] = e;
    }
    return 0;
}

/* The entry of the code at the bottom of v, 0 when none (an incomplete code). */
static inline uint32_t lookup(const huff *h, uint64_t v)
{
    uint32_t e = h->fast[v & ((1u << FAST_BITS) - 1)];
    if (e) return e;
    /* a code longer than FAST_BITS: one bit at a time */
    int code = 0, first = 0, index = 0;
    for (int l = 1; l <= MAX_BITS; l++) {
        code |= (int)((v >> (l - 1)) & 1);
        int count = h->count[l];
        if (code - count < first) return entry_of(h->kind, h->symbol[index + (code - first)], l);
        index += count;
        first += count;
        first <<= 1;
        code <<= 1;
    }
    return 0;
}

/* ---- the decoder ---- */

typedef struct decoder {
    bits in;
    huff lit, dist;
    uint16_t *out;      /* WINDOW placeholders, then the symbols */
    size_t n, cap;      /* symbols in out (placeholders included), its capacity */
    size_t max;         /* the capacity it may grow to */
} decoder;

/* A dynamic block's codes, after its 3 header bits. */
static int read_dynamic(decoder *d)
{
    bits *b = &d->in;
    unsigned hlit = take(b, 5) + 257, hdist = take(b, 5) + 1, hclen = take(b, 4) + 4;
    if (hlit > 286 || hdist > 30) return -1;
    unsigned char len[320] = {0};
    for (unsigned i = 0; i < hclen; i++) len[CL_ORDER[i]] = (unsigned char)take(b, 3);
    huff cl;
    if (build(&cl, len, 19, 0, CODELEN)) return -1;
    memset(len, 0, sizeof len);
    unsigned i = 0;
    while (i < hlit + hdist) {
        uint32_t e = lookup(&cl, peek(b));
        if (!e) return -1;
        skip(b, e & 15);
        unsigned sym = e >> 16;
        if (sym < 16) {
            len[i++] = (unsigned char)sym;
            continue;
        }
        unsigned rep, val = 0;
        if (sym == 16) {
            if (i == 0) return -1;
            val = len[i - 1];
            rep = 3 + take(b, 2);
        } else if (sym == 17) {
            rep = 3 + take(b, 3);
        } else {
            rep = 11 + take(b, 7);
        }
        if (i + rep > hlit + hdist) return -1;
        while (rep--) len[i++] = (unsigned char)val;
    }
    if (b->overrun || len[256] == 0) return -1;
    if (build(&d->lit, len, (int)hlit, 0, LITLEN)) return -1;
    return build(&d->dist, len + hlit, (int)hdist, 1, DIST);
}

static void fixed_codes(decoder *d)
{
    unsigned char len[288 + 32];
    for (int s = 0; s < 144; s++) len[s] = 8;
    for (int s = 144; s < 256; s++) len[s] = 9;
    for (int s = 256; s < 280; s++) len[s] = 7;
    for (int s = 280; s < 288; s++) len[s] = 8;
    for (int s = 0; s < 32; s++) len[288 + s] = 5; /* 30 and 31 are codes, never valid */
    build(&d->lit, len, 288, 0, LITLEN);
    build(&d->dist, len + 288, 32, 0, DIST);
}

/* A match of `length` symbols from `dist` back (at most the window: the placeholders are
 * there). Sources 16 symbols back or more go 8 at a time, which may write up to 15
 * symbols past the match (the buffer keeps COPY_SLACK of room); nearer ones overlap the
 * match and go one at a time. */
static inline void copy_match(uint16_t *dst, size_t dist, size_t length)
{
    const uint16_t *src = dst - dist;
    if (dist >= 16) {
        memcpy(dst, src, 32);
        for (size_t k = 16; k < length; k += 8) memcpy(dst + k, src + k, 16);
    } else {
        for (size_t k = 0; k < length; k++) dst[k] = src[k];
    }
}

/* The symbols of a Huffman-coded block up to its end-of-block code: 0, 1 when `out` needs
 * more room first (then called again), or -1 when they do not decode. The bits are kept
 * in a 64-bit buffer refilled before every symbol. */
static int read_codes(decoder *d)
{
    const unsigned char *p = d->in.p, *end = d->in.p + d->in.n;
    const unsigned char *at = p + (d->in.pos >> 3);
    uint64_t buf = 0;
    unsigned have = 0, drop = (unsigned)(d->in.pos & 7);
    uint16_t *out = d->out;
    size_t n = d->n;
    const size_t cap = d->cap;
    int result = -1;
    /* the start may be inside a byte */
    if (at < end) {
        buf = (uint64_t)(*at++ >> drop);
        have = 8 - drop;
    }
    /* The fast loop, while 16 bytes of input and room for a few symbols and a match remain:
     * one refill gives 56 bits, enough for three bytes (45 bits), or two bytes and a match
     * (after a second refill), with no checks. */
    const uint32_t *lit = d->lit.fast, *dist_fast = d->dist.fast;
    const uint64_t mask = (1u << FAST_BITS) - 1;
#define REFILL()                                                                         \
    do {                                                                                 \
        uint64_t w_;                                                                     \
        memcpy(&w_, at, 8);                                                              \
        buf |= w_ << have;                                                               \
        at += (63 - have) >> 3;                                                          \
        have |= 56;                                                                      \
    } while (0)
#define KIND(e) (((e) >> 8) & 3)
#define TAKE(k) (buf >>= (k), have -= (k))
    while (end - at >= 16 && cap - n >= 3 + 258 + COPY_SLACK) {
        REFILL();
        uint32_t e = lit[buf & mask];
        if (KIND(e) == K_VALUE) {
            TAKE(e & 15);
            out[n++] = (uint16_t)(e >> 16);
            e = lit[buf & mask];
            if (KIND(e) == K_VALUE) {
                TAKE(e & 15);
                out[n++] = (uint16_t)(e >> 16);
                e = lit[buf & mask];
                if (KIND(e) == K_VALUE) {
                    TAKE(e & 15);
                    out[n++] = (uint16_t)(e >> 16);
                    continue;
                }
            }
        }
        if (!e && !(e = lookup(&d->lit, buf))) goto done;
        TAKE(e & 15);
        if (KIND(e) == K_VALUE) {
            out[n++] = (uint16_t)(e >> 16);
            continue;
        }
        if (KIND(e) == K_END) {
            result = 0;
            goto done;
        }
        if (KIND(e) == K_BAD || d->dist.empty) goto done;
        if (have < 33) REFILL(); /* a length's extra bits, a distance and its extra bits */
        unsigned extra = (e >> 4) & 15;
        size_t length = (e >> 16) + (unsigned)(buf & ((1u << extra) - 1));
        TAKE(extra);
        uint32_t f = dist_fast[buf & mask];
        if (!f && !(f = lookup(&d->dist, buf))) goto done;
        if (KIND(f) == K_BAD) goto done;
        TAKE(f & 15);
        unsigned dextra = (f >> 4) & 15;
        size_t dist = (f >> 16) + (size_t)(buf & ((1u << dextra) - 1));
        TAKE(dextra);
        copy_match(out + n, dist, length);
        n += length;
    }
#undef TAKE
#undef KIND
#undef REFILL
    /* the careful loop, for the last bytes of input or room */
    for (;;) {
        if (cap - n < 258 + COPY_SLACK + 1) {
            result = 1; /* room for a match before the next symbol: the caller grows out */
            break;
        }
        if (end - at >= 8) {
            uint64_t w;
            memcpy(&w, at, 8);
            buf |= w << have;
            at += (63 - have) >> 3;
            have |= 56;
        } else {
            while (have <= 56 && at < end) {
                buf |= (uint64_t)*at++ << have;
                have += 8;
            }
        }
        uint32_t e = lookup(&d->lit, buf);
        unsigned len = e & 15;
        if (!e || len > have) break;
        buf >>= len;
        have -= len;
        unsigned kind = (e >> 8) & 3;
        if (kind == K_VALUE) {
            out[n++] = (uint16_t)(e >> 16);
            continue;
        }
        if (kind == K_END) {
            result = 0;
            break;
        }
        if (kind == K_BAD) break;
        unsigned extra = (e >> 4) & 15;
        if (extra > have) break;
        size_t length = (e >> 16) + (unsigned)(buf & ((1u << extra) - 1));
        buf >>= extra;
        have -= extra;
        if (d->dist.empty) break;
        uint32_t f = lookup(&d->dist, buf);
        unsigned dlen = f & 15, dextra = (f >> 4) & 15;
        if (!f || ((f >> 8) & 3) == K_BAD || dlen + dextra > have) break;
        buf >>= dlen;
        size_t dist = (f >> 16) + (size_t)(buf & ((1u << dextra) - 1));
        buf >>= dextra;
        have -= dlen + dextra;
        copy_match(out + n, dist, length);
        n += length;
    }
done:
    /* back to a bit position: the bytes taken, less the bits not used */
    d->in.pos = (uint64_t)(at - p) * 8 - have;
    d->n = n;
    return result;
}

/* Room for `need` more symbols (and a match's slack) in d->out, up to d->max: 0 or -1. */
static int grow(decoder *d, size_t need)
{
    size_t cap = d->cap;
    while (cap - d->n < need + 258 + COPY_SLACK + 1 && cap < d->max) cap = cap * 2 < d->max ? cap * 2 : d->max;
    if (cap - d->n < need + 258 + COPY_SLACK + 1) return -1;
    if (cap == d->cap) return 0;
    uint16_t *out = btfm_realloc(d->out, cap * sizeof *out);
    if (!out) return -1;
    d->out = out;
    d->cap = cap;
    return 0;
}

/* One block: 1 after the last block of the member, 0 after another, -1 when it does not
 * decode. */
static int read_block(decoder *d)
{
    bits *b = &d->in;
    unsigned last = take(b, 1), type = take(b, 2);
    int r;
    if (type == 0) {
        b->pos = (b->pos + 7) & ~(uint64_t)7;
        unsigned len = take(b, 16), nlen = take(b, 16);
        if (b->overrun || len != (~nlen & 0xffffu)) return -1;
        size_t at = (size_t)(b->pos >> 3);
        if (at + len > b->n || grow(d, len)) return -1;
        for (unsigned k = 0; k < len; k++) d->out[d->n++] = b->p[at + k];
        b->pos += 8 * (uint64_t)len;
        r = 0;
    } else if (type == 1 || type == 2) {
        if (type == 1) fixed_codes(d);
        else if (read_dynamic(d)) return -1;
        while ((r = read_codes(d)) == 1)
            if (grow(d, 1)) return -1;
    } else {
        return -1;
    }
    if (r || b->overrun) return -1;
    return last ? 1 : 0;
}

/* Whether a dynamic or stored block that is not the member's last may start at bit `at`:
 * a cheap test before decoding from there. */
static int plausible(const bits *src, uint64_t at)
{
    bits b = *src;
    b.pos = at;
    uint64_t v = peek(&b);
    if (v & 1) return 0;
    unsigned type = (unsigned)(v >> 1) & 3;
    if (type == 0) {
        uint64_t byte = (at + 3 + 7) >> 3;
        if (byte + 4 > b.n) return 0;
        const unsigned char *p = b.p + byte;
        unsigned len = p[0] | (unsigned)p[1] << 8, nlen = p[2] | (unsigned)p[3] << 8;
        return len == (~nlen & 0xffffu);
    }
    if (type != 2) return 0;
    if (((v >> 3) & 31) > 29 || ((v >> 8) & 31) > 29) return 0;
    unsigned hclen = (unsigned)((v >> 13) & 15) + 4;
    b.pos = at + 17;
    unsigned char len[19] = {0};
    for (unsigned i = 0; i < hclen; i++) len[CL_ORDER[i]] = (unsigned char)take(&b, 3);
    int left = 1;
    for (int l = 1; l <= 7; l++) {
        int count = 0;
        for (int s = 0; s < 19; s++) count += len[s] == l;
        left = 2 * left - count;
        if (left < 0) return 0;
    }
    return left == 0;
}

/* Whether the last WINDOW symbols are all bytes. */
static int window_known(const decoder *d)
{
    if (d->n < 2 * WINDOW) return 0;
    const uint16_t *s = d->out + d->n - WINDOW;
    uint16_t any = 0;
    for (size_t k = 0; k < WINDOW; k++) any |= s[k];
    return !(any & MARK);
}

/* ---- the tail ---- */

void btfm_deflate_tail_free(btfm_deflate_tail *t)
{
    btfm_free(t->data);
    btfm_free(t->marked_block);
    btfm_free(t->symbols);
    memset(t, 0, sizeof *t);
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- the rest, through the library inflate: ISA-L's, else zlib's ---- */

#ifdef BTFM_HAVE_ISAL
typedef struct inflate_state rest_state;

/* An inflate of the raw deflate data from bit `at` of file[0, size), with `window` as the
 * 32 KiB before it: 0, or -1. */
static int rest_open(rest_state *z, const unsigned char *file, size_t size, uint64_t at,
                     const unsigned char *window)
{
    isal_inflate_init(z);
    z->crc_flag = ISAL_DEFLATE;
    if (isal_inflate_set_dict(z, (uint8_t *)window, WINDOW) != COMP_OK) return -1;
    size_t byte = (size_t)(at >> 3);
    unsigned shift = (unsigned)(at & 7);
    if (shift) { /* the start's byte goes to the bit buffer, less the bits before it */
        z->read_in = (uint64_t)(file[byte] >> shift);
        z->read_in_length = (int32_t)(8 - shift);
        byte++;
    }
    z->next_in = (uint8_t *)file + byte;
    z->avail_in = size - byte > UINT32_MAX ? UINT32_MAX : (uint32_t)(size - byte);
    return 0;
}

/* Up to `room` bytes into out (*made of them): 1 at the end of the data, 0 to go on, -1
 * when it does not decode or makes no progress. */
static int rest_step(rest_state *z, unsigned char *out, uint32_t room, size_t *made)
{
    z->next_out = out;
    z->avail_out = room;
    int r = isal_inflate(z);
    *made = room - z->avail_out;
    if (r != ISAL_DECOMP_OK) return -1;
    if (z->block_state == ISAL_BLOCK_FINISH) return 1;
    return *made ? 0 : -1;
}

/* After the end: the byte after the last block (its last bits rounded up). */
static size_t rest_end(const rest_state *z, const unsigned char *file)
{
    uint64_t end_bit = (uint64_t)(z->next_in - file) * 8 - (uint64_t)z->read_in_length;
    return (size_t)((end_bit + 7) / 8);
}

static size_t rest_in(const rest_state *z, const unsigned char *file)
{
    return (size_t)(z->next_in - file);
}

static void rest_close(rest_state *z) { (void)z; }

static uint32_t crc32_of(const unsigned char *p, size_t n) { return crc32_gzip_refl(0, p, n); }

#else
typedef z_stream rest_state;

static int rest_open(rest_state *z, const unsigned char *file, size_t size, uint64_t at,
                     const unsigned char *window)
{
    memset(z, 0, sizeof *z);
    if (inflateInit2(z, -15) != Z_OK) return -1;
    if (inflateSetDictionary(z, window, WINDOW) != Z_OK) {
        inflateEnd(z);
        return -1;
    }
    size_t byte = (size_t)(at >> 3);
    unsigned shift = (unsigned)(at & 7);
    if (shift) { /* the bits of the start's byte from the start on */
        inflatePrime(z, (int)(8 - shift), file[byte] >> shift);
        byte++;
    }
    z->next_in = (unsigned char *)file + byte;
    z->avail_in = size - byte > UINT32_MAX ? UINT32_MAX : (uInt)(size - byte);
    return 0;
}

static int rest_step(rest_state *z, unsigned char *out, uint32_t room, size_t *made)
{
    z->next_out = out;
    z->avail_out = room;
    int r = inflate(z, Z_NO_FLUSH);
    *made = room - z->avail_out;
    if (r == Z_STREAM_END) return 1;
    if (r != Z_OK) return -1;
    return *made ? 0 : -1;
}

/* zlib stops at the end of the last block and keeps no byte it did not use. */
static size_t rest_end(const rest_state *z, const unsigned char *file)
{
    return (size_t)(z->next_in - file);
}

static size_t rest_in(const rest_state *z, const unsigned char *file)
{
    return (size_t)(z->next_in - file);
}

static void rest_close(rest_state *z) { inflateEnd(z); }

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    while (n) {
        uInt k = n > (1u << 30) ? 1u << 30 : (uInt)n;
        crc = crc32(crc, p, k);
        p += k;
        n -= k;
    }
    return (uint32_t)crc;
}
#endif

/* The library inflate from bit `at` to the end of the member, with the 32 KiB before it as
 * its dictionary, into t->data + t->n_marked; then the end must meet the trailer. */
static int inflate_rest(const unsigned char *file, size_t size, uint64_t at,
                        const unsigned char *window, btfm_deflate_tail *t,
                        btfm_deflate_tail_progress *progress)
{
    rest_state *z = btfm_malloc(sizeof *z);
    if (!z) return -1;
    int r = rest_open(z, file, size, at, window);
    size_t done = t->n_marked;
    while (r == 0) {
        if (done == t->capacity) {
            /* full: grow, unless the member would outgrow its trailer's length */
            size_t cap = t->capacity * 2 < t->max ? t->capacity * 2 : t->max;
            unsigned char *data = cap > t->capacity ? btfm_realloc(t->data, cap) : NULL;
            if (!data) {
                r = -1;
                break;
            }
            t->data = data;
            t->capacity = cap;
        }
        size_t room = t->capacity - done, made;
        r = rest_step(z, t->data + done, room > OUT_CHUNK ? OUT_CHUNK : (uint32_t)room, &made);
        done += made;
        atomic_store(&progress->done, rest_in(z, file));
        if (r == 0 && atomic_load(&progress->cancel)) r = -1;
    }
    /* the last block's end, rounded up to a byte, must be the trailer's start */
    if (r == 1) r = rest_end(z, file) + 8 == size && done <= t->trailer_isize ? 0 : -1;
    t->n = done;
    rest_close(z);
    btfm_free(z);
    return r;
}

int btfm_deflate_tail_inflate(const unsigned char *file, size_t size, size_t from,
                              size_t search, btfm_deflate_tail_progress *progress,
                              btfm_deflate_tail *t)
{
    memset(t, 0, sizeof *t);
    if (size < from + 16 || size - 8 > SIZE_MAX / 16) return -1;
    t->trailer_crc = le32(file + size - 8);
    t->trailer_isize = le32(file + size - 4);
    /* The tail is at most the member's length mod 2^32: larger members are refused. The
     * buffers start at 64 bytes a compressed byte (or that length) and grow as needed. */
    t->max = (size_t)t->trailer_isize + 1;
    t->capacity = (size - from) < t->max / 64 ? 64 * (size - from) + 65536 : t->max;
    if (t->capacity > t->max) t->capacity = t->max;
    decoder *d = btfm_malloc(sizeof *d);
    if (!d) return -1;
    memset(d, 0, sizeof *d);
    d->max = WINDOW + t->max + 258 + COPY_SLACK + 1;
    d->cap = WINDOW + t->capacity + 258 + COPY_SLACK + 1;
    d->out = btfm_malloc_large(d->cap * sizeof *d->out);
    t->data = btfm_malloc_large(t->capacity);
    if (!d->out || !t->data) {
        btfm_free(d->out);
        btfm_free(d);
        return -1;
    }
    for (size_t k = 0; k < WINDOW; k++) d->out[k] = (uint16_t)(MARK | k);
    d->in = (bits){.p = file, .n = size - 8};
    uint64_t at = (uint64_t)from * 8, stop = (uint64_t)(from + search) * 8;
    if (stop > (uint64_t)(size - 8) * 8) stop = (uint64_t)(size - 8) * 8;
    /* Candidates in order. A false one (a stored block's length check passes by chance
     * once in 2^16 bytes) usually fails within a block or two; one that fails after more
     * is taken for damaged data, which the ordinary read reports. */
    int result = -1, failures = 0, blocks;
    atomic_int *cancel = &progress->cancel;
    for (; at < stop && !atomic_load(cancel) && failures < MAX_CANDIDATE_FAILURES; at++) {
        if (!plausible(&d->in, at)) continue;
        d->in.pos = at;
        d->in.overrun = 0;
        d->n = WINDOW;
        /* blocks by our decoder until 32 KiB of output hold no placeholder */
        int r = 0;
        for (blocks = 0; r == 0 && !atomic_load(cancel) && (blocks == 0 || !window_known(d));
             blocks++) {
            r = read_block(d);
            atomic_store(&progress->done, (size_t)(d->in.pos >> 3));
        }
        if (atomic_load(cancel)) break;
        if (r < 0) {
            failures++;
            if (blocks > 2) break;
            continue;
        }
        t->start_bit = at;
        t->n_marked = d->n - WINDOW;
        if (r == 1) {
            /* the member ended within our decoder's stretch: the end must meet the trailer */
            t->n = t->n_marked;
            result = (d->in.pos + 7) / 8 == size - 8 && t->n <= t->trailer_isize ? 0 : -1;
        } else {
            unsigned char window[WINDOW];
            for (size_t k = 0; k < WINDOW; k++) window[k] = (unsigned char)d->out[d->n - WINDOW + k];
            atomic_store(&progress->fast, 1);
            result = inflate_rest(file, size, d->in.pos, window, t, progress);
        }
        if (result == 0 || blocks > 2) break;
        failures++;
    }
    if (result == 0) {
        t->marked = d->out + WINDOW;
        t->marked_block = d->out;
        d->out = NULL;
    }
    btfm_free(d->out);
    btfm_free(d);
    return result;
}

int btfm_deflate_tail_set_window(btfm_deflate_tail *t, const unsigned char *window)
{
    if (!t->symbols && !(t->symbols = btfm_calloc(1u << 16, 1))) return -1;
    for (unsigned v = 0; v < 256; v++) t->symbols[v] = (unsigned char)v;
    memcpy(t->symbols + MARK, window, WINDOW);
    return 0;
}

uint32_t btfm_deflate_tail_copy(const btfm_deflate_tail *t, size_t from, size_t n,
                                unsigned char *dst)
{
    const unsigned char *sym = t->symbols;
    size_t k = from, end = from + n, marked_end = end < t->n_marked ? end : t->n_marked;
    unsigned char *out = dst;
    /* 16 symbols at a time: bytes alone narrow in vector code, else through the table */
    for (; k + 16 <= marked_end; k += 16, out += 16) {
        const uint16_t *m = t->marked + k;
        uint16_t any = 0;
        for (int i = 0; i < 16; i++) any |= m[i];
        if (any & MARK)
            for (int i = 0; i < 16; i++) out[i] = sym[m[i]];
        else
            for (int i = 0; i < 16; i++) out[i] = (unsigned char)m[i];
    }
    for (; k < marked_end; k++) *out++ = sym[t->marked[k]];
    if (k < end) memcpy(out, t->data + k, end - k);
    return crc32_of(dst, n);
}
