/* The simulated reasoning tasks of the CoTHB benchmark and every method that solves them
 * (doc/cothb.md, "Benchmark"). Each random quantity is a hash of (seed, problem, node
 * path, purpose): the k-th candidate of a node, its readings and its re-checks are the
 * same for every method, so comparisons are paired. A method's budget counts every step
 * it generates, re-checks included.
 *
 * chain: `depth` steps, each wrong with probability `slip`; one wrong step spoils the
 * answer, and the wrong answer is set by the first wrong step (its depth and one of two
 * systematic slips, 70/30), so wrong chains agree. switch: the same, but a step is right
 * with probability 1 - slip only when taken with the strategy that works at its depth,
 * else `chance`; the working strategy changes after step 2 or 3 and back after step 5
 * or 6. A step's reading is x ~ N(-d'/2, 1) when right, N(+d'/2, 1) when wrong (an error
 * signal); a calibrated host reports P(right | x), a raw one sigmoid(-x). A re-check is
 * one more independent reading of the same step. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cothb_harness.h"

static char message[256]; /* the harness's own failures (the library's are btfm_last_error) */

const char *harness_last_error(void) { return message[0] ? message : btfm_last_error(); }

static btfm_status harness_fail(btfm_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    return status;
}

#define MAX_DEPTH 64

typedef struct tnode {
    uint64_t hash;
    int depth, step_ok, path_ok, answer, strategy, children, rechecks;
} tnode;

typedef struct world {
    const harness_task *t;
    uint64_t root;
    int right[MAX_DEPTH + 1]; /* switch: the strategy that works at each depth */
    tnode *nodes;
    int n, cap, used;
} world;

