/* IIR design in double precision: Butterworth filters as second-order sections (the
 * analog prototype, band transformation, bilinear transform and pole-zero pairing of
 * scipy.signal.butter / zpk2sos with pairing "nearest"), and the notch of iirnotch
 * (Orfanidis, Introduction to Signal Processing, 11.3). */
#include <complex.h>
#include <float.h>
#include <math.h>
#include <string.h>
#include "signal_internal.h"

enum { MAX_ORDER = 10, MAX_ROOTS = 4 * MAX_ORDER + 4 };

typedef struct roots {
    double complex v[MAX_ROOTS];
    int n;
} roots;

static void roots_push(roots *r, double complex value) { r->v[r->n++] = value; }

static void roots_delete(roots *r, int index)
{
    memmove(r->v + index, r->v + index + 1, (size_t)(r->n - index - 1) * sizeof r->v[0]);
    r->n--;
}

static int is_real(double complex value) { return cimag(value) == 0.0; }

static int count_real(const roots *r)
{
    int n = 0;
    for (int i = 0; i < r->n; i++) n += is_real(r->v[i]);
    return n;
}

/* Stable sort by (real part, |imaginary part|), as numpy.lexsort. */
static void sort_real_then_imag(double complex *v, int n)
{
    for (int i = 1; i < n; i++) {
        double complex key = v[i];
        int j = i - 1;
        while (j >= 0 && (creal(v[j]) > creal(key) ||
                          (creal(v[j]) == creal(key) && fabs(cimag(v[j])) > fabs(cimag(key))))) {
            v[j + 1] = v[j];
            j--;
        }
        v[j + 1] = key;
    }
}

static void sort_abs_imag(double complex *v, int n)
{
    for (int i = 1; i < n; i++) {
        double complex key = v[i];
        int j = i - 1;
        while (j >= 0 && fabs(cimag(v[j])) > fabs(cimag(key))) {
            v[j + 1] = v[j];
            j--;
        }
        v[j + 1] = key;
    }
}

/* scipy's _cplxreal: one member (positive imaginary part, averaged with its conjugate)
 * of each complex pair, then the real values; both in scipy's order. */
static btfm_status cplxreal(roots *r)
{
    const double tol = 100 * DBL_EPSILON;
    double complex sorted[MAX_ROOTS], pos[MAX_ROOTS], neg[MAX_ROOTS];
    double reals[MAX_ROOTS];
    int n = r->n, n_real = 0, n_pos = 0, n_neg = 0;
    memcpy(sorted, r->v, (size_t)n * sizeof sorted[0]);
    sort_real_then_imag(sorted, n);
    for (int i = 0; i < n; i++) {
        double complex value = sorted[i];
        if (fabs(cimag(value)) <= tol * cabs(value)) reals[n_real++] = creal(value);
        else if (cimag(value) > 0) pos[n_pos++] = value;
        else neg[n_neg++] = value;
    }
    if (n_pos != n_neg)
        return btfm_fail(BTFM_E_INTERNAL, "btfm_butter: unpaired complex roots");
    /* Runs of (nearly) equal real parts are sorted by |imag|. */
    for (int start = 0; start < n_pos;) {
        int stop = start + 1;
        while (stop < n_pos && creal(pos[stop]) - creal(pos[stop - 1]) <= tol * cabs(pos[stop - 1]))
            stop++;
        sort_abs_imag(pos + start, stop - start);
        sort_abs_imag(neg + start, stop - start);
        start = stop;
    }
    r->n = 0;
    for (int i = 0; i < n_pos; i++) roots_push(r, (pos[i] + conj(neg[i])) / 2);
    for (int i = 0; i < n_real; i++) roots_push(r, reals[i]);
    return BTFM_OK;
}

/* scipy's _nearest_real_complex_idx: the root of `from` nearest to `to` among the real
 * ones (which 'r'), the complex ones ('c') or all ('a'). */
