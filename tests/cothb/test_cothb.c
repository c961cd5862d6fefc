/* The CoTHB controller: protocol, policy regions, inference, budgets, bad input. Every
 * expected action below follows from the documented policy (doc/cothb.md) applied by
 * hand to the signals the test gives. */
#include <math.h>
#include "unit.h"
#include "container_edit.h"
#include "cothb/cothb_internal.h" /* btfm_cothb_signal_dprime, btfm_cothb_plan_step */

static btfm_cothb *make(void)
{
    btfm_cothb *c = NULL;
    ck_assert_ok(btfm_cothb_new(&c));
    return c;
}

/* The thresholds policy with release 1.2's breadth, which the tests of that policy
 * work through by hand. */
static btfm_cothb *make_legacy(void)
{
    btfm_cothb *c = make();
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_POLICY, 0));
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MAX_BREADTH, 4));
    return c;
}

/* next() must return `action` at `node`; returns the target. */
static int64_t expect(btfm_cothb *c, int action, int64_t node)
{
    int a = 0;
    int64_t n = -2, t = -2;
    ck_assert_ok(btfm_cothb_next(c, &a, &n, &t));
    ck_assert_msg(a == action && n == node, "expected %s at %lld, got %s at %lld",
                  btfm_cothb_action_name(action), (long long)node, btfm_cothb_action_name(a),
                  (long long)n);
    return t;
}

/* Add the pending node under `parent` and observe reliability r (and terminal). */
static int64_t grow(btfm_cothb *c, int64_t parent, double r, int terminal)
{
    int64_t id = -1;
    ck_assert_ok(btfm_cothb_add_node(c, parent, &id));
    double s[7] = {r, NAN, NAN, NAN, NAN, NAN, terminal ? 1.0 : NAN};
    ck_assert_ok(btfm_cothb_observe(c, id, s, 7));
    return id;
}

static int status_of(btfm_cothb *c, int64_t id)
{
    int st = -1;
    ck_assert_ok(btfm_cothb_node_info(c, id, NULL, NULL, &st, NULL, NULL));
    return st;
}

START_TEST(names_and_sizes)
{
    ck_assert_str_eq(btfm_cothb_action_name(BTFM_COTHB_DECOMPOSE), "decompose");
    ck_assert_ptr_null(btfm_cothb_action_name(0));
    ck_assert_ptr_null(btfm_cothb_action_name(9));
    ck_assert_str_eq(btfm_cothb_signal_name(BTFM_COTHB_SIGNAL_OUTCOME), "outcome");
    ck_assert_str_eq(btfm_cothb_status_name(BTFM_COTHB_MONITORED), "monitored");
    ck_assert_str_eq(btfm_cothb_decision_name(BTFM_COTHB_DECISION_EXPLORE), "explore");
    ck_assert_int_eq(btfm_cothb_n_signals(), BTFM_COTHB_SIGNAL_PATH + 1);
    ck_assert_str_eq(btfm_cothb_signal_name(BTFM_COTHB_SIGNAL_PATH), "path");
    ck_assert_uint_le(btfm_cothb_node_bytes(), 256);
    ck_assert_int_eq(btfm_param_count(BTFM_OBJECT_COTHB), BTFM_COTHB_PARAM_MIN_DPRIME + 1);
    ck_assert_str_eq(btfm_object_kind_name(BTFM_OBJECT_COTHB), "cothb");
    ck_assert(btfm_has_capability("cothb"));
}
END_TEST

/* A reliable chain is followed to its terminal node and answered. */
START_TEST(reliable_chain_is_answered)
{
    btfm_cothb *c = make_legacy();
    int64_t n = 0;
    for (int d = 1; d <= 3; d++) {
        expect(c, BTFM_COTHB_EXTEND, n);
        n = grow(c, n, 0.9, d == 3);
    }
    expect(c, BTFM_COTHB_ANSWER, n);
    ck_assert_int_eq(status_of(c, n), BTFM_COTHB_ANSWERED);
    ck_assert_int_eq(status_of(c, 1), BTFM_COTHB_CONFIRMED);
    int64_t cur, steps;
    double cost;
    ck_assert_ok(btfm_cothb_progress(c, &cur, &steps, &cost));
    ck_assert_int_eq(steps, 4);
    ck_assert_double_eq(cost, 3); /* three extends at cost 1, the answer is free */
    int a;
    int64_t node;
    ck_assert_status(btfm_cothb_next(c, &a, &node, NULL), BTFM_E_STATE);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "the search is over"));
    btfm_cothb_free(c);
}
END_TEST

/* Intermediate reliability opens a sub-problem; its result settles the step. */
START_TEST(intermediate_step_is_decomposed_and_returned)
{
    btfm_cothb *c = make_legacy();
    expect(c, BTFM_COTHB_EXTEND, 0);
    int64_t a = grow(c, 0, 0.5, 0);
    expect(c, BTFM_COTHB_DECOMPOSE, a);
    int64_t s1 = grow(c, a, 0.9, 0);
    int level = -1;
    ck_assert_ok(btfm_cothb_node_info(c, s1, NULL, &level, NULL, NULL, NULL));
    ck_assert_int_eq(level, 1);
    expect(c, BTFM_COTHB_EXTEND, s1);
    int64_t s2 = grow(c, s1, 0.85, 1);
    ck_assert_int_eq(expect(c, BTFM_COTHB_RETURN, s2), a);
    double r;
    ck_assert_ok(btfm_cothb_reliability(c, a, &r));
    ck_assert_double_eq(r, 0.85); /* the sub-problem's result replaces the 0.5 */
    expect(c, BTFM_COTHB_EXTEND, a);
    btfm_cothb_free(c);
}
END_TEST

/* Low reliability: branch from the parent; a reliable alternative is confirmed. */
START_TEST(unreliable_step_branches_then_confirms)
{
    btfm_cothb *c = make_legacy();
    expect(c, BTFM_COTHB_EXTEND, 0);
    int64_t a = grow(c, 0, 0.9, 0);
    expect(c, BTFM_COTHB_EXTEND, a);
    int64_t bad = grow(c, a, 0.1, 0);
    ck_assert_int_eq(expect(c, BTFM_COTHB_BRANCH, a), bad);
    ck_assert_int_eq(status_of(c, bad), BTFM_COTHB_MONITORED);
    int64_t alt = grow(c, a, 0.95, 0);
    ck_assert_int_eq(expect(c, BTFM_COTHB_CONFIRM, alt), bad);
    expect(c, BTFM_COTHB_EXTEND, alt);
    btfm_cothb_free(c);
}
END_TEST

/* A monitored path that becomes reliable again is retrieved when the current fails. */
START_TEST(monitored_path_is_retrieved)
{
    btfm_cothb *c = make_legacy();
    expect(c, BTFM_COTHB_EXTEND, 0);
    int64_t a = grow(c, 0, 0.9, 0);
    expect(c, BTFM_COTHB_EXTEND, a);
    int64_t b = grow(c, a, 0.2, 0);
    expect(c, BTFM_COTHB_BRANCH, a);
    int64_t alt = grow(c, a, 0.25, 0);
    /* New evidence about b: reliable after all. */
    double s[1] = {0.8};
    ck_assert_ok(btfm_cothb_observe(c, b, s, 1));
    ck_assert_int_eq(expect(c, BTFM_COTHB_RETRIEVE, b), alt);
    ck_assert_int_eq(status_of(c, b), BTFM_COTHB_CURRENT);
    ck_assert_int_eq(status_of(c, alt), BTFM_COTHB_MONITORED);
    expect(c, BTFM_COTHB_EXTEND, b);
    btfm_cothb_free(c);
}
END_TEST

/* Hysteresis: 0.68 keeps a continuing path going (0.7 - 0.05) but is not enough to
 * start continuing from the decompose region. */
START_TEST(hysteresis_keeps_the_region)
{
    btfm_cothb *c = make_legacy();
    expect(c, BTFM_COTHB_EXTEND, 0);
    int64_t a = grow(c, 0, 0.9, 0);
    expect(c, BTFM_COTHB_EXTEND, a);
    int64_t b = grow(c, a, 0.68, 0);
    expect(c, BTFM_COTHB_EXTEND, b);
    btfm_cothb_free(c);

    c = make_legacy();
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MAX_LEVELS, 1));
    expect(c, BTFM_COTHB_EXTEND, 0);
    a = grow(c, 0, 0.5, 0);
    expect(c, BTFM_COTHB_EXTEND, a); /* decompose region, decomposition disabled */
    b = grow(c, a, 0.68, 0);
    expect(c, BTFM_COTHB_EXTEND, b);
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MAX_LEVELS, 2));
    int64_t d = grow(c, b, 0.68, 0);
    expect(c, BTFM_COTHB_DECOMPOSE, d);
    btfm_cothb_free(c);
}
END_TEST

/* Beta posterior: Beta(a0 + sum o, b0 + sum (1 - o)), mean a / (a + b). */
START_TEST(outcomes_update_the_beta_posterior)
{
    btfm_cothb *c = make_legacy();
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_PRIOR_SUCCESS, 2));
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_PRIOR_FAILURE, 3));
    expect(c, BTFM_COTHB_EXTEND, 0);
    int64_t id;
    ck_assert_ok(btfm_cothb_add_node(c, 0, &id));
    const double outcomes[] = {1, 1, 0, 0.5, 1};
    for (int i = 0; i < 5; i++) {
        double s[6] = {NAN, NAN, NAN, NAN, NAN, outcomes[i]};
        ck_assert_ok(btfm_cothb_observe(c, id, s, 6));
    }
    double a, b, r;
    ck_assert_ok(btfm_cothb_posterior(c, id, &a, &b));
    ck_assert_double_eq_tol(a, 2 + 3.5, 1e-15);
    ck_assert_double_eq_tol(b, 3 + 1.5, 1e-15);
    ck_assert_ok(btfm_cothb_reliability(c, id, &r));
    ck_assert_double_eq_tol(r, 5.5 / 10, 1e-15);
    /* Continuing needs 0.7: with 5.5/10 the step is decomposed. */
    expect(c, BTFM_COTHB_DECOMPOSE, id);
    btfm_cothb_free(c);
}
END_TEST

static void drive_constant(btfm_cothb *c, double r, int *last_action, int64_t *calls)
{
    for (*calls = 0; *calls < 100000; ++*calls) {
        int a;
        int64_t n, t, id;
        ck_assert_ok(btfm_cothb_next(c, &a, &n, &t));
        *last_action = a;
        if (a == BTFM_COTHB_STOP || a == BTFM_COTHB_ANSWER) return;
        if (a == BTFM_COTHB_EXTEND || a == BTFM_COTHB_BRANCH || a == BTFM_COTHB_DECOMPOSE) {
            ck_assert_ok(btfm_cothb_add_node(c, n, &id));
            double s[1] = {r};
            ck_assert_ok(btfm_cothb_observe(c, id, s, 1));
        }
    }
}

START_TEST(budgets_end_the_search)
{
    btfm_cothb *c = make_legacy();
    int last;
    int64_t calls, steps;
    double cost;
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MAX_STEPS, 5));
    drive_constant(c, 0.9, &last, &calls);
    ck_assert_int_eq(last, BTFM_COTHB_STOP);
    ck_assert_int_eq(calls, 5); /* five extends, then STOP */
    ck_assert_int_eq(btfm_cothb_n_nodes(c), 6);
    btfm_cothb_free(c);

    c = make_legacy();
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_COST_EXTEND, 2));
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MAX_COST, 5));
    drive_constant(c, 0.9, &last, &calls);
    ck_assert_int_eq(last, BTFM_COTHB_STOP);
    ck_assert_ok(btfm_cothb_progress(c, NULL, &steps, &cost));
    ck_assert_int_eq(steps, 2);
    ck_assert_double_eq(cost, 4);
    btfm_cothb_free(c);

    /* Depth 3, breadth 2, everything unreliable: the tree is exhausted and the search
     * stops by itself, well before the step budget. */
    c = make_legacy();
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MAX_DEPTH, 3));
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MAX_BREADTH, 2));
    drive_constant(c, 0.1, &last, &calls);
    ck_assert_int_eq(last, BTFM_COTHB_STOP);
    ck_assert_int_le(btfm_cothb_n_nodes(c), 1 + 2);
    btfm_cothb_free(c);

    c = make_legacy();
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MAX_NODES, 4));
    drive_constant(c, 0.9, &last, &calls);
    ck_assert_int_eq(last, BTFM_COTHB_STOP);
    ck_assert_int_eq(btfm_cothb_n_nodes(c), 4);
    btfm_cothb_free(c);
}
END_TEST

/* Random hosts (random signals, random terminal flags, random parameters), under the
 * thresholds and the budget policies: the search always ends within max_steps actions
 * plus the final one. */
START_TEST(every_search_terminates)
{
    uint64_t x = 12345;
    for (int trial = 0; trial < 300; trial++) {
        btfm_cothb *c = make();
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        int max_steps = 1 + (int)(x >> 58);
        ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MAX_STEPS, max_steps));
        ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MAX_BREADTH, 1 + (int)((x >> 40) % 4)));
        ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MONITORED, 1 + (int)((x >> 30) % 3)));
        ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_POLICY, trial % 2 ? 2 : 0));
        int calls = 0, a = 0;
        for (;; calls++) {
            int64_t n, t, id;
            ck_assert_int_le(calls, max_steps);
            ck_assert_ok(btfm_cothb_next(c, &a, &n, &t));
            if (a == BTFM_COTHB_STOP || a == BTFM_COTHB_ANSWER) break;
            if (a == BTFM_COTHB_EXTEND || a == BTFM_COTHB_BRANCH || a == BTFM_COTHB_DECOMPOSE) {
                ck_assert_ok(btfm_cothb_add_node(c, n, &id));
                x = x * 6364136223846793005ULL + 1442695040888963407ULL;
                double s[7] = {(double)(x >> 11) * 0x1.0p-53, NAN, NAN, NAN, NAN,
                               (x >> 5) & 1 ? 1.0 : 0.0, (x >> 7) % 5 == 0 ? 1.0 : NAN};
                ck_assert_ok(btfm_cothb_observe(c, id, s, 7));
            }
        }
        btfm_cothb_free(c);
    }
}
END_TEST

