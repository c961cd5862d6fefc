/* Random numbers of the simulators: Philox4x64-10 (Salmon et al. 2011, Random123), a
 * counter-based generator, so every stream (an annotator's traits, one channel's noise,
 * one source) is its own key and counter and the values never depend on the order or
 * the thread in which streams are drawn; normals by the ziggurat method. */
#ifndef BTFM_SIM_RANDOM_H
#define BTFM_SIM_RANDOM_H

#include <stddef.h>
#include <stdint.h>

/* Philox4x64 with 10 rounds: four 64-bit words from a 256-bit counter and a 128-bit key. */
void btfm_sim_philox4x64(const uint64_t counter[4], const uint64_t key[2], uint64_t out[4]);

/* One stream: key (seed, purpose), counter (n, entity, 0, 0) with n counting blocks. */
typedef struct sim_rng {
    uint64_t key[2];
    uint64_t counter[4];
    uint64_t block[4];
    int used;                /* words of `block` already returned */
} sim_rng;

/* What a stream is for: the key's second word, so streams of different purposes never
 * share values. Numbers are part of the simulators' output: never renumber. */
enum sim_stream {
    SIM_STREAM_ITEMS = 1,       /* latent values of items and segments */
    SIM_STREAM_ANNOTATOR = 2,   /* an annotator's traits, topography, bad channels */
    SIM_STREAM_SCHEDULE = 3,    /* an annotator's timeline, blinks, artifacts */
    SIM_STREAM_BEHAVIOUR = 4,   /* ratings and preferences */
    SIM_STREAM_CHANNEL = 5,     /* one EEG channel's sensor noise */
    SIM_STREAM_SOURCE = 6,      /* one source's background or rhythm */
    SIM_STREAM_TRIAL = 7,       /* per-event jitter and phases */
    SIM_STREAM_ENGAGEMENT = 8,  /* an annotator's slow engagement fluctuations */
    SIM_STREAM_ARTIFACT = 9,    /* the noise inside artifacts */
    SIM_STREAM_BOLD = 10,       /* fMRI: clusters, drifts, motion, noise */
    SIM_STREAM_SHARED = 11,     /* shared-response session */
};

/* Stream `purpose` of `entity` (e.g. annotator * 4096 + channel) under `seed`. */
void btfm_sim_rng_init(sim_rng *r, uint64_t seed, uint64_t purpose, uint64_t entity);

uint64_t btfm_sim_rng_u64(sim_rng *r);
/* Uniform in (0, 1): never 0 or 1. */
double btfm_sim_rng_uniform(sim_rng *r);
/* Standard normal. */
double btfm_sim_rng_normal(sim_rng *r);
/* n normals into out[0], out[stride], ... (as floats). */
void btfm_sim_rng_normals(sim_rng *r, float *out, int64_t n, size_t stride);
/* Uniform integer in [0, n), n >= 1 (rejection, no modulo bias). */
uint64_t btfm_sim_rng_below(sim_rng *r, uint64_t n);
/* Fill `out` with a uniformly random permutation of 0 .. n-1 (Fisher-Yates). */
void btfm_sim_rng_permutation(sim_rng *r, int64_t *out, int64_t n);

#endif