static int nearest(const roots *from, double complex to, char which)
{
    int best = -1;
    double best_distance = INFINITY;
    for (int i = 0; i < from->n; i++) {
        if ((which == 'r' && !is_real(from->v[i])) || (which == 'c' && is_real(from->v[i])))
            continue;
        double distance = cabs(from->v[i] - to);
        if (best < 0 || distance < best_distance) {
            best = i;
            best_distance = distance;
        }
    }
    return best;
}

/* The root closest to the unit circle (first on ties, as numpy.argmin). */
static int worst(const roots *r, int real_only)
{
    int best = -1;
    double best_distance = INFINITY;
    for (int i = 0; i < r->n; i++) {
        if (real_only && !is_real(r->v[i])) continue;
        double distance = fabs(1 - cabs(r->v[i]));
        if (best < 0 || distance < best_distance) {
            best = i;
            best_distance = distance;
        }
    }
    return best;
}

/* Coefficients of the monic polynomial with roots r[0..n) (n <= 2), right-aligned in
 * out[0..3) as scipy's _single_zpksos does; real parts (the roots are conjugate or real). */
static void poly_right(const double complex *r, int n, double *out)
{
    out[0] = out[1] = out[2] = 0;
    if (n == 0) {
        out[2] = 1;
    } else if (n == 1) {
        out[1] = 1;
        out[2] = creal(-r[0]);
    } else {
        out[0] = 1;
        out[1] = creal(-r[1] + -r[0]);
        out[2] = creal(-r[0] * -r[1]);
    }
}

static void single_section(double *sos, const double complex *z, int nz, const double complex *p,
                           int np_)
{
    poly_right(z, nz, sos);
    poly_right(p, np_, sos + 3);
}

static double complex take(roots *r, int index)
{
    double complex value = r->v[index];
    roots_delete(r, index);
    return value;
}

/* scipy.signal.zpk2sos(z, p, k, pairing='nearest') for a digital filter. */
static btfm_status zpk2sos(roots *z, roots *p, double k, double *sos, int n_sections)
{
    while (p->n < z->n) roots_push(p, 0);
    while (z->n < p->n) roots_push(z, 0);
    if (p->n % 2 == 1) {
        roots_push(p, 0);
        roots_push(z, 0);
    }
    btfm_status st = cplxreal(z);
    if (st == BTFM_OK) st = cplxreal(p);
    if (st != BTFM_OK) return st;
    memset(sos, 0, (size_t)n_sections * 6 * sizeof *sos);
    for (int si = n_sections - 1; si >= 0; si--) {
        double *row = sos + 6 * si;
        double complex p1 = take(p, worst(p, 0));
        if (is_real(p1) && count_real(p) == 0) {
            /* the last real pole goes with the nearest real zero and a pole/zero at 0 */
            double complex zz[2] = {take(z, nearest(z, p1, 'r')), 0}, pp[2] = {p1, 0};
            single_section(row, zz, 2, pp, 2);
        } else if (p->n + 1 == z->n && !is_real(p1) && count_real(p) == 1 && count_real(z) == 1) {
            double complex z1 = take(z, nearest(z, p1, 'c'));
            double complex zz[2] = {z1, conj(z1)}, pp[2] = {p1, conj(p1)};
            single_section(row, zz, 2, pp, 2);
        } else {
            double complex p2 = is_real(p1) ? take(p, worst(p, 1)) : conj(p1);
            double complex pp[2] = {p1, p2};
            if (z->n > 0) {
                double complex z1 = take(z, nearest(z, p1, 'a'));
                if (!is_real(z1)) {
                    double complex zz[2] = {z1, conj(z1)};
                    single_section(row, zz, 2, pp, 2);
                } else if (z->n > 0) {
                    double complex zz[2] = {z1, take(z, nearest(z, p1, 'r'))};
                    single_section(row, zz, 2, pp, 2);
                } else {
                    single_section(row, &z1, 1, pp, 2);
                }
            } else {
                single_section(row, NULL, 0, pp, 2);
            }
        }
    }
    if (p->n || z->n) return btfm_fail(BTFM_E_INTERNAL, "btfm_butter: unpaired poles or zeros");
    for (int i = 0; i < 3; i++) sos[i] *= k;
    return BTFM_OK;
}

