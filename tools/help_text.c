/* What each command does, every option explained, and examples: the one text behind
 * `btfm COMMAND --help` and the manual page doc/btfm.1 (tools/help.c). A command's
 * synopsis and one-line summary are in its entry of the command table (btfm.c). Every
 * option a command accepts is listed here and used in at least one of its examples
 * (tests/tools/test_cli_help.py checks both). */
#include <string.h>
#include "cli.h"

const char cli_help_overview[] =
    "btfm reads brain recordings (EDF/EDF+, BDF/BDF+, BrainVision, NIfTI-1/2, MEG/EEG FIF, "
    "SNIRF, EEGLAB .set, eye tracking as EyeLink .asc or BIDS physio, and BIDS folders), converts and de-identifies them, filters them, cuts epochs, "
    "computes power spectra, turns fNIRS light into haemoglobin, fits hyperalignment and "
    "shared response models across subjects, writes simulated sessions with known ground "
    "truth, and runs the CoTHB controller's benchmark. Every command that reads a recording "
    "accepts any of those formats, recognized from the file's content.\n\n"
    "Arrays are time-major: a recording is n_times x n_channels, epochs are n_epochs x n_times x "
    "n_channels, as .npy files in C order.\n\n"
    "Long work shows a progress bar on standard error when it is a terminal.";

const cli_option_help cli_help_environment[] = {
    {"BTFM_PROGRESS",
     "always: show the progress bar even when standard error is not a terminal; never: never "
     "show it. Unset: a bar only on a terminal."},
    {"OPENBLAS_NUM_THREADS", "The number of threads OpenBLAS uses for the dense algebra of fits."},
    {"OPENBLAS_CORETYPE",
     "The kernel family OpenBLAS uses (Prescott, Nehalem, Sandybridge, Haswell, SkylakeX, "
     "...), read when it loads; unset, OpenBLAS picks from the CPU model and falls back to an "
     "older family on models it does not know (btfm version --verbose shows which)."},
    {NULL, NULL},
};

