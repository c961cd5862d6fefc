/* btfm info FILE.tsv: the columns of a TSV table, its row count and, per numeric column,
 * the minimum, maximum and number of n/a cells. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

typedef struct column_summary {
    int numeric;
    int64_t n_na;
    double min, max; /* NaN when every cell is n/a */
} column_summary;

static void summarize(const btfm_table *t, int column, double *values, column_summary *s)
{
    int64_t n = btfm_table_n_rows(t);
    s->numeric = btfm_table_column_numbers(t, column, values) == BTFM_OK;
    s->n_na = 0;
    s->min = s->max = NAN;
    for (int64_t r = 0; r < n; r++) {
        if (btfm_table_is_na(t, r, column)) {
            s->n_na++;
            continue;
        }
        if (!s->numeric) continue;
        if (isnan(s->min) || values[r] < s->min) s->min = values[r];
        if (isnan(s->max) || values[r] > s->max) s->max = values[r];
    }
}

int cli_info_table(const char *path, int json)
{
    btfm_table *t = NULL;
    if (btfm_table_read(&t, path) != BTFM_OK) return cli_fail("info", NULL);
    int64_t n_rows = btfm_table_n_rows(t);
    int n_columns = btfm_table_n_columns(t);
    double *values = malloc((size_t)(n_rows ? n_rows : 1) * sizeof *values);
    if (!values) {
        btfm_table_free(t);
        fprintf(stderr, "btfm info: %s: out of memory\n", path);
        return CLI_FAILED;
    }
    if (json) {
        printf("{\"file\": ");
        cli_json_string(stdout, path);
        printf(", \"type\": \"table\", \"n_rows\": %lld, \"columns\": [", (long long)n_rows);
    } else {
        printf("%s: TSV table, %d column%s, %lld row%s\n", path, n_columns,
               n_columns == 1 ? "" : "s", (long long)n_rows, n_rows == 1 ? "" : "s");
        printf("  %-24s %-7s %10s %14s %14s\n", "column", "type", "n/a", "min", "max");
    }
    for (int c = 0; c < n_columns; c++) {
        column_summary s;
        summarize(t, c, values, &s);
        const char *name = btfm_table_column_name(t, c);
        if (json) {
            printf("%s{\"name\": ", c ? ", " : "");
            cli_json_string(stdout, name);
            printf(", \"numeric\": %s, \"n_na\": %lld", s.numeric ? "true" : "false",
                   (long long)s.n_na);
            if (s.numeric) {
                printf(", \"min\": ");
                cli_json_number(stdout, s.min);
                printf(", \"max\": ");
                cli_json_number(stdout, s.max);
            }
            putchar('}');
        } else if (s.numeric && !isnan(s.min)) {
            printf("  %-24s %-7s %10lld %14.6g %14.6g\n", name, "number", (long long)s.n_na,
                   s.min, s.max);
        } else {
            printf("  %-24s %-7s %10lld %14s %14s\n", name, s.numeric ? "number" : "text",
                   (long long)s.n_na, "-", "-");
        }
    }
    if (json) printf("]}\n");
    free(values);
    btfm_table_free(t);
    return CLI_OK;
}
