/* Decimal text to double and back, independent of the process locale: the C library's
 * strtod and printf are correctly rounded but follow LC_NUMERIC, so both run under a
 * "C" locale object installed for the calling thread only. */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "number.h"

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void make_c_locale(void) { c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0); }

/* Switch the calling thread to the C locale; returns the previous one (0 when the C
 * locale object could not be made: the process locale is used then). */
static locale_t enter_c_locale(void)
{
    pthread_once(&c_locale_once, make_c_locale);
    return c_locale ? uselocale(c_locale) : (locale_t)0;
}

static void leave_c_locale(locale_t previous)
{
    if (previous) uselocale(previous);
}

double btfm_strtod_c(const char *text) { return btfm_strtod_c_end(text, NULL); }

double btfm_strtod_c_end(const char *text, char **end)
{
    locale_t previous = enter_c_locale();
    double value = strtod(text, end);
    int saved = errno; /* strtod's ERANGE reaches the caller */
    leave_c_locale(previous);
    errno = saved;
    return value;
}

int btfm_snprintf_c(char *buf, size_t size, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    locale_t previous = enter_c_locale();
    int n = vsnprintf(buf, size, format, ap);
    leave_c_locale(previous);
    va_end(ap);
    return n;
}

static size_t skip_digits(const char *s, size_t i, size_t len)
{
    while (i < len && s[i] >= '0' && s[i] <= '9') i++;
    return i;
}

int btfm_decimal_valid(const char *text, size_t len)
{
    size_t i = 0;
    if (i < len && (text[i] == '+' || text[i] == '-')) i++;
    size_t int_end = skip_digits(text, i, len);
    size_t n_digits = int_end - i;
    i = int_end;
    if (i < len && text[i] == '.') {
        size_t frac_end = skip_digits(text, i + 1, len);
        n_digits += frac_end - (i + 1);
        i = frac_end;
    }
    if (n_digits == 0) return 0;
    if (i < len && (text[i] == 'e' || text[i] == 'E')) {
        i++;
        if (i < len && (text[i] == '+' || text[i] == '-')) i++;
        size_t exp_end = skip_digits(text, i, len);
        if (exp_end == i) return 0;
        i = exp_end;
    }
    return i == len;
}

int btfm_decimal_fast(const char *text, size_t len, double *value)
{
    static const double powers[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                      1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    size_t i = 0;
    int negative = 0;
    if (i < len && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
    uint64_t mantissa = 0;
    int n_digits = 0;   /* significant digits taken into the mantissa */
    long exp10 = 0;
    int seen_point = 0;
    for (; i < len; i++) {
        char c = text[i];
        if (c == '.') {
            seen_point = 1;
            continue;
        }
        if (c < '0' || c > '9') break;
        if (mantissa == 0 && c == '0') { /* leading zeros are not significant */
            if (seen_point) exp10--;
            continue;
        }
        if (++n_digits > 19) return 0;
        mantissa = mantissa * 10 + (uint64_t)(c - '0');
        if (seen_point) exp10--;
    }
    if (i < len) { /* exponent */
        i++;
        int exp_negative = 0;
        if (i < len && (text[i] == '+' || text[i] == '-')) exp_negative = text[i++] == '-';
        long e = 0;
        for (; i < len; i++) {
            if (e > 100000) return 0;
            e = e * 10 + (text[i] - '0');
        }
        exp10 += exp_negative ? -e : e;
    }
    if (mantissa > ((uint64_t)1 << 53)) return 0;
    double m = (double)mantissa;
    if (mantissa == 0) exp10 = 0;
    if (exp10 < -22 || exp10 > 22) return 0;
    double v = exp10 < 0 ? m / powers[-exp10] : m * powers[exp10];
    *value = negative ? -v : v;
    return 1;
}

int btfm_format_double(double value, char *buf)
{
    /* Whole numbers below 2^53 as integers ("50", not "5e+01"): exact and what people write. */
    if (value == floor(value) && fabs(value) < 9007199254740992.0 && !(value == 0 && signbit(value)))
        return snprintf(buf, 32, "%.0f", value);
    locale_t previous = enter_c_locale();
    int n = 0;
    for (int precision = 1; precision <= 17; precision++) {
        n = snprintf(buf, 32, "%.*g", precision, value);
        if (strtod(buf, NULL) == value) break;
    }
    leave_c_locale(previous);
    return n;
}
