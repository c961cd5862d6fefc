/* Distributed SRM and hyperalignment fits against the single-process fit of the same
 * subjects: run under mpirun with any number of ranks (also more ranks than subjects);
 * each rank holds a contiguous block of the simulated subjects (align_sim.h). Also: one
 * rank's bad input reaches every rank as an error instead of a hang, and so does a cancel
 * on one rank.
 * Exit status 0 when every rank passed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <btfm/btfm.h>
#include <btfm/mpi.h>
#include "mpi_expect.h"
#include "align_sim.h"

enum { T = 41, K = 4, MAX_SUBJECTS = 7 };

/* N subjects of T time points, subject i with 23 + 3 i features (prime, odd, even). */
static float *subjects[MAX_SUBJECTS];
static int64_t features[MAX_SUBJECTS];

static void simulate(int n)
{
    double s[T * K], w[64 * K];
    sim_state = 2027;
    sim_shared(s, T, K);
    for (int i = 0; i < n; i++) {
        features[i] = 23 + 3 * i;
        subjects[i] = malloc((size_t)(T * features[i]) * sizeof(float));
        sim_layout(w, features[i], K);
        sim_subject(subjects[i], s, w, T, features[i], K, 1.0, 0.5);
    }
}

static btfm_aligner *new_aligner(int method)
{
    btfm_aligner *a = NULL;
    btfm_aligner_new(&a, method);
    btfm_aligner_set_param(a, BTFM_ALIGNER_PARAM_N_FEATURES, K);
    btfm_aligner_set_param(a, BTFM_ALIGNER_PARAM_TOL, 0); /* a fixed number of iterations */
    btfm_aligner_set_param(a, BTFM_ALIGNER_PARAM_MAX_ITER, 25);
    btfm_aligner_set_param(a, BTFM_ALIGNER_PARAM_SEED, 7);
    return a;
}

/* max |x - y| / max |y| */
static double rel_diff(const float *x, const float *y, int64_t n)
{
    double d = 0, m = 0;
    for (int64_t j = 0; j < n; j++) {
        if (fabs(x[j] - y[j]) > d) d = fabs(x[j] - y[j]);
        if (fabs(y[j]) > m) m = fabs(y[j]);
    }
    return d / m;
}

/* Subject i of n lives on rank owner(i): contiguous blocks, some ranks empty when n < size. */
static void block(int n, int r, int *first, int *count)
{
    *first = (int)((long)n * r / size);
    *count = (int)((long)n * (r + 1) / size) - *first;
}

/* The objective after each iteration, as the single-process fit's (on every rank, also
 * one without subjects, and after the gather, which rebuilds rank 0's aligner). */
static void check_history(btfm_aligner *ref, btfm_aligner *dist, const char *when)
{
    double h_ref[32], h_dist[32];
    int n_ref = -1, n_dist = -2;
    btfm_aligner_fit_history(ref, h_ref, 32, &n_ref);
    EXPECT(btfm_aligner_fit_history(dist, h_dist, 32, &n_dist) == BTFM_OK, "%s: %s", when,
           btfm_last_error());
    /* SRMs run a fixed 25 iterations; hyperalignment iterates nothing */
    const int want = btfm_aligner_method(ref) == BTFM_ALIGN_HYPERALIGNMENT ? 0 : 25;
    EXPECT(n_ref == want && n_dist == n_ref, "%s: %d iterations in the history, expected %d "
           "(%d)", when, n_dist, n_ref, want);
    for (int i = 0; i < n_ref && i < n_dist && i < 32; i++)
        EXPECT(fabs(h_dist[i] - h_ref[i]) <= 1e-5 * fabs(h_ref[i]),
               "%s: objective after iteration %d: %.9g, expected %.9g", when, i + 1, h_dist[i],
               h_ref[i]);
}

