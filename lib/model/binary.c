/* The binary logistic loss that two-class logistic regression and Bradley-Terry share
 * (Bradley-Terry is logistic regression on the items' feature differences, without an
 * intercept), minimized by L-BFGS preconditioned with the design's Gram matrix; the
 * exact Hessian only for the Laplace covariance and as Newton's fallback. Why: at a few
 * hundred features a Hessian costs as much as ~100 gradients, and c Z^T W Z + alpha P
 * (c the mean logistic variance) already captures the scale and correlation of the
 * features, so a handful of quasi-Newton steps per penalty reach Newton's precision.
 * The design is never formed: its rows are the callers' float features, centered and
 * scaled (or differenced) on the fly with the transform folded into the weights, so a
 * gradient reads half the bytes of a double design, and a pair design reads its items. */
#include <math.h>
#include <string.h>
#include <cblas.h>
#include "glm_internal.h"
#include "dense/dense.h"

/* Rows per rank update of the Gram and Hessian matrices; quasi-Newton pairs kept. */
enum { BLOCK = 512, MEMORY = 10 };

btfm_status btfm_model_binary_init(binary_logit *b, int64_t n_max, int64_t n_items, int64_t p,
                                   int intercept, const char *func)
{
    memset(b, 0, sizeof *b);
    const int64_t q = p + (intercept ? 1 : 0);
    b->p = p;
    b->q = q;
    b->n_items = n_items;
    b->intercept = intercept;
    b->func = func;
    b->gram = btfm_dense_zeros(q, q, func);
    b->factor = btfm_dense_zeros(q, q, func);
    b->scratch = btfm_dense_zeros(BLOCK, q, func);
    b->work = btfm_dense_zeros(2 * MEMORY + 6, q, func);
    b->rho = btfm_model_doubles(2 * MEMORY, func);
    b->eta = btfm_model_doubles((size_t)(n_max > 0 ? n_max : 1), func);
    b->item = btfm_model_doubles((size_t)(n_items > 0 ? n_items : 1), func);
    b->active = btfm_malloc((size_t)(n_items > 0 ? n_items : 1) * sizeof *b->active);
    if (!b->gram || !b->factor || !b->scratch || !b->work || !b->rho || !b->eta || !b->item ||
        !b->active) {
        btfm_model_binary_clear(b);
        return BTFM_E_NOMEM;
    }
    return BTFM_OK;
}

void btfm_model_binary_clear(binary_logit *b)
{
    btfm_free(b->gram);
    btfm_free(b->factor);
    btfm_free(b->scratch);
    btfm_free(b->work);
    btfm_free(b->rho);
    btfm_free(b->eta);
    btfm_free(b->item);
    btfm_free(b->active);
    b->gram = b->factor = b->scratch = b->work = b->rho = b->eta = b->item = NULL;
    b->active = NULL;
}

static double weight(const binary_logit *b, int64_t r) { return b->w ? b->w[r] : 1.0; }

/* Design row r (standardized, with its 1 for the intercept) times s into out (q). */
static void design_row(const binary_logit *b, int64_t r, double s, double *out)
{
    const int64_t p = b->p;
    const float *xa = b->x + b->first[r] * p;
    if (b->second) {
        const float *xb = b->x + b->second[r] * p;
        for (int64_t j = 0; j < p; j++) out[j] = s * (((double)xa[j] - xb[j]) / b->scale[j]);
    } else {
        for (int64_t j = 0; j < p; j++)
            out[j] = s * (((double)xa[j] - (b->center ? b->center[j] : 0.0)) / b->scale[j]);
    }
    if (b->intercept) out[p] = s;
}

/* sum_r d_r z_r z_r^T over the design rows z_r (upper part) into out, a block of rows at
 * a time scaled by sqrt(d_r) (every d_r >= 0). */
