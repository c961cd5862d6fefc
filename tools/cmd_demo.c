/* btfm demo: the end-to-end demonstration of what this build can do. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "cothb_harness.h"

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

/* Deterministic uniform numbers in [-1, 1) for the simulation (xorshift64*). */
static double uniform(uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return (double)((*state * 0x2545F4914F6CDD1DULL) >> 11) / 4503599627370496.0 - 1.0;
}

/* Four simulated subjects share a 6-dimensional response to the same 240-sample
 * stimulus, each seen through its own random mixing into 50 features plus noise: before
 * alignment their features do not line up (time-segment matching near chance), after a
 * shared response model they do. */
static int demo_alignment(void)
{
    enum { SUBJECTS = 4, T = 240, K = 6, V = 50 };
    static float shared[T][K], data[SUBJECTS][T][V], aligned[SUBJECTS][T][K];
    uint64_t rng = 42;
    for (int t = 0; t < T; t++)
        for (int k = 0; k < K; k++) shared[t][k] = (float)uniform(&rng);
    for (int s = 0; s < SUBJECTS; s++) {
        static float mix[K][V];
        for (int k = 0; k < K; k++)
            for (int v = 0; v < V; v++) mix[k][v] = (float)uniform(&rng);
        for (int t = 0; t < T; t++)
            for (int v = 0; v < V; v++) {
                double x = 0.3 * uniform(&rng);
                for (int k = 0; k < K; k++) x += shared[t][k] * mix[k][v];
                data[s][t][v] = (float)x;
            }
    }
    double before[SUBJECTS], after[SUBJECTS];
    btfm_aligner *a = NULL;
    int rc = CLI_FAILED;
    if (btfm_align_segment_matching(&data[0][0][0], SUBJECTS, T, V, 10, before) ||
        btfm_aligner_new(&a, BTFM_ALIGN_SRM) ||
        btfm_aligner_set_param(a, BTFM_ALIGNER_PARAM_N_FEATURES, K)) {
        btfm_aligner_free(a);
        return cli_fail("demo: alignment");
    }
    int ok = 1;
    for (int s = 0; s < SUBJECTS && ok; s++) ok = btfm_aligner_add_subject(a, &data[s][0][0], T, V) == BTFM_OK;
    ok = ok && btfm_aligner_fit(a) == BTFM_OK;
    for (int s = 0; s < SUBJECTS && ok; s++)
        ok = btfm_aligner_transform(a, s, &data[s][0][0], T, V, &aligned[s][0][0]) == BTFM_OK;
    ok = ok && btfm_align_segment_matching(&aligned[0][0][0], SUBJECTS, T, K, 10, after) == BTFM_OK;
    if (!ok) {
        cli_fail("demo: alignment");
    } else {
        double mb = 0, ma = 0;
        for (int s = 0; s < SUBJECTS; s++) {
            mb += before[s] / SUBJECTS;
            ma += after[s] / SUBJECTS;
        }
        printf("alignment: 4 simulated subjects, time-segment matching %.2f before, %.2f after a "
               "shared response model\n", mb, ma);
        rc = CLI_OK;
    }
    btfm_aligner_free(a);
    return rc;
}

/* CoTHB against a chain of thought and self-consistency on the benchmark's chain task
 * (d' = 2, a budget of 24 steps), paired on the same 200 problems. */
static int demo_cothb(void)
{
    harness_task task;
    harness_knobs knobs;
    harness_task_defaults(&task, HARNESS_CHAIN);
    harness_knobs_defaults(&knobs);
    const int methods[3] = {HARNESS_M_CHAIN, HARNESS_M_SC, HARNESS_M_COTHB}, problems = 200;
    int right[3] = {0, 0, 0};
    for (int m = 0; m < 3; m++)
        for (int i = 0; i < problems; i++) {
            int ok = 0, used = 0;
            if (harness_solve(&task, methods[m], &knobs, 24, i, &ok, &used))
                return cli_fail("demo: cothb");
            right[m] += ok;
        }
    printf("cothb: %d simulated 6-step problems, 24 steps each, step signals of d' = 2: %.0f%% "
           "right (chain of thought %.0f%%, self-consistency %.0f%%)\n", problems,
           100.0 * right[2] / problems, 100.0 * right[0] / problems, 100.0 * right[1] / problems);
    return CLI_OK;
}

int cmd_demo(int argc, char **argv)
{
    (void)argv;
    if (argc > 1) return cli_usage_error("demo", "takes no arguments");
    printf("libbtfm %s\n", btfm_version_string());
    printf("capabilities: %s\n", btfm_capabilities());
    int rc = demo_container();
    if (rc == CLI_OK) rc = demo_alignment();
    if (rc == CLI_OK) rc = demo_cothb();
    return rc;
}
