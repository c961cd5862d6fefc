/* Logistic regression, binary and multinomial (softmax), with an L2 penalty alpha/2 ||W||^2
 * on the weights and an unpenalized intercept: scikit-learn's LogisticRegression with
 * C = 1 / alpha, two classes by the binary solver Bradley-Terry shares (binary.c), more by
 * Newton's method (IRLS), the penalty chosen by cross-validated accuracy as
 * LogisticRegressionCV does. Optional label smoothing and sample weights; the Hessian at
 * the optimum gives the Laplace posterior of the weights. */
#include <math.h>
#include <string.h>
#include <cblas.h>
#include "glm_internal.h"
#include "dense/dense.h"

typedef struct logit {
    const float *x;
    const int32_t *labels;
    const double *w;
    int64_t n, p, q;  /* samples, features, parameters per class (p + intercept) */
    int K, nk;        /* classes; weight vectors (1 for two classes) */
    int intercept, standardize;
    int newton;       /* Newton's method alone (solver BTFM_MODEL_NEWTON) */
    double eps;
    double alpha;
    int max_iter;
    double tol;
    double *pr;       /* K */
    double *u;        /* nk x (p + 1): the scoring weights per class, offset last */
    const char *func;
    /* the training rows and their standardized design, a column of ones last */
    int64_t n_rows;
    const int64_t *rows;
    double *mean, *scale;
    double *xs;       /* n x q */
    double *eta;      /* n x nk (more than two classes) */
    double *buf;      /* n x q (more than two classes) */
    double *t, *wr;   /* two classes: each training row's target and weight */
    binary_logit bin; /* two classes: the solver */
} logit;

static double weight(const logit *L, int64_t i) { return L->w ? L->w[i] : 1.0; }

/* The smoothed target of class k for a sample of class y. */
static double target(const logit *L, int y, int k)
{
    if (L->nk == 1) return y == 1 ? 1.0 - L->eps : L->eps;
    return y == k ? 1.0 - L->eps : L->eps / (L->K - 1);
}

/* eta (n_rows x nk) = standardized design times theta (nk blocks of q). */
static void linear(const logit *L, const double *xs, int64_t n, const double *theta, double *eta)
{
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, L->nk, (int)L->q, 1.0, xs,
                (int)L->q, theta, (int)L->q, 0.0, eta, L->nk);
}

/* log(1 + e^x) without overflow. */
static double softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }

/* Softmax of row e (K values) into pr; returns log-sum-exp. */
static double softmax(const double *e, int K, double *pr)
{
    double mx = e[0], sum = 0;
    for (int k = 1; k < K; k++) mx = e[k] > mx ? e[k] : mx;
    for (int k = 0; k < K; k++) sum += (pr[k] = exp(e[k] - mx));
    for (int k = 0; k < K; k++) pr[k] /= sum;
    return mx + log(sum);
}

