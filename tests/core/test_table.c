/* TSV tables and the JSON reader/writer: values checked against the texts they come from
 * (closed forms), every malformed input refused with its status and its line and column
 * in the message, round trips, and clean failure at every allocation. */
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include "unit.h"
#include "core/json.h"
#include "core/number.h"
#include "core/table_internal.h"

/* ck_assert that the last error contains `text`. */
#define ck_assert_error_has(text)                                                        \
    ck_assert_msg(strstr(btfm_last_error(), (text)) != NULL, "message \"%s\" lacks \"%s\"", \
                  btfm_last_error(), (text))

static btfm_table *parse_ok(const char *text)
{
    btfm_table *t = NULL;
    ck_assert_ok(btfm_table_parse(&t, text, strlen(text), "t.tsv"));
    return t;
}

static void parse_fails(const char *text, size_t len, int status, const char *where)
{
    btfm_table *t = (btfm_table *)1;
    if (len == SIZE_MAX) len = strlen(text);
    ck_assert_status(btfm_table_parse(&t, text, len, "bad.tsv"), status);
    ck_assert_ptr_null(t);
    ck_assert_error_has("bad.tsv");
    ck_assert_error_has(where);
}

static char *temp_dir(void)
{
    static char dir[64];
    snprintf(dir, sizeof dir, "/tmp/btfm-table-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    return dir;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    static char buf[1 << 16];
    *len = fread(buf, 1, sizeof buf - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

/* ---- TSV ---- */

START_TEST(tsv_reads_cells_as_written)
{
    /* BOM, CRLF and LF mixed, no final newline. */
    btfm_table *t = parse_ok("\xEF\xBB\xBFonset\tduration\ttrial_type\r\n"
                             "0.5\t1\tgo\r\n"
                             "2.25\tn/a\tstop \xC3\xA9t\xC3\xA9\n"
                             "-3e-2\t0\t");
    ck_assert_int_eq(btfm_table_n_columns(t), 3);
    ck_assert_int_eq(btfm_table_n_rows(t), 3);
    ck_assert_str_eq(btfm_table_column_name(t, 0), "onset");
    ck_assert_str_eq(btfm_table_column_name(t, 2), "trial_type");
    ck_assert_ptr_null(btfm_table_column_name(t, 3));
    ck_assert_ptr_null(btfm_table_column_name(t, -1));
    ck_assert_str_eq(btfm_table_cell(t, 1, 2), "stop \xC3\xA9t\xC3\xA9");
    ck_assert_str_eq(btfm_table_cell(t, 2, 2), "");
    ck_assert_str_eq(btfm_table_cell(t, 1, 1), "n/a");
    ck_assert_ptr_null(btfm_table_cell(t, 3, 0));
    ck_assert_ptr_null(btfm_table_cell(t, 0, 3));
    ck_assert_int_eq(btfm_table_is_na(t, 1, 1), 1);
    ck_assert_int_eq(btfm_table_is_na(t, 0, 1), 0);
    ck_assert_int_eq(btfm_table_is_na(t, 9, 1), 0);
    int c = -1;
    ck_assert_ok(btfm_table_find_column(t, "duration", &c));
    ck_assert_int_eq(c, 1);
    ck_assert_status(btfm_table_find_column(t, "Duration", &c), BTFM_E_NOTFOUND);
    ck_assert_error_has("onset, duration, trial_type");
    double v[3];
    ck_assert_ok(btfm_table_column_numbers(t, 0, v));
    ck_assert(v[0] == 0.5 && v[1] == 2.25 && v[2] == -3e-2);
    ck_assert_ok(btfm_table_column_numbers(t, 1, v));
    ck_assert(v[0] == 1 && isnan(v[1]) && v[2] == 0);
    ck_assert_status(btfm_table_column_numbers(t, 2, v), BTFM_E_FORMAT);
    ck_assert_error_has("t.tsv: line 2, column 3 (\"trial_type\"): \"go\" is not a number");
    ck_assert_status(btfm_table_column_numbers(t, 3, v), BTFM_E_RANGE);
    ck_assert_int_eq(btfm_table_row_line(t, 2), 4);
    ck_assert_str_eq(btfm_table_source(t), "t.tsv");
    btfm_table_free(t);
}
END_TEST

/* A participants.tsv written by hand: numeric columns with n/a, a text column, a column
 * of numbers and text; the numeric ones read as a TSV reader that infers types (pandas)
 * reads them. */
START_TEST(tsv_participant_values_are_typed)
{
    btfm_table *t = parse_ok("participant_id\tage\tsex\theight\tgroup\tnone\n"
                             "sub-01\t30\tF\t1.72\t1\tn/a\n"
                             "sub-02\tn/a\tn/a\t-1.5e-1\tctl\tn/a\n");
    static const int numeric[6] = {0, 1, 0, 1, 0, 1};
    for (int c = 0; c < 6; c++) ck_assert_int_eq(btfm_table_column_is_numeric(t, c), numeric[c]);
    ck_assert_int_eq(btfm_table_column_is_numeric(t, 6), 0);
    ck_assert_int_eq(btfm_table_column_is_numeric(t, -1), 0);
    ck_assert_int_eq(btfm_table_column_is_numeric(NULL, 0), 0);
    double v = 0;
    ck_assert_ok(btfm_table_cell_number(t, 0, 1, &v));
    ck_assert(v == 30);
    ck_assert_ok(btfm_table_cell_number(t, 1, 1, &v));
    ck_assert(isnan(v));
    ck_assert_ok(btfm_table_cell_number(t, 1, 3, &v));
    ck_assert(v == -0.15);
    ck_assert_status(btfm_table_cell_number(t, 1, 4, &v), BTFM_E_FORMAT);
    ck_assert_error_has("line 3, column 5 (\"group\"): \"ctl\" is not a number");
    ck_assert_status(btfm_table_cell_number(t, 2, 1, &v), BTFM_E_RANGE);
    ck_assert_status(btfm_table_cell_number(t, 0, 1, NULL), BTFM_E_INVALID);
    btfm_table_free(t);
}
END_TEST

START_TEST(tsv_blank_lines_and_header_only)
{
    btfm_table *t = parse_ok("a\tb\n1\t2\n\n\r\n\n");
    ck_assert_int_eq(btfm_table_n_rows(t), 1);
    ck_assert_str_eq(btfm_table_cell(t, 0, 1), "2");
    btfm_table_free(t);
    t = parse_ok("only\n");
    ck_assert_int_eq(btfm_table_n_rows(t), 0);
    ck_assert_int_eq(btfm_table_n_columns(t), 1);
    double none[1] = {42};
    ck_assert_ok(btfm_table_column_numbers(t, 0, none));
    ck_assert(none[0] == 42); /* untouched: there are no rows */
    btfm_table_free(t);
    t = parse_ok("x\ty"); /* a header without newline */
    ck_assert_int_eq(btfm_table_n_rows(t), 0);
    ck_assert_str_eq(btfm_table_column_name(t, 1), "y");
    btfm_table_free(t);
    /* Only one BOM is skipped; a second is part of the first name, and a writer keeps it. */
    t = parse_ok("\xEF\xBB\xBF\xEF\xBB\xBFna\n1\n");
    ck_assert_str_eq(btfm_table_column_name(t, 0), "\xEF\xBB\xBFna");
    char *text = NULL;
    ck_assert_ok(btfm_table_format(t, &text, NULL));
    ck_assert_str_eq(text, "\xEF\xBB\xBF\xEF\xBB\xBFna\n1\n");
    btfm_free(text);
    btfm_table_free(t);
    /* Spaces are content: a cell of one space in a one-column table is a row. */
    t = parse_ok("x\n \n");
    ck_assert_int_eq(btfm_table_n_rows(t), 1);
    ck_assert_str_eq(btfm_table_cell(t, 0, 0), " ");
    btfm_table_free(t);
}
END_TEST

START_TEST(tsv_numbers_are_exact_and_strict)
{
    btfm_table *t = parse_ok("x\n0.1\n1e-3\n.5\n5.\n+3\n-0\n1E+2\n123456789012345678901234567890\n"
                             "2.2250738585072014e-308\n4.9e-324\n1.7976931348623157e308\nn/a\n"
                             "0.000123\n007\n123456789.125e-5\n9007199254740993\n1e22\n1e23\n"
                             "0.30000000000000004\n");
    double v[19];
    ck_assert_ok(btfm_table_column_numbers(t, 0, v));
    const double expected[19] = {0.1, 1e-3, 0.5, 5.0, 3.0, -0.0, 100.0,
                                 123456789012345678901234567890.0, 2.2250738585072014e-308,
                                 4.9e-324, 1.7976931348623157e308, NAN, 0.000123, 7.0,
                                 1234.56789125, 9007199254740992.0, 1e22, 1e23,
                                 0.30000000000000004};
    for (int i = 0; i < 19; i++)
        if (i != 11) ck_assert_msg(v[i] == expected[i], "row %d: %.17g", i, v[i]);
    ck_assert(signbit(v[5]));
    ck_assert(isnan(v[11]));
    btfm_table_free(t);
    /* Each of these is text, not a number. */
    const char *bad[] = {"1,5", " 1", "1 ", "nan", "inf", "0x10", "1e", "e5", ".", "-", "N/A",
                         "NaN", "1.5.2", "++1", "1e+", "", "\xC2\xB9"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[64];
        snprintf(text, sizeof text, "a\tx\n1\t%s\n", bad[i]);
        t = parse_ok(text);
        double out[1];
        ck_assert_status(btfm_table_column_numbers(t, 1, out), BTFM_E_FORMAT);
        ck_assert_error_has("t.tsv: line 2, column 2 (\"x\")");
        double one;
        ck_assert_status(btfm_table_cell_number(t, 0, 1, &one), BTFM_E_FORMAT);
        btfm_table_free(t);
    }
}
END_TEST

START_TEST(tsv_numbers_ignore_the_process_locale)
{
    const char *names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "C.UTF-8"};
    const char *used = NULL;
    for (size_t i = 0; i < 4 && !used; i++)
        if (setlocale(LC_NUMERIC, names[i])) used = names[i];
    btfm_table *t = parse_ok("x\n2.5\n");
    double v;
    ck_assert_ok(btfm_table_column_numbers(t, 0, &v));
    ck_assert(v == 2.5);
    btfm_table_free(t);
    char buf[32];
    btfm_format_double(0.25, buf);
    ck_assert_str_eq(buf, "0.25");
    setlocale(LC_NUMERIC, "C");
}
END_TEST

START_TEST(tsv_refuses_malformed_text)
{
    parse_fails("a\tb\tc\n1\t2\t3\n4\t5\n", SIZE_MAX, BTFM_E_FORMAT, "line 3: 2 cells, but the header has 3 columns");
    parse_fails("a\tb\n1\t2\t3\n", SIZE_MAX, BTFM_E_FORMAT, "line 2: 3 cells, but the header has 2 columns");
    parse_fails("", SIZE_MAX, BTFM_E_FORMAT, "line 1: the text is empty");
    parse_fails("\xEF\xBB\xBF", SIZE_MAX, BTFM_E_FORMAT, "line 1: the text is empty");
    parse_fails("\n1\n", SIZE_MAX, BTFM_E_FORMAT, "line 1: the header line is empty");
    parse_fails("a\t\tc\n", SIZE_MAX, BTFM_E_FORMAT, "line 1: column 2 has an empty name");
    parse_fails("a\tb\t\n", SIZE_MAX, BTFM_E_FORMAT, "line 1: column 3 has an empty name");
    parse_fails("x\ty\tx\n", SIZE_MAX, BTFM_E_FORMAT, "line 1: column 3 repeats the name \"x\" of column 1");
    parse_fails("a\tb\n1\t2\n\n3\t4\n", SIZE_MAX, BTFM_E_FORMAT, "line 3: a blank line inside the table");
    parse_fails("a\tb\n1\r2\t3\n", SIZE_MAX, BTFM_E_FORMAT, "line 2, character 2: a carriage return");
    parse_fails("a\tb\n1\t2\r\r\n", SIZE_MAX, BTFM_E_FORMAT, "line 2, character 4: a carriage return");
    /* Invalid UTF-8 and NUL bytes, located by line, table column and offset. */
    parse_fails("a\tb\n1\tx\xFFy\n", SIZE_MAX, BTFM_E_FORMAT,
                "line 2, column 2: invalid UTF-8 at byte offset 7 (character 2 of the cell)");
    parse_fails("a\tb\n1\t\xC3\xA9\xC0\xAF\n", SIZE_MAX, BTFM_E_FORMAT,
                "line 2, column 2: invalid UTF-8 at byte offset 8 (character 2 of the cell)");
    parse_fails("a\tb\n\n\n1\t2\0\n", 11, BTFM_E_FORMAT, "line 4, column 2: a NUL byte at byte offset 9");
    parse_fails("\xED\xA0\x80\n", SIZE_MAX, BTFM_E_FORMAT, "line 1, column 1: invalid UTF-8 at byte offset 0");
}
END_TEST

START_TEST(tsv_edits_and_saves_atomically)
{
    const char *cols[] = {"onset", "duration", "trial_type"};
    btfm_table *t = NULL;
    ck_assert_ok(btfm_table_new(&t, cols, 3));
    ck_assert_int_eq(btfm_table_n_rows(t), 0);
    const char *r0[] = {"0.5", "1", "go"};
    const char *r1[] = {"2", NULL, "\xE2\x82\xAC"};
    ck_assert_ok(btfm_table_add_row(t, r0));
    ck_assert_ok(btfm_table_add_row(t, r1));
    ck_assert_str_eq(btfm_table_cell(t, 1, 1), "n/a");
    const char *tab[] = {"1", "a\tb", "x"}, *lf[] = {"1", "2", "x\n"}, *cr[] = {"1\r", "2", "x"};
    const char *bad_utf8[] = {"1", "\xC3", "x"};
    ck_assert_status(btfm_table_add_row(t, tab), BTFM_E_INVALID);
    ck_assert_error_has("column 2 (\"duration\") holds a tab");
    ck_assert_status(btfm_table_add_row(t, lf), BTFM_E_INVALID);
    ck_assert_status(btfm_table_add_row(t, cr), BTFM_E_INVALID);
    ck_assert_status(btfm_table_add_row(t, bad_utf8), BTFM_E_INVALID);
    ck_assert_error_has("is not valid UTF-8");
    ck_assert_int_eq(btfm_table_n_rows(t), 2);
    ck_assert_ok(btfm_table_set_cell(t, 0, 2, "stop"));
    ck_assert_ok(btfm_table_set_cell(t, 1, 1, "0.25"));
    ck_assert_status(btfm_table_set_cell(t, 2, 0, "1"), BTFM_E_RANGE);
    ck_assert_status(btfm_table_set_cell(t, 0, 3, "1"), BTFM_E_RANGE);
    ck_assert_status(btfm_table_set_cell(t, -1, 0, "1"), BTFM_E_RANGE);
    ck_assert_status(btfm_table_set_cell(t, 0, 0, "a\nb"), BTFM_E_INVALID);
    ck_assert_str_eq(btfm_table_cell(t, 0, 0), "0.5");
    ck_assert_ok(btfm_table_add_column(t, "response_time", NULL));
    ck_assert_ok(btfm_table_add_column(t, "value", "7"));
    ck_assert_status(btfm_table_add_column(t, "onset", "1"), BTFM_E_FORMAT);
    ck_assert_error_has("column 6 repeats the name \"onset\" of column 1");
    ck_assert_status(btfm_table_add_column(t, "", "1"), BTFM_E_FORMAT);
    ck_assert_status(btfm_table_add_column(t, "bad\tname", "1"), BTFM_E_FORMAT);
    ck_assert_status(btfm_table_add_column(t, "z", "a\tb"), BTFM_E_INVALID);
    ck_assert_int_eq(btfm_table_n_columns(t), 5);
    const char *expected = "onset\tduration\ttrial_type\tresponse_time\tvalue\n"
                           "0.5\t1\tstop\tn/a\t7\n"
                           "2\t0.25\t\xE2\x82\xAC\tn/a\t7\n";
    char *text = NULL;
    size_t len = 0;
    ck_assert_ok(btfm_table_format(t, &text, &len));
    ck_assert_str_eq(text, expected);
    ck_assert_uint_eq(len, strlen(expected));
    btfm_free(text);

    char path[128];
    snprintf(path, sizeof path, "%s/events.tsv", temp_dir());
    ck_assert_ok(btfm_table_save(t, path));
    size_t n;
    ck_assert_str_eq(slurp(path, &n), expected);
    btfm_table *back = NULL;
    ck_assert_ok(btfm_table_read(&back, path));
    ck_assert_int_eq(btfm_table_n_rows(back), 2);
    ck_assert_str_eq(btfm_table_cell(back, 1, 2), "\xE2\x82\xAC");
    ck_assert_str_eq(btfm_table_source(back), path);
    /* A save into a folder that does not exist fails and changes nothing. */
    char missing[160];
    snprintf(missing, sizeof missing, "%s/no/such/events.tsv", path);
    ck_assert_status(btfm_table_save(t, missing), BTFM_E_IO);
    /* Refused saves leave the old file whole: make the folder read-only. */
    ck_assert_ok(btfm_table_set_cell(back, 0, 0, "9"));
    char dir[128];
    snprintf(dir, sizeof dir, "%.*s", (int)(strrchr(path, '/') - path), path);
    chmod(dir, 0500);
    if (access(dir, W_OK) != 0) { /* root can write anyway; then there is nothing to test */
        ck_assert_status(btfm_table_save(back, path), BTFM_E_IO);
        ck_assert_str_eq(slurp(path, &n), expected);
    }
    chmod(dir, 0700);
    unlink(path);
    rmdir(dir);
    btfm_table_free(back);
    btfm_table_free(t);
}
END_TEST

START_TEST(tsv_one_column_tables_never_write_blank_lines)
{
    const char *cols[] = {"name"};
    btfm_table *t = NULL;
    ck_assert_ok(btfm_table_new(&t, cols, 1));
    const char *empty[] = {""}, *na[] = {NULL};
    ck_assert_status(btfm_table_add_row(t, empty), BTFM_E_INVALID);
    ck_assert_error_has("store \"n/a\" instead");
    ck_assert_ok(btfm_table_add_row(t, na));
    ck_assert_status(btfm_table_set_cell(t, 0, 0, ""), BTFM_E_INVALID);
    btfm_table_free(t);
}
END_TEST

START_TEST(tsv_bad_arguments)
{
    btfm_table *t = NULL;
    const char *cols[] = {"a", "b"};
    ck_assert_status(btfm_table_new(NULL, cols, 2), BTFM_E_INVALID);
    ck_assert_status(btfm_table_new(&t, NULL, 2), BTFM_E_INVALID);
    ck_assert_status(btfm_table_new(&t, cols, 0), BTFM_E_RANGE);
    const char *dup[] = {"a", "a"}, *null_name[] = {"a", NULL};
    ck_assert_status(btfm_table_new(&t, dup, 2), BTFM_E_FORMAT);
    ck_assert_status(btfm_table_new(&t, null_name, 2), BTFM_E_INVALID);
    ck_assert_ptr_null(t);
    ck_assert_status(btfm_table_parse(NULL, "a", 1, NULL), BTFM_E_INVALID);
    ck_assert_status(btfm_table_parse(&t, NULL, 1, NULL), BTFM_E_INVALID);
    ck_assert_status(btfm_table_read(&t, NULL), BTFM_E_INVALID);
    ck_assert_status(btfm_table_read(&t, "/nonexistent/events.tsv"), BTFM_E_NOTFOUND);
    ck_assert_error_has("/nonexistent/events.tsv");
    ck_assert_status(btfm_table_read(&t, "/tmp"), BTFM_E_IO);
    ck_assert_int_eq(btfm_table_n_rows(NULL), 0);
    ck_assert_int_eq(btfm_table_n_columns(NULL), 0);
    ck_assert_ptr_null(btfm_table_cell(NULL, 0, 0));
    ck_assert_int_eq(btfm_table_is_na(NULL, 0, 0), 0);
    int c;
    double v;
    ck_assert_status(btfm_table_find_column(NULL, "a", &c), BTFM_E_INVALID);
    ck_assert_status(btfm_table_column_numbers(NULL, 0, &v), BTFM_E_INVALID);
    ck_assert_status(btfm_table_add_row(NULL, cols), BTFM_E_INVALID);
    ck_assert_status(btfm_table_add_column(NULL, "x", NULL), BTFM_E_INVALID);
    ck_assert_status(btfm_table_set_cell(NULL, 0, 0, "x"), BTFM_E_INVALID);
    ck_assert_status(btfm_table_save(NULL, "/tmp/x.tsv"), BTFM_E_INVALID);
    ck_assert_ok(btfm_table_new(&t, cols, 2));
    ck_assert_status(btfm_table_add_row(t, NULL), BTFM_E_INVALID);
    ck_assert_status(btfm_table_find_column(t, NULL, &c), BTFM_E_INVALID);
    ck_assert_status(btfm_table_save(t, NULL), BTFM_E_INVALID);
    ck_assert_status(btfm_table_column_numbers(t, -1, &v), BTFM_E_RANGE);
    btfm_table_free(t);
    btfm_table_free(NULL);
}
END_TEST

/* 100 000 rows whose values follow from the row number. */
START_TEST(tsv_large_table)
{
    const int n = 100000;
    size_t cap = (size_t)n * 48 + 64, len = 0;
    char *text = malloc(cap);
    len += (size_t)snprintf(text, cap, "onset\tduration\ttrial_type\n");
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(text + len, cap - len, "%d.5\t%s\tcond%d\n", i,
                                i % 7 == 0 ? "n/a" : "0.25", i % 3);
    btfm_table *t = NULL;
    ck_assert_ok(btfm_table_parse(&t, text, len, "big.tsv"));
    free(text);
    ck_assert_int_eq(btfm_table_n_rows(t), n);
    double *v = malloc((size_t)n * sizeof *v);
    ck_assert_ok(btfm_table_column_numbers(t, 0, v));
    ck_assert_all(i, n, v[i] == (double)i + 0.5, "row %lld: %g", (long long)i, v[i]);
    ck_assert_ok(btfm_table_column_numbers(t, 1, v));
    ck_assert_all(i, n, i % 7 == 0 ? isnan(v[i]) : v[i] == 0.25, "row %lld: %g", (long long)i, v[i]);
    ck_assert_str_eq(btfm_table_cell(t, n - 1, 2), "cond0"); /* 99999 % 3 */
    free(v);
    btfm_table_free(t);
}
END_TEST

/* ---- JSON ---- */

static btfm_json *json_ok(const char *text)
{
    btfm_json *v = NULL;
    ck_assert_ok(btfm_json_parse(&v, text, strlen(text), "x.json"));
    return v;
}

START_TEST(json_reads_values)
{
    btfm_json *v = json_ok(" {\"TaskName\": \"rest\", \"SamplingFrequency\": 512.0,\n"
                           "  \"Nested\": {\"a\": [1, -0.5e1, true, false, null, []]},\n"
                           "  \"Empty\": {}, \"esc\": \"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\\u0000x\"}\n");
    ck_assert_int_eq(btfm_json_kind_of(v), BTFM_JSON_OBJECT);
    ck_assert_uint_eq(btfm_json_length(v), 5);
    ck_assert_str_eq(btfm_json_key_at(v, 0), "TaskName");
    ck_assert_str_eq(btfm_json_key_at(v, 3), "Empty");
    ck_assert_ptr_null(btfm_json_key_at(v, 5));
    ck_assert_str_eq(btfm_json_string(btfm_json_get(v, "TaskName")), "rest");
    ck_assert(btfm_json_number(btfm_json_get(v, "SamplingFrequency")) == 512.0);
    ck_assert(isnan(btfm_json_number(btfm_json_get(v, "TaskName"))));
    ck_assert_ptr_null(btfm_json_string(btfm_json_get(v, "SamplingFrequency")));
    ck_assert_ptr_null(btfm_json_get(v, "taskname"));
    const btfm_json *a = btfm_json_get(btfm_json_get(v, "Nested"), "a");
    ck_assert_uint_eq(btfm_json_length(a), 6);
    ck_assert(btfm_json_number(btfm_json_at(a, 1)) == -5.0);
    ck_assert_int_eq(btfm_json_kind_of(btfm_json_at(a, 2)), BTFM_JSON_TRUE);
    ck_assert_int_eq(btfm_json_kind_of(btfm_json_at(a, 3)), BTFM_JSON_FALSE);
    ck_assert_int_eq(btfm_json_kind_of(btfm_json_at(a, 4)), BTFM_JSON_NULL);
    ck_assert_int_eq(btfm_json_kind_of(btfm_json_at(a, 5)), BTFM_JSON_ARRAY);
    ck_assert_ptr_null(btfm_json_at(a, 6));
    ck_assert_uint_eq(btfm_json_length(btfm_json_get(v, "Empty")), 0);
    const btfm_json *esc = btfm_json_get(v, "esc");
    static const char expected[] = "\"\\/\b\f\n\r\t\xC3\xA9\xF0\x9F\x98\x80\0x";
    ck_assert_uint_eq(btfm_json_string_length(esc), sizeof expected - 1);
    ck_assert_int_eq(memcmp(btfm_json_string(esc), expected, sizeof expected), 0);
    int line, column;
    btfm_json_position(btfm_json_get(v, "Nested"), &line, &column);
    ck_assert_int_eq(line, 2);
    ck_assert_int_eq(column, 13);
    btfm_json_position(btfm_json_at(a, 1), &line, &column);
    ck_assert_int_eq(line, 2);
    ck_assert_int_eq(column, 23);
    btfm_json_position(v, &line, &column);
    ck_assert_int_eq(line, 1);
    ck_assert_int_eq(column, 2);
    ck_assert_int_eq(btfm_json_kind_of(NULL), -1);
    ck_assert_uint_eq(btfm_json_length(btfm_json_get(v, "TaskName")), 0);
    btfm_json_free(v);
    /* Scalars at the top level. */
    v = json_ok("  -0 ");
    ck_assert(btfm_json_number(v) == 0 && signbit(btfm_json_number(v)));
    btfm_json_free(v);
    v = json_ok("\"\"");
    ck_assert_str_eq(btfm_json_string(v), "");
    btfm_json_free(v);
}
END_TEST

START_TEST(json_numbers_are_correctly_rounded)
{
    const char *texts[] = {"0.1", "1e-300", "123456789012345678", "2.2250738585072011e-308",
                           "4.9406564584124654e-324", "1.7976931348623157e308",
                           "9007199254740993", "0.30000000000000004", "1E+2", "5e-325",
                           "0.000000000000000000000000000000000000000000000000000000001"};
    const double values[] = {0.1, 1e-300, 123456789012345678.0, 2.2250738585072011e-308,
                             4.9406564584124654e-324, 1.7976931348623157e308,
                             9007199254740992.0, 0.30000000000000004, 100.0, 0.0, 1e-57};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        btfm_json *v = json_ok(texts[i]);
        ck_assert_msg(btfm_json_number(v) == values[i], "%s gave %.17g", texts[i],
                      btfm_json_number(v));
        btfm_json_free(v);
    }
    /* A 300-digit integer (longer than any stack buffer) is still exact. */
    char big[400] = "1";
    for (int i = 0; i < 300; i++) strcat(big, "0");
    btfm_json *v = json_ok(big);
    ck_assert(btfm_json_number(v) == 1e300);
    btfm_json_free(v);
}
END_TEST

typedef struct { const char *text; const char *where; const char *what; } bad_json;

START_TEST(json_refuses_malformed_text)
{
    static const bad_json cases[] = {
        {"", "line 1, column 1", "unexpected the end of the text"},
        {"   \n  ", "line 2, column 3", "expected a value"},
        {"{\"a\":1,}", "line 1, column 8", "no trailing comma"},
        {"[1,]", "line 1, column 4", "no trailing comma"},
        {"[1 2]", "line 1, column 4", "expected ',' or ']'"},
        {"{\"a\" 1}", "line 1, column 6", "expected ':'"},
        {"\n\n  {\"a\":1 \"b\":2}", "line 3, column 10", "expected ',' or '}'"},
        {"{a:1}", "line 1, column 2", "member name in double quotes"},
        {"01", "line 1, column 1", "leading zero"},
        {"-01", "line 1, column 2", "leading zero"},
        {"1.", "line 1, column 3", "a digit after the decimal point"},
        {".5", "line 1, column 1", "unexpected '.'"},
        {"1e", "line 1, column 3", "a digit in the exponent"},
        {"+1", "line 1, column 1", "unexpected '+'"},
        {"-", "line 1, column 2", "expected a digit"},
        {"-Infinity", "line 1, column 2", "expected a digit"},
        {"NaN", "line 1, column 1", "NaN and Infinity are not JSON"},
        {"[Infinity]", "line 1, column 2", "NaN and Infinity are not JSON"},
        {"1e400", "line 1, column 1", "too large for a double"},
        {"-1e400", "line 1, column 1", "too large for a double"},
        {"tru", "line 1, column 1", "unexpected 't'"},
        {"nul", "line 1, column 1", "unexpected 'n'"},
        {"'a'", "line 1, column 1", "unexpected '''"},
        {"// c\n1", "line 1, column 1", "unexpected '/'"},
        {"1 2", "line 1, column 3", "the end of the text after the JSON value"},
        {"{} x", "line 1, column 4", "unexpected 'x'"},
        {"\"abc", "line 1, column 1", "a string is not closed"},
        {"\"a\\xb\"", "line 1, column 3", "invalid escape"},
        {"\"\\u12G4\"", "line 1, column 2", "four hexadecimal digits"},
        {"\"\\u12\"", "line 1, column 2", "four hexadecimal digits"},
        {"\"x\\ud800\"", "line 1, column 3", "unpaired high surrogate"},
        {"\"\\ud800\\u0041\"", "line 1, column 2", "unpaired high surrogate"},
        {"\"\\udc00\"", "line 1, column 2", "low surrogate"},
        {"\"a\nb\"", "line 1, column 3", "a control character inside a string"},
        {"\"a\tb\"", "line 1, column 3", "a control character inside a string"},
        {"[\"\xC3\xA9\", \"\xFF\"]", "line 1, column 8", "invalid UTF-8 in a string"},
        {"\"\xED\xA0\x80\"", "line 1, column 2", "invalid UTF-8"},
        {"\"\xC0\xAF\"", "line 1, column 2", "invalid UTF-8"},
        {"{\"\xC3\xA9\": [1, \"x\", tru]}", "line 1, column 16", "unexpected 't'"},
        {"{\"a\":1,\"b\":2,\"a\":3}", "line 1, column 14", "duplicate key \"a\" (first at line 1, column 2)"},
        {"\xEF\xBB\xBF{}", "line 1, column 1", "byte-order mark"},
        {"[1]\x01", "line 1, column 4", "unexpected byte 0x01"},
        {"{\"a\":1}}", "line 1, column 8", "unexpected '}'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        btfm_json *v = (btfm_json *)1;
        int st = btfm_json_parse(&v, cases[i].text, strlen(cases[i].text), "bad.json");
        ck_assert_msg(st == BTFM_E_FORMAT, "case %zu (%s) gave %d", i, cases[i].text, st);
        ck_assert_ptr_null(v);
        char where[64];
        snprintf(where, sizeof where, "bad.json: %s: ", cases[i].where);
        ck_assert_msg(strstr(btfm_last_error(), where) && strstr(btfm_last_error(), cases[i].what),
                      "case %zu: \"%s\" lacks \"%s\" or \"%s\"", i, btfm_last_error(), where,
                      cases[i].what);
    }
    /* A NUL byte inside the given length is a control character, not an end. */
    btfm_json *v = NULL;
    ck_assert_status(btfm_json_parse(&v, "\"a\0\"", 4, "nul.json"), BTFM_E_FORMAT);
    ck_assert_error_has("line 1, column 3: a control character");
}
END_TEST

START_TEST(json_duplicates_in_large_objects)
{
    char text[2048];
    size_t n = (size_t)snprintf(text, sizeof text, "{");
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "%s\n\"k%d\": %d", i ? "," : "",
                              i == 31 ? 7 : i == 35 ? 3 : i, i);
    snprintf(text + n, sizeof text - n, "}");
    btfm_json *v = NULL;
    /* k7 first at line 9 (member 7), again at line 33 (member 31); k3 again at line 37. */
    ck_assert_status(btfm_json_parse(&v, text, strlen(text), "big.json"), BTFM_E_FORMAT);
    ck_assert_error_has("big.json: line 33, column 1: duplicate key \"k7\" (first at line 9, column 1)");
    /* Unique keys: every member is found through the sorted index. */
    n = (size_t)snprintf(text, sizeof text, "{");
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "%s\"k%d\": %d", i ? "," : "", 39 - i, i);
    snprintf(text + n, sizeof text - n, "}");
    v = json_ok(text);
    for (int i = 0; i < 40; i++) {
        char key[8];
        snprintf(key, sizeof key, "k%d", i);
        ck_assert(btfm_json_number(btfm_json_get(v, key)) == 39 - i);
    }
    ck_assert_ptr_null(btfm_json_get(v, "k40"));
    ck_assert_str_eq(btfm_json_key_at(v, 0), "k39");
    btfm_json_free(v);
}
END_TEST