static void weighted_gram(binary_logit *b, const double *d, double *out)
{
    const int64_t n = b->n, q = b->q;
    if (n == 0) memset(out, 0, (size_t)(q * q) * sizeof *out);
    for (int64_t r0 = 0; r0 < n; r0 += BLOCK) {
        const int64_t m = n - r0 < BLOCK ? n - r0 : BLOCK;
        for (int64_t r = 0; r < m; r++)
            design_row(b, r0 + r, sqrt(fmax(d[r0 + r], 0.0)), b->scratch + r * q);
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)q, (int)m, 1.0, b->scratch,
                    (int)q, r0 ? 1.0 : 0.0, out, (int)q);
    }
}

/* The preconditioner's Gram matrix sum_r w_r z_r z_r^T (upper part) into b->gram, in
 * single precision: it only steers the steps (the gradient and the stopping rule stay
 * double), and ssyrk takes half the time of dsyrk on the largest product of a fit. */
static void preconditioner_gram(binary_logit *b, const double *w)
{
    const int64_t n = b->n, q = b->q;
    float *rows = (float *)b->scratch, *acc = (float *)b->factor; /* BLOCK x q, q x q */
    double *one = b->work;                                        /* q */
    if (n == 0) memset(acc, 0, (size_t)(q * q) * sizeof *acc);
    for (int64_t r0 = 0; r0 < n; r0 += BLOCK) {
        const int64_t m = n - r0 < BLOCK ? n - r0 : BLOCK;
        for (int64_t r = 0; r < m; r++) {
            design_row(b, r0 + r, sqrt(fmax(w[r0 + r], 0.0)), one);
            for (int64_t j = 0; j < q; j++) rows[r * q + j] = (float)one[j];
        }
        cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)q, (int)m, 1.0f, rows, (int)q,
                    r0 ? 1.0f : 0.0f, acc, (int)q);
    }
    for (int64_t k = 0; k < q * q; k++) b->gram[k] = acc[k];
}

btfm_status btfm_model_binary_design(binary_logit *b, int64_t n)
{
    b->n = n;
    b->stored = b->head = 0; /* curvature pairs of another design say nothing */
    if (b->second) {
        /* Only the items these rows compare are scored: a training fold of pairs often
         * leaves half the items out. */
        memset(b->item, 0, (size_t)b->n_items * sizeof *b->item);
        for (int64_t r = 0; r < n; r++) b->item[b->first[r]] = b->item[b->second[r]] = 1;
        b->n_active = 0;
        for (int64_t i = 0; i < b->n_items; i++)
            if (b->item[i] != 0) b->active[b->n_active++] = i;
    }
    if (b->shared_gram) {
        double sw = 0;
        for (int64_t r = 0; r < n; r++) sw += weight(b, r);
        const double f = b->shared_weight > 0 ? sw / b->shared_weight : 1.0;
        for (int64_t k = 0; k < b->q * b->q; k++) b->gram[k] = f * b->shared_gram[k];
        return BTFM_OK;
    }
    /* The weights go through eta as scratch: it is rewritten by every evaluation. */
    for (int64_t r = 0; r < n; r++) b->eta[r] = weight(b, r);
    preconditioner_gram(b, b->eta);
    return BTFM_OK;
}

/* x . u for float x, double u: eight partial sums in a fixed order, so every vectorized
 * clone returns the same value. */
BTFM_HOT BTFM_SIMD_CLONES double btfm_model_dot_fd(const float *x, const double *u, int64_t p)
{
    double acc[8] = {0}, rest = 0;
    int64_t j = 0;
    for (; j + 8 <= p; j += 8)
        for (int k = 0; k < 8; k++) acc[k] += (double)x[j + k] * u[j + k];
    for (; j < p; j++) rest += (double)x[j] * u[j];
    return ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7])) +
           rest;
}

/* y += a x for float x. */
BTFM_HOT BTFM_SIMD_CLONES static void axpy(double a, const float *x, double *y, int64_t p)
{
    for (int64_t j = 0; j < p; j++) y[j] += a * (double)x[j];
}

/* Row r's loss at predictor v, log(1 + e^v) - t v weighted: into *f, except the term
 * log(1 + e^-|v|) of unweighted rows, whose factor 1 + e^-|v| (in (1, 2]) is multiplied
 * into *prod instead (one logarithm per LOG_BATCH rows, see loss). Returns the residual
 * w (sigmoid(v) - t). */