static double complex prod_neg(const roots *r, double complex shift)
{
    double complex product = 1;
    for (int i = 0; i < r->n; i++) product *= shift - r->v[i];
    return product;
}

int btfm_butter_n_sections(int order, int kind)
{
    if (order < 1 || order > MAX_ORDER)
        return btfm_fail(BTFM_E_RANGE, "btfm_butter: order %d is outside [1, %d]", order,
                         MAX_ORDER);
    switch (kind) {
    case BTFM_FILTER_LOWPASS:
    case BTFM_FILTER_HIGHPASS: return (order + 1) / 2;
    case BTFM_FILTER_BANDPASS:
    case BTFM_FILTER_BANDSTOP: return order;
    default:
        return btfm_fail(BTFM_E_INVALID, "btfm_butter: unknown filter kind %d (1 lowpass, "
                         "2 highpass, 3 bandpass, 4 bandstop)", kind);
    }
}

static btfm_status check_cutoff(const char *name, double f, double sfreq)
{
    if (!(f > 0 && f < sfreq / 2))
        return btfm_fail(BTFM_E_RANGE, "btfm_butter: %s = %g Hz is outside (0, %g), the open "
                         "interval from 0 to the Nyquist frequency of sfreq = %g Hz", name, f,
                         sfreq / 2, sfreq);
    return BTFM_OK;
}

btfm_status btfm_butter(int order, int kind, double f1_hz, double f2_hz, double sfreq,
                        double *sos, size_t capacity)
{
    BTFM_CHECK_ARG(sos, "btfm_butter", "sos");
    int n_sections = btfm_butter_n_sections(order, kind);
    if (n_sections < 0) return n_sections;
    if (!(sfreq > 0) || !isfinite(sfreq))
        return btfm_fail(BTFM_E_RANGE, "btfm_butter: sfreq = %g Hz must be positive and finite",
                         sfreq);
    int band = kind == BTFM_FILTER_BANDPASS || kind == BTFM_FILTER_BANDSTOP;
    btfm_status st = check_cutoff(band ? "f1_hz (low edge)" : "f1_hz (cutoff)", f1_hz, sfreq);
    if (st == BTFM_OK && band) st = check_cutoff("f2_hz (high edge)", f2_hz, sfreq);
    if (st != BTFM_OK) return st;
    if (band && !(f1_hz < f2_hz))
        return btfm_fail(BTFM_E_RANGE, "btfm_butter: band edges f1_hz = %g Hz and f2_hz = %g Hz "
                         "must satisfy f1_hz < f2_hz", f1_hz, f2_hz);
    if (capacity < (size_t)n_sections * 6)
        return btfm_fail(BTFM_E_RANGE, "btfm_butter: sos holds %zu doubles, the order-%d %s "
                         "filter needs %d (%d sections x 6)", capacity, order,
                         btfm_filter_kind_name(kind), n_sections * 6, n_sections);

    /* Analog prototype (buttap), frequencies pre-warped for the bilinear transform at fs 2. */
    roots z = {.n = 0}, p = {.n = 0};
    double k = 1;
    for (int m = -order + 1; m < order; m += 2) roots_push(&p, -cexp(I * ((M_PI * m) / (2.0 * order))));
    double w1 = 4 * tan(M_PI * (2 * f1_hz / sfreq) / 2);
    double w2 = band ? 4 * tan(M_PI * (2 * f2_hz / sfreq) / 2) : 0;
    int degree = order;
    if (kind == BTFM_FILTER_LOWPASS) {
        for (int i = 0; i < p.n; i++) p.v[i] *= w1;
        k = pow(w1, degree);
    } else if (kind == BTFM_FILTER_HIGHPASS) {
        k = creal(1 / prod_neg(&p, 0));
        for (int i = 0; i < p.n; i++) p.v[i] = w1 / p.v[i];
        for (int i = 0; i < degree; i++) roots_push(&z, 0);
    } else {
        double bw = w2 - w1, wo = sqrt(w1 * w2);
        roots q = {.n = 0};
        if (kind == BTFM_FILTER_BANDPASS) {
            k = pow(bw, degree);
            for (int i = 0; i < p.n; i++) roots_push(&q, p.v[i] * bw / 2);
        } else {
            k = creal(1 / prod_neg(&p, 0));
            for (int i = 0; i < p.n; i++) roots_push(&q, (bw / 2) / p.v[i]);
        }
        p.n = 0;
        for (int i = 0; i < q.n; i++) roots_push(&p, q.v[i] + csqrt(q.v[i] * q.v[i] - wo * wo));
        for (int i = 0; i < q.n; i++) roots_push(&p, q.v[i] - csqrt(q.v[i] * q.v[i] - wo * wo));
        if (kind == BTFM_FILTER_BANDPASS) {
            for (int i = 0; i < degree; i++) roots_push(&z, 0);
        } else {
            for (int i = 0; i < degree; i++) roots_push(&z, I * wo);
            for (int i = 0; i < degree; i++) roots_push(&z, -I * wo);
        }
    }
    /* Bilinear transform (fs = 2, so 2 fs = 4). */
    k *= creal(prod_neg(&z, 4) / prod_neg(&p, 4));
    int extra = p.n - z.n;
    for (int i = 0; i < z.n; i++) z.v[i] = (4 + z.v[i]) / (4 - z.v[i]);
    for (int i = 0; i < p.n; i++) p.v[i] = (4 + p.v[i]) / (4 - p.v[i]);
    for (int i = 0; i < extra; i++) roots_push(&z, -1);
    return zpk2sos(&z, &p, k, sos, n_sections);
}

