"""btfm.Aligner: functional alignment of several people's recordings into one common
space (hyperalignment, Haxby 2011; shared response model, Chen 2015), and the metrics
that judge it (time-segment matching, inter-subject correlation, classification).

    >>> al = btfm.Aligner(method="srm", n_features=30)
    >>> al.fit([X0, X1, X2])                  # each X: time x features, same time length
    >>> shared = al.transform(X_test0, subject=0)
    >>> X1_predicted = al.inverse_transform(shared, subject=1)

Inputs are float32, C-contiguous arrays of shape (n_times, n_features): such arrays are
passed to the library without a copy; anything else is converted once (see _as_float32).
Requires numpy.
"""

from __future__ import annotations

import ctypes

try:
    import numpy as np
except ImportError:  # the rest of the package works without numpy; this module needs it
    np = None

from ._errors import STATUS_NAMES, Error, check
from ._handle import Handle
from ._lib import AlignerPtr, lib
from ._params import ParamsMixin
from ._progress import attached
from ._util import enumerate_names, to_cpath

__all__ = ["Aligner", "ALIGN_METHODS", "segment_matching", "isc", "classification"]

#: {name: number} of the alignment methods, read from the library.
ALIGN_METHODS = {name: number for number, name
                 in enumerate_names(lib.btfm_align_method_name, 1).items()}


def _as_float32(data, what: str, ndim: int = 2):
    """`data` as a C-contiguous float32 array of `ndim` dimensions: the array itself
    when it already is one (zero-copy), otherwise one converted copy."""
    if np is None:
        raise ImportError("btfm.Aligner and the alignment metrics need numpy")
    arr = np.asarray(data)
    if arr.ndim != ndim:
        raise ValueError(f"{what} must have {ndim} dimensions "
                         f"({'time x features' if ndim == 2 else 'subject x time x features'}),"
                         f" got shape {arr.shape}")
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{what} must hold numbers, not dtype {arr.dtype}")
    return np.ascontiguousarray(arr, dtype=np.float32)


_CTYPES = {"f": ctypes.c_float, "d": ctypes.c_double, "i": ctypes.c_int}


def _ptr(arr):
    """A typed pointer to a float32, float64 or C int array's data (no copy)."""
    return arr.ctypes.data_as(ctypes.POINTER(_CTYPES[arr.dtype.char]))


