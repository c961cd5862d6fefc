/* btfm params: every object kind's parameters, from the library's own tables. */
#include <string.h>
#include "cli.h"

/* Kind numbers are reserved per layer, so a build may skip some: ask every number. */
#define MAX_KIND 255

static void print_kind(int kind, int json, int *first)
{
    int n = btfm_object_n_params(kind);
    for (int p = 0; p < n; p++) {
        const char *name;
        int type;
        double def, lo, hi;
        btfm_param_info(kind, p, &name, &type, &def, &lo, &hi);
        const char *tname = btfm_param_type_name(type);
        if (json) {
            printf("%s{\"kind\": \"%s\", \"name\": \"%s\", \"type\": \"%s\", \"default\": ",
                   *first ? "" : ", ", btfm_object_kind_name(kind), name, tname);
            cli_json_number(stdout, def);
            printf(", \"min\": ");
            cli_json_number(stdout, lo);
            printf(", \"max\": ");
            cli_json_number(stdout, hi);
            printf(", \"description\": ");
            cli_json_string(stdout, btfm_param_description(kind, p));
            putchar('}');
        } else {
            printf("%-10s %-20s %-4s default %-8g [%g, %g]\n    %s\n", btfm_object_kind_name(kind),
                   name, tname, def, lo, hi, btfm_param_description(kind, p));
        }
        *first = 0;
    }
}

int cmd_params(int argc, char **argv)
{
    const char *only = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) json = 1;
        else if (argv[i][0] == '-') return cli_unknown_option("params", argv[i]);
        else if (only) return cli_usage_error("params", "expected at most one KIND");
        else only = argv[i];
    }
    int known = 0;
    for (int kind = 1; kind <= MAX_KIND; kind++)
        if (only && btfm_object_kind_name(kind) && strcmp(only, btfm_object_kind_name(kind)) == 0)
            known = 1;
    if (only && !known) return cli_usage_error("params", "unknown object kind '%s'", only);
    int first = 1;
    if (json) putchar('[');
    for (int kind = 1; kind <= MAX_KIND; kind++)
        if (btfm_object_kind_name(kind) && (!only || strcmp(only, btfm_object_kind_name(kind)) == 0))
            print_kind(kind, json, &first);
    if (json) printf("]\n");
    return CLI_OK;
}
