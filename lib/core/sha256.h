/* SHA-256 (FIPS 180-4) and HMAC-SHA-256 (RFC 2104): file fingerprints for provenance and
 * keyed pseudonyms for privacy. Internal; not installed. */
#ifndef BTFM_CORE_SHA256_H
#define BTFM_CORE_SHA256_H

#include <stddef.h>
#include <stdint.h>
#include "internal.h"

typedef struct btfm_sha256_ctx {
    uint32_t state[8];
    uint64_t n_bytes;
    uint8_t block[64];
    size_t used;
    int shani;  /* the CPU's SHA extensions compress the blocks */
} btfm_sha256_ctx;

void btfm_sha256_init(btfm_sha256_ctx *c);
void btfm_sha256_update(btfm_sha256_ctx *c, const void *data, size_t len);
void btfm_sha256_final(btfm_sha256_ctx *c, uint8_t digest[32]);

/* One-shot digest of `len` bytes. */
void btfm_sha256(const void *data, size_t len, uint8_t digest[32]);

/* HMAC-SHA-256 of `data` under `key` (any length; longer than 64 bytes is hashed first). */
void btfm_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                      uint8_t digest[32]);

/* Digest of the whole regular file `path` (read in blocks); `who` starts the messages.
 * *n_bytes (may be NULL) receives its size. */
btfm_status btfm_sha256_file(const char *path, const char *who, uint8_t digest[32],
                             uint64_t *n_bytes);

/* The first `n_bytes` bytes of a digest as lower-case hex into `hex` (2 n + 1 bytes). */
void btfm_hex(const uint8_t *bytes, size_t n_bytes, char *hex);

#endif
