/* Save and load the whole controller through the model container (kind "cothb"):
 * parameters, nodes, signals, monitored set, pending action, policy, random state and
 * trace, so a loaded controller continues exactly as the saved one would. */
#include <math.h>
#include <string.h>
#include <btfm/container.h>
#include "cothb_internal.h"

#define COTHB_FORMAT 1
#define KIND "cothb"
enum { S_CURRENT, S_EXPLORE_FROM, S_MODE, S_PENDING, S_PENDING_NODE, S_PENDING_LEVEL,
       S_FINISHED, S_FINAL_NODE, S_STEPS, S_RNG, S_N_MONITORED, S_POLICY_FITTED, S_N_NODES,
       S_N_TRACE, S_COUNT };
#define NODE_I64 2
#define NODE_I32 6
#define NODE_F64 (COTHB_NSIG + 3)
#define TRACE_I64 5

/* One allocation for every column, sized for the largest table. */
static btfm_status put_tables(const btfm_cothb *c, btfm_container *k)
{
    int64_t rows = c->n_nodes > c->n_trace ? c->n_nodes : c->n_trace;
    size_t bytes = (size_t)(rows > 0 ? rows : 1) * NODE_F64 * sizeof(double);
    void *buf = btfm_malloc(bytes);
    if (!buf) return btfm_fail_nomem("btfm_cothb_save", bytes);
    int64_t *i64 = buf;
    int32_t *i32 = buf;
    double *f64 = buf;
    int64_t shape[2] = {c->n_nodes, NODE_I64};
    for (int64_t i = 0; i < c->n_nodes; i++) {
        i64[i * 2] = c->nodes[i].parent;
        i64[i * 2 + 1] = c->nodes[i].created_step;
    }
    btfm_status st = btfm_container_put(k, "node_i64", BTFM_DTYPE_I64, 2, shape, buf);
    for (int64_t i = 0; !st && i < c->n_nodes; i++) {
        const cothb_node *n = &c->nodes[i];
        int32_t row[NODE_I32] = {n->level, n->depth, n->status, n->n_children,
                                 (int32_t)n->flags, n->reserved};
        memcpy(i32 + i * NODE_I32, row, sizeof row);
    }
    shape[1] = NODE_I32;
    if (!st) st = btfm_container_put(k, "node_i32", BTFM_DTYPE_I32, 2, shape, buf);
    for (int64_t i = 0; !st && i < c->n_nodes; i++) {
        const cothb_node *n = &c->nodes[i];
        memcpy(f64 + i * NODE_F64, n->signals, sizeof n->signals);
        f64[i * NODE_F64 + COTHB_NSIG] = n->beta_a;
        f64[i * NODE_F64 + COTHB_NSIG + 1] = n->beta_b;
        f64[i * NODE_F64 + COTHB_NSIG + 2] = n->sub_reliability;
    }
    shape[1] = NODE_F64;
    if (!st) st = btfm_container_put(k, "node_f64", BTFM_DTYPE_F64, 2, shape, buf);
    for (int64_t i = 0; !st && i < c->n_trace; i++) {
        const cothb_event *e = &c->trace[i];
        int64_t row[TRACE_I64] = {e->type, e->action, e->step, e->node, e->target};
        memcpy(i64 + i * TRACE_I64, row, sizeof row);
    }
    shape[0] = c->n_trace;
    shape[1] = TRACE_I64;
    if (!st) st = btfm_container_put(k, "trace_i64", BTFM_DTYPE_I64, 2, shape, buf);
    for (int64_t i = 0; !st && i < c->n_trace; i++)
        memcpy(f64 + i * COTHB_NSIG, c->trace[i].values, sizeof c->trace[i].values);
    shape[1] = COTHB_NSIG;
    if (!st) st = btfm_container_put(k, "trace_f64", BTFM_DTYPE_F64, 2, shape, buf);
    btfm_free(buf);
    return st;
}