START_TEST(json_depth_limit)
{
    char text[2 * BTFM_JSON_MAX_DEPTH + 8];
    for (int depth = BTFM_JSON_MAX_DEPTH; depth <= BTFM_JSON_MAX_DEPTH + 1; depth++) {
        memset(text, '[', (size_t)depth);
        memset(text + depth, ']', (size_t)depth);
        btfm_json *v = NULL;
        int st = btfm_json_parse(&v, text, 2 * (size_t)depth, "deep.json");
        if (depth == BTFM_JSON_MAX_DEPTH) {
            ck_assert_int_eq(st, BTFM_OK);
            btfm_json_free(v);
        } else {
            ck_assert_int_eq(st, BTFM_E_FORMAT);
            ck_assert_error_has("line 1, column 257: arrays and objects nested deeper than 256");
        }
    }
}
END_TEST

START_TEST(json_merge_is_shallow_and_ordered)
{
    btfm_json *base = json_ok("{\"a\":1,\"b\":{\"x\":1,\"y\":2},\"c\":3}");
    btfm_json *over = json_ok("{\"b\":{\"x\":9},\"d\":4,\"a\":\"one\"}");
    btfm_json *m = NULL;
    ck_assert_ok(btfm_json_merge(&m, base, over));
    char *text = NULL;
    ck_assert_ok(btfm_json_dump(m, &text, NULL));
    ck_assert_str_eq(text, "{\n  \"a\": \"one\",\n  \"b\": {\n    \"x\": 9\n  },\n  \"c\": 3,\n  \"d\": 4\n}\n");
    btfm_free(text);
    btfm_json *arr = json_ok("[1]");
    btfm_json *bad = NULL;
    ck_assert_status(btfm_json_merge(&bad, base, arr), BTFM_E_INVALID);
    ck_assert_ptr_null(bad);
    ck_assert_status(btfm_json_merge(&bad, NULL, over), BTFM_E_INVALID);
    /* The inputs are unchanged. */
    ck_assert(btfm_json_number(btfm_json_get(base, "a")) == 1);
    ck_assert_uint_eq(btfm_json_length(btfm_json_get(base, "b")), 2);
    btfm_json_free(m);
    btfm_json_free(arr);
    btfm_json_free(base);
    btfm_json_free(over);
}
END_TEST

