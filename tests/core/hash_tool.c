/* The internal SHA-256 and HMAC-SHA-256 as a command, so Python's hashlib and hmac can
 * check them (tests/core/test_hash_interop.py):
 *   hash_tool sha256 FILE          the file's digest (streamed in blocks)
 *   hash_tool sha256-split FILE N  the digest of the file fed in pieces of N bytes
 *   hash_tool sha256-scalar FILE   the digest by the portable kernel (not SHA-NI)
 *   hash_tool hmac KEYFILE FILE    HMAC-SHA-256 of FILE's bytes under KEYFILE's bytes
 * Prints the digest in hex. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/read_file.h"
#include "core/sha256.h"

static int failed(void)
{
    fprintf(stderr, "%s\n", btfm_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    uint8_t digest[32];
    char hex[65];
    char *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    if (argc == 3 && strcmp(argv[1], "sha256") == 0) {
        if (btfm_sha256_file(argv[2], "hash_tool", digest, NULL)) return failed();
    } else if ((argc == 4 && strcmp(argv[1], "sha256-split") == 0) ||
               (argc == 3 && strcmp(argv[1], "sha256-scalar") == 0)) {
        if (btfm_read_file(argv[2], "hash_tool", (size_t)1 << 30, &a, &na)) return failed();
        size_t piece = argc == 4 ? (size_t)strtoul(argv[3], NULL, 10) : na + 1;
        btfm_sha256_ctx c;
        btfm_sha256_init(&c);
        if (argc == 3) c.shani = 0;
        for (size_t at = 0; at < na; at += piece)
            btfm_sha256_update(&c, a + at, na - at < piece ? na - at : piece);
        btfm_sha256_final(&c, digest);
    } else if (argc == 4 && strcmp(argv[1], "hmac") == 0) {
        if (btfm_read_file(argv[2], "hash_tool", (size_t)1 << 30, &a, &na) ||
            btfm_read_file(argv[3], "hash_tool", (size_t)1 << 30, &b, &nb))
            return failed();
        btfm_hmac_sha256(a, na, b, nb, digest);
    } else {
        fprintf(stderr, "usage: hash_tool sha256 FILE | sha256-split FILE N | sha256-scalar FILE | "
                        "hmac KEY FILE\n");
        return 2;
    }
    btfm_hex(digest, 32, hex);
    printf("%s\n", hex);
    btfm_free(a);
    btfm_free(b);
    return 0;
}
