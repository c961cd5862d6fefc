/* btfm cothb bench: the CoTHB evaluation harness (tools/cothb_harness.c) as a table of
 * success rate and expanded steps per method and signal-noise level. */
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "cothb_harness.h"

static const double noise_levels[] = {0.0, 0.2, 0.4, 0.6, 0.8, 1.0};
#define N_NOISE (sizeof noise_levels / sizeof noise_levels[0])

/* A number option's value, in [lo, hi]; 0 on success. */
static int parse_number(const char *option, const char *text, double lo, double hi, double *out)
{
    char *end = NULL;
    double v = text ? strtod(text, &end) : 0;
    if (!text || end == text || *end || !(v >= lo && v <= hi))
        return cli_usage_error("cothb", "%s expects a number in [%g, %g], got '%s'", option,
                               lo, hi, text ? text : "");
    *out = v;
    return 0;
}

int cmd_cothb(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "bench") != 0)
        return cli_usage_error("cothb", "expected the subcommand 'bench'");
    harness_config cfg;
    harness_defaults(&cfg);
    int json = 0;
    for (int i = 2; i < argc; i++) {
        double v;
        const char *opt = argv[i];
        if (strcmp(opt, "--json") == 0) {
            json = 1;
            continue;
        }
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(opt, "--problems") == 0) {
            if (parse_number(opt, value, 1, 1e7, &v)) return CLI_USAGE;
            cfg.problems = (int)v;
        } else if (strcmp(opt, "--seed") == 0) {
            if (parse_number(opt, value, 0, 1e15, &v)) return CLI_USAGE;
            cfg.seed = (uint64_t)v;
        } else if (strcmp(opt, "--depth") == 0) {
            if (parse_number(opt, value, 1, 1000, &v)) return CLI_USAGE;
            cfg.depth = (int)v;
        } else if (strcmp(opt, "--accuracy") == 0) {
            if (parse_number(opt, value, 0, 1, &v)) return CLI_USAGE;
            cfg.accuracy = v;
        } else if (strcmp(opt, "--budget") == 0) {
            if (parse_number(opt, value, 1, 1e7, &v)) return CLI_USAGE;
            cfg.cothb_max_steps = (int)v;
        } else {
            return cli_usage_error("cothb", "unknown option '%s'", opt);
        }
        i++;
    }
    if (!json)
        printf("CoTHB harness: %d problems, depth %d, breadth %d, proposer accuracy %g, seed %llu\n"
               "%-6s %-18s %8s %10s\n", cfg.problems, cfg.depth, cfg.breadth, cfg.accuracy,
               (unsigned long long)cfg.seed, "noise", "method", "success", "expanded");
    else
        printf("[");
    int first = 1;
    for (size_t k = 0; k < N_NOISE; k++) {
        cfg.noise = noise_levels[k];
        for (int m = 0; m < HARNESS_METHOD_COUNT; m++) {
            harness_result r;
            if (harness_run(&cfg, m, &r)) return cli_fail("cothb bench");
            if (json) {
                printf("%s{\"noise\": %g, \"method\": \"%s\", \"success\": %.6f, "
                       "\"expanded\": %.4f}", first ? "" : ",\n ", cfg.noise,
                       harness_method_name(m), r.success, r.mean_expanded);
            } else {
                printf("%-6.1f %-18s %8.3f %10.1f\n", cfg.noise, harness_method_name(m), r.success,
                       r.mean_expanded);
            }
            first = 0;
        }
    }
    if (json) printf("]\n");
    return CLI_OK;
}
