/* The simulators' random numbers as a command, so NumPy and SciPy can check them
 * (tests/sim/test_sim_mne.py):
 *   sim_tool philox K0 K1 C0 C1 C2 C3   the 4 words of Philox4x64-10 (hex)
 *   sim_tool stream SEED PURPOSE ENTITY N   N words of a stream (hex)
 *   sim_tool normals SEED N             N normals of a stream, one a line (%.17g) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sim/sim_random.h"

static uint64_t word(const char *text) { return strtoull(text, NULL, 0); }

int main(int argc, char **argv)
{
    if (argc == 8 && strcmp(argv[1], "philox") == 0) {
        uint64_t key[2] = {word(argv[2]), word(argv[3])}, ctr[4], out[4];
        for (int k = 0; k < 4; k++) ctr[k] = word(argv[4 + k]);
        btfm_sim_philox4x64(ctr, key, out);
        for (int k = 0; k < 4; k++) printf("%016llx\n", (unsigned long long)out[k]);
        return 0;
    }
    if (argc == 6 && strcmp(argv[1], "stream") == 0) {
        sim_rng r;
        btfm_sim_rng_init(&r, word(argv[2]), word(argv[3]), word(argv[4]));
        for (long i = 0; i < atol(argv[5]); i++) printf("%016llx\n", (unsigned long long)btfm_sim_rng_u64(&r));
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "normals") == 0) {
        sim_rng r;
        btfm_sim_rng_init(&r, word(argv[2]), 1, 0);
        for (long i = 0; i < atol(argv[3]); i++) printf("%.17g\n", btfm_sim_rng_normal(&r));
        return 0;
    }
    fprintf(stderr, "usage: sim_tool philox K0 K1 C0 C1 C2 C3 | stream SEED PURPOSE ENTITY N | normals SEED N\n");
    return 2;
}
