/* Locale-independent, correctly rounded conversions between decimal text and doubles:
 * every number the library reads from or writes to a file goes through these, since a
 * host may have set LC_NUMERIC to a comma locale. Internal; not installed. */
#ifndef BTFM_CORE_NUMBER_H
#define BTFM_CORE_NUMBER_H

#include <stddef.h>
#include "internal.h"

/* 1 when all `len` bytes of `text` are a decimal number: optional sign ('+' or '-'),
 * digits with an optional '.' and fraction (at least one digit in all), optional
 * exponent ('e' or 'E', optional sign, digits). No spaces, hex, "inf" or "nan". */
int btfm_decimal_valid(const char *text, size_t len);

/* The value of a decimal number already checked against btfm_decimal_valid's grammar,
 * when it can be computed exactly without strtod: at most 19 significant digits whose
 * integer is at most 2^53 and a power of ten within 1e-22..1e22 (Clinger's fast path: one
 * correctly rounded multiply or divide of exact operands). 1 with *value set, 0 when the
 * caller must use btfm_strtod_c. */
int btfm_decimal_fast(const char *text, size_t len, double *value);

/* strtod of a NUL-terminated text in the "C" locale, whatever the process locale
 * (correctly rounded; overflow gives +-HUGE_VAL). */
double btfm_strtod_c(const char *text);

/* The same with strtod's end pointer: *end (when end is not NULL) points past the
 * number read, at `text` when there is none. */
double btfm_strtod_c_end(const char *text, char **end);

/* snprintf in the "C" locale, for numbers written in a fixed format ("%.7f", "%+.3f"):
 * the decimal point is '.' whatever the process locale. */
int btfm_snprintf_c(char *buf, size_t size, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Shortest "%.{1..17}g" form of `value` that reads back to the same double, into `buf`
 * (at least 32 bytes); returns the length. Locale-independent. */
int btfm_format_double(double value, char *buf);

#endif
