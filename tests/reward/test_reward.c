/* The reward head against independent truths: the posterior of the Gaussian model in
 * closed form, the ridge decoder against the normal equations solved here, a simulation
 * whose latent reward is known, metrics against values worked by hand, and every error
 * path leaving the previous fit in place; the embedding-to-brain encoder against a line
 * worked out here. */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "../common/unit.h"

enum { ANNOTATORS = 8, ITEMS = 60, D = 12, N = ANNOTATORS * ITEMS };

typedef struct session {
    float x[N * D], ratings[N], conf[N], latent[N];
    int64_t annot[N], item[N];
} session;

static double gauss(uint64_t *s)
{
    double u1 = 0, u2 = 0;
    do {
        *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
        u1 = (double)(*s >> 11) / 9007199254740992.0;
    } while (u1 <= 0);
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    u2 = (double)(*s >> 11) / 9007199254740992.0;
    return sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Items with latent reward u; every annotator sees every item; features carry u along a
 * fixed pattern (times `effect`) plus noise, on an annotator-specific scale and offset;
 * a random third of the items are rated u + noise on a 1-7 scale. */
static void simulate(session *s, double effect, uint64_t seed)
{
    uint64_t r = seed;
    double u[ITEMS], pattern[D];
    for (int m = 0; m < ITEMS; m++) u[m] = gauss(&r);
    for (int j = 0; j < D; j++) pattern[j] = j < 4 ? 1.0 : 0.0;
    for (int a = 0; a < ANNOTATORS; a++) {
        double gain = 1 + 0.5 * a, shift = 3.0 * a, bias = 0.5 * gauss(&r);
        for (int m = 0; m < ITEMS; m++) {
            int i = a * ITEMS + m;
            s->annot[i] = 100 + a;
            s->item[i] = m;
            s->latent[i] = (float)u[m];
            double perceived = u[m] + 0.3 * gauss(&r);
            for (int j = 0; j < D; j++)
                s->x[i * D + j] = (float)(shift + gain * (effect * pattern[j] * perceived + gauss(&r)));
            s->ratings[i] = (m + a) % 3 == 0
                                ? (float)fmin(7, fmax(1, round(4 + 1.2 * (perceived + bias + 0.5 * gauss(&r)))))
                                : NAN;
            s->conf[i] = (float)(1 + (m % 5));
        }
    }
}

static double corr(const float *a, const float *b, int n)
{
    double ma = 0, mb = 0, saa = 0, sbb = 0, sab = 0;
    for (int i = 0; i < n; i++) ma += a[i], mb += b[i];
    ma /= n, mb /= n;
    for (int i = 0; i < n; i++) {
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
        sab += (a[i] - ma) * (b[i] - mb);
    }
    return sab / sqrt(saa * sbb);
}

static btfm_reward_head *fitted(const session *s, int mode)
{
    btfm_reward_head *h;
    ck_assert_ok(btfm_reward_head_new(&h, mode));
    ck_assert_ok(btfm_reward_head_set_ratings(h, s->ratings, NULL, N));
    ck_assert_ok(btfm_reward_head_set_items(h, s->item, N));
    ck_assert_ok(btfm_reward_head_set_param(h, BTFM_REWARD_PARAM_N_ALPHAS, 8));
    ck_assert_ok(btfm_reward_head_fit(h, s->x, N, D, s->annot));
    return h;
}

static float *column(const float *out, int col, float *dst)
{
    for (int i = 0; i < N; i++) dst[i] = out[i * BTFM_REWARD_N_OUTPUTS + col];
    return dst;
}

/* Ratings-only with a fixed reliability v: reward = v z and sd = sqrt(v (1 - v)) for a
 * rated item, 0 and sqrt(v) otherwise, z standardized within the annotator here. */
START_TEST(test_ratings_only_closed_form)
{
    static session s;
    simulate(&s, 1.0, 7);
    btfm_reward_head *h;
    const double v = 0.6;
    ck_assert_ok(btfm_reward_head_new(&h, BTFM_REWARD_RATINGS_ONLY));
    ck_assert_ok(btfm_reward_head_set_param(h, BTFM_REWARD_PARAM_RELIABILITY, v));
    ck_assert_ok(btfm_reward_head_set_ratings(h, s.ratings, NULL, N));
    ck_assert_ok(btfm_reward_head_fit(h, s.x, N, D, s.annot));
    static float out[N * BTFM_REWARD_N_OUTPUTS];
    ck_assert_ok(btfm_reward_head_predict(h, out, sizeof out / sizeof *out, s.x, N, D, s.annot,
                                          s.ratings));
    double max_err = 0;
    for (int a = 0; a < ANNOTATORS; a++) {
        double m = 0, q = 0, c = 0;
        for (int k = 0; k < ITEMS; k++)
            if (!isnan(s.ratings[a * ITEMS + k])) m += s.ratings[a * ITEMS + k], c++;
        m /= c;
        for (int k = 0; k < ITEMS; k++)
            if (!isnan(s.ratings[a * ITEMS + k]))
                q += (s.ratings[a * ITEMS + k] - m) * (s.ratings[a * ITEMS + k] - m);
        double sd = sqrt(q / (c - 1));
        for (int k = 0; k < ITEMS; k++) {
            int i = a * ITEMS + k;
            const float *o = out + i * BTFM_REWARD_N_OUTPUTS;
            double want = isnan(s.ratings[i]) ? 0 : v * (s.ratings[i] - m) / sd;
            double want_sd = isnan(s.ratings[i]) ? sqrt(v) : sqrt(v * (1 - v));
            double want_conf = 0.5 * erfc(-want / want_sd / sqrt(2.0));
            max_err = fmax(max_err, fabs(o[0] - want) + fabs(o[1] - want_sd) + fabs(o[2] - want_conf));
        }
    }
    ck_assert_msg(max_err < 1e-5, "ratings-only posterior differs from v z by %g", max_err);
    btfm_reward_head_free(h);
}
END_TEST

/* Gaussian elimination with partial pivoting (n <= 16), the reference of the decoder. */
static void solve(double *a, double *b, int n)
{
    for (int c = 0; c < n; c++) {
        int p = c;
        for (int r = c + 1; r < n; r++)
            if (fabs(a[r * n + c]) > fabs(a[p * n + c])) p = r;
        for (int k = 0; k < n; k++) {
            double t = a[c * n + k];
            a[c * n + k] = a[p * n + k];
            a[p * n + k] = t;
        }
        double t = b[c];
        b[c] = b[p];
        b[p] = t;
        for (int r = c + 1; r < n; r++) {
            double f = a[r * n + c] / a[c * n + c];
            for (int k = c; k < n; k++) a[r * n + k] -= f * a[c * n + k];
            b[r] -= f * b[c];
        }
    }
    for (int c = n - 1; c >= 0; c--) {
        for (int k = c + 1; k < n; k++) b[c] -= a[c * n + k] * b[k];
        b[c] /= a[c * n + c];
    }
}

/* With one penalty, the decoder is ridge on the per-annotator z-scored features and
 * ratings: (X'X + alpha I) w = X'y after centering, solved here. */
START_TEST(test_decoder_normal_equations)
{
    static session s;
    simulate(&s, 1.0, 11);
    btfm_reward_head *h;
    const double alpha = 30;
    ck_assert_ok(btfm_reward_head_new(&h, BTFM_REWARD_BRAIN_ONLY));
    ck_assert_ok(btfm_reward_head_set_param(h, BTFM_REWARD_PARAM_N_ALPHAS, 1));
    ck_assert_ok(btfm_reward_head_set_param(h, BTFM_REWARD_PARAM_ALPHA_MIN, alpha));
    ck_assert_ok(btfm_reward_head_set_param(h, BTFM_REWARD_PARAM_ALPHA_MAX, alpha));
    ck_assert_ok(btfm_reward_head_set_ratings(h, s.ratings, NULL, N));
    ck_assert_ok(btfm_reward_head_fit(h, s.x, N, D, s.annot));
    float w[D];
    double b0;
    ck_assert_ok(btfm_reward_head_weights(h, w, D, &b0));
    /* Reference: standardize per annotator, then over all rows; z-score ratings. */
    static double xs[N * D], z[N];
    for (int a = 0; a < ANNOTATORS; a++) {
        for (int j = 0; j < D; j++) {
            double m = 0, q = 0;
            for (int k = 0; k < ITEMS; k++) m += s.x[(a * ITEMS + k) * D + j];
            m /= ITEMS;
            for (int k = 0; k < ITEMS; k++) q += pow(s.x[(a * ITEMS + k) * D + j] - m, 2);
            for (int k = 0; k < ITEMS; k++)
                xs[(a * ITEMS + k) * D + j] = (s.x[(a * ITEMS + k) * D + j] - m) / sqrt(q / (ITEMS - 1));
        }
        double m = 0, q = 0, c = 0;
        for (int k = 0; k < ITEMS; k++)
            if (!isnan(s.ratings[a * ITEMS + k])) m += s.ratings[a * ITEMS + k], c++;
        m /= c;
        for (int k = 0; k < ITEMS; k++)
            if (!isnan(s.ratings[a * ITEMS + k])) q += pow(s.ratings[a * ITEMS + k] - m, 2);
        for (int k = 0; k < ITEMS; k++) z[a * ITEMS + k] = (s.ratings[a * ITEMS + k] - m) / sqrt(q / (c - 1));
    }
    for (int j = 0; j < D; j++) { /* the second standardization (over all rows) */
        double m = 0, q = 0;
        for (int i = 0; i < N; i++) m += xs[i * D + j];
        m /= N;
        for (int i = 0; i < N; i++) q += pow(xs[i * D + j] - m, 2);
        for (int i = 0; i < N; i++) xs[i * D + j] = (xs[i * D + j] - m) / sqrt(q / (N - 1));
    }
    double mx[D] = {0}, my = 0, c = 0, A[D * D] = {0}, rhs[D] = {0};
    for (int i = 0; i < N; i++)
        if (!isnan(s.ratings[i])) {
            for (int j = 0; j < D; j++) mx[j] += xs[i * D + j];
            my += z[i], c++;
        }
    for (int j = 0; j < D; j++) mx[j] /= c;
    my /= c;
    for (int i = 0; i < N; i++)
        if (!isnan(s.ratings[i]))
            for (int j = 0; j < D; j++) {
                rhs[j] += (xs[i * D + j] - mx[j]) * (z[i] - my);
                for (int k = 0; k < D; k++) A[j * D + k] += (xs[i * D + j] - mx[j]) * (xs[i * D + k] - mx[k]);
            }
    for (int j = 0; j < D; j++) A[j * D + j] += alpha;
    solve(A, rhs, D);
    double err = 0, icpt = my;
    for (int j = 0; j < D; j++) err = fmax(err, fabs(w[j] - rhs[j])), icpt -= rhs[j] * mx[j];
    ck_assert_msg(err < 1e-4, "decoder weights differ from the normal equations by %g", err);
    ck_assert_msg(fabs(b0 - icpt) < 1e-4, "intercept %g, normal equations %g", b0, icpt);
    btfm_reward_head_free(h);
}
END_TEST

/* With brain signals carrying the reward, brain-only tracks the latent reward and joint
 * beats ratings-only on it; with none, joint stays within 0.02 of ratings-only. */
START_TEST(test_modes_on_simulation)
{
    static session s;
    static float out[N * BTFM_REWARD_N_OUTPUTS], col[N];
    for (int effect = 1; effect >= 0; effect--) {
        simulate(&s, effect ? 0.5 : 0.0, 3);
        double r[4];
        for (int mode = 1; mode <= 3; mode++) {
            btfm_reward_head *h = fitted(&s, BTFM_REWARD_JOINT);
            ck_assert_ok(btfm_reward_head_set_param(h, BTFM_REWARD_PARAM_MODE, mode));
            ck_assert_ok(btfm_reward_head_predict(h, out, N * BTFM_REWARD_N_OUTPUTS, s.x, N, D,
                                                  s.annot, s.ratings));
            r[mode] = corr(column(out, 0, col), s.latent, N);
            btfm_reward_head_free(h);
        }
        if (effect) {
            ck_assert_msg(r[2] > 0.5, "brain-only r = %g", r[2]);
            ck_assert_msg(r[3] > r[1] + 0.1, "joint r = %g, ratings-only %g", r[3], r[1]);
        } else {
            ck_assert_msg(r[3] > r[1] - 0.02, "null: joint r = %g, ratings-only %g", r[3], r[1]);
        }
    }
}
END_TEST

/* Annotators never seen: fit on six, score two others (other gains and offsets). */
START_TEST(test_unseen_annotators)
{
    static session s;
    simulate(&s, 0.5, 5);
    const int n_train = 6 * ITEMS, n_test = N - n_train;
    btfm_reward_head *h;
    ck_assert_ok(btfm_reward_head_new(&h, BTFM_REWARD_BRAIN_ONLY));
    ck_assert_ok(btfm_reward_head_set_ratings(h, s.ratings, NULL, n_train));
    ck_assert_ok(btfm_reward_head_fit(h, s.x, n_train, D, s.annot));
    static float out[N * BTFM_REWARD_N_OUTPUTS], col[N];
    ck_assert_ok(btfm_reward_head_predict(h, out, N * BTFM_REWARD_N_OUTPUTS, s.x + n_train * D,
                                          n_test, D, s.annot + n_train, NULL));
    for (int i = 0; i < n_test; i++) col[i] = out[i * BTFM_REWARD_N_OUTPUTS];
    double r = corr(col, s.latent + n_train, n_test);
    ck_assert_msg(r > 0.6, "held-out annotators: r = %g", r);
    btfm_reward_head_free(h);
}
END_TEST

/* Pearson, Spearman, pairwise accuracy and ECE of a small case worked by hand. */
START_TEST(test_metrics_by_hand)
{
    const float reward[5] = {1, 2, 3, 5, 4}, truth[5] = {1, 2, 3, 4, 5};
    const float conf[5] = {0.05f, 0.05f, 0.05f, 0.95f, 0.95f};
    const int64_t annot[5] = {7, 7, 9, 9, 9};
    double out[3 * BTFM_REWARD_N_METRICS];
    int64_t groups;
    ck_assert_ok(btfm_reward_metrics(out, 15, &groups, reward, conf, truth, annot, 5));
    ck_assert_int_eq(groups, 2);
    /* r = 0.9 (sum of squares 10, cross 9); rho the same (ranks); 9 of 10 pairs ordered. */
    ck_assert_msg(fabs(out[0] - 0.9) < 1e-12 && fabs(out[1] - 0.9) < 1e-12, "r %g rho %g",
                  out[0], out[1]);
    ck_assert_msg(fabs(out[2] - 0.9) < 1e-12, "pairwise %g", out[2]);
    /* Median 3: items 4 and 5 are above; bins 0 (conf 0.05, 0 of 3 above) and 9 (0.95,
     * 2 of 2): ECE = (3 * 0.05 + 2 * 0.05) / 5 = 0.05. */
    ck_assert_msg(fabs(out[3] - 0.05) < 1e-6, "ece %g", out[3]);
    ck_assert_msg(out[4] == 5 && out[5 + 4] == 2 && out[10 + 4] == 3, "counts");
    ck_assert_msg(fabs(out[10 + 2] - 2.0 / 3.0) < 1e-12, "annotator 9 pairwise %g", out[12]);
    ck_assert_status(btfm_reward_metrics(out, 10, NULL, reward, conf, truth, annot, 5),
                     BTFM_E_RANGE);
}
END_TEST

/* Save to memory and a file, load back: the same scores; other features refused. */
START_TEST(test_save_load)
{
    static session s;
    simulate(&s, 0.5, 9);
    btfm_reward_head *h = NULL, *back = NULL;
    ck_assert_ok(btfm_reward_head_new(&h, BTFM_REWARD_JOINT));
    ck_assert_ok(btfm_reward_head_set_ratings(h, s.ratings, s.conf, N));
    ck_assert_ok(btfm_reward_head_set_feature_config(h, "erp 0.1-0.7 s; 12 channels"));
    int32_t roles[D];
    for (int j = 0; j < D; j++) roles[j] = j < 10 ? 7 : BTFM_REWARD_ROLE_NOVELTY;
    ck_assert_ok(btfm_reward_head_set_roles(h, roles, D));
    ck_assert_ok(btfm_reward_head_fit(h, s.x, N, D, s.annot));
    size_t size;
    ck_assert_ok(btfm_reward_head_save_buffer(h, NULL, 0, &size));
    void *bytes = malloc(size);
    ck_assert_ok(btfm_reward_head_save_buffer(h, bytes, size, &size));
    ck_assert_ok(btfm_reward_head_load_buffer(&back, bytes, size));
    static float a[N * BTFM_REWARD_N_OUTPUTS], b[N * BTFM_REWARD_N_OUTPUTS];
    ck_assert_ok(btfm_reward_head_predict(h, a, N * 5, s.x, N, D, s.annot, s.ratings));
    ck_assert_ok(btfm_reward_head_predict(back, b, N * 5, s.x, N, D, s.annot, s.ratings));
    ck_assert_msg(memcmp(a, b, sizeof a) == 0, "loaded head scores differently");
    ck_assert_all(i, N, a[i * 5 + 4] != 0 && a[i * 5 + 3] > 0 && a[i * 5 + 3] < 1,
                  "item %lld: novelty or penalty missing", (long long)i);
    ck_assert_ok(btfm_reward_head_check_config(back, "erp 0.1-0.7 s; 12 channels"));
    ck_assert_status(btfm_reward_head_check_config(back, "erp 0.2-0.5 s; 12 channels"),
                     BTFM_E_INVALID);
    ck_assert_msg(strstr(btfm_last_error(), "0.2-0.5") && strstr(btfm_last_error(), "0.1-0.7"),
                  "message names both: %s", btfm_last_error());
    ck_assert_status(btfm_reward_head_predict(back, b, N * 5, s.x, N, D - 1, s.annot, NULL),
                     BTFM_E_INVALID);
    ck_assert_msg(strstr(btfm_last_error(), "n_features is 11") != NULL, "%s", btfm_last_error());
    ((unsigned char *)bytes)[size / 2] ^= 0x5a;
    btfm_reward_head *broken = NULL;
    ck_assert_int_ne(btfm_reward_head_load_buffer(&broken, bytes, size), BTFM_OK);
    ck_assert_ptr_null(broken);
    free(bytes);
    btfm_reward_head_free(h);
    btfm_reward_head_free(back);
}
END_TEST

/* Bad input: each a clear error naming the argument, the previous fit kept. */
START_TEST(test_bad_input)
{
    static session s;
    simulate(&s, 0.5, 13);
    btfm_reward_head *h = fitted(&s, BTFM_REWARD_JOINT);
    static float before[N * 5], after[N * 5];
    ck_assert_ok(btfm_reward_head_predict(h, before, N * 5, s.x, N, D, s.annot, s.ratings));
    static session t;
    t = s;
    t.x[17 * D + 3] = NAN;
    ck_assert_status(btfm_reward_head_fit(h, t.x, N, D, t.annot), BTFM_E_NUMERIC);
    ck_assert_msg(strstr(btfm_last_error(), "feature 3, item 17") != NULL, "%s", btfm_last_error());
    t.x[17 * D + 3] = INFINITY;
    ck_assert_status(btfm_reward_head_predict(h, after, N * 5, t.x, N, D, t.annot, NULL),
                     BTFM_E_NUMERIC);
    const int64_t pairs[4] = {0, 1, 5, N + 3};
    ck_assert_ok(btfm_reward_head_set_pairs(h, pairs, NULL, 2));
    ck_assert_status(btfm_reward_head_fit(h, s.x, N, D, s.annot), BTFM_E_INVALID);
    ck_assert_msg(strstr(btfm_last_error(), "pairs row 1 names item 483") != NULL, "%s",
                  btfm_last_error());
    ck_assert_ok(btfm_reward_head_set_pairs(h, NULL, NULL, 0));
    for (int i = 0; i < N; i++) t.ratings[i] = isnan(s.ratings[i]) ? NAN : 4;
    ck_assert_ok(btfm_reward_head_set_ratings(h, t.ratings, NULL, N));
    ck_assert_status(btfm_reward_head_fit(h, s.x, N, D, s.annot), BTFM_E_INVALID);
    ck_assert_msg(strstr(btfm_last_error(), "single distinct rating") != NULL, "%s", btfm_last_error());
    ck_assert_ok(btfm_reward_head_set_ratings(h, s.ratings, NULL, N));
    for (int i = 0; i < N; i++) t.annot[i] = i < N / 2 ? 1 : 2;
    ck_assert_status(btfm_reward_head_fit(h, s.x, N, D, t.annot), BTFM_E_INVALID);
    ck_assert_msg(strstr(btfm_last_error(), "2 distinct annotators, fewer than the 5 folds") != NULL,
                  "%s", btfm_last_error());
    ck_assert_status(btfm_reward_head_fit(h, s.x, 0, D, s.annot), BTFM_E_INVALID);
    ck_assert_msg(strstr(btfm_last_error(), "empty session") != NULL, "%s", btfm_last_error());
    ck_assert_status(btfm_reward_head_fit(h, s.x, N - 1, D, s.annot), BTFM_E_INVALID);
    ck_assert_msg(strstr(btfm_last_error(), "ratings were given for 480 items") != NULL, "%s",
                  btfm_last_error());
    ck_assert_ok(btfm_reward_head_predict(h, after, N * 5, s.x, N, D, s.annot, s.ratings));
    ck_assert_msg(memcmp(before, after, sizeof before) == 0, "a failed fit changed the head");
    btfm_reward_head *fresh;
    ck_assert_ok(btfm_reward_head_new(&fresh, BTFM_REWARD_JOINT));
    ck_assert_status(btfm_reward_head_fit(fresh, s.x, N, D, s.annot), BTFM_E_STATE);
    ck_assert_status(btfm_reward_head_predict(fresh, after, N * 5, s.x, N, D, s.annot, NULL),
                     BTFM_E_STATE);
    ck_assert_int_eq(btfm_reward_head_is_fitted(fresh), 0);
    btfm_reward_head_free(fresh);
    btfm_reward_head_free(h);
}
END_TEST

/* Pairs alone train the decoder: Bradley-Terry on brain features orders held-out items. */
START_TEST(test_pairs_only)
{
    static session s;
    simulate(&s, 0.5, 17);
    static int64_t pairs[2 * 400];
    int n_pairs = 0;
    uint64_t r = 99;
    while (n_pairs < 400) {
        int a = (int)((r = r * 6364136223846793005ULL + 1) >> 33) % ANNOTATORS;
        int i = (int)((r = r * 6364136223846793005ULL + 1) >> 33) % ITEMS;
        int j = (int)((r = r * 6364136223846793005ULL + 1) >> 33) % ITEMS;
        if (i == j) continue;
        int better = s.latent[a * ITEMS + i] > s.latent[a * ITEMS + j];
        pairs[2 * n_pairs] = a * ITEMS + (better ? i : j);
        pairs[2 * n_pairs + 1] = a * ITEMS + (better ? j : i);
        n_pairs++;
    }
    btfm_reward_head *h;
    ck_assert_ok(btfm_reward_head_new(&h, BTFM_REWARD_BRAIN_ONLY));
    ck_assert_ok(btfm_reward_head_set_pairs(h, pairs, NULL, n_pairs));
    ck_assert_ok(btfm_reward_head_set_param(h, BTFM_REWARD_PARAM_N_ALPHAS, 5));
    ck_assert_ok(btfm_reward_head_fit(h, s.x, N, D, s.annot));
    static float out[N * 5], col[N];
    ck_assert_ok(btfm_reward_head_predict(h, out, N * 5, s.x, N, D, s.annot, NULL));
    double r2 = corr(column(out, 0, col), s.latent, N);
    ck_assert_msg(r2 > 0.6, "pairs-only r = %g", r2);
    ck_assert_status(btfm_reward_head_set_param(h, BTFM_REWARD_PARAM_MODE, 1), BTFM_OK);
    ck_assert_status(btfm_reward_head_predict(h, out, N * 5, s.x, N, D, s.annot, NULL),
                     BTFM_E_STATE);
    btfm_reward_head_free(h);
}
END_TEST

/* The embedding-to-brain encoder: features exactly linear in 2-d item embeddings, each
 * annotator on its own scale and offset, become one line after the per-annotator
 * z-scoring; the encoder must predict new items on that line (worked out here) and
 * score r = 1 on held-out items; every refused input leaves the previous fit. */
START_TEST(test_encoder_linear)
{
    enum { M = 12, A = 3, E = 2, F = 2, R = M * A };
    float emb[M * E], feat[R * F], line[M * F];
    int64_t items[R], annot[R];
    for (int m = 0; m < M; m++) {
        emb[m * E] = (float)sin(1.3 * (m + 1)), emb[m * E + 1] = (float)cos(0.7 * (m + 1));
        line[m * F] = 1.5f * emb[m * E] - 0.7f * emb[m * E + 1];
        line[m * F + 1] = 0.2f * emb[m * E] + emb[m * E + 1];
    }
    for (int a = 0; a < A; a++)
        for (int m = 0; m < M; m++) {
            const int r = a * M + m;
            items[r] = (m * 5 + a) % M, annot[r] = 10 * a;
            for (int j = 0; j < F; j++)
                feat[r * F + j] = (float)((a + 1) * line[items[r] * F + j] + 3 * a - j);
        }
    btfm_model *enc;
    ck_assert_ok(btfm_model_new(&enc, BTFM_MODEL_RIDGE));
    const double alpha = 1e-6;
    ck_assert_ok(btfm_model_set_alphas(enc, &alpha, 1));
    double r[F];
    ck_assert_ok(btfm_reward_encoder_fit(enc, r, F, emb, M, E, items, feat, R, F, annot, 4));
    ck_assert_msg(r[0] > 0.99999 && r[1] > 0.99999, "held-out r %g %g", r[0], r[1]);
    /* standardized line: z over the items (ddof 1), then over all rows */
    const float probe[2 * E] = {0.3f, -0.4f, -1.1f, 0.9f};
    float pred[2 * F];
    ck_assert_ok(btfm_model_predict(enc, pred, probe, 2, E));
    for (int j = 0; j < F; j++) {
        double mean = 0, sq = 0;
        for (int m = 0; m < M; m++) mean += line[m * F + j] / M;
        for (int m = 0; m < M; m++) sq += (line[m * F + j] - mean) * (line[m * F + j] - mean);
        const double sd = sqrt(sq / (M - 1)), overall = sqrt((double)(M - 1) * A / (R - 1));
        const double w0 = j ? 0.2 : 1.5, w1 = j ? 1.0 : -0.7;
        for (int i = 0; i < 2; i++) {
            double want = ((w0 * probe[i * E] + w1 * probe[i * E + 1]) - mean) / sd / overall;
            ck_assert_msg(fabs(pred[i * F + j] - want) < 1e-3, "item %d feature %d: %g vs %g",
                          i, j, pred[i * F + j], want);
        }
    }
    /* refused inputs, the fit kept */
    int64_t bad_items[R];
    memcpy(bad_items, items, sizeof items);
    bad_items[5] = M;
    ck_assert_status(btfm_reward_encoder_fit(enc, r, F, emb, M, E, bad_items, feat, R, F, annot, 4),
                     BTFM_E_INVALID);
    ck_assert_msg(strstr(btfm_last_error(), "items[5] is 12"), "%s", btfm_last_error());
    ck_assert_status(btfm_reward_encoder_fit(enc, r, F, emb, M, E, items, feat, R, F, annot, 2),
                     BTFM_E_INVALID);
    ck_assert_status(btfm_reward_encoder_fit(enc, r, F, emb, M, E, items, feat, R, F, annot, 13),
                     BTFM_E_INVALID);
    ck_assert_status(btfm_reward_encoder_fit(enc, r, 1, emb, M, E, items, feat, R, F, annot, 4),
                     BTFM_E_RANGE);
    float flat[R * F];
    memcpy(flat, feat, sizeof feat);
    for (int i = 0; i < R; i++) flat[i * F + 1] = (float)annot[i];
    ck_assert_status(btfm_reward_encoder_fit(enc, r, F, emb, M, E, items, flat, R, F, annot, 4),
                     BTFM_E_INVALID);
    ck_assert_msg(strstr(btfm_last_error(), "feature 1 is constant"), "%s", btfm_last_error());
    flat[7] = NAN;
    ck_assert_status(btfm_reward_encoder_fit(enc, r, F, emb, M, E, items, flat, R, F, annot, 4),
                     BTFM_E_NUMERIC);
    float again[2 * F];
    ck_assert_ok(btfm_model_predict(enc, again, probe, 2, E));
    ck_assert(memcmp(again, pred, sizeof pred) == 0);
    btfm_model *logit;
    ck_assert_ok(btfm_model_new(&logit, BTFM_MODEL_LOGISTIC));
    ck_assert_status(btfm_reward_encoder_fit(logit, r, F, emb, M, E, items, feat, R, F, annot, 4),
                     BTFM_E_INVALID);
    btfm_model_free(logit);
    btfm_model_free(enc);
}
END_TEST

static Suite *reward_suite(void)
{
    Suite *s = suite_create("reward");
    TCase *tc = tcase_create("head");
    unit_set_timeout(tc, 3.0);
    tcase_add_test(tc, test_ratings_only_closed_form);
    tcase_add_test(tc, test_decoder_normal_equations);
    tcase_add_test(tc, test_modes_on_simulation);
    tcase_add_test(tc, test_unseen_annotators);
    tcase_add_test(tc, test_metrics_by_hand);
    tcase_add_test(tc, test_save_load);
    tcase_add_test(tc, test_bad_input);
    tcase_add_test(tc, test_pairs_only);
    tcase_add_test(tc, test_encoder_linear);
    suite_add_tcase(s, tc);
    return s;
}

BTFM_UNIT_MAIN(reward_suite)