static const cli_help helps[] = {
    {"help",
     "Without COMMAND, the list of commands. With one, its usage, what it does, its options "
     "and examples (the same as btfm COMMAND --help). --man writes this manual as a troff page "
     "(the one installed as btfm(1)).",
     (const cli_option_help[]){
         {"--man", "Write the manual page for every command to standard output, in troff."},
         {NULL, NULL}},
     (const char *const[]){"btfm help", "btfm help psd", "btfm psd --help",
                           "btfm help --man > btfm.1", NULL}},
    {"version",
     "The version of this program and of the library it loaded, and the capabilities the "
     "library was built with (file formats, layers).",
     (const cli_option_help[]){
         {"--verbose",
          "Also what this process runs on, one \"key: value\" line each: the CPU, its "
          "instruction set and SIMD features, the BLAS library, its configuration, the kernel "
          "family OpenBLAS chose and its threads, the OPENBLAS_* variables, and advice when "
          "the kernels use less of the CPU than it offers."},
         {NULL, NULL}},
     (const char *const[]){"btfm version", "btfm --version", "btfm version --verbose", NULL}},
    {"demo",
     "The end-to-end RLHB job, with no input needed: simulates the default rating session "
     "(8 annotators reading 60 model outputs with EEG, rating 30% of them; "
     "doc/simulation.md) or reads the BIDS folder given with --bids, reads every EEG "
     "recording through the BIDS and EDF readers, band-passes, epochs around each item's "
     "end and builds ERP, band-power and novelty features, aligns the annotators with a "
     "shared response model, then fits reward heads with every annotator held out in turn "
     "and prints how the ratings-only (RLHF), brain-only and joint rewards of the held-out "
     "annotators match each item's latent reward: Pearson and Spearman correlation, "
     "pairwise accuracy, calibration (ECE) and the correlation on unrated items alone. "
     "Metrics need derivatives/truth/items.tsv (written by the simulator). Method: "
     "doc/rlhb.md.",
     (const cli_option_help[]){
         {"--bids DIR", "Use this rating session (real or simulated) instead of simulating one."},
         {"--seed N", "Seed of the simulated session (1)."},
         {"--param NAME=VALUE", "Any simulator parameter (btfm params sim_rating_session), "
                                "e.g. effect_scale=0 for brain signals that carry no reward."},
         {"--keep DIR", "Write the simulated session to DIR (must not exist) and keep it."},
         {"--no-align", "Features on the channels instead of the shared response space."},
         {"--plot FILE.svg", "Draw predicted against latent reward per mode, the calibration "
                             "curves, the ERP at Pz by reward tercile and the held-out "
                             "correlation per annotator."},
         {"--json", "Print the results as one JSON object."},
         {NULL, NULL}},
     (const char *const[]){"btfm demo", "btfm demo --seed 2 --plot demo.svg",
                           "btfm demo --param effect_scale=0", "btfm demo --bids session --json",
                           "btfm demo --keep session --no-align",
                           NULL}},
    {"info",
     "Describes FILE: a recording (format, channels with types, units and rates, duration, "
     "start time, identification, events by type and label; for NIfTI volumes the grid, "
     "affine and mask; for FIF files the first sample, filters, SSP projectors and "
     "MaxFilter history the file reports, none of which is applied; for eye tracking gaze and "
     "pupil channels with fixations, saccades, blinks and messages as events), a libbtfm "
     "model container (its "
     "arrays), a TSV table (columns and numeric ranges), or a BIDS folder (subjects, "
     "sessions, tasks, datatypes).",
     (const cli_option_help[]){
         {"--json", "Print the description as one JSON object instead of text."},
         {"--complete-records",
          "Read an EDF/BDF file whose header declares more data records than it holds up to its "
          "last complete record (with a warning) instead of refusing it."},
         {"--lenient",
          "For a BIDS folder: skip files that break the BIDS rules (listed at the end) instead of "
          "refusing the folder."},
         {"--plot FILE.svg",
          "For a recording: also draw its first 10 s as an SVG figure, up to 32 channels as "
          "stacked traces (each scaled to its own range over those seconds, named on the left) "
          "with the events there as vertical markers."},
         {NULL, NULL}},
     (const char *const[]){"btfm info sub-01_task-rest_eeg.edf",
                           "btfm info sub-01_task-rest_eeg.edf --plot overview.svg",
                           "btfm info recording.bdf --json --complete-records",
                           "btfm info sub-01_task-rest_meg.fif --json",
                           "btfm info bids_dataset/ --lenient", "btfm info model.btfm", NULL}},
    {"convert",
     "Copies a recording into the format of OUT's extension: .edf (EDF+), .bdf (BDF+) or "
     ".vhdr (BrainVision, with its .vmrk and .eeg), or .nii/.nii.gz for volumes. Channels, "
     "units, events and the start time are kept; same-format copies keep the stored values "
     "exactly, other formats within one digital step.",
     (const cli_option_help[]){
         {"--anonymize",
          "De-identify the copy: clear the subject and recording identification and move the "
          "start date to 1985-01-01, keeping the time of day (as btfm anonymize)."},
         {"--complete-records",
          "Read an EDF/BDF file whose header declares more data records than it holds up to its "
          "last complete record instead of refusing it."},
         {NULL, NULL}},
     (const char *const[]){"btfm convert in.bdf out.vhdr",
                           "btfm convert in.edf out.bdf --anonymize --complete-records", NULL}},
    {"anonymize",
     "Writes a de-identified copy of a recording: subject and recording identification "
     "cleared, start date moved to 1985-01-01 with the time of day kept (the BIDS rule), in "
     "the format of OUT's extension. The input is not changed.",
     (const cli_option_help[]){
         {"--complete-records",
          "Read an EDF/BDF file whose header declares more data records than it holds up to its "
          "last complete record instead of refusing it."},
         {NULL, NULL}},
     (const char *const[]){"btfm anonymize in.edf out.edf",
                           "btfm anonymize in.edf out.edf --complete-records", NULL}},
    {"params",
     "Lists the tunable parameters of each object kind (container, dataset, aligner, cothb, "
     "...) with their type, default, bounds and meaning, from the library's own tables: the "
     "names btfm align fit --param and the bindings accept.",
     (const cli_option_help[]){{"--json", "Print a JSON array of parameters instead of text."},
                               {NULL, NULL}},
     (const char *const[]){"btfm params", "btfm params aligner --json", NULL}},
    {"cothb",
     "bench runs CoTHB and the baselines a reviewer asks for (a chain of thought, "
     "self-consistency, reliability-weighted self-consistency, best-of-n, a rejection loop "
     "with a tuned threshold, a beam search scored by the signal with tuned width) on "
     "simulated reasoning tasks, every method within the same budget of generated steps "
     "(re-checks included) and on the same samples, each method's knobs tuned on other "
     "problems; it prints accuracies with 95% Wilson intervals and CoTHB's paired "
     "difference to the best baseline with a 95% interval, one cell per d' and budget "
     "(doc/cothb.md, \"Benchmark\").\n\n"
     "calibrate reads a TSV file of labelled steps (columns score and correct, 1 right or 0 "
     "wrong) and prints the signal-quality report (AUC with its interval, d', calibration "
     "error, Brier score, log loss; out of fold); --save writes a controller holding the "
     "calibration for a host to load. With --features it fits the named columns (several "
     "raw features of each step in any units: ERN amplitude, band powers, pupil size) by "
     "L2-penalized logistic regression on standardized features and prints the held-out d', "
     "the intercept and each feature's weight in its own units (doc/cothb.md).\n\n"
     "tune runs the library's tuner (btfm_cothb_tuner) on one benchmark task and prints "
     "the chosen knobs and their held-out accuracy against the defaults; --save writes the "
     "tuned controller.",
     (const cli_option_help[]){
         {"--family chain|switch",
          "chain: 6 steps, each wrong with probability 0.2, wrong answers from a few systematic "
          "slips; switch: 8 steps whose working strategy changes twice mid-chain (default chain)."},
         {"--dprime D[,D...]", "Signal strengths d' (default 2): readings ~ N(-+d'/2, 1)."},
         {"--budget B[,B...]", "Budgets in generated steps (default 24)."},
         {"--signal step|path|outcome",
          "What the host observes: a reading per step, one per finished path, or only each "
          "step's outcome (default step)."},
         {"--host calibrated|raw",
          "Reliabilities reported as P(right | reading), or as the raw sigmoid of the reading "
          "(default calibrated)."},
         {"--problems N", "Evaluated problems a cell (default 1000; tune: training and "
                          "held-out problems, default 500 each)."},
         {"--tune-problems N", "bench: problems each method's knobs are tuned on (default 400)."},
         {"--seed S", "Seed of the simulation (default 1); the same seed gives the same table."},
         {"--svg FILE", "bench: a figure of accuracy against budget, one panel per d'."},
         {"--method platt|isotonic", "calibrate: the calibration map (default platt)."},
         {"--folds K", "calibrate: folds of the out-of-fold report (default 5)."},
         {"--features COL[,COL...]",
          "calibrate: feature columns fitted together instead of one score column."},
         {"--l2 X", "calibrate --features: the penalty, scikit-learn's 1 / C (default 1)."},
         {"--save FILE", "calibrate, tune: write the calibrated or tuned controller."},
         {"--json", "Print JSON instead of text."},
         {NULL, NULL}},
     (const char *const[]){"btfm cothb bench",
                           "btfm cothb bench --dprime 0,1,2,3 --budget 12,24,48 --svg cothb.svg",
                           "btfm cothb bench --family switch --signal outcome --problems 2000 "
                           "--tune-problems 400 --seed 7",
                           "btfm cothb bench --host raw --json",
                           "btfm cothb calibrate steps.tsv --method isotonic --folds 10 "
                           "--save calibrated.btfm",
                           "btfm cothb calibrate steps.tsv --features ern,theta,pupil --l2 0.5 "
                           "--save calibrated.btfm",
                           "btfm cothb tune --dprime 1 --budget 24 --save tuned.btfm --json", NULL}},
    {"align",
     "fit learns a common space from two or more subjects' responses to the same time points "
     "and saves the model: hyperalignment (Haxby 2011) or a shared response model (Chen 2015, "
     "deterministic or probabilistic). Each IN is a time x features .npy matrix or a dataset "
     "(EDF, BrainVision, NIfTI volumes masked with --mask); all must have the same number of "
     "time points, in the same order.\n\n"
     "transform maps a subject's data (same features as at fit) into the common space, or "
     "back with --inverse, and writes a .npy matrix (time x components).\n\n"
     "Under mpirun (builds with MPI) fit divides the inputs among the ranks in contiguous "
     "blocks, each rank reads only its own, the shared response models run over all ranks "
     "and rank 0 writes the model a single process would: mpirun -n 4 btfm align fit "
     "model.btfm IN... (doc/distributed.md).",
     (const cli_option_help[]){
         {"--method M", "hyperalignment, srm (the default) or probabilistic_srm."},
         {"--n-features K",
          "Components of the common space (the aligner parameter n_features; btfm params "
          "aligner)."},
         {"--param NAME=VALUE",
          "Set any aligner parameter by name (btfm params aligner lists them), e.g. "
          "max_iter=20; may be repeated."},
         {"--mask MASK",
          "For NIfTI inputs: the voxels to use, a mask image on the same grid, or epi or "
          "background to compute one as nilearn does."},
         {"--plot FILE.svg",
          "fit: also draw an SVG figure: the objective after each iteration (SRM; hyperalignment "
          "does not iterate) and held-out time-segment matching (windows of 10 time points) of "
          "every subject on the last fifth of the time points after a second fit, with the same "
          "settings, on the first four fifths, beside the raw features' matching when the "
          "subjects share their features. Under mpirun rank 0 draws it."},
         {"--subject I", "transform: the subject (0-based, in the order given to fit)."},
         {"--inverse", "transform: map from the common space back to the subject's features."},
         {NULL, NULL}},
     (const char *const[]){"btfm align fit --method hyperalignment --n-features 30 model.btfm "
                           "sub-01.npy sub-02.npy sub-03.npy",
                           "btfm align fit --param max_iter=20 --mask mask.nii.gz model.btfm "
                           "sub-01_bold.nii.gz sub-02_bold.nii.gz",
                           "btfm align fit --n-features 10 --plot fit.svg model.btfm sub-01.npy "
                           "sub-02.npy sub-03.npy",
                           "btfm align transform model.btfm sub-02.npy shared.npy --subject 1",
                           "btfm align transform model.btfm shared.npy back.npy --subject 1 "
                           "--inverse",
                           NULL}},
    {"filter",
     "Zero-phase Butterworth filtering (forward and backward, as scipy.signal.sosfiltfilt and "
     "MNE's IIR filters) of every channel but stim channels, written in the format of OUT's "
     "extension with the channels and events of IN. Frequencies are in Hz.",
     (const cli_option_help[]){
         {"--band LOW HIGH", "Band-pass: keep LOW to HIGH Hz (the same as --low LOW --high HIGH)."},
         {"--low HZ",
          "The high-pass edge: keep frequencies above HZ (MNE's l_freq). Alone, a high-pass "
          "filter."},
         {"--high HZ",
          "The low-pass edge: keep frequencies below HZ (MNE's h_freq). Alone, a low-pass "
          "filter."},
         {"--notch HZ", "Remove a narrow band around HZ (power-line noise); may be repeated."},
         {"--order N",
          "Butterworth order (default 4; band filters have 2 x N poles, as in SciPy)."},
         {"--notch-q Q", "Quality of the notches: bandwidth = HZ / Q (default 30)."},
         {NULL, NULL}},
     (const char *const[]){"btfm filter raw.edf filtered.edf --band 1 40",
                           "btfm filter raw.edf hp.edf --low 0.5 --order 2",
                           "btfm filter raw.vhdr lp.vhdr --high 30 --notch 50 --notch 100 "
                           "--notch-q 35",
                           NULL}},
    {"epochs",
     "Cuts epochs around a recording's events into OUT.npy, shaped epochs x times x channels "
     "(float32, volts), as mne.Epochs: samples round(tmin x sfreq) to round(tmax x sfreq) "
     "around each event, the baseline mean subtracted, epochs that exceed a rejection limit "
     "dropped. Without --label every event but EDF+D gaps is used.",
     (const cli_option_help[]){
         {"--tmin S", "Start of each epoch relative to its event, in seconds (default -0.2)."},
         {"--tmax S", "End of each epoch relative to its event, in seconds (default 0.5)."},
         {"--baseline BMIN BMAX",
          "Subtract each channel's mean over BMIN..BMAX seconds (default: no baseline)."},
         {"--reject TYPE=LIMIT,...",
          "Drop epochs whose peak-to-peak amplitude on a channel of that type exceeds LIMIT "
          "(volts), as MNE's reject; bad channels are ignored."},
         {"--label TEXT",
          "Only the events labelled TEXT, with MNE's hierarchy of /-separated tags: stim "
          "selects stim/left and stim/right, left selects stim/left. No matching event is an "
          "error that lists the labels there are."},
         {NULL, NULL}},
     (const char *const[]){"btfm epochs rec.edf epochs.npy --label stim",
                           "btfm epochs rec.vhdr e.npy --tmin -0.1 --tmax 0.8 --baseline -0.1 0 "
                           "--reject eeg=100e-6,eog=250e-6",
                           NULL}},
    {"psd",
     "The power spectral density of every channel, by Welch's method (as scipy.signal.welch) "
     "or with multitapers (as MNE's psd_array_multitaper), printed as a table (one row per "
     "frequency, one column per channel) or written as .npy; with bands, the power in each "
     "band instead. IN is a recording or a .npy array: time x channels (2-D), one channel "
     "(1-D), or epochs x times x channels (3-D, as btfm epochs writes), which gives a "
     "spectrum per epoch (an epoch column in the table, epochs x frequencies x channels in "
     ".npy) or, with --average, their mean.",
     (const cli_option_help[]){
         {"--sfreq HZ", "Sampling rate of a .npy input (required there; overrides a recording's)."},
         {"--fmin F", "Lowest frequency shown (Hz)."},
         {"--fmax F", "Highest frequency shown (Hz)."},
         {"--nperseg N", "Welch segment length in samples (default 256, at most the signal's)."},
         {"--window W", "Welch window: hann (default), hamming, blackman or boxcar."},
         {"--multitaper", "Multitaper estimate instead of Welch's."},
         {"--bands", "Power in the standard bands delta, theta, alpha, beta, gamma."},
         {"--band NAME|LO:HI", "Power in a named band or from LO to HI Hz; may be repeated."},
         {"--relative", "Band power as a fraction of the power over all the bands' range."},
         {"--average", "For epochs (3-D input): the mean of the epochs' spectra or band powers."},
         {"--out X.npy",
          "Write the PSD (frequencies x channels) or band power (bands x channels) as float32 "
          ".npy instead of printing it."},
         {"--plot X.svg",
          "Draw the spectra (the mean over epochs for epochs) as an SVG figure, log power over "
          "frequency, one line a channel; not with --bands."},
         {NULL, NULL}},
     (const char *const[]){"btfm psd rec.edf --fmin 1 --fmax 40",
                           "btfm psd data.npy --sfreq 256 --nperseg 512 --window hamming --out "
                           "psd.npy",
                           "btfm psd rec.edf --multitaper --bands",
                           "btfm psd epochs.npy --sfreq 512 --average --fmax 45 --plot psd.svg",
                           "btfm psd rec.edf --band alpha --band 13:30 --relative", NULL}},
    {"sim",
     "Writes a simulated session as a BIDS folder OUT (which must not exist, or be empty), "
     "through the same writers as real data, with the ground truth under "
     "OUT/derivatives/truth/. rating-session: annotators read model outputs segment by "
     "segment with EEG recorded (EDF+ by default; BDF+ or BrainVision with "
     "--param eeg_format=2 or 3; fMRI too with --param fmri=1), rate some items and choose "
     "between pairs; reward positivity, FRN, P3a and frontal theta follow each item's latent "
     "reward, negative affect, novelty and confidence. shared-response: subjects driven by "
     "one shared time course through their own mixing (NIfTI by default). The same seed "
     "gives the same bytes. Every parameter, its default, bounds and meaning: btfm params "
     "sim_rating_session (or sim_shared_response); the model: doc/simulation.md.",
     (const cli_option_help[]){
         {"--param NAME=VALUE", "Set a parameter of the simulator; may be repeated."},
         {"--plot X.svg",
          "rating-session: after writing, read the session back and draw the event-locked "
          "averages over annotators at Pz, Fz and Cz for the items in the lowest, middle and "
          "highest third of reward, negative affect and novelty."},
         {NULL, NULL}},
     (const char *const[]){"btfm sim rating-session session",
                           "btfm sim rating-session big --param n_annotators=32 --param n_items=450",
                           "btfm sim rating-session null --param effect_scale=0 --plot null.svg",
                           "btfm sim rating-session bv --param eeg_format=3 --param fmri=1",
                           "btfm sim shared-response movie --param correspondence=0.2 --param "
                           "n_subjects=10", NULL}},
    {"model",
     "fit learns a linear readout from X (samples x features) to Y and saves it: ridge "
     "regression for any number of targets with each target's penalty chosen by "
     "cross-validation (leave-one-out in closed form by default, as scikit-learn's RidgeCV), "
     "banded ridge with one penalty per feature band, logistic regression on class labels "
     "0 .. K - 1 in Y's one column, or a Bradley-Terry reward of the items in X's rows from "
     "preferences: Y then holds one pair (first, second: item rows counted from 0) per row "
     "and --outcomes says who won. X, Y, --groups and --bands are .npy arrays (a vector is "
     "one column) or .tsv tables with a header row and a number in every cell. It prints the "
     "shape and the chosen penalties; --held-out K adds each target's nested held-out score "
     "(outer folds of contiguous blocks, each fitted with its own inner cross-validation): "
     "the score of an encoding or decoding model.\n\n"
     "predict writes MODEL's predictions for X as .npy (samples x outputs); score prints "
     "MODEL's score of each target on held-out X and Y. Every parameter (gap, standardize, "
     "scoring, solver, ...): btfm params model; the equations: doc/models.md.",
     (const cli_option_help[]){
         {"--type T", "ridge (the default), banded_ridge, logistic or bradley_terry."},
         {"--outcomes O", "bradley_terry: one value per pair, 1 when the first item was "
          "preferred, 0 the second, 0.5 a tie (default: the first always)."},
         {"--alphas A,B,...",
          "The penalties to try (default 0.1,1,10 for ridge; 1e-4 .. 1e4 for logistic)."},
         {"--cv K",
          "Inner cross-validation: 0 the default (ridge: leave-one-out by the closed form), "
          "1 leave-one-group-out with --groups, K >= 2 contiguous folds (of whole groups)."},
         {"--groups G", "One whole number per sample (run, session, subject): folds never "
          "split a group."},
         {"--delays D,...",
          "Finite-impulse-response delays in samples: the fit sees X at t - d for each d "
          "(e.g. 1,2,3,4 for fMRI's haemodynamic lag)."},
         {"--bands B", "banded_ridge: the band (0 .. n_bands - 1) of each feature."},
         {"--param NAME=VALUE", "Set any model parameter by name; may be repeated."},
         {"--held-out K",
          "After the fit, K outer folds (0: one per group) of nested held-out predictions, "
          "scored per target by R^2 and Pearson r (accuracy for logistic)."},
         {"--scores S.npy", "With --held-out: write the held-out R^2 and r (2 x targets)."},
         {"--std", "predict: the predictive standard deviations instead of the predictions."},
         {"--proba", "predict: the class probabilities of a logistic model."},
         {"--pairs P", "predict: a bradley_terry model's probabilities for these pairs of "
          "X's items (pairs x 3: first preferred, tie, second preferred); without it, "
          "predict writes each item's reward score."},
         {"--kind K", "score: r2 (the default), pearson or neg_mse."},
         {"--out S.npy", "score: also write the scores (1 x targets)."},
         {"--json", "Print the result as one JSON object."},
         {NULL, NULL}},
     (const char *const[]){"btfm model fit ridge.btfm features.npy bold.npy --alphas "
                           "1,10,100,1000 --delays 1,2,3,4 --cv 5 --held-out 5 --scores "
                           "scores.npy",
                           "btfm model fit heads.btfm eeg_features.tsv labels.tsv --type "
                           "logistic --groups annotators.tsv --cv 1 --held-out 0 --json",
                           "btfm model fit banded.btfm x.npy y.npy --type banded_ridge --bands "
                           "bands.npy --param n_iter=50",
                           "btfm model fit std.btfm x.npy y.npy --param standardize=1",
                           "btfm model predict ridge.btfm new_features.npy predicted.npy",
                           "btfm model predict ridge.btfm new_features.npy sd.npy --std",
                           "btfm model predict heads.btfm eeg_features.tsv p.npy --proba",
                           "btfm model fit reward.btfm items.npy pairs.npy --type bradley_terry "
                           "--outcomes won.npy --groups annotators.npy --cv 1",
                           "btfm model predict reward.btfm items.npy p.npy --pairs pairs.npy",
                           "btfm model score ridge.btfm test_x.npy test_y.npy --kind pearson "
                           "--out r.npy --json",
                           NULL}},
    {"reward",
     "fit reads a rating session (a BIDS folder with EEG recordings whose events.tsv mark "
     "item_onset, item_end and rating rows with item_id, and beh/*_task-preference_beh.tsv "
     "pairwise choices, as btfm sim rating-session writes), builds item-locked features "
     "(doc/rlhb.md) and fits one reward head on every annotator, cross-validating by "
     "annotator, then saves it with the features' configuration. score loads a head and "
     "prints, for every item of every EEG recording of a session, the reward, its standard "
     "deviation, the confidence, the negative-affect penalty and the novelty as TSV (or "
     "JSON); a session whose features were made otherwise is refused. pair-scores prints "
     "each item's Bradley-Terry strength from pairwise choices alone (item_id, score, "
     "n_pairs), the choices of every annotator of a BIDS session pooled by item id, or of "
     "one table with columns chosen_item, item_a, item_b or chosen, rejected (and an "
     "optional weight). encoder fits the other direction: from a table of the host's item "
     "embeddings (item_id and one column per dimension) to every annotator's brain "
     "features, one ridge per feature with its penalty chosen over folds of whole items, "
     "prints each feature's held-out r on items the fit never saw (and the ratings'), and "
     "saves the model (btfm model predict gives an item's expected response).",
     (const cli_option_help[]){
         {"--mode M", "fit: ratings_only, brain_only or joint (the default); scoring uses it."},
         {"--param NAME=VALUE", "fit: a reward head parameter (btfm params reward_head)."},
         {"--json", "score, pair-scores, encoder: JSON instead of TSV."},
         {"--alpha A", "pair-scores: the penalty on the scores (a Gaussian prior of variance "
                       "1 / A; default 1)."},
         {"--folds K", "encoder: folds of whole items (default 5, at least 3)."},
         {NULL, NULL}},
     (const char *const[]){"btfm reward fit session head.btfm",
                           "btfm reward fit session rlhf.btfm --mode ratings_only",
                           "btfm reward fit session head.btfm --param folds=4",
                           "btfm reward score head.btfm new_session > rewards.tsv",
                           "btfm reward score head.btfm new_session --json",
                           "btfm reward pair-scores session > strengths.tsv",
                           "btfm reward pair-scores choices.tsv --alpha 0.5 --json",
                           "btfm reward encoder session embeddings.tsv encoder.btfm --folds 4", NULL}},
    {"nirs",
     "fNIRS processing with MNE's conventions (doc/fnirs.md). IN is a recording whose "
     "channels carry their source-detector geometry (a SNIRF file); its continuous-wave "
     "amplitudes become optical densities first (-ln(I / mean I)). od writes those; hb "
     "converts each source-detector pair to HbO and HbR in M by the modified Beer-Lambert law "
     "(channels S1_D1 hbo, S1_D1 hbr); short regresses the nearest short channel (same "
     "wavelength or haemoglobin type) out of every long one; sci prints each channel's scalp "
     "coupling index (the correlation of a pair's wavelengths in the cardiac band; below 0.5 "
     "is poor contact). OUT's extension picks the format (.edf, .bdf, .vhdr); those formats "
     "keep the values, not the optode geometry.",
     (const cli_option_help[]){
         {"--ppf P", "hb: the partial pathlength factor (default 6, MNE's; Homer3 uses 1)."},
         {"--max-distance M",
          "short: source-detector distance in metres below which a channel is short (default "
          "0.01)."},
         {"--band L H LT HT",
          "sci: the pass band L-H Hz and its transition widths (default 0.7 1.5 0.3 0.3, MNE's)."},
         {"--json", "sci: print the indices as JSON."},
         {NULL, NULL}},
     (const char *const[]){"btfm nirs sci sub-01_task-tapping_nirs.snirf",
                           "btfm nirs sci rec.snirf --band 0.5 2.0 0.2 0.4 --json",
                           "btfm nirs od rec.snirf od.vhdr",
                           "btfm nirs short rec.snirf clean.vhdr --max-distance 0.008",
                           "btfm nirs hb rec.snirf hb.vhdr --ppf 6", NULL}},
    {"corpus",
     "build preprocesses recordings once into a training corpus (doc/corpus.md): SOURCE is a "
     "BIDS folder (its eeg, ieeg and func recordings, or --query's) or a list of recording "
     "files; each is picked, re-referenced, band-passed, resampled, robust z-scored and "
     "stored as int16 (or float16) that numpy.memmap opens, with OUT_DIR/index.json "
     "describing them. Recordings are built in parallel, each written atomically, so a "
     "rerun after an interruption finishes the same corpus; a recording that fails is listed "
     "with its reason. Under mpirun (builds with MPI) the ranks divide the recordings and "
     "rank 0 merges the index, the same bytes as one process: mpirun -n 4 btfm corpus build "
     "SOURCE OUT_DIR on a folder every rank sees. Subjects become keyed pseudonyms (HMAC-SHA-256 of the label under a "
     "key that is never stored). info lists a corpus's recordings; windows counts the "
     "windows of each split (train, val, test by subject, seeded) for a window length and "
     "stride, or around events. Every parameter: btfm params corpus and btfm params loader.",
     (const cli_option_help[]){
         {"--key-file F", "build: the pseudonymization key, read from file F (else --key TEXT "
          "or the environment variable BTFM_CORPUS_KEY)."},
         {"--key TEXT", "build: the pseudonymization key given on the command line."},
         {"--param NAME=VALUE", "build: a corpus parameter (sfreq, l_freq, h_freq, dtype, "
          "...); windows: a loader parameter (split_by, seed, val_fraction, ...)."},
         {"--query Q", "build: which recordings of a BIDS folder, e.g. \"task=rest datatype=eeg\"."},
         {"--channel-types T", "build: channel types kept from EEG-like recordings, comma-separated (default eeg)."},
         {"--keep-annotations L", "build: free-text annotation labels kept as events (others are dropped)."},
         {"--label-column C", "build: the events.tsv column whose values label the events."},
         {"--mask M", "build: a NIfTI mask image for fMRI runs (voxel time series)."},
         {"--atlas A", "build: a NIfTI label image for fMRI runs (parcel time series)."},
         {"--json", "build, info, windows: print the result as JSON."},
         {"--length S", "windows: window length in seconds."},
         {"--stride S", "windows: stride between window starts in seconds (default the length)."},
         {"--events L", "windows: one window per event labelled L (comma-separated), from --tmin to --tmax."},
         {"--tmin S", "windows: event-locked window start in seconds from the event."},
         {"--tmax S", "windows: event-locked window end in seconds from the event."},
         {NULL, NULL}},
     (const char *const[]){"btfm corpus build ds/ corpus/ --key-file secret.key --param sfreq=250",
                           "btfm corpus build ds/ corpus/ --key TEXT --query \"task=rest\" --channel-types eeg,eog --param dtype=1",
                           "btfm corpus build a.edf b.edf corpus/ --key-file k --keep-annotations stim --label-column trial_type --json",
                           "btfm corpus build fmri/ parcels/ --key-file k --atlas atlas.nii.gz --mask brain.nii.gz",
                           "btfm corpus info corpus/ --json",
                           "btfm corpus windows corpus/ --length 4 --stride 2 --param split_by=1 --json",
                           "btfm corpus windows corpus/ --events stim --tmin -0.2 --tmax 0.8", NULL}},
    {"stream",
     "replay plays a recording through a real-time stream (doc/streaming.md), as an "
     "amplifier would deliver it: chunks of samples pushed in order, the recording's events "
     "pushed as markers when the replay reaches them, and every row the stream makes printed "
     "as one JSON object a line (JSON Lines): \"kind\" (window or epoch), \"time\", "
     "\"sample\", \"flags\", band powers \"<band>:<channel>\", ERP means "
     "\"erp<w>:<channel>\", state indices \"state:<index>\" and their z-scores, reward "
     "outputs; columns without a value are left out. Without a pipeline file the EEG "
     "channels are band-passed 1-40 Hz and give delta, theta, alpha and beta power every "
     "250 ms over 1 s windows.\n\n"
     "A pipeline file holds one setting a line, name = value, # for comments: any parameter "
     "of the stream (btfm params stream: window, hop, notch, reference, highpass, lowpass, "
     "amplitude_limit, epoch_tmin, ...), picks, frontal and posterior (channel names, comma "
     "separated), eog (a channel name), bands and erp_windows (pairs, \"4 8, 8 13\"), "
     "reward_head (a head saved by btfm reward fit, fitted with normalize 0).",
     (const cli_option_help[]){
         {"--pipeline CONFIG", "The pipeline file (default: band powers of the EEG channels)."},
         {"--realtime", "Push each chunk when its last sample would have been recorded, as "
                        "a live amplifier does (default: as fast as possible)."},
         {"--chunk N", "Samples a push (default 10)."},
         {NULL, NULL}},
     (const char *const[]){"btfm stream replay sub-01_eeg.edf > rows.jsonl",
                           "btfm stream replay rec.vhdr --pipeline alpha.conf --realtime",
                           "btfm stream replay rec.bdf --chunk 32", NULL}},
    {"sync",
     "Maps the clock of DEVICE (an eye tracker's EyeLink .asc or BIDS physio file, a second "
     "amplifier) onto the clock of REFERENCE (the EEG) through the triggers both recorded "
     "(doc/formats.md, EyeLink): events with the same non-zero code, such as an EyeLink "
     "\"MSG 1234 TRIGGER 5\" and the EEG's trigger 5. Triggers are paired by code and time, "
     "so a trigger that only one side logged is left out rather than shifting the others; "
     "the line t_reference = offset + (1 + drift) t_device is fitted to the pairs by least "
     "squares. Prints the offset (s), the drift (s per s and ms per hour), the residual rms "
     "and the number of pairs: an rms above the devices' timing resolution (the tracker's "
     "1 ms plus the EEG's sample period) says the triggers do not line up.\n\n"
     "With --output, DEVICE's events (all but acquisition gaps, or those --events picks) are "
     "mapped through the line and added to REFERENCE's, and REFERENCE is written to OUT "
     "(.edf, .bdf, .vhdr by the extension), where btfm epochs --label cuts at them.",
     (const cli_option_help[]){
         {"--events LABEL", "With --output: import only the events LABEL selects (a type such "
                            "as fixation, saccade, blink, message, or a label; MNE's "
                            "hierarchical tags)."},
         {"--output OUT", "Write REFERENCE with DEVICE's events added, in OUT's format."},
         {"--json", "Print offset_s, drift, drift_ms_per_hour, rms_s and n_pairs as JSON."},
         {NULL, NULL}},
     (const char *const[]){"btfm sync sub-01_task-read_eyetrack.asc sub-01_task-read_eeg.set",
                           "btfm sync eye.asc eeg.vhdr --json",
                           "btfm sync eye.asc eeg.set --events fixation --output eeg_fix.vhdr",
                           "btfm epochs eeg_fix.vhdr fix.npy --label fixation", NULL}},
};

const cli_help *cli_help_of(const char *command)
{
    for (size_t i = 0; i < sizeof helps / sizeof helps[0]; i++)
        if (strcmp(helps[i].command, command) == 0) return &helps[i];
    return NULL;
}
