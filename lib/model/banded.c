/* Banded ridge (Nunez-Elizalde, Huth & Gallant 2019; himalaya's random search): one
 * regularization per feature band, alpha / gamma_b, found by trying band weights gamma
 * (Dirichlet draws, or given ones) and, for each, the ridge grid by cross-validation; a
 * target keeps a draw when its best score beats the target's best so far. Each draw
 * scales band b's columns by sqrt(gamma_b) and runs the ridge routes unchanged. */
#include <math.h>
#include <float.h>
#include <string.h>
#include <btfm/aligner.h>
#include "ridge_internal.h"
#include "core/random.h"
#include "dense/dense.h"

/* A Gamma(shape, 1) draw (Marsaglia & Tsang 2000; shape < 1 through shape + 1). */
static double gamma_draw(double shape, uint64_t *state)
{
    if (shape < 1) return gamma_draw(shape + 1, state) * pow(btfm_model_uniform(state), 1.0 / shape);
    const double d = shape - 1.0 / 3, c = 1.0 / sqrt(9 * d);
    for (;;) {
        double z = btfm_model_normal(state), v = 1 + c * z;
        if (v <= 0) continue;
        v = v * v * v;
        double u = btfm_model_uniform(state);
        if (log(u) < 0.5 * z * z + d - d * v + d * log(v)) return d * v;
    }
}

/* The draws: given, or the first uniform and the rest Dirichlet with concentration 0.1
 * and 1 in turn (himalaya cycles [0.1, 1.0] from the first draw, which it overwrites). */
static double *band_draws(const btfm_model *m, int n_bands, int *n_draws, const char *func)
{
    if (m->band_draws) {
        if (m->n_draw_bands != n_bands) {
            btfm_fail(BTFM_E_INVALID, "%s: band weights were given for %d bands but bands "
                      "names %d", func, m->n_draw_bands, n_bands);
            return NULL;
        }
        double *w = btfm_model_doubles((size_t)m->n_draws * (size_t)n_bands, func);
        if (w) memcpy(w, m->band_draws, (size_t)m->n_draws * (size_t)n_bands * sizeof *w);
        *n_draws = m->n_draws;
        return w;
    }
    const int count = (int)MODEL_PARAM(m, N_ITER);
    double *w = btfm_model_doubles((size_t)count * (size_t)n_bands, func);
    if (!w) return NULL;
    uint64_t state = (uint64_t)MODEL_PARAM(m, SEED) ^ 0x62616e646564ULL;
    static const double concentration[2] = {0.1, 1.0};
    for (int d = 0; d < count; d++) {
        double sum = 0, *row = w + (int64_t)d * n_bands;
        for (int b = 0; b < n_bands; b++) {
            row[b] = d == 0 ? 1.0 : fmax(gamma_draw(concentration[d % 2], &state), 1e-300);
            sum += row[b];
        }
        for (int b = 0; b < n_bands; b++) row[b] /= sum;
    }
    *n_draws = count;
    return w;
}

/* The band of each design column, from bands given per feature or per column. */
static btfm_status column_bands(const btfm_model *m, int64_t p, int64_t P, int32_t *band,
                                int *n_bands, const char *func)
{
    if (!m->bands || (m->n_band_entries != p && m->n_band_entries != P))
        return btfm_fail(BTFM_E_INVALID, "%s: bands has %lld entries; a banded ridge needs one "
                         "per feature (%lld) or per design column (%lld)", func,
                         (long long)m->n_band_entries, (long long)p, (long long)P);
    int max = 0;
    for (int64_t k = 0; k < P; k++) {
        band[k] = m->n_band_entries == P ? m->bands[k] : m->bands[k % p];
        if (band[k] > max) max = band[k];
    }
    char used[4096] = {0};
    for (int64_t k = 0; k < P; k++) used[band[k]] = 1;
    for (int b = 0; b <= max; b++)
        if (!used[b])
            return btfm_fail(BTFM_E_INVALID, "%s: bands: band %d has no feature but band %d "
                             "does; bands must be 0 .. n_bands - 1", func, b, max);
    *n_bands = max + 1;
    return BTFM_OK;
}

/* Copy target j of one draw's fit into the kept fit. */
static void keep_target(model_fit *kept, const model_fit *draw, const float *coef, int64_t j,
                        const double *gamma, int n_bands)
{
    const int64_t P = kept->n_coef, t = kept->n_outputs;
    for (int64_t k = 0; k < P; k++) kept->coef[k * t + j] = coef[k * t + j];
    kept->intercept[j] = draw->intercept[j];
    kept->noise_var[j] = draw->noise_var[j];
    for (int b = 0; b < n_bands; b++) kept->band_weights[b * t + j] = gamma[b];
}

