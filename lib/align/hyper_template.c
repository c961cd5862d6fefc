/* The hyperalignment template's T x V work on blocks of its columns, one block a worker:
 * the means and z-scores of level 1 and level 2 and level 1's update with each aligned
 * subject, with the blocks' share of the template's Gram matrix. */
#include <string.h>
#include <cblas.h>
#include "hyper_internal.h"
#include "core/scratch.h"

BTFM_HOT BTFM_SIMD_CLONES static btfm_status template_block(void *ctx, int64_t b, int worker)
{
    template_blocks *l = ctx;
    const int64_t T = l->T, Vc = l->Vc, c0 = b * l->chunk;
    const int64_t n = c0 + l->chunk <= Vc ? l->chunk : Vc - c0;
    if (n <= 0) return BTFM_OK;
    float *c = l->common + c0;
    double *acc = l->acc[worker];
    for (int64_t t = 0; l->mean_of && t < T; t++) { /* accumulated in double */
        for (int64_t j = 0; j < n; j++) acc[j] = 0.0;
        for (int i = 0; i < l->n_mean; i++) {
            const float *m = l->mean_of[i] + t * Vc + c0;
            for (int64_t j = 0; j < n; j++) acc[j] += m[j];
        }
        for (int64_t j = 0; j < n; j++) c[t * Vc + j] = (float)(acc[j] / l->n_mean);
    }
    if (l->mapped) {
        float *m = l->mapped + c0;
        if (l->left)
            cblas_ssymm(CblasRowMajor, CblasLeft, CblasUpper, (blasint)T, (blasint)n, 1.0f,
                        l->left, (blasint)T, c, (blasint)Vc, 0.0f, m, (blasint)Vc);
        btfm_dense_standardize(m, T, n, Vc, 1, acc, acc + n);
        for (int64_t t = 0; t < T; t++)
            for (int64_t j = 0; j < n; j++)
                c[t * Vc + j] = 0.5f * (m[t * Vc + j] + c[t * Vc + j]);
    }
    if (l->zscore) btfm_dense_standardize(c, T, n, Vc, 1, acc, acc + n);
    if (l->gram)
        cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (blasint)T, (blasint)n, 1.0f, c,
                    (blasint)Vc, 1.0f, l->gram[worker], (blasint)T);
    return BTFM_OK;
}

/* Run the blocks on `workers` threads; gram[0] receives the whole C C^T. */
btfm_status btfm_hyper_template_run(template_blocks *l, int workers)
{
    const int64_t T = l->T;
    for (int w = 0; l->gram && w < workers; w++)
        memset(l->gram[w], 0, (size_t)(T * T) * sizeof(float));
    btfm_status st = btfm_parallel_for(workers, workers, template_block, l);
    for (int w = 1; !st && l->gram && w < workers; w++)
        for (int64_t i = 0; i < T; i++)
            for (int64_t j = i; j < T; j++) l->gram[0][i * T + j] += l->gram[w][i * T + j];
    return st;
}


void btfm_hyper_template_scratch_clear(template_scratch *ts)
{
    for (int w = 0; w < ts->workers; w++) {
        if (ts->gram) btfm_scratch_put(ts->gram[w], ts->gram_bytes);
        if (ts->acc) btfm_free(ts->acc[w]);
    }
    btfm_free(ts->gram);
    btfm_free(ts->acc);
    memset(ts, 0, sizeof *ts);
}

btfm_status btfm_hyper_template_scratch_init(template_scratch *ts, int workers, int64_t T,
                                         int64_t chunk, int with_gram)
{
    ts->workers = workers;
    ts->gram_bytes = (size_t)(T * T) * sizeof(float);
    ts->gram = btfm_calloc((size_t)workers, sizeof *ts->gram);
    ts->acc = btfm_calloc((size_t)workers, sizeof *ts->acc);
    btfm_status st = (!ts->gram || !ts->acc) ? btfm_fail_nomem("btfm_aligner_fit", 64) : BTFM_OK;
    for (int w = 0; !st && w < workers; w++) {
        ts->acc[w] = btfm_dense_zeros((2 * chunk), 1, "btfm_aligner_fit");
        if (with_gram) ts->gram[w] = btfm_scratch_get(ts->gram_bytes);
        if (!ts->acc[w] || (with_gram && !ts->gram[w]))
            st = btfm_fail_nomem("btfm_aligner_fit", (size_t)(T * T) * sizeof(float));
    }
    if (st) btfm_hyper_template_scratch_clear(ts);
    return st;
}

/* Column blocks of at least 16 floats, one a worker. */
int64_t btfm_hyper_template_chunk(int64_t Vc, int workers)
{
    return ((Vc + workers - 1) / workers + 15) / 16 * 16;
}