/* The multinomial objective (two classes go to binary.c). */
static btfm_status eval(void *ctx, const double *theta, double *value, double *grad,
                        double *hess)
{
    logit *L = ctx;
    const int64_t n = L->n_rows, q = L->q, p = L->p;
    const int nk = L->nk, K = L->K;
    linear(L, L->xs, n, theta, L->eta);
    double f = 0;
    for (int k = 0; k < nk; k++)
        for (int64_t j = 0; j < p; j++) f += 0.5 * L->alpha * theta[k * q + j] * theta[k * q + j];
    double *pr = L->pr;
    /* The loss, and in eta the residual prob - target (times the weight) per class. */
    for (int64_t r = 0; r < n; r++) {
        const int64_t i = L->rows[r];
        const int y = L->labels[i];
        const double wi = weight(L, i);
        double *e = L->eta + r * nk;
        double lse = softmax(e, K, pr);
        for (int k = 0; k < K; k++) {
            const double t = target(L, y, k);
            f += wi * t * (lse - e[k]);
            e[k] = wi * (pr[k] - t);
        }
    }
    *value = f;
    if (!grad) return BTFM_OK;
    /* grad_k = xs^T resid_k + alpha w_k. */
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nk, (int)q, (int)n, 1.0, L->eta, nk,
                L->xs, (int)q, 0.0, grad, (int)q);
    for (int k = 0; k < nk; k++)
        for (int64_t j = 0; j < p; j++) grad[k * q + j] += L->alpha * theta[k * q + j];
    /* Hessian blocks xs^T diag(w p_k (delta_kl - p_l)) xs, from the probabilities. */
    const int64_t np = (int64_t)nk * q;
    memset(hess, 0, (size_t)(np * np) * sizeof *hess);
    linear(L, L->xs, n, theta, L->eta);
    for (int64_t r = 0; r < n; r++) softmax(L->eta + r * nk, K, L->eta + r * nk);
    /* Only the upper part is filled (the solver and the inverse read no more): a diagonal
     * block's weights are >= 0, so it is the rank-n update of sqrt(d) xs, half a product. */
    for (int k = 0; k < nk; k++)
        for (int l = k; l < nk; l++) {
            for (int64_t r = 0; r < n; r++) {
                const double *e = L->eta + r * nk;
                const double wi = weight(L, L->rows[r]);
                double d = wi * e[k] * ((k == l) - e[l]);
                if (k == l) d = sqrt(fmax(d, 0.0));
                for (int64_t j = 0; j < q; j++) L->buf[r * q + j] = d * L->xs[r * q + j];
            }
            double *block = hess + (int64_t)k * q * np + (int64_t)l * q;
            if (k == l)
                cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)q, (int)n, 1.0, L->buf,
                            (int)q, 0.0, block, (int)np);
            else
                cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)q, (int)q, (int)n,
                            1.0, L->xs, (int)q, L->buf, (int)q, 0.0, block, (int)np);
        }
    for (int k = 0; k < nk; k++)
        for (int64_t j = 0; j < p; j++) hess[(k * q + j) * np + k * q + j] += L->alpha;
    return BTFM_OK;
}

/* Standardization statistics of the training rows and their standardized design. */
static btfm_status prepare(void *ctx, const int64_t *rows, int64_t n_rows)
{
    logit *L = ctx;
    const int64_t p = L->p, q = L->q;
    L->rows = rows;
    L->n_rows = n_rows;
    double sw = 0;
    memset(L->mean, 0, (size_t)p * sizeof *L->mean);
    memset(L->scale, 0, (size_t)p * sizeof *L->scale);
    for (int64_t r = 0; r < n_rows; r++) {
        const int64_t i = rows[r];
        const double wi = weight(L, i);
        sw += wi;
        for (int64_t j = 0; j < p; j++) L->mean[j] += wi * L->x[i * p + j];
    }
    if (!(sw > 0))
        return btfm_fail(BTFM_E_INVALID, "%s: sample_weight: a training set has total weight 0",
                         L->func);
    for (int64_t j = 0; j < p; j++) L->mean[j] /= sw;
    for (int64_t r = 0; r < n_rows; r++) {
        const int64_t i = rows[r];
        for (int64_t j = 0; j < p; j++) {
            double v = L->x[i * p + j] - L->mean[j];
            L->scale[j] += weight(L, i) * v * v;
        }
    }
    for (int64_t j = 0; j < p; j++) {
        double sd = sqrt(L->scale[j] / sw);
        L->scale[j] = L->standardize && sd > 0 ? sd : 1.0;
        if (!L->intercept) L->mean[j] = 0.0;
    }
    if (L->nk == 1) { /* the binary solver standardizes on the fly */
        for (int64_t r = 0; r < n_rows; r++) {
            L->t[r] = target(L, L->labels[rows[r]], 1);
            L->wr[r] = weight(L, rows[r]);
        }
        L->bin.first = rows;
        return btfm_model_binary_design(&L->bin, n_rows);
    }
    for (int64_t r = 0; r < n_rows; r++) {
        const float *xr = L->x + rows[r] * p;
        double *o = L->xs + r * q;
        for (int64_t j = 0; j < p; j++) o[j] = (xr[j] - L->mean[j]) / L->scale[j];
        if (L->intercept) o[p] = 1.0;
    }
    return BTFM_OK;
}

static void start(void *ctx, double *theta) { (void)ctx; (void)theta; }