static void check_fit(int method, int n)
{
    btfm_aligner *ref = new_aligner(method), *dist = new_aligner(method);
    for (int i = 0; i < n; i++) btfm_aligner_add_subject(ref, subjects[i], T, features[i]);
    EXPECT(btfm_aligner_fit(ref) == BTFM_OK, "reference fit: %s", btfm_last_error());
    int first, count;
    block(n, rank, &first, &count);
    for (int i = 0; i < count; i++)
        btfm_aligner_add_subject(dist, subjects[first + i], T, features[first + i]);
    btfm_status st = btfm_aligner_fit_mpi(dist, MPI_COMM_WORLD);
    EXPECT(st == BTFM_OK, "method %d, %d subjects: %s", method, n, btfm_last_error());
    if (st == BTFM_OK) {
        float c_ref[T * K], c_dist[T * K], y_ref[T * K], y_dist[T * K];
        int iter_ref, iter_dist, local = -1;
        double obj_ref, obj_dist;
        btfm_aligner_common(ref, c_ref, sizeof c_ref / sizeof *c_ref);
        btfm_aligner_common(dist, c_dist, sizeof c_dist / sizeof *c_dist);
        btfm_aligner_fit_info(ref, &iter_ref, &obj_ref);
        btfm_aligner_fit_info(dist, &iter_dist, &obj_dist);
        btfm_aligner_n_subjects(dist, &local);
        EXPECT(local == count, "%d local subjects, expected %d", local, count);
        EXPECT(iter_ref == iter_dist, "iterations %d and %d", iter_dist, iter_ref);
        EXPECT(fabs(obj_ref - obj_dist) <= 1e-5 * fabs(obj_ref), "objective %.9g vs %.9g",
               obj_dist, obj_ref);
        check_history(ref, dist, "distributed fit");
        double d = rel_diff(c_dist, c_ref, T * K);
        EXPECT(d <= 1e-5, "method %d, %d subjects on %d ranks: shared response differs by %g",
               method, n, size, d);
        for (int i = 0; i < count; i++) {
            const int g = first + i;
            btfm_aligner_transform(ref, g, subjects[g], T, features[g], y_ref);
            btfm_aligner_transform(dist, i, subjects[g], T, features[g], y_dist);
            d = rel_diff(y_dist, y_ref, T * K);
            EXPECT(d <= 1e-5, "method %d: subject %d's map differs by %g", method, g, d);
        }
        /* every map on rank 0, in global order */
        st = btfm_aligner_gather_mpi(dist, 0, MPI_COMM_WORLD);
        EXPECT(st == BTFM_OK, "gather: %s", btfm_last_error());
        btfm_aligner_n_subjects(dist, &local);
        EXPECT(local == (rank == 0 ? n : count), "%d subjects after the gather", local);
        if (st == BTFM_OK && rank == 0) check_history(ref, dist, "gathered fit");
        for (int g = 0; rank == 0 && st == BTFM_OK && g < n; g++) {
            btfm_aligner_transform(ref, g, subjects[g], T, features[g], y_ref);
            EXPECT(btfm_aligner_transform(dist, g, subjects[g], T, features[g], y_dist) ==
                   BTFM_OK, "%s", btfm_last_error());
            d = rel_diff(y_dist, y_ref, T * K);
            EXPECT(d <= 1e-5, "gathered subject %d's map differs by %g", g, d);
        }
    }
    btfm_aligner_free(ref);
    btfm_aligner_free(dist);
}

/* The last rank's aligner is already fitted: it returns BTFM_E_STATE, every other rank
 * BTFM_E_REMOTE with its message, and nobody waits forever. */
static void check_one_rank_fails(void)
{
    const int bad = size - 1;
    btfm_aligner *a = new_aligner(BTFM_ALIGN_SRM);
    int first, count;
    block(4, rank, &first, &count);
    for (int i = 0; i < count; i++)
        btfm_aligner_add_subject(a, subjects[first + i], T, features[first + i]);
    if (rank == bad) { /* fitted alone beforehand */
        btfm_aligner_add_subject(a, subjects[5], T, features[5]);
        btfm_aligner_add_subject(a, subjects[6], T, features[6]);
        btfm_aligner_fit(a);
    }
    btfm_status st = btfm_aligner_fit_mpi(a, MPI_COMM_WORLD);
    const char *msg = btfm_last_error();
    if (rank == bad) {
        EXPECT(st == BTFM_E_STATE, "the failing rank returned %d", st);
        EXPECT(strstr(msg, "already fitted") != NULL, "message: %s", msg);
    } else {
        char expect[64];
        snprintf(expect, sizeof expect, "rank %d of %d failed with BTFM_E_STATE", bad, size);
        EXPECT(st == BTFM_E_REMOTE, "another rank returned %d", st);
        EXPECT(strstr(msg, expect) && strstr(msg, "already fitted"), "message: %s", msg);
        EXPECT(!btfm_aligner_is_fitted(a), "a failed fit left the aligner fitted");
    }
    btfm_aligner_free(a);

    /* Parameters that differ between ranks: the same error on every rank. */
    a = new_aligner(BTFM_ALIGN_PROBABILISTIC_SRM);
    block(4, rank, &first, &count);
    for (int i = 0; i < count; i++)
        btfm_aligner_add_subject(a, subjects[first + i], T, features[first + i]);
    if (rank == bad && size > 1) btfm_aligner_set_param(a, BTFM_ALIGNER_PARAM_SEED, 8);
    st = btfm_aligner_fit_mpi(a, MPI_COMM_WORLD);
    if (size > 1) {
        EXPECT(st == BTFM_E_INVALID, "different seeds: status %d", st);
        EXPECT(strstr(btfm_last_error(), "parameter seed is 7 on one rank and 8 on another"),
               "message: %s", btfm_last_error());
    }
    btfm_aligner_free(a);

}

