/* Opening regular files without blocking, whole-file reads and atomic writes for the text
 * formats (TSV, JSON). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>
#include "atomic_file.h"
#include "read_file.h"

static const char *file_type(mode_t mode)
{
    return S_ISDIR(mode) ? "a folder" : S_ISFIFO(mode) ? "a FIFO (named pipe)"
           : S_ISSOCK(mode) ? "a socket" : S_ISCHR(mode) ? "a character device"
           : S_ISBLK(mode) ? "a block device" : "not a regular file";
}

int btfm_pread_full(int fd, void *buf, size_t n, int64_t offset, size_t *got)
{
    *got = 0;
    while (*got < n) {
        ssize_t r = pread(fd, (unsigned char *)buf + *got, n - *got, (off_t)(offset + (int64_t)*got));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return errno;
        if (r == 0) break;
        *got += (size_t)r;
    }
    return 0;
}

btfm_status btfm_open_regular(const char *path, const char *who, int *fd)
{
    *fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (*fd < 0)
        return btfm_fail(errno == ENOENT ? BTFM_E_NOTFOUND : BTFM_E_IO, "%s: %s: %s", who, path,
                         strerror(errno));
    struct stat sb;
    const char *what = NULL;
    if (fstat(*fd, &sb) != 0) what = strerror(errno);
    else if (!S_ISREG(sb.st_mode)) what = file_type(sb.st_mode);
    int flags = what ? 0 : fcntl(*fd, F_GETFL);
    if (!what && (flags < 0 || fcntl(*fd, F_SETFL, flags & ~O_NONBLOCK) < 0))
        what = strerror(errno);
    if (!what) return BTFM_OK;
    close(*fd);
    *fd = -1;
    return btfm_fail(BTFM_E_IO, "%s: %s: is %s, expected a regular file", who, path, what);
}

btfm_status btfm_read_file(const char *path, const char *who, size_t max_bytes, char **bytes,
                           size_t *len)
{
    *bytes = NULL;
    *len = 0;
    int fd;
    btfm_status st = btfm_open_regular(path, who, &fd);
    if (st) return st;
    FILE *fp = fdopen(fd, "rb");
    if (!fp) {
        close(fd);
        return btfm_fail(BTFM_E_IO, "%s: %s: %s", who, path, strerror(errno));
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        fclose(fp);
        return btfm_fail(BTFM_E_IO, "%s: %s: %s", who, path, strerror(errno));
    }
    if ((uint64_t)sb.st_size > (uint64_t)max_bytes) {
        fclose(fp);
        return btfm_fail(BTFM_E_RANGE, "%s: %s: %lld bytes, more than the %zu this reader "
                         "accepts", who, path, (long long)sb.st_size, max_bytes);
    }
    size_t size = (size_t)sb.st_size;
    char *buf = btfm_malloc(size + 1);
    if (!buf) {
        fclose(fp);
        return btfm_fail_nomem(who, size + 1);
    }
    size_t got = fread(buf, 1, size, fp);
    int err = ferror(fp) ? errno : 0;
    fclose(fp);
    if (got != size) {
        btfm_free(buf);
        return btfm_fail(BTFM_E_IO, "%s: %s: read %zu of %zu bytes: %s", who, path, got, size,
                         err ? strerror(err) : "the file shrank while being read");
    }
    buf[size] = '\0';
    *bytes = buf;
    *len = size;
    return BTFM_OK;
}

btfm_status btfm_read_gzip_file(const char *path, const char *who, size_t max_bytes,
                                char **bytes, size_t *len)
{
    *bytes = NULL;
    *len = 0;
    FILE *probe = fopen(path, "rb");
    if (!probe)
        return btfm_fail(errno == ENOENT ? BTFM_E_NOTFOUND : BTFM_E_IO, "%s: %s: %s", who, path,
                         strerror(errno));
    fclose(probe);
    gzFile gz = gzopen(path, "rb");
    if (!gz) return btfm_fail(BTFM_E_IO, "%s: %s: cannot open the gzip file", who, path);
    size_t cap = 1u << 16, n = 0;
    char *buf = btfm_malloc(cap + 1);
    btfm_status st = buf ? BTFM_OK : btfm_fail_nomem(who, cap + 1);
    while (!st) {
        if (n == cap) {
            size_t grown = cap > max_bytes / 2 ? max_bytes + 1 : cap * 2;
            char *bigger = grown > cap ? btfm_realloc(buf, grown + 1) : NULL;
            if (grown <= cap) {
                st = btfm_fail(BTFM_E_RANGE, "%s: %s: decompresses to more than the %zu bytes "
                               "this reader accepts", who, path, max_bytes);
                break;
            }
            if (!bigger) {
                st = btfm_fail_nomem(who, grown + 1);
                break;
            }
            buf = bigger;
            cap = grown;
        }
        size_t want = cap - n < (1u << 30) ? cap - n : (1u << 30);
        int got = gzread(gz, buf + n, (unsigned)want);
        if (got < 0) {
            int zerr;
            const char *msg = gzerror(gz, &zerr);
            st = btfm_fail(BTFM_E_FORMAT, "%s: %s: gzip data after %zu decompressed bytes: %s",
                           who, path, n, msg ? msg : "corrupt");
            break;
        }
        if (got == 0) {
            int zerr;
            gzerror(gz, &zerr);
            if (zerr == Z_BUF_ERROR)
                st = btfm_fail(BTFM_E_FORMAT, "%s: %s: the gzip data end early, after %zu "
                               "decompressed bytes (truncated file)", who, path, n);
            break;
        }
        n += (size_t)got;
        if (n > max_bytes)
            st = btfm_fail(BTFM_E_RANGE, "%s: %s: decompresses to more than the %zu bytes this "
                           "reader accepts", who, path, max_bytes);
    }
    gzclose(gz);
    if (st) {
        btfm_free(buf);
        return st;
    }
    buf[n] = '\0';
    *bytes = buf;
    *len = n;
    return BTFM_OK;
}

btfm_status btfm_write_file(const char *path, const char *who, const void *bytes, size_t len)
{
    btfm_atomic_file af;
    btfm_status st = btfm_atomic_open(&af, path, 1);
    if (st) return st;
    if (fwrite(bytes, 1, len, af.fp) != len) {
        btfm_atomic_abort(&af);
        return btfm_fail(BTFM_E_IO, "%s: %s: write failed: %s; the file was left as it was",
                         who, path, strerror(errno));
    }
    return btfm_atomic_commit(&af);
}
