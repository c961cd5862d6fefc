/* The Bradley-Terry model of pairwise preferences (Bradley & Terry 1952): P(i > j) =
 * sigmoid(s_i - s_j) with item scores s = X w (a linear reward) or free per item, an L2
 * penalty alpha/2 ||w||^2, label smoothing, and ties as half wins, by Rao & Kupper (1967)
 * or by Davidson (1970) with the tie parameter fitted jointly. Scores of features without
 * a tie parameter are logistic regression on the feature differences (binary.c); free
 * scores and tie parameters by Newton's method on the convex negative log-likelihood
 * (Hunter 2004). The penalty chosen by cross-validation over pairs. */
#include <math.h>
#include <string.h>
#include <cblas.h>
#include "glm_internal.h"
#include "dense/dense.h"

typedef struct bt {
    const float *x;        /* n_items x p, or NULL for free item scores */
    const int64_t *pairs;  /* n_pairs x 2 */
    const float *outcomes; /* n_pairs, or NULL: first always preferred */
    const double *w;
    int64_t n_items, p, n_pairs, np; /* np = p + 1: the tie parameter last */
    int ties, tie_par, max_iter;
    double eps, alpha, tol;
    int standardize;
    int newton;     /* Newton's method alone (solver BTFM_MODEL_NEWTON) */
    const char *func;
    /* the training pairs */
    const int64_t *rows;
    int64_t n_rows;
    double *scale;  /* p */
    double *diff;   /* n_pairs x p: standardized difference rows (features only) */
    double *buf;    /* n_pairs x p */
    double *coef;   /* per training pair: dL/dDelta, d2L/dDelta2, d2L/dDelta dTie */
    int binary;     /* features and no tie parameter: the binary logistic solver */
    double *t, *wr; /* then each training pair's target and weight */
    int64_t *first, *second; /* and its items */
    double *hbuf;   /* p x p: its Hessian */
    binary_logit bin;
} bt;

/* The outcome distribution a pair's label asks for: first preferred, second, tie. */
static void targets(const bt *B, int64_t i, double *tw, double *tl, double *tt)
{
    const double y = B->outcomes ? B->outcomes[i] : 1.0;
    const double e = B->eps;
    if (B->ties != BTFM_TIES_NONE && y == 0.5) {
        *tw = *tl = 0.0;
        *tt = 1.0;
        return;
    }
    *tw = y * (1 - e) + (1 - y) * e;
    *tl = 1.0 - *tw;
    *tt = 0.0;
}

static double softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }
static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

/* One pair's negative log-likelihood at score difference d and tie parameter z
 * (Davidson: log nu; Rao-Kupper: log theta > 0), with its derivatives. */
typedef struct pair_terms {
    double loss, gd, gz, hdd, hdz, hzz;
} pair_terms;

static pair_terms terms(int ties, int tie_par, double d, double z, double tw, double tl,
                        double tt)
{
    pair_terms r = {0};
    if (!tie_par || ties == BTFM_TIES_NONE) {
        /* sigmoid model; a tie as half a win (tw = tl = 1/2 from the label 0.5) */
        const double t = tw + tt / 2, s = sigmoid(d);
        r.loss = softplus(d) - t * d;
        r.gd = s - t;
        r.hdd = s * (1 - s);
        return r;
    }
    if (ties == BTFM_TIES_DAVIDSON) {
        /* L = -(tw - tl) u - tt z + log(e^u + e^-u + e^z), u = d / 2 */
        const double u = d / 2, m = fmax(fmax(u, -u), z);
        const double e1 = exp(u - m), e2 = exp(-u - m), e3 = exp(z - m), sum = e1 + e2 + e3;
        const double a = (e1 - e2) / sum, q = e3 / sum;
        r.loss = -(tw - tl) * u - tt * z + m + log(sum);
        r.gd = 0.5 * (a - (tw - tl));
        r.gz = q - tt;
        r.hdd = 0.25 * ((1 - q) - a * a);
        r.hdz = -0.5 * a * q;
        r.hzz = q * (1 - q);
        return r;
    }
    /* Rao-Kupper: L = (tw + tt) sp(z - d) + (tl + tt) sp(z + d) - tt log(e^2z - 1) */
    const double s1 = sigmoid(z - d), s2 = sigmoid(z + d), c1 = tw + tt, c2 = tl + tt;
    const double v1 = s1 * (1 - s1), v2 = s2 * (1 - s2), ez = exp(-2 * z);
    r.loss = c1 * softplus(z - d) + c2 * softplus(z + d) - tt * (2 * z + log1p(-ez));
    r.gd = -c1 * s1 + c2 * s2;
    r.gz = c1 * s1 + c2 * s2 - tt * 2 / (1 - ez);
    r.hdd = c1 * v1 + c2 * v2;
    r.hdz = -c1 * v1 + c2 * v2;
    r.hzz = c1 * v1 + c2 * v2 + tt * 4 * ez / ((1 - ez) * (1 - ez));
    return r;
}

