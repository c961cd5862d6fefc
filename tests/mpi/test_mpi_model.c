/* Distributed ridge against the single-process fit of the same targets: run under mpirun
 * with any number of ranks (also more ranks than targets); each rank holds a contiguous
 * block of the targets and the whole design. Primal and dual routes, leave-one-out and
 * K-fold selection. Also: one rank's bad targets reach every rank as an error and leave
 * every model as it was; settings that differ between ranks are refused on every rank.
 * The design is decomposed on one rank only: its failure reaches every rank. Every
 * target's cross-validation scores gathered on every rank equal the one-process ones.
 * Exit status 0 when every rank passed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <btfm/btfm.h>
#include <btfm/mpi.h>
#include "mpi_expect.h"

enum { N = 37, MAX_P = 53, MAX_T = 7 };

static float x[N * MAX_P], y[N * MAX_T];
static unsigned long long state = 88172645463325252ull;

static double uniform(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (double)(state >> 11) / 9007199254740992.0;
}

/* y = x b + noise with a different signal-to-noise ratio per target, so that the
 * targets choose different alphas. */
static void simulate(int64_t p, int64_t t)
{
    for (int64_t i = 0; i < N * p; i++) x[i] = (float)(2 * uniform() - 1);
    for (int64_t j = 0; j < t; j++) {
        double b[MAX_P];
        for (int64_t f = 0; f < p; f++) b[f] = 2 * uniform() - 1;
        const double noise = 0.2 + 1.5 * (double)j;
        for (int64_t i = 0; i < N; i++) {
            double s = 0.3 * (double)j;
            for (int64_t f = 0; f < p; f++) s += x[i * p + f] * b[f];
            y[i * t + j] = (float)(s + noise * (2 * uniform() - 1));
        }
    }
}

static btfm_model *new_model(int cv)
{
    static const double alphas[] = {0.01, 0.3, 3, 30, 300};
    btfm_model *m = NULL;
    btfm_model_new(&m, BTFM_MODEL_RIDGE);
    btfm_model_set_alphas(m, alphas, 5);
    btfm_model_set_param(m, BTFM_MODEL_PARAM_CV, cv);
    return m;
}

/* Target j of t lives on rank r's contiguous block, some ranks empty when t < size. */
static void block(int64_t t, int r, int64_t *first, int64_t *count)
{
    *first = t * r / size;
    *count = t * (r + 1) / size - *first;
}

/* max |a - b| over this rank's columns [first, first + count) of the reference's
 * rows x t matrix, relative to the largest |reference| there */
static double rel_block(const double *mine, const double *ref, int64_t rows, int64_t t,
                        int64_t first, int64_t count)
{
    double d = 0, m = 1e-30;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < count; j++) {
            const double a = mine[r * count + j], b = ref[r * t + first + j];
            if (fabs(a - b) > d) d = fabs(a - b);
            if (fabs(b) > m) m = fabs(b);
        }
    return d / m;
}

