/* The answers a search reached and the vote between them: self-consistency weighted by
 * the reliability signals. Each complete path i has a probability p_i of being right
 * (its steps' reliabilities, or a whole-path judgment). If a right path reaches the right
 * answer and a wrong one lands on any given answer with probability 1 / W (W =
 * wrong_answers), the odds that answer a is right, against "no path reached the right
 * answer", are
 *     w_a = prod over the paths i reaching a of (1 + W p_i / (1 - p_i)) - 1
 * (the subtracted 1 is "none of them is right"), and P(a) = w_a / (1 + sum_b w_b). One
 * path alone gives P = p when W = 1; equal probabilities make it a majority vote. The
 * vote is recomputed from the registered terminals (O(terminals x answers)), so a
 * re-check of a step changes the paths through it. */
#include <math.h>
#include "cothb_internal.h"

btfm_status btfm_cothb_register_answer(btfm_cothb *c, int64_t terminal)
{
    cothb_node *n = &c->nodes[terminal];
    if (n->flags & COTHB_FLAG_COMPLETE) return BTFM_OK;
    btfm_status st = btfm_reserve((void **)&c->terminals, &c->cap_terminals,
                                  c->n_terminals + 1, sizeof *c->terminals, "cothb answers");
    if (st) return st;
    c->terminals[c->n_terminals++] = terminal;
    n->flags |= COTHB_FLAG_COMPLETE;
    if (!c->learned_length) c->learned_length = n->depth;
    return BTFM_OK;
}

/* A terminal without a named answer is its own answer. */
static int same_answer(const cothb_node *a, int64_t ia, const cothb_node *b, int64_t ib)
{
    int named_a = (a->flags & COTHB_FLAG_ANSWER) != 0, named_b = (b->flags & COTHB_FLAG_ANSWER) != 0;
    if (named_a != named_b) return 0;
    return named_a ? a->answer == b->answer : ia == ib;
}

int64_t btfm_cothb_vote(const btfm_cothb *c, cothb_vote *votes, double *total)
{
    double w = c->params[BTFM_COTHB_PARAM_WRONG_ANSWERS];
    int64_t n_votes = 0;
    *total = 0;
    for (int64_t t = 0; t < c->n_terminals; t++) {
        int64_t id = c->terminals[t];
        const cothb_node *n = &c->nodes[id];
        if (n->status == BTFM_COTHB_ABANDONED) continue;
        double p = btfm_cothb_path_probability(c, id);
        int64_t v = 0;
        while (v < n_votes && !same_answer(&c->nodes[votes[v].node], votes[v].node, n, id)) v++;
        if (v == n_votes) {
            votes[v].key = n->flags & COTHB_FLAG_ANSWER ? n->answer : id;
            votes[v].node = id;
            votes[v].paths = 0;
            votes[v].weight = 0; /* log of prod (1 + W odds) while accumulating */
            votes[v].best = -1;
            n_votes++;
        }
        double odds = p >= 1 ? 1e300 : p / (1 - p);
        votes[v].weight += log1p(w * odds);
        votes[v].paths++;
        if (p > votes[v].best) {
            votes[v].best = p;
            votes[v].node = id;
        }
    }
    for (int64_t v = 0; v < n_votes; v++) {
        votes[v].weight = expm1(fmin(votes[v].weight, 700));
        *total += votes[v].weight;
    }
    return n_votes;
}

/* The answer with the largest weight (ties: the one reached first). */
int64_t btfm_cothb_best_answer(const btfm_cothb *c, double *probability)
{
    *probability = 0;
    if (!c->n_terminals) return -1;
    cothb_vote *votes = btfm_malloc((size_t)c->n_terminals * sizeof *votes);
    double total = 0;
    int64_t best = -1;
    if (votes) {
        int64_t n = btfm_cothb_vote(c, votes, &total);
        for (int64_t v = 0; v < n; v++)
            if (best < 0 || votes[v].weight > votes[best].weight) best = v;
        if (best >= 0) {
            *probability = votes[best].weight / (1 + total);
            best = votes[best].node;
        }
        btfm_free(votes);
        return best;
    }
    /* Out of memory: fall back to the most probable single path. */
    for (int64_t t = 0; t < c->n_terminals; t++) {
        double p = btfm_cothb_path_probability(c, c->terminals[t]);
        if (c->nodes[c->terminals[t]].status != BTFM_COTHB_ABANDONED && p > *probability) {
            *probability = p;
            best = c->terminals[t];
        }
    }
    return best;
}

btfm_status btfm_cothb_set_answer(btfm_cothb *c, int64_t node, int64_t answer)
{
    static const char func[] = "btfm_cothb_set_answer";
    BTFM_CHECK_ARG(c, func, "controller");
    btfm_status st = btfm_cothb_check_node(c, node, func);
    if (st) return st;
    cothb_node *n = &c->nodes[node];
    if (n->level != 0)
        return btfm_fail(BTFM_E_STATE, "%s: node %lld is a step of a sub-problem (level %d); "
                         "answers belong to level-0 nodes", func, (long long)node, (int)n->level);
    n->answer = answer;
    n->flags |= COTHB_FLAG_ANSWER;
    return BTFM_OK;
}

btfm_status btfm_cothb_answer(const btfm_cothb *c, int64_t *node, int64_t *answer,
                              double *probability)
{
    static const char func[] = "btfm_cothb_answer";
    BTFM_CHECK_ARG(c, func, "controller");
    double p;
    int64_t best = btfm_cothb_best_answer(c, &p);
    if (best < 0)
        return btfm_fail(BTFM_E_NOTFOUND, "%s: no path has reached an answer yet", func);
    if (node) *node = best;
    if (answer) *answer = c->nodes[best].flags & COTHB_FLAG_ANSWER ? c->nodes[best].answer : best;
    if (probability) *probability = p;
    return BTFM_OK;
}

int64_t btfm_cothb_n_answers(const btfm_cothb *c)
{
    if (!c) return btfm_fail(BTFM_E_INVALID, "btfm_cothb_n_answers: controller is NULL");
    if (!c->n_terminals) return 0;
    cothb_vote *votes = btfm_malloc((size_t)c->n_terminals * sizeof *votes);
    if (!votes) return btfm_fail_nomem("btfm_cothb_n_answers", (size_t)c->n_terminals * sizeof *votes);
    double total;
    int64_t n = btfm_cothb_vote(c, votes, &total);
    btfm_free(votes);
    return n;
}

btfm_status btfm_cothb_answer_info(const btfm_cothb *c, int64_t index, int64_t *answer,
                                   int64_t *node, double *probability, int64_t *paths)
{
    static const char func[] = "btfm_cothb_answer_info";
    BTFM_CHECK_ARG(c, func, "controller");
    cothb_vote *votes = c->n_terminals ? btfm_malloc((size_t)c->n_terminals * sizeof *votes) : NULL;
    if (c->n_terminals && !votes) return btfm_fail_nomem(func, (size_t)c->n_terminals * sizeof *votes);
    double total = 0;
    int64_t n = votes ? btfm_cothb_vote(c, votes, &total) : 0;
    if (index < 0 || index >= n) {
        btfm_free(votes);
        return btfm_fail(BTFM_E_NOTFOUND, "%s: answer %lld does not exist (%lld answers so far)",
                         func, (long long)index, (long long)n);
    }
    if (answer) *answer = votes[index].key;
    if (node) *node = votes[index].node;
    if (probability) *probability = votes[index].weight / (1 + total);
    if (paths) *paths = votes[index].paths;
    btfm_free(votes);
    return BTFM_OK;
}