START_TEST(bad_input_is_refused_with_a_message)
{
    btfm_cothb *c = make_legacy();
    int a;
    int64_t n, id;
    double ok[1] = {0.5};
    ck_assert_status(btfm_cothb_new(NULL), BTFM_E_INVALID);
    ck_assert_status(btfm_cothb_next(NULL, &a, &n, NULL), BTFM_E_INVALID);
    ck_assert_status(btfm_cothb_next(c, NULL, &n, NULL), BTFM_E_INVALID);
    ck_assert_status(btfm_cothb_observe(NULL, 0, ok, 1), BTFM_E_INVALID);
    ck_assert_status(btfm_cothb_observe(c, 0, NULL, 1), BTFM_E_INVALID);
    ck_assert_status(btfm_cothb_add_node(NULL, 0, &id), BTFM_E_INVALID);
    btfm_cothb_free(NULL);

    /* Unknown node, signals out of range / infinite, bad count. */
    ck_assert_status(btfm_cothb_observe(c, 7, ok, 1), BTFM_E_NOTFOUND);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "node 7 does not exist"));
    ck_assert_status(btfm_cothb_observe(c, -1, ok, 1), BTFM_E_NOTFOUND);
    double high[2] = {NAN, 1.5}, inf[1] = {INFINITY}, neg[1] = {-0.1};
    ck_assert_status(btfm_cothb_observe(c, 0, high, 2), BTFM_E_RANGE);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "signal alternative = 1.5"));
    ck_assert_status(btfm_cothb_observe(c, 0, inf, 1), BTFM_E_RANGE);
    ck_assert_status(btfm_cothb_observe(c, 0, neg, 1), BTFM_E_RANGE);
    ck_assert_status(btfm_cothb_observe(c, 0, ok, 0), BTFM_E_INVALID);
    double nine[9] = {0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5};
    ck_assert_status(btfm_cothb_observe(c, 0, nine, 9), BTFM_E_INVALID);

    /* Zero budgets and inconsistent thresholds. */
    ck_assert_status(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MAX_STEPS, 0), BTFM_E_RANGE);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "max_steps"));
    ck_assert_status(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MAX_COST, 0), BTFM_E_RANGE);
    ck_assert_status(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MAX_NODES, 1), BTFM_E_RANGE);
    ck_assert_status(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MAX_BREADTH, 0), BTFM_E_RANGE);
    ck_assert_status(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_HYSTERESIS, NAN), BTFM_E_RANGE);
    ck_assert_status(btfm_cothb_set_param(c, 99, 1), BTFM_E_INVALID);
    ck_assert_status(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_POLICY, 1), BTFM_E_STATE);
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_BRANCH_THRESHOLD, 0.8));
    ck_assert_status(btfm_cothb_next(c, &a, &n, NULL), BTFM_E_RANGE);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "branch_threshold 0.8 exceeds"));
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_BRANCH_THRESHOLD, 0.3));

    /* Actions out of order. */
    ck_assert_status(btfm_cothb_add_node(c, 0, &id), BTFM_E_STATE);
    expect(c, BTFM_COTHB_EXTEND, 0);
    ck_assert_status(btfm_cothb_next(c, &a, &n, NULL), BTFM_E_STATE);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "still waits for its node"));
    ck_assert_status(btfm_cothb_add_node(c, 3, &id), BTFM_E_STATE);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "not of node 3"));
    int64_t first = grow(c, 0, 0.9, 0);
    expect(c, BTFM_COTHB_EXTEND, first);
    int64_t bad = grow(c, first, 0.05, 0);
    expect(c, BTFM_COTHB_BRANCH, first);
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MONITORED, 1));
    int64_t worse = grow(c, first, 0.01, 0);
    expect(c, BTFM_COTHB_BRANCH, first); /* the set holds one: the worse path is dropped */
    ck_assert_int_eq(status_of(c, worse), BTFM_COTHB_ABANDONED);
    ck_assert_int_eq(status_of(c, bad), BTFM_COTHB_MONITORED);
    ck_assert_status(btfm_cothb_observe(c, worse, ok, 1), BTFM_E_STATE);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "closed node"));
    btfm_cothb_free(c);
}
END_TEST

static int trace_host(int action, int64_t node, int64_t new_node, double *signals,
                      int n_signals, void *user)
{
    uint64_t *x = user;
    (void)action;
    (void)node;
    (void)n_signals;
    if (new_node < 0) return BTFM_OK;
    *x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
    signals[0] = (double)(*x >> 11) * 0x1.0p-53;
    signals[BTFM_COTHB_SIGNAL_TERMINAL] = (*x >> 3) % 7 == 0;
    return BTFM_OK;
}

static char *trace_of(btfm_cothb *c)
{
    size_t size = 0, written = 0;
    ck_assert_ok(btfm_cothb_trace_jsonl(c, NULL, 0, &size));
    char *text = malloc(size + 1);
    ck_assert_status(btfm_cothb_trace_jsonl(c, text, size, &written), BTFM_E_RANGE);
    ck_assert_uint_eq(written, size);
    ck_assert_ok(btfm_cothb_trace_jsonl(c, text, size + 1, &written));
    ck_assert_uint_eq(strlen(text), size);
    return text;
}

/* Same seed, same host: identical traces; epsilon exploration makes the seed matter. */
START_TEST(runs_are_deterministic_for_a_seed)
{
    char *traces[3];
    for (int k = 0; k < 3; k++) {
        btfm_cothb *c = make_legacy();
        ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_EXPLORE_EPSILON, 0.4));
        ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_SEED, k == 2 ? 8 : 7));
        ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MAX_STEPS, 200));
        uint64_t x = 99;
        int final_action;
        ck_assert_ok(btfm_cothb_run(c, trace_host, &final_action, NULL, &x));
        traces[k] = trace_of(c);
        btfm_cothb_free(c);
    }
    ck_assert_str_eq(traces[0], traces[1]);
    ck_assert_str_ne(traces[0], traces[2]);
    for (int k = 0; k < 3; k++) free(traces[k]);
}
END_TEST

static int failing_host(int action, int64_t node, int64_t new_node, double *signals,
                        int n_signals, void *user)
{
    (void)action, (void)node, (void)n_signals, (void)user;
    if (new_node >= 0) signals[0] = 2.0; /* out of range: observe refuses it */
    return BTFM_OK;
}

START_TEST(run_reports_host_errors)
{
    btfm_cothb *c = make();
    ck_assert_status(btfm_cothb_run(c, NULL, NULL, NULL, NULL), BTFM_E_INVALID);
    ck_assert_status(btfm_cothb_run(c, failing_host, NULL, NULL, NULL), BTFM_E_RANGE);
    btfm_cothb_free(c);
}
END_TEST

/* Saving mid-search (with an action pending) and loading gives the same continuation. */
START_TEST(save_load_continues_identically)
{
    btfm_cothb *c = make();
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_EXPLORE_EPSILON, 0.3));
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_SEED, 3));
    uint64_t x = 5;
    int a;
    int64_t n, t, id;
    for (int i = 0; i < 25; i++) { /* stop with an expansion pending */
        ck_assert_ok(btfm_cothb_next(c, &a, &n, &t));
        ck_assert(a != BTFM_COTHB_STOP && a != BTFM_COTHB_ANSWER);
        if (i == 24 && (a == BTFM_COTHB_EXTEND || a == BTFM_COTHB_BRANCH ||
                        a == BTFM_COTHB_DECOMPOSE))
            break;
        if (a == BTFM_COTHB_EXTEND || a == BTFM_COTHB_BRANCH || a == BTFM_COTHB_DECOMPOSE) {
            ck_assert_ok(btfm_cothb_add_node(c, n, &id));
            double s[7];
            for (int k = 0; k < 7; k++) s[k] = NAN;
            trace_host(a, n, id, s, 7, &x);
            ck_assert_ok(btfm_cothb_observe(c, id, s, 7));
        }
    }
    size_t size = 0;
    ck_assert_ok(btfm_cothb_save_buffer(c, NULL, 0, &size));
    void *blob = malloc(size);
    ck_assert_ok(btfm_cothb_save_buffer(c, blob, size, &size));
    btfm_cothb *d = NULL;
    ck_assert_ok(btfm_cothb_load_buffer(&d, blob, size));
    ck_assert_int_eq(btfm_cothb_n_nodes(d), btfm_cothb_n_nodes(c));
    uint64_t xc = x, xd = x;
    btfm_cothb *both[2] = {c, d};
    uint64_t *xs[2] = {&xc, &xd};
    int pending = a == BTFM_COTHB_EXTEND || a == BTFM_COTHB_BRANCH || a == BTFM_COTHB_DECOMPOSE;
    for (int k = 0; k < 2; k++) {
        if (pending) {
            ck_assert_ok(btfm_cothb_add_node(both[k], n, &id));
            double s[7];
            for (int j = 0; j < 7; j++) s[j] = NAN;
            trace_host(a, n, id, s, 7, xs[k]);
            ck_assert_ok(btfm_cothb_observe(both[k], id, s, 7));
        }
        ck_assert_ok(btfm_cothb_run(both[k], trace_host, NULL, NULL, xs[k]));
    }
    char *tc = trace_of(c), *td = trace_of(d);
    ck_assert_str_eq(tc, td);
    /* Another kind of container, and a damaged buffer, are refused. */
    btfm_cothb *e = NULL;
    ((unsigned char *)blob)[size / 2] ^= 0x40;
    ck_assert_int_lt(btfm_cothb_load_buffer(&e, blob, size), 0);
    ck_assert_ptr_null(e);
    btfm_container *k;
    ck_assert_ok(btfm_container_new(&k, "aligner"));
    size_t ksize;
    ck_assert_ok(btfm_container_save_buffer(k, NULL, 0, &ksize));
    void *kb = malloc(ksize);
    ck_assert_ok(btfm_container_save_buffer(k, kb, ksize, &ksize));
    ck_assert_status(btfm_cothb_load_buffer(&e, kb, ksize), BTFM_E_KIND);
    free(kb);
    btfm_container_free(k);
    free(tc);
    free(td);
    free(blob);
    btfm_cothb_free(c);
    btfm_cothb_free(d);
}
END_TEST

/* Human decisions simulated from known thresholds: continue when reliability is above
 * 0.65 (logistic with slope 40), otherwise switch when the alternative is above 0.5,
 * else explore. The fitted boundaries recover the thresholds. */
START_TEST(calibration_recovers_known_thresholds)
{
    enum { N = 4000 };
    static double x[N * 2];
    static int y[N];
    uint64_t s = 77;
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < 2; j++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            x[i * 2 + j] = (double)(s >> 11) * 0x1.0p-53;
        }
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        double u = (double)(s >> 11) * 0x1.0p-53;
        double p_continue = 1 / (1 + exp(-40 * (x[i * 2] - 0.65)));
        double p_switch = 1 / (1 + exp(-40 * (x[i * 2 + 1] - 0.5)));
        y[i] = u < p_continue ? BTFM_COTHB_DECISION_CONTINUE
               : (u - p_continue) / (1 - p_continue) < p_switch ? BTFM_COTHB_DECISION_SWITCH
                                                                 : BTFM_COTHB_DECISION_EXPLORE;
    }
    btfm_cothb *c = make();
    ck_assert_status(btfm_cothb_policy(c, 0, NULL, 0, NULL), BTFM_E_STATE);
    ck_assert_ok(btfm_cothb_calibrate(c, x, N, 2, y, 1e-3));
    double w[8], b;
    ck_assert_ok(btfm_cothb_policy(c, 0, w, 8, &b));
    ck_assert_double_eq_tol(-b / w[0], 0.65, 0.02);
    ck_assert_double_eq(w[2], 0);
    ck_assert_ok(btfm_cothb_policy(c, 1, w, 8, &b));
    ck_assert_double_eq_tol(-b / w[1], 0.5, 0.03);
    double policy;
    ck_assert_ok(btfm_cothb_get_param(c, BTFM_COTHB_PARAM_POLICY, &policy));
    ck_assert_double_eq(policy, 1);
    /* Bad tables. */
    ck_assert_status(btfm_cothb_calibrate(c, x, N, 9, y, 1), BTFM_E_INVALID);
    ck_assert_status(btfm_cothb_calibrate(c, x, N, 2, y, 0), BTFM_E_RANGE);
    y[5] = 3;
    ck_assert_status(btfm_cothb_calibrate(c, x, N, 2, y, 1), BTFM_E_INVALID);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "decisions[5] = 3"));
    y[5] = 0;
    x[7] = NAN;
    ck_assert_status(btfm_cothb_calibrate(c, x, N, 2, y, 1), BTFM_E_RANGE);
    x[7] = 0.5;
    int all_continue[3] = {0, 0, 0};
    ck_assert_status(btfm_cothb_calibrate(c, x, 3, 2, all_continue, 1), BTFM_E_INVALID);
    btfm_cothb_free(c);
}
END_TEST


/* Drive with every new step at reliability r (and optional retrieval signal), counting
 * each action and how often each node is retrieved. */
typedef struct drive_log {
    int actions[BTFM_COTHB_STOP + 1];
    int retrieved[256];
    int first[8];
    int64_t steps;
    int last;
} drive_log;