/* The score difference of training pair r. */
static double difference(const bt *B, const double *theta, int64_t r)
{
    const int64_t i = B->rows[r];
    if (!B->x) return theta[B->pairs[2 * i]] - theta[B->pairs[2 * i + 1]];
    return cblas_ddot((int)B->p, B->diff + r * B->p, 1, theta, 1);
}

static btfm_status eval(void *ctx, const double *theta, double *value, double *grad,
                        double *hess)
{
    bt *B = ctx;
    const int64_t p = B->p, np = B->np, n = B->n_rows;
    const double z = theta[p];
    double f = 0;
    for (int64_t k = 0; k < p; k++) f += 0.5 * B->alpha * theta[k] * theta[k];
    if (grad) {
        memset(grad, 0, (size_t)np * sizeof *grad);
        memset(hess, 0, (size_t)(np * np) * sizeof *hess);
    }
    for (int64_t r = 0; r < n; r++) {
        const int64_t i = B->rows[r];
        const double wi = B->w ? B->w[i] : 1.0;
        double tw, tl, tt;
        targets(B, i, &tw, &tl, &tt);
        const pair_terms t = terms(B->ties, B->tie_par, difference(B, theta, r), z, tw, tl, tt);
        f += wi * t.loss;
        if (!grad) continue;
        grad[p] += wi * t.gz;
        hess[p * np + p] += wi * t.hzz;
        if (!B->x) {
            const int64_t a = B->pairs[2 * i], b = B->pairs[2 * i + 1];
            grad[a] += wi * t.gd;
            grad[b] -= wi * t.gd;
            hess[a * np + a] += wi * t.hdd;
            hess[b * np + b] += wi * t.hdd;
            hess[(a < b ? a : b) * np + (a < b ? b : a)] -= wi * t.hdd;
            hess[a * np + p] += wi * t.hdz;
            hess[b * np + p] -= wi * t.hdz;
            continue;
        }
        B->coef[3 * r] = wi * t.gd;
        B->coef[3 * r + 1] = wi * t.hdd;
        B->coef[3 * r + 2] = wi * t.hdz;
    }
    *value = f;
    if (!grad) return BTFM_OK;
    if (B->x) {
        /* Over the difference rows D: grad = D^T gd, hess = D^T diag(hdd) D (one rank-k
         * update of the scaled rows), the cross terms D^T hdz. */
        for (int64_t r = 0; r < n; r++) {
            const double s = sqrt(B->coef[3 * r + 1]);
            const double *dr = B->diff + r * p;
            double *o = B->buf + r * p;
            for (int64_t k = 0; k < p; k++) o[k] = s * dr[k];
            cblas_daxpy((int)p, B->coef[3 * r], dr, 1, grad, 1);
            cblas_daxpy((int)p, B->coef[3 * r + 2], dr, 1, hess + p, (int)np);
        }
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)p, (int)n, 1.0, B->buf, (int)p,
                    1.0, hess, (int)np);
    }
    for (int64_t k = 0; k < p; k++) {
        grad[k] += B->alpha * theta[k];
        hess[k * np + k] += B->alpha;
    }
    if (!B->tie_par) { /* the tie parameter stays where it is */
        grad[p] = 0;
        for (int64_t k = 0; k < p; k++) hess[k * np + p] = 0;
        hess[p * np + p] = 1;
    }
    return BTFM_OK;
}