static btfm_status to_container(const btfm_cothb *c, btfm_container **out)
{
    btfm_container *k;
    btfm_status st = btfm_container_new(&k, KIND);
    if (st) return st;
    int32_t format = COTHB_FORMAT;
    int64_t state[S_COUNT] = {c->current, c->explore_from, c->mode, c->pending,
                              c->pending_node, c->pending_level, c->finished, c->final_node,
                              c->steps, 0, c->n_monitored, c->policy_fitted, c->n_nodes,
                              c->n_trace};
    memcpy(&state[S_RNG], &c->rng, sizeof c->rng);
    double policy[COTHB_NHEAD][COTHB_NSIG + 1];
    for (int h = 0; h < COTHB_NHEAD; h++) {
        memcpy(policy[h], c->policy_w[h], sizeof c->policy_w[h]);
        policy[h][COTHB_NSIG] = c->policy_b[h];
    }
    int64_t one = 1, nparam = COTHB_NPARAM, nstate = S_COUNT, nmon = c->n_monitored;
    int64_t policy_shape[2] = {COTHB_NHEAD, COTHB_NSIG + 1};
    st = btfm_container_put(k, "format", BTFM_DTYPE_I32, 1, &one, &format);
    if (!st) st = btfm_container_put(k, "params", BTFM_DTYPE_F64, 1, &nparam, c->params);
    if (!st) st = btfm_container_put(k, "state", BTFM_DTYPE_I64, 1, &nstate, state);
    if (!st) st = btfm_container_put(k, "cost", BTFM_DTYPE_F64, 1, &one, &c->cost);
    if (!st) st = btfm_container_put(k, "monitored", BTFM_DTYPE_I64, 1, &nmon, c->monitored);
    if (!st) st = btfm_container_put(k, "policy", BTFM_DTYPE_F64, 2, policy_shape, policy);
    if (!st) st = put_tables(c, k);
    if (st) {
        btfm_container_free(k);
        return st;
    }
    *out = k;
    return BTFM_OK;
}

btfm_status btfm_cothb_save(const btfm_cothb *c, const char *path)
{
    BTFM_CHECK_ARG(c, "btfm_cothb_save", "controller");
    BTFM_CHECK_ARG(path, "btfm_cothb_save", "path");
    btfm_container *k;
    btfm_status st = to_container(c, &k);
    if (st) return st;
    st = btfm_container_save(k, path);
    btfm_container_free(k);
    return st;
}

btfm_status btfm_cothb_save_buffer(const btfm_cothb *c, void *buffer, size_t capacity,
                                   size_t *written)
{
    BTFM_CHECK_ARG(c, "btfm_cothb_save_buffer", "controller");
    btfm_container *k;
    btfm_status st = to_container(c, &k);
    if (st) return st;
    st = btfm_container_save_buffer(k, buffer, capacity, written);
    btfm_container_free(k);
    return st;
}

static btfm_status bad(const char *what, long long value)
{
    return btfm_fail(BTFM_E_FORMAT, "btfm_cothb_load: %s = %lld is inconsistent with the rest "
                     "of the saved controller", what, value);
}

static int valid_signal(double v) { return isnan(v) || (v >= 0 && v <= 1); }

/* Check what the policy relies on, so a damaged file cannot make it index out of bounds. */
static btfm_status validate(const btfm_cothb *c)
{
    int64_t n = c->n_nodes;
    if (c->current < 0 || c->current >= n) return bad("current", c->current);
    if (c->explore_from < -1 || c->explore_from >= n) return bad("explore_from", c->explore_from);
    if (c->pending < 0 || c->pending > BTFM_COTHB_DECOMPOSE) return bad("pending", c->pending);
    if (c->pending && (c->pending_node < 0 || c->pending_node >= n))
        return bad("pending_node", c->pending_node);
    if (c->pending_level < 0 || c->pending_level > 1000000)
        return bad("pending_level", c->pending_level);
    if (c->finished != 0 && c->finished != BTFM_COTHB_ANSWER && c->finished != BTFM_COTHB_STOP)
        return bad("finished", c->finished);
    if (c->mode < COTHB_MODE_NONE || c->mode > COTHB_MODE_LEAVE) return bad("mode", c->mode);
    for (int64_t i = 0; i < c->n_monitored; i++)
        if (c->monitored[i] < 0 || c->monitored[i] >= n) return bad("monitored", c->monitored[i]);
    for (int64_t i = 0; i < n; i++) {
        const cothb_node *x = &c->nodes[i];
        if (i == 0 ? x->parent != -1 : (x->parent < 0 || x->parent >= i))
            return bad("node parent", x->parent);
        if (x->status < 0 || x->status > BTFM_COTHB_ANSWERED) return bad("node status", x->status);
        if (x->level < 0 || x->depth < 0 || x->n_children < 0) return bad("node level", x->level);
        for (int j = 0; j < COTHB_NSIG; j++)
            if (!valid_signal(x->signals[j])) return bad("node signal", (long long)j);
        if (!(x->beta_a > 0) || !(x->beta_b > 0)) return bad("node posterior", (long long)i);
    }
    for (int64_t i = 0; i < c->n_trace; i++)
        if (c->trace[i].type < 0 || c->trace[i].type > COTHB_EVENT_OBSERVE ||
            c->trace[i].action < 0 || c->trace[i].action > BTFM_COTHB_STOP)
            return bad("trace event", i);
    return BTFM_OK;
}

