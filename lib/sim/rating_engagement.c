/* An annotator's latent engagement e(t), sample by sample (doc/simulation.md, "EEG"): the
 * EEG generator drives alpha and theta with it, and the blink schedule is thinned by it,
 * so both see the same trace. */
#include <math.h>
#include "rating_internal.h"

int btfm_rating_reading_at(const rating_annotator *a, double t, int64_t *cursor)
{
    while (*cursor < a->n_events && a->events[*cursor].onset + a->events[*cursor].duration <= t)
        (*cursor)++;
    for (int64_t i = *cursor; i < a->n_events && a->events[i].onset <= t; i++)
        if (a->events[i].kind == EV_GAZE && t < a->events[i].onset + a->events[i].duration) return 1;
    return 0;
}

void btfm_rating_engagement_init(rating_engagement *e, const btfm_sim *sim,
                                 const rating_annotator *a)
{
    e->sfreq = (int64_t)RP(sim, SFREQ);
    e->base = btfm_sim_log(a->engagement_mean / (1.0 - a->engagement_mean));
    e->rho = btfm_sim_exp(-0.1 / 20.0);
    e->drive = 0.5 * sqrt(1.0 - e->rho * e->rho);
    btfm_sim_rng_init(&e->ou_rng, (uint64_t)RP(sim, SEED), SIM_STREAM_ENGAGEMENT,
                      (uint64_t)a->index);
    e->ou_step = 0;
    e->ou_now = 0;
    e->ou_next = 0.5 * btfm_sim_rng_normal(&e->ou_rng);
    e->reading_smooth = 0;
    e->smooth_rate = 1.0 - btfm_sim_exp(-1.0 / (0.5 * (double)e->sfreq));
    e->cursor = 0;
}

/* e(n) = logistic(logit(mean) + 2 (reading smoothed over 0.5 s - 1/2) + OU(n)), the OU
 * process on a 0.1 s grid (tau 20 s, sd 0.5), linearly interpolated. */
double btfm_rating_engagement_next(rating_engagement *e, const rating_annotator *a, int64_t n)
{
    const double t = (double)n / (double)e->sfreq;
    const int64_t step = n * 10 / e->sfreq; /* the 0.1 s grid point at or before n */
    while (e->ou_step < step) {
        e->ou_now = e->ou_next;
        e->ou_next = e->rho * e->ou_next + e->drive * btfm_sim_rng_normal(&e->ou_rng);
        e->ou_step++;
    }
    const double frac = (double)(n * 10 - step * e->sfreq) / (double)e->sfreq;
    const double ou = e->ou_now + frac * (e->ou_next - e->ou_now);
    const double reading = btfm_rating_reading_at(a, t, &e->cursor);
    e->reading_smooth += (reading - e->reading_smooth) * e->smooth_rate;
    return btfm_sim_logistic(e->base + 2.0 * (e->reading_smooth - 0.5) + ou);
}
