/* Uses libbtfm as an application would: checks that the library it runs against is the
 * version its headers describe, then round-trips an array through a container buffer. */
#include <btfm/btfm.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what, btfm_status status)
{
    fprintf(stderr, "btfm-consumer: %s: %s (%s): %s\n", what, btfm_status_name(status),
            btfm_status_str(status), btfm_last_error());
    return EXIT_FAILURE;
}

int main(void)
{
    if (btfm_version_number() != BTFM_VERSION_NUMBER) {
        fprintf(stderr, "btfm-consumer: headers are %d, library is %u (%s)\n",
                BTFM_VERSION_NUMBER, btfm_version_number(), btfm_version_string());
        return EXIT_FAILURE;
    }

    const double weights[2][3] = {{0.5, -1.25, 3.0}, {1e-9, 0.0, -7.75}};
    const int64_t shape[2] = {2, 3};
    btfm_container *saved = NULL;
    btfm_status status = btfm_container_new(&saved, "consumer");
    if (status == BTFM_OK)
        status = btfm_container_put(saved, "weights", BTFM_DTYPE_F64, 2, shape, weights);
    size_t size = 0;
    if (status == BTFM_OK) status = btfm_container_serialized_size(saved, &size);
    unsigned char *buffer = status == BTFM_OK ? malloc(size) : NULL;
    size_t written = 0;
    if (status == BTFM_OK && buffer == NULL) status = BTFM_E_NOMEM;
    if (status == BTFM_OK)
        status = btfm_container_save_buffer(saved, buffer, size, &written);
    btfm_container_free(saved);
    if (status != BTFM_OK) {
        free(buffer);
        return fail("saving a container to memory", status);
    }

    btfm_container *loaded = NULL;
    double back[2][3] = {{0}};
    status = btfm_container_load_buffer(&loaded, buffer, written, "consumer");
    free(buffer);
    if (status == BTFM_OK)
        status = btfm_container_get(loaded, "weights", BTFM_DTYPE_F64, 6, back);
    btfm_container_free(loaded);
    if (status != BTFM_OK) return fail("loading the container back", status);
    if (memcmp(back, weights, sizeof weights) != 0) {
        fprintf(stderr, "btfm-consumer: the loaded array differs from the saved one\n");
        return EXIT_FAILURE;
    }
    if (btfm_live_allocations() != 0) {
        fprintf(stderr, "btfm-consumer: %ld blocks still allocated\n",
                btfm_live_allocations());
        return EXIT_FAILURE;
    }
    printf("btfm-consumer: libbtfm %s, %zu-byte container round trip ok\n",
           btfm_version_string(), written);
    return EXIT_SUCCESS;
}