static void drive_signals(btfm_cothb *c, double r, double retrieval, drive_log *log)
{
    memset(log, 0, sizeof *log);
    for (int call = 0; call < 2000; call++) {
        int a;
        int64_t n, t, id;
        ck_assert_ok(btfm_cothb_next(c, &a, &n, &t));
        log->actions[a]++;
        log->last = a;
        if (call < 8) log->first[call] = a;
        if (a == BTFM_COTHB_RETRIEVE && n < 256) log->retrieved[n]++;
        if (a == BTFM_COTHB_STOP || a == BTFM_COTHB_ANSWER) break;
        if (a == BTFM_COTHB_EXTEND || a == BTFM_COTHB_BRANCH || a == BTFM_COTHB_DECOMPOSE) {
            ck_assert_ok(btfm_cothb_add_node(c, n, &id));
            double s[4] = {r, NAN, NAN, retrieval};
            ck_assert_ok(btfm_cothb_observe(c, id, s, 4));
        }
    }
    ck_assert_ok(btfm_cothb_progress(c, NULL, &log->steps, NULL));
}

/* Regression: unreliable steps that carry a retrieval signal from the start used to be
 * retrieved and left in turn until max_steps (retrieval costs nothing). A path is now
 * retrieved again only on evidence newer than its leaving, so the search exhausts the
 * tree and stops: 4 children of the root, each tried once. */
START_TEST(stale_retrieval_signals_do_not_cycle)
{
    btfm_cothb *c = make_legacy();
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MAX_LEVELS, 1));
    drive_log log;
    drive_signals(c, 0.1, 0.9, &log);
    ck_assert_int_eq(log.last, BTFM_COTHB_STOP);
    ck_assert_int_eq(btfm_cothb_n_nodes(c), 5); /* the root's 4 children (max_breadth) */
    ck_assert_int_lt(log.steps, 20);
    for (int i = 0; i < 256; i++) ck_assert_int_le(log.retrieved[i], 1);
    btfm_cothb_free(c);
}
END_TEST

/* Human decisions over (reliability, alternative): continue above 0.65, else switch when
 * the alternative is above 0.4, else explore (logistic slopes 40). */
static void fit_people(btfm_cothb *c)
{
    enum { N = 3000 };
    static double x[N * 2];
    static int y[N];
    uint64_t s = 91;
    for (int i = 0; i < N; i++) {
        double u[3];
        for (int j = 0; j < 3; j++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            u[j] = (double)(s >> 11) * 0x1.0p-53;
        }
        x[i * 2] = u[0];
        x[i * 2 + 1] = u[1];
        double p_continue = 1 / (1 + exp(-40 * (u[0] - 0.65)));
        double p_switch = 1 / (1 + exp(-40 * (u[1] - 0.4)));
        y[i] = u[2] < p_continue ? BTFM_COTHB_DECISION_CONTINUE
               : (u[2] - p_continue) / (1 - p_continue) < p_switch ? BTFM_COTHB_DECISION_SWITCH
                                                                   : BTFM_COTHB_DECISION_EXPLORE;
    }
    ck_assert_ok(btfm_cothb_calibrate(c, x, N, 2, y, 1e-3));
}

/* Regression: the logistic policy judged "switch" with the alternative unobserved (0.5)
 * instead of the monitored path it would retrieve, and cycled between two unreliable
 * paths. With the alternative being the monitored path (reliability 0.1), people who
 * switch only to an alternative above 0.4 explore: extend, branch, branch. */
START_TEST(logistic_switch_judges_the_path_it_would_retrieve)
{
    btfm_cothb *c = make_legacy();
    fit_people(c);
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MAX_LEVELS, 1));
    drive_log log;
    drive_signals(c, 0.1, NAN, &log);
    ck_assert_int_eq(log.first[0], BTFM_COTHB_EXTEND);
    ck_assert_int_eq(log.first[1], BTFM_COTHB_BRANCH);
    ck_assert_int_eq(log.first[2], BTFM_COTHB_BRANCH);
    ck_assert_int_eq(log.last, BTFM_COTHB_STOP);
    ck_assert_int_lt(log.steps, 20);
    for (int i = 0; i < 256; i++) ck_assert_int_le(log.retrieved[i], 1);
    btfm_cothb_free(c);
}
END_TEST

/* Regression: with the logistic policy a sub-problem returned P(continue) instead of its
 * reliability, and the policy then read the host's signal instead of the returned value,
 * so a refuted step was extended. A re-check returning 0 must settle the step at 0 and
 * make the policy leave it (branch from the root), as the threshold policy does. */
START_TEST(logistic_policy_uses_the_sub_problem_result)
{
    for (int logistic = 0; logistic <= 1; logistic++) {
        btfm_cothb *c = make_legacy();
        if (logistic) fit_people(c);
        expect(c, BTFM_COTHB_EXTEND, 0);
        int64_t a = grow(c, 0, 0.55, 0); /* P(continue) = sigmoid(40 (0.55 - 0.65)) ~ 0.02 */
        if (logistic) {
            /* Between the thresholds for the logistic policy: 0.3 <= P(continue) < 0.7. */
            ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_BRANCH_THRESHOLD, 0.01));
        }
        expect(c, BTFM_COTHB_DECOMPOSE, a);
        int64_t sub = grow(c, a, 0.0, 1);
        ck_assert_int_eq(expect(c, BTFM_COTHB_RETURN, sub), a);
        double r = -1;
        ck_assert_ok(btfm_cothb_reliability(c, a, &r));
        ck_assert_double_eq(r, 0.0);
        int act;
        int64_t n, t;
        ck_assert_ok(btfm_cothb_next(c, &act, &n, &t));
        ck_assert_msg(act == BTFM_COTHB_BRANCH && n == 0 && t == a,
                      "policy %d: expected branch at 0 leaving %lld, got %s at %lld", logistic,
                      (long long)a, btfm_cothb_action_name(act), (long long)n);
        btfm_cothb_free(c);
    }
}
END_TEST

/* The branch points and RETURN targets the controller finds in O(1) equal those of a
 * naive walk over the tree through the public accessors, on random searches with
 * sub-problems, breadth limits and monitored paths. */
static int64_t naive_branch_point(btfm_cothb *c, int64_t leaf, double breadth)
{
    int64_t p;
    int level, leaf_level;
    ck_assert_ok(btfm_cothb_node_info(c, leaf, &p, &leaf_level, NULL, NULL, NULL));
    while (p >= 0) {
        int64_t up;
        int status, children;
        ck_assert_ok(btfm_cothb_node_info(c, p, &up, &level, &status, NULL, &children));
        if (status != BTFM_COTHB_ABANDONED && children < breadth) return p;
        if (level < leaf_level) return -1;
        p = up;
    }
    return -1;
}

static int64_t naive_sub_root(btfm_cothb *c, int64_t leaf)
{
    int64_t p;
    int level, leaf_level;
    ck_assert_ok(btfm_cothb_node_info(c, leaf, &p, &leaf_level, NULL, NULL, NULL));
    while (p >= 0) {
        int64_t up;
        ck_assert_ok(btfm_cothb_node_info(c, p, &up, &level, NULL, NULL, NULL));
        if (level < leaf_level) return p;
        p = up;
    }
    return -1;
}

START_TEST(branch_points_match_a_naive_walk)
{
    uint64_t x = 2024;
    int branches = 0, returns = 0;
    for (int trial = 0; trial < 60; trial++) {
        btfm_cothb *c = make_legacy();
        double breadth = 1 + trial % 3;
        ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MAX_STEPS, 400));
        ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MAX_BREADTH, breadth));
        ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MAX_DEPTH, 5 + trial % 7));
        for (;;) {
            int64_t cur, n, t, id;
            int a;
            ck_assert_ok(btfm_cothb_progress(c, &cur, NULL, NULL));
            int64_t bp = naive_branch_point(c, cur, breadth), sr = naive_sub_root(c, cur);
            ck_assert_ok(btfm_cothb_next(c, &a, &n, &t));
            if (a == BTFM_COTHB_BRANCH) {
                ck_assert_int_eq(n, bp);
                branches++;
            }
            if (a == BTFM_COTHB_RETURN) {
                ck_assert_int_eq(t, sr);
                returns++;
            }
            if (a == BTFM_COTHB_STOP || a == BTFM_COTHB_ANSWER) break;
            if (a == BTFM_COTHB_EXTEND || a == BTFM_COTHB_BRANCH || a == BTFM_COTHB_DECOMPOSE) {
                ck_assert_ok(btfm_cothb_add_node(c, n, &id));
                x = x * 6364136223846793005ULL + 1442695040888963407ULL;
                double s[7] = {(double)(x >> 11) * 0x1.0p-53, NAN, NAN, NAN, NAN, NAN,
                               (x >> 3) % 6 == 0 ? 1.0 : NAN};
                ck_assert_ok(btfm_cothb_observe(c, id, s, 7));
            }
        }
        btfm_cothb_free(c);
    }
    ck_assert_int_gt(branches, 100);
    ck_assert_int_gt(returns, 20);
}
END_TEST

typedef struct run_log {
    btfm_cothb *c;
    int calls, finals, mismatches;
    int64_t targets[64];
} run_log;

static int logging_host(int action, int64_t node, int64_t new_node, double *signals,
                        int n_signals, void *user)
{
    run_log *log = user;
    int a;
    int64_t n, t;
    (void)n_signals;
    if (btfm_cothb_last_action(log->c, &a, &n, &t)) return BTFM_E_INTERNAL;
    if (a != action || n != node) log->mismatches++;
    if (log->calls < 64) log->targets[log->calls] = t;
    log->calls++;
    if (action == BTFM_COTHB_ANSWER || action == BTFM_COTHB_STOP) log->finals++;
    if (new_node >= 0) {
        /* 0.9, 0.1 (branch), 0.95 (confirm), 0.9 terminal */
        static const double r[] = {0.9, 0.1, 0.95, 0.9};
        signals[0] = r[(new_node - 1) % 4];
        if (new_node == 4) signals[BTFM_COTHB_SIGNAL_TERMINAL] = 1;
    }
    return BTFM_OK;
}

/* The run callback sees every action, the final one included, and can read each
 * action's second node through btfm_cothb_last_action. */
START_TEST(run_reports_every_action_with_its_target)
{
    btfm_cothb *c = make_legacy();
    int a;
    ck_assert_status(btfm_cothb_last_action(c, &a, NULL, NULL), BTFM_E_STATE);
    ck_assert_status(btfm_cothb_last_action(NULL, &a, NULL, NULL), BTFM_E_INVALID);
    run_log log = {c, 0, 0, 0, {0}};
    int final_action;
    int64_t final_node;
    ck_assert_ok(btfm_cothb_run(c, logging_host, &final_action, &final_node, &log));
    ck_assert_int_eq(log.mismatches, 0);
    ck_assert_int_eq(log.finals, 1);
    ck_assert_int_eq(final_action, BTFM_COTHB_ANSWER);
    ck_assert_int_eq(final_node, 4);
    /* extend 0, extend 1, branch 1 (left 2), confirm 3 (left 2), extend 3, answer 4 */
    ck_assert_int_eq(log.calls, 6);
    const int64_t want[6] = {-1, -1, 2, 2, -1, -1};
    for (int i = 0; i < 6; i++) ck_assert_int_eq(log.targets[i], want[i]);
    int64_t n, t;
    ck_assert_ok(btfm_cothb_last_action(c, &a, &n, &t));
    ck_assert_int_eq(a, BTFM_COTHB_ANSWER);
    ck_assert_int_eq(n, 4);
    btfm_cothb_free(c);
}
END_TEST

/* Every loaded field is checked: one wrong value in a node's integer columns (parent,
 * depth, sub-problem root, children count, status, steps) or its signals is refused with
 * BTFM_E_FORMAT naming the node, never loaded. */
START_TEST(load_validates_every_node_field)
{
    btfm_cothb *c = make_legacy();
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_POLICY, 0));
    expect(c, BTFM_COTHB_EXTEND, 0);
    int64_t a = grow(c, 0, 0.5, 0);
    expect(c, BTFM_COTHB_DECOMPOSE, a);
    grow(c, a, 0.9, 0); /* node 2, level 1, sub-problem of node 1 */
    size_t size;
    ck_assert_ok(btfm_cothb_save_buffer(c, NULL, 0, &size));
    void *blob = malloc(size);
    ck_assert_ok(btfm_cothb_save_buffer(c, blob, size, &size));
    btfm_cothb *d = NULL;
    ck_assert_ok(btfm_cothb_load_buffer(&d, blob, size));
    btfm_cothb_free(d);
    size_t nbytes;
    int64_t *ints = container_array_copy(blob, size, "cothb", "node_int", &nbytes);
    int n_int = (int)(nbytes / sizeof(int64_t) / 3);
    /* Columns in file order: parent, created_step, sub_root, left_step, observed_step,
     * answer, level, depth, status, n_children, flags, strategy, rechecks, n_evidence,
     * n_path. */
    const struct { int column; int64_t value; const char *field; } cases[] = {
        {0, 5, "parent"},  {1, 99, "created_step"}, {2, -1, "sub_root"},
        {3, 99, "left_step"}, {4, -7, "observed_step"}, {6, 0, "sub_root"},
        {7, 5, "depth"},    {8, 17, "status"},        {9, 3, "n_children"},
        {10, 64, "flags"},  {11, 3, "strategy"},      {12, -1, "rechecks"},
        {13, -2, "n_evidence"}, {14, -1, "n_path"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int64_t saved = ints[2 * n_int + cases[k].column];
        ints[2 * n_int + cases[k].column] = cases[k].value;
        size_t bad_size;
        void *bad = container_replace(blob, size, "cothb",
                                      "node_int", ints, WHOLE_ARRAY, &bad_size);
        d = NULL;
        ck_assert_status(btfm_cothb_load_buffer(&d, bad, bad_size), BTFM_E_FORMAT);
        ck_assert_ptr_null(d);
        ck_assert_msg(strstr(btfm_last_error(), "node 2") && strstr(btfm_last_error(), cases[k].field),
                      "case %zu: %s", k, btfm_last_error());
        free(bad);
        ints[2 * n_int + cases[k].column] = saved;
    }
    double *reals = container_array_copy(blob, size, "cothb", "node_real", &nbytes);
    reals[nbytes / sizeof(double) / 3 + 0] = 1.5; /* node 1's reliability signal */
    size_t bad_size;
    void *bad = container_replace(blob, size, "cothb", "node_real", reals, WHOLE_ARRAY, &bad_size);
    ck_assert_status(btfm_cothb_load_buffer(&d, bad, bad_size), BTFM_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "node 1: reliability = 1.5"));
    free(bad);
    free(reals);
    free(ints);
    free(blob);
    btfm_cothb_free(c);
}
END_TEST