static uint64_t mix(uint64_t a, uint64_t b)
{
    uint64_t z = a ^ (b * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double unit(uint64_t h, uint64_t purpose)
{
    return ((double)(mix(h, purpose) >> 11) + 0.5) * 0x1.0p-53;
}

static double gauss(uint64_t h, uint64_t purpose)
{
    return sqrt(-2 * log(unit(h, 2 * purpose))) * cos(6.283185307179586 * unit(h, 2 * purpose + 1));
}

static double sigmoid(double z) { return 1 / (1 + exp(-z)); }
static double logit(double p) { return log(p / (1 - p)); }

void harness_task_defaults(harness_task *t, int family)
{
    memset(t, 0, sizeof *t);
    t->family = family;
    t->depth = family == HARNESS_CHAIN ? 6 : 8;
    t->slip = family == HARNESS_CHAIN ? 0.2 : 0.1;
    t->chance = 0.2;
    t->strategies = family == HARNESS_CHAIN ? 1 : 4;
    t->dprime = 2;
    t->signal = HARNESS_STEP;
    t->host = HARNESS_CALIBRATED;
    t->seed = 1;
}

void harness_knobs_defaults(harness_knobs *k)
{
    memset(k, 0, sizeof *k);
    k->tau = 0.5;
    k->beam = 2;
    k->width = 2;
}

const char *harness_method_name(int method)
{
    static const char *const names[] = {"chain", "self-consistency", "weighted-sc", "best-of-n",
                                        "reject", "beam", "cothb", "cothb-tuned",
                                        "cothb-calibrated"};
    return method >= 0 && method < HARNESS_METHOD_COUNT ? names[method] : NULL;
}

static int setup(world *w, const harness_task *t, int64_t problem)
{
    memset(w, 0, sizeof *w);
    w->t = t;
    w->root = mix(mix(t->seed, 0x5eed), (uint64_t)problem);
    if (t->depth < 1 || t->depth > MAX_DEPTH) return -1;
    if (t->family == HARNESS_SWITCH) {
        int k = t->strategies > 1 ? t->strategies : 2;
        int a = (int)(unit(w->root, 1) * k), b = (a + 1 + (int)(unit(w->root, 2) * (k - 1))) % k;
        int t1 = 2 + (unit(w->root, 3) < 0.5), t2 = 5 + (unit(w->root, 4) < 0.5);
        for (int d = 1; d <= t->depth; d++) w->right[d] = d <= t1 || d > t2 ? a : b;
    }
    w->cap = 64;
    w->nodes = malloc(sizeof *w->nodes * (size_t)w->cap);
    if (!w->nodes) return -1;
    tnode *root = &w->nodes[0];
    memset(root, 0, sizeof *root);
    root->hash = w->root;
    root->path_ok = 1;
    w->n = 1;
    return 0;
}

/* The k-th candidate for the step after `parent`, taken with `strategy`. */
static int child(world *w, int parent, int k, int strategy)
{
    if (w->n == w->cap) {
        tnode *grown = realloc(w->nodes, sizeof *grown * (size_t)(2 * w->cap));
        if (!grown) return -1;
        w->nodes = grown;
        w->cap *= 2;
    }
    const harness_task *t = w->t;
    tnode *p = &w->nodes[parent], *n = &w->nodes[w->n];
    memset(n, 0, sizeof *n);
    n->hash = mix(mix(p->hash, (uint64_t)k + 1), (uint64_t)strategy + 1);
    n->depth = p->depth + 1;
    n->strategy = strategy;
    double p_ok = 1 - t->slip;
    if (t->family == HARNESS_SWITCH && n->depth <= MAX_DEPTH)
        p_ok = strategy == w->right[n->depth] ? 1 - t->slip : t->chance;
    n->step_ok = unit(n->hash, 1) < p_ok;
    n->path_ok = p->path_ok && n->step_ok;
    n->answer = p->answer ? p->answer
                : n->step_ok ? 0 : 1 + 2 * (n->depth - 1) + (unit(n->hash, 2) < 0.3);
    w->used++;
    return w->n++;
}

/* Raw score of reading j of a node (an error signal: high when the step is wrong) and
 * of its whole path. */
static double step_score(const world *w, const tnode *n, int j)
{
    return gauss(n->hash, 100 + (uint64_t)j) + (n->step_ok ? -w->t->dprime / 2 : w->t->dprime / 2);
}

static double path_score(const world *w, const tnode *n, int j)
{
    return gauss(n->hash, 200 + (uint64_t)j) + (n->path_ok ? -w->t->dprime / 2 : w->t->dprime / 2);
}

/* What the host reports for a score: P(right | x) at base rate `base`, or sigmoid(-x). */
static double report(const world *w, double x, double base)
{
    if (w->t->host == HARNESS_RAW) return sigmoid(-x);
    return sigmoid(logit(base) - w->t->dprime * x);
}

static double step_base(const harness_task *t) { return t->family == HARNESS_CHAIN ? 1 - t->slip : 0.5; }
static double path_base(const harness_task *t) { return pow(1 - t->slip, t->depth); }

/* The reliability a method sees for a new node: its reading (step signals), its
 * outcome (outcome signals), its path reading at the end of a path (path signals), or
 * NaN when there is none. */
static double observed(const world *w, const tnode *n)
{
    const harness_task *t = w->t;
    if (t->signal == HARNESS_OUTCOME) return n->step_ok;
    if (t->signal == HARNESS_STEP) return report(w, step_score(w, n, 0), step_base(t));
    if (n->depth == t->depth) return report(w, path_score(w, n, 0), path_base(t));
    return NAN;
}

static int correct_leaf(const world *w, int leaf)
{
    return leaf >= 0 && w->nodes[leaf].depth == w->t->depth && w->nodes[leaf].answer == 0;
}

/* A chain from the root: first step candidate `first` with strategy `strategy`, then the
 * first candidate of each step, same strategy. Its leaf, and its score (the product of
 * the step reliabilities, or the path's, or NaN). */
static int chain(world *w, int first, int strategy, double *score)
{
    int node = 0;
    double s = 1;
    for (int d = 1; d <= w->t->depth && node >= 0; d++) {
        node = child(w, node, d == 1 ? first : 0, strategy);
        if (node < 0) return -1;
        double r = observed(w, &w->nodes[node]);
        if (!isnan(r)) s = w->t->signal == HARNESS_PATH ? r : s * r;
    }
    *score = s;
    return node;
}

static int strategies(const harness_task *t) { return t->family == HARNESS_SWITCH ? t->strategies : 1; }

/* Self-consistency and its signal-weighted forms over B / depth chains, chain i starting
 * with strategy i mod K. weighted: 0 majority, 1 sum of scores, 2 best score. */
static int solve_chains(world *w, int budget, int weighted)
{
    int n = budget / w->t->depth;
    if (n < 1) n = 1;
    int *answers = malloc(sizeof(int) * (size_t)n * 2);
    double *weights = malloc(sizeof(double) * (size_t)n);
    if (!answers || !weights) {
        free(answers);
        free(weights);
        return -1;
    }
    int *leaves = answers + n, best = -1;
    for (int i = 0; i < n; i++) {
        double s;
        leaves[i] = chain(w, i, i % strategies(w->t), &s);
        if (leaves[i] < 0) {
            free(answers);
            free(weights);
            return -1;
        }
        answers[i] = w->nodes[leaves[i]].answer;
        weights[i] = weighted == 0 ? 1 : s;
    }
    double best_total = -1;
    for (int i = 0; i < n; i++) { /* ties: the answer seen first */
        double total = 0;
        for (int j = 0; j < n; j++)
            if (answers[j] == answers[i])
                total = weighted == 2 ? fmax(total, weights[j]) : total + weights[j];
        if (total > best_total) {
            best_total = total;
            best = i;
        }
    }
    int ok = correct_leaf(w, leaves[best]);
    free(answers);
    free(weights);
    return ok;
}

/* Re-sample each step until its reliability reaches tau, while the budget can still
 * finish the path; switch family: after `retries` rejections with a strategy, shift to
 * the next one (win-stay, lose-shift). Path signals: whole chains until one's path
 * reliability reaches tau. */
static int solve_reject(world *w, int budget, const harness_knobs *k)
{
    const harness_task *t = w->t;
    if (t->signal == HARNESS_PATH) {
        int leaf = -1;
        for (int i = 0; i == 0 || w->used + t->depth <= budget; i++) {
            double s;
            leaf = chain(w, i, 0, &s);
            if (leaf < 0) return -1;
            if (s >= k->tau) break;
        }
        return correct_leaf(w, leaf);
    }
    int node = 0, strategy = 0;
    for (int d = 1; d <= t->depth; d++) {
        int parent = node, same = 0;
        for (int cand = 0;; cand++) {
            node = child(w, parent, cand, strategy);
            if (node < 0) return -1;
            double r = observed(w, &w->nodes[node]);
            int forced = budget - w->used < t->depth - d + 1;
            if (r >= k->tau || forced) break;
            if (t->family == HARNESS_SWITCH && same++ >= k->retries) {
                strategy = (strategy + 1) % t->strategies;
                same = 0;
            }
        }
    }
    return correct_leaf(w, node);
}

typedef struct scored {
    int node;
    double score;
} scored;

static int by_score(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    if (x->score != y->score) return x->score < y->score ? 1 : -1;
    return x->node - y->node; /* stable: generation order */
}

/* Keep the b best-scored nodes per depth, expanding each into k children (switch
 * family: child j takes the parent's strategy + j). Scores: summed log reliabilities;
 * with path signals there are none before the end, so the first b are kept and the
 * answer is the best path reading. */
static int solve_beam(world *w, const harness_knobs *k)
{
    const harness_task *t = w->t;
    int b = k->beam, width = k->width;
    scored *frontier = malloc(sizeof(scored) * (size_t)(b * width + 1));
    scored *next = malloc(sizeof(scored) * (size_t)(b * width + 1));
    if (!frontier || !next) {
        free(frontier);
        free(next);
        return -1;
    }
    int n_frontier = 1, ok = -1;
    frontier[0].node = 0;
    frontier[0].score = 0;
    for (int d = 1; d <= t->depth; d++) {
        int n_next = 0;
        for (int f = 0; f < n_frontier; f++) {
            for (int j = 0; j < width; j++) {
                int parent = frontier[f].node;
                int s = (w->nodes[parent].strategy + j) % strategies(t);
                int c = child(w, parent, j, s);
                if (c < 0) goto done;
                double r = observed(w, &w->nodes[c]);
                next[n_next].node = c;
                next[n_next++].score = frontier[f].score + (isnan(r) ? 0 : log(fmax(r, 1e-12)));
            }
        }
        qsort(next, (size_t)n_next, sizeof *next, by_score);
        n_frontier = n_next < b ? n_next : b;
        if (d == t->depth) n_frontier = 1;
        memcpy(frontier, next, sizeof *frontier * (size_t)n_frontier);
    }
    ok = correct_leaf(w, frontier[0].node);
done:
    free(frontier);
    free(next);
    return ok;
}

/* The host side of CoTHB: controller and world number nodes alike (both add one node per
 * expansion, re-checks included). A level-0 expansion takes the parent's next candidate
 * with the strategy the controller asked for (switch family: controller strategy i is
 * host strategy map[i]; a new one is the next strategy no monitored one holds); a
 * re-check reads its step once more. */
typedef struct cothb_host {
    world *w;
    btfm_cothb *c;
    int scores; /* raw scores through the controller's calibration */
    int map[256];
} cothb_host;

static int host_strategy(cothb_host *h, int64_t id)
{
    const harness_task *t = h->w->t;
    if (t->family != HARNESS_SWITCH) return 0;
    if (id < 0 || id >= 256) return (int)(id % t->strategies);
    if (h->map[id] >= 0) return h->map[id];
    int previous = id > 0 && h->map[id - 1] >= 0 ? h->map[id - 1] : 0;
    int held[64] = {0};
    for (int64_t i = 0; i < id && i < 256; i++) {
        int state = 0;
        if (h->map[i] >= 0 && !btfm_cothb_strategy_info(h->c, i, NULL, &state) &&
            state != BTFM_COTHB_STRATEGY_FORGOTTEN && h->map[i] < 64)
            held[h->map[i]] = 1;
    }
    int pick = (previous + 1) % t->strategies;
    for (int j = 1; j <= t->strategies; j++) {
        int s = (previous + j) % t->strategies;
        if (!held[s]) {
            pick = s;
            break;
        }
    }
    return h->map[id] = pick;
}

static btfm_status host_observe(cothb_host *h, int64_t parent, int64_t id)
{
    world *w = h->w;
    const harness_task *t = w->t;
    int level = 0;
    btfm_status st = btfm_cothb_node_info(h->c, id, NULL, &level, NULL, NULL, NULL);
    if (st) return st;
    double s[BTFM_COTHB_SIGNAL_PATH + 1];
    for (int i = 0; i <= BTFM_COTHB_SIGNAL_PATH; i++) s[i] = NAN;
    int node;
    if (level > 0) { /* a re-check of step `parent` */
        tnode *subject = &w->nodes[parent];
        int j = ++subject->rechecks;
        node = child(w, parent, 1000000 + j, 0); /* a placeholder with the same numbering */
        if (node < 0) return BTFM_E_NOMEM;
        subject = &w->nodes[parent];
        if (h->scores && t->signal != HARNESS_OUTCOME) {
            int path = t->signal == HARNESS_PATH;
            if (!path || subject->depth == t->depth) {
                double x = path ? path_score(w, subject, j) : step_score(w, subject, j);
                st = btfm_cothb_observe_score(h->c, id, path ? BTFM_COTHB_SIGNAL_PATH
                                                             : BTFM_COTHB_SIGNAL_RELIABILITY, x);
                if (st) return st;
            }
        } else if (t->signal == HARNESS_STEP)
            s[BTFM_COTHB_SIGNAL_RELIABILITY] = report(w, step_score(w, subject, j), step_base(t));
        else if (t->signal == HARNESS_PATH && subject->depth == t->depth)
            s[BTFM_COTHB_SIGNAL_PATH] = report(w, path_score(w, subject, j), path_base(t));
        else if (t->signal == HARNESS_OUTCOME)
            s[BTFM_COTHB_SIGNAL_OUTCOME] = subject->step_ok;
        s[BTFM_COTHB_SIGNAL_TERMINAL] = 1;
    } else {
        int64_t strategy = 0;
        if ((st = btfm_cothb_node_strategy(h->c, id, &strategy))) return st;
        int k = w->nodes[parent].children++;
        node = child(w, (int)parent, k, host_strategy(h, strategy));
        if (node < 0) return BTFM_E_NOMEM;
        tnode *n = &w->nodes[node];
        double r = observed(w, n);
        if (h->scores && t->signal == HARNESS_STEP) {
            st = btfm_cothb_observe_score(h->c, id, BTFM_COTHB_SIGNAL_RELIABILITY,
                                          step_score(w, n, 0));
        } else if (h->scores && t->signal == HARNESS_PATH && n->depth == t->depth) {
            st = btfm_cothb_observe_score(h->c, id, BTFM_COTHB_SIGNAL_PATH, path_score(w, n, 0));
        } else if (t->signal == HARNESS_OUTCOME) {
            s[BTFM_COTHB_SIGNAL_OUTCOME] = r;
        } else if (t->signal == HARNESS_PATH) {
            s[BTFM_COTHB_SIGNAL_PATH] = r;
        } else {
            s[BTFM_COTHB_SIGNAL_RELIABILITY] = r;
        }
        if (st) return st;
        if (n->depth >= t->depth) {
            s[BTFM_COTHB_SIGNAL_TERMINAL] = 1;
            if ((st = btfm_cothb_set_answer(h->c, id, n->answer))) return st;
        }
    }
    if (node != id) return harness_fail(BTFM_E_INTERNAL, "cothb harness: node %lld, host node %d",
                                        (long long)id, node);
    return btfm_cothb_observe(h->c, id, s, BTFM_COTHB_SIGNAL_PATH + 1);
}

/* The controller for one problem: the given configuration reset to a new search (or a
 * new controller with the defaults), with the budget and the path length of the task. */
static btfm_status make_controller(const harness_task *t, const harness_knobs *k, int budget,
                                   btfm_cothb **out, int *owned)
{
    btfm_cothb *c = k ? k->config : NULL;
    btfm_status st = c ? btfm_cothb_reset(c) : btfm_cothb_new(&c);
    *owned = !(k && k->config);
    const struct { int param; double value; } settings[] = {
        {BTFM_COTHB_PARAM_MAX_COST, budget},
        {BTFM_COTHB_PARAM_COST_EXTEND, 1},
        {BTFM_COTHB_PARAM_COST_BRANCH, 1},
        {BTFM_COTHB_PARAM_COST_DECOMPOSE, 1},
        {BTFM_COTHB_PARAM_COST_OTHER, 0},
        {BTFM_COTHB_PARAM_MAX_STEPS, 20.0 * budget + 100},
        {BTFM_COTHB_PARAM_MAX_DEPTH, t->depth + 4},
        {BTFM_COTHB_PARAM_PATH_LENGTH, t->depth},
        {BTFM_COTHB_PARAM_TRACE, 0},
    };
    for (size_t i = 0; !st && i < sizeof settings / sizeof settings[0]; i++)
        st = btfm_cothb_set_param(c, settings[i].param, settings[i].value);
    if (st) {
        if (*owned) btfm_cothb_free(c);
        return st;
    }
    *out = c;
    return BTFM_OK;
}

static int solve_cothb(world *w, int budget, const harness_knobs *k, btfm_status *status)
{
    btfm_cothb *c;
    int owned;
    *status = make_controller(w->t, k, budget, &c, &owned);
    if (*status) return -1;
    cothb_host h = {w, c, k && k->scores, {0}};
    for (int i = 0; i < 256; i++) h.map[i] = i == 0 ? 0 : -1;
    int action = 0, ok = -1;
    int64_t node = -1, target, id;
    for (;;) {
        if ((*status = btfm_cothb_next(c, &action, &node, &target))) break;
        if (action == BTFM_COTHB_ANSWER || action == BTFM_COTHB_STOP) {
            ok = action == BTFM_COTHB_ANSWER && correct_leaf(w, (int)node);
            break;
        }
        if (action == BTFM_COTHB_EXTEND || action == BTFM_COTHB_BRANCH ||
            action == BTFM_COTHB_DECOMPOSE) {
            if ((*status = btfm_cothb_add_node(c, node, &id))) break;
            if ((*status = host_observe(&h, node, id))) break;
        }
    }
    if (owned) btfm_cothb_free(c);
    return *status ? -1 : ok;
}

btfm_status harness_solve(const harness_task *t, int method, const harness_knobs *k,
                          int budget, int64_t problem, int *correct, int *used)
{
    world w;
    if (method < 0 || method >= HARNESS_METHOD_COUNT || budget < t->depth)
        return harness_fail(BTFM_E_INVALID, "cothb harness: method %d with budget %d for depth %d",
                            method, budget, t->depth);
    message[0] = '\0';
    if (setup(&w, t, problem)) return harness_fail(BTFM_E_NOMEM, "cothb harness: out of memory");
    btfm_status st = BTFM_OK;
    int ok;
    switch (method) {
    case HARNESS_M_CHAIN: {
        double s;
        int leaf = chain(&w, 0, 0, &s);
        ok = leaf < 0 ? -1 : correct_leaf(&w, leaf);
        break;
    }
    case HARNESS_M_SC: ok = solve_chains(&w, budget, 0); break;
    case HARNESS_M_WSC: ok = solve_chains(&w, budget, 1); break;
    case HARNESS_M_BEST_OF_N: ok = solve_chains(&w, budget, 2); break;
    case HARNESS_M_REJECT: ok = solve_reject(&w, budget, k); break;
    case HARNESS_M_BEAM: ok = solve_beam(&w, k); break;
    default: ok = solve_cothb(&w, budget, k, &st); break;
    }
    free(w.nodes);
    if (st) return st;
    if (ok < 0) return harness_fail(BTFM_E_NOMEM, "cothb harness: out of memory");
    if (w.used > budget)
        return harness_fail(BTFM_E_INTERNAL, "cothb harness: %s used %d steps of a budget of %d",
                            harness_method_name(method), w.used, budget);
    *correct = ok;
    *used = w.used;
    return BTFM_OK;
}

void harness_labelled_steps(const harness_task *t, int64_t n, uint64_t seed, double *scores,
                            int *correct)
{
    double p_ok = t->signal == HARNESS_PATH ? path_base(t) : step_base(t);
    for (int64_t i = 0; i < n; i++) {
        uint64_t h = mix(mix(mix(t->seed, 0x1abe1), seed), (uint64_t)i);
        correct[i] = unit(h, 1) < p_ok;
        scores[i] = gauss(h, 100) + (correct[i] ? -t->dprime / 2 : t->dprime / 2);
    }
}