static double residual(const binary_logit *b, int64_t r, double v, double *f, double *prod)
{
    const double t = b->t[r], ex = exp(-fabs(v));
    if (!b->w) {
        *f += (v > 0 ? v : 0.0) - t * v;
        *prod *= 1.0 + ex;
        return (v >= 0 ? 1.0 : ex) / (1.0 + ex) - t;
    }
    const double wr = b->w[r];
    *f += wr * ((v > 0 ? v : 0.0) + log1p(ex) - t * v);
    return wr * ((v >= 0 ? 1.0 : ex) / (1.0 + ex) - t);
}

/* Rows whose factors share one logarithm: their product stays below 2^64. */
enum { LOG_BATCH = 64 };

/* The penalized loss at theta; with grad non-NULL also its gradient. eta receives the
 * linear predictor. With u = theta / scale, a row's predictor is x . u + theta_0 -
 * center . u and the gradient (sum_r res_r x_r - center sum_r res_r) / scale. Rows of
 * items: one pass, each row's residual and share of the gradient while it is in cache.
 * Pairs: the items' scores, then the residuals summed per item, then one product over
 * the items. No BLAS: OpenBLAS would wake its threads for every small product. */
static double loss(binary_logit *b, const double *theta, double *grad)
{
    const int64_t n = b->n, p = b->p;
    double *u = b->work + (2 * MEMORY + 4) * b->q, *gx = u + b->q;
    double f = 0, c0 = b->intercept ? theta[p] : 0.0, sres = 0, prod = 1.0;
    for (int64_t j = 0; j < p; j++) {
        f += 0.5 * b->alpha * theta[j] * theta[j];
        u[j] = theta[j] / b->scale[j];
        if (b->center && !b->second) c0 -= b->center[j] * u[j];
    }
    if (grad) memset(gx, 0, (size_t)p * sizeof *gx);
    if (b->second) {
        const int64_t *active = b->active, n_active = b->n_active;
        for (int64_t k = 0; k < n_active; k++)
            b->item[active[k]] = btfm_model_dot_fd(b->x + active[k] * p, u, p);
        double *score = b->item;
        /* eta first (the item scores are overwritten by the residual sums next) */
        for (int64_t r = 0; r < n; r++) b->eta[r] = score[b->first[r]] - score[b->second[r]] + c0;
        for (int64_t k = 0; k < n_active; k++) b->item[active[k]] = 0;
        for (int64_t r = 0; r < n; r++) {
            const double res = residual(b, r, b->eta[r], &f, &prod);
            if (r % LOG_BATCH == LOG_BATCH - 1) {
                f += log(prod);
                prod = 1.0;
            }
            b->item[b->first[r]] += res;
            b->item[b->second[r]] -= res;
        }
        if (grad)
            for (int64_t k = 0; k < n_active; k++)
                if (b->item[active[k]] != 0)
                    axpy(b->item[active[k]], b->x + active[k] * p, gx, p);
    } else {
        for (int64_t r = 0; r < n; r++) {
            const float *xr = b->x + b->first[r] * p;
            const double v = b->eta[r] = btfm_model_dot_fd(xr, u, p) + c0;
            const double res = residual(b, r, v, &f, &prod);
            if (r % LOG_BATCH == LOG_BATCH - 1) {
                f += log(prod);
                prod = 1.0;
            }
            sres += res;
            if (grad) axpy(res, xr, gx, p);
        }
    }
    f += log(prod);
    if (!grad) return f;
    for (int64_t j = 0; j < p; j++)
        grad[j] = (gx[j] - (b->center && !b->second ? b->center[j] * sres : 0.0)) / b->scale[j] +
                  b->alpha * theta[j];
    if (b->intercept) grad[p] = sres;
    return f;
}

