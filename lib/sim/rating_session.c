/* btfm_sim_rating_session: check the parameters together, then write the dataset into a
 * temporary folder annotator by annotator (EEG, fMRI, behaviour, truth), finish the BIDS
 * tables and rename the folder into place. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "core/atomic_file.h"
#include "rating_internal.h"

static btfm_status check_params(const btfm_sim *sim, const char *func)
{
    double sfreq = RP(sim, SFREQ), line = RP(sim, LINE_FREQ);
    int format = (int)RP(sim, EEG_FORMAT);
    if (RP(sim, SEGMENTS_MIN) > RP(sim, SEGMENTS_MAX))
        return btfm_fail(BTFM_E_INVALID, "%s: segments_min = %g is above segments_max = %g",
                         func, RP(sim, SEGMENTS_MIN), RP(sim, SEGMENTS_MAX));
    if (line >= 0.5 * sfreq)
        return btfm_fail(BTFM_E_INVALID, "%s: line_freq = %g Hz is not below the Nyquist "
                         "frequency %g Hz of sfreq = %g; lower line_freq (0 for none) or raise "
                         "sfreq", func, line, 0.5 * sfreq, sfreq);
    if (format != BTFM_FORMAT_EDF && format != BTFM_FORMAT_BDF && format != BTFM_FORMAT_BRAINVISION)
        return btfm_fail(BTFM_E_INVALID, "%s: eeg_format = %d; expected %d (EDF+), %d (BDF+) or "
                         "%d (BrainVision)", func, format, BTFM_FORMAT_EDF, BTFM_FORMAT_BDF,
                         BTFM_FORMAT_BRAINVISION);
    double items = RP(sim, N_ITEMS), possible = items * (items - 1) / 2;
    if (RP(sim, N_PAIRS) > possible)
        return btfm_fail(BTFM_E_INVALID, "%s: n_pairs = %g distinct pairs asked of %g items, which "
                         "have %g", func, RP(sim, N_PAIRS), items, possible);
    if (RP(sim, N_BAD_CHANNELS) > RP(sim, N_CHANNELS) / 4)
        return btfm_fail(BTFM_E_INVALID, "%s: n_bad_channels = %g of n_channels = %g; at most a "
                         "quarter of the channels can be bad", func, RP(sim, N_BAD_CHANNELS),
                         RP(sim, N_CHANNELS));
    return BTFM_OK;
}

/* README and the events' column descriptions at the root (inherited by every recording). */
static btfm_status write_root_files(const btfm_sim *sim, const sim_output *o)
{
    char *path = btfm_sim_path(o, "README");
    if (!path) return btfm_fail_nomem("sim", 64);
    btfm_atomic_file af;
    btfm_status st = btfm_atomic_open(&af, path, 0);
    btfm_free(path);
    if (st) return st;
    fprintf(af.fp,
            "Simulated RLHB rating session written by libbtfm %s (btfm_sim_rating_session).\n\n"
            "Annotators read model outputs (items) segment by segment while their EEG%s was\n"
            "recorded, rated some items on a Likert scale and chose between pairs of items.\n"
            "Every signal comes from a generative model with known latent values: see\n"
            "derivatives/truth/ and the library's doc/simulation.md. Not real data.\n",
            btfm_version_string(), RP(sim, FMRI) != 0 ? " and fMRI" : "");
    st = btfm_atomic_commit(&af);
    btfm_json *j = NULL, *levels = NULL;
    if (!st) st = btfm_json_new_object(&j);
    static const struct { const char *column, *text, *units; } columns[] = {
        {"item_id", "the item (model output) this event belongs to; items are numbered from 1", NULL},
        {"segment", "gaze events: the segment (sentence) read, from 1", NULL},
        {"rating", "rating events: the Likert rating given", NULL},
        {"rating_confidence", "rating events: confidence in the rating, 1 to 5", NULL},
        {"response_time", "rating events: time from the prompt to the response", "s"},
        {"sample", "onset as a sample index of the recording", NULL},
    };
    btfm_json *tt = NULL;
    if (!st) st = btfm_json_new_object(&tt);
    if (!st) st = btfm_json_new_object(&levels);
    if (!st) st = btfm_json_set_string(levels, "item_onset", "the item appears; duration: until reading ends");
    if (!st) st = btfm_json_set_string(levels, "gaze", "the eyes land on a segment; duration: dwell time");
    if (!st) st = btfm_json_set_string(levels, "item_end", "reading ends: the item is evaluated");
    if (!st) st = btfm_json_set_string(levels, "rating", "the rating prompt; duration: response time");
    if (!st) {
        st = btfm_json_set(tt, "Levels", levels);
        levels = NULL;
    }
    if (!st) {
        st = btfm_json_set(j, "trial_type", tt);
        tt = NULL;
    }
    for (size_t k = 0; !st && k < sizeof columns / sizeof *columns; k++) {
        btfm_json *c = NULL;
        st = btfm_json_new_object(&c);
        if (!st) st = btfm_json_set_string(c, "Description", columns[k].text);
        if (!st && columns[k].units) st = btfm_json_set_string(c, "Units", columns[k].units);
        if (!st) st = btfm_json_set(j, columns[k].column, c);
        else btfm_json_free(c);
    }
    btfm_json_free(tt);
    btfm_json_free(levels);
    if (!st) {
        st = btfm_sim_json_save(j, o, "task-rating_events.json");
        j = NULL;
    }
    btfm_json_free(j);
    return st;
}

