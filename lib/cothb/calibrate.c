/* Calibration from human decisions: the policy is learned from people. Two L2-penalized
 * logistic regressions over the signals (a continuation-ratio model of the ordered
 * choices continue > switch > explore): head 0 continue vs leave on every row, head 1
 * switch vs explore on the rows that leave. Fitted by Newton's method, the objective
 * being scikit-learn's LogisticRegression(C = 1/l2): sum of log-losses + l2/2 ||w||^2,
 * intercept unpenalized. */
#include <math.h>
#include <string.h>
#include "cothb_internal.h"

#define NPAR (COTHB_NSIG + 1)

static double sigmoid(double z)
{
    return z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z));
}

double btfm_cothb_policy_probability(const btfm_cothb *c, int head, const cothb_node *n,
                                      double alternative)
{
    double z = c->policy_b[head];
    for (int j = 0; j < COTHB_NSIG; j++) {
        double w = c->policy_w[head][j];
        if (w == 0) continue;
        double x = n->signals[j];
        /* The reliability feature is the one the policy uses (a sub-problem's result
         * first, as documented); a known alternative replaces an unobserved one; any
         * other unobserved signal sits at the uninformative middle of [0, 1]. */
        if (j == BTFM_COTHB_SIGNAL_RELIABILITY)
            x = btfm_cothb_inferred_reliability(c, n);
        else if (j == BTFM_COTHB_SIGNAL_ALTERNATIVE && isnan(x) && !isnan(alternative))
            x = alternative;
        else if (isnan(x))
            x = 0.5;
        z += w * x;
    }
    return sigmoid(z);
}

/* Solve the k x k symmetric positive definite system H x = g in place (Cholesky). */
static int cholesky_solve(double *h, double *g, int k)
{
    for (int j = 0; j < k; j++) {
        double d = h[j * k + j];
        for (int m = 0; m < j; m++) d -= h[j * k + m] * h[j * k + m];
        if (!(d > 0)) return -1;
        d = sqrt(d);
        h[j * k + j] = d;
        for (int i = j + 1; i < k; i++) {
            double s = h[i * k + j];
            for (int m = 0; m < j; m++) s -= h[i * k + m] * h[j * k + m];
            h[i * k + j] = s / d;
        }
    }
    for (int i = 0; i < k; i++) {
        for (int m = 0; m < i; m++) g[i] -= h[i * k + m] * g[m];
        g[i] /= h[i * k + i];
    }
    for (int i = k - 1; i >= 0; i--) {
        for (int m = i + 1; m < k; m++) g[i] -= h[m * k + i] * g[m];
        g[i] /= h[i * k + i];
    }
    return 0;
}

/* Penalized negative log-likelihood of theta (d weights then the bias) on the rows
 * with use[i] set; y[i] is 1 or 0. */
static double objective(const double *x, const int *y, const int *use, int n, int d,
                        const double *theta, double l2)
{
    double f = 0;
    for (int i = 0; i < n; i++) {
        if (!use[i]) continue;
        double z = theta[d];
        for (int j = 0; j < d; j++) z += theta[j] * x[(size_t)i * d + j];
        f += (z > 0 ? z + log1p(exp(-z)) : log1p(exp(z))) - y[i] * z;
    }
    for (int j = 0; j < d; j++) f += 0.5 * l2 * theta[j] * theta[j];
    return f;
}

static btfm_status fit_head(const double *x, const int *y, const int *use, int n, int d,
                            double l2, double *theta)
{
    int k = d + 1;
    memset(theta, 0, sizeof(double) * (size_t)k);
    double f = objective(x, y, use, n, d, theta, l2);
    for (int iter = 0; iter < 200; iter++) {
        double g[NPAR] = {0}, h[NPAR * NPAR] = {0};
        for (int i = 0; i < n; i++) {
            if (!use[i]) continue;
            const double *row = x + (size_t)i * d;
            double z = theta[d];
            for (int j = 0; j < d; j++) z += theta[j] * row[j];
            double p = sigmoid(z), r = p - y[i], w = p * (1 - p);
            for (int a = 0; a < k; a++) {
                double xa = a < d ? row[a] : 1;
                g[a] += r * xa;
                for (int b = 0; b <= a; b++) h[a * k + b] += w * xa * (b < d ? row[b] : 1);
            }
        }
        double gmax = 0;
        for (int j = 0; j < d; j++) {
            g[j] += l2 * theta[j];
            h[j * k + j] += l2;
        }
        for (int a = 0; a < k; a++) {
            for (int b = 0; b < a; b++) h[b * k + a] = h[a * k + b];
            if (fabs(g[a]) > gmax) gmax = fabs(g[a]);
        }
        if (gmax < 1e-11 * (n + 1)) return BTFM_OK;
        if (cholesky_solve(h, g, k))
            return btfm_fail(BTFM_E_NUMERIC, "btfm_cothb_calibrate: the Hessian is singular "
                             "(a feature column without variation in a class?)");
        /* Damped Newton step: halve until the objective does not increase. */
        double trial[NPAR], step = 1;
        for (int half = 0; half < 40; half++, step /= 2) {
            for (int a = 0; a < k; a++) trial[a] = theta[a] - step * g[a];
            double ft = objective(x, y, use, n, d, trial, l2);
            if (ft <= f) {
                memcpy(theta, trial, sizeof(double) * (size_t)k);
                f = ft;
                break;
            }
        }
    }
    return BTFM_OK; /* 200 damped Newton steps on a strictly convex objective: converged */
}