static btfm_status fit_one(void *ctx, double alpha, double tol, double *theta, double *hessian)
{
    logit *L = ctx;
    if (L->nk == 1)
        return btfm_model_binary_fit(&L->bin, alpha, theta, L->max_iter, tol, hessian);
    L->alpha = alpha;
    const int64_t np = (int64_t)L->nk * L->q;
    newton_problem pr = {.n_par = np, .eval = eval, .ctx = L, .func = L->func};
    double *gauge = NULL;
    if (L->nk > 1 && L->intercept) {
        /* The intercepts are unpenalized: adding a constant to every class's changes
         * nothing, so the steps keep their sum fixed (at 0, as scikit-learn's do). */
        if (!(gauge = btfm_model_doubles((size_t)np, L->func))) return BTFM_E_NOMEM;
        for (int k = 0; k < L->nk; k++) gauge[k * L->q + L->p] = 1.0 / sqrt((double)L->nk);
        pr.gauge = gauge;
    }
    btfm_status st = btfm_model_newton(&pr, theta, L->max_iter, tol, hessian);
    if (!st && hessian && gauge) /* invertible, with the gauge fixed */
        for (int64_t i = 0; i < np; i++)
            for (int64_t k = 0; k < np; k++) hessian[i * np + k] += gauge[i] * gauge[k];
    btfm_free(gauge);
    return st;
}

static double score(void *ctx, const double *theta, const int64_t *rows, int64_t n_rows,
                    int kind)
{
    logit *L = ctx;
    const int64_t p = L->p, q = L->q;
    double sw = 0, total = 0, e[1], *pr = L->pr;
    /* theta on the standardized features as weights and an offset on the raw ones */
    for (int k = 0; k < L->nk; k++) {
        double *u = L->u + k * (p + 1), off = L->intercept ? theta[k * q + p] : 0.0;
        for (int64_t j = 0; j < p; j++) {
            u[j] = theta[k * q + j] / L->scale[j];
            off -= u[j] * L->mean[j];
        }
        u[p] = off;
    }
    for (int64_t r = 0; r < n_rows; r++) {
        const int64_t i = rows[r];
        const float *xr = L->x + i * p;
        const double wi = weight(L, i);
        const int y = L->labels[i];
        int predicted = 0;
        double logp;
        for (int k = 0; k < L->nk; k++) {
            const double *u = L->u + k * (p + 1);
            const double v = u[p] + btfm_model_dot_fd(xr, u, p);
            if (L->nk == 1) e[0] = v;
            else pr[k] = v;
        }
        if (L->nk == 1) {
            predicted = e[0] > 0;
            logp = y == 1 ? -softplus(-e[0]) : -softplus(e[0]);
        } else {
            double lse = softmax(pr, L->K, pr);
            (void)lse;
            for (int k = 1; k < L->K; k++)
                if (pr[k] > pr[predicted]) predicted = k;
            logp = log(fmax(pr[y], 1e-300));
        }
        sw += wi;
        total += wi * (kind == BTFM_SCORE_ACCURACY ? (double)(predicted == y) : logp);
    }
    return sw > 0 ? total / sw : 0.0;
}

/* Coefficients in input units, intercepts and the Laplace covariance of the fit. */
static btfm_status finish(logit *L, const double *theta, const double *hessian,
                          model_fit *fit)
{
    const int64_t p = L->p, q = L->q, nk = L->nk, np = nk * q;
    fit->n_par = q;
    fit->cov = btfm_model_doubles((size_t)(nk * q * q), L->func);
    double *inv = btfm_model_doubles((size_t)(np * np), L->func);
    if (!fit->cov || !inv) {
        btfm_free(inv);
        return BTFM_E_NOMEM;
    }
    double log_det;
    if (btfm_dense_spd_inverse(hessian, np, inv, &log_det)) {
        btfm_free(inv);
        return btfm_fail(BTFM_E_NUMERIC, "%s: the Hessian at the optimum is singular", L->func);
    }
    for (int64_t k = 0; k < nk; k++) {
        double icpt = L->intercept ? theta[k * q + p] : 0.0;
        for (int64_t j = 0; j < p; j++) {
            const double c = theta[k * q + j] / L->scale[j];
            fit->coef[j * nk + k] = (float)c;
            icpt -= c * L->mean[j];
        }
        fit->intercept[k] = icpt;
        for (int64_t a = 0; a < q; a++)
            for (int64_t b = 0; b < q; b++)
                fit->cov[(k * q + a) * q + b] = inv[(k * q + a) * np + k * q + b];
    }
    for (int64_t j = 0; j < p; j++) {
        fit->center[j] = L->mean[j];
        fit->scale[j] = L->scale[j];
    }
    btfm_free(inv);
    return BTFM_OK;
}