/* A progress callback that cancels at its cancel_at-th call. */
static int cancel_at(const char *stage, double fraction, void *user)
{
    (void)stage, (void)fraction;
    int *left = user;
    return --*left == 0;
}

/* The last rank's host cancels the fit at its callback's `at`-th call (1: the start, 2:
 * the first iteration): that rank returns BTFM_E_CANCELLED, every other rank
 * BTFM_E_REMOTE naming it, nobody waits forever, and every handle is left as it was, so
 * the same handles fitted again give the single-process fit. */
static void check_cancel_on_one_rank(int method, int at)
{
    const int bad = size - 1, n = 4;
    btfm_aligner *ref = new_aligner(method), *a = new_aligner(method);
    for (int i = 0; i < n; i++) btfm_aligner_add_subject(ref, subjects[i], T, features[i]);
    EXPECT(btfm_aligner_fit(ref) == BTFM_OK, "reference fit: %s", btfm_last_error());
    int first, count, left = at;
    block(n, rank, &first, &count);
    for (int i = 0; i < count; i++)
        btfm_aligner_add_subject(a, subjects[first + i], T, features[first + i]);
    if (rank == bad) btfm_aligner_set_progress(a, cancel_at, &left);
    btfm_status st = btfm_aligner_fit_mpi(a, MPI_COMM_WORLD);
    const char *msg = btfm_last_error();
    if (rank == bad) {
        EXPECT(st == BTFM_E_CANCELLED, "cancel at call %d: the cancelling rank returned %d",
               at, st);
    } else {
        char expect[64];
        snprintf(expect, sizeof expect, "rank %d of %d failed with BTFM_E_CANCELLED", bad, size);
        EXPECT(st == BTFM_E_REMOTE, "cancel at call %d: another rank returned %d", at, st);
        EXPECT(strstr(msg, expect) != NULL, "message: %s", msg);
    }
    int local = -1;
    btfm_aligner_n_subjects(a, &local);
    EXPECT(!btfm_aligner_is_fitted(a) && local == count,
           "a cancelled fit changed the aligner (fitted %d, %d subjects)",
           btfm_aligner_is_fitted(a), local);
    btfm_aligner_set_progress(a, NULL, NULL);
    st = btfm_aligner_fit_mpi(a, MPI_COMM_WORLD);
    EXPECT(st == BTFM_OK, "the fit after a cancel: %s", btfm_last_error());
    if (st == BTFM_OK) {
        float c_ref[T * K], c_dist[T * K];
        btfm_aligner_common(ref, c_ref, sizeof c_ref / sizeof *c_ref);
        btfm_aligner_common(a, c_dist, sizeof c_dist / sizeof *c_dist);
        const double d = rel_diff(c_dist, c_ref, T * K);
        EXPECT(d <= 1e-5, "after a cancel at call %d the shared response differs by %g", at, d);
    }
    btfm_aligner_free(ref);
    btfm_aligner_free(a);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    simulate(MAX_SUBJECTS);
    EXPECT(strstr(btfm_capabilities(), " mpi") != NULL, "capabilities: %s", btfm_capabilities());
    check_one_rank_fails();
    for (int at = 1; at <= 2; at++) {
        check_cancel_on_one_rank(BTFM_ALIGN_SRM, at);
        check_cancel_on_one_rank(BTFM_ALIGN_PROBABILISTIC_SRM, at);
    }
    for (int method = BTFM_ALIGN_SRM; method <= BTFM_ALIGN_PROBABILISTIC_SRM; method++) {
        check_fit(method, 5);
        check_fit(method, 2); /* fewer subjects than ranks with 3 or 4 ranks */
    }
    /* Hyperalignment: the reference (most features) is the last subject, on the last
     * rank; with 7 subjects it has T = V features, so level 1 takes the T x T route. */
    check_fit(BTFM_ALIGN_HYPERALIGNMENT, 5);
    check_fit(BTFM_ALIGN_HYPERALIGNMENT, 2);
    check_fit(BTFM_ALIGN_HYPERALIGNMENT, 7);
    const int all = mpi_failures();
    if (rank == 0) printf("%d ranks: %s (%d failed checks)\n", size, all ? "FAIL" : "OK", all);
    for (int i = 0; i < MAX_SUBJECTS; i++) free(subjects[i]);
    MPI_Finalize();
    return all ? 1 : 0;
}
