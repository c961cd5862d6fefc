/* The internal JSON reader and writer as a command, so independent implementations can
 * check it (tests/core/test_table_interop.py):
 *   json_tool dump IN OUT          parse IN, write it to OUT (btfm_json_write_file)
 *   json_tool merge BASE OVER OUT  shallow merge, written to OUT
 *   json_tool position IN          parse IN; on failure print "LINE COLUMN" of the error
 * A parse failure prints the message to stderr and exits 1. */
#include <stdio.h>
#include <string.h>
#include "core/json.h"

static int failed(void)
{
    fprintf(stderr, "%s\n", btfm_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    btfm_json *a = NULL, *b = NULL, *m = NULL;
    if (argc == 4 && strcmp(argv[1], "dump") == 0) {
        if (btfm_json_read_file(&a, argv[2]) || btfm_json_write_file(a, argv[3])) return failed();
    } else if (argc == 5 && strcmp(argv[1], "merge") == 0) {
        if (btfm_json_read_file(&a, argv[2]) || btfm_json_read_file(&b, argv[3]) ||
            btfm_json_merge(&m, a, b) || btfm_json_write_file(m, argv[4]))
            return failed();
    } else if (argc == 3 && strcmp(argv[1], "position") == 0) {
        if (btfm_json_read_file(&a, argv[2]) == BTFM_OK) return 0;
        const char *at = strstr(btfm_last_error(), ": line ");
        int line, column;
        if (!at || sscanf(at, ": line %d, column %d", &line, &column) != 2) return failed();
        printf("%d %d\n", line, column);
        fprintf(stderr, "%s\n", btfm_last_error());
        return 1;
    } else {
        fprintf(stderr, "usage: json_tool dump IN OUT | merge BASE OVER OUT | position IN\n");
        return 2;
    }
    btfm_json_free(m);
    btfm_json_free(b);
    btfm_json_free(a);
    return 0;
}