static int feasible(void *ctx, const double *theta)
{
    const bt *B = ctx;
    return !(B->tie_par && B->ties == BTFM_TIES_RAO_KUPPER) || theta[B->p] > 1e-12;
}

static btfm_status prepare(void *ctx, const int64_t *rows, int64_t n_rows)
{
    bt *B = ctx;
    const int64_t p = B->p;
    B->rows = rows;
    B->n_rows = n_rows;
    int64_t ties = 0;
    for (int64_t r = 0; r < n_rows; r++)
        if (B->outcomes && B->outcomes[rows[r]] == 0.5) ties++;
    B->tie_par = B->ties != BTFM_TIES_NONE && ties > 0;
    if (!B->x) return BTFM_OK;
    /* Feature spreads over the items the training pairs compare (each once). */
    for (int64_t k = 0; k < p; k++) B->scale[k] = 1.0;
    if (B->standardize) {
        char *seen = btfm_calloc((size_t)B->n_items, 1);
        double *sum = btfm_model_doubles((size_t)(2 * p), B->func);
        if (!seen || !sum) {
            btfm_free(seen);
            btfm_free(sum);
            return btfm_fail_nomem(B->func, (size_t)B->n_items);
        }
        int64_t count = 0;
        for (int64_t r = 0; r < n_rows; r++)
            for (int e = 0; e < 2; e++) {
                const int64_t item = B->pairs[2 * rows[r] + e];
                if (seen[item]) continue;
                seen[item] = 1;
                count++;
                for (int64_t k = 0; k < p; k++) {
                    const double v = B->x[item * p + k];
                    sum[k] += v;
                    sum[p + k] += v * v;
                }
            }
        for (int64_t k = 0; k < p; k++) {
            const double mean = sum[k] / count, var = sum[p + k] / count - mean * mean;
            B->scale[k] = var > 0 ? sqrt(var) : 1.0;
        }
        btfm_free(seen);
        btfm_free(sum);
    }
    if ((B->binary = !B->tie_par)) {
        for (int64_t r = 0; r < n_rows; r++) {
            double tw, tl, tt;
            targets(B, rows[r], &tw, &tl, &tt);
            B->t[r] = tw + tt / 2; /* a tie is half a win without a tie parameter */
            B->wr[r] = B->w ? B->w[rows[r]] : 1.0;
            B->first[r] = B->pairs[2 * rows[r]];
            B->second[r] = B->pairs[2 * rows[r] + 1];
        }
        return btfm_model_binary_design(&B->bin, n_rows);
    }
    for (int64_t r = 0; r < n_rows; r++) {
        const int64_t i = rows[r];
        const float *a = B->x + B->pairs[2 * i] * p, *b = B->x + B->pairs[2 * i + 1] * p;
        for (int64_t k = 0; k < p; k++) B->diff[r * p + k] = ((double)a[k] - b[k]) / B->scale[k];
    }
    return BTFM_OK;
}

/* The tie parameter's start: the one that gives the observed tie fraction to equal items. */
static void start(void *ctx, double *theta)
{
    bt *B = ctx;
    double ties = 0, total = 0;
    for (int64_t r = 0; r < B->n_rows; r++) {
        const int64_t i = B->rows[r];
        const double wi = B->w ? B->w[i] : 1.0;
        total += wi;
        if (B->outcomes && B->outcomes[i] == 0.5) ties += wi;
    }
    const double frac = fmin(fmax(total > 0 ? ties / total : 0, 1e-3), 0.99);
    theta[B->p] = B->ties == BTFM_TIES_DAVIDSON ? log(2 * frac / (1 - frac))
                                                : 2 * atanh(frac);
    if (B->ties == BTFM_TIES_NONE) theta[B->p] = 0;
}

