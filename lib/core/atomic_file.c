/* Atomic file replacement (temporary file + fsync + rename + folder fsync). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "atomic_file.h"

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
    if (fclose(af->fp) != 0 && !err) err = errno;
    af->fp = NULL;
    if (!err && rename(af->tmp_path, af->path) != 0) {
        err = errno;
        step = "rename";
    }
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
