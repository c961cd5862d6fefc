/* Cross-validation folds that respect time and people: contiguous K-fold (scikit-learn's
 * KFold without shuffling), leave-one-group-out and K folds of whole groups, explicit
 * folds, and a gap around each test block kept out of training. */
#include <stdlib.h>
#include <string.h>
#include "model_internal.h"
#include "core/random.h"

void btfm_model_splits_clear(model_splits *s)
{
    btfm_free(s->test_start);
    btfm_free(s->test);
    btfm_free(s->gap_start);
    btfm_free(s->gap);
    memset(s, 0, sizeof *s);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int btfm_model_in_train(const model_splits *s, int f, int64_t i)
{
    const int64_t *lists[2] = {s->test + s->test_start[f], s->gap + s->gap_start[f]};
    const int64_t counts[2] = {s->test_start[f + 1] - s->test_start[f],
                               s->gap_start[f + 1] - s->gap_start[f]};
    for (int l = 0; l < 2; l++)
        if (counts[l] && bsearch(&i, lists[l], (size_t)counts[l], sizeof i, cmp_i64)) return 0;
    return 1;
}

/* Fold of each sample: k contiguous blocks of sizes n / k (+1 for the first n % k) over
 * `order` (the samples in order, or permuted). */
static void kfold(int64_t n, int k, const int64_t *order, int32_t *fold)
{
    int64_t pos = 0;
    for (int f = 0; f < k; f++) {
        int64_t size = n / k + (f < n % k ? 1 : 0);
        for (int64_t i = 0; i < size; i++) fold[order ? order[pos + i] : pos + i] = f;
        pos += size;
    }
}

typedef struct group_entry {
    int64_t label;
    int64_t first; /* first sample with the label */
    int64_t count;
    int32_t fold;
} group_entry;

static int cmp_label(const void *a, const void *b)
{
    const group_entry *x = a, *y = b;
    return (x->label > y->label) - (x->label < y->label);
}

static int cmp_first(const void *a, const void *b)
{
    const group_entry *x = a, *y = b;
    return (x->first > y->first) - (x->first < y->first);
}

static group_entry *find_group(group_entry *g, int64_t count, int64_t label)
{
    group_entry key = {.label = label};
    return bsearch(&key, g, (size_t)count, sizeof *g, cmp_label);
}

/* Folds from groups: leave-one-group-out (k = 0; folds in the order of the sorted labels,
 * as scikit-learn's LeaveOneGroupOut) or k folds of whole groups, contiguous in the order
 * the groups first appear, each closing once it reaches its share of the samples. */
static btfm_status group_folds(const int64_t *groups, int64_t n, int k, int32_t *fold,
                               int *n_folds, int min_test, const char *func)
{
    group_entry *g = btfm_malloc((size_t)n * sizeof *g);
    if (!g) return btfm_fail_nomem(func, (size_t)n * sizeof *g);
    for (int64_t i = 0; i < n; i++) g[i] = (group_entry){groups[i], i, 0, 0};
    /* Distinct labels: sort by label, then keep each label's first sample and count. */
    qsort(g, (size_t)n, sizeof *g, cmp_label);
    int64_t count = 0;
    for (int64_t i = 0; i < n; i++) {
        if (count && g[count - 1].label == g[i].label) {
            if (g[i].first < g[count - 1].first) g[count - 1].first = g[i].first;
            g[count - 1].count++;
        } else {
            g[count] = g[i];
            g[count].count = 1;
            count++;
        }
    }
    btfm_status st = BTFM_OK;
    if (count < 2)
        st = btfm_fail(BTFM_E_INVALID, "%s: groups: every sample is in group %lld; "
                       "cross-validation over groups needs at least 2 groups", func,
                       (long long)g[0].label);
    for (int64_t i = 0; !st && i < count; i++)
        if (g[i].count < min_test)
            st = btfm_fail(BTFM_E_INVALID, "%s: groups: group %lld has %lld sample; a "
                           "held-out R^2 or correlation needs at least %d per group (merge "
                           "it, or score by another measure)", func, (long long)g[i].label,
                           (long long)g[i].count, min_test);
    if (!st && k > count)
        st = btfm_fail(BTFM_E_INVALID, "%s: cv is %d but groups has only %lld distinct groups; "
                       "expected cv <= %lld", func, k, (long long)count, (long long)count);
    if (st) {
        btfm_free(g);
        return st;
    }
    if (k == 0) {
        for (int64_t i = 0; i < count; i++) g[i].fold = (int32_t)i;
        *n_folds = (int)count;
    } else {
        qsort(g, (size_t)count, sizeof *g, cmp_first);
        int64_t done = 0;
        int f = 0;
        for (int64_t i = 0; i < count; i++) {
            /* Move on once this fold has its share, or when each fold still to come needs
             * one of the groups left. */
            if (i > 0 && f < k - 1 &&
                (done >= (int64_t)((double)n * (f + 1) / k) || count - i == k - 1 - f))
                f++;
            g[i].fold = f;
            done += g[i].count;
        }
        *n_folds = k;
        qsort(g, (size_t)count, sizeof *g, cmp_label);
    }
    for (int64_t i = 0; i < n; i++) fold[i] = find_group(g, count, groups[i])->fold;
    btfm_free(g);
    return BTFM_OK;
}

/* The gap list of each fold: samples outside the test list within `gap` of one of its
 * samples (intervals merged in one sweep over the ascending test list). */
static btfm_status gap_lists(model_splits *s, int64_t gap, unsigned char *mark,
                             const char *func)
{
    int64_t cap = 0, used = 0;
    s->gap_start = btfm_calloc((size_t)s->n_folds + 1, sizeof *s->gap_start);
    if (!s->gap_start) return btfm_fail_nomem(func, ((size_t)s->n_folds + 1) * sizeof(int64_t));
    for (int f = 0; f < s->n_folds; f++) {
        s->gap_start[f] = used;
        const int64_t *test = s->test + s->test_start[f];
        const int64_t n_test = s->test_start[f + 1] - s->test_start[f];
        if (gap > 0) {
            for (int64_t i = 0; i < n_test; i++) mark[test[i]] = 1;
            int64_t covered = 0; /* first index not yet visited */
            for (int64_t i = 0; i < n_test; i++) {
                int64_t lo = test[i] - gap < covered ? covered : test[i] - gap;
                int64_t hi = test[i] + gap >= s->n_samples ? s->n_samples - 1 : test[i] + gap;
                for (int64_t j = lo; j <= hi; j++) {
                    if (mark[j]) continue;
                    btfm_status st = btfm_reserve((void **)&s->gap, &cap, used + 1,
                                                  sizeof *s->gap, func);
                    if (st) return st;
                    s->gap[used++] = j;
                }
                if (hi + 1 > covered) covered = hi + 1;
            }
            for (int64_t i = 0; i < n_test; i++) mark[test[i]] = 0;
        }
    }
    s->gap_start[s->n_folds] = used;
    if (!s->gap) {
        s->gap = btfm_malloc(sizeof *s->gap);
        if (!s->gap) return btfm_fail_nomem(func, sizeof *s->gap);
    }
    return BTFM_OK;
}

/* The test lists from the fold of each sample (-1: never tested). */
static btfm_status test_lists(model_splits *s, const int32_t *fold, const char *func)
{
    const int64_t n = s->n_samples;
    s->test_start = btfm_calloc((size_t)s->n_folds + 2, sizeof *s->test_start);
    s->test = btfm_malloc((size_t)n * sizeof *s->test);
    if (!s->test_start || !s->test) return btfm_fail_nomem(func, (size_t)n * sizeof *s->test);
    for (int64_t i = 0; i < n; i++)
        if (fold[i] >= 0) s->test_start[fold[i] + 1]++;
    for (int f = 0; f < s->n_folds; f++) s->test_start[f + 1] += s->test_start[f];
    int64_t *fill = btfm_malloc(((size_t)s->n_folds + 1) * sizeof *fill);
    if (!fill) return btfm_fail_nomem(func, ((size_t)s->n_folds + 1) * sizeof *fill);
    memcpy(fill, s->test_start, ((size_t)s->n_folds + 1) * sizeof *fill);
    for (int64_t i = 0; i < n; i++) /* ascending within each fold */
        if (fold[i] >= 0) s->test[fill[fold[i]]++] = i;
    btfm_free(fill);
    return BTFM_OK;
}

/* A seeded permutation of 0 .. n-1 (Fisher-Yates over splitmix64). */
static int64_t *permutation(int64_t n, uint64_t seed, const char *func)
{
    int64_t *p = btfm_malloc((size_t)n * sizeof *p);
    if (!p) {
        btfm_fail_nomem(func, (size_t)n * sizeof *p);
        return NULL;
    }
    for (int64_t i = 0; i < n; i++) p[i] = i;
    uint64_t state = seed;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)(btfm_splitmix64(&state) % (uint64_t)(i + 1));
        int64_t t = p[i];
        p[i] = p[j];
        p[j] = t;
    }
    return p;
}