static void check_fit(int64_t p, int64_t t, int cv)
{
    simulate(p, t);
    btfm_model *ref = new_model(cv), *dist = new_model(cv);
    EXPECT(btfm_model_fit(ref, x, N, p, y, t) == BTFM_OK, "reference: %s", btfm_last_error());
    int64_t first, count;
    block(t, rank, &first, &count);
    float *mine = malloc((size_t)(N * (count ? count : 1)) * sizeof *mine);
    for (int64_t i = 0; i < N; i++)
        for (int64_t j = 0; j < count; j++) mine[i * count + j] = y[i * t + first + j];
    btfm_status st = btfm_model_fit_mpi(dist, x, N, p, count ? mine : NULL, count,
                                        MPI_COMM_WORLD);
    EXPECT(st == BTFM_OK, "p %lld t %lld cv %d: %s", (long long)p, (long long)t, cv,
           btfm_last_error());
    EXPECT(btfm_model_is_fitted(dist) == (count > 0), "fitted %d with %lld targets",
           btfm_model_is_fitted(dist), (long long)count);
    /* predictions on new inputs, intercepts, alphas and cross-validation scores */
    enum { M = 11 };
    float xn[M * MAX_P], pr[M * MAX_T], pd[M * MAX_T];
    for (int64_t i = 0; i < M * p; i++) xn[i] = (float)(2 * uniform() - 1);
    if (!st && count > 0) {
        btfm_model_predict(ref, pr, xn, M, p);
        btfm_model_predict(dist, pd, xn, M, p);
        double a[M * MAX_T], b[M * MAX_T];
        for (int64_t i = 0; i < M * t; i++) b[i] = pr[i];
        for (int64_t i = 0; i < M * count; i++) a[i] = pd[i];
        double e = rel_block(a, b, M, t, first, count);
        EXPECT(e < 1e-5, "p %lld cv %d: predictions differ by %g", (long long)p, cv, e);
        btfm_model_intercept(ref, b, MAX_T);
        btfm_model_intercept(dist, a, MAX_T);
        e = rel_block(a, b, 1, t, first, count);
        EXPECT(e < 1e-5, "p %lld cv %d: intercepts differ by %g", (long long)p, cv, e);
        btfm_model_alpha(ref, b, MAX_T);
        btfm_model_alpha(dist, a, MAX_T);
        e = rel_block(a, b, 1, t, first, count);
        EXPECT(e == 0, "p %lld cv %d: alphas differ by %g", (long long)p, cv, e);
        btfm_model_cv_scores(ref, b, 5 * MAX_T);
        btfm_model_cv_scores(dist, a, 5 * MAX_T);
        e = rel_block(a, b, 5, t, first, count);
        EXPECT(e < 1e-5, "p %lld cv %d: cv scores differ by %g", (long long)p, cv, e);
    }
    /* every target's scores on every rank, also on ranks without targets */
    double all[5 * MAX_T], one[5 * MAX_T];
    st = btfm_model_cv_scores_mpi(dist, all, 5 * (size_t)t, MPI_COMM_WORLD);
    EXPECT(st == BTFM_OK, "p %lld cv %d: gathering scores: %s", (long long)p, cv,
           btfm_last_error());
    btfm_model_cv_scores(ref, one, 5 * MAX_T);
    const double e = st ? 1 : rel_block(all, one, 5, t, 0, t);
    EXPECT(e < 1e-5, "p %lld cv %d: gathered cv scores differ by %g", (long long)p, cv, e);
    st = btfm_model_cv_scores_mpi(dist, all, 5 * (size_t)t - 1, MPI_COMM_WORLD);
    EXPECT(st == BTFM_E_RANGE, "gathering into too small a buffer: status %d", st);
    /* the truth's alphas are not all equal, so selection is exercised */
    double alpha[MAX_T];
    btfm_model_alpha(ref, alpha, MAX_T);
    int distinct = 0;
    for (int64_t j = 1; j < t; j++) distinct += alpha[j] != alpha[0];
    EXPECT(distinct > 0, "p %lld cv %d: every target chose alpha %g", (long long)p, cv,
           alpha[0]);
    free(mine);
    btfm_model_free(ref);
    btfm_model_free(dist);
}

/* The last rank (rank 0 alone) gives a constant target: it fails with BTFM_E_INVALID, the
 * others with BTFM_E_REMOTE, and every earlier fit stays. */
static void check_failure(void)
{
    const int64_t p = 5, t = 2;
    simulate(p, t);
    btfm_model *m = new_model(0);
    EXPECT(btfm_model_fit_mpi(m, x, N, p, y, t, MPI_COMM_WORLD) == BTFM_OK, "first fit: %s",
           btfm_last_error());
    float before[5 * 2], after[5 * 2];
    btfm_model_coef(m, before, 10);
    const int bad = size - 1;
    if (rank == bad)
        for (int64_t i = 0; i < N; i++) y[i * t + 1] = 2.5f;
    for (int64_t i = 0; i < N * t; i++) y[i] *= 3; /* a fit that would change the model */
    btfm_status st = btfm_model_fit_mpi(m, x, N, p, y, t, MPI_COMM_WORLD);
    EXPECT(st == (rank == bad ? BTFM_E_INVALID : BTFM_E_REMOTE), "status %d: %s", st,
           btfm_last_error());
    if (rank != bad)
        EXPECT(strstr(btfm_last_error(), "constant") != NULL, "message: %s", btfm_last_error());
    btfm_model_coef(m, after, 10);
    EXPECT(memcmp(before, after, sizeof before) == 0, "the model changed after a failure");
    /* settings that differ: every rank refuses */
    btfm_model_set_param(m, BTFM_MODEL_PARAM_SEED, rank == bad ? 1 : 0);
    simulate(p, t);
    st = btfm_model_fit_mpi(m, x, N, p, y, t, MPI_COMM_WORLD);
    EXPECT(st == (size > 1 ? BTFM_E_INVALID : BTFM_OK), "different seed: status %d", st);
    if (size > 1)
        EXPECT(strstr(btfm_last_error(), "seed") != NULL, "message: %s", btfm_last_error());
    btfm_model_set_param(m, BTFM_MODEL_PARAM_SEED, 0);
    /* a design that differs on one rank: every rank refuses */
    const float keep = x[7];
    if (rank == bad) x[7] += 0.5f;
    st = btfm_model_fit_mpi(m, x, N, p, y, t, MPI_COMM_WORLD);
    x[7] = keep;
    EXPECT(st == (size > 1 ? BTFM_E_INVALID : BTFM_OK), "different x: status %d", st);
    if (size > 1)
        EXPECT(strstr(btfm_last_error(), "design's contents") != NULL, "message: %s",
               btfm_last_error());
    btfm_model_set_param(m, BTFM_MODEL_PARAM_ALPHA_PER_TARGET, 0);
    st = btfm_model_fit_mpi(m, x, N, p, y, t, MPI_COMM_WORLD);
    EXPECT(st == BTFM_E_UNSUPPORTED, "one shared alpha: status %d", st);
    btfm_model_free(m);
}

