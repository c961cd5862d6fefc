/* Locale-independent, correctly rounded text-to-double conversion shared by the TSV
 * and JSON readers. Internal; not installed. */
#ifndef BTFM_CORE_NUMBER_H
#define BTFM_CORE_NUMBER_H

#include <stddef.h>
#include "internal.h"

/* Parse all `len` bytes of `text` as a decimal number: optional sign ('+' or '-'),
 * digits with an optional '.' and fraction (at least one digit in all), optional
 * exponent ('e' or 'E', optional sign, digits). No spaces, hex, "inf" or "nan".
 * 0 on success with *value set (overflow gives +-HUGE_VAL, still 0 with *overflow = 1
 * when `overflow` is not NULL); -1 when the text is not such a number. */
int btfm_parse_decimal(const char *text, size_t len, double *value, int *overflow);

/* Convert text already checked against a decimal grammar (no locale, correctly
 * rounded); `len` bytes, need not be NUL-terminated. */
double btfm_decimal_to_double(const char *text, size_t len);

/* Shortest "%.{1..17}g" form of a finite `value` that reads back to the same double,
 * into `buf` (at least 32 bytes); returns the length. Locale-independent. */
int btfm_format_double(double value, char *buf);

#endif
