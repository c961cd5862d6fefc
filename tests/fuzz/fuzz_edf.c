/* Fuzz target: EDF/EDF+/BDF/BDF+ header, record and annotation parsing, through the real
 * open path (the input is an in-memory file), then every read the handle offers. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include <btfm/btfm.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static int silence(void)
{
    btfm_set_log_level(BTFM_LOG_ERROR);
    return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static int once;
    if (!once) once = 1 + silence();
    int fd = memfd_create("fuzz-edf", 0);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size) abort();
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    for (int format = BTFM_FORMAT_EDF; format <= BTFM_FORMAT_BDF; format++) {
        btfm_dataset *ds = NULL;
        if (btfm_dataset_open(&ds, path, format, BTFM_OPEN_COMPLETE_RECORDS) != BTFM_OK) {
            if (ds != NULL || btfm_last_error()[0] == '\0') abort();
            continue;
        }
        int64_t n = btfm_dataset_n_times(ds);
        int c = btfm_dataset_n_channels(ds);
        if (n > 0 && c > 0 && n * c < (1 << 22)) {
            float *out = malloc((size_t)(n * c) * sizeof *out);
            if (btfm_dataset_read(ds, 0, n, NULL, 0, out) != BTFM_OK) abort();
            free(out);
        }
        for (int64_t e = 0; e < btfm_dataset_n_events(ds); e++) {
            const char *label;
            if (btfm_dataset_event(ds, e, NULL, NULL, NULL, &label, NULL) != BTFM_OK || !label) abort();
        }
        btfm_dataset_free(ds);
    }
    close(fd);
    return 0;
}