/* The Hessian at the predictor in eta (upper part): Z^T diag(w s (1 - s)) Z + alpha P. */
static void hessian_at_eta(binary_logit *b, double *h)
{
    for (int64_t r = 0; r < b->n; r++) {
        const double s = 1.0 / (1.0 + exp(-b->eta[r]));
        b->eta[r] = weight(b, r) * s * (1.0 - s);
    }
    weighted_gram(b, b->eta, h);
    for (int64_t j = 0; j < b->p; j++) h[j * b->q + j] += b->alpha;
}

/* Newton's form of the objective (the fallback). */
static btfm_status eval(void *ctx, const double *theta, double *value, double *grad,
                        double *hess)
{
    binary_logit *b = ctx;
    *value = loss(b, theta, grad);
    if (grad) hessian_at_eta(b, hess);
    return BTFM_OK;
}

/* The preconditioner's Cholesky factor: c G + alpha P, c the weighted mean of s (1 - s) at
 * the predictor in eta; a growing ridge when that is not numerically positive definite. */
static btfm_status precondition(binary_logit *b)
{
    const int64_t n = b->n, q = b->q;
    double sw = 0, sv = 0;
    for (int64_t r = 0; r < n; r++) {
        const double s = 1.0 / (1.0 + exp(-b->eta[r])), wr = weight(b, r);
        sw += wr;
        sv += wr * s * (1.0 - s);
    }
    const double c = sw > 0 && sv > 0 ? sv / sw : 0.25;
    double diag = 0;
    for (int64_t j = 0; j < q; j++) diag += c * b->gram[j * q + j];
    diag = diag > 0 ? diag / (double)q : 1.0;
    for (double shift = 0; shift < 1e3 * diag; shift = shift ? shift * 100 : 1e-10 * diag) {
        for (int64_t i = 0; i < q; i++)
            for (int64_t j = i; j < q; j++) b->factor[i * q + j] = c * b->gram[i * q + j];
        for (int64_t j = 0; j < q; j++)
            b->factor[j * q + j] += (j < b->p ? b->alpha : 0.0) + shift;
        if (btfm_dense_chol(b->factor, q) == 0) return BTFM_OK;
    }
    return btfm_fail(BTFM_E_NUMERIC, "%s: the preconditioner is singular", b->func);
}

/* v := (R^T R)^-1 v with the preconditioner's upper factor R. */
static void apply_inverse(const binary_logit *b, double *v)
{
    cblas_dtrsv(CblasRowMajor, CblasUpper, CblasTrans, CblasNonUnit, (int)b->q, b->factor,
                (int)b->q, v, 1);
    cblas_dtrsv(CblasRowMajor, CblasUpper, CblasNoTrans, CblasNonUnit, (int)b->q, b->factor,
                (int)b->q, v, 1);
}

static double max_abs(const double *v, int64_t n)
{
    double m = 0;
    for (int64_t i = 0; i < n; i++) m = fmax(m, fabs(v[i]));
    return m;
}

/* d = -H g by the two-loop recursion over the stored pairs (oldest first from `head`),
 * with the preconditioner's inverse as the initial matrix. */
static void direction(binary_logit *b, const double *g, double *d, const double *s_mem,
                      const double *y_mem, int stored, int head)
{
    const int q = (int)b->q;
    double *rho = b->rho, *a = b->rho + MEMORY;
    for (int i = 0; i < q; i++) d[i] = -g[i];
    for (int k = stored - 1; k >= 0; k--) {
        const int slot = (head + k) % MEMORY;
        a[slot] = rho[slot] * cblas_ddot(q, s_mem + slot * q, 1, d, 1);
        cblas_daxpy(q, -a[slot], y_mem + slot * q, 1, d, 1);
    }
    apply_inverse(b, d);
    for (int k = 0; k < stored; k++) {
        const int slot = (head + k) % MEMORY;
        const double beta = rho[slot] * cblas_ddot(q, y_mem + slot * q, 1, d, 1);
        cblas_daxpy(q, a[slot] - beta, s_mem + slot * q, 1, d, 1);
    }
}