START_TEST(json_builds_and_dumps)
{
    btfm_json *o = NULL;
    ck_assert_ok(btfm_json_new_object(&o));
    ck_assert_ok(btfm_json_set_string(o, "TaskName", "r\xC3\xA9st \"quoted\"\n\x01"));
    ck_assert_ok(btfm_json_set_number(o, "SamplingFrequency", 0.1));
    const double nums[4] = {1e300, -0.0, 5, NAN};
    ck_assert_ok(btfm_json_set_numbers(o, "Values", nums, 4));
    const char *names[2] = {"Fz", "Cz"};
    ck_assert_ok(btfm_json_set_strings(o, "Channels", names, 2));
    ck_assert_ok(btfm_json_set_bool(o, "Ok", 1));
    ck_assert_ok(btfm_json_set_numbers(o, "None", NULL, 0));
    ck_assert_ok(btfm_json_set_number(o, "SamplingFrequency", 256)); /* replaces in place */
    char *text = NULL;
    size_t len = 0;
    ck_assert_ok(btfm_json_dump(o, &text, &len));
    const char *expected =
        "{\n"
        "  \"TaskName\": \"r\xC3\xA9st \\\"quoted\\\"\\n\\u0001\",\n"
        "  \"SamplingFrequency\": 256,\n"
        "  \"Values\": [\n    1e+300,\n    -0.0,\n    5,\n    null\n  ],\n"
        "  \"Channels\": [\n    \"Fz\",\n    \"Cz\"\n  ],\n"
        "  \"Ok\": true,\n"
        "  \"None\": []\n"
        "}\n";
    ck_assert_str_eq(text, expected);
    ck_assert_uint_eq(len, strlen(expected));
    btfm_json *back = NULL;
    ck_assert_ok(btfm_json_parse(&back, text, len, "dump"));
    ck_assert_str_eq(btfm_json_string(btfm_json_get(back, "TaskName")),
                     "r\xC3\xA9st \"quoted\"\n\x01");
    btfm_free(text);
    btfm_json_free(back);
    /* Builders refuse what JSON cannot hold. */
    ck_assert_status(btfm_json_set_string(o, "k", "\xFF"), BTFM_E_INVALID);
    ck_assert_status(btfm_json_set_number(o, "\xC3", 1), BTFM_E_INVALID);
    btfm_json *arr = NULL, *num = NULL, *lit = NULL;
    ck_assert_ok(btfm_json_new_array(&arr));
    ck_assert_status(btfm_json_set_number(arr, "k", 1), BTFM_E_INVALID);
    ck_assert_ok(btfm_json_new_number(&num, 2));
    ck_assert_status(btfm_json_append(o, num), BTFM_E_INVALID); /* frees num */
    ck_assert_status(btfm_json_new_literal(&lit, BTFM_JSON_NUMBER), BTFM_E_INVALID);
    ck_assert_ok(btfm_json_new_literal(&lit, BTFM_JSON_NULL));
    ck_assert_ok(btfm_json_append(arr, lit));
    ck_assert_ok(btfm_json_set(o, "Arr", arr));
    btfm_json *copy = NULL;
    ck_assert_ok(btfm_json_copy(&copy, o));
    ck_assert_int_eq(btfm_json_kind_of(btfm_json_at(btfm_json_get(copy, "Arr"), 0)), BTFM_JSON_NULL);
    btfm_json_free(copy);
    btfm_json_free(o);
    ck_assert_status(btfm_json_dump(NULL, &text, NULL), BTFM_E_INVALID);
    ck_assert_status(btfm_json_parse(NULL, "1", 1, NULL), BTFM_E_INVALID);
    ck_assert_status(btfm_json_parse(&o, NULL, 1, NULL), BTFM_E_INVALID);
    btfm_json_free(NULL);
}
END_TEST

