/* Tuning a controller against task reward: the host runs episodes (a simulator, or
 * recorded sessions replayed), the tuner chooses the controller's knobs that maximize
 * the mean reward on training problems by coordinate ascent over each knob's values, and
 * reports the chosen setting's mean reward on held-out problems next to the starting
 * setting's, with 95% intervals (paired: both run the same held-out problems). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cothb_internal.h"
#include "core/progress.h"

#define MAX_KNOBS 16
#define MAX_VALUES 64

static const btfm_param_def tuner_params[] = {
    {"problems", BTFM_PARAM_INT, 500, 1, 1e9,
     "Training problems (ids first_problem onward) each setting is evaluated on."},
    {"held_out", BTFM_PARAM_INT, 500, 0, 1e9,
     "Held-out problems (the ids after the training ones) the chosen setting and the "
     "starting one are evaluated on."},
    {"rounds", BTFM_PARAM_INT, 2, 1, 100, "Passes of coordinate ascent over the knobs."},
    {"first_problem", BTFM_PARAM_INT, 0, 0, 9007199254740991.0,
     "Id of the first training problem."},
};

const btfm_param_table btfm_cothb_tuner_param_table = {
    BTFM_OBJECT_COTHB_TUNER, "cothb_tuner",
    (int)(sizeof tuner_params / sizeof tuner_params[0]), tuner_params,
};
#define TUNER_NPARAM ((int)(sizeof tuner_params / sizeof tuner_params[0]))

typedef struct knob {
    int param, n_values;
    double values[MAX_VALUES];
    double chosen;
} knob;

struct btfm_cothb_tuner {
    double params[TUNER_NPARAM];
    btfm_progress_fn progress;
    void *progress_user;
    knob knobs[MAX_KNOBS];
    int n_knobs, tuned;
    double report[BTFM_COTHB_TUNING_SETTINGS + 1];
};

static const char *const report_names[] = {
    "train_reward", "held_out_reward", "held_out_low", "held_out_high", "base_held_out_reward",
    "difference", "difference_low", "difference_high", "episodes", "settings",
};
_Static_assert(sizeof tuner_params / sizeof tuner_params[0] == BTFM_COTHB_TUNER_PARAM_FIRST_PROBLEM + 1,
               "one table entry per tuner parameter");
_Static_assert(sizeof report_names / sizeof report_names[0] == BTFM_COTHB_TUNING_SETTINGS + 1,
               "one name per tuning report item");

const char *btfm_cothb_tuning_name(int item)
{
    return item >= 0 && item <= BTFM_COTHB_TUNING_SETTINGS ? report_names[item] : NULL;
}

btfm_status btfm_cothb_tuner_new(btfm_cothb_tuner **out)
{
    BTFM_CHECK_ARG(out, "btfm_cothb_tuner_new", "out");
    *out = btfm_calloc(1, sizeof **out);
    if (!*out) return btfm_fail_nomem("btfm_cothb_tuner_new", sizeof **out);
    btfm_params_defaults(&btfm_cothb_tuner_param_table, (*out)->params);
    return BTFM_OK;
}

void btfm_cothb_tuner_free(btfm_cothb_tuner *t) { btfm_free(t); }

btfm_status btfm_cothb_tuner_set_param(btfm_cothb_tuner *t, int param, double value)
{
    BTFM_CHECK_ARG(t, "btfm_cothb_tuner_set_param", "tuner");
    return btfm_params_set(&btfm_cothb_tuner_param_table, t->params, param, value,
                           "btfm_cothb_tuner_set_param");
}

btfm_status btfm_cothb_tuner_get_param(const btfm_cothb_tuner *t, int param, double *value)
{
    BTFM_CHECK_ARG(t, "btfm_cothb_tuner_get_param", "tuner");
    return btfm_params_get(&btfm_cothb_tuner_param_table, t->params, param, value,
                           "btfm_cothb_tuner_get_param");
}

btfm_status btfm_cothb_tuner_set_progress(btfm_cothb_tuner *t, btfm_progress_fn fn, void *user)
{
    BTFM_CHECK_ARG(t, "btfm_cothb_tuner_set_progress", "tuner");
    t->progress = fn;
    t->progress_user = user;
    return BTFM_OK;
}

btfm_status btfm_cothb_tuner_add_knob(btfm_cothb_tuner *t, int param, const double *values,
                                      int n_values)
{
    static const char func[] = "btfm_cothb_tuner_add_knob";
    BTFM_CHECK_ARG(t, func, "tuner");
    BTFM_CHECK_ARG(values, func, "values");
    if (t->n_knobs >= MAX_KNOBS)
        return btfm_fail(BTFM_E_RANGE, "%s: %d knobs already; at most %d", func, t->n_knobs, MAX_KNOBS);
    if (n_values < 1 || n_values > MAX_VALUES)
        return btfm_fail(BTFM_E_INVALID, "%s: n_values = %d: expected 1 to %d", func, n_values,
                         MAX_VALUES);
    for (int i = 0; i < t->n_knobs; i++)
        if (t->knobs[i].param == param)
            return btfm_fail(BTFM_E_INVALID, "%s: %s is a knob already", func,
                             btfm_cothb_param_table.defs[param].name);
    double scratch[COTHB_NPARAM];
    btfm_params_defaults(&btfm_cothb_param_table, scratch);
    for (int i = 0; i < n_values; i++) {
        btfm_status st = btfm_params_set(&btfm_cothb_param_table, scratch, param, values[i], func);
        if (st) return st; /* an unknown parameter or a value outside its bounds */
    }
    knob *k = &t->knobs[t->n_knobs++];
    k->param = param;
    k->n_values = n_values;
    memcpy(k->values, values, sizeof(double) * (size_t)n_values);
    k->chosen = NAN;
    t->tuned = 0;
    return BTFM_OK;
}

