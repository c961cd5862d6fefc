/* A small shared-response simulation for the align tests: every subject sees the same
 * K-dimensional signal S (T x K) through its own random orthonormal layout W_i (V x K)
 * plus noise, so anatomical (index-wise) correspondence is absent by construction. */
#ifndef BTFM_TESTS_ALIGN_SIM_H
#define BTFM_TESTS_ALIGN_SIM_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

static uint64_t sim_state = 12345;

static double sim_uniform(void)
{
    sim_state = sim_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return ((double)(sim_state >> 11) + 0.5) / 9007199254740992.0;
}

static double sim_normal(void)
{
    return sqrt(-2.0 * log(sim_uniform())) * cos(6.283185307179586 * sim_uniform());
}

/* A smooth-ish shared signal: AR(1) series per component, T x K. */
static void sim_shared(double *s, int64_t T, int64_t K)
{
    for (int64_t k = 0; k < K; k++) {
        double v = sim_normal();
        for (int64_t t = 0; t < T; t++) {
            v = 0.5 * v + sim_normal();
            s[t * K + k] = v;
        }
    }
}

/* Random V x K with orthonormal columns (Gram-Schmidt on Gaussian columns). */
static void sim_layout(double *w, int64_t V, int64_t K)
{
    for (int64_t j = 0; j < V * K; j++) w[j] = sim_normal();
    for (int64_t k = 0; k < K; k++) {
        for (int64_t p = 0; p < k; p++) {
            double dot = 0;
            for (int64_t v = 0; v < V; v++) dot += w[v * K + k] * w[v * K + p];
            for (int64_t v = 0; v < V; v++) w[v * K + k] -= dot * w[v * K + p];
        }
        double n = 0;
        for (int64_t v = 0; v < V; v++) n += w[v * K + k] * w[v * K + k];
        for (int64_t v = 0; v < V; v++) w[v * K + k] /= sqrt(n);
    }
}

/* x (T x V) = s w^T * gain + noise * N(0, 1). */
static void sim_subject(float *x, const double *s, const double *w, int64_t T, int64_t V,
                        int64_t K, double gain, double noise)
{
    for (int64_t t = 0; t < T; t++)
        for (int64_t v = 0; v < V; v++) {
            double sum = 0;
            for (int64_t k = 0; k < K; k++) sum += s[t * K + k] * w[v * K + k];
            x[t * V + v] = (float)(gain * sum + noise * sim_normal());
        }
}

#endif