static btfm_status read_tables(btfm_cothb *c, const btfm_container *k)
{
    int64_t rows = c->n_nodes > c->n_trace ? c->n_nodes : c->n_trace;
    size_t bytes = (size_t)rows * NODE_F64 * sizeof(double);
    void *buf = btfm_malloc(bytes);
    if (!buf) return btfm_fail_nomem("btfm_cothb_load", bytes);
    int64_t *i64 = buf;
    int32_t *i32 = buf;
    double *f64 = buf;
    size_t n = (size_t)c->n_nodes, m = (size_t)c->n_trace;
    btfm_status st = btfm_container_get(k, "node_i64", BTFM_DTYPE_I64, n * NODE_I64, buf);
    for (size_t i = 0; !st && i < n; i++) {
        c->nodes[i].parent = i64[i * 2];
        c->nodes[i].created_step = i64[i * 2 + 1];
    }
    if (!st) st = btfm_container_get(k, "node_i32", BTFM_DTYPE_I32, n * NODE_I32, buf);
    for (size_t i = 0; !st && i < n; i++) {
        const int32_t *row = i32 + i * NODE_I32;
        cothb_node *x = &c->nodes[i];
        x->level = row[0];
        x->depth = row[1];
        x->status = row[2];
        x->n_children = row[3];
        x->flags = (uint32_t)row[4];
        x->reserved = row[5];
    }
    if (!st) st = btfm_container_get(k, "node_f64", BTFM_DTYPE_F64, n * NODE_F64, buf);
    for (size_t i = 0; !st && i < n; i++) {
        cothb_node *x = &c->nodes[i];
        memcpy(x->signals, f64 + i * NODE_F64, sizeof x->signals);
        x->beta_a = f64[i * NODE_F64 + COTHB_NSIG];
        x->beta_b = f64[i * NODE_F64 + COTHB_NSIG + 1];
        x->sub_reliability = f64[i * NODE_F64 + COTHB_NSIG + 2];
    }
    if (!st) st = btfm_container_get(k, "trace_i64", BTFM_DTYPE_I64, m * TRACE_I64, buf);
    for (size_t i = 0; !st && i < m; i++) {
        const int64_t *row = i64 + i * TRACE_I64;
        cothb_event *e = &c->trace[i];
        e->type = (int32_t)row[0];
        e->action = (int32_t)row[1];
        e->step = row[2];
        e->node = row[3];
        e->target = row[4];
    }
    if (!st) st = btfm_container_get(k, "trace_f64", BTFM_DTYPE_F64, m * COTHB_NSIG, buf);
    for (size_t i = 0; !st && i < m; i++)
        memcpy(c->trace[i].values, f64 + i * COTHB_NSIG, sizeof c->trace[i].values);
    btfm_free(buf);
    return st;
}

