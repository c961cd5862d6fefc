"""btfm.sim: ground-truth simulators that write real BIDS datasets through libbtfm's own
writers, so pipelines can be tested on data whose answer is known.

    >>> root = btfm.sim.rating_session("session", n_annotators=4, n_items=40, progress=True)
    >>> items = btfm.sim.truth(root, "items")             # latent values per item
    >>> seen = btfm.sim.truth(root, "perceived", subject="01")
    >>> raw = btfm.open(root / "sub-01/eeg/sub-01_task-rating_eeg.edf")
    >>> btfm.sim.shared_response("movie", n_subjects=6, correspondence=0.3)

Every keyword is a parameter of the simulator (`params("rating_session")` lists them with
defaults, bounds and a sentence each). The same seed gives byte-identical files. The
generative models, file names and TSV columns: doc/simulation.md.
"""

from __future__ import annotations

import ctypes
import os
import pathlib

from ._errors import check
from ._lib import lib
from ._params import _KIND_NUMBERS, param_info
from ._progress import attached
from ._util import to_cpath
from .table import Table, read_table

__all__ = ["rating_session", "shared_response", "params", "truth", "KINDS"]

#: simulator names -> their object kind in the library's parameter tables.
KINDS = {"rating_session": "sim_rating_session", "shared_response": "sim_shared_response"}

#: truth tables of a rating session: name -> file under derivatives/truth/ ({sub} is the
#: participant label for per-annotator tables).
_TRUTH_FILES = {
    "items": "items.tsv",
    "segments": "segments.tsv",
    "annotators": "annotators.tsv",
    "clusters": "clusters.tsv",
    "perceived": "sub-{sub}/sub-{sub}_perceived.tsv",
    "components": "sub-{sub}/sub-{sub}_components.tsv",
    "topography": "sub-{sub}/sub-{sub}_topography.tsv",
    "artifacts": "sub-{sub}/sub-{sub}_artifacts.tsv",
    "engagement": "sub-{sub}/sub-{sub}_engagement.tsv",
    "pairs": "sub-{sub}/sub-{sub}_pairs.tsv",
    "confounds": "sub-{sub}/sub-{sub}_task-rating_desc-confounds_timeseries.tsv",
    "regressors": "sub-{sub}/sub-{sub}_task-rating_regressors.tsv",
    "shared_response": "shared_response.tsv",
    "subjects": "subjects.tsv",
    "mixing": "sub-{sub}/sub-{sub}_mixing.tsv",
}


def params(simulator: str) -> list:
    """The parameters of "rating_session" or "shared_response" as btfm.ParamInfo tuples
    (name, type, default, min, max, description), from the library's tables."""
    return param_info(_kind_name(simulator))


def _kind_name(simulator: str) -> str:
    try:
        return KINDS[simulator]
    except KeyError:
        raise ValueError(f"unknown simulator {simulator!r}; expected one of "
                         f"{', '.join(KINDS)}") from None


def _run(simulator: str, function, out_dir, progress, values: dict) -> pathlib.Path:
    kind = _KIND_NUMBERS[_kind_name(simulator)]
    known = {info.name: index for index, info in enumerate(param_info(_kind_name(simulator)))}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise TypeError(f"{simulator}() got unknown parameter(s) {', '.join(unknown)}; "
                        f"its parameters are: {', '.join(known)}")
    sim = ctypes.c_void_p()
    check(lib.btfm_sim_new(ctypes.byref(sim), kind))
    try:
        for name, value in values.items():
            if isinstance(value, bool):
                value = int(value)
            if isinstance(value, str) or not isinstance(value, (int, float)):
                raise TypeError(f"parameter {name!r} takes a number, not {type(value).__name__}")
            check(lib.btfm_sim_set_param(sim, known[name], float(value)))
        with attached(lib.btfm_sim_set_progress, sim, progress):
            check(function(sim, to_cpath(out_dir, "out_dir")))
    finally:
        lib.btfm_sim_free(sim)
    return pathlib.Path(os.fsdecode(out_dir))


def rating_session(out_dir, progress=None, **params) -> pathlib.Path:
    """Write a simulated RLHB rating session as a BIDS dataset at `out_dir` (which must
    not exist, or be empty) and return its path.

    Annotators read items (model outputs) segment by segment with EEG recorded (EDF+,
    BDF+ or BrainVision; fMRI too with fmri=True), rate some items on a Likert scale and
    choose between pairs. Latent values, topographies and artifacts are under
    derivatives/truth/ (read them with `truth`). `progress`: True for a bar on a
    terminal, or a callable progress(stage, fraction) returning True to cancel (nothing
    is left on disk then). Keywords: see params("rating_session")."""
    return _run("rating_session", lib.btfm_sim_rating_session, out_dir, progress, params)


def shared_response(out_dir, progress=None, **params) -> pathlib.Path:
    """Write a simulated shared-response session at `out_dir`: every subject's recording
    (NIfTI by default, or EEG with format=1, 2 or 3) driven by one shared K-dimensional time
    course through a subject-specific orthonormal mixing, plus the truth (the course,
    each subject's mixing and SNR). Keywords: see params("shared_response")."""
    return _run("shared_response", lib.btfm_sim_shared_response, out_dir, progress, params)


def truth(root, name: str, subject: str | int | None = None) -> Table:
    """A truth table of a simulated session as a btfm.Table: "items", "segments",
    "annotators", "clusters", "shared_response", "subjects", or per participant
    (`subject` "01" or 1): "perceived", "components", "topography", "artifacts",
    "engagement", "pairs", "confounds", "regressors", "mixing". Columns:
    doc/simulation.md."""
    try:
        pattern = _TRUTH_FILES[name]
    except KeyError:
        raise ValueError(f"unknown truth table {name!r}; known: {', '.join(_TRUTH_FILES)}") from None
    if "{sub}" in pattern:
        if subject is None:
            raise TypeError(f"truth table {name!r} is per participant: give subject=")
        label = f"{subject:02d}" if isinstance(subject, int) else str(subject)
        pattern = pattern.format(sub=label.removeprefix("sub-"))
    return read_table(pathlib.Path(os.fsdecode(root)) / "derivatives" / "truth" / pattern)
