/* Save and load the whole controller through the model container (kind "cothb"):
 * parameters, nodes, signals, monitored set, pending action, policy, calibration,
 * answers, strategies, random state and trace, so a loaded controller continues exactly
 * as the saved one would. Format 3 stores the node table as named column lists; format 1
 * files (release 1.2) still load. Every loaded field is checked (persist_check.c). */
#include <math.h>
#include <stddef.h>
#include <string.h>
#include <btfm/container.h>
#include "cothb_internal.h"
#include "core/persist.h"

#define COTHB_FORMAT 3
#define KIND "cothb"
enum { S_CURRENT, S_EXPLORE_FROM, S_MODE, S_PENDING, S_PENDING_NODE, S_PENDING_LEVEL,
       S_FINISHED, S_FINAL_NODE, S_STEPS, S_RNG, S_N_MONITORED, S_POLICY_FITTED, S_N_NODES,
       S_N_TRACE, S_COUNT_V1, S_LAST_ACTION = S_COUNT_V1, S_LAST_NODE, S_LAST_TARGET,
       S_LEARNED_LENGTH, S_REVISIT, S_READ_COUNT, S_PATH_READ_COUNT, S_N_STRATEGIES, S_ACTOR,
       S_NEXT_STRATEGY, S_N_TERMINALS, S_COUNT };
enum { R_COST, R_READ_SUM, R_PATH_READ_SUM, R_OTHER, R_LOGIT_SUM, R_LOGIT_SQ, R_COUNT };
#define TRACE_I64 5

/* The node table's columns, in file order: integer fields (int32 or int64 in the node)
 * and real fields. A new field is appended to its list. */
typedef struct column {
    size_t offset, size;
} column;
#define INT_COLUMN(field) {offsetof(cothb_node, field), sizeof(((cothb_node *)0)->field)}
static const column int_columns[] = {
    INT_COLUMN(parent),    INT_COLUMN(created_step),  INT_COLUMN(sub_root),
    INT_COLUMN(left_step), INT_COLUMN(observed_step), INT_COLUMN(answer),
    INT_COLUMN(level),     INT_COLUMN(depth),         INT_COLUMN(status),
    INT_COLUMN(n_children), INT_COLUMN(flags),        INT_COLUMN(strategy),
    INT_COLUMN(rechecks),  INT_COLUMN(n_evidence),    INT_COLUMN(n_path),
};
#define N_INT ((int)(sizeof int_columns / sizeof int_columns[0]))
#define REAL_COLUMN(field) offsetof(cothb_node, field)
static const size_t real_columns[] = {
    REAL_COLUMN(beta_a),       REAL_COLUMN(beta_b),   REAL_COLUMN(sub_reliability),
    REAL_COLUMN(evidence_sum), REAL_COLUMN(path_sum),
};
#define N_REAL ((int)(sizeof real_columns / sizeof real_columns[0]) + COTHB_NSIG)

