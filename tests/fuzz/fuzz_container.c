/* Fuzz target: the container parser must refuse or accept any bytes without crashing,
 * and whatever it accepts must serialize back to the same bytes. */
#include <stdlib.h>
#include <string.h>
#include <btfm/btfm.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    btfm_container *c = NULL;
    if (btfm_container_load_buffer(&c, data, size, NULL) != BTFM_OK) {
        if (c != NULL || btfm_last_error()[0] == '\0') abort(); /* half-loaded or silent */
        return 0;
    }
    size_t n = 0;
    btfm_container_save_buffer(c, NULL, 0, &n);
    unsigned char *again = malloc(n);
    if (!again || btfm_container_save_buffer(c, again, n, &n) != BTFM_OK) abort();
    btfm_container *back = NULL;
    if (btfm_container_load_buffer(&back, again, n, NULL) != BTFM_OK) abort();
    if (btfm_container_count(back) != btfm_container_count(c)) abort();
    btfm_container_free(back);
    btfm_container_free(c);
    free(again);
    return 0;
}