class Aligner(ParamsMixin, Handle):
    """Maps each subject's data (time x features) into one common space.

    method: "hyperalignment", "srm" or "probabilistic_srm". Keyword arguments set
    parameters (see btfm.param_info("aligner")): n_features (K; 0 = automatic),
    max_iter, tol, seed, scaling, reflection, reference, level2_passes, alpha, zscore,
    num_threads.

    fit(list_of_arrays) fits every subject at once; add_subject(X) before fit() adds a
    training subject, after it fits a new subject to the existing space from data on the
    same stimulus. transform / inverse_transform map one subject's data into and out of
    the common space. save(path) / Aligner.load(path) go through the model container.
    """

    _type_name = "btfm.Aligner"
    _free = lib.btfm_aligner_free
    _param_kind = "aligner"
    _set_param_func = "btfm_aligner_set_param"
    _get_param_func = "btfm_aligner_get_param"

    def __init__(self, method: str = "srm", **params):
        if method not in ALIGN_METHODS:
            raise ValueError(f"unknown method {method!r}; known: {', '.join(ALIGN_METHODS)}")
        ptr = AlignerPtr()
        check(lib.btfm_aligner_new(ctypes.byref(ptr), ALIGN_METHODS[method]))
        super().__init__(ptr)
        for name, value in params.items():
            self.set_param(name, value)

    @property
    def method(self) -> str:
        number = check(self._invoke(lib.btfm_aligner_method))
        return {v: k for k, v in ALIGN_METHODS.items()}[number]

    @property
    def fitted(self) -> bool:
        return bool(check(self._invoke(lib.btfm_aligner_is_fitted)))

    @property
    def n_subjects(self) -> int:
        n = ctypes.c_int()
        check(self._invoke(lib.btfm_aligner_n_subjects, ctypes.byref(n)))
        return n.value

    @property
    def n_times(self) -> int:
        """Length of the shared stimulus (0 before any subject)."""
        n = ctypes.c_int64()
        check(self._invoke(lib.btfm_aligner_n_times, ctypes.byref(n)))
        return n.value

    @property
    def n_components(self) -> int:
        """Size of the common space (once fitted)."""
        n = ctypes.c_int64()
        check(self._invoke(lib.btfm_aligner_n_components, ctypes.byref(n)))
        return n.value

    def subject_features(self, subject: int) -> int:
        n = ctypes.c_int64()
        check(self._invoke(lib.btfm_aligner_subject_features, int(subject), ctypes.byref(n)))
        return n.value

    @property
    def fit_info(self) -> tuple:
        """(iterations, objective) of the fit; see btfm_aligner_fit_info."""
        it, obj = ctypes.c_int(), ctypes.c_double()
        check(self._invoke(lib.btfm_aligner_fit_info, ctypes.byref(it), ctypes.byref(obj)))
        return it.value, obj.value

    @property
    def fit_history(self):
        """The objective after each iteration of the fit (SRM: relative reconstruction
        error; probabilistic SRM: log-likelihood up to a constant) as a list; empty for
        hyperalignment, which does not iterate. Saved with the model. See
        btfm_aligner_fit_history."""
        n = ctypes.c_int()
        check(self._invoke(lib.btfm_aligner_fit_history, None, 0, ctypes.byref(n)))
        out = (ctypes.c_double * max(n.value, 1))()
        check(self._invoke(lib.btfm_aligner_fit_history, out, n.value, ctypes.byref(n)))
        return list(out[:n.value])

    @property
    def fit_change(self) -> float:
        """The relative objective change of the fit's last SRM iteration: at most tol
        when it converged, larger when it stopped at max_iter (nan for hyperalignment);
        see btfm_aligner_fit_change."""
        change = ctypes.c_double()
        check(self._invoke(lib.btfm_aligner_fit_change, ctypes.byref(change)))
        return change.value

    @property
    def common(self):
        """The common-space time series the subjects were aligned to (time x K)."""
        out = np.empty((self.n_times, self.n_components), dtype=np.float32)
        check(self._invoke(lib.btfm_aligner_common, _ptr(out), out.size))
        return out

    def add_subject(self, data) -> int:
        """Add one subject (time x features); returns its index. Before fit() it joins
        the training set; after, it is fitted to the existing common space."""
        x = _as_float32(data, "data")
        check(self._invoke(lib.btfm_aligner_add_subject, _ptr(x), x.shape[0], x.shape[1]))
        return self.n_subjects - 1

    def fit(self, subjects=None, progress=None, comm=None) -> "Aligner":
        """Add `subjects` (a list of time x features arrays, if given) and fit.
        progress: True for a bar on a terminal, or a callable progress(stage, fraction)
        that returns True to cancel (btfm.Error E_CANCELLED, the aligner left unfitted
        with its subjects, ready for another fit).

        With `comm` (an mpi4py communicator, e.g. ``MPI.COMM_WORLD``) the fit is
        distributed (btfm_aligner_fit_mpi): every rank calls fit with its own subjects,
        which in rank order make the fit's subject list; afterwards each rank holds the
        common space and the maps of its own subjects (numbered from 0 on each rank), and
        gather() brings every map to one rank. The SRM methods run distributed. Needs a
        library built with MPI ("mpi" in btfm.capabilities()). A cancel through
        `progress` on one rank stops every rank (BTFM_E_REMOTE on the others).
        """
        handle = None if comm is None else _comm_handle(comm)
        # A subject refused on one rank must not leave the others waiting in the fit:
        # the ranks agree first, and the others raise BTFM_E_REMOTE with its message.
        error = None
        try:
            for data in subjects or []:
                self.add_subject(data)
        except (Error, ValueError, TypeError) as e:
            if comm is None:
                raise
            error = e
        if comm is not None:
            _agree(comm, error)
        with self._lock:
            ptr = self._require_open()
            with attached(lib.btfm_aligner_set_progress, ptr, progress):
                if comm is None:
                    check(lib.btfm_aligner_fit(ptr))
                else:
                    check(lib.btfm_aligner_fit_mpi(ptr, handle))
        return self

    def gather(self, comm, root: int = 0) -> "Aligner":
        """After a distributed fit: rank `root` receives every rank's maps in global
        order (btfm_aligner_gather_mpi); the other ranks keep theirs. Collective."""
        check(self._invoke(lib.btfm_aligner_gather_mpi, int(root), _comm_handle(comm)))
        return self

    def transform(self, data, subject: int):
        """Subject `subject`'s data (time x its features) in the common space."""
        x = _as_float32(data, "data")
        out = np.empty((x.shape[0], self.n_components), dtype=np.float32)
        check(self._invoke(lib.btfm_aligner_transform, int(subject), _ptr(x), x.shape[0],
                           x.shape[1], _ptr(out)))
        return out

    def inverse_transform(self, shared, subject: int):
        """Common-space data (time x K) in subject `subject`'s feature space."""
        y = _as_float32(shared, "shared")
        out = np.empty((y.shape[0], self.subject_features(subject)), dtype=np.float32)
        check(self._invoke(lib.btfm_aligner_inverse_transform, int(subject), _ptr(y),
                           y.shape[0], y.shape[1], _ptr(out)))
        return out

    def save(self, path) -> None:
        check(self._invoke(lib.btfm_aligner_save, to_cpath(path)))

    def to_bytes(self) -> bytes:
        """The fitted aligner as the bytes save() would write."""
        return self._serialize(lib.btfm_aligner_save_buffer)

    @classmethod
    def load(cls, path) -> "Aligner":
        """An aligner saved by save()."""
        return cls._open_with(lib.btfm_aligner_load, AlignerPtr, to_cpath(path))

    @classmethod
    def from_bytes(cls, data) -> "Aligner":
        """An aligner from to_bytes() output."""
        data = bytes(data)
        return cls._open_with(lib.btfm_aligner_load_buffer, AlignerPtr, data, len(data))

    def __repr__(self):
        if self.closed:
            return "<btfm.Aligner closed>"
        state = f"fitted, K={self.n_components}" if self.fitted else "not fitted"
        return f"<btfm.Aligner {self.method} {self.n_subjects} subjects, {state}>"