/* The knobs tuned when the host adds none: optimal stopping or thresholds, the signal
 * strength below which spare budget goes to independent paths, the thresholds,
 * re-checks, the early stop and how much agreement counts in the vote. */
static void default_knobs(btfm_cothb_tuner *t)
{
    static const double cont[] = {0,   0.3,  0.5, 0.6,  0.7,  0.8,  0.85,
                                  0.9, 0.93, 0.95, 0.97, 0.98, 0.99, 0.995};
    static const double branch[] = {0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9};
    static const double rechecks[] = {0, 1, 2, 3};
    static const double stop[] = {0.9, 0.95, 0.99, 1};
    static const double wrong[] = {1, 2, 4, 8, 1e3, 1e6}; /* 1e6: nearly a majority vote */
    static const double planning[] = {1, 0};
    static const double min_dprime[] = {0, 0.2, 0.4, 0.6, 0.8, 1, 1.5};
#define ADD(p, v) btfm_cothb_tuner_add_knob(t, p, v, (int)(sizeof v / sizeof v[0]))
    ADD(BTFM_COTHB_PARAM_PLANNING, planning);
    ADD(BTFM_COTHB_PARAM_MIN_DPRIME, min_dprime);
    ADD(BTFM_COTHB_PARAM_CONTINUE_THRESHOLD, cont);
    ADD(BTFM_COTHB_PARAM_BRANCH_THRESHOLD, branch);
    ADD(BTFM_COTHB_PARAM_RECHECKS, rechecks);
    ADD(BTFM_COTHB_PARAM_STOP_CONFIDENCE, stop);
    ADD(BTFM_COTHB_PARAM_WRONG_ANSWERS, wrong);
#undef ADD
}

/* One setting's rewards on problems first .. first + n - 1 (into rewards, may be NULL);
 * its mean in *mean. A setting the controller refuses (branch above continue threshold)
 * is reported with *valid = 0. */
typedef struct run_state {
    btfm_cothb_tuner *t;
    btfm_cothb *work;
    btfm_cothb_episode_fn episode;
    void *user;
    btfm_progress progress;
    double done, total;
    int64_t episodes;
} run_state;

static btfm_status evaluate(run_state *r, const double *setting, int64_t first, int64_t n,
                            double *rewards, double *mean, int *valid)
{
    *valid = setting[BTFM_COTHB_PARAM_BRANCH_THRESHOLD] <= setting[BTFM_COTHB_PARAM_CONTINUE_THRESHOLD];
    *mean = -INFINITY;
    if (!*valid) {
        r->done += (double)n;
        return BTFM_OK;
    }
    double sum = 0;
    for (int64_t i = 0; i < n; i++) {
        btfm_cothb_reset(r->work);
        memcpy(r->work->params, setting, sizeof r->work->params);
        double reward = NAN;
        int rc = r->episode(r->work, first + i, &reward, r->user);
        if (rc < 0) return rc;
        if (rc > 0)
            return btfm_fail(BTFM_E_INVALID, "btfm_cothb_tuner_run: the episode callback "
                             "returned %d for problem %lld; expected 0 or a negative status",
                             rc, (long long)(first + i));
        if (!isfinite(reward))
            return btfm_fail(BTFM_E_RANGE, "btfm_cothb_tuner_run: problem %lld: reward %g; "
                             "expected a finite number", (long long)(first + i), reward);
        sum += reward;
        if (rewards) rewards[i] = reward;
        r->episodes++;
        r->done++;
        btfm_status st = btfm_progress_update(&r->progress, "tuning", r->done / r->total);
        if (st) return st;
    }
    *mean = sum / (double)n;
    return BTFM_OK;
}