btfm_status btfm_model_fit_banded(btfm_model *m, const float *x, int64_t n, int64_t p,
                                  const float *y, int64_t t, model_fit *fit)
{
    const char *func = "btfm_model_fit";
    ridge_ctx c;
    model_splits splits;
    float *owned = NULL;
    btfm_progress progress;
    int n_bands = 0, n_draws = 0;
    int64_t P = p * (m->n_delays ? m->n_delays : 1);
    if (m->aligner) {
        int64_t k;
        if (!btfm_aligner_n_components(m->aligner, &k)) P = k * (m->n_delays ? m->n_delays : 1);
    }
    double *draws = NULL, *best = NULL;
    float *coef = NULL;
    model_fit draw = {0};
    fit->band = btfm_malloc((size_t)P * sizeof *fit->band);
    btfm_status st = fit->band ? BTFM_OK : btfm_fail_nomem(func, (size_t)P * sizeof *fit->band);
    if (!st) st = column_bands(m, P / (m->n_delays ? m->n_delays : 1), P, fit->band, &n_bands, func);
    if (!st && !(draws = band_draws(m, n_bands, &n_draws, func))) st = BTFM_E_NOMEM;
    if (!st) st = btfm_progress_start(&progress, m->progress, m->progress_user, "banded ridge");
    const int with_cv = m->n_alphas > 1 || n_draws > 1;
    if (!st) st = btfm_ridge_begin(m, x, n, p, y, t, with_cv, &c, &splits, &owned, &progress,
                                   func);
    const int dual = !st && btfm_ridge_use_dual(m, n, P);
    c.col_scale = st ? NULL : btfm_model_doubles((size_t)P, func);
    best = st ? NULL : btfm_model_doubles((size_t)t, func);
    coef = st || !dual ? NULL : btfm_dense_zeros_f(P, t, func);
    if (!st && (!c.col_scale || !best || (dual && !coef))) st = BTFM_E_NOMEM;
    if (!st) st = btfm_ridge_fit_alloc(fit, P, t, 0, n, func);
    fit->n_bands = n_bands;
    fit->band_weights = st ? NULL : btfm_model_doubles((size_t)n_bands * (size_t)t, func);
    if (!st && !fit->band_weights) st = BTFM_E_NOMEM;
    if (!st && with_cv) {
        fit->cv_scores = btfm_model_doubles((size_t)n_draws * (size_t)t, func);
        fit->n_cv_alphas = n_draws;
        if (!fit->cv_scores) st = BTFM_E_NOMEM;
    }
    for (int d = 0; d < n_draws && !st; d++) {
        const double *gamma = draws + (int64_t)d * n_bands;
        for (int64_t k = 0; k < P; k++) c.col_scale[k] = sqrt(gamma[fit->band[k]]);
        if (c.cv) memset(c.cv, 0, (size_t)c.n_alphas * (size_t)t * sizeof *c.cv);
        btfm_progress part = btfm_progress_part(&progress, (double)d / n_draws,
                                                (d + 1.0) / n_draws);
        c.progress = &part;
        st = btfm_ridge_fit_alloc(&draw, P, t, dual, n, func);
        if (!st) st = dual ? btfm_ridge_dual(&c, &draw) : btfm_ridge_primal(&c, &draw);
        if (!st && dual) st = btfm_model_dual_coef(&draw, coef);
        for (int64_t j = 0; j < t && !st; j++) {
            const double score = c.cv ? c.cv[(int64_t)c.best[j] * t + j] : 0.0;
            if (c.cv) fit->cv_scores[(int64_t)d * t + j] = score;
            if (d > 0 && !(score > best[j] + DBL_EPSILON)) continue;
            best[j] = score;
            fit->alpha[j] = c.alphas[c.best[j]];
            keep_target(fit, &draw, dual ? coef : draw.coef, j, gamma, n_bands);
        }
        btfm_free(draw.coef);
        btfm_free(draw.train);
        btfm_free(draw.dual);
        btfm_free(draw.intercept);
        btfm_free(draw.alpha);
        btfm_free(draw.noise_var);
        btfm_free(draw.center);
        btfm_free(draw.scale);
        btfm_free(draw.basis);
        btfm_free(draw.eig);
        memset(&draw, 0, sizeof draw);
    }
    /* The design's shift and unit scales, as a primal ridge fit records them (a saved
     * model is checked for positive scales). */
    for (int64_t k = 0; k < P && !st; k++) {
        fit->center[k] = c.mu_x[k];
        fit->scale[k] = 1.0;
    }
    if (!st && MODEL_PARAM(m, BAND_SEARCH) >= 1)
        st = btfm_model_banded_gradient(&c, fit->band, n_bands, (int)MODEL_PARAM(m, MAX_ITER),
                                        MODEL_PARAM(m, TOL), MODEL_PARAM(m, BAND_SEARCH) == 2,
                                        fit);
    if (!st && MODEL_PARAM(m, NOISE_RANK) > 0)
        st = btfm_model_noise_factor(fit, c.x, n, y, (int64_t)MODEL_PARAM(m, NOISE_RANK), func);
    if (!st) st = btfm_progress_done(&progress, "banded ridge");
    if (!st) {
        fit->n_features = p;
        fit->sum_weights = c.sw;
    }
    btfm_ridge_end(&c, &splits, owned);
    btfm_free(c.col_scale);
    btfm_free(draws);
    btfm_free(best);
    btfm_free(coef);
    return st;
}