/* Doubles from every part of the range (random bit patterns, xorshift) dump to text that
 * parses back to the same bits. */
START_TEST(json_numbers_round_trip)
{
    uint64_t s = 0x9E3779B97F4A7C15u;
    int bad = 0; /* one assertion at the end: 20,000 passing ones would be slow */
    char first_bad[96] = "";
    for (int i = 0; i < UNIT_SIZE(20000, 2000); i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        double d;
        memcpy(&d, &s, sizeof d);
        if (!isfinite(d)) continue;
        char buf[32];
        int n = btfm_format_double(d, buf);
        btfm_json *v = NULL;
        btfm_status st = btfm_json_parse(&v, buf, (size_t)n, "n");
        double back = st == BTFM_OK ? btfm_json_number(v) : NAN;
        if (memcmp(&d, &back, sizeof d) != 0 && bad++ == 0)
            snprintf(first_bad, sizeof first_bad, "%s read back as %.17g", buf, back);
        btfm_json_free(v);
    }
    ck_assert_msg(bad == 0, "%d numbers changed, first: %s", bad, first_bad);
}
END_TEST

START_TEST(json_files)
{
    char path[128];
    snprintf(path, sizeof path, "%s/sidecar.json", temp_dir());
    btfm_json *o = NULL, *back = NULL;
    ck_assert_ok(btfm_json_new_object(&o));
    ck_assert_ok(btfm_json_set_number(o, "RepetitionTime", 2.0));
    ck_assert_ok(btfm_json_write_file(o, path));
    size_t n;
    ck_assert_str_eq(slurp(path, &n), "{\n  \"RepetitionTime\": 2\n}\n");
    ck_assert_ok(btfm_json_read_file(&back, path));
    ck_assert(btfm_json_number(btfm_json_get(back, "RepetitionTime")) == 2.0);
    btfm_json_free(back);
    FILE *f = fopen(path, "w");
    fputs("{\n  \"a\": 1,\n  \"b\": [1,,2]\n}\n", f);
    fclose(f);
    ck_assert_status(btfm_json_read_file(&back, path), BTFM_E_FORMAT);
    ck_assert_error_has("sidecar.json: line 3, column 11: unexpected ','");
    ck_assert_ptr_null(back);
    unlink(path);
    ck_assert_status(btfm_json_read_file(&back, path), BTFM_E_NOTFOUND);
    *strrchr(path, '/') = '\0';
    rmdir(path);
    btfm_json_free(o);
}
END_TEST

