/* SHA-256 (FIPS 180-4, section 6.2) and HMAC (RFC 2104) over it: one implementation for
 * the source fingerprints and subject pseudonyms of corpora. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "sha256.h"
#include "read_file.h"
#if defined(__GNUC__) && defined(__x86_64__)
#  include <cpuid.h>
#  include <immintrin.h>
#endif

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2,
};

static inline uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static void compress_scalar(uint32_t *h, const uint8_t *p)
{
    uint32_t w[64];
    for (int t = 0; t < 16; t++)
        w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 |
               (uint32_t)p[4 * t + 2] << 8 | p[4 * t + 3];
    for (int t = 16; t < 64; t++) {
        uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
        uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (int t = 0; t < 64; t++) {
        uint32_t t1 = k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) +
                      K[t] + w[t];
        uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        k = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += k;
}

#if defined(__GNUC__) && defined(__x86_64__)
/* The SHA extensions (Intel SHA-NI, also on AMD Zen): two rounds an instruction on the
 * state held as ABEF and CDGH, the schedule by sha256msg1/msg2; four rounds (one group
 * of the message) a step, the schedule of group g + 1 built during group g. */
__attribute__((target("sha,sse4.1"))) static void compress_shani(uint32_t *h, const uint8_t *p)
{
    const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
    __m128i tmp = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(const void *)h), 0xB1);
    __m128i s1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(const void *)(h + 4)), 0x1B);
    __m128i s0 = _mm_alignr_epi8(tmp, s1, 8);   /* ABEF */
    s1 = _mm_blend_epi16(s1, tmp, 0xF0);        /* CDGH */
    const __m128i abef = s0, cdgh = s1;
    __m128i w[4];
    for (int i = 0; i < 16; i++) {
        if (i < 4) w[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + 16 * i)), swap);
        __m128i msg = _mm_add_epi32(w[i & 3], _mm_loadu_si128((const __m128i *)(const void *)(K + 4 * i)));
        s1 = _mm_sha256rnds2_epu32(s1, s0, msg);
        if (i >= 3 && i <= 14) { /* group i + 1 = msg1 part + w[t-7] + msg2 */
            __m128i next = _mm_add_epi32(w[(i + 1) & 3], _mm_alignr_epi8(w[i & 3], w[(i + 3) & 3], 4));
            w[(i + 1) & 3] = _mm_sha256msg2_epu32(next, w[i & 3]);
        }
        s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(msg, 0x0E));
        if (i >= 1 && i <= 12) w[(i + 3) & 3] = _mm_sha256msg1_epu32(w[(i + 3) & 3], w[i & 3]);
    }
    s0 = _mm_add_epi32(s0, abef);
    s1 = _mm_add_epi32(s1, cdgh);
    tmp = _mm_shuffle_epi32(s0, 0x1B);          /* FEBA */
    s1 = _mm_shuffle_epi32(s1, 0xB1);           /* DCHG */
    _mm_storeu_si128((__m128i *)(void *)h, _mm_blend_epi16(tmp, s1, 0xF0));        /* DCBA */
    _mm_storeu_si128((__m128i *)(void *)(h + 4), _mm_alignr_epi8(s1, tmp, 8));     /* HGFE */
}

static int have_shani(void)
{
    unsigned a, b, c, d; /* CPUID leaf 7: EBX bit 29 is SHA */
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.1") && __get_cpuid_count(7, 0, &a, &b, &c, &d) &&
           (b >> 29 & 1);
}
#endif

/* One 64-byte block into the state, with the SHA extensions where the CPU has them. */
static void compress(const btfm_sha256_ctx *c, uint32_t *h, const uint8_t *p)
{
#if defined(__GNUC__) && defined(__x86_64__)
    if (c->shani) {
        compress_shani(h, p);
        return;
    }
#endif
    (void)c;
    compress_scalar(h, p);
}