/* Mean and 95% normal interval of values (n >= 1). */
static void interval(const double *x, int64_t n, double *mean, double *low, double *high)
{
    double sum = 0, sq = 0;
    for (int64_t i = 0; i < n; i++) sum += x[i];
    *mean = sum / (double)n;
    for (int64_t i = 0; i < n; i++) sq += (x[i] - *mean) * (x[i] - *mean);
    double half = n > 1 ? 1.959963984540054 * sqrt(sq / (double)(n - 1) / (double)n) : NAN;
    *low = *mean - half;
    *high = *mean + half;
}

static btfm_status run(run_state *r, const btfm_cothb *base, knob *knobs, int n_knobs,
                       double *report)
{
    btfm_cothb_tuner *t = r->t;
    int64_t n = (int64_t)t->params[BTFM_COTHB_TUNER_PARAM_PROBLEMS];
    int64_t held = (int64_t)t->params[BTFM_COTHB_TUNER_PARAM_HELD_OUT];
    int64_t first = (int64_t)t->params[BTFM_COTHB_TUNER_PARAM_FIRST_PROBLEM];
    int rounds = (int)t->params[BTFM_COTHB_TUNER_PARAM_ROUNDS];
    double setting[COTHB_NPARAM];
    memcpy(setting, base->params, sizeof setting);
    for (int i = 0; i < n_knobs; i++) knobs[i].chosen = setting[knobs[i].param];
    double best = -INFINITY;
    int valid;
    btfm_status st = evaluate(r, setting, first, n, NULL, &best, &valid);
    int settings = 1;
    for (int round = 0; !st && round < rounds; round++) {
        int changed = 0;
        for (int i = 0; !st && i < n_knobs; i++) {
            knob *k = &knobs[i];
            double keep = setting[k->param];
            for (int v = 0; !st && v < k->n_values; v++) {
                if (k->values[v] == keep) {
                    r->done += (double)n; /* the current setting: already measured */
                    continue;
                }
                setting[k->param] = k->values[v];
                double mean;
                st = evaluate(r, setting, first, n, NULL, &mean, &valid);
                settings += valid;
                if (!st && valid && mean > best) {
                    best = mean;
                    k->chosen = k->values[v];
                    changed = 1;
                }
                setting[k->param] = keep;
            }
            setting[k->param] = k->chosen;
        }
        if (!changed) break; /* a full pass without a better value: a local optimum */
    }
    if (st) return st;
    report[BTFM_COTHB_TUNING_TRAIN_REWARD] = best;
    report[BTFM_COTHB_TUNING_SETTINGS] = settings;
    for (int i = BTFM_COTHB_TUNING_HELD_OUT_REWARD; i <= BTFM_COTHB_TUNING_DIFFERENCE_HIGH; i++)
        report[i] = NAN;
    if (held > 0) {
        double *rewards = btfm_malloc((size_t)held * 2 * sizeof *rewards);
        if (!rewards) return btfm_fail_nomem("btfm_cothb_tuner_run", (size_t)held * 2 * sizeof *rewards);
        double mean, lo, hi, *base_rewards = rewards + held;
        st = evaluate(r, setting, first + n, held, rewards, &mean, &valid);
        if (!st) st = evaluate(r, base->params, first + n, held, base_rewards, &mean, &valid);
        if (!st) {
            interval(rewards, held, &report[BTFM_COTHB_TUNING_HELD_OUT_REWARD],
                     &report[BTFM_COTHB_TUNING_HELD_OUT_LOW], &report[BTFM_COTHB_TUNING_HELD_OUT_HIGH]);
            interval(base_rewards, held, &report[BTFM_COTHB_TUNING_BASE_HELD_OUT_REWARD], &lo, &hi);
            for (int64_t i = 0; i < held; i++) rewards[i] -= base_rewards[i];
            interval(rewards, held, &report[BTFM_COTHB_TUNING_DIFFERENCE],
                     &report[BTFM_COTHB_TUNING_DIFFERENCE_LOW],
                     &report[BTFM_COTHB_TUNING_DIFFERENCE_HIGH]);
        }
        btfm_free(rewards);
    }
    report[BTFM_COTHB_TUNING_EPISODES] = (double)r->episodes;
    return st;
}

