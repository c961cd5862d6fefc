/* Fuzz target: the NIfTI header checks made before nifticlib reads a file, then (for
 * headers they accept and small images) the whole open-and-read path through nifticlib
 * on a file holding the input. An input that starts like gzip is a .nii.gz: its inflated
 * header goes through the same checks and the file through the gzip reader. Whatever is
 * refused must say why; whatever is accepted must hold the invariants the reader relies
 * on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "io/volume/volume_internal.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* The first bytes a gzip input inflates to (zlib, members one after another). */
static size_t inflate_head(const unsigned char *data, size_t size, unsigned char *out, size_t cap)
{
    z_stream z = {0};
    if (inflateInit2(&z, 31) != Z_OK) return 0;
    z.next_in = (unsigned char *)data;
    z.avail_in = (uInt)size;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    while (z.avail_out && inflate(&z, Z_NO_FLUSH) == Z_STREAM_END && z.avail_in >= 2 &&
           z.next_in[0] == 0x1f && z.next_in[1] == 0x8b)
        inflateReset(&z);
    size_t n = cap - z.avail_out;
    inflateEnd(&z);
    return n;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    btfm_nifti_header h;
    int gz = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
    unsigned char head[540];
    const unsigned char *header = data;
    size_t header_size = size;
    if (gz) {
        header_size = inflate_head(data, size, head, sizeof head);
        header = head;
    }
    if (btfm_nifti_check_header(header, header_size, gz ? -1 : (int64_t)size, "fuzz.nii",
                                &h) != BTFM_OK) {
        if (btfm_last_error()[0] == '\0') abort();
        return 0;
    }
    if (h.version < 1 || h.version > 2 || h.dim[0] < 1 || h.dim[0] > 7) abort();
    int64_t n = 1;
    for (int i = 1; i < 8; i++) {
        if (h.dim[i] < 1) abort();
        n = n <= (INT64_C(1) << 40) / h.dim[i] ? n * h.dim[i] : (INT64_C(1) << 40);
    }
    if (btfm_nifti_datatype_size(h.datatype) == 0) abort();
    if (h.single_file && h.vox_offset < (h.version == 1 ? 348 : 540)) abort();
    if (!h.single_file || n > 100000) return 0;
    /* The accepted header with its data, through nifticlib and the reader. */
    char path[64];
    snprintf(path, sizeof path, "/tmp/btfm-fuzz-%ld.nii%s", (long)getpid(), gz ? ".gz" : "");
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    btfm_dataset *ds;
    if (btfm_dataset_open(&ds, path, BTFM_FORMAT_NIFTI, 0) == BTFM_OK) {
        int64_t t = btfm_dataset_n_times(ds);
        int c = btfm_dataset_n_channels(ds);
        float *out = malloc((size_t)(t * c) * sizeof *out + 1);
        if (out && btfm_dataset_read(ds, 0, t, NULL, 0, out) != BTFM_OK && !btfm_last_error()[0])
            abort();
        free(out);
        btfm_dataset_free(ds);
    } else if (btfm_last_error()[0] == '\0')
        abort();
    unlink(path);
    return 0;
}