/* Counts are checked against the arrays before they size an allocation, and trace values
 * before a trace is written: a node count of 2^50 is refused (not allocated), an added
 * node's level of NaN or inf (cast to int when the trace is written) and an infinite
 * action value are refused. */
START_TEST(load_validates_counts_and_trace_values)
{
    btfm_cothb *c = make_legacy();
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_POLICY, 0));
    expect(c, BTFM_COTHB_EXTEND, 0);
    int64_t a = grow(c, 0, 0.5, 0);
    expect(c, BTFM_COTHB_DECOMPOSE, a);
    grow(c, a, 0.9, 0);
    size_t size, nbytes, bad_size;
    ck_assert_ok(btfm_cothb_save_buffer(c, NULL, 0, &size));
    void *blob = malloc(size);
    ck_assert_ok(btfm_cothb_save_buffer(c, blob, size, &size));
    btfm_cothb *d = NULL;
    int64_t *state = container_array_copy(blob, size, "cothb", "state", &nbytes);
    state[12] = (int64_t)1 << 50; /* the node count */
    void *bad = container_replace(blob, size, "cothb", "state", state, WHOLE_ARRAY, &bad_size);
    ck_assert_status(btfm_cothb_load_buffer(&d, bad, bad_size), BTFM_E_FORMAT);
    ck_assert_ptr_null(d);
    ck_assert_msg(strstr(btfm_last_error(), "node count = 1125899906842624 but array "
                         "\"node_int\" holds"), "%s", btfm_last_error());
    free(bad);
    int64_t *events = container_array_copy(blob, size, "cothb", "trace_int", &nbytes);
    const int64_t rows = (int64_t)(nbytes / sizeof(int64_t) / 5);
    double *values = container_array_copy(blob, size, "cothb", "trace_real", &nbytes);
    const int width = (int)(nbytes / sizeof(double) / (size_t)rows);
    int64_t add = -1, action = -1;
    for (int64_t r = 0; r < rows; r++) {
        if (events[r * 5] == 1 && add < 0) add = r;   /* a node added */
        if (events[r * 5] == 0 && action < 0) action = r; /* an action */
    }
    ck_assert(add >= 0 && action >= 0);
    const struct { int64_t row; double value; const char *message; } cases[] = {
        {add, NAN, "trace event (level of an added node)"},
        {add, INFINITY, "trace value (infinite)"},
        {add, 7.0, "trace event (level of an added node)"},
        {action, -INFINITY, "trace value (infinite)"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const double saved = values[cases[k].row * width];
        values[cases[k].row * width] = cases[k].value;
        bad = container_replace(blob, size, "cothb", "trace_real", values, WHOLE_ARRAY, &bad_size);
        ck_assert_status(btfm_cothb_load_buffer(&d, bad, bad_size), BTFM_E_FORMAT);
        ck_assert_msg(strstr(btfm_last_error(), cases[k].message), "case %zu: %s", k,
                      btfm_last_error());
        free(bad);
        values[cases[k].row * width] = saved;
    }
    bad = container_replace(blob, size, "cothb",
                            "trace_real", values, WHOLE_ARRAY, &bad_size); /* restored: loads */
    ck_assert_ok(btfm_cothb_load_buffer(&d, bad, bad_size));
    btfm_cothb_free(d);
    free(bad);
    free(values);
    free(events);
    free(state);
    free(blob);
    btfm_cothb_free(c);
}
END_TEST

/* A controller saved by release 1.2 (format 1, written here array by array as that
 * release laid it out) loads: the tree, signals and pending state come back, the
 * sub-problem roots are derived, and the search goes on. Tree: 0 -> 1 (reliability 0.5,
 * decomposed) -> 2 (level 1, reliability 0.9), node 2 current, nothing pending. */
START_TEST(format_1_files_still_load)
{
    btfm_container *k;
    ck_assert_ok(btfm_container_new(&k, "cothb"));
    int32_t format = 1;
    int64_t one = 1, shape[2];
    ck_assert_ok(btfm_container_put(k, "format", BTFM_DTYPE_I32, 1, &one, &format));
    double params[22];
    for (int p = 0; p < 22; p++)
        ck_assert_ok(btfm_param_info(BTFM_OBJECT_COTHB, p, NULL, NULL, &params[p], NULL, NULL));
    params[BTFM_COTHB_PARAM_POLICY] = 0; /* release 1.2's defaults */
    params[BTFM_COTHB_PARAM_MAX_BREADTH] = 4;
    shape[0] = 22;
    ck_assert_ok(btfm_container_put(k, "params", BTFM_DTYPE_F64, 1, shape, params));
    /* current, explore_from, mode, pending, pending_node, pending_level, finished,
     * final_node, steps, rng, n_monitored, policy_fitted, n_nodes, n_trace */
    int64_t state[14] = {2, -1, 2, 0, -1, 1, 0, -1, 2, 12345, 0, 0, 3, 0};
    shape[0] = 14;
    ck_assert_ok(btfm_container_put(k, "state", BTFM_DTYPE_I64, 1, shape, state));
    double cost = 2;
    ck_assert_ok(btfm_container_put(k, "cost", BTFM_DTYPE_F64, 1, &one, &cost));
    shape[0] = 0;
    int64_t none = 0;
    ck_assert_ok(btfm_container_put(k, "monitored", BTFM_DTYPE_I64, 1, shape, &none));
    double policy[16] = {0};
    shape[0] = 2, shape[1] = 8;
    ck_assert_ok(btfm_container_put(k, "policy", BTFM_DTYPE_F64, 2, shape, policy));
    int64_t node_i64[6] = {-1, 0, 0, 1, 1, 2};
    shape[0] = 3, shape[1] = 2;
    ck_assert_ok(btfm_container_put(k, "node_i64", BTFM_DTYPE_I64, 2, shape, node_i64));
    int32_t node_i32[18] = {0, 0, 3, 1, 0, 0,  0, 1, 3, 1, 1, 0,  1, 2, 1, 0, 0, 0};
    shape[1] = 6;
    ck_assert_ok(btfm_container_put(k, "node_i32", BTFM_DTYPE_I32, 2, shape, node_i32));
    double node_f64[30];
    for (int i = 0; i < 30; i++) node_f64[i] = NAN;
    for (int i = 0; i < 3; i++) node_f64[i * 10 + 7] = node_f64[i * 10 + 8] = 1;
    node_f64[10] = 0.5;
    node_f64[20] = 0.9;
    shape[1] = 10;
    ck_assert_ok(btfm_container_put(k, "node_f64", BTFM_DTYPE_F64, 2, shape, node_f64));
    shape[0] = 0, shape[1] = 5;
    ck_assert_ok(btfm_container_put(k, "trace_i64", BTFM_DTYPE_I64, 2, shape, &none));
    shape[1] = 7;
    ck_assert_ok(btfm_container_put(k, "trace_f64", BTFM_DTYPE_F64, 2, shape, &none));
    size_t size;
    ck_assert_ok(btfm_container_save_buffer(k, NULL, 0, &size));
    void *blob = malloc(size);
    ck_assert_ok(btfm_container_save_buffer(k, blob, size, &size));
    btfm_container_free(k);
    btfm_cothb *c = NULL;
    ck_assert_ok(btfm_cothb_load_buffer(&c, blob, size));
    ck_assert_int_eq(btfm_cothb_n_nodes(c), 3);
    double r;
    ck_assert_ok(btfm_cothb_reliability(c, 2, &r));
    ck_assert_double_eq(r, 0.9);
    /* The sub-problem goes on (0.9 >= 0.7), then its terminal step returns to node 1. */
    expect(c, BTFM_COTHB_EXTEND, 2);
    int64_t t = grow(c, 2, 0.8, 1);
    ck_assert_int_eq(expect(c, BTFM_COTHB_RETURN, t), 1);
    ck_assert_ok(btfm_cothb_reliability(c, 1, &r));
    ck_assert_double_eq(r, 0.8);
    btfm_cothb_free(c);
    free(blob);
}
END_TEST


/* Isotonic calibration by hand: scores 1..4 with labels 0 1 0 1 (AUC 3/4, so
 * increasing); pooling the violators 1, 0 gives the points (1, 0), (2, .5), (3, .5),
 * (4, 1), interpolated linearly and clipped outside. */
START_TEST(isotonic_calibration_by_hand)
{
    btfm_cothb *c = make();
    const double s[4] = {3, 1, 4, 2};
    const int y[4] = {0, 0, 1, 1};
    ck_assert_ok(btfm_cothb_calibrate_reliability(c, BTFM_COTHB_CALIBRATION_ISOTONIC, s, y, 4));
    const double at[] = {0, 1, 1.5, 2, 2.5, 3, 3.5, 4, 9};
    const double want[] = {0, 0, 0.25, 0.5, 0.5, 0.5, 0.75, 1, 1};
    for (int i = 0; i < 9; i++) {
        double p;
        ck_assert_ok(btfm_cothb_reliability_of_score(c, at[i], &p));
        ck_assert_double_eq_tol(p, want[i], 1e-15);
    }
    /* Reversed labels: decreasing, the mirror image. */
    const int z[4] = {1, 1, 0, 0};
    ck_assert_ok(btfm_cothb_calibrate_reliability(c, BTFM_COTHB_CALIBRATION_ISOTONIC, s, z, 4));
    for (int i = 0; i < 9; i++) {
        double p;
        ck_assert_ok(btfm_cothb_reliability_of_score(c, at[i], &p));
        ck_assert_double_eq_tol(p, 1 - want[i], 1e-15);
    }
    /* Saved and loaded (two single-point blocks among the knots). */
    size_t size;
    ck_assert_ok(btfm_cothb_save_buffer(c, NULL, 0, &size));
    void *blob = malloc(size);
    ck_assert_ok(btfm_cothb_save_buffer(c, blob, size, &size));
    btfm_cothb *d = NULL;
    ck_assert_ok(btfm_cothb_load_buffer(&d, blob, size));
    for (int i = 0; i < 9; i++) {
        double p;
        ck_assert_ok(btfm_cothb_reliability_of_score(d, at[i], &p));
        ck_assert_double_eq_tol(p, 1 - want[i], 1e-15);
    }
    btfm_cothb_free(d);
    free(blob);
    /* A calibrated score is observed as the reliability signal. */
    expect(c, BTFM_COTHB_EXTEND, 0);
    int64_t id;
    ck_assert_ok(btfm_cothb_add_node(c, 0, &id));
    ck_assert_ok(btfm_cothb_observe_score(c, id, BTFM_COTHB_SIGNAL_RELIABILITY, 3.5));
    double r;
    ck_assert_ok(btfm_cothb_reliability(c, id, &r));
    ck_assert_double_eq_tol(r, 0.25, 1e-15);
    /* Errors: one class only, non-finite or out-of-range scores, bad labels, method. */
    const int all[4] = {1, 1, 1, 1}, two[4] = {0, 2, 1, 0};
    ck_assert_status(btfm_cothb_calibrate_reliability(c, 2, s, all, 4), BTFM_E_INVALID);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "all 4 steps are correct"));
    ck_assert_status(btfm_cothb_calibrate_reliability(c, 2, s, two, 4), BTFM_E_INVALID);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "correct[1] = 2"));
    const double inf[2] = {0, INFINITY};
    ck_assert_status(btfm_cothb_calibrate_reliability(c, 1, inf, y, 2), BTFM_E_RANGE);
    ck_assert_status(btfm_cothb_calibrate_reliability(c, 0, s, y, 4), BTFM_E_RANGE);
    ck_assert_status(btfm_cothb_calibrate_reliability(c, 3, s, y, 4), BTFM_E_INVALID);
    ck_assert_status(btfm_cothb_observe_score(c, id, BTFM_COTHB_SIGNAL_TERMINAL, 1), BTFM_E_INVALID);
    ck_assert_status(btfm_cothb_reliability_of_score(c, NAN, &r), BTFM_E_RANGE);
    /* The failed fits kept the decreasing map. */
    ck_assert_ok(btfm_cothb_reliability_of_score(c, 1.5, &r));
    ck_assert_double_eq_tol(r, 0.75, 1e-15);
    btfm_cothb *fresh = make();
    ck_assert_status(btfm_cothb_reliability_of_score(fresh, 2.0, &r), BTFM_E_RANGE);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "btfm_cothb_calibrate_reliability"));
    btfm_cothb_free(fresh);
    btfm_cothb_free(c);
}
END_TEST

static double gauss(uint64_t *state)
{
    double u[2];
    for (int j = 0; j < 2; j++) {
        *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
        u[j] = ((double)(*state >> 11) + 0.5) * 0x1.0p-53;
    }
    return sqrt(-2 * log(u[0])) * cos(6.283185307179586 * u[1]);
}

/* Simulated steps, correct with probability 0.8, whose score is x ~ N(+d'/2, 1) when
 * correct and N(-d'/2, 1) when wrong: the truth is P(correct | x) = sigmoid(d' x + log 4),
 * AUC = Phi(d' / sqrt 2). */
static void simulate_steps(double dprime, int64_t n, uint64_t seed, double *x, int *y)
{
    uint64_t state = seed;
    for (int64_t i = 0; i < n; i++) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        y[i] = (double)(state >> 11) * 0x1.0p-53 < 0.8;
        x[i] = gauss(&state) + (y[i] ? dprime / 2 : -dprime / 2);
    }
}