void btfm_sha256_init(btfm_sha256_ctx *c)
{
    static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(c->state, h0, sizeof h0);
#if defined(__GNUC__) && defined(__x86_64__)
    c->shani = have_shani();
#else
    c->shani = 0;
#endif
    c->n_bytes = 0;
    c->used = 0;
}

void btfm_sha256_update(btfm_sha256_ctx *c, const void *data, size_t len)
{
    const uint8_t *p = data;
    c->n_bytes += len;
    if (c->used) {
        size_t take = 64 - c->used < len ? 64 - c->used : len;
        memcpy(c->block + c->used, p, take);
        c->used += take, p += take, len -= take;
        if (c->used < 64) return;
        compress(c, c->state, c->block);
        c->used = 0;
    }
    for (; len >= 64; p += 64, len -= 64) compress(c, c->state, p);
    memcpy(c->block, p, len);
    c->used = len;
}

void btfm_sha256_final(btfm_sha256_ctx *c, uint8_t digest[32])
{
    uint64_t bits = c->n_bytes * 8;
    c->block[c->used++] = 0x80;
    if (c->used > 56) {
        memset(c->block + c->used, 0, 64 - c->used);
        compress(c, c->state, c->block);
        c->used = 0;
    }
    memset(c->block + c->used, 0, 56 - c->used);
    for (int i = 0; i < 8; i++) c->block[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
    compress(c, c->state, c->block);
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 4; j++) digest[4 * i + j] = (uint8_t)(c->state[i] >> (24 - 8 * j));
}

void btfm_sha256(const void *data, size_t len, uint8_t digest[32])
{
    btfm_sha256_ctx c;
    btfm_sha256_init(&c);
    btfm_sha256_update(&c, data, len);
    btfm_sha256_final(&c, digest);
}

void btfm_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                      uint8_t digest[32])
{
    uint8_t k[64] = {0}, pad[64], inner[32];
    if (key_len > 64) btfm_sha256(key, key_len, k);
    else if (key_len) memcpy(k, key, key_len);
    btfm_sha256_ctx c;
    for (int i = 0; i < 64; i++) pad[i] = k[i] ^ 0x36;
    btfm_sha256_init(&c);
    btfm_sha256_update(&c, pad, 64);
    btfm_sha256_update(&c, data, len);
    btfm_sha256_final(&c, inner);
    for (int i = 0; i < 64; i++) pad[i] = k[i] ^ 0x5c;
    btfm_sha256_init(&c);
    btfm_sha256_update(&c, pad, 64);
    btfm_sha256_update(&c, inner, 32);
    btfm_sha256_final(&c, digest);
}

btfm_status btfm_sha256_file(const char *path, const char *who, uint8_t digest[32],
                             uint64_t *n_bytes)
{
    int fd;
    btfm_status st = btfm_open_regular(path, who, &fd);
    if (st != BTFM_OK) return st;
    enum { CHUNK = 1 << 16 };
    uint8_t *buf = btfm_malloc(CHUNK);
    if (!buf) {
        close(fd);
        return btfm_fail_nomem(who, CHUNK);
    }
    btfm_sha256_ctx c;
    btfm_sha256_init(&c);
    for (;;) {
        ssize_t got = read(fd, buf, CHUNK);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            int err = errno;
            btfm_free(buf);
            close(fd);
            return btfm_fail(BTFM_E_IO, "%s: %s: cannot read (%s)", who, path, strerror(err));
        }
        if (got == 0) break;
        btfm_sha256_update(&c, buf, (size_t)got);
    }
    btfm_free(buf);
    close(fd);
    if (n_bytes) *n_bytes = c.n_bytes;
    btfm_sha256_final(&c, digest);
    return BTFM_OK;
}

void btfm_hex(const uint8_t *bytes, size_t n_bytes, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n_bytes; i++) {
        hex[2 * i] = digits[bytes[i] >> 4];
        hex[2 * i + 1] = digits[bytes[i] & 15];
    }
    hex[2 * n_bytes] = '\0';
}