static btfm_status fit_one(void *ctx, double alpha, double tol, double *theta, double *hessian)
{
    bt *B = ctx;
    if (B->binary) {
        const int64_t p = B->p, np = B->np;
        btfm_status st = btfm_model_binary_fit(&B->bin, alpha, theta, B->max_iter, tol,
                                               hessian ? B->hbuf : NULL);
        if (!st && hessian) { /* the tie parameter's row and column: fixed */
            memset(hessian, 0, (size_t)(np * np) * sizeof *hessian);
            for (int64_t k = 0; k < p; k++)
                memcpy(hessian + k * np + k, B->hbuf + k * p + k,
                       (size_t)(p - k) * sizeof *hessian);
            hessian[p * np + p] = 1;
        }
        return st;
    }
    B->alpha = alpha;
    if (B->tie_par && B->ties == BTFM_TIES_RAO_KUPPER && !(theta[B->p] > 1e-12)) start(B, theta);
    newton_problem pr = {.n_par = B->np, .eval = eval, .feasible = feasible, .ctx = B,
                         .func = B->func};
    return btfm_model_newton(&pr, theta, B->max_iter, tol, hessian);
}

/* P(first preferred), P(tie), P(second preferred) at score difference d. */
static void outcome_probs(int ties, double tie, double d, double *pw, double *pt, double *pl)
{
    if (ties == BTFM_TIES_DAVIDSON && tie > 0) {
        const double u = d / 2, m = fabs(u);
        const double e1 = exp(u - m), e2 = exp(-u - m), e3 = tie * exp(-m), sum = e1 + e2 + e3;
        *pw = e1 / sum;
        *pl = e2 / sum;
        *pt = e3 / sum;
    } else if (ties == BTFM_TIES_RAO_KUPPER && tie > 1) {
        const double z = log(tie);
        *pw = sigmoid(d - z);
        *pl = sigmoid(-d - z);
        *pt = fmax(1.0 - *pw - *pl, 0);
    } else {
        *pw = sigmoid(d);
        *pl = 1.0 - *pw;
        *pt = 0;
    }
}

static double score(void *ctx, const double *theta, const int64_t *rows, int64_t n_rows,
                    int kind)
{
    bt *B = ctx;
    const int64_t p = B->p;
    const double tie = B->tie_par ? exp(theta[p]) : 0.0; /* nu, or Rao-Kupper's theta */
    double sw = 0, total = 0;
    for (int64_t r = 0; r < n_rows; r++) {
        const int64_t i = rows[r];
        const double wi = B->w ? B->w[i] : 1.0, y = B->outcomes ? B->outcomes[i] : 1.0;
        double d;
        if (!B->x) {
            d = theta[B->pairs[2 * i]] - theta[B->pairs[2 * i + 1]];
        } else {
            const float *a = B->x + B->pairs[2 * i] * p, *b = B->x + B->pairs[2 * i + 1] * p;
            d = 0;
            for (int64_t k = 0; k < p; k++) d += theta[k] * ((double)a[k] - b[k]) / B->scale[k];
        }
        if (kind == BTFM_SCORE_ACCURACY) {
            if (y == 0.5) continue;
            sw += wi;
            total += wi * ((d > 0) == (y > 0.5));
            continue;
        }
        double pw, pt, pl;
        outcome_probs(B->tie_par ? B->ties : BTFM_TIES_NONE, tie, d, &pw, &pt, &pl);
        const double ll = B->ties != BTFM_TIES_NONE && y == 0.5
                              ? log(fmax(pt, 1e-300))
                              : y * log(fmax(pw, 1e-300)) + (1 - y) * log(fmax(pl, 1e-300));
        sw += wi;
        total += wi * ll;
    }
    return sw > 0 ? total / sw : 0.0;
}

