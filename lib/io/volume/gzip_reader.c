/* btfm_gzip_reader: ISA-L's streaming inflate over our own input buffer (members chained
 * and checked here the way gzread does), or zlib's gzread when built without ISA-L; the
 * failure messages are shared so both builds say the same thing. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>
#include <zlib.h>
#ifdef BTFM_HAVE_ISAL
#  include <isa-l.h>
#  include <isa-l/igzip_lib.h>
#endif
#include "core/read_file.h"
#include "gzip_reader.h"

enum { IN_BYTES = 1 << 18, SKIP_BYTES = 1 << 16, CHUNK = 1 << 30 };

/* ---- messages, the same for both inflates ---- */

/* "volume 12", or "header" for reads of the first bytes (volume -1). */
static const char *where(char *buf, size_t cap, int64_t volume)
{
    if (volume < 0) return "header";
    snprintf(buf, cap, "volume %lld", (long long)volume);
    return buf;
}

static btfm_status fail_short(const char *path, int64_t volume, int64_t at, size_t n,
                              int64_t done)
{
    return btfm_fail(BTFM_E_TRUNCATED, "nifti: %s: volume %lld ends after %lld of %zu bytes, at "
                     "byte %lld of the uncompressed data (the file is shorter than its header "
                     "says)", path, (long long)volume, (long long)done, n, (long long)(at + done));
}

static btfm_status fail_cut(const char *path, int64_t volume, int64_t pos)
{
    char w[32];
    return btfm_fail(BTFM_E_TRUNCATED, "nifti: %s: %s: the gzip data ends inside a compressed "
                     "member, at byte %lld of the uncompressed data (unexpected end of file); "
                     "expected the rest of the member and its 8-byte trailer", path,
                     where(w, sizeof w, volume), (long long)pos);
}

static btfm_status fail_corrupt(const char *path, int64_t volume, int64_t pos, const char *what)
{
    char w[32];
    return btfm_fail(BTFM_E_FORMAT, "nifti: %s: %s: corrupted gzip data at byte %lld of the "
                     "uncompressed data: %s; expected an intact gzip stream", path,
                     where(w, sizeof w, volume), (long long)pos, what);
}

static btfm_status fail_io(const char *path, int64_t volume, int64_t pos, int err)
{
    char w[32];
    return btfm_fail(BTFM_E_IO, "nifti: %s: %s: %s (reading byte %lld of the uncompressed "
                     "data)", path, where(w, sizeof w, volume), strerror(err), (long long)pos);
}

#ifdef BTFM_HAVE_ISAL

#  define STR2(x) #x
#  define STR(x) STR2(x)

struct btfm_gzip_reader {
    int fd;
    char *path;
    int direct;                   /* not gzip: the file's bytes are the data */
    struct inflate_state *z;
    unsigned char *in;            /* IN_BYTES read from the file, z->next_in inside it */
    int64_t file_pos;             /* file offset of the next byte to read into `in` */
    int file_end;                 /* read() returned 0 */
    int data_end;                 /* the last member ended: the data ends at `pos` */
    int64_t pos;                  /* uncompressed offset of the next byte inflate gives */
    uint32_t member_out;          /* bytes the current member gave so far (mod 2^32) */
    int64_t member;               /* the current member, 0 for the first */
    unsigned char *skip;          /* SKIP_BYTES of scratch for forward jumps */
};

const char *btfm_gzip_backend(void)
{
    return "isa-l " STR(ISAL_MAJOR_VERSION) "." STR(ISAL_MINOR_VERSION);
}

static void start_member(btfm_gzip_reader *g, int64_t member)
{
    g->member = member;
    isal_inflate_reset(g->z);
    g->z->crc_flag = ISAL_GZIP;
    g->member_out = 0;
}

/* More input after what z has not used yet (kept at the start of the buffer). */
static btfm_status refill(btfm_gzip_reader *g, int64_t volume)
{
    size_t keep = g->z->avail_in;
    if (keep && g->z->next_in != g->in) memmove(g->in, g->z->next_in, keep);
    g->z->next_in = g->in;
    size_t got;
    int err = btfm_pread_full(g->fd, g->in + keep, IN_BYTES - keep, g->file_pos, &got);
    if (err) return fail_io(g->path, volume, g->pos, err);
    if (got < IN_BYTES - keep) g->file_end = 1;
    g->file_pos += (int64_t)got;
    g->z->avail_in = (uint32_t)(keep + got);
    return BTFM_OK;
}

