/* Fuzz target: the BrainVision header (.vhdr) and marker (.vmrk) parsers. The input is
 * the header text, a NUL byte, then the marker text. Whatever is refused must say why;
 * whatever is accepted must hold the invariants the reader relies on. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "io/brainvision/brainvision_internal.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void check_header(const char *text, size_t len)
{
    btfm_bv_header h;
    if (btfm_bv_header_parse(&h, text, len, "fuzz.vhdr") != BTFM_OK) {
        if (btfm_last_error()[0] == '\0' || h.channels || h.text.text) abort(); /* silent or leaked */
        return;
    }
    if (h.n_channels < 1 || h.n_channels > 65536 || !h.data_file || !(h.interval_us > 0) ||
        !isfinite(h.interval_us) || h.binary_format < 0 || h.binary_format > 2)
        abort();
    for (int i = 0; i < h.n_channels; i++) {
        const btfm_bv_channel_info *c = &h.channels[i];
        if (!c->name[0] || !c->reference || !c->unit || !isfinite(c->resolution) || c->resolution == 0)
            abort();
    }
    btfm_bv_header_clear(&h);
}

static void check_markers(const char *text, size_t len)
{
    btfm_bv_markers m;
    if (btfm_bv_markers_parse(&m, text, len, "fuzz.vmrk") != BTFM_OK) {
        if (btfm_last_error()[0] == '\0' || m.items || m.text.text) abort();
        return;
    }
    for (int64_t i = 0; i < m.n; i++) {
        const btfm_bv_marker *mk = &m.items[i];
        if (!mk->type || !mk->description || mk->size < 0 || (mk->has_date && !isfinite(mk->date)))
            abort();
        if (btfm_bv_marker_code(mk->description) < 0) abort();
    }
    btfm_bv_markers_clear(&m);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    const char *text = (const char *)data;
    const char *cut = memchr(text, '\0', size);
    size_t header_len = cut ? (size_t)(cut - text) : size;
    check_header(text, header_len);
    if (cut) check_markers(cut + 1, size - header_len - 1);
    return 0;
}