/* ---- allocation failures ---- */

#include "counting_alloc.h"

/* Run `body` with allocation budgets 0, 1, 2... until it succeeds: every failure must be
 * BTFM_E_NOMEM and leak nothing. */
typedef int (*oom_body)(void);

static void every_allocation_fails_cleanly(oom_body body, const char *name)
{
    ck_assert_ok(btfm_set_allocator(count_malloc, count_realloc, count_free, &counter));
    int succeeded = 0;
    for (long budget = 0; budget < 2000 && !succeeded; budget++) {
        counter.calls = counter.live = 0;
        counter.budget = budget;
        int st = body();
        ck_assert_msg(st == BTFM_OK || st == BTFM_E_NOMEM, "%s, budget %ld: %s", name, budget,
                      btfm_last_error());
        ck_assert_msg(counter.live == 0, "%s, budget %ld leaked %ld blocks", name, budget,
                      counter.live);
        succeeded = st == BTFM_OK;
    }
    ck_assert_msg(succeeded, "%s never succeeded", name);
    counter.budget = -1;
    ck_assert_ok(btfm_set_allocator(NULL, NULL, NULL, NULL));
}

static int table_work(void)
{
    static const char text[] = "a\tb\n1\t2\n3\tn/a\n";
    btfm_table *t = NULL;
    int st = btfm_table_parse(&t, text, sizeof text - 1, "oom.tsv");
    if (st) return st;
    const char *row[] = {"5", "6"};
    char *out = NULL;
    for (int i = 0; i < 70 && !st; i++) st = btfm_table_add_row(t, row);
    if (!st) st = btfm_table_set_cell(t, 0, 0, "x");
    if (!st) st = btfm_table_add_column(t, "c", "7");
    if (!st) st = btfm_table_format(t, &out, NULL);
    if (!st && strcmp(btfm_table_cell(t, 71, 2), "7") != 0) st = BTFM_E_INTERNAL;
    btfm_free(out);
    btfm_table_free(t);
    return st;
}