/* Platt scaling recovers the true logistic map of a simulation (slope d', intercept
 * log 4) and the quality report recovers AUC and d'; the AUC interval covers the truth
 * in about 95% of repeated samples. */
START_TEST(calibration_and_quality_recover_a_simulation)
{
    enum { N = 20000 };
    static double x[N];
    static int y[N];
    const double dprime = 1.5;
    simulate_steps(dprime, N, 5, x, y);
    btfm_cothb *c = make();
    ck_assert_ok(btfm_cothb_calibrate_reliability(c, BTFM_COTHB_CALIBRATION_PLATT, x, y, N));
    for (double s = -2; s <= 2; s += 0.5) {
        double p, truth = 1 / (1 + exp(-(dprime * s + log(4))));
        ck_assert_ok(btfm_cothb_reliability_of_score(c, s, &p));
        ck_assert_double_eq_tol(p, truth, 0.02);
    }
    btfm_cothb_free(c);
    double report[BTFM_COTHB_QUALITY_LOG_LOSS + 1];
    ck_assert_int_eq(btfm_cothb_quality_count(), BTFM_COTHB_QUALITY_LOG_LOSS + 1);
    ck_assert_str_eq(btfm_cothb_quality_name(BTFM_COTHB_QUALITY_DPRIME), "dprime");
    ck_assert_ptr_null(btfm_cothb_quality_name(BTFM_COTHB_QUALITY_LOG_LOSS + 1));
    ck_assert_ok(btfm_cothb_signal_quality(x, y, N, BTFM_COTHB_CALIBRATION_ISOTONIC, 5, report,
                                           BTFM_COTHB_QUALITY_LOG_LOSS + 1));
    double auc = 0.5 * erfc(-dprime / 2); /* Phi(d' / sqrt 2) */
    ck_assert_double_eq(report[BTFM_COTHB_QUALITY_N], N);
    ck_assert_double_eq_tol(report[BTFM_COTHB_QUALITY_BASE_RATE], 0.8, 0.01);
    ck_assert_double_eq_tol(report[BTFM_COTHB_QUALITY_AUC], auc, 0.01);
    ck_assert_double_eq_tol(report[BTFM_COTHB_QUALITY_DPRIME], dprime, 0.05);
    ck_assert(report[BTFM_COTHB_QUALITY_AUC_LOW] < auc && auc < report[BTFM_COTHB_QUALITY_AUC_HIGH]);
    ck_assert(isnan(report[BTFM_COTHB_QUALITY_ECE_RAW])); /* raw scores are not probabilities */
    ck_assert_double_lt(report[BTFM_COTHB_QUALITY_ECE], 0.02);
    ck_assert_double_lt(report[BTFM_COTHB_QUALITY_BRIER], report[BTFM_COTHB_QUALITY_BRIER_BASE_RATE]);
    /* The raw sigmoid of the score is a probability, but not a calibrated one. */
    static double raw[N];
    for (int i = 0; i < N; i++) raw[i] = 1 / (1 + exp(-x[i]));
    ck_assert_ok(btfm_cothb_signal_quality(raw, y, N, BTFM_COTHB_CALIBRATION_NONE, 0, report, 8));
    ck_assert_double_gt(report[BTFM_COTHB_QUALITY_ECE_RAW], 0.1);
    ck_assert_double_eq(report[BTFM_COTHB_QUALITY_ECE_RAW], report[BTFM_COTHB_QUALITY_ECE]);
    /* Coverage of the AUC interval over 300 samples of 200 steps. */
    int covered = 0;
    for (int rep = 0; rep < 300; rep++) {
        simulate_steps(1.0, 200, 100 + (uint64_t)rep, x, y);
        ck_assert_ok(btfm_cothb_signal_quality(x, y, 200, BTFM_COTHB_CALIBRATION_PLATT, 0, report, 5));
        double truth = 0.5 * erfc(-1.0 / 2);
        covered += report[BTFM_COTHB_QUALITY_AUC_LOW] <= truth && truth <= report[BTFM_COTHB_QUALITY_AUC_HIGH];
    }
    ck_assert_int_ge(covered, 270); /* 95% of 300 is 285; 270 is 3.9 binomial SDs below */
    ck_assert_int_le(covered, 298);
    /* Bad arguments. */
    ck_assert_status(btfm_cothb_signal_quality(x, y, 200, 1, 101, report, 5), BTFM_E_INVALID);
    ck_assert_status(btfm_cothb_signal_quality(x, y, 200, 1, 5, report, 12), BTFM_E_INVALID);
    ck_assert_status(btfm_cothb_signal_quality(x, y, 200, 0, 5, report, 5), BTFM_E_RANGE);
    ck_assert_status(btfm_cothb_signal_quality(NULL, y, 200, 1, 5, report, 5), BTFM_E_INVALID);
}
END_TEST

/* A saved calibration comes back with the controller; damaged knots are refused. */
START_TEST(calibration_is_saved_and_validated)
{
    enum { N = 500 };
    static double x[N];
    static int y[N];
    simulate_steps(2.0, N, 9, x, y);
    for (int method = 1; method <= 2; method++) {
        btfm_cothb *c = make();
        ck_assert_ok(btfm_cothb_calibrate_reliability(c, method, x, y, N));
        size_t size;
        ck_assert_ok(btfm_cothb_save_buffer(c, NULL, 0, &size));
        void *blob = malloc(size);
        ck_assert_ok(btfm_cothb_save_buffer(c, blob, size, &size));
        btfm_cothb *d = NULL;
        ck_assert_ok(btfm_cothb_load_buffer(&d, blob, size));
        for (double s = -3; s <= 3; s += 0.25) {
            double p, q;
            ck_assert_ok(btfm_cothb_reliability_of_score(c, s, &p));
            ck_assert_ok(btfm_cothb_reliability_of_score(d, s, &q));
            ck_assert_double_eq(p, q);
        }
        if (method == BTFM_COTHB_CALIBRATION_ISOTONIC) {
            size_t nbytes;
            double *knots = container_array_copy(blob, size, "cothb",
                                                 "reliability_knots", &nbytes);
            size_t k = nbytes / sizeof(double) / 2;
            ck_assert_uint_gt(k, 3);
            knots[k + 1] = knots[k] - 0.1; /* a decreasing probability */
            size_t bad_size;
            void *bad = container_replace(blob, size, "cothb",
                                          "reliability_knots", knots, WHOLE_ARRAY, &bad_size);
            btfm_cothb *e = NULL;
            ck_assert_status(btfm_cothb_load_buffer(&e, bad, bad_size), BTFM_E_FORMAT);
            ck_assert_ptr_nonnull(strstr(btfm_last_error(), "knot probability"));
            ck_assert_ptr_null(e);
            free(bad);
            free(knots);
        }
        free(blob);
        btfm_cothb_free(c);
        btfm_cothb_free(d);
    }
}
END_TEST


/* The budget policy (the default) with a path length and a cost budget. */
static btfm_cothb *make_budget(int path_length, double max_cost)
{
    btfm_cothb *c = make();
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_PATH_LENGTH, path_length));
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MAX_COST, max_cost));
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_STOP_CONFIDENCE, 1));
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_PROBE, 0));
    /* The threshold rules, worked by hand below (optimal stopping: its own test). */
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_PLANNING, 0));
    return c;
}

/* Add the pending node under `parent` with reliability r, terminal and answer if asked. */
static int64_t grow_answer(btfm_cothb *c, int64_t parent, double r, int terminal, int64_t answer)
{
    int64_t id = grow(c, parent, r, terminal);
    if (terminal) ck_assert_ok(btfm_cothb_set_answer(c, id, answer));
    return id;
}

static double logit(double p) { return log(p / (1 - p)); }

/* A re-check is one more independent reading of the step. With readings x1, x2 of an
 * equal-variance Gaussian signal (d' = 2, base rate 0.8), the host reports
 * r_i = P(right | x_i) = sigmoid(logit 0.8 - 2 x_i), and the truth given both is
 * sigmoid(logit 0.8 - 2 (x1 + x2)): the controller's reliability after the re-check
 * must be that. */
START_TEST(a_re_check_combines_readings_as_bayes_does)
{
    const double x1 = 0.3, x2 = -0.25, base = 0.8;
    double r1 = 1 / (1 + exp(-(logit(base) - 2 * x1))), r2 = 1 / (1 + exp(-(logit(base) - 2 * x2)));
    double truth = 1 / (1 + exp(-(logit(base) - 2 * (x1 + x2))));
    btfm_cothb *c = make_budget(3, 100);
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_BASE_RATE, base));
    expect(c, BTFM_COTHB_EXTEND, 0);
    int64_t a = grow(c, 0, r1, 0); /* r1 = 0.60: between the thresholds, a re-check */
    ck_assert_double_lt(r1, 0.7);
    expect(c, BTFM_COTHB_DECOMPOSE, a);
    int64_t sub = grow(c, a, r2, 1);
    ck_assert_int_eq(expect(c, BTFM_COTHB_RETURN, sub), a);
    double r;
    ck_assert_ok(btfm_cothb_reliability(c, a, &r));
    ck_assert_double_eq_tol(r, truth, 1e-12);
    ck_assert_double_ge(truth, 0.7);
    expect(c, BTFM_COTHB_EXTEND, a); /* settled: the path goes on */
    btfm_cothb_free(c);
}
END_TEST

/* A budget of 6 steps for paths of 2. By hand: path 1 (0.95, 0.9) answers 7; its
 * weakest step is above 0.7, so a new path starts (2 steps fit); its first step (0.4) is
 * re-checked (0.2), falls to about 0.04 and is re-sampled (0.9), the path ends (0.9) at
 * answer 7 again, and nothing more fits: the vote answers 7 with
 *     w = (1 + odds 0.855)(1 + odds 0.81) - 1,  P = w / (1 + w),
 * at its most probable terminal (the first). */
START_TEST(budget_policy_spends_the_budget_and_answers_the_vote)
{
    btfm_cothb *c = make_budget(2, 6);
    expect(c, BTFM_COTHB_EXTEND, 0);
    int64_t a = grow(c, 0, 0.95, 0);
    expect(c, BTFM_COTHB_EXTEND, a);
    int64_t b = grow_answer(c, a, 0.9, 1, 7);
    ck_assert_int_eq(expect(c, BTFM_COTHB_BRANCH, 0), b);
    int64_t d = grow(c, 0, 0.4, 0);
    expect(c, BTFM_COTHB_DECOMPOSE, d);
    int64_t sub = grow(c, d, 0.2, 1);
    ck_assert_int_eq(expect(c, BTFM_COTHB_RETURN, sub), d);
    ck_assert_int_eq(expect(c, BTFM_COTHB_BRANCH, 0), d);
    int64_t e = grow(c, 0, 0.9, 0);
    expect(c, BTFM_COTHB_EXTEND, e);
    int64_t f = grow_answer(c, e, 0.9, 1, 7);
    expect(c, BTFM_COTHB_ANSWER, b);
    double odds1 = 0.855 / 0.145, odds2 = 0.81 / 0.19, w = (1 + odds1) * (1 + odds2) - 1;
    int64_t node, answer, paths;
    double p;
    ck_assert_ok(btfm_cothb_answer(c, &node, &answer, &p));
    ck_assert_int_eq(node, b);
    ck_assert_int_eq(answer, 7);
    ck_assert_double_eq_tol(p, w / (1 + w), 1e-12);
    ck_assert_int_eq(btfm_cothb_n_answers(c), 1);
    ck_assert_ok(btfm_cothb_answer_info(c, 0, &answer, &node, &p, &paths));
    ck_assert_int_eq(paths, 2);
    ck_assert_status(btfm_cothb_answer_info(c, 1, NULL, NULL, NULL, NULL), BTFM_E_NOTFOUND);
    double cost;
    ck_assert_ok(btfm_cothb_progress(c, NULL, NULL, &cost));
    ck_assert_double_eq(cost, 6);
    ck_assert_int_eq(status_of(c, f), BTFM_COTHB_CURRENT);
    ck_assert_int_eq(status_of(c, b), BTFM_COTHB_ANSWERED);
    btfm_cothb_free(c);
}
END_TEST

/* Three one-step paths: answers A (0.5), A (0.5), B (0.9). Agreement counts by how many
 * wrong answers there are: W = 1 gives w_A = 2 * 2 - 1 = 3, w_B = 9 and P(B) = 9 / 13;
 * W = 4 gives w_A = 5 * 5 - 1 = 24, w_B = 36 and P(B) = 36 / 61. */
START_TEST(the_vote_weighs_agreement_by_wrong_answers)
{
    for (int k = 0; k < 2; k++) {
        btfm_cothb *c = make_budget(1, 3);
        ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_CONTINUE_THRESHOLD, 0));
        ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_BRANCH_THRESHOLD, 0));
        ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_WRONG_ANSWERS, k ? 4 : 1));
        expect(c, BTFM_COTHB_EXTEND, 0);
        int64_t n1 = grow_answer(c, 0, 0.5, 1, 100);
        ck_assert_int_eq(expect(c, BTFM_COTHB_BRANCH, 0), n1);
        int64_t n2 = grow_answer(c, 0, 0.5, 1, 100);
        ck_assert_int_eq(expect(c, BTFM_COTHB_BRANCH, 0), n2);
        int64_t n3 = grow_answer(c, 0, 0.9, 1, 200);
        expect(c, BTFM_COTHB_ANSWER, n3);
        double want_b = k ? 36.0 / 61 : 9.0 / 13, want_a = k ? 24.0 / 61 : 3.0 / 13;
        ck_assert_int_eq(btfm_cothb_n_answers(c), 2);
        for (int i = 0; i < 2; i++) {
            int64_t key, paths;
            double p;
            ck_assert_ok(btfm_cothb_answer_info(c, i, &key, NULL, &p, &paths));
            ck_assert_double_eq_tol(p, key == 100 ? want_a : want_b, 1e-12);
            ck_assert_int_eq(paths, key == 100 ? 2 : 1);
        }
        btfm_cothb_free(c);
    }
}
END_TEST