static btfm_status from_container(const btfm_container *k, btfm_cothb **out)
{
    int32_t format = 0;
    btfm_status st = btfm_container_get(k, "format", BTFM_DTYPE_I32, 1, &format);
    if (st) return st;
    if (format != COTHB_FORMAT)
        return btfm_fail(BTFM_E_VERSION, "btfm_cothb_load: controller format %d; this library "
                         "reads format %d", (int)format, COTHB_FORMAT);
    int64_t state[S_COUNT];
    double params[COTHB_NPARAM];
    if ((st = btfm_container_get(k, "state", BTFM_DTYPE_I64, S_COUNT, state)) ||
        (st = btfm_container_get(k, "params", BTFM_DTYPE_F64, COTHB_NPARAM, params)))
        return st;
    if (state[S_N_NODES] < 1 || state[S_N_NODES] > INT64_MAX / 1024)
        return bad("node count", state[S_N_NODES]);
    if (state[S_N_TRACE] < 0 || state[S_N_TRACE] > INT64_MAX / 1024)
        return bad("trace length", state[S_N_TRACE]);
    if (state[S_N_MONITORED] < 0 || state[S_N_MONITORED] > COTHB_MAX_MONITORED)
        return bad("monitored count", state[S_N_MONITORED]);
    btfm_cothb *c = btfm_calloc(1, sizeof *c);
    if (!c) return btfm_fail_nomem("btfm_cothb_load", sizeof *c);
    for (int p = 0; p < COTHB_NPARAM && !st; p++)
        st = btfm_params_set(&btfm_cothb_param_table, c->params, p, params[p], "btfm_cothb_load");
    c->n_nodes = state[S_N_NODES];
    c->n_trace = state[S_N_TRACE];
    if (!st) st = btfm_cothb_reserve_nodes(c, c->n_nodes, "btfm_cothb_load");
    if (!st && c->n_trace > 0) {
        size_t bytes = (size_t)c->n_trace * sizeof *c->trace;
        c->trace = btfm_malloc(bytes);
        c->cap_trace = c->n_trace;
        if (!c->trace) st = btfm_fail_nomem("btfm_cothb_load", bytes);
    }
    if (!st) st = read_tables(c, k);
    c->n_monitored = state[S_N_MONITORED];
    double policy[COTHB_NHEAD][COTHB_NSIG + 1];
    if (!st) st = btfm_container_get(k, "monitored", BTFM_DTYPE_I64, (size_t)c->n_monitored,
                                     c->monitored);
    if (!st) st = btfm_container_get(k, "policy", BTFM_DTYPE_F64,
                                     COTHB_NHEAD * (COTHB_NSIG + 1), policy);
    if (!st) st = btfm_container_get(k, "cost", BTFM_DTYPE_F64, 1, &c->cost);
    for (int h = 0; h < COTHB_NHEAD; h++) {
        memcpy(c->policy_w[h], policy[h], sizeof c->policy_w[h]);
        c->policy_b[h] = policy[h][COTHB_NSIG];
    }
    c->current = state[S_CURRENT];
    c->explore_from = state[S_EXPLORE_FROM];
    c->mode = state[S_MODE];
    c->pending = state[S_PENDING];
    c->pending_node = state[S_PENDING_NODE];
    c->pending_level = state[S_PENDING_LEVEL];
    c->finished = state[S_FINISHED];
    c->final_node = state[S_FINAL_NODE];
    c->steps = state[S_STEPS];
    memcpy(&c->rng, &state[S_RNG], sizeof c->rng);
    c->policy_fitted = state[S_POLICY_FITTED] != 0;
    if (!st) st = validate(c);
    if (st) {
        btfm_cothb_free(c);
        return st;
    }
    *out = c;
    return BTFM_OK;
}

/* The common tail of both loads: read the controller out of a loaded container. */
static btfm_status load_from(btfm_status loaded, btfm_container *k, btfm_cothb **out)
{
    if (loaded) return loaded;
    btfm_status st = from_container(k, out);
    btfm_container_free(k);
    return st;
}

btfm_status btfm_cothb_load(btfm_cothb **out, const char *path)
{
    BTFM_CHECK_ARG(out, "btfm_cothb_load", "out");
    *out = NULL;
    BTFM_CHECK_ARG(path, "btfm_cothb_load", "path");
    btfm_container *k = NULL;
    btfm_status st = btfm_container_load(&k, path, KIND);
    return load_from(st, k, out);
}

btfm_status btfm_cothb_load_buffer(btfm_cothb **out, const void *buffer, size_t size)
{
    BTFM_CHECK_ARG(out, "btfm_cothb_load_buffer", "out");
    *out = NULL;
    BTFM_CHECK_ARG(buffer, "btfm_cothb_load_buffer", "buffer");
    btfm_container *k = NULL;
    btfm_status st = btfm_container_load_buffer(&k, buffer, size, KIND);
    return load_from(st, k, out);
}