/* Labels must be classes 0 .. K - 1 with every class present. */
static btfm_status count_classes(const int32_t *labels, int64_t n, int *classes,
                                 const char *func)
{
    int32_t max = 0;
    for (int64_t i = 0; i < n; i++) {
        if (labels[i] < 0 || labels[i] > 100000)
            return btfm_fail(BTFM_E_INVALID, "%s: labels[%lld] is %d; expected a class 0 .. "
                             "K - 1", func, (long long)i, (int)labels[i]);
        if (labels[i] > max) max = labels[i];
    }
    char *seen = btfm_calloc((size_t)max + 1, 1);
    if (!seen) return btfm_fail_nomem(func, (size_t)max + 1);
    for (int64_t i = 0; i < n; i++) seen[labels[i]] = 1;
    btfm_status st = BTFM_OK;
    for (int32_t k = 0; k <= max && !st; k++)
        if (!seen[k])
            st = btfm_fail(BTFM_E_INVALID, "%s: labels: class %d never occurs but class %d "
                           "does; classes must be 0 .. K - 1", func, (int)k, (int)max);
    btfm_free(seen);
    if (!st && max < 1)
        st = btfm_fail(BTFM_E_INVALID, "%s: labels: every sample is class 0; logistic "
                       "regression needs at least 2 classes", func);
    *classes = (int)max + 1;
    return st;
}

/* A context's own buffers for up to n training rows (its constant fields already set). */
static btfm_status buffers(logit *L, int64_t n)
{
    const int64_t p = L->p;
    L->mean = btfm_model_doubles((size_t)p, L->func);
    L->scale = btfm_model_doubles((size_t)p, L->func);
    L->pr = btfm_model_doubles((size_t)L->K, L->func);
    L->u = btfm_model_doubles((size_t)(L->nk * (p + 1)), L->func);
    if (!L->u) return BTFM_E_NOMEM;
    if (L->nk > 1) {
        L->xs = btfm_dense_zeros(n, L->q, L->func);
        L->buf = btfm_dense_zeros(n, L->q, L->func);
        L->eta = btfm_dense_zeros(n, L->nk, L->func);
        return L->mean && L->scale && L->pr && L->xs && L->buf && L->eta ? BTFM_OK
                                                                          : BTFM_E_NOMEM;
    }
    L->t = btfm_model_doubles((size_t)n, L->func);
    L->wr = btfm_model_doubles((size_t)n, L->func);
    btfm_status st = btfm_model_binary_init(&L->bin, n, 0, p, L->intercept, L->func);
    if (st || !L->mean || !L->scale || !L->pr || !L->t || !L->wr) return BTFM_E_NOMEM;
    L->bin.x = L->x;
    L->bin.newton = L->newton;
    L->bin.center = L->mean;
    L->bin.scale = L->scale;
    L->bin.t = L->t;
    L->bin.w = L->w ? L->wr : NULL;
    return BTFM_OK;
}

static void release(logit *L)
{
    btfm_free(L->mean);
    btfm_free(L->scale);
    btfm_free(L->pr);
    btfm_free(L->u);
    btfm_free(L->xs);
    btfm_free(L->buf);
    btfm_free(L->eta);
    btfm_free(L->t);
    btfm_free(L->wr);
    btfm_model_binary_clear(&L->bin);
}