/* Pairs must name items, and labels be preferences. */
static btfm_status check_pairs(const bt *B)
{
    for (int64_t i = 0; i < B->n_pairs; i++) {
        const int64_t a = B->pairs[2 * i], b = B->pairs[2 * i + 1];
        if (a < 0 || a >= B->n_items || b < 0 || b >= B->n_items || a == b)
            return btfm_fail(BTFM_E_INVALID, "%s: pairs[%lld] is (%lld, %lld); expected two "
                             "different items 0 .. %lld", B->func, (long long)i, (long long)a,
                             (long long)b, (long long)B->n_items - 1);
        if (!B->outcomes) continue;
        const float y = B->outcomes[i];
        if (!(y >= 0 && y <= 1) || (B->ties != BTFM_TIES_NONE && y != 0 && y != 1 && y != 0.5f))
            return btfm_fail(BTFM_E_INVALID, "%s: outcomes[%lld] is %g; expected %s", B->func,
                             (long long)i, y, B->ties == BTFM_TIES_NONE
                             ? "a probability in [0, 1]" : "1, 0 or 0.5 (a tie)");
    }
    return BTFM_OK;
}

/* A context's own buffers (its constant fields already set). */
static btfm_status buffers(bt *B)
{
    const int64_t n = B->n_pairs, p = B->p;
    B->scale = btfm_model_doubles((size_t)p, B->func);
    B->coef = btfm_model_doubles((size_t)(3 * n), B->func);
    B->diff = B->buf = B->t = B->wr = B->hbuf = NULL;
    B->first = B->second = NULL;
    memset(&B->bin, 0, sizeof B->bin);
    if (!B->scale || !B->coef) return BTFM_E_NOMEM;
    if (!B->x) return BTFM_OK;
    if (B->ties != BTFM_TIES_NONE) { /* a tie parameter: Newton on the differences */
        B->diff = btfm_dense_zeros(n, p, B->func);
        B->buf = btfm_dense_zeros(n, p, B->func);
        if (!B->diff || !B->buf) return BTFM_E_NOMEM;
    }
    B->t = btfm_model_doubles((size_t)n, B->func);
    B->wr = btfm_model_doubles((size_t)n, B->func);
    B->first = btfm_malloc((size_t)n * sizeof *B->first);
    B->second = btfm_malloc((size_t)n * sizeof *B->second);
    B->hbuf = btfm_dense_zeros(p, p, B->func);
    if (!B->t || !B->wr || !B->first || !B->second || !B->hbuf ||
        btfm_model_binary_init(&B->bin, n, B->n_items, p, 0, B->func))
        return BTFM_E_NOMEM;
    B->bin.x = B->x;
    B->bin.newton = B->newton;
    B->bin.first = B->first;
    B->bin.second = B->second;
    B->bin.scale = B->scale;
    B->bin.t = B->t;
    B->bin.w = B->w ? B->wr : NULL;
    return BTFM_OK;
}

static void release(bt *B)
{
    btfm_free(B->scale);
    btfm_free(B->coef);
    btfm_free(B->diff);
    btfm_free(B->buf);
    btfm_free(B->t);
    btfm_free(B->wr);
    btfm_free(B->hbuf);
    btfm_free(B->first);
    btfm_free(B->second);
    btfm_model_binary_clear(&B->bin);
}