/* Optimal stopping (planning = 1) on paths of 2 steps with 3 steps of budget: after the
 * first step one spare action remains. With W(b, s, m) the value of best candidate b
 * with s spare actions and m steps to take, W(x, 0, m) = x p0^(m-1), so accepting is
 * worth b V(1, 1) with V(1, 1) = E max(r, E max(r, r')) > p0, re-sampling
 * p0 E max(b, r) and re-checking p0 E[b'] = p0 b (readings are a martingale), below
 * accepting. A weak step (0.3) is therefore re-sampled and a strong one (0.97) accepted,
 * and a re-check is never chosen. */
START_TEST(optimal_stopping_resamples_weak_steps_and_accepts_strong_ones)
{
    const double first[2] = {0.3, 0.97};
    for (int k = 0; k < 2; k++) {
        btfm_cothb *c = make_budget(2, 3);
        ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_PLANNING, 1));
        ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_BASE_RATE, 0.8));
        expect(c, BTFM_COTHB_EXTEND, 0);
        int64_t a = grow(c, 0, first[k], 0);
        if (k == 0) {
            ck_assert_int_eq(expect(c, BTFM_COTHB_BRANCH, 0), a);
            int64_t b = grow(c, 0, 0.1, 0); /* worse: nothing spare, the first is retrieved */
            ck_assert_int_eq(expect(c, BTFM_COTHB_RETRIEVE, a), b);
            expect(c, BTFM_COTHB_EXTEND, a);
        } else {
            expect(c, BTFM_COTHB_EXTEND, a);
        }
        btfm_cothb_free(c);
    }
}
END_TEST

/* Paths of 3 steps and a budget of 4: an uncertain first step may be re-checked (3 left
 * for the re-check and the 2 remaining steps) but not re-sampled after it (that would
 * need 3 more), so the path is finished with it and answered. */
START_TEST(budget_policy_never_starts_what_it_cannot_finish)
{
    btfm_cothb *c = make_budget(3, 4);
    expect(c, BTFM_COTHB_EXTEND, 0);
    int64_t a = grow(c, 0, 0.5, 0);
    expect(c, BTFM_COTHB_DECOMPOSE, a);
    int64_t sub = grow(c, a, 0.3, 1);
    expect(c, BTFM_COTHB_RETURN, sub);
    expect(c, BTFM_COTHB_EXTEND, a);
    int64_t b = grow(c, a, 0.9, 0);
    expect(c, BTFM_COTHB_EXTEND, b);
    int64_t t = grow_answer(c, b, 0.9, 1, 1);
    expect(c, BTFM_COTHB_ANSWER, t);
    double cost;
    ck_assert_ok(btfm_cothb_progress(c, NULL, NULL, &cost));
    ck_assert_double_eq(cost, 4);
    /* Without any finished path, running out of budget stops without an answer. */
    btfm_cothb *d = make_budget(3, 2);
    expect(d, BTFM_COTHB_EXTEND, 0);
    int64_t x = grow(d, 0, 0.9, 0);
    expect(d, BTFM_COTHB_EXTEND, x);
    int64_t y = grow(d, x, 0.9, 0);
    expect(d, BTFM_COTHB_STOP, y);
    ck_assert_status(btfm_cothb_answer(d, NULL, NULL, NULL), BTFM_E_NOTFOUND);
    btfm_cothb_free(d);
    btfm_cothb_free(c);
}
END_TEST

/* A single path of fresh steps, each accepted, observed with the given readings: the
 * readings' statistics the budget policy estimates the signal from. */
static btfm_cothb *read_steps(const double *r, int n)
{
    btfm_cothb *c = make_budget(0, n);
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_CONTINUE_THRESHOLD, 0));
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_BRANCH_THRESHOLD, 0));
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MAX_DEPTH, n + 1));
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MAX_STEPS, 2 * n + 20));
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_TRACE, 0));
    int64_t node = 0;
    for (int i = 0; i < n; i++) {
        expect(c, BTFM_COTHB_EXTEND, node);
        node = grow(c, node, r[i], 0);
    }
    return c;
}

/* The signal's d' from the spread of the readings: calibrated readings of simulated
 * steps (base rate 0.8, r = P(correct | x) = sigmoid(d' x + log 4)) give back the d' of
 * the simulation; readings that never vary (a calibrated host whose signal carries
 * nothing) give d' near 0 within four steps (posterior mean 0.046 by the grid of
 * plan.c), and with at most one reading nothing is known: the prior's mean, 1.5. The
 * statistics describe the host's signal, so btfm_cothb_reset keeps them. */
START_TEST(the_signal_strength_is_estimated_from_the_spread_of_the_readings)
{
    enum { N = 1500 };
    static double x[N], r[N];
    static int y[N];
    const double dprimes[3] = {0.5, 1, 2};
    for (int k = 0; k < 3; k++) {
        simulate_steps(dprimes[k], N, 11 + (uint64_t)k, x, y);
        for (int i = 0; i < N; i++) r[i] = 1 / (1 + exp(-(dprimes[k] * x[i] + log(4.0))));
        btfm_cothb *c = read_steps(r, N);
        double d = btfm_cothb_signal_dprime(c);
        ck_assert_msg(fabs(d - dprimes[k]) < 0.1, "d' %g estimated as %g", dprimes[k], d);
        ck_assert_ok(btfm_cothb_reset(c));
        ck_assert_double_eq(btfm_cothb_signal_dprime(c), d);
        btfm_cothb_free(c);
    }
    const double constant[4] = {0.8, 0.8, 0.8, 0.8};
    btfm_cothb *one = read_steps(constant, 1), *four = read_steps(constant, 4);
    ck_assert_double_eq_tol(btfm_cothb_signal_dprime(one), 1.5, 1e-12);
    ck_assert_double_lt(btfm_cothb_signal_dprime(four), 0.05);
    btfm_cothb_free(one);
    btfm_cothb_free(four);
}
END_TEST

/* Budget-policy searches (paths of 4 steps, budget 12) over `problems` simulated
 * problems, one controller reset between them: a generated step is right with
 * probability 0.8, and each reading of it (its own, each re-check) is an independent
 * error score x ~ N(-d'/2, 1) when right, N(+d'/2, 1) when wrong. A calibrated host
 * reports P(right | x) = sigmoid(log 4 - d' x), a raw one sigmoid(-x). */
static btfm_cothb *drive_readings(double dprime, int calibrated, int problems, uint64_t seed)
{
    enum { MAX_NODES = 256 };
    btfm_cothb *c = make();
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_PATH_LENGTH, 4));
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MAX_COST, 12));
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MAX_NODES, MAX_NODES));
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_TRACE, 0));
    uint64_t state = seed;
    int right[MAX_NODES];
    for (int p = 0; p < problems; p++) {
        ck_assert_ok(btfm_cothb_reset(c));
        right[0] = 1;
        for (;;) {
            int action = 0, level = 0;
            int64_t node = -1, target = -1, id = -1;
            ck_assert_ok(btfm_cothb_next(c, &action, &node, &target));
            if (action == BTFM_COTHB_ANSWER || action == BTFM_COTHB_STOP) break;
            if (action != BTFM_COTHB_EXTEND && action != BTFM_COTHB_BRANCH &&
                action != BTFM_COTHB_DECOMPOSE)
                continue;
            ck_assert_ok(btfm_cothb_add_node(c, node, &id));
            ck_assert_int_lt(id, MAX_NODES);
            ck_assert_ok(btfm_cothb_node_info(c, id, NULL, &level, NULL, NULL, NULL));
            if (level > 0) { /* a re-check: one more reading of step `node` */
                right[id] = right[node];
            } else {
                state = state * 6364136223846793005ULL + 1442695040888963407ULL;
                right[id] = (double)(state >> 11) * 0x1.0p-53 < 0.8;
            }
            double x = gauss(&state) + (right[id] ? -dprime / 2 : dprime / 2);
            double r = calibrated ? 1 / (1 + exp(-(log(4.0) - dprime * x))) : 1 / (1 + exp(x));
            int depth = 0;
            ck_assert_ok(btfm_cothb_node_info(c, id, NULL, NULL, NULL, &depth, NULL));
            double s[7] = {r, NAN, NAN, NAN, NAN, NAN, level > 0 || depth >= 4 ? 1.0 : NAN};
            ck_assert_ok(btfm_cothb_observe(c, id, s, 7));
        }
    }
    return c;
}

/* Raw scores that vary but carry nothing look informative to the spread of the readings
 * (log-odds of variance 1 read as calibrated give d' near 0.9), but re-checks of a step
 * agree with its first reading no more than readings of different steps do: the
 * controller's d' is near the simulation's 0, it then stops re-checking, and its
 * probabilities no longer follow the noise (every path of a search equally probable).
 * Calibrated readings of an informative signal (d' = 1) keep their d' within 0.1 with
 * the re-checks they received. */
START_TEST(the_signal_strength_is_checked_by_the_agreement_of_re_checks)
{
    btfm_cothb *noise = drive_readings(0, 0, 250, 3);
    double d = btfm_cothb_signal_dprime(noise);
    ck_assert_msg(noise->n_pairs >= 20, "%lld re-checks", (long long)noise->n_pairs);
    ck_assert_msg(d < 0.3, "d' of uninformative raw scores estimated as %g", d);
    /* The spread alone says otherwise: the same readings without the re-checks. */
    btfm_cothb *spread = make();
    spread->read_count = noise->read_count;
    spread->read_sum = noise->read_sum;
    spread->read_logit_sum = noise->read_logit_sum;
    spread->read_logit_sq = noise->read_logit_sq;
    ck_assert_double_gt(btfm_cothb_signal_dprime(spread), 0.6);
    btfm_cothb_free(spread);
    /* Uncalibrated readings are mapped to their likelihood ratios: near 1 at d' near 0. */
    ck_assert_int_eq(noise->reading_mapped, 1);
    ck_assert_double_lt(noise->reading_slope, 0.3);
    /* A saved controller keeps the re-checks and their verdict. */
    size_t size = 0;
    ck_assert_ok(btfm_cothb_save_buffer(noise, NULL, 0, &size));
    void *buf = malloc(size);
    btfm_cothb *loaded = NULL;
    ck_assert_ok(btfm_cothb_save_buffer(noise, buf, size, &size));
    ck_assert_ok(btfm_cothb_load_buffer(&loaded, buf, size));
    ck_assert_int_eq(loaded->n_pairs, noise->n_pairs);
    ck_assert_double_eq(btfm_cothb_signal_dprime(loaded), d);
    btfm_cothb_free(loaded);
    free(buf);
    btfm_cothb_free(noise);

    btfm_cothb *signal = drive_readings(1, 1, 100, 4);
    d = btfm_cothb_signal_dprime(signal);
    ck_assert_msg(signal->n_pairs >= 100, "%lld re-checks", (long long)signal->n_pairs);
    ck_assert_msg(fabs(d - 1) < 0.1, "d' 1 estimated as %g", d);
    ck_assert_int_eq(signal->reading_mapped, 0);
    btfm_cothb_free(signal);
}
END_TEST

/* Multichannel features through the model layer's logistic regression. Steps right with
 * probability 0.8 and two features x_j ~ N(-+mu_j / 2, sd_j^2) in their own units: the
 * truth is P(right | x) = sigmoid(log 4 - sum_j mu_j (x_j - c_j) / sd_j^2), and the
 * held-out d' is |mu / sd| = 1.5 (the simulation's). */
START_TEST(feature_calibration_recovers_the_simulated_logistic_map)
{
    enum { N = 1500 };
    static float x[N * 2];
    static int32_t y[N];
    const double mu[2] = {1.2 * 4, 0.9 * 10}, sd[2] = {4, 10}, center[2] = {6, 30};
    uint64_t state = 21;
    for (int i = 0; i < N; i++) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        y[i] = (double)(state >> 11) * 0x1.0p-53 < 0.8;
        for (int j = 0; j < 2; j++)
            x[i * 2 + j] = (float)(center[j] + sd[j] * gauss(&state) + (y[i] ? -mu[j] : mu[j]) / 2);
    }
    btfm_cothb *c = make();
    double p = 0;
    ck_assert_int_eq(btfm_cothb_reliability_of_features(c, &p, x, 2), BTFM_E_STATE);
    ck_assert_int_eq(btfm_cothb_n_features(c), 0);
    ck_assert_ok(btfm_cothb_calibrate_features(c, x, N, 2, y, 1e-3));
    ck_assert_int_eq(btfm_cothb_n_features(c), 2);
    double w[2], b, dprime;
    ck_assert_ok(btfm_cothb_feature_weights(c, w, 2, &b, &dprime));
    double truth_b = log(4.0);
    for (int j = 0; j < 2; j++) {
        double truth = -mu[j] / (sd[j] * sd[j]);
        ck_assert_msg(fabs(w[j] - truth) < 0.2 * fabs(truth), "w[%d] %g, truth %g", j, w[j], truth);
        truth_b -= truth * center[j];
    }
    ck_assert_msg(fabs(b - truth_b) < 0.5, "intercept %g, truth %g", b, truth_b);
    ck_assert_msg(fabs(dprime - 1.5) < 0.15, "held-out d' %g, truth 1.5", dprime);
    /* The planner reads the calibration's d' and base rate. */
    ck_assert_double_eq(btfm_cothb_signal_dprime(c), dprime);
    /* A step's features are observed as their probability, sigmoid(w . x + b). */
    int action = 0;
    int64_t node = -1, target = -1, id = -1;
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_POLICY, 0));
    ck_assert_ok(btfm_cothb_next(c, &action, &node, &target));
    ck_assert_ok(btfm_cothb_add_node(c, node, &id));
    const float one[2] = {2.5f, 41.0f};
    ck_assert_ok(btfm_cothb_observe_features(c, id, BTFM_COTHB_SIGNAL_RELIABILITY, one, 2));
    double r = 0, expected = 1 / (1 + exp(-(w[0] * 2.5 + w[1] * 41.0 + b)));
    ck_assert_ok(btfm_cothb_reliability(c, id, &r));
    ck_assert_double_eq_tol(r, expected, 1e-12);
    /* Bad input: wrong width, a non-finite feature, labels other than 0/1, one class. */
    ck_assert_int_eq(btfm_cothb_reliability_of_features(c, &p, x, 3), BTFM_E_INVALID);
    const float nan_row[2] = {NAN, 1};
    ck_assert_int_eq(btfm_cothb_reliability_of_features(c, &p, nan_row, 2), BTFM_E_RANGE);
    y[7] = 2;
    ck_assert_int_eq(btfm_cothb_calibrate_features(c, x, N, 2, y, 1), BTFM_E_INVALID);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "correct[7] = 2"));
    y[7] = 1;
    static int32_t all_right[N];
    for (int i = 0; i < N; i++) all_right[i] = 1;
    ck_assert_int_eq(btfm_cothb_calibrate_features(c, x, N, 2, all_right, 1), BTFM_E_INVALID);
    /* The failed fits kept the calibration; a saved controller keeps it too. */
    double w2[2], b2;
    size_t size = 0;
    ck_assert_ok(btfm_cothb_save_buffer(c, NULL, 0, &size));
    void *buf = malloc(size);
    btfm_cothb *loaded = NULL;
    ck_assert_ok(btfm_cothb_save_buffer(c, buf, size, &size));
    ck_assert_ok(btfm_cothb_load_buffer(&loaded, buf, size));
    ck_assert_ok(btfm_cothb_feature_weights(loaded, w2, 2, &b2, NULL));
    ck_assert(w2[0] == w[0] && w2[1] == w[1] && b2 == b);
    ck_assert_int_eq(btfm_cothb_feature_weights(loaded, w2, 1, NULL, NULL), BTFM_E_RANGE);
    btfm_cothb_free(loaded);
    free(buf);
    btfm_cothb_free(c);
}
END_TEST

