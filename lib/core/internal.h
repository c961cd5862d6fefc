/* Helpers shared by every layer inside libbtfm: the one error path, the allocator,
 * logging, and overflow-checked size arithmetic. Not installed. */
#ifndef BTFM_CORE_INTERNAL_H
#define BTFM_CORE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <btfm/log.h>
#include <btfm/status.h>

#if defined(__GNUC__) || defined(__clang__)
#  define BTFM_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#  define BTFM_PRINTF(fmt, args)
#endif

/* Inner loops that decide a benchmark: GCC vectorizes them only at -O3 (its -O2 cost model
 * is too cautious for the tile transposes); clang does at -O2 already. */
#if defined(__GNUC__) && !defined(__clang__)
#  define BTFM_HOT __attribute__((hot, optimize("O3")))
#else
#  define BTFM_HOT
#endif

/* Vectorized clones of hot loops for CPUs with AVX-512 or AVX2, chosen when the library
 * loads. The loops use no fused multiply-add (C11 mode contracts nothing), so every clone
 * computes the same values. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#  define BTFM_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#  define BTFM_SIMD_CLONES
#endif

/* Record `status` and a formatted message as the thread's last error; returns status so
 * failures read `return btfm_fail(BTFM_E_FORMAT, "edf: %s: ...", path);`. */
btfm_status btfm_fail(btfm_status status, const char *fmt, ...) BTFM_PRINTF(2, 3);

/* Fail with BTFM_E_INVALID when `ptr` is NULL: "<func>: <what> is NULL". */
#define BTFM_CHECK_ARG(ptr, func, what)                                               \
    do {                                                                              \
        if ((ptr) == NULL) return btfm_fail(BTFM_E_INVALID, "%s: %s is NULL", func, what); \
    } while (0)

/* Allocation through the installed allocator. btfm_free(NULL) is a no-op. Failures
 * return NULL; callers report BTFM_E_NOMEM with btfm_fail_nomem. */
void *btfm_malloc(size_t size);
void *btfm_calloc(size_t count, size_t size);
void *btfm_realloc(void *ptr, size_t size);
void btfm_free(void *ptr);
char *btfm_strdup(const char *s);
/* btfm_malloc for large buffers the library fills itself: blocks of 4 MB and more are
 * advised to use transparent huge pages (madvise MADV_HUGEPAGE), which makes their first
 * touch several times cheaper on machines with THP in madvise mode. Free with btfm_free. */
void *btfm_malloc_large(size_t size);
/* btfm_malloc_large for buffers the library's own threads rewrite again and again: their
 * whole pages are left out of child processes made by fork (MADV_DONTFORK). Otherwise a
 * host that forks (a PyTorch DataLoader's workers) turns every such page copy-on-write,
 * and the next rewrite takes one page fault a page. Free with btfm_free_unshared and the
 * same size. */
void *btfm_malloc_unshared(size_t size);
void btfm_free_unshared(void *p, size_t size);

/* Make room for `need` elements of `size` bytes in *array (capacity *capacity, grown by
 * doubling from 64); `what` names the caller in the NOMEM message. */
btfm_status btfm_reserve(void **array, int64_t *capacity, int64_t need, size_t size,
                         const char *what);
btfm_status btfm_fail_nomem(const char *where, size_t size);

/* `s` as a message may quote it: bytes below 32 and 127 (control characters) as \xHH,
 * cut to fit `cap` bytes of `buf`. Returns buf. */
const char *btfm_printable(const char *s, char *buf, size_t cap);

/* The "known: ..." part of a message: the n names name_at(ctx, 0 .. n-1) (each distinct
 * non-empty one once, in first-seen order) written to `out` as "a, b, c", ending with
 * ", ..." when more do not fit in `cap` bytes; "" when there are none. */
void btfm_name_list(char *out, size_t cap, int64_t n,
                    const char *(*name_at)(const void *ctx, int64_t i), const void *ctx);

/* Log a message at `level` through the installed callback. */
void btfm_log(int level, const char *fmt, ...) BTFM_PRINTF(2, 3);
#define btfm_warn(...) btfm_log(BTFM_LOG_WARNING, __VA_ARGS__)

/* a * b and a + b without overflow: 0 on success, -1 when the result exceeds SIZE_MAX. */
static inline int btfm_mul_size(size_t a, size_t b, size_t *out)
{
    if (b != 0 && a > SIZE_MAX / b) return -1;
    *out = a * b;
    return 0;
}

static inline int btfm_add_size(size_t a, size_t b, size_t *out)
{
    if (a > SIZE_MAX - b) return -1;
    *out = a + b;
    return 0;
}

/* 1 when `s` (of `len` bytes) is valid UTF-8 without NUL bytes. */
int btfm_utf8_valid(const char *s, size_t len);

/* Length in bytes (1 to 4) of the well-formed UTF-8 character at the start of `s` (of
 * `len` bytes; a NUL byte counts as a character of 1); 0 when it is malformed. */
int btfm_utf8_char(const char *s, size_t len);

/* Write code point `c` as UTF-8 at `out` (room for 4 bytes); U+FFFD stands for surrogates
 * and values past U+10FFFF. The bytes written. */
size_t btfm_utf8_put(char *out, uint32_t c);

#endif