btfm_status btfm_model_fit_bt(btfm_model *m, const float *x, int64_t n_items, int64_t p,
                              const int64_t *pairs, const float *outcomes, int64_t n_pairs,
                              model_fit *fit)
{
    const char *func = "btfm_model_fit_pairs";
    bt B = {.x = x, .pairs = pairs, .outcomes = outcomes, .w = m->weights, .n_items = n_items,
            .p = p, .n_pairs = n_pairs, .np = p + 1, .ties = (int)MODEL_PARAM(m, TIES),
            .max_iter = (int)MODEL_PARAM(m, MAX_ITER), .eps = MODEL_PARAM(m, LABEL_SMOOTHING),
            .tol = MODEL_PARAM(m, TOL), .standardize = MODEL_PARAM(m, STANDARDIZE) != 0,
            .newton = MODEL_PARAM(m, SOLVER) == BTFM_MODEL_NEWTON, .func = func};
    if (m->n_delays || MODEL_PARAM(m, HRF))
        return btfm_fail(BTFM_E_INVALID, "%s: delays and the HRF apply to ridge models only",
                         func);
    btfm_status st = x ? btfm_model_check_finite(x, n_items, p, "x", func) : BTFM_OK;
    if (!st) st = check_pairs(&B);
    if (!st && outcomes) st = btfm_model_check_finite(outcomes, n_pairs, 1, "outcomes", func);
    if (st) return st;
    int kind = (int)MODEL_PARAM(m, SCORING);
    if (kind == BTFM_SCORE_DEFAULT) kind = BTFM_SCORE_LOG_LIKELIHOOD;
    if (kind != BTFM_SCORE_ACCURACY && kind != BTFM_SCORE_LOG_LIKELIHOOD)
        return btfm_fail(BTFM_E_INVALID, "%s: scoring is %s; Bradley-Terry is scored by "
                         "accuracy or log_likelihood", func, btfm_model_score_name(kind));
    const int64_t np = B.np;
    /* A context per fold worker (the first is B), each with buffers of its own. */
    const int workers = btfm_model_glm_workers(m, n_pairs, np);
    bt *extra = btfm_calloc((size_t)workers, sizeof *extra);
    void **ctxs = btfm_calloc((size_t)workers, sizeof *ctxs);
    if (!extra || !ctxs) st = btfm_fail_nomem(func, (size_t)workers * sizeof *extra);
    if (!st) st = buffers(&B);
    for (int w = 1; w < workers && !st; w++) {
        extra[w] = B;
        st = buffers(&extra[w]);
    }
    for (int w = 0; w < workers && ctxs; w++) ctxs[w] = w ? (void *)&extra[w] : (void *)&B;
    int64_t *all = btfm_malloc((size_t)n_pairs * sizeof *all);
    double *theta = btfm_model_doubles((size_t)np, func);
    double *hessian = btfm_model_doubles((size_t)(np * np), func);
    double *inv = btfm_model_doubles((size_t)(np * np), func);
    fit->items = x == NULL;
    fit->ties = B.ties;
    fit->n_features = fit->n_coef = p;
    fit->n_outputs = 1;
    fit->n_par = p;
    fit->coef = btfm_dense_zeros_f(p, 1, func);
    fit->intercept = btfm_model_doubles(1, func);
    fit->alpha = btfm_model_doubles(1, func);
    fit->noise_var = btfm_model_doubles(1, func);
    fit->center = btfm_model_doubles((size_t)p, func);
    fit->scale = btfm_model_doubles((size_t)p, func);
    fit->cov = btfm_model_doubles((size_t)(p * p), func);
    if (!st && (!all || !theta || !hessian || !inv || !fit->coef || !fit->intercept ||
                !fit->alpha || !fit->noise_var || !fit->center || !fit->scale || !fit->cov))
        st = BTFM_E_NOMEM;
    btfm_progress progress;
    if (!st) st = btfm_progress_start(&progress, m->progress, m->progress_user, "bradley_terry");
    glm_ops ops = {np, prepare, start, fit_one, score};
    int best = 0;
    for (int64_t i = 0; i < n_pairs && all; i++) all[i] = i;
    /* The binary solver: the Gram matrix of every pair once, each training set's
     * preconditioner from it. */
    double *gram = NULL;
    if (!st && m->n_alphas > 1 && x && !(st = prepare(&B, all, n_pairs)) && B.binary) {
        double sw = 0;
        for (int64_t i = 0; i < n_pairs; i++) sw += B.wr[i];
        if (!(gram = btfm_model_doubles((size_t)(p * p), func))) st = BTFM_E_NOMEM;
        else memcpy(gram, B.bin.gram, (size_t)(p * p) * sizeof *gram);
        for (int w = 0; w < workers && gram; w++) {
            bt *c = ctxs[w];
            c->bin.shared_gram = gram;
            c->bin.shared_weight = sw;
        }
    }
    if (!st && m->n_alphas > 1) {
        fit->cv_scores = btfm_model_doubles((size_t)m->n_alphas, func);
        fit->n_cv_alphas = m->n_alphas;
        st = fit->cv_scores ? btfm_model_glm_cv(m, &ops, ctxs, workers, n_pairs, kind, 1,
                                                fit->cv_scores, &best, theta, &progress, func)
                            : BTFM_E_NOMEM;
    }
    if (!st) st = prepare(&B, all, n_pairs);
    if (!st) {
        start(&B, theta);
        st = fit_one(&B, m->alphas[best], B.tol, theta, hessian);
    }
    double log_det;
    if (!st && btfm_dense_spd_inverse(hessian, np, inv, &log_det))
        st = btfm_fail(BTFM_E_NUMERIC, "%s: the Hessian at the optimum is singular", func);
    if (!st) {
        for (int64_t k = 0; k < p; k++) {
            fit->coef[k] = (float)(theta[k] / (x ? B.scale[k] : 1.0));
            fit->scale[k] = x ? B.scale[k] : 1.0;
            for (int64_t l = 0; l < p; l++) fit->cov[k * p + l] = inv[k * np + l];
        }
        fit->alpha[0] = m->alphas[best];
        fit->tie = !B.tie_par ? (B.ties == BTFM_TIES_RAO_KUPPER ? 1.0 : 0.0) : exp(theta[p]);
        fit->sum_weights = (double)n_pairs;
        st = btfm_progress_done(&progress, "bradley_terry");
    }
    release(&B);
    for (int w = 1; w < workers && extra; w++) release(&extra[w]);
    btfm_free(extra);
    btfm_free(ctxs);
    btfm_free(gram);
    btfm_free(all);
    btfm_free(theta);
    btfm_free(hessian);
    btfm_free(inv);
    return st;
}