btfm_status btfm_model_score_split(const btfm_model *m, double *out, const float *x,
                                   const float *y, int64_t n, int64_t p, int64_t t)
{
    const char *func = "btfm_model_score_split";
    BTFM_CHECK_ARG(m, func, "model");
    BTFM_CHECK_ARG(out, func, "out");
    BTFM_CHECK_ARG(y, func, "y");
    const model_fit *f = m->fit;
    if (!f || !f->band_weights)
        return btfm_fail(BTFM_E_STATE, "%s: needs a fitted banded ridge model", func);
    if (t != f->n_outputs)
        return btfm_fail(BTFM_E_INVALID, "%s: y has %lld targets but the model predicts %lld "
                         "(n_targets)", func, (long long)t, (long long)f->n_outputs);
    if (p != f->n_features || n < 2)
        return btfm_fail(BTFM_E_INVALID, "%s: x is %lld x %lld; expected at least 2 samples of "
                         "%lld features (n_features)", func, (long long)n, (long long)p,
                         (long long)f->n_features);
    btfm_status st = btfm_model_check_finite(y, n, t, "y", func);
    const float *d;
    float *owned = NULL;
    const model_input in = btfm_model_fit_input(f);
    int64_t width;
    if (!st) st = btfm_model_design(x, n, p, &in, NULL, &d, &owned, &width, func);
    if (st) return st;
    const int B = f->n_bands;
    const int64_t P = f->n_coef;
    /* Per target: each band's centered prediction, their sum, and the sums over samples. */
    double *pred = btfm_dense_zeros(n, B, func), *ymean = btfm_model_doubles((size_t)t, func);
    if (!pred || !ymean) {
        btfm_free(pred);
        btfm_free(ymean);
        btfm_free(owned);
        return BTFM_E_NOMEM;
    }
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < t; j++) ymean[j] += y[i * t + j] / (double)n;
    for (int64_t j = 0; j < t; j++) {
        memset(pred, 0, (size_t)(n * B) * sizeof *pred);
        for (int64_t i = 0; i < n; i++)
            for (int64_t k = 0; k < P; k++)
                pred[i * B + f->band[k]] += (double)d[i * P + k] * f->coef[k * t + j];
        double mean[4096] = {0}, yy = 0;
        for (int64_t i = 0; i < n; i++)
            for (int b = 0; b < B; b++) mean[b] += pred[i * B + b] / (double)n;
        for (int b = 0; b < B; b++) out[b * t + j] = 0;
        for (int64_t i = 0; i < n; i++) {
            const double yc = y[i * t + j] - ymean[j];
            double total = 0;
            for (int b = 0; b < B; b++) total += pred[i * B + b] - mean[b];
            for (int b = 0; b < B; b++) {
                const double pb = pred[i * B + b] - mean[b];
                out[b * t + j] += 2 * yc * pb - pb * total;
            }
            yy += yc * yc;
        }
        for (int b = 0; b < B; b++) out[b * t + j] = yy > 0 ? out[b * t + j] / yy : NAN;
    }
    btfm_free(pred);
    btfm_free(ymean);
    btfm_free(owned);
    return BTFM_OK;
}