static btfm_status restart(btfm_gzip_reader *g, int64_t volume)
{
    g->file_pos = 0;
    g->file_end = g->data_end = 0;
    g->pos = 0;
    g->z->avail_in = 0;
    g->z->next_in = g->in;
    btfm_status s = refill(g, volume);
    if (s) return s;
    g->direct = !(g->z->avail_in >= 2 && g->in[0] == 0x1f && g->in[1] == 0x8b);
    start_member(g, 0);
    return BTFM_OK;
}

/* Why ISA-L stopped with status `r`, in the words zlib's gzread would choose. */
static const char *inflate_error(const btfm_gzip_reader *g, int r, char *buf, size_t cap)
{
    const struct inflate_state *z = g->z;
    switch (r) {
    case ISAL_INVALID_BLOCK: return "invalid deflate block";
    case ISAL_INVALID_SYMBOL: return "invalid code in a deflate block";
    case ISAL_INVALID_LOOKBACK: return "invalid distance too far back";
    case ISAL_INVALID_WRAPPER: return "invalid gzip header";
    case ISAL_UNSUPPORTED_METHOD: return "unknown compression method (expected deflate)";
    case ISAL_NEED_DICT: return "the member needs a preset dictionary";
    case ISAL_INCORRECT_CHECKSUM:
        if (z->block_state != ISAL_BLOCK_FINISH) return "the header CRC-16 check failed";
        /* the 8-byte trailer just used, when it is still in the buffer */
        if (z->next_in - g->in >= 8) {
            const unsigned char *t = z->next_in - 8;
            uint32_t crc = (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 |
                           (uint32_t)t[3] << 24;
            uint32_t len = (uint32_t)t[4] | (uint32_t)t[5] << 8 | (uint32_t)t[6] << 16 |
                           (uint32_t)t[7] << 24;
            if (crc != z->crc)
                snprintf(buf, cap, "the CRC-32 check failed (the member's trailer says %08x, "
                         "its data gives %08x)", (unsigned)crc, (unsigned)z->crc);
            else
                snprintf(buf, cap, "the length check failed (the member's trailer says %u "
                         "bytes mod 2^32, its data has %u)", (unsigned)len, (unsigned)g->member_out);
            return buf;
        }
        return "the CRC-32 or length check failed";
    default:
        snprintf(buf, cap, "inflate status %d", r);
        return buf;
    }
}

/* Up to n more bytes of the data into dst; *got short of n only where the data ends. */
static btfm_status inflate_some(btfm_gzip_reader *g, unsigned char *dst, size_t n, size_t *got,
                                int64_t volume)
{
    struct inflate_state *z = g->z;
    *got = 0;
    while (*got < n && !g->data_end) {
        if (z->block_state == ISAL_BLOCK_FINISH) {
            /* another member, or the end (bytes that start no member are ignored) */
            if (z->avail_in < 2 && !g->file_end) {
                btfm_status s = refill(g, volume);
                if (s) return s;
                continue;
            }
            if (z->avail_in >= 2 && z->next_in[0] == 0x1f && z->next_in[1] == 0x8b)
                start_member(g, g->member + 1);
            else
                g->data_end = 1;
            continue;
        }
        if (z->avail_in == 0 && !g->file_end) {
            btfm_status s = refill(g, volume);
            if (s) return s;
        }
        size_t want = n - *got < CHUNK ? n - *got : CHUNK;
        z->next_out = dst + *got;
        z->avail_out = (uint32_t)want;
        uint32_t in_before = z->avail_in;
        int r = isal_inflate(z);
        size_t made = want - z->avail_out;
        *got += made;
        g->pos += (int64_t)made;
        g->member_out += (uint32_t)made;
        if (r < 0) {
            char buf[160];
            return fail_corrupt(g->path, volume, g->pos, inflate_error(g, r, buf, sizeof buf));
        }
        if (made || z->avail_in != in_before || z->block_state == ISAL_BLOCK_FINISH) continue;
        /* no progress: inflate wants more input than the buffer holds */
        if (g->file_end) return fail_cut(g->path, volume, g->pos);
        if (z->avail_in == IN_BYTES)
            return fail_corrupt(g->path, volume, g->pos, "inflate made no progress");
        btfm_status s = refill(g, volume);
        if (s) return s;
    }
    return BTFM_OK;
}

btfm_status btfm_gzip_check_end(btfm_gzip_reader *g, int64_t volume)
{
    if (g->direct) return BTFM_OK;
    /* the rest of the data, every member checked (as gzread reads it to the end) */
    if (!g->skip && !(g->skip = btfm_malloc(SKIP_BYTES)))
        return btfm_fail_nomem("gzip reader", SKIP_BYTES);
    size_t got = SKIP_BYTES;
    while (got == SKIP_BYTES) {
        btfm_status s = inflate_some(g, g->skip, SKIP_BYTES, &got, volume);
        if (s) return s;
    }
    return BTFM_OK;
}

btfm_status btfm_gzip_open(btfm_gzip_reader **out, int fd, const char *path)
{
    *out = NULL;
    btfm_gzip_reader *g = btfm_calloc(1, sizeof *g);
    if (!g) {
        close(fd);
        return btfm_fail_nomem("gzip reader", sizeof *g);
    }
    g->fd = fd;
    g->path = btfm_strdup(path);
    g->z = btfm_malloc(sizeof *g->z);
    g->in = btfm_malloc(IN_BYTES);
    if (!g->path || !g->z || !g->in) {
        btfm_gzip_close(g);
        return btfm_fail_nomem("gzip reader", sizeof *g->z + IN_BYTES);
    }
    isal_inflate_init(g->z);
    btfm_status s = restart(g, 0);
    if (s) {
        btfm_gzip_close(g);
        return s;
    }
    *out = g;
    return BTFM_OK;
}

btfm_status btfm_gzip_read(btfm_gzip_reader *g, int64_t at, void *buf, size_t n, int64_t volume)
{
    unsigned char *dst = buf;
    if (g->direct) {
        size_t done;
        int err = btfm_pread_full(g->fd, dst, n, at, &done);
        if (err) return fail_io(g->path, volume, at + (int64_t)done, err);
        return done < n ? fail_short(g->path, volume, at, n, (int64_t)done) : BTFM_OK;
    }
    btfm_status s = BTFM_OK;
    if (at < g->pos && (s = restart(g, volume))) return s;
    while (g->pos < at) {
        if (!g->skip && !(g->skip = btfm_malloc(SKIP_BYTES)))
            return btfm_fail_nomem("gzip reader", SKIP_BYTES);
        size_t want = at - g->pos < SKIP_BYTES ? (size_t)(at - g->pos) : SKIP_BYTES, got;
        if ((s = inflate_some(g, g->skip, want, &got, volume))) return s;
        if (got < want) return fail_short(g->path, volume, at, n, 0);
    }
    size_t got;
    if ((s = inflate_some(g, dst, n, &got, volume))) return s;
    return got < n ? fail_short(g->path, volume, at, n, (int64_t)got) : BTFM_OK;
}

btfm_status btfm_gzip_read_head(btfm_gzip_reader *g, void *buf, size_t cap, size_t *got)
{
    *got = 0;
    if (g->direct) {
        int err = btfm_pread_full(g->fd, buf, cap, 0, got);
        return err ? fail_io(g->path, -1, (int64_t)*got, err) : BTFM_OK;
    }
    btfm_status s = g->pos ? restart(g, -1) : BTFM_OK;
    return s ? s : inflate_some(g, buf, cap, got, -1);
}

int btfm_gzip_fd(const btfm_gzip_reader *g) { return g->direct ? -1 : g->fd; }

int64_t btfm_gzip_compressed_pos(const btfm_gzip_reader *g)
{
    return g->file_pos - (int64_t)g->z->avail_in;
}

int btfm_gzip_head_crc(const btfm_gzip_reader *g, int64_t pos, uint32_t *crc)
{
    if (g->direct || g->member != 0 || g->pos != pos || g->data_end ||
        (uint32_t)pos != g->member_out || g->z->block_state == ISAL_BLOCK_FINISH)
        return 0;
    *crc = g->z->crc;
    return 1;
}

void btfm_gzip_end_at(btfm_gzip_reader *g, int64_t pos)
{
    g->pos = pos;
    g->data_end = 1;
}

void btfm_gzip_close(btfm_gzip_reader *g)
{
    if (!g) return;
    if (g->fd >= 0) close(g->fd);
    btfm_free(g->path);
    btfm_free(g->z);
    btfm_free(g->in);
    btfm_free(g->skip);
    btfm_free(g);
}

#else /* zlib's gzread */

struct btfm_gzip_reader {
    gzFile gz;
    char *path;
};

const char *btfm_gzip_backend(void) { return "zlib " ZLIB_VERSION; }

btfm_status btfm_gzip_open(btfm_gzip_reader **out, int fd, const char *path)
{
    *out = NULL;
    btfm_gzip_reader *g = btfm_calloc(1, sizeof *g);
    if (!g || !(g->path = btfm_strdup(path))) {
        btfm_free(g);
        close(fd);
        return btfm_fail_nomem("gzip reader", strlen(path));
    }
    if (!(g->gz = gzdopen(fd, "rb"))) {
        int err = errno;
        close(fd);
        btfm_gzip_close(g);
        return btfm_fail(BTFM_E_IO, "nifti: %s: cannot open the gzip data: %s", path,
                         strerror(err));
    }
    gzbuffer(g->gz, IN_BYTES);
    *out = g;
    return BTFM_OK;
}

/* zlib's words for a failed check, in the ISA-L build's (without the "<fd:N>: " gzerror
 * puts first). */
static const char *zlib_error(const char *msg)
{
    const char *colon = strncmp(msg, "<fd:", 4) == 0 ? strstr(msg, ": ") : NULL;
    if (colon) msg = colon + 2;
    if (strcmp(msg, "incorrect data check") == 0) return "the CRC-32 check failed";
    if (strcmp(msg, "incorrect length check") == 0) return "the length check failed";
    if (strcmp(msg, "header crc mismatch") == 0) return "the header CRC-16 check failed";
    return msg;
}

btfm_status btfm_gzip_read(btfm_gzip_reader *g, int64_t at, void *buf, size_t n, int64_t volume)
{
    if ((int64_t)gztell(g->gz) != at && gzseek(g->gz, (z_off_t)at, SEEK_SET) < 0) {
        int zerr = 0;
        const char *msg = gzerror(g->gz, &zerr);
        if (zerr == Z_BUF_ERROR) return fail_cut(g->path, volume, (int64_t)gztell(g->gz));
        if (zerr && zerr != Z_ERRNO) return fail_corrupt(g->path, volume, 0, zlib_error(msg));
        return btfm_fail(BTFM_E_IO, "nifti: %s: cannot seek to volume %lld (byte %lld of the "
                         "uncompressed data): %s", g->path, (long long)volume, (long long)at, msg);
    }
    size_t done = 0;
    while (done < n) {
        size_t want = n - done < CHUNK ? n - done : CHUNK;
        int got = gzread(g->gz, (unsigned char *)buf + done, (unsigned)want);
        if (got > 0) {
            done += (size_t)got;
            continue;
        }
        int zerr = 0;
        const char *msg = gzerror(g->gz, &zerr);
        int64_t pos = at + (int64_t)done;
        if (zerr == Z_BUF_ERROR) return fail_cut(g->path, volume, pos);
        if (zerr == Z_ERRNO) return fail_io(g->path, volume, pos, errno);
        if (got < 0 || zerr) return fail_corrupt(g->path, volume, pos, zlib_error(msg));
        return fail_short(g->path, volume, at, n, (int64_t)done);
    }
    return BTFM_OK;
}

btfm_status btfm_gzip_read_head(btfm_gzip_reader *g, void *buf, size_t cap, size_t *got)
{
    *got = 0;
    if (gztell(g->gz) != 0 && gzrewind(g->gz) < 0)
        return btfm_fail(BTFM_E_IO, "nifti: %s: cannot rewind the gzip data", g->path);
    int r = gzread(g->gz, buf, (unsigned)cap);
    if (r >= 0) {
        *got = (size_t)r;
        int zerr = 0;
        gzerror(g->gz, &zerr);
        if (!zerr || zerr == Z_BUF_ERROR) return BTFM_OK; /* short: the data ends there */
    }
    int zerr = 0;
    const char *msg = gzerror(g->gz, &zerr);
    if (zerr == Z_BUF_ERROR) return fail_cut(g->path, -1, 0);
    if (zerr == Z_ERRNO) return fail_io(g->path, -1, 0, errno);
    return fail_corrupt(g->path, -1, 0, zlib_error(msg));
}

btfm_status btfm_gzip_check_end(btfm_gzip_reader *g, int64_t volume)
{
    /* the rest of the data, every member checked */
    unsigned char buf[4096];
    int got;
    while ((got = gzread(g->gz, buf, sizeof buf)) > 0) {
    }
    int zerr = 0;
    const char *msg = gzerror(g->gz, &zerr);
    int64_t pos = (int64_t)gztell(g->gz);
    if (zerr == Z_BUF_ERROR) return fail_cut(g->path, volume, pos);
    if (zerr == Z_ERRNO) return fail_io(g->path, volume, pos, errno);
    if (got < 0 || zerr) return fail_corrupt(g->path, volume, pos, zlib_error(msg));
    return BTFM_OK;
}

void btfm_gzip_close(btfm_gzip_reader *g)
{
    if (!g) return;
    if (g->gz) gzclose(g->gz);
    btfm_free(g->path);
    btfm_free(g);
}

#endif