btfm_status btfm_model_predict_pairs(const btfm_model *m, double *out, const float *x,
                                     int64_t n_items, int64_t n_features,
                                     const int64_t *pairs, int64_t n_pairs)
{
    const char *func = "btfm_model_predict_pairs";
    BTFM_CHECK_ARG(m, func, "model");
    BTFM_CHECK_ARG(out, func, "out");
    BTFM_CHECK_ARG(pairs, func, "pairs");
    if (!m->fit || m->type != BTFM_MODEL_BRADLEY_TERRY)
        return btfm_fail(BTFM_E_STATE, "%s: needs a fitted bradley_terry model", func);
    const model_fit *f = m->fit;
    if (n_items < 2 || n_pairs < 0)
        return btfm_fail(BTFM_E_INVALID, "%s: %lld items and %lld pairs", func,
                         (long long)n_items, (long long)n_pairs);
    float *scores = btfm_malloc((size_t)n_items * sizeof *scores);
    if (!scores) return btfm_fail_nomem(func, (size_t)n_items * sizeof *scores);
    btfm_status st = btfm_model_predict(m, scores, x, n_items, x ? n_features : f->n_features);
    const int ties = f->ties;
    for (int64_t i = 0; !st && i < n_pairs; i++) {
        const int64_t a = pairs[2 * i], b = pairs[2 * i + 1];
        if (a < 0 || a >= n_items || b < 0 || b >= n_items) {
            st = btfm_fail(BTFM_E_INVALID, "%s: pairs[%lld] is (%lld, %lld); expected items 0 "
                           ".. %lld", func, (long long)i, (long long)a, (long long)b,
                           (long long)n_items - 1);
            break;
        }
        outcome_probs(ties, f->tie, (double)scores[a] - scores[b], &out[3 * i], &out[3 * i + 1],
                      &out[3 * i + 2]);
    }
    btfm_free(scores);
    return st;
}
