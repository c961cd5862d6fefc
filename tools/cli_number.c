/* Numbers typed on the command line: one value, an option's value, a comma-separated list.
 * The program never calls setlocale, so strtod reads the C locale's decimal point on every
 * host; non-finite values are refused here, once, for every command. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

int cli_number(const char *text, double *value)
{
    char *end;
    *value = strtod(text, &end);
    return end != text && *end == '\0' && isfinite(*value);
}

int cli_number_option(const char *command, int argc, char **argv, int *i, double *value)
{
    /* the option this value belongs to, also for the second value of "--band LOW HIGH" */
    int option = *i;
    while (option > 0 && strncmp(argv[option], "--", 2) != 0) option--;
    if (*i + 1 >= argc) return cli_usage_error(command, "%s needs a value", argv[option]);
    ++*i;
    if (!cli_number(argv[*i], value))
        return cli_usage_error(command, "%s: '%s' is not a finite number", argv[option],
                               argv[*i]);
    return CLI_OK;
}

int cli_number_list(const char *text, double *out, int capacity)
{
    int n = 0;
    const char *p = text;
    for (;;) {
        char *end;
        const double v = strtod(p, &end);
        if (end == p || (*end && *end != ',') || !isfinite(v) || n == capacity) return -1;
        out[n++] = v;
        if (!*end) return n;
        p = end + 1;
    }
}
