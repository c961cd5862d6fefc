/* btfm demo: the end-to-end demonstration of what this build can do. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"

/* Save a small model container to a temporary file, load it back and compare: the
 * persistence every fitted handle relies on, shown end to end. */
static int demo_container(void)
{
    char path[] = "/tmp/btfm-demo-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        perror("btfm demo: temporary file");
        return CLI_FAILED;
    }
    close(fd);
    const float weights[6] = {0.5f, -1.25f, 2.0f, 0.0f, 3.5f, -0.75f};
    const int64_t shape[2] = {2, 3};
    btfm_container *c = NULL, *back = NULL;
    float check[6];
    int rc = CLI_FAILED;
    if (btfm_container_new(&c, "demo") || btfm_container_set_param(c, BTFM_CONTAINER_PARAM_FSYNC, 0) ||
        btfm_container_put(c, "weights", BTFM_DTYPE_F32, 2, shape, weights) ||
        btfm_container_put_text(c, "note", "saved by btfm demo") || btfm_container_save(c, path) ||
        btfm_container_load(&back, path, "demo") ||
        btfm_container_get(back, "weights", BTFM_DTYPE_F32, 6, check)) {
        cli_fail("demo: container");
    } else if (memcmp(check, weights, sizeof weights) != 0) {
        fprintf(stderr, "btfm demo: the container read back differs from what was saved\n");
    } else {
        printf("model container: saved and reloaded %d arrays (format version %d) exactly\n",
               btfm_container_count(back), btfm_container_format_version());
        rc = CLI_OK;
    }
    btfm_container_free(c);
    btfm_container_free(back);
    remove(path);
    return rc;
}

int cmd_demo(int argc, char **argv)
{
    (void)argv;
    if (argc > 1) return cli_usage_error("demo", "takes no arguments");
    printf("libbtfm %s\n", btfm_version_string());
    printf("capabilities: %s\n", btfm_capabilities());
    return demo_container();
}
