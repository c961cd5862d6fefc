/* The CoTHB evaluation harness: synthetic reasoning tasks whose every sample is derived
 * from a hash of (problem, node path), solved by CoTHB and by the baselines a reviewer
 * asks for, all within the same budget of generated steps (re-checks included). Public
 * API only; used by `btfm cothb bench`, bench/bench_cothb_search and the tests. The task
 * families and methods are described in doc/cothb.md, "Benchmark". */
#ifndef BTFM_TOOLS_COTHB_HARNESS_H
#define BTFM_TOOLS_COTHB_HARNESS_H

#include <stdint.h>
#include <btfm/btfm.h>

enum { HARNESS_CHAIN = 0, HARNESS_SWITCH = 1 };                  /* task families */
enum { HARNESS_STEP = 0, HARNESS_PATH = 1, HARNESS_OUTCOME = 2 }; /* what is observed */
enum { HARNESS_CALIBRATED = 0, HARNESS_RAW = 1 };                 /* how the host reports */

enum {
    HARNESS_M_CHAIN,       /* one chain of thought */
    HARNESS_M_SC,          /* self-consistency: B / depth chains, majority vote */
    HARNESS_M_WSC,         /* the same chains, vote weighted by path reliability */
    HARNESS_M_BEST_OF_N,   /* the same chains, the most reliable one */
    HARNESS_M_REJECT,      /* re-sample a step until its reliability >= tau (tuned) */
    HARNESS_M_BEAM,        /* beam search / Tree of Thoughts scored by the signal (tuned) */
    HARNESS_M_COTHB,       /* CoTHB with its defaults */
    HARNESS_M_COTHB_TUNED, /* CoTHB tuned by btfm_cothb_tuner on separate problems */
    HARNESS_M_COTHB_CALIBRATED, /* raw hosts: CoTHB defaults, scores through its Platt
                                 * calibration fitted on labelled steps of other problems */
    HARNESS_METHOD_COUNT
};

typedef struct harness_task {
    int family;       /* HARNESS_CHAIN or HARNESS_SWITCH */
    int depth;        /* steps from the problem to an answer */
    double slip;      /* P(a generated step is wrong) (switch: with the right strategy) */
    double chance;    /* switch: P(a step is right with a wrong strategy) */
    int strategies;   /* switch: strategies the host can take a step with */
    double dprime;    /* signal strength: readings ~ N(-d'/2, 1) if right, N(+d'/2, 1) if wrong */
    int signal;       /* HARNESS_STEP, HARNESS_PATH or HARNESS_OUTCOME */
    int host;         /* HARNESS_CALIBRATED or HARNESS_RAW */
    uint64_t seed;
} harness_task;

/* The knobs a method is tuned over. */
typedef struct harness_knobs {
    double tau;       /* reject: accept a step at or above this reliability */
    int retries;      /* reject (switch family): re-samples with a strategy before shifting */
    int beam, width;  /* beam: kept per depth (b), children per kept node (k) */
    btfm_cothb *config; /* CoTHB: a controller whose configuration (parameters and
                         * calibration) is used, reset for each problem (NULL: defaults) */
    int scores;       /* CoTHB: report raw scores through the controller's calibration */
} harness_knobs;

/* The chain family of the issue this harness answers (6 steps, slip 0.2, systematic
 * wrong answers) and the switch family (10 steps, 4 strategies, the right one changing
 * twice mid-chain). */
void harness_task_defaults(harness_task *t, int family);
void harness_knobs_defaults(harness_knobs *k);
const char *harness_method_name(int method);

/* Solve problem `problem` with `method` within `budget` generated steps: *correct is 1
 * when the answer is right, *used the steps generated. BTFM_OK or a library error. */
btfm_status harness_solve(const harness_task *t, int method, const harness_knobs *k,
                          int budget, int64_t problem, int *correct, int *used);

/* The message of the harness's last failure (the library's last error if it was one). */
const char *harness_last_error(void);

/* Labelled readings for calibration, from problems no cell evaluates: n steps (path
 * signals: n paths), their raw scores (the error signal x, high when wrong) and whether
 * each was right. */
void harness_labelled_steps(const harness_task *t, int64_t n, uint64_t seed, double *scores,
                            int *correct);

/* A cell of the benchmark: every method on `problems` problems (ids 0..), tuned on
 * `tune_problems` other problems (ids from 1e9). */
typedef struct harness_cell {
    harness_task task;
    int budget;
    double accuracy[HARNESS_METHOD_COUNT], low[HARNESS_METHOD_COUNT], high[HARNESS_METHOD_COUNT];
    int ran[HARNESS_METHOD_COUNT];        /* 0 for methods that do not apply to the cell */
    double steps[HARNESS_METHOD_COUNT];   /* mean steps generated */
    harness_knobs knobs[HARNESS_METHOD_COUNT];
    int best_baseline;                    /* the most accurate of the baselines */
    double diff[3], diff_low[3], diff_high[3]; /* CoTHB (default, tuned, calibrated) -
                                                * best baseline, paired */
} harness_cell;

btfm_status harness_run_cell(harness_cell *cell, int problems, int tune_problems,
                             btfm_progress_fn progress, void *user);
void harness_free_cell(harness_cell *cell);

#endif
