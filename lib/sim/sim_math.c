/* sim_math.h: argument reduction by Cody and Waite with the split constants of fdlibm,
 * then Taylor/atanh series to below half a unit in the last place of the reduced range. */
#include <float.h>
#include <stdint.h>
#include <string.h>
#include "sim_math.h"

static const double LN2_HI = 6.93147180369123816490e-01; /* ln 2, leading 32 bits */
static const double LN2_LO = 1.90821492927058770002e-10; /* ln 2 - LN2_HI */
static const double PIO2_1 = 1.57079632673412561417e+00; /* pi/2, leading 33 bits */
static const double PIO2_2 = 6.07710050630396597660e-11; /* next 33 bits */
static const double PIO2_3 = 2.02226624871116645580e-21; /* the rest */

double btfm_sim_log(double x)
{
    if (!(x > 0)) return x == 0 ? -INFINITY : NAN;
    if (x == INFINITY) return x;
    int scaled = 0;
    if (x < DBL_MIN) { /* subnormal: bring into the normal range first */
        x *= 0x1p54;
        scaled = 54;
    }
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    int e = (int)((bits >> 52) & 0x7ff) - 1023 - scaled;
    bits = (bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL; /* m in [1, 2) */
    double m;
    memcpy(&m, &bits, sizeof m);
    if (m > 1.41421356237309504880) {
        m *= 0.5;
        e++;
    }
    /* log m = 2 atanh(f), f = (m - 1) / (m + 1), |f| <= 0.1716. */
    double f = (m - 1.0) / (m + 1.0), s = f * f;
    double series = 1.0 / 21;
    static const double inv_odd[] = {1.0 / 19, 1.0 / 17, 1.0 / 15, 1.0 / 13, 1.0 / 11,
                                     1.0 / 9, 1.0 / 7, 1.0 / 5, 1.0 / 3};
    for (int i = 0; i < 9; i++) series = series * s + inv_odd[i];
    double log_m = 2.0 * f + 2.0 * f * s * series;
    return (double)e * LN2_HI + ((double)e * LN2_LO + log_m);
}

double btfm_sim_exp(double x)
{
    if (x != x) return x;
    if (x > 709.782712893383973096) return INFINITY;
    if (x < -745.2) return 0.0;
    double k = nearbyint(x * 1.44269504088896340736);
    double r = (x - k * LN2_HI) - k * LN2_LO; /* |r| <= 0.347 */
    /* Taylor series to r^14 / 14!: below 1e-17 relative on the reduced range. */
    double p = 1.0 / 87178291200.0;
    static const double inv_fact[] = {
        1.0 / 6227020800.0, 1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0,
        1.0 / 362880.0, 1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0,
        1.0 / 6.0, 0.5, 1.0, 1.0};
    for (int i = 0; i < 14; i++) p = p * r + inv_fact[i];
    return ldexp(p, (int)k);
}

double btfm_sim_pow(double x, double y)
{
    return btfm_sim_exp(y * btfm_sim_log(x));
}

/* sin and cos on |r| <= pi/4 by their Taylor series (terms to r^17 and r^18). */
static double sin_kernel(double r)
{
    double s = r * r, p = 1.0 / 355687428096000.0;
    static const double c[] = {-1.0 / 1307674368000.0, 1.0 / 6227020800.0, -1.0 / 39916800.0,
                               1.0 / 362880.0, -1.0 / 5040.0, 1.0 / 120.0, -1.0 / 6.0};
    for (int i = 0; i < 7; i++) p = p * s + c[i];
    return r + r * s * p;
}

static double cos_kernel(double r)
{
    double s = r * r, p = -1.0 / 6402373705728000.0;
    static const double c[] = {1.0 / 20922789888000.0, -1.0 / 87178291200.0, 1.0 / 479001600.0,
                               -1.0 / 3628800.0, 1.0 / 40320.0, -1.0 / 720.0, 1.0 / 24.0};
    for (int i = 0; i < 7; i++) p = p * s + c[i];
    return 1.0 - 0.5 * s + s * s * p;
}

void btfm_sim_sincos(double x, double *sin_out, double *cos_out)
{
    double k = nearbyint(x * 0.63661977236758134308); /* x / (pi/2) */
    double r = ((x - k * PIO2_1) - k * PIO2_2) - k * PIO2_3;
    double s = sin_kernel(r), c = cos_kernel(r);
    int quadrant = (int)((int64_t)k & 3);
    switch (quadrant) {
    case 0: *sin_out = s; *cos_out = c; break;
    case 1: *sin_out = c; *cos_out = -s; break;
    case 2: *sin_out = -s; *cos_out = -c; break;
    default: *sin_out = -c; *cos_out = s; break;
    }
}

double btfm_sim_sin(double x)
{
    double s, c;
    btfm_sim_sincos(x, &s, &c);
    return s;
}

double btfm_sim_cos(double x)
{
    double s, c;
    btfm_sim_sincos(x, &s, &c);
    return c;
}

double btfm_sim_logistic(double x)
{
    return 1.0 / (1.0 + btfm_sim_exp(-x));
}