btfm_status btfm_cothb_calibrate(btfm_cothb *c, const double *features, int n_rows,
                                 int n_features, const int *decisions, double l2)
{
    static const char func[] = "btfm_cothb_calibrate";
    BTFM_CHECK_ARG(c, func, "controller");
    BTFM_CHECK_ARG(features, func, "features");
    BTFM_CHECK_ARG(decisions, func, "decisions");
    if (n_features < 1 || n_features > COTHB_NSIG)
        return btfm_fail(BTFM_E_INVALID, "%s: n_features = %d: expected 1 to %d (one column "
                         "per signal slot)", func, n_features, COTHB_NSIG);
    if (n_rows < 3)
        return btfm_fail(BTFM_E_INVALID, "%s: n_rows = %d: expected at least 3 decisions",
                         func, n_rows);
    if (!(l2 > 0) || !isfinite(l2))
        return btfm_fail(BTFM_E_RANGE, "%s: l2 = %g: expected a finite penalty > 0", func, l2);
    int counts[3] = {0, 0, 0};
    for (int i = 0; i < n_rows; i++) {
        if (decisions[i] < 0 || decisions[i] > 2)
            return btfm_fail(BTFM_E_INVALID, "%s: decisions[%d] = %d: expected 0 (continue), "
                             "1 (switch) or 2 (explore)", func, i, decisions[i]);
        counts[decisions[i]]++;
        for (int j = 0; j < n_features; j++) {
            double v = features[(size_t)i * n_features + j];
            if (!(v >= 0 && v <= 1))
                return btfm_fail(BTFM_E_RANGE, "%s: features[%d][%d] (%s) = %g: expected a "
                                 "value in [0, 1]", func, i, j, btfm_cothb_signal_name(j), v);
        }
    }
    for (int k = 0; k < 3; k++)
        if (counts[k] == 0)
            return btfm_fail(BTFM_E_INVALID, "%s: no row has decision %s; every decision "
                             "(continue, switch, explore) needs at least one row", func,
                             btfm_cothb_decision_name(k));
    size_t bytes = (size_t)n_rows * 3 * sizeof(int);
    int *y = btfm_malloc(bytes);
    if (!y) return btfm_fail_nomem(func, bytes);
    int *use = y + n_rows, *all = y + 2 * n_rows;
    double theta[2][NPAR];
    for (int i = 0; i < n_rows; i++) {
        y[i] = decisions[i] == BTFM_COTHB_DECISION_CONTINUE;
        all[i] = 1;
    }
    btfm_status st = fit_head(features, y, all, n_rows, n_features, l2, theta[0]);
    for (int i = 0; i < n_rows; i++) {
        y[i] = decisions[i] == BTFM_COTHB_DECISION_SWITCH;
        use[i] = decisions[i] != BTFM_COTHB_DECISION_CONTINUE;
    }
    if (!st) st = fit_head(features, y, use, n_rows, n_features, l2, theta[1]);
    btfm_free(y);
    if (st) return st;
    for (int h = 0; h < COTHB_NHEAD; h++) {
        for (int j = 0; j < COTHB_NSIG; j++) c->policy_w[h][j] = j < n_features ? theta[h][j] : 0;
        c->policy_b[h] = theta[h][n_features];
    }
    c->policy_fitted = 1;
    c->params[BTFM_COTHB_PARAM_POLICY] = 1;
    return BTFM_OK;
}

btfm_status btfm_cothb_policy(const btfm_cothb *c, int head, double *weights, int n_weights,
                              double *bias)
{
    BTFM_CHECK_ARG(c, "btfm_cothb_policy", "controller");
    if (head < 0 || head >= COTHB_NHEAD)
        return btfm_fail(BTFM_E_INVALID, "btfm_cothb_policy: head %d: expected 0 (continue vs "
                         "leave) or 1 (switch vs explore)", head);
    if (weights && (n_weights < 0 || n_weights > COTHB_NSIG))
        return btfm_fail(BTFM_E_INVALID, "btfm_cothb_policy: n_weights = %d: expected 0 to %d",
                         n_weights, COTHB_NSIG);
    if (!c->policy_fitted)
        return btfm_fail(BTFM_E_STATE, "btfm_cothb_policy: no policy fitted yet; call "
                         "btfm_cothb_calibrate first");
    for (int j = 0; weights && j < n_weights; j++) weights[j] = c->policy_w[head][j];
    if (bias) *bias = c->policy_b[head];
    return BTFM_OK;
}