static int json_work(void)
{
    static const char text[] = "{\"a\":[1,2,{\"b\":\"\\u00e9\"}],\"c\":true,\"d\":null,\"e\":1,"
                               "\"f\":2,\"g\":3,\"h\":4,\"i\":5,\"j\":6,\"k\":7}";
    btfm_json *v = NULL, *o = NULL, *m = NULL;
    char *out = NULL;
    int st = btfm_json_parse(&v, text, sizeof text - 1, "oom.json");
    if (!st) st = btfm_json_new_object(&o);
    if (!st) st = btfm_json_set_string(o, "a", "x");
    if (!st) st = btfm_json_set_numbers(o, "z", (const double[]){1, 2, 3}, 3);
    if (!st) st = btfm_json_merge(&m, v, o);
    if (!st) st = btfm_json_dump(m, &out, NULL);
    if (!st && btfm_json_length(m) != 11) st = BTFM_E_INTERNAL;
    btfm_free(out);
    btfm_json_free(m);
    btfm_json_free(o);
    btfm_json_free(v);
    return st;
}

START_TEST(table_allocation_failures)
{
    every_allocation_fails_cleanly(table_work, "table");
}
END_TEST

START_TEST(json_allocation_failures)
{
    every_allocation_fails_cleanly(json_work, "json");
}
END_TEST