/* Each fold must test at least min_test samples and train on at least one. */
static btfm_status check_sizes(const model_splits *s, int min_test, const char *func,
                               const char *source)
{
    for (int f = 0; f < s->n_folds; f++) {
        int64_t n_test = s->test_start[f + 1] - s->test_start[f];
        int64_t n_gap = s->gap_start[f + 1] - s->gap_start[f];
        if (n_test < min_test)
            return btfm_fail(BTFM_E_INVALID, "%s: %s: fold %d tests %lld samples; expected at "
                             "least %d", func, source, f, (long long)n_test, min_test);
        if (s->n_samples - n_test - n_gap < 1)
            return btfm_fail(BTFM_E_INVALID, "%s: gap: fold %d keeps no sample to train on "
                             "(%lld tested, %lld in the gap of %lld samples)", func, f,
                             (long long)n_test, (long long)n_gap, (long long)s->n_samples);
    }
    return BTFM_OK;
}

btfm_status btfm_model_make_splits(const btfm_model *m, int64_t n, int closed_loo,
                                   int min_test, model_splits *out, const char *func)
{
    memset(out, 0, sizeof *out);
    out->n_samples = n;
    const int cv_param = (int)MODEL_PARAM(m, CV);
    const int64_t gap = (int64_t)MODEL_PARAM(m, GAP);
    const char *source = m->folds ? "folds" : m->groups ? "groups" : "cv";
    if (!m->folds && !m->groups && closed_loo && (cv_param <= 1)) {
        if (gap > 0)
            return btfm_fail(BTFM_E_INVALID, "%s: gap is %lld but cv is leave-one-out; a gap "
                             "needs k-fold (cv >= 2), groups or explicit folds", func,
                             (long long)gap);
        if (n < 3)
            return btfm_fail(BTFM_E_INVALID, "%s: cv: leave-one-out needs at least 3 samples, "
                             "got %lld", func, (long long)n);
        out->loo = 1;
        out->n_folds = (int)(n < 2147483647 ? n : 2147483647);
        return BTFM_OK;
    }
    int32_t *fold = btfm_malloc((size_t)n * sizeof *fold);
    unsigned char *mark = btfm_calloc((size_t)n, 1);
    if (!fold || !mark) {
        btfm_free(fold);
        btfm_free(mark);
        return btfm_fail_nomem(func, (size_t)n * sizeof *fold);
    }
    btfm_status st = BTFM_OK;
    if (m->folds) {
        int max = -1;
        for (int64_t i = 0; i < n; i++) {
            fold[i] = m->folds[i];
            if (fold[i] > max) max = fold[i];
        }
        if (max < 1)
            st = btfm_fail(BTFM_E_INVALID, "%s: folds names %d test fold%s; expected at least "
                           "2", func, max + 1, max == 0 ? "" : "s");
        out->n_folds = max + 1;
    } else if (m->groups) {
        int k = cv_param <= 1 ? 0 : cv_param;
        st = group_folds(m->groups, n, k, fold, &out->n_folds, min_test, func);
    } else {
        int k = cv_param == 0 ? 5 : cv_param == 1 ? (int)(n < 2147483647 ? n : 0) : cv_param;
        if (k == 0 || n < k || (int64_t)k * min_test > n)
            st = btfm_fail(BTFM_E_INVALID, "%s: cv is %d folds but there are %lld samples; "
                           "expected at least %d samples%s", func, k, (long long)n,
                           k * (min_test > 1 ? min_test : 1),
                           min_test > 1 ? " (held-out R^2 and correlations need 2 a fold)" : "");
        int64_t *order = NULL;
        if (!st && MODEL_PARAM(m, SHUFFLE)) {
            order = permutation(n, (uint64_t)MODEL_PARAM(m, SEED), func);
            if (!order) st = BTFM_E_NOMEM;
        }
        if (!st) kfold(n, k, order, fold);
        btfm_free(order);
        out->n_folds = k;
    }
    if (!st) st = test_lists(out, fold, func);
    if (!st) st = gap_lists(out, gap, mark, func);
    if (!st) st = check_sizes(out, min_test, func, source);
    btfm_free(fold);
    btfm_free(mark);
    if (st) btfm_model_splits_clear(out);
    return st;
}