btfm_status btfm_model_binary_fit(binary_logit *b, double alpha, double *theta, int max_iter,
                                  double tol, double *hessian)
{
    const int64_t q = b->q;
    double *g = b->work, *gt = g + q, *d = gt + q, *trial = d + q;
    double *s_mem = trial + q, *y_mem = s_mem + MEMORY * q;
    /* The pairs of the previous penalty stay valid once y gains the change of the
     * penalty's gradient, (alpha - previous) s on the penalized coordinates. */
    for (int k = 0; k < b->stored; k++) {
        const int slot = (b->head + k) % MEMORY;
        double *s = s_mem + slot * q, *y = y_mem + slot * q;
        for (int64_t j = 0; j < b->p; j++) y[j] += (alpha - b->alpha) * s[j];
        b->rho[slot] = 1.0 / cblas_ddot((int)q, s, 1, y, 1);
    }
    b->alpha = alpha;
    double f = loss(b, theta, g);
    btfm_status st = b->newton ? BTFM_OK : precondition(b);
    int stored = b->stored, head = b->head, converged = 0;
    for (int it = 0; it < (b->newton ? 0 : max_iter) && !st && !converged; it++) {
        direction(b, g, d, s_mem, y_mem, stored, head);
        double slope = cblas_ddot((int)q, g, 1, d, 1);
        if (!(slope < 0)) { /* not a descent direction: forget the pairs */
            stored = 0;
            direction(b, g, d, s_mem, y_mem, 0, 0);
            slope = cblas_ddot((int)q, g, 1, d, 1);
            if (!(slope < 0)) {
                converged = 1; /* the gradient is zero to rounding */
                break;
            }
        }
        /* The quasi-Newton step estimates the distance to the minimum. */
        if (max_abs(d, q) <= tol * (1.0 + max_abs(theta, q))) {
            converged = 1;
            break;
        }
        /* A decrease below the objective's rounding cannot be checked: the full step. */
        const int unchecked = -slope <= 1e-13 * (1.0 + fabs(f));
        double step = 1.0, ft = f;
        int accepted = 0;
        for (int cut = 0; cut < 40 && !accepted; cut++) {
            for (int64_t j = 0; j < q; j++) trial[j] = theta[j] + step * d[j];
            ft = loss(b, trial, gt);
            if (isfinite(ft) && (unchecked || ft <= f + 1e-4 * step * slope)) {
                accepted = 1;
                break;
            }
            /* The minimizer of the quadratic through f, the slope and ft, kept within
             * [0.1, 0.5] of the step. */
            const double denom = 2.0 * (ft - f - step * slope);
            double next = isfinite(ft) && denom > 0 ? -slope * step * step / denom : 0.5 * step;
            step = fmin(fmax(next, 0.1 * step), 0.5 * step);
        }
        if (!accepted) {
            converged = 1; /* no decrease left at this precision */
            break;
        }
        /* The new pair s = step d, y = gt - g, kept when the curvature is positive. */
        const int slot = (head + stored) % MEMORY;
        double *s = s_mem + slot * q, *y = y_mem + slot * q;
        for (int64_t j = 0; j < q; j++) {
            s[j] = step * d[j];
            y[j] = gt[j] - g[j];
        }
        const double sy = cblas_ddot((int)q, s, 1, y, 1);
        if (sy > 1e-12 * cblas_ddot((int)q, y, 1, y, 1)) {
            b->rho[slot] = 1.0 / sy;
            if (stored < MEMORY) stored++;
            else head = (head + 1) % MEMORY;
        }
        memcpy(theta, trial, (size_t)q * sizeof *theta);
        memcpy(g, gt, (size_t)q * sizeof *g);
        f = ft;
    }
    b->stored = stored;
    b->head = head;
    if (!st && !converged) {
        /* The quasi-Newton steps ran out (a nearly separable problem, where the Gram
         * matrix says little about the curvature), or none were asked for: Newton's
         * method finishes. */
        newton_problem pr = {.n_par = q, .eval = eval, .ctx = b, .func = b->func};
        return btfm_model_newton(&pr, theta, max_iter, tol, hessian);
    }
    if (!st && hessian) {
        loss(b, theta, NULL);
        hessian_at_eta(b, hessian);
    }
    return st;
}