def _stack(data):
    """A list of equally shaped (time x features) arrays, or one 3-D array, as one
    C-contiguous float32 block (subject, time, feature)."""
    if np is None:
        raise ImportError("the alignment metrics need numpy")
    if isinstance(data, np.ndarray) and data.ndim == 3:
        return _as_float32(data, "data", 3)
    arrays = [np.asarray(x) for x in data]
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise ValueError(f"every subject must have the same shape here, got {sorted(shapes)}")
    return _as_float32(np.stack(arrays), "data", 3)


def segment_matching(data, window: int = 10, zscore: bool = True):
    """Leave-one-subject-out time-segment matching accuracy of each subject (data:
    list of time x features arrays in a common space, or a subject x time x features
    array). Chance is about 1 / (n_times - window). With zscore (the default, as in
    BrainIAK's procedure) each subject's features are z-scored over time first, so
    features of large scale do not outweigh the others; zscore=False takes the data as
    they are."""
    x = _stack(data)
    out = np.empty(x.shape[0], dtype=np.float64)
    check(lib.btfm_align_segment_matching_z(_ptr(x), x.shape[0], x.shape[1], x.shape[2],
                                            int(window), int(bool(zscore)), _ptr(out)))
    return out


def isc(data, pairwise: bool = False):
    """Inter-subject correlation of each feature, Fisher-z averaged over subjects
    (leave-one-out) or over pairs (pairwise=True)."""
    x = _stack(data)
    out = np.empty(x.shape[2], dtype=np.float64)
    check(lib.btfm_align_isc(_ptr(x), x.shape[0], x.shape[1], x.shape[2], int(bool(pairwise)),
                             _ptr(out)))
    return out


def classification(data, labels):
    """Leave-one-subject-out accuracy of classifying each subject's samples by
    correlation to the other subjects' class centroids; labels: one int >= 0 per sample."""
    x = _stack(data)
    y = np.ascontiguousarray(labels, dtype=np.intc)
    if y.shape != (x.shape[1],):
        raise ValueError(f"labels must have one entry per sample ({x.shape[1]}), got "
                         f"shape {y.shape}")
    out = np.empty(x.shape[0], dtype=np.float64)
    check(lib.btfm_align_classification(_ptr(x), _ptr(y), x.shape[0], x.shape[1], x.shape[2],
                                        _ptr(out)))
    return out


_REMOTE = next(code for code, name in STATUS_NAMES.items() if name == "BTFM_E_REMOTE")


def _agree(comm, error):
    """Every rank learns whether one failed before a collective call: the failing rank
    raises its error, the others btfm.Error E_REMOTE with the first failing rank's
    message."""
    messages = comm.allgather(None if error is None else str(error))
    failed = [r for r, m in enumerate(messages) if m is not None]
    if error is not None:
        raise error
    if failed:
        raise Error(_REMOTE, f"rank {failed[0]} of {len(messages)} failed: "
                    f"{messages[failed[0]]}")


def _comm_handle(comm):
    """The C handle of an mpi4py communicator, passed to the library as it is: Open MPI's
    MPI_Comm is a pointer, which mpi4py gives as MPI._handleof(comm)."""
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise ImportError("a distributed fit needs mpi4py (Debian python3-mpi4py)") from e
    if not isinstance(comm, MPI.Comm):
        raise TypeError(f"comm must be an mpi4py communicator, not {type(comm).__name__}")
    if MPI._sizeof(MPI.Comm) != ctypes.sizeof(ctypes.c_void_p):
        raise TypeError("this MPI's communicator handles are not pointers (Open MPI's are); "
                        "the package passes MPI_Comm as a pointer")
    return ctypes.c_void_p(MPI._handleof(comm))