btfm_status btfm_model_fit_logistic(btfm_model *m, const float *x, int64_t n, int64_t p,
                                    const int32_t *labels, model_fit *fit)
{
    const char *func = "btfm_model_fit_classes";
    logit L = {.x = x, .labels = labels, .w = m->weights, .n = n, .p = p,
               .intercept = MODEL_PARAM(m, FIT_INTERCEPT) != 0,
               .standardize = MODEL_PARAM(m, STANDARDIZE) != 0,
               .newton = MODEL_PARAM(m, SOLVER) == BTFM_MODEL_NEWTON,
               .eps = MODEL_PARAM(m, LABEL_SMOOTHING), .max_iter = (int)MODEL_PARAM(m, MAX_ITER),
               .tol = MODEL_PARAM(m, TOL), .func = func};
    if (m->n_delays || MODEL_PARAM(m, HRF))
        return btfm_fail(BTFM_E_INVALID, "%s: delays and the HRF apply to ridge models only",
                         func);
    btfm_status st = btfm_model_check_finite(x, n, p, "x", func);
    if (!st) st = count_classes(labels, n, &L.K, func);
    if (st) return st;
    int kind = (int)MODEL_PARAM(m, SCORING);
    if (kind == BTFM_SCORE_DEFAULT) kind = BTFM_SCORE_ACCURACY;
    if (kind != BTFM_SCORE_ACCURACY && kind != BTFM_SCORE_LOG_LIKELIHOOD)
        return btfm_fail(BTFM_E_INVALID, "%s: scoring is %s; logistic regression is scored by "
                         "accuracy or log_likelihood", func, btfm_model_score_name(kind));
    L.nk = L.K == 2 ? 1 : L.K;
    L.q = p + (L.intercept ? 1 : 0);
    const int64_t np = (int64_t)L.nk * L.q;
    /* A context per fold worker (the first is L), each with buffers of its own. */
    const int workers = btfm_model_glm_workers(m, n, np);
    logit *extra = btfm_calloc((size_t)workers, sizeof *extra);
    void **ctxs = btfm_calloc((size_t)workers, sizeof *ctxs);
    if (!extra || !ctxs) st = btfm_fail_nomem(func, (size_t)workers * sizeof *extra);
    if (!st) st = buffers(&L, n);
    for (int w = 1; w < workers && !st; w++) {
        extra[w] = L;
        st = buffers(&extra[w], n);
    }
    for (int w = 0; w < workers && ctxs; w++) ctxs[w] = w ? (void *)&extra[w] : (void *)&L;
    int64_t *all = btfm_malloc((size_t)n * sizeof *all);
    double *theta = btfm_model_doubles((size_t)np, func);
    double *hessian = btfm_model_doubles((size_t)(np * np), func);
    fit->n_outputs = L.nk;
    fit->n_classes = L.K;
    fit->n_features = fit->n_coef = p;
    fit->coef = btfm_dense_zeros_f(p, L.nk, func);
    fit->intercept = btfm_model_doubles((size_t)L.nk, func);
    fit->alpha = btfm_model_doubles((size_t)L.nk, func);
    fit->noise_var = btfm_model_doubles((size_t)L.nk, func);
    fit->center = btfm_model_doubles((size_t)p, func);
    fit->scale = btfm_model_doubles((size_t)p, func);
    if (!st && (!all || !theta || !hessian || !fit->coef || !fit->intercept || !fit->alpha ||
                !fit->noise_var || !fit->center || !fit->scale))
        st = BTFM_E_NOMEM;
    btfm_progress progress;
    if (!st) st = btfm_progress_start(&progress, m->progress, m->progress_user, "logistic");
    glm_ops ops = {np, prepare, start, fit_one, score};
    int best = 0;
    for (int64_t i = 0; i < n && all; i++) all[i] = i;
    /* Two classes: the Gram matrix of every row once, each training set's preconditioner
     * from it. */
    double *gram = NULL;
    if (!st && m->n_alphas > 1 && L.nk == 1 && !(st = prepare(&L, all, n))) {
        double sw = 0;
        for (int64_t i = 0; i < n; i++) sw += L.wr[i];
        if (!(gram = btfm_model_doubles((size_t)(L.q * L.q), func))) st = BTFM_E_NOMEM;
        else memcpy(gram, L.bin.gram, (size_t)(L.q * L.q) * sizeof *gram);
        for (int w = 0; w < workers && gram; w++) {
            logit *c = ctxs[w];
            c->bin.shared_gram = gram;
            c->bin.shared_weight = sw;
        }
    }
    if (!st && m->n_alphas > 1) {
        fit->cv_scores = btfm_model_doubles((size_t)m->n_alphas, func);
        fit->n_cv_alphas = m->n_alphas;
        st = fit->cv_scores ? btfm_model_glm_cv(m, &ops, ctxs, workers, n, kind, 1,
                                                fit->cv_scores, &best, theta, &progress, func)
                            : BTFM_E_NOMEM;
    }
    if (!st) st = prepare(&L, all, n);
    if (!st) st = fit_one(&L, m->alphas[best], L.tol, theta, hessian);
    if (!st) st = finish(&L, theta, hessian, fit);
    for (int k = 0; !st && k < L.nk; k++) fit->alpha[k] = m->alphas[best];
    if (!st) st = btfm_progress_done(&progress, "logistic");
    fit->sum_weights = n;
    release(&L);
    for (int w = 1; w < workers && extra; w++) release(&extra[w]);
    btfm_free(extra);
    btfm_free(ctxs);
    btfm_free(gram);
    btfm_free(all);
    btfm_free(theta);
    btfm_free(hessian);
    return st;
}
