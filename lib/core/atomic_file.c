/* Atomic file replacement (temporary file + fsync + rename + folder fsync). A writer holds
 * an exclusive flock on its temporary file until the rename, so the next save of the same
 * target removes the leftovers of writers that died (the lock dies with them). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "atomic_file.h"

/* Remove PATH.tmp-XXXXXX files beside `path` that no live writer holds (`own` is ours). */
static void remove_stale(const char *path, const char *own)
{
    char *copy = btfm_strdup(path), *copy2 = btfm_strdup(path);
    DIR *d = NULL;
    if (copy && copy2) d = opendir(dirname(copy));
    if (d) {
        const char *base = basename(copy2);
        const size_t n = strlen(base), folder = strlen(own) - strlen(base) - 11;
        struct dirent *e;
        while ((e = readdir(d))) {
            if (strlen(e->d_name) != n + 11 || strncmp(e->d_name, base, n) != 0 ||
                strncmp(e->d_name + n, ".tmp-", 5) != 0 || strcmp(e->d_name, own + folder) == 0)
                continue;
            int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
            if (fd < 0) continue;
            struct stat sb;
            if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && flock(fd, LOCK_EX | LOCK_NB) == 0)
                (void)unlinkat(dirfd(d), e->d_name, 0); /* its writer is gone */
            close(fd);
        }
        closedir(d);
    }
    btfm_free(copy);
    btfm_free(copy2);
}

/* The process umask, read without changing it where /proc allows. */
static mode_t current_umask(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (f) {
        char line[128];
        unsigned mask;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "Umask: %o", &mask) == 1) {
                fclose(f);
                return (mode_t)mask;
            }
        fclose(f);
    }
    return 022;
}

static void release(btfm_atomic_file *af)
{
    btfm_free(af->tmp_path);
    btfm_free(af->path);
    af->tmp_path = af->path = NULL;
    af->fp = NULL;
}

btfm_status btfm_atomic_open(btfm_atomic_file *af, const char *path, int durable)
{
    memset(af, 0, sizeof *af);
    size_t n = strlen(path);
    af->path = btfm_strdup(path);
    af->tmp_path = btfm_malloc(n + 16);
    if (!af->path || !af->tmp_path) {
        release(af);
        return btfm_fail_nomem("save", n + 16);
    }
    memcpy(af->tmp_path, path, n);
    memcpy(af->tmp_path + n, ".tmp-XXXXXX", 12);
    int fd = mkstemp(af->tmp_path);
    if (fd < 0) {
        int err = errno;
        btfm_status st = btfm_fail(BTFM_E_IO, "save: %s: cannot create a temporary file "
                                   "beside it: %s", path, strerror(err));
        release(af);
        return st;
    }
    (void)flock(fd, LOCK_EX); /* a fresh file: nobody else holds it */
    remove_stale(path, af->tmp_path);
    /* Keep the mode of a file being replaced; a new file gets 0666 less the umask. */
    struct stat sb;
    mode_t mode = stat(path, &sb) == 0 ? (sb.st_mode & 07777) : (0666 & ~current_umask());
    (void)fchmod(fd, mode);
    af->fp = fdopen(fd, "wb");
    if (!af->fp) {
        int err = errno;
        close(fd);
        unlink(af->tmp_path);
        btfm_status st = btfm_fail(BTFM_E_IO, "save: %s: %s", af->tmp_path, strerror(err));
        release(af);
        return st;
    }
    af->durable = durable;
    return BTFM_OK;
}

static int fsync_folder(const char *path)
{
    char *copy = btfm_strdup(path);
    if (!copy) return -1;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
    btfm_free(copy);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

btfm_status btfm_atomic_commit(btfm_atomic_file *af)
{
    const char *step = "write";
    int err = 0;
    if (fflush(af->fp) != 0 || ferror(af->fp)) err = errno ? errno : EIO;
    if (!err && af->durable && fsync(fileno(af->fp)) != 0) {
        err = errno;
        step = "fsync";
    }
    /* renamed before the close releases the lock, so no other save takes it for stale */
    if (!err && rename(af->tmp_path, af->path) != 0) {
        err = errno;
        step = "rename";
    }
    if (fclose(af->fp) != 0 && !err) err = errno;
    af->fp = NULL;
    if (err) {
        unlink(af->tmp_path);
        btfm_status st = btfm_fail(BTFM_E_IO, "save: %s: %s failed: %s; the file was left "
                                   "as it was", af->path, step, strerror(err));
        release(af);
        return st;
    }
    if (af->durable) (void)fsync_folder(af->path);
    release(af);
    return BTFM_OK;
}

void btfm_atomic_abort(btfm_atomic_file *af)
{
    if (af->fp) fclose(af->fp);
    if (af->tmp_path) unlink(af->tmp_path);
    release(af);
}