/* Everything one annotator contributes; `part` covers this annotator's share. */
static btfm_status write_annotator(const btfm_sim *sim, const rating_design *d, int index,
                                   btfm_bids_writer *w, const sim_output *o, sim_table *annotators,
                                   btfm_progress *part)
{
    rating_annotator a;
    btfm_status st = btfm_rating_annotator_new(&a, sim, d, index);
    if (st) return st;
    int fmri = RP(sim, FMRI) != 0;
    btfm_progress eeg = btfm_progress_part(part, 0, fmri ? 0.8 : 1.0);
    btfm_progress bold = btfm_progress_part(part, 0.8, 1.0);
    st = btfm_rating_write_eeg(sim, d, &a, w, &eeg);
    if (!st && fmri) st = btfm_rating_write_bold(sim, d, &a, w, o, &bold);
    if (!st) st = btfm_rating_write_beh(&a, o);
    if (!st) st = btfm_rating_write_annotator_truth(sim, d, &a, o);
    if (!st) st = btfm_rating_annotators_table_add(annotators, &a);
    btfm_rating_annotator_free(&a);
    return st;
}

btfm_status btfm_sim_rating_session(btfm_sim *sim, const char *out_dir)
{
    static const char func[] = "btfm_sim_rating_session";
    BTFM_CHECK_ARG(sim, func, "simulator");
    BTFM_CHECK_ARG(out_dir, func, "out_dir");
    if (sim->kind != BTFM_OBJECT_SIM_RATING_SESSION)
        return btfm_fail(BTFM_E_INVALID, "%s: the simulator is a %s (kind %d); create it with "
                         "btfm_sim_new(&sim, BTFM_OBJECT_SIM_RATING_SESSION)", func,
                         btfm_object_kind_name(sim->kind), sim->kind);
    btfm_status st = check_params(sim, func);
    if (st) return st;
    btfm_progress progress;
    if ((st = btfm_progress_start(&progress, sim->progress, sim->progress_user, "rating session")))
        return st;
    sim_output o;
    if ((st = btfm_sim_output_begin(&o, out_dir, func))) return st;
    rating_design d;
    btfm_bids_writer *w = NULL;
    sim_table annotators = {0};
    st = btfm_rating_design_new(&d, sim);
    if (!st) st = btfm_bids_writer_new(&w, o.root, "libbtfm simulated rating session");
    /* simulated annotators identify nobody; their dates keep the sessions apart */
    if (!st) st = btfm_bids_writer_keep_identity(w, 1);
    if (!st) st = write_root_files(sim, &o);
    if (!st) st = btfm_sim_truth_description(sim, &o);
    if (!st) st = btfm_rating_write_item_truth(&d, &o);
    if (!st && RP(sim, FMRI) != 0) st = btfm_rating_write_bold_truth(sim, &o);
    if (!st) st = btfm_rating_annotators_table_new(&annotators);
    int n = (int)RP(sim, N_ANNOTATORS);
    for (int a = 0; a < n && !st; a++) {
        btfm_progress part = btfm_progress_part(&progress, (double)a / n, (double)(a + 1) / n);
        st = write_annotator(sim, &d, a, w, &o, &annotators, &part);
    }
    if (!st) st = btfm_sim_table_save(&annotators, &o, "derivatives/truth/annotators.tsv");
    if (!st) st = btfm_bids_writer_finish(w);
    btfm_sim_table_free(&annotators);
    btfm_bids_writer_free(w);
    btfm_rating_design_free(&d);
    if (!st) st = btfm_progress_done(&progress, "rating session");
    if (!st) st = btfm_sim_output_commit(&o);
    if (st) btfm_sim_output_abort(&o);
    return st;
}