static Suite *table_suite(void)
{
    Suite *s = suite_create("table");
    TCase *tsv = tcase_create("tsv");
    unit_set_timeout(tsv, 0.3); /* seconds of work on an idle machine */
    tcase_add_test(tsv, tsv_reads_cells_as_written);
    tcase_add_test(tsv, tsv_blank_lines_and_header_only);
    tcase_add_test(tsv, tsv_participant_values_are_typed);
    tcase_add_test(tsv, tsv_numbers_are_exact_and_strict);
    tcase_add_test(tsv, tsv_numbers_ignore_the_process_locale);
    tcase_add_test(tsv, tsv_refuses_malformed_text);
    tcase_add_test(tsv, tsv_edits_and_saves_atomically);
    tcase_add_test(tsv, tsv_one_column_tables_never_write_blank_lines);
    tcase_add_test(tsv, tsv_bad_arguments);
    tcase_add_test(tsv, tsv_large_table);
    suite_add_tcase(s, tsv);
    TCase *json = tcase_create("json");
    unit_set_timeout(json, 1.0); /* seconds of work on an idle machine */
    tcase_add_test(json, json_reads_values);
    tcase_add_test(json, json_numbers_are_correctly_rounded);
    tcase_add_test(json, json_refuses_malformed_text);
    tcase_add_test(json, json_duplicates_in_large_objects);
    tcase_add_test(json, json_depth_limit);
    tcase_add_test(json, json_merge_is_shallow_and_ordered);
    tcase_add_test(json, json_builds_and_dumps);
    tcase_add_test(json, json_numbers_round_trip);
    tcase_add_test(json, json_files);
    suite_add_tcase(s, json);
    TCase *oom = tcase_create("allocation");
    unit_set_timeout(oom, 0.1); /* seconds of work on an idle machine */
    tcase_add_test(oom, table_allocation_failures);
    tcase_add_test(oom, json_allocation_failures);
    suite_add_tcase(s, oom);
    return s;
}

BTFM_UNIT_MAIN(table_suite)