/* A signal that carries nothing cannot improve a step, so the budget goes to independent
 * paths settled by the vote (self-consistency). Earlier problems showed readings that
 * never vary; after the reset, paths of 2 steps with a budget of 6 are three paths, none
 * of them re-checked or re-sampled. Answers 1, 2, 1 at path probability p = 0.8 * 0.8:
 * with o = p / (1 - p), w_1 = (1 + o)^2 - 1 and w_2 = o, P(1) = w_1 / (1 + w_1 + w_2), at
 * the first terminal reaching it. With min_dprime = 0 the same readings are planned
 * with a d' that rounds below the planning grid: the search still ends with an answer. */
START_TEST(without_signal_spare_budget_goes_to_independent_paths)
{
    const double constant[5] = {0.8, 0.8, 0.8, 0.8, 0.8};
    btfm_cothb *c = read_steps(constant, 5);
    ck_assert_ok(btfm_cothb_reset(c));
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_PLANNING, 1));
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_CONTINUE_THRESHOLD, 0.7));
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_BRANCH_THRESHOLD, 0.3));
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_PATH_LENGTH, 2));
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MAX_COST, 6));
    const int64_t keys[3] = {1, 2, 1};
    int64_t first = -1, previous = -1;
    for (int i = 0; i < 3; i++) {
        int64_t target = expect(c, i ? BTFM_COTHB_BRANCH : BTFM_COTHB_EXTEND, 0);
        if (i) ck_assert_int_eq(target, previous);
        int64_t a = grow(c, 0, 0.8, 0);
        expect(c, BTFM_COTHB_EXTEND, a);
        previous = grow_answer(c, a, 0.8, 1, keys[i]);
        if (!i) first = previous;
    }
    expect(c, BTFM_COTHB_ANSWER, first);
    double o = 0.64 / 0.36, w1 = (1 + o) * (1 + o) - 1, w2 = o, p;
    int64_t key;
    ck_assert_ok(btfm_cothb_answer(c, NULL, &key, &p));
    ck_assert_int_eq(key, 1);
    ck_assert_double_eq_tol(p, w1 / (1 + w1 + w2), 1e-12);
    btfm_cothb_free(c);

    const double weak[12] = {0.78, 0.82, 0.78, 0.82, 0.78, 0.82, 0.78, 0.82, 0.78, 0.82, 0.78, 0.82};
    c = read_steps(weak, 12);
    double d = btfm_cothb_signal_dprime(c);
    ck_assert_double_gt(d, 0.05); /* planned, below the grid's first d' of 0.25 */
    ck_assert_double_lt(d, 0.125);
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MIN_DPRIME, 0));
    int choice = btfm_cothb_plan_step(c, 0.5, 10, 3, 1);
    ck_assert(choice == COTHB_STEP_ACCEPT || choice == COTHB_STEP_RESAMPLE ||
              choice == COTHB_STEP_RECHECK);
    btfm_cothb_free(c);
}
END_TEST

/* Budget left after a finished path goes to its weakest step as optimal stopping for
 * that one step decides. Paths of 2 steps, a budget of 3: path (0.95, 0.9) leaves one
 * spare step. For one step at stake with one spare step, a re-check is worth b (the
 * readings are a martingale) and a re-sample E max(b, r) > b, so the weakest step (0.9)
 * is re-sampled although it is above continue_threshold; the new candidate (0.95,
 * answer 2) then wins the vote: P = w_2 / (1 + w_1 + w_2) with w_i the odds of its path
 * (0.95 * 0.9 and 0.95 * 0.95). With planning = 0 the step passes the threshold (0.7), a
 * new path does not fit, and the first path is answered. */
START_TEST(spare_budget_after_a_path_goes_to_its_weakest_step_by_optimal_stopping)
{
    for (int planning = 1; planning >= 0; planning--) {
        btfm_cothb *c = make_budget(2, 3);
        ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_PLANNING, planning));
        ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_BASE_RATE, 0.8));
        ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MIN_DPRIME, 0));
        expect(c, BTFM_COTHB_EXTEND, 0);
        int64_t a = grow(c, 0, 0.95, 0);
        expect(c, BTFM_COTHB_EXTEND, a);
        int64_t b = grow_answer(c, a, 0.9, 1, 1);
        if (!planning) {
            expect(c, BTFM_COTHB_ANSWER, b);
            btfm_cothb_free(c);
            continue;
        }
        ck_assert_int_eq(expect(c, BTFM_COTHB_BRANCH, a), b);
        int64_t d = grow_answer(c, a, 0.95, 1, 2);
        expect(c, BTFM_COTHB_ANSWER, d);
        double p1 = 0.95 * 0.9, p2 = 0.95 * 0.95, w1 = p1 / (1 - p1), w2 = p2 / (1 - p2), p;
        int64_t key;
        ck_assert_ok(btfm_cothb_answer(c, NULL, &key, &p));
        ck_assert_int_eq(key, 2);
        ck_assert_double_eq_tol(p, w2 / (1 + w1 + w2), 1e-12);
        btfm_cothb_free(c);
    }
}
END_TEST

/* Files of format 2 written before min_dprime hold one parameter less: they load with
 * the parameter at its default and every other one as saved. */
START_TEST(format_2_files_without_min_dprime_still_load)
{
    btfm_cothb *c = make(), *fresh = make(), *loaded = NULL;
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_PLANNING, 0));
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MIN_DPRIME, 2));
    size_t size, old_size, nbytes;
    ck_assert_ok(btfm_cothb_save_buffer(c, NULL, 0, &size));
    void *blob = malloc(size);
    ck_assert_ok(btfm_cothb_save_buffer(c, blob, size, &size));
    double *params = container_array_copy(blob, size, "cothb", "params", &nbytes);
    void *old = container_edit(blob, size, "cothb", "params", params, WHOLE_ARRAY,
                               BTFM_COTHB_PARAM_MIN_DPRIME, &old_size);
    ck_assert_ok(btfm_cothb_load_buffer(&loaded, old, old_size));
    double planning, min_dprime, fresh_value;
    ck_assert_ok(btfm_cothb_get_param(loaded, BTFM_COTHB_PARAM_PLANNING, &planning));
    ck_assert_ok(btfm_cothb_get_param(loaded, BTFM_COTHB_PARAM_MIN_DPRIME, &min_dprime));
    ck_assert_ok(btfm_cothb_get_param(fresh, BTFM_COTHB_PARAM_MIN_DPRIME, &fresh_value));
    ck_assert_double_eq(planning, 0);
    ck_assert_double_eq(min_dprime, fresh_value);
    btfm_cothb_free(loaded);
    btfm_cothb_free(fresh);
    btfm_cothb_free(c);
    free(params);
    free(blob);
    free(old);
}
END_TEST

/* The strategy model of doc/cothb.md by hand: two entries (strategy 0 and "other"),
 * volatility tau, slip eps, chance g, outcomes as readings at base rate 1/2. */
static double probe_step(double lambda, int outcome, double tau, double eps, double g)
{
    double v = (1 - tau) * lambda + tau * (1 - lambda); /* n = 2 entries: 1 / (n - 1) = 1 */
    double right = outcome ? (1 - eps) / 0.5 : eps / 0.5;
    double wrong = outcome ? g / 0.5 : (1 - g) / 0.5;
    return v * right / (v * right + (1 - v) * wrong);
}

static int64_t strategy_of(btfm_cothb *c, int64_t node)
{
    int64_t s = -1;
    ck_assert_ok(btfm_cothb_node_strategy(c, node, &s));
    return s;
}

/* Outcome-only: ten successes with strategy 0, then a failure. The posterior still
 * favours strategy 0 (a slip): the step is re-sampled with it. A second failure is no
 * longer a slip: the re-sample is asked with a new strategy. */
START_TEST(outcomes_leave_a_strategy_only_when_slips_do_not_explain_them)
{
    btfm_cothb *c = make_budget(40, 100);
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_PROBE, 1));
    double lambda = 1 - 0.2; /* probe_prior 0.2: strategy 0 starts at 0.8 */
    int64_t node = 0;
    for (int i = 0; i < 12; i++) {
        int outcome = i < 10;
        expect(c, i < 11 ? BTFM_COTHB_EXTEND : BTFM_COTHB_BRANCH, i < 11 ? node : node);
        int64_t id;
        ck_assert_ok(btfm_cothb_add_node(c, i < 11 ? node : node, &id));
        ck_assert_int_eq(strategy_of(c, id), 0);
        double s[6] = {NAN, NAN, NAN, NAN, NAN, outcome};
        ck_assert_ok(btfm_cothb_observe(c, id, s, 6));
        lambda = probe_step(lambda, outcome, 0.05, 0.1, 0.1);
        if (i == 11) lambda *= 1 - 0.2; /* a probe created at 0.2 scales the others */
        double got;
        int state;
        ck_assert_ok(btfm_cothb_strategy_info(c, 0, &got, &state));
        ck_assert_double_eq_tol(got, lambda, 1e-12);
        if (i < 10) node = id;
        if (i == 10) {
            ck_assert_double_gt(lambda, 0.5); /* one failure: a slip */
            ck_assert_int_eq(state, BTFM_COTHB_STRATEGY_ACTOR);
        }
        if (i == 11) { /* two: leave it for a new strategy */
            ck_assert_double_lt(lambda, 0.5);
            ck_assert_int_eq(state, BTFM_COTHB_STRATEGY_MONITORED);
        }
    }
    /* The step is re-sampled once more, now with strategy 1, a probe. */
    expect(c, BTFM_COTHB_BRANCH, node);
    int64_t id;
    ck_assert_ok(btfm_cothb_add_node(c, node, &id));
    ck_assert_int_eq(strategy_of(c, id), 1);
    ck_assert_int_eq(btfm_cothb_n_strategies(c), 2);
    int state;
    double lambda1;
    ck_assert_ok(btfm_cothb_strategy_info(c, 1, &lambda1, &state));
    ck_assert_int_eq(state, BTFM_COTHB_STRATEGY_PROBE);
    ck_assert_double_eq_tol(lambda1, 0.2, 1e-12);
    ck_assert_status(btfm_cothb_strategy_info(c, 2, NULL, NULL), BTFM_E_NOTFOUND);
    btfm_cothb_free(c);
}
END_TEST

/* Episodes whose reward is 1 when continue_threshold is 0.9, else 1 for every third
 * problem: the tuner must choose 0.9; its reports follow from the problem ids. */
typedef struct tuner_host {
    int episodes, fail_at;
    double bad_reward;
} tuner_host;

static int threshold_episode(btfm_cothb *c, int64_t problem, double *reward, void *user)
{
    tuner_host *h = user;
    double tau;
    if (btfm_cothb_get_param(c, BTFM_COTHB_PARAM_CONTINUE_THRESHOLD, &tau)) return BTFM_E_INTERNAL;
    if (btfm_cothb_n_nodes(c) != 1) return BTFM_E_INTERNAL; /* a fresh search each time */
    h->episodes++;
    if (h->fail_at && h->episodes == h->fail_at) return 1;
    *reward = h->bad_reward != 0 ? h->bad_reward : fabs(tau - 0.9) < 1e-9 ? 1 : problem % 3 == 0;
    return BTFM_OK;
}

static int cancel_at_half(const char *stage, double fraction, void *user)
{
    (void)stage;
    (void)user;
    return fraction > 0.5;
}