static int64_t get_int(const cothb_node *n, const column *col)
{
    const char *p = (const char *)n + col->offset;
    if (col->size == sizeof(int64_t)) {
        int64_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static void set_int(cothb_node *n, const column *col, int64_t value)
{
    char *p = (char *)n + col->offset;
    if (col->size == sizeof(int64_t)) {
        memcpy(p, &value, sizeof value);
    } else {
        int32_t v = (int32_t)value;
        memcpy(p, &v, sizeof v);
    }
}

static double *real_field(cothb_node *n, int j)
{
    if (j < COTHB_NSIG) return &n->signals[j];
    return (double *)((char *)n + real_columns[j - COTHB_NSIG]);
}

/* The node and trace tables, through one scratch block sized for the largest. */
static btfm_status put_tables(const btfm_cothb *c, btfm_container *k)
{
    int64_t rows = c->n_nodes > c->n_trace ? c->n_nodes : c->n_trace;
    int width = N_INT > N_REAL ? N_INT : N_REAL;
    size_t bytes = (size_t)(rows > 0 ? rows : 1) * (size_t)width * sizeof(double);
    void *buf = btfm_malloc(bytes);
    if (!buf) return btfm_fail_nomem("btfm_cothb_save", bytes);
    int64_t *i64 = buf;
    double *f64 = buf;
    for (int64_t i = 0; i < c->n_nodes; i++)
        for (int j = 0; j < N_INT; j++) i64[i * N_INT + j] = get_int(&c->nodes[i], &int_columns[j]);
    int64_t shape[2] = {c->n_nodes, N_INT};
    btfm_status st = btfm_container_put(k, "node_int", BTFM_DTYPE_I64, 2, shape, buf);
    for (int64_t i = 0; !st && i < c->n_nodes; i++)
        for (int j = 0; j < N_REAL; j++)
            f64[i * N_REAL + j] = *real_field((cothb_node *)&c->nodes[i], j);
    shape[1] = N_REAL;
    if (!st) st = btfm_container_put(k, "node_real", BTFM_DTYPE_F64, 2, shape, buf);
    for (int64_t i = 0; !st && i < c->n_trace; i++) {
        const cothb_event *e = &c->trace[i];
        int64_t row[TRACE_I64] = {e->type, e->action, e->step, e->node, e->target};
        memcpy(i64 + i * TRACE_I64, row, sizeof row);
    }
    shape[0] = c->n_trace;
    shape[1] = TRACE_I64;
    if (!st) st = btfm_container_put(k, "trace_int", BTFM_DTYPE_I64, 2, shape, buf);
    for (int64_t i = 0; !st && i < c->n_trace; i++)
        memcpy(f64 + i * COTHB_NSIG, c->trace[i].values, sizeof c->trace[i].values);
    shape[1] = COTHB_NSIG;
    if (!st) st = btfm_container_put(k, "trace_real", BTFM_DTYPE_F64, 2, shape, buf);
    btfm_free(buf);
    return st;
}

/* Strategies (id, reliability, unconfirmed, retried) and the registered terminals. */
#define STRATEGY_COLUMNS 4
static btfm_status put_search(const btfm_cothb *c, btfm_container *k)
{
    double rows[(COTHB_MAX_MONITORED + 1) * STRATEGY_COLUMNS];
    for (int64_t i = 0; i < c->n_strategies; i++) {
        double *row = rows + i * STRATEGY_COLUMNS;
        row[0] = (double)c->strategies[i].id;
        row[1] = c->strategies[i].lambda;
        row[2] = (double)c->strategies[i].probe;
        row[3] = (double)c->strategies[i].tried;
    }
    int64_t shape[2] = {c->n_strategies, STRATEGY_COLUMNS}, n_terminals = c->n_terminals;
    btfm_status st = btfm_container_put(k, "strategies", BTFM_DTYPE_F64, 2, shape, rows);
    int64_t none = 0;
    if (!st) st = btfm_container_put(k, "terminals", BTFM_DTYPE_I64, 1, &n_terminals,
                                     c->terminals ? (const void *)c->terminals : &none);
    return st;
}

/* The reliability calibration: method, Platt's a and b, the isotonic sign, the base rate,
 * the knot count and d', then the isotonic knots (x row, y row). */
#define MAP_HEAD 7
static btfm_status put_map(const cothb_map *m, btfm_container *k)
{
    double head[MAP_HEAD] = {(double)m->method, m->a, m->b, m->sign, m->base_rate,
                             (double)m->n, m->dprime};
    int64_t count = MAP_HEAD, shape[2] = {2, m->n};
    btfm_status st = btfm_container_put(k, "reliability_map", BTFM_DTYPE_F64, 1, &count, head);
    if (!st && m->n > 0)
        st = btfm_container_put(k, "reliability_knots", BTFM_DTYPE_F64, 2, shape, m->x);
    return st;
}

static btfm_status bad_map(const char *what, double value)
{
    return btfm_fail(BTFM_E_FORMAT, "btfm_cothb_load: reliability calibration: %s = %g is not "
                     "a valid calibration", what, value);
}

/* Read and check the calibration (absent in files without one: none). */
static btfm_status read_map(cothb_map *m, const btfm_container *k)
{
    int index;
    if (btfm_container_find(k, "reliability_map", &index)) return BTFM_OK;
    double head[MAP_HEAD];
    btfm_status st = btfm_container_get(k, "reliability_map", BTFM_DTYPE_F64, MAP_HEAD, head);
    if (st) return st;
    if (!(head[6] >= 0 && head[6] < 100)) return bad_map("d'", head[6]);
    m->dprime = head[6];
    if (!(head[0] == 0 || head[0] == 1 || head[0] == 2)) return bad_map("method", head[0]);
    m->method = (int64_t)head[0];
    m->a = head[1];
    m->b = head[2];
    m->sign = head[3];
    m->base_rate = head[4];
    if (m->method != BTFM_COTHB_CALIBRATION_NONE && !(m->base_rate > 0 && m->base_rate < 1))
        return bad_map("base rate", m->base_rate);
    if (m->method == BTFM_COTHB_CALIBRATION_PLATT && (!isfinite(m->a) || !isfinite(m->b)))
        return bad_map("Platt slope or intercept", isfinite(m->a) ? m->b : m->a);
    if (m->method != BTFM_COTHB_CALIBRATION_ISOTONIC) return head[5] == 0 ? BTFM_OK : bad_map("knots", head[5]);
    if (!(head[5] >= 1 && head[5] <= 1e12) || head[5] != floor(head[5])) return bad_map("knots", head[5]);
    if (m->sign != 1 && m->sign != -1) return bad_map("direction", m->sign);
    m->n = (int64_t)head[5];
    size_t bytes = (size_t)m->n * 2 * sizeof(double);
    m->x = btfm_malloc(bytes);
    if (!m->x) return btfm_fail_nomem("btfm_cothb_load", bytes);
    m->y = m->x + m->n;
    st = btfm_container_get(k, "reliability_knots", BTFM_DTYPE_F64, (size_t)m->n * 2, m->x);
    for (int64_t i = 0; !st && i < m->n; i++) {
        if (!isfinite(m->x[i]) || (i > 0 && !(m->x[i] > m->x[i - 1])))
            st = bad_map("knot score (finite, increasing)", m->x[i]);
        else if (!(m->y[i] >= 0 && m->y[i] <= 1) || (i > 0 && m->y[i] < m->y[i - 1]))
            st = bad_map("knot probability (in [0, 1], non-decreasing)", m->y[i]);
    }
    return st;
}

/* The re-checks' readings (agreement.c), n x 3 values in one row; files written before
 * them have no such array and load without any. */
#define PAIRS_NAME "recheck_readings"

static btfm_status put_pairs(const btfm_cothb *c, btfm_container *k)
{
    double none = 0;
    int64_t count = c->n_pairs * 3, n_state = COTHB_AGREE_STATE;
    double state[COTHB_AGREE_STATE];
    btfm_cothb_agreement_state(c, state);
    btfm_status st = btfm_container_put(k, PAIRS_NAME, BTFM_DTYPE_F64, 1, &count,
                                        c->pairs ? (const void *)c->pairs : &none);
    if (!st) st = btfm_container_put(k, "recheck_state", BTFM_DTYPE_F64, 1, &n_state, state);
    return st;
}

/* The length of optional 1-D array `name` into *count (-1 when the file has none); a
 * length outside [min, max] or not a multiple of `per` is a format error. */
static btfm_status optional_length(const btfm_container *k, const char *name, int64_t min,
                                   int64_t max, int64_t per, int64_t *count)
{
    int index, dtype, ndim;
    int64_t shape[BTFM_CONTAINER_MAX_NDIM];
    *count = -1;
    if (btfm_container_find(k, name, &index)) return BTFM_OK;
    btfm_status st = btfm_container_array_info(k, index, NULL, &dtype, &ndim, shape);
    if (st) return st;
    if (ndim != 1 || shape[0] < min || shape[0] > max || shape[0] % per)
        return btfm_fail(BTFM_E_FORMAT, "btfm_cothb_load: array \"%s\" holds %lld values in "
                         "%d dimensions; expected one dimension of %lld to %lld values, a "
                         "multiple of %lld", name, ndim == 1 ? (long long)shape[0] : -1LL,
                         ndim, (long long)min, (long long)max, (long long)per);
    *count = shape[0];
    return BTFM_OK;
}

static btfm_status read_pairs(btfm_cothb *c, const btfm_container *k)
{
    int64_t count;
    btfm_status st = optional_length(k, PAIRS_NAME, 0, 3 << 16, 3, &count);
    if (st || count < 0) return st;
    int64_t n = count / 3;
    if (n > 0)
        st = btfm_reserve((void **)&c->pairs, &c->cap_pairs, n, 3 * sizeof *c->pairs,
                          "btfm_cothb_load");
    if (!st && n > 0)
        st = btfm_container_get(k, PAIRS_NAME, BTFM_DTYPE_F64, (size_t)count, c->pairs);
    if (!st) st = btfm_cothb_check_pairs(c->pairs, n);
    if (!st) c->n_pairs = n;
    double state[COTHB_AGREE_STATE];
    if (!st) st = btfm_container_get(k, "recheck_state", BTFM_DTYPE_F64, COTHB_AGREE_STATE, state);
    if (!st) st = btfm_cothb_set_agreement_state(c, state);
    return st;
}

/* The feature calibration (features.c): the weights then the intercept, base rate and
 * d'; absent without one (and from files written before it). */
#define FEATURES_NAME "feature_calibration"

static btfm_status put_features(const cothb_features *f, btfm_container *k)
{
    if (!f->n) return BTFM_OK;
    int64_t count = f->n + 3;
    double *row = btfm_malloc((size_t)count * sizeof *row);
    if (!row) return btfm_fail_nomem("btfm_cothb_save", (size_t)count * sizeof *row);
    memcpy(row, f->w, (size_t)f->n * sizeof *row);
    row[f->n] = f->b;
    row[f->n + 1] = f->base_rate;
    row[f->n + 2] = f->dprime;
    btfm_status st = btfm_container_put(k, FEATURES_NAME, BTFM_DTYPE_F64, 1, &count, row);
    btfm_free(row);
    return st;
}

static btfm_status read_features(cothb_features *f, const btfm_container *k)
{
    int64_t count;
    btfm_status st = optional_length(k, FEATURES_NAME, 4, 4096 + 3, 1, &count);
    if (st || count < 0) return st;
    double *row = btfm_malloc((size_t)count * sizeof *row);
    if (!row) return btfm_fail_nomem("btfm_cothb_load", (size_t)count * sizeof *row);
    st = btfm_container_get(k, FEATURES_NAME, BTFM_DTYPE_F64, (size_t)count, row);
    int64_t n = count - 3;
    for (int64_t j = 0; !st && j <= n; j++)
        if (!isfinite(row[j])) st = btfm_cothb_load_error(-1, "feature weight", row[j]);
    if (!st && !(row[n + 1] > 0 && row[n + 1] < 1))
        st = btfm_cothb_load_error(-1, "feature base rate", row[n + 1]);
    if (!st && !(row[n + 2] >= 0 && row[n + 2] <= 100))
        st = btfm_cothb_load_error(-1, "feature d'", row[n + 2]);
    if (st) {
        btfm_free(row);
        return st;
    }
    f->n = n;
    f->w = row; /* the weights lead the row; the rest is copied out */
    f->b = row[n];
    f->base_rate = row[n + 1];
    f->dprime = row[n + 2];
    return BTFM_OK;
}

static btfm_status to_container(const void *obj, btfm_container **out, const char *func)
{
    (void)func;
    const btfm_cothb *c = obj;
    btfm_container *k;
    btfm_status st = btfm_container_new(&k, KIND);
    if (st) return st;
    int32_t format = COTHB_FORMAT;
    int64_t state[S_COUNT] = {
        c->current, c->explore_from, c->mode, c->pending, c->pending_node, c->pending_level,
        c->finished, c->final_node, c->steps, 0, c->n_monitored, c->policy_fitted,
        c->n_nodes, c->n_trace, c->last_action, c->last_node, c->last_target,
        c->learned_length, c->revisit, c->read_count, c->path_read_count, c->n_strategies,
        c->actor, c->next_strategy, c->n_terminals};
    memcpy(&state[S_RNG], &c->rng, sizeof c->rng);
    double reals[R_COUNT] = {c->cost, c->read_sum, c->path_read_sum, c->other,
                             c->read_logit_sum, c->read_logit_sq};
    double policy[COTHB_NHEAD][COTHB_NSIG + 1];
    for (int h = 0; h < COTHB_NHEAD; h++) {
        memcpy(policy[h], c->policy_w[h], sizeof c->policy_w[h]);
        policy[h][COTHB_NSIG] = c->policy_b[h];
    }
    int64_t one = 1, nparam = COTHB_NPARAM, nstate = S_COUNT, nreal = R_COUNT;
    int64_t nmon = c->n_monitored, policy_shape[2] = {COTHB_NHEAD, COTHB_NSIG + 1};
    st = btfm_container_put(k, "format", BTFM_DTYPE_I32, 1, &one, &format);
    if (!st) st = btfm_container_put(k, "params", BTFM_DTYPE_F64, 1, &nparam, c->params);
    if (!st) st = btfm_container_put(k, "state", BTFM_DTYPE_I64, 1, &nstate, state);
    if (!st) st = btfm_container_put(k, "state_real", BTFM_DTYPE_F64, 1, &nreal, reals);
    if (!st) st = btfm_container_put(k, "monitored", BTFM_DTYPE_I64, 1, &nmon, c->monitored);
    if (!st) st = btfm_container_put(k, "policy", BTFM_DTYPE_F64, 2, policy_shape, policy);
    if (!st) st = put_tables(c, k);
    if (!st) st = put_search(c, k);
    if (!st) st = put_map(&c->map, k);
    if (!st) st = put_pairs(c, k);
    if (!st) st = put_features(&c->features, k);
    if (st) {
        btfm_container_free(k);
        return st;
    }
    *out = k;
    return BTFM_OK;
}

static btfm_status bad(const char *what, long long value)
{
    return btfm_cothb_load_error(-1, what, (double)value);
}

/* Format 1 (release 1.2): node_i64 = parent, created_step; node_i32 = level, depth,
 * status, n_children, flags, reserved; node_f64 = 7 signals, beta a, b, sub-problem
 * reliability. The fields format 1 lacked are derived (sub_root) or start unknown. */
static btfm_status read_nodes_v1(btfm_cothb *c, const btfm_container *k, void *buf)
{
    int64_t *i64 = buf;
    int32_t *i32 = buf;
    double *f64 = buf;
    size_t n = (size_t)c->n_nodes;
    btfm_status st = btfm_container_get(k, "node_i64", BTFM_DTYPE_I64, n * 2, buf);
    for (size_t i = 0; !st && i < n; i++) {
        c->nodes[i].parent = i64[i * 2];
        c->nodes[i].created_step = i64[i * 2 + 1];
        c->nodes[i].left_step = -1;
        c->nodes[i].observed_step = -1;
    }
    if (!st) st = btfm_container_get(k, "node_i32", BTFM_DTYPE_I32, n * 6, buf);
    for (size_t i = 0; !st && i < n; i++) {
        const int32_t *row = i32 + i * 6;
        cothb_node *x = &c->nodes[i];
        x->level = row[0];
        x->depth = row[1];
        x->status = row[2];
        x->n_children = row[3];
        x->flags = (uint32_t)row[4];
    }
    if (!st) st = btfm_container_get(k, "node_f64", BTFM_DTYPE_F64, n * 10, buf);
    for (size_t i = 0; !st && i < n; i++) {
        cothb_node *x = &c->nodes[i];
        for (int j = 0; j < COTHB_NSIG; j++) x->signals[j] = j < 7 ? f64[i * 10 + j] : NAN;
        x->beta_a = f64[i * 10 + 7];
        x->beta_b = f64[i * 10 + 8];
        x->sub_reliability = f64[i * 10 + 9];
    }
    for (size_t i = 0; !st && i < n; i++) {
        cothb_node *x = &c->nodes[i];
        int64_t p = x->parent;
        x->answer = 0;
        x->strategy = x->rechecks = x->n_evidence = x->n_path = x->reserved = 0;
        x->evidence_sum = x->path_sum = 0;
        x->sub_root = -1;
        if (p >= 0 && p < (int64_t)i)
            x->sub_root = c->nodes[p].level < x->level ? p : c->nodes[p].sub_root;
    }
    return st;
}

static btfm_status read_nodes(btfm_cothb *c, const btfm_container *k, void *buf)
{
    int64_t *i64 = buf;
    double *f64 = buf;
    size_t n = (size_t)c->n_nodes;
    btfm_status st = btfm_container_get(k, "node_int", BTFM_DTYPE_I64, n * N_INT, buf);
    for (size_t i = 0; !st && i < n; i++)
        for (int j = 0; j < N_INT; j++) {
            int64_t v = i64[i * N_INT + j];
            if (int_columns[j].size < sizeof(int64_t) && (v < INT32_MIN || v > INT32_MAX))
                return btfm_cothb_load_error((int64_t)i, "an integer field", (double)v);
            set_int(&c->nodes[i], &int_columns[j], v);
        }
    if (!st) st = btfm_container_get(k, "node_real", BTFM_DTYPE_F64, n * N_REAL, buf);
    for (size_t i = 0; !st && i < n; i++)
        for (int j = 0; j < N_REAL; j++) *real_field(&c->nodes[i], j) = f64[i * N_REAL + j];
    return st;
}

static btfm_status read_tables(btfm_cothb *c, const btfm_container *k, int format)
{
    int64_t rows = c->n_nodes > c->n_trace ? c->n_nodes : c->n_trace;
    int width = N_INT > N_REAL ? N_INT : N_REAL;
    if (width < 10) width = 10;
    size_t bytes = (size_t)(rows > 0 ? rows : 1) * (size_t)width * sizeof(double);
    void *buf = btfm_malloc(bytes);
    if (!buf) return btfm_fail_nomem("btfm_cothb_load", bytes);
    int64_t *i64 = buf;
    double *f64 = buf;
    size_t m = (size_t)c->n_trace;
    btfm_status st = format == 1 ? read_nodes_v1(c, k, buf) : read_nodes(c, k, buf);
    if (!st) btfm_cothb_reset_room(c);
    const char *int_name = format == 1 ? "trace_i64" : "trace_int";
    const char *real_name = format == 1 ? "trace_f64" : "trace_real";
    if (!st) st = btfm_container_get(k, int_name, BTFM_DTYPE_I64, m * TRACE_I64, buf);
    for (size_t i = 0; !st && i < m; i++) {
        const int64_t *row = i64 + i * TRACE_I64;
        cothb_event *e = &c->trace[i];
        int max_action = row[0] == COTHB_EVENT_STRATEGY ? COTHB_STRATEGY_EVENT_MAX : BTFM_COTHB_STOP;
        if (row[0] < 0 || row[0] > COTHB_EVENT_STRATEGY || row[1] < 0 || row[1] > max_action) {
            st = bad("trace event", (long long)i);
            break;
        }
        e->type = (int32_t)row[0];
        e->action = (int32_t)row[1];
        e->step = row[2];
        e->node = row[3];
        e->target = row[4];
    }
    size_t trace_width = format == 1 ? 7 : COTHB_NSIG;
    if (!st) st = btfm_container_get(k, real_name, BTFM_DTYPE_F64, m * trace_width, buf);
    for (size_t i = 0; !st && i < m; i++)
        for (int j = 0; j < COTHB_NSIG; j++)
            c->trace[i].values[j] = (size_t)j < trace_width ? f64[i * trace_width + j] : NAN;
    btfm_free(buf);
    return st;
}

/* Strategies and terminals (format 3; a format 1 file starts them afresh). */
static btfm_status read_search(btfm_cothb *c, const btfm_container *k, const int64_t *state)
{
    int64_t n = state[S_N_STRATEGIES], t = state[S_N_TERMINALS];
    if (n < 1 || n > COTHB_MAX_MONITORED + 1) return bad("strategy count", n);
    if (t < 0 || t > c->n_nodes) return bad("answer count", t);
    double rows[(COTHB_MAX_MONITORED + 1) * STRATEGY_COLUMNS];
    btfm_status st = btfm_container_get(k, "strategies", BTFM_DTYPE_F64,
                                        (size_t)n * STRATEGY_COLUMNS, rows);
    for (int64_t i = 0; !st && i < n; i++) {
        const double *row = rows + i * STRATEGY_COLUMNS;
        if (row[0] != floor(row[0]) || !(row[0] >= 0 && row[0] < 1e15))
            return bad("strategy id", (long long)i);
        if ((row[2] != 0 && row[2] != 1) || (row[3] != 0 && row[3] != 1))
            return bad("strategy flags", (long long)i);
        c->strategies[i].id = (int64_t)row[0];
        c->strategies[i].lambda = row[1];
        c->strategies[i].probe = row[2] != 0;
        c->strategies[i].tried = row[3] != 0;
    }
    c->n_strategies = n;
    c->actor = state[S_ACTOR];
    c->next_strategy = state[S_NEXT_STRATEGY];
    if (st) return st;
    c->n_terminals = t;
    c->cap_terminals = t;
    if (t > 0) {
        c->terminals = btfm_malloc((size_t)t * sizeof *c->terminals);
        if (!c->terminals) return btfm_fail_nomem("btfm_cothb_load", (size_t)t * sizeof *c->terminals);
    }
    int64_t none;
    return btfm_container_get(k, "terminals", BTFM_DTYPE_I64, (size_t)t,
                              c->terminals ? (void *)c->terminals : &none);
}

/* Array `name` must hold rows x width elements. */
static btfm_status expect_rows(const btfm_container *k, const char *name, int64_t rows,
                               int width, const char *what)
{
    int index, dtype, ndim;
    int64_t shape[BTFM_CONTAINER_MAX_NDIM];
    btfm_status st = btfm_container_find(k, name, &index);
    if (!st) st = btfm_container_array_info(k, index, NULL, &dtype, &ndim, shape);
    if (st) return st;
    int64_t count = 1;
    for (int d = 0; d < ndim; d++) count *= shape[d]; /* the container bounds the product */
    if (count / width != rows || count % width)
        return btfm_fail(BTFM_E_FORMAT, "btfm_cothb_load: %s = %lld but array \"%s\" holds %lld "
                         "values; expected %d per row", what, (long long)rows, name,
                         (long long)count, width);
    return BTFM_OK;
}

static btfm_status from_container(const btfm_container *k, void **out, const char *func)
{
    (void)func; /* messages name btfm_cothb_load for both loads */
    int32_t format = 0;
    btfm_status st = btfm_container_get(k, "format", BTFM_DTYPE_I32, 1, &format);
    if (st) return st;
    if (format != 1 && format != COTHB_FORMAT)
        return btfm_fail(BTFM_E_VERSION, "btfm_cothb_load: controller format %d; this library "
                         "reads formats 1 and %d", (int)format, COTHB_FORMAT);
    int64_t state[S_COUNT];
    double reals[R_COUNT] = {0};
    int n_state = format == 1 ? S_COUNT_V1 : S_COUNT;
    /* Format 2 files from before min_dprime hold one parameter less (its default). */
    int n_param = format == 1 ? COTHB_NPARAM_V1 : COTHB_NPARAM, index, dtype, ndim;
    int64_t shape[BTFM_CONTAINER_MAX_NDIM];
    if (format != 1 && !btfm_container_find(k, "params", &index) &&
        !btfm_container_array_info(k, index, NULL, &dtype, &ndim, shape) && ndim == 1 &&
        shape[0] == COTHB_NPARAM_V2)
        n_param = COTHB_NPARAM_V2;
    double params[COTHB_NPARAM];
    if ((st = btfm_container_get(k, "state", BTFM_DTYPE_I64, (size_t)n_state, state)) ||
        (st = btfm_container_get(k, "params", BTFM_DTYPE_F64, (size_t)n_param, params)))
        return st;
    st = format == 1 ? btfm_container_get(k, "cost", BTFM_DTYPE_F64, 1, &reals[R_COST])
                     : btfm_container_get(k, "state_real", BTFM_DTYPE_F64, R_COUNT, reals);
    if (st) return st;
    if (state[S_N_NODES] < 1 || state[S_N_NODES] > INT64_MAX / 1024)
        return bad("node count", state[S_N_NODES]);
    if (state[S_N_TRACE] < 0 || state[S_N_TRACE] > INT64_MAX / 1024)
        return bad("trace length", state[S_N_TRACE]);
    if (state[S_N_MONITORED] < 0 || state[S_N_MONITORED] > COTHB_MAX_MONITORED)
        return bad("monitored count", state[S_N_MONITORED]);
    /* The counts must match the arrays the file holds before anything is allocated by
     * them: a count is only a field, the arrays' sizes were checked against the file. */
    if ((st = expect_rows(k, format == 1 ? "node_i64" : "node_int", state[S_N_NODES],
                          format == 1 ? 2 : N_INT, "node count")) ||
        (st = expect_rows(k, format == 1 ? "trace_i64" : "trace_int", state[S_N_TRACE],
                          TRACE_I64, "trace length")))
        return st;
    btfm_cothb *c = btfm_calloc(1, sizeof *c);
    if (!c) return btfm_fail_nomem("btfm_cothb_load", sizeof *c);
    btfm_params_defaults(&btfm_cothb_param_table, c->params);
    for (int p = 0; p < n_param && !st; p++)
        st = btfm_params_set(&btfm_cothb_param_table, c->params, p, params[p], "btfm_cothb_load");
    c->n_nodes = state[S_N_NODES];
    c->n_trace = state[S_N_TRACE];
    c->steps = state[S_STEPS];
    c->revisit = -1;
    if (!st) st = btfm_cothb_reserve_nodes(c, c->n_nodes, "btfm_cothb_load");
    if (!st && c->n_trace > 0) {
        size_t bytes = (size_t)c->n_trace * sizeof *c->trace;
        c->trace = btfm_malloc(bytes);
        c->cap_trace = c->n_trace;
        if (!c->trace) st = btfm_fail_nomem("btfm_cothb_load", bytes);
    }
    if (!st) st = read_tables(c, k, format);
    c->n_monitored = state[S_N_MONITORED];
    double policy[COTHB_NHEAD][COTHB_NSIG + 1];
    if (!st) st = btfm_container_get(k, "monitored", BTFM_DTYPE_I64, (size_t)c->n_monitored,
                                     c->monitored);
    int policy_width = format == 1 ? 8 : COTHB_NSIG + 1;
    double stored[COTHB_NHEAD * (COTHB_NSIG + 1)];
    if (!st) st = btfm_container_get(k, "policy", BTFM_DTYPE_F64,
                                     (size_t)(COTHB_NHEAD * policy_width), stored);
    for (int h = 0; !st && h < COTHB_NHEAD; h++) {
        for (int j = 0; j < COTHB_NSIG; j++)
            policy[h][j] = j < policy_width - 1 ? stored[h * policy_width + j] : 0;
        policy[h][COTHB_NSIG] = stored[h * policy_width + policy_width - 1];
        memcpy(c->policy_w[h], policy[h], sizeof c->policy_w[h]);
        c->policy_b[h] = policy[h][COTHB_NSIG];
    }
    if (!st) st = read_map(&c->map, k);
    if (!st) st = read_features(&c->features, k);
    if (format == 1) {
        btfm_cothb_strategies_init(c);
    } else if (!st) {
        st = read_search(c, k, state);
        c->learned_length = state[S_LEARNED_LENGTH];
        c->revisit = state[S_REVISIT];
        c->read_count = state[S_READ_COUNT];
        c->path_read_count = state[S_PATH_READ_COUNT];
        c->read_sum = reals[R_READ_SUM];
        c->path_read_sum = reals[R_PATH_READ_SUM];
        c->other = reals[R_OTHER];
        c->read_logit_sum = reals[R_LOGIT_SUM];
        c->read_logit_sq = reals[R_LOGIT_SQ];
        if (!st) st = read_pairs(c, k);
    }
    c->cost = reals[R_COST];
    c->current = state[S_CURRENT];
    c->explore_from = state[S_EXPLORE_FROM];
    c->mode = state[S_MODE];
    c->pending = state[S_PENDING];
    c->pending_node = state[S_PENDING_NODE];
    c->pending_level = state[S_PENDING_LEVEL];
    c->finished = state[S_FINISHED];
    c->final_node = state[S_FINAL_NODE];
    c->last_action = format == 1 ? 0 : state[S_LAST_ACTION];
    c->last_node = format == 1 ? -1 : state[S_LAST_NODE];
    c->last_target = format == 1 ? -1 : state[S_LAST_TARGET];
    memcpy(&c->rng, &state[S_RNG], sizeof c->rng);
    c->policy_fitted = state[S_POLICY_FITTED] != 0;
    if (!st) st = btfm_cothb_validate(c);
    if (st) {
        btfm_cothb_free(c);
        return st;
    }
    *out = c;
    return BTFM_OK;
}

static const btfm_persist_ops cothb_persist = {KIND, "controller", to_container, from_container};

btfm_status btfm_cothb_save(const btfm_cothb *c, const char *path)
{
    return btfm_persist_save(&cothb_persist, c, path, "btfm_cothb_save");
}

btfm_status btfm_cothb_save_buffer(const btfm_cothb *c, void *buffer, size_t capacity,
                                   size_t *written)
{
    return btfm_persist_save_buffer(&cothb_persist, c, buffer, capacity, written,
                                    "btfm_cothb_save_buffer");
}

btfm_status btfm_cothb_load(btfm_cothb **out, const char *path)
{
    BTFM_CHECK_ARG(out, "btfm_cothb_load", "out");
    void *c;
    btfm_status st = btfm_persist_load(&cothb_persist, &c, path, "btfm_cothb_load");
    *out = c;
    return st;
}

btfm_status btfm_cothb_load_buffer(btfm_cothb **out, const void *buffer, size_t size)
{
    BTFM_CHECK_ARG(out, "btfm_cothb_load_buffer", "out");
    void *c;
    btfm_status st = btfm_persist_load_buffer(&cothb_persist, &c, buffer, size,
                                              "btfm_cothb_load_buffer");
    *out = c;
    return st;
}