/* Only the first rank holding targets decomposes the design. Weights of 1e300 on values
 * of 1e30 overflow its Gram matrix (the one-process fit fails with BTFM_E_NUMERIC on the
 * same input): that rank returns BTFM_E_NUMERIC, every other one BTFM_E_REMOTE with its
 * message, and every model keeps its earlier fit (and its gathered scores). */
static void check_decomposition_failure(int64_t p)
{
    const int64_t t = 2;
    simulate(p, t);
    int64_t first, count;
    block(t, rank, &first, &count);
    float mine[N * 2];
    for (int64_t i = 0; i < N; i++)
        for (int64_t j = 0; j < count; j++) mine[i * count + j] = y[i * t + first + j];
    btfm_model *m = new_model(0);
    btfm_status st = btfm_model_fit_mpi(m, x, N, p, count ? mine : NULL, count, MPI_COMM_WORLD);
    EXPECT(st == BTFM_OK, "p %lld: first fit: %s", (long long)p, btfm_last_error());
    double before[5 * 2], after[5 * 2];
    EXPECT(btfm_model_cv_scores_mpi(m, before, 10, MPI_COMM_WORLD) == BTFM_OK, "scores: %s",
           btfm_last_error());
    float pb[N * 2] = {0}, pa[N * 2] = {0};
    if (count) btfm_model_predict(m, pb, x, N, p);
    double w[N];
    for (int64_t i = 0; i < N; i++) w[i] = 1e300;
    static float big[N * MAX_P];
    for (int64_t i = 0; i < N * p; i++) big[i] = x[i] * 1e30f;
    btfm_model_set_sample_weight(m, w, N);
    btfm_model *ref = new_model(0);
    btfm_model_set_sample_weight(ref, w, N);
    EXPECT(btfm_model_fit(ref, big, N, p, y, t) == BTFM_E_NUMERIC, "one process: %s",
           btfm_last_error());
    int computing = 0; /* the first rank holding targets */
    for (int r = size - 1; r >= 0; r--) {
        int64_t f, c;
        block(t, r, &f, &c);
        if (c) computing = r;
    }
    st = btfm_model_fit_mpi(m, big, N, p, count ? mine : NULL, count, MPI_COMM_WORLD);
    EXPECT(st == (rank == computing ? BTFM_E_NUMERIC : BTFM_E_REMOTE), "p %lld: status %d: %s",
           (long long)p, st, btfm_last_error());
    EXPECT(strstr(btfm_last_error(), "eigenproblem") != NULL, "message: %s", btfm_last_error());
    if (count) btfm_model_predict(m, pa, x, N, p);
    EXPECT(memcmp(pa, pb, sizeof pa) == 0, "p %lld: the model changed after a failure",
           (long long)p);
    EXPECT(btfm_model_cv_scores_mpi(m, after, 10, MPI_COMM_WORLD) == BTFM_OK &&
               memcmp(before, after, sizeof before) == 0,
           "p %lld: the gathered scores changed after a failure", (long long)p);
    btfm_model_free(ref);
    btfm_model_free(m);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    check_fit(11, 3, 0);  /* primal, leave-one-out; 4 ranks: one without targets */
    check_fit(11, 7, 5);  /* primal, 5 folds */
    check_fit(53, 3, 0);  /* dual (features > samples), leave-one-out */
    check_fit(53, 7, 4);  /* dual, 4 folds */
    check_failure();
    check_decomposition_failure(5);  /* primal */
    check_decomposition_failure(41); /* dual */
    const int all = mpi_failures();
    if (rank == 0) printf("%s: %d failure(s) over %d rank(s)\n", argv[0], all, size);
    MPI_Finalize();
    return all != 0;
}
