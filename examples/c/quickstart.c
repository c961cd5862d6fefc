/* Quick start in C: check the library version, then save and reload a model container.
 * Build: cc quickstart.c $(pkg-config --cflags --libs btfm) */
#include <stdio.h>
#include <btfm/btfm.h>

int main(void)
{
    if (btfm_version_number() < BTFM_VERSION_NUMBER) {
        fprintf(stderr, "libbtfm %s is older than the headers (%s)\n", btfm_version_string(),
                BTFM_VERSION_STRING);
        return 1;
    }
    printf("libbtfm %s: %s\n", btfm_version_string(), btfm_capabilities());

    btfm_container *model = NULL, *loaded = NULL;
    const double betas[4] = {0.1, 0.2, 0.3, 0.4};
    const int64_t shape[2] = {2, 2};
    double back[4];
    if (btfm_container_new(&model, "example") != BTFM_OK ||
        btfm_container_put(model, "betas", BTFM_DTYPE_F64, 2, shape, betas) != BTFM_OK ||
        btfm_container_save(model, "example.btfm") != BTFM_OK ||
        btfm_container_load(&loaded, "example.btfm", "example") != BTFM_OK ||
        btfm_container_get(loaded, "betas", BTFM_DTYPE_F64, 4, back) != BTFM_OK) {
        fprintf(stderr, "error: %s\n", btfm_last_error());
        btfm_container_free(model);
        return 1;
    }
    printf("reloaded betas: %g %g %g %g\n", back[0], back[1], back[2], back[3]);
    btfm_container_free(model);
    btfm_container_free(loaded);
    remove("example.btfm");
    return 0;
}