START_TEST(the_tuner_chooses_the_rewarding_setting)
{
    btfm_cothb_tuner *t = NULL;
    ck_assert_ok(btfm_cothb_tuner_new(&t));
    ck_assert_str_eq(btfm_object_kind_name(BTFM_OBJECT_COTHB_TUNER), "cothb_tuner");
    ck_assert_int_eq(btfm_param_count(BTFM_OBJECT_COTHB_TUNER), 4);
    const double values[4] = {0.5, 0.7, 0.9, 0.95};
    ck_assert_ok(btfm_cothb_tuner_add_knob(t, BTFM_COTHB_PARAM_CONTINUE_THRESHOLD, values, 4));
    ck_assert_ok(btfm_cothb_tuner_set_param(t, BTFM_COTHB_TUNER_PARAM_PROBLEMS, 30));
    ck_assert_ok(btfm_cothb_tuner_set_param(t, BTFM_COTHB_TUNER_PARAM_HELD_OUT, 60));
    btfm_cothb *base = make();
    double report[BTFM_COTHB_TUNING_SETTINGS + 1];
    ck_assert_status(btfm_cothb_tuner_result(t, report, 10), BTFM_E_STATE);
    tuner_host h = {0, 0, 0};
    ck_assert_ok(btfm_cothb_tuner_run(t, base, threshold_episode, &h));
    /* 30 for the start, 3 x 30 in the first pass (0.9 wins), 3 x 30 in the second (no
     * change, the search ends), 60 + 60 held out. */
    ck_assert_int_eq(h.episodes, 30 + 90 + 90 + 120);
    ck_assert_ok(btfm_cothb_tuner_result(t, report, 10));
    ck_assert_double_eq(report[BTFM_COTHB_TUNING_EPISODES], h.episodes);
    ck_assert_double_eq(report[BTFM_COTHB_TUNING_TRAIN_REWARD], 1);
    ck_assert_double_eq(report[BTFM_COTHB_TUNING_HELD_OUT_REWARD], 1);
    /* Held-out problems 30..89: every third one (30, 33, ...) rewards the base: 20 of 60. */
    ck_assert_double_eq_tol(report[BTFM_COTHB_TUNING_BASE_HELD_OUT_REWARD], 20.0 / 60, 1e-12);
    double diff = 40.0 / 60, sd = sqrt(diff * (1 - diff) * 60 / 59);
    ck_assert_double_eq_tol(report[BTFM_COTHB_TUNING_DIFFERENCE], diff, 1e-12);
    ck_assert_double_eq_tol(report[BTFM_COTHB_TUNING_DIFFERENCE_LOW],
                            diff - 1.959963984540054 * sd / sqrt(60), 1e-12);
    ck_assert_double_eq(report[BTFM_COTHB_TUNING_HELD_OUT_LOW], 1); /* no variance */
    int param;
    double chosen;
    ck_assert_int_eq(btfm_cothb_tuner_n_knobs(t), 1);
    ck_assert_ok(btfm_cothb_tuner_knob(t, 0, &param, &chosen));
    ck_assert_int_eq(param, BTFM_COTHB_PARAM_CONTINUE_THRESHOLD);
    ck_assert_double_eq(chosen, 0.9);
    ck_assert_ok(btfm_cothb_tuner_apply(t, base));
    double tau;
    ck_assert_ok(btfm_cothb_get_param(base, BTFM_COTHB_PARAM_CONTINUE_THRESHOLD, &tau));
    ck_assert_double_eq(tau, 0.9);
    /* A cancelled or failed run leaves the tuner as it was. */
    ck_assert_ok(btfm_cothb_set_param(base, BTFM_COTHB_PARAM_CONTINUE_THRESHOLD, 0.7));
    ck_assert_ok(btfm_cothb_tuner_set_progress(t, cancel_at_half, NULL));
    ck_assert_status(btfm_cothb_tuner_run(t, base, threshold_episode, &h), BTFM_E_CANCELLED);
    ck_assert_ok(btfm_cothb_tuner_set_progress(t, NULL, NULL));
    h.fail_at = h.episodes + 5;
    ck_assert_status(btfm_cothb_tuner_run(t, base, threshold_episode, &h), BTFM_E_INVALID);
    h.fail_at = 0;
    h.bad_reward = NAN;
    ck_assert_status(btfm_cothb_tuner_run(t, base, threshold_episode, &h), BTFM_E_RANGE);
    ck_assert_ok(btfm_cothb_tuner_knob(t, 0, NULL, &chosen));
    ck_assert_double_eq(chosen, 0.9);
    /* Bad knobs. */
    ck_assert_status(btfm_cothb_tuner_add_knob(t, 99, values, 1), BTFM_E_INVALID);
    const double out_of_range[1] = {1.5};
    ck_assert_status(btfm_cothb_tuner_add_knob(t, BTFM_COTHB_PARAM_HYSTERESIS, out_of_range, 1),
                     BTFM_E_RANGE);
    ck_assert_status(btfm_cothb_tuner_add_knob(t, BTFM_COTHB_PARAM_CONTINUE_THRESHOLD, values, 4),
                     BTFM_E_INVALID);
    ck_assert_status(btfm_cothb_tuner_add_knob(t, BTFM_COTHB_PARAM_SEED, values, 0), BTFM_E_INVALID);
    ck_assert_status(btfm_cothb_tuner_run(t, base, NULL, NULL), BTFM_E_INVALID);
    btfm_cothb_tuner_free(t);
    /* Without knobs the default set is tuned. */
    ck_assert_ok(btfm_cothb_tuner_new(&t));
    ck_assert_ok(btfm_cothb_tuner_set_param(t, BTFM_COTHB_TUNER_PARAM_PROBLEMS, 3));
    ck_assert_ok(btfm_cothb_tuner_set_param(t, BTFM_COTHB_TUNER_PARAM_HELD_OUT, 0));
    h.bad_reward = 0;
    ck_assert_ok(btfm_cothb_tuner_run(t, base, threshold_episode, &h));
    ck_assert_int_eq(btfm_cothb_tuner_n_knobs(t), 7);
    ck_assert_ok(btfm_cothb_tuner_result(t, report, 2));
    ck_assert(isnan(report[BTFM_COTHB_TUNING_HELD_OUT_REWARD]));
    btfm_cothb_tuner_free(t);
    btfm_cothb_tuner_free(NULL);
    btfm_cothb_free(base);
}
END_TEST

/* Reset: the same continuation as a new controller with the same configuration. */
START_TEST(reset_starts_a_new_problem_with_the_same_configuration)
{
    enum { N = 200 };
    static double x[N];
    static int y[N];
    simulate_steps(2.0, N, 3, x, y);
    btfm_cothb *c = make(), *fresh = make();
    for (int k = 0; k < 2; k++) {
        btfm_cothb *h = k ? fresh : c;
        ck_assert_ok(btfm_cothb_set_param(h, BTFM_COTHB_PARAM_MAX_STEPS, 60));
        ck_assert_ok(btfm_cothb_set_param(h, BTFM_COTHB_PARAM_CONTINUE_THRESHOLD, 0.8));
        ck_assert_ok(btfm_cothb_calibrate_reliability(h, BTFM_COTHB_CALIBRATION_PLATT, x, y, N));
    }
    uint64_t seed = 9;
    ck_assert_ok(btfm_cothb_run(c, trace_host, NULL, NULL, &seed));
    ck_assert_ok(btfm_cothb_reset(c));
    ck_assert_int_eq(btfm_cothb_n_nodes(c), 1);
    int64_t steps;
    double cost, tau, p, q;
    ck_assert_ok(btfm_cothb_progress(c, NULL, &steps, &cost));
    ck_assert_int_eq(steps, 0);
    ck_assert_double_eq(cost, 0);
    ck_assert_ok(btfm_cothb_get_param(c, BTFM_COTHB_PARAM_CONTINUE_THRESHOLD, &tau));
    ck_assert_double_eq(tau, 0.8);
    ck_assert_ok(btfm_cothb_reliability_of_score(c, 0.1, &p));
    ck_assert_ok(btfm_cothb_reliability_of_score(fresh, 0.1, &q));
    ck_assert_double_eq(p, q);
    ck_assert_status(btfm_cothb_answer(c, NULL, NULL, NULL), BTFM_E_NOTFOUND);
    uint64_t s1 = 21, s2 = 21;
    ck_assert_ok(btfm_cothb_run(c, trace_host, NULL, NULL, &s1));
    ck_assert_ok(btfm_cothb_run(fresh, trace_host, NULL, NULL, &s2));
    char *tc = trace_of(c), *tf = trace_of(fresh);
    ck_assert_str_eq(tc, tf);
    free(tc);
    free(tf);
    ck_assert_status(btfm_cothb_reset(NULL), BTFM_E_INVALID);
    btfm_cothb_free(c);
    btfm_cothb_free(fresh);
}
END_TEST

/* A saved search with answers and strategies comes back identical, and a damaged
 * strategy table or answer list is refused. */
START_TEST(load_validates_answers_and_strategies)
{
    btfm_cothb *c = make_budget(2, 8);
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_PROBE, 1));
    expect(c, BTFM_COTHB_EXTEND, 0);
    int64_t a = grow(c, 0, 0.95, 0);
    expect(c, BTFM_COTHB_EXTEND, a);
    grow_answer(c, a, 0.9, 1, 5);
    size_t size;
    ck_assert_ok(btfm_cothb_save_buffer(c, NULL, 0, &size));
    void *blob = malloc(size);
    ck_assert_ok(btfm_cothb_save_buffer(c, blob, size, &size));
    btfm_cothb *d = NULL;
    ck_assert_ok(btfm_cothb_load_buffer(&d, blob, size));
    double p, q;
    ck_assert_ok(btfm_cothb_answer(c, NULL, NULL, &p));
    ck_assert_ok(btfm_cothb_answer(d, NULL, NULL, &q));
    ck_assert_double_eq(p, q);
    btfm_cothb_free(d);
    size_t nbytes, bad_size;
    double *strategies = container_array_copy(blob, size, "cothb", "strategies", &nbytes);
    strategies[1] *= 0.5; /* reliabilities no longer sum to 1 */
    void *bad = container_replace(blob, size, "cothb",
                                  "strategies", strategies, WHOLE_ARRAY, &bad_size);
    ck_assert_status(btfm_cothb_load_buffer(&d, bad, bad_size), BTFM_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "sum of strategy reliabilities"));
    free(bad);
    free(strategies);
    int64_t *terminals = container_array_copy(blob, size, "cothb", "terminals", &nbytes);
    terminals[0] = a; /* not a finished path */
    bad = container_replace(blob, size, "cothb", "terminals", terminals, WHOLE_ARRAY, &bad_size);
    ck_assert_status(btfm_cothb_load_buffer(&d, bad, bad_size), BTFM_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "answer node"));
    free(bad);
    free(terminals);
    free(blob);
    btfm_cothb_free(c);
}
END_TEST

static Suite *cothb_suite(void)
{
    Suite *s = suite_create("cothb");
    TCase *tc = tcase_create("controller");
    unit_set_timeout(tc, 0.5); /* seconds of work on an idle machine */
    tcase_add_test(tc, names_and_sizes);
    tcase_add_test(tc, reliable_chain_is_answered);
    tcase_add_test(tc, intermediate_step_is_decomposed_and_returned);
    tcase_add_test(tc, unreliable_step_branches_then_confirms);
    tcase_add_test(tc, monitored_path_is_retrieved);
    tcase_add_test(tc, hysteresis_keeps_the_region);
    tcase_add_test(tc, outcomes_update_the_beta_posterior);
    tcase_add_test(tc, budgets_end_the_search);
    tcase_add_test(tc, every_search_terminates);
    tcase_add_test(tc, bad_input_is_refused_with_a_message);
    tcase_add_test(tc, runs_are_deterministic_for_a_seed);
    tcase_add_test(tc, run_reports_host_errors);
    tcase_add_test(tc, save_load_continues_identically);
    tcase_add_test(tc, calibration_recovers_known_thresholds);
    tcase_add_test(tc, stale_retrieval_signals_do_not_cycle);
    tcase_add_test(tc, logistic_switch_judges_the_path_it_would_retrieve);
    tcase_add_test(tc, logistic_policy_uses_the_sub_problem_result);
    tcase_add_test(tc, branch_points_match_a_naive_walk);
    tcase_add_test(tc, run_reports_every_action_with_its_target);
    tcase_add_test(tc, load_validates_every_node_field);
    tcase_add_test(tc, load_validates_counts_and_trace_values);
    tcase_add_test(tc, format_1_files_still_load);
    tcase_add_test(tc, isotonic_calibration_by_hand);
    tcase_add_test(tc, calibration_and_quality_recover_a_simulation);
    tcase_add_test(tc, calibration_is_saved_and_validated);
    tcase_add_test(tc, a_re_check_combines_readings_as_bayes_does);
    tcase_add_test(tc, budget_policy_spends_the_budget_and_answers_the_vote);
    tcase_add_test(tc, the_vote_weighs_agreement_by_wrong_answers);
    tcase_add_test(tc, budget_policy_never_starts_what_it_cannot_finish);
    tcase_add_test(tc, optimal_stopping_resamples_weak_steps_and_accepts_strong_ones);
    tcase_add_test(tc, outcomes_leave_a_strategy_only_when_slips_do_not_explain_them);
    tcase_add_test(tc, the_tuner_chooses_the_rewarding_setting);
    tcase_add_test(tc, reset_starts_a_new_problem_with_the_same_configuration);
    tcase_add_test(tc, load_validates_answers_and_strategies);
    tcase_add_test(tc, the_signal_strength_is_estimated_from_the_spread_of_the_readings);
    tcase_add_test(tc, the_signal_strength_is_checked_by_the_agreement_of_re_checks);
    tcase_add_test(tc, feature_calibration_recovers_the_simulated_logistic_map);
    tcase_add_test(tc, without_signal_spare_budget_goes_to_independent_paths);
    tcase_add_test(tc, format_2_files_without_min_dprime_still_load);
    tcase_add_test(tc, spare_budget_after_a_path_goes_to_its_weakest_step_by_optimal_stopping);
    suite_add_tcase(s, tc);
    return s;
}

BTFM_UNIT_MAIN(cothb_suite)