btfm_status btfm_iirnotch(double freq_hz, double quality, double sfreq, double *sos)
{
    BTFM_CHECK_ARG(sos, "btfm_iirnotch", "sos");
    if (!(sfreq > 0) || !isfinite(sfreq))
        return btfm_fail(BTFM_E_RANGE, "btfm_iirnotch: sfreq = %g Hz must be positive and "
                         "finite", sfreq);
    if (!(freq_hz > 0 && freq_hz < sfreq / 2))
        return btfm_fail(BTFM_E_RANGE, "btfm_iirnotch: freq_hz = %g Hz is outside (0, %g), the "
                         "open interval from 0 to the Nyquist frequency", freq_hz, sfreq / 2);
    if (!(quality > 0) || !isfinite(quality))
        return btfm_fail(BTFM_E_RANGE, "btfm_iirnotch: quality = %g must be positive and finite",
                         quality);
    double w0 = 2 * freq_hz / sfreq, bw = w0 / quality;
    bw *= M_PI;
    w0 *= M_PI;
    double gb = 1 / sqrt(2.0);
    double beta = (sqrt(1.0 - gb * gb) / gb) * tan(bw / 2.0);
    double gain = 1.0 / (1.0 + beta);
    sos[0] = gain * 1.0;
    sos[1] = gain * (-2.0 * cos(w0));
    sos[2] = gain * 1.0;
    sos[3] = 1.0;
    sos[4] = -2.0 * gain * cos(w0);
    sos[5] = 2.0 * gain - 1.0;
    return BTFM_OK;
}

const char *btfm_filter_kind_name(int kind)
{
    static const char *const names[] = {NULL, "lowpass", "highpass", "bandpass", "bandstop"};
    return kind >= 1 && kind <= 4 ? names[kind] : NULL;
}

const char *btfm_pad_name(int pad)
{
    static const char *const names[] = {"none", "odd", "even", "constant"};
    return pad >= 0 && pad <= 3 ? names[pad] : NULL;
}