btfm_status btfm_cothb_tuner_run(btfm_cothb_tuner *t, const btfm_cothb *base,
                                 btfm_cothb_episode_fn episode, void *user)
{
    static const char func[] = "btfm_cothb_tuner_run";
    BTFM_CHECK_ARG(t, func, "tuner");
    BTFM_CHECK_ARG(base, func, "base controller");
    BTFM_CHECK_ARG(episode, func, "episode");
    btfm_cothb_tuner scratch = *t; /* the knobs as chosen so far stay if this run fails */
    if (!scratch.n_knobs) default_knobs(&scratch);
    run_state r = {&scratch, NULL, episode, user, {0}, 0, 0, 0};
    double per_setting = scratch.params[BTFM_COTHB_TUNER_PARAM_PROBLEMS];
    for (int i = 0; i < scratch.n_knobs; i++)
        r.total += per_setting * (double)scratch.knobs[i].n_values *
                   scratch.params[BTFM_COTHB_TUNER_PARAM_ROUNDS];
    r.total += per_setting + 2 * scratch.params[BTFM_COTHB_TUNER_PARAM_HELD_OUT];
    btfm_status st = btfm_cothb_new(&r.work);
    if (!st) st = btfm_cothb_copy_config(r.work, base);
    if (!st) st = btfm_progress_start(&r.progress, t->progress, t->progress_user, "tuning");
    double report[BTFM_COTHB_TUNING_SETTINGS + 1];
    if (!st) st = run(&r, base, scratch.knobs, scratch.n_knobs, report);
    if (!st) st = btfm_progress_done(&r.progress, "tuning");
    btfm_cothb_free(r.work);
    if (st) return st;
    memcpy(t->knobs, scratch.knobs, sizeof t->knobs);
    t->n_knobs = scratch.n_knobs;
    memcpy(t->report, report, sizeof report);
    t->tuned = 1;
    return BTFM_OK;
}

static btfm_status require_tuned(const btfm_cothb_tuner *t, const char *func)
{
    if (!t->tuned)
        return btfm_fail(BTFM_E_STATE, "%s: nothing tuned yet; call btfm_cothb_tuner_run first",
                         func);
    return BTFM_OK;
}

btfm_status btfm_cothb_tuner_result(const btfm_cothb_tuner *t, double *report, int n_report)
{
    static const char func[] = "btfm_cothb_tuner_result";
    BTFM_CHECK_ARG(t, func, "tuner");
    BTFM_CHECK_ARG(report, func, "report");
    if (n_report < 1 || n_report > BTFM_COTHB_TUNING_SETTINGS + 1)
        return btfm_fail(BTFM_E_INVALID, "%s: n_report = %d: expected 1 to %d", func, n_report,
                         BTFM_COTHB_TUNING_SETTINGS + 1);
    btfm_status st = require_tuned(t, func);
    if (st) return st;
    memcpy(report, t->report, sizeof(double) * (size_t)n_report);
    return BTFM_OK;
}

int btfm_cothb_tuner_n_knobs(const btfm_cothb_tuner *t)
{
    if (!t) return btfm_fail(BTFM_E_INVALID, "btfm_cothb_tuner_n_knobs: tuner is NULL");
    return t->n_knobs;
}

btfm_status btfm_cothb_tuner_knob(const btfm_cothb_tuner *t, int index, int *param,
                                  double *chosen)
{
    static const char func[] = "btfm_cothb_tuner_knob";
    BTFM_CHECK_ARG(t, func, "tuner");
    if (index < 0 || index >= t->n_knobs)
        return btfm_fail(BTFM_E_NOTFOUND, "%s: knob %d does not exist (%d knobs)", func, index,
                         t->n_knobs);
    if (param) *param = t->knobs[index].param;
    if (chosen) *chosen = t->tuned ? t->knobs[index].chosen : NAN;
    return BTFM_OK;
}

btfm_status btfm_cothb_tuner_apply(const btfm_cothb_tuner *t, btfm_cothb *c)
{
    static const char func[] = "btfm_cothb_tuner_apply";
    BTFM_CHECK_ARG(t, func, "tuner");
    BTFM_CHECK_ARG(c, func, "controller");
    btfm_status st = require_tuned(t, func);
    double values[COTHB_NPARAM];
    memcpy(values, c->params, sizeof values);
    for (int i = 0; !st && i < t->n_knobs; i++)
        st = btfm_params_set(&btfm_cothb_param_table, values, t->knobs[i].param,
                             t->knobs[i].chosen, func);
    if (st) return st;
    memcpy(c->params, values, sizeof values);
    return BTFM_OK;
}
