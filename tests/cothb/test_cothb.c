/* The CoTHB controller: protocol, policy regions, inference, budgets, bad input. Every
 * expected action below follows from the documented policy (doc/cothb.md) applied by
 * hand to the signals the test gives. */
#include <math.h>
#include "unit.h"

static btfm_cothb *make(void)
{
    btfm_cothb *c = NULL;
    ck_assert_ok(btfm_cothb_new(&c));
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
    ck_assert_int_eq(btfm_cothb_signal_count(), BTFM_COTHB_SIGNAL_TERMINAL + 1);
    ck_assert_uint_le(btfm_cothb_node_bytes(), 256);
    ck_assert_int_eq(btfm_param_count(BTFM_OBJECT_COTHB), BTFM_COTHB_PARAM_TRACE + 1);
    ck_assert_str_eq(btfm_object_kind_name(BTFM_OBJECT_COTHB), "cothb");
    ck_assert(btfm_has_capability("cothb"));
}
END_TEST

/* A reliable chain is followed to its terminal node and answered. */
START_TEST(reliable_chain_is_answered)
{
    btfm_cothb *c = make();
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
    btfm_cothb *c = make();
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
    btfm_cothb *c = make();
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
    btfm_cothb *c = make();
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
    btfm_cothb *c = make();
    expect(c, BTFM_COTHB_EXTEND, 0);
    int64_t a = grow(c, 0, 0.9, 0);
    expect(c, BTFM_COTHB_EXTEND, a);
    int64_t b = grow(c, a, 0.68, 0);
    expect(c, BTFM_COTHB_EXTEND, b);
    btfm_cothb_free(c);

    c = make();
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
    btfm_cothb *c = make();
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
    btfm_cothb *c = make();
    int last;
    int64_t calls, steps;
    double cost;
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MAX_STEPS, 5));
    drive_constant(c, 0.9, &last, &calls);
    ck_assert_int_eq(last, BTFM_COTHB_STOP);
    ck_assert_int_eq(calls, 5); /* five extends, then STOP */
    ck_assert_int_eq(btfm_cothb_node_count(c), 6);
    btfm_cothb_free(c);

    c = make();
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
    c = make();
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MAX_DEPTH, 3));
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MAX_BREADTH, 2));
    drive_constant(c, 0.1, &last, &calls);
    ck_assert_int_eq(last, BTFM_COTHB_STOP);
    ck_assert_int_le(btfm_cothb_node_count(c), 1 + 2);
    btfm_cothb_free(c);

    c = make();
    ck_assert_ok(btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MAX_NODES, 4));
    drive_constant(c, 0.9, &last, &calls);
    ck_assert_int_eq(last, BTFM_COTHB_STOP);
    ck_assert_int_eq(btfm_cothb_node_count(c), 4);
    btfm_cothb_free(c);
}
END_TEST

/* Random hosts (random signals, random terminal flags, random parameters): the search
 * always ends within max_steps actions plus the final one. */
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
    btfm_cothb *c = make();
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
    ck_assert_status(btfm_cothb_observe(c, 0, ok, 8), BTFM_E_INVALID);

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
        btfm_cothb *c = make();
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
    ck_assert_int_eq(btfm_cothb_node_count(d), btfm_cothb_node_count(c));
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
    double w[7], b;
    ck_assert_ok(btfm_cothb_policy(c, 0, w, 7, &b));
    ck_assert_double_eq_tol(-b / w[0], 0.65, 0.02);
    ck_assert_double_eq(w[2], 0);
    ck_assert_ok(btfm_cothb_policy(c, 1, w, 7, &b));
    ck_assert_double_eq_tol(-b / w[1], 0.5, 0.03);
    double policy;
    ck_assert_ok(btfm_cothb_get_param(c, BTFM_COTHB_PARAM_POLICY, &policy));
    ck_assert_double_eq(policy, 1);
    /* Bad tables. */
    ck_assert_status(btfm_cothb_calibrate(c, x, N, 8, y, 1), BTFM_E_INVALID);
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

static Suite *cothb_suite(void)
{
    Suite *s = suite_create("cothb");
    TCase *tc = tcase_create("controller");
    tcase_set_timeout(tc, 60);
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
    suite_add_tcase(s, tc);
    return s;
}

BTFM_UNIT_MAIN(cothb_suite)
