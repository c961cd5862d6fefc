/* Elementary functions of the simulators in + - * / and IEEE square root only, so a
 * seed gives the same bits on every machine and C library (libm's exp, log and sin may
 * differ in the last place between implementations and CPU-specific variants). Accurate
 * to a few units in the last place; compared with libm in tests/sim. */
#ifndef BTFM_SIM_MATH_H
#define BTFM_SIM_MATH_H

#include <math.h>

#define SIM_PI 3.14159265358979323846
#define SIM_TWO_PI 6.28318530717958647692

/* Natural logarithm of x > 0 (finite); -inf for 0, NaN below. */
double btfm_sim_log(double x);
/* e^x; 0 below -745, +inf above 709.78. */
double btfm_sim_exp(double x);
/* x^y for x > 0. */
double btfm_sim_pow(double x, double y);
/* sin and cos of x, |x| < 1e5 (phases are reduced by the callers). */
void btfm_sim_sincos(double x, double *s, double *c);
double btfm_sim_sin(double x);
double btfm_sim_cos(double x);
/* Logistic function 1 / (1 + e^-x). */
double btfm_sim_logistic(double x);

#endif
