/* Polyphase rational resampling by up/down with a Kaiser-windowed sinc low-pass, the
 * filter and alignment of scipy.signal.resample_poly (window ('kaiser', 5.0), half
 * length 10 x max(up, down), zero padding outside the signal). Output sample n is
 * y[n] = sum_m x[m] h[half + n down - m up], so any window of the output can be computed
 * from the input samples around it. Shared by io (mixed rates) and signal. */
#ifndef BTFM_CORE_POLYPHASE_H
#define BTFM_CORE_POLYPHASE_H

#include <stdint.h>
#include "internal.h"

typedef struct btfm_polyphase {
    int up, down;            /* reduced by their gcd */
    int half_len;
    double *h;               /* 2 half_len + 1 taps, scaled by up */
} btfm_polyphase;

btfm_status btfm_polyphase_new(btfm_polyphase **out, int up, int down);
void btfm_polyphase_free(btfm_polyphase *p);

/* Output length for n_in input samples: ceil(n_in up / down). */
int64_t btfm_polyphase_output_len(const btfm_polyphase *p, int64_t n_in);

/* The input samples [*in_first, *in_first + *in_count) (clipped to [0, n_in)) that
 * outputs [first, first + count) depend on. */
void btfm_polyphase_input_range(const btfm_polyphase *p, int64_t n_in, int64_t first,
                                int64_t count, int64_t *in_first, int64_t *in_count);

/* Outputs [first, first + count) into out[i * stride], from x = input samples
 * [in_first, in_first + in_count) (as given by btfm_polyphase_input_range). */
void btfm_polyphase_apply(const btfm_polyphase *p, const double *x, int64_t in_first,
                          int64_t in_count, int64_t first, int64_t count, float *out,
                          size_t stride);

/* Outputs [first, first + count) of channels [c0, c0 + cw) (cw <= 16) of a time-major
 * signal x (n_in rows of n_channels floats) into out[(i) * n_channels + c], i counting
 * output rows from `first`: the multichannel form of btfm_polyphase_apply, vectorized
 * across channels. */
void btfm_polyphase_apply_rows(const btfm_polyphase *p, const float *x, int64_t n_in,
                               int n_channels, int c0, int cw, int64_t first, int64_t count,
                               float *out);

/* Modified Bessel function of the first kind, order 0 (for Kaiser windows). */
double btfm_bessel_i0(double x);

#endif
