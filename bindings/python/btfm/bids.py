"""btfm.bids: BIDS folders (EEG, iEEG, MEG, fNIRS, fMRI, behaviour) indexed by libbtfm,
recordings opened as btfm.Dataset with their sidecars applied, and a writer.

    >>> layout = btfm.bids.open("/data/ds003478")
    >>> layout.subjects, layout.tasks, layout.datatypes
    >>> for rec in layout.query(sub="01", datatype="eeg"):
    ...     print(rec.path, rec.entities)          # {"sub": "01", "task": "rest", ...}
    ...     with rec.open() as ds:                 # events.tsv, channels.tsv, sidecar applied
    ...         ds.metadata["PowerLineFrequency"], ds.events_table["response_time"]

    >>> with btfm.bids.Writer("/tmp/out", name="simulated") as w:
    ...     w.add(dataset, sub="01", task="rest", datatype="eeg", format="edf")

Validation is strict by default (the message names the file and the rule); with
lenient=True broken recordings are skipped and listed in `skipped`. Guide: doc/bids.md.
"""

from __future__ import annotations

import ctypes
import json
import numbers

from ._errors import Status, check
from ._handle import Handle
from ._lib import DatasetPtr, lib
from ._progress import thread_progress
from ._util import from_cstr, to_cpath, to_cstr
from .dataset import Dataset, _format_number
from .table import Table

# "open" is not exported by `import *`: it would replace the built-in open().
__all__ = ["BIDS", "Recording", "Writer", "write"]

_LENIENT = 0x1  # BTFM_BIDS_LENIENT


def _copy_table(ptr) -> Table:
    """A Table of our own with the cells of a table the library owns (so it outlives
    the handle that owns the original)."""
    n_cols = lib.btfm_table_n_columns(ptr)
    names = (ctypes.c_char_p * max(n_cols, 1))(
        *[lib.btfm_table_column_name(ptr, c) for c in range(n_cols)])
    out = ctypes.c_void_p()
    check(lib.btfm_table_new(ctypes.byref(out), names, n_cols))
    table = Table._adopt(out)
    row = (ctypes.c_char_p * max(n_cols, 1))()
    for r in range(lib.btfm_table_n_rows(ptr)):
        for c in range(n_cols):
            row[c] = lib.btfm_table_cell(ptr, r, c)
        check(lib.btfm_table_add_row(out, row))
    return table


def _label(value, key: str) -> str:
    if isinstance(value, bool):
        raise TypeError(f"{key} must be a str or an int, not bool")
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, str):
        if not value or any(c in value for c in " \t\n,="):
            raise ValueError(f"{key}={value!r}: a label is non-empty, without spaces, "
                             "commas or '='")
        return value
    raise TypeError(f"{key} must be a str or an int, not {type(value).__name__}")


def _query_text(entities: dict) -> str:
    """{"sub": "01", "run": [1, 2]} as "sub=01 run=1,2"."""
    terms = []
    for key, value in entities.items():
        if value is None:
            continue
        values = value if isinstance(value, (list, tuple, set)) else [value]
        terms.append(f"{key}=" + ",".join(_label(v, key) for v in values))
    return " ".join(terms)


def open(root, lenient: bool = False, progress=None) -> "BIDS":
    """Index the BIDS dataset at `root` (dataset_description.json required). Raises
    btfm.Error (BTFM_E_FORMAT naming the file and the rule) on a violation, unless
    `lenient`: broken recordings are then skipped with a warning (btfm's log) and
    listed in `BIDS.skipped`. progress: True for a bar on a terminal, or a callable
    progress(stage, fraction) that returns True to cancel (btfm.Error E_CANCELLED)."""
    ptr = ctypes.c_void_p()
    with thread_progress(progress):
        check(lib.btfm_bids_open(ctypes.byref(ptr), to_cpath(root, "root"),
                                 _LENIENT if lenient else 0))
    return BIDS._adopt(ptr)


class Recording:
    """One recording of a BIDS dataset: a data file with its entities."""

    __slots__ = ("_bids", "index")

    def __init__(self, bids: "BIDS", index: int):
        self._bids = bids
        self.index = index

    def _text(self, func, *args):
        with self._bids._lock:
            value = func(self._bids._require_open(), self.index, *args)
        return from_cstr(value)

    @property
    def path(self) -> str:
        """Full path of the data file."""
        return self._text(lib.btfm_bids_recording_path)

    @property
    def entities(self) -> dict:
        """{"sub": "01", "ses": "a", "task": "rest", "run": "1", ...} in file-name order."""
        with self._bids._lock:
            ptr = self._bids._require_open()
            key, value = ctypes.c_char_p(), ctypes.c_char_p()
            out = {}
            for k in range(check(lib.btfm_bids_recording_n_entities(ptr, self.index))):
                check(lib.btfm_bids_recording_entity_at(ptr, self.index, k, ctypes.byref(key),
                                                        ctypes.byref(value)))
                out[from_cstr(key.value)] = from_cstr(value.value)
            return out

    def entity(self, key: str) -> str | None:
        """An entity's label ("datatype", "suffix" and "extension" too); None if absent."""
        return self._text(lib.btfm_bids_recording_entity, to_cstr(key, "key"))

    @property
    def datatype(self) -> str:
        return self.entity("datatype")

    @property
    def suffix(self) -> str:
        return self.entity("suffix")

    @property
    def extension(self) -> str:
        return self.entity("extension")

    @property
    def metadata(self) -> dict:
        """The merged JSON sidecar (inheritance principle), read without the data."""
        text = ctypes.c_char_p()
        check(self._bids._invoke(lib.btfm_bids_recording_metadata, self.index,
                                 ctypes.byref(text)))
        return json.loads(from_cstr(text.value))

    def open(self, mask=None, labels=None) -> Dataset:
        """The data file as a btfm.Dataset with events.tsv, channels.tsv, the merged
        sidecar (Dataset.metadata) and scans.tsv's acq_time applied. For fMRI (func)
        recordings `mask` or `labels` choose the channels as in btfm.open."""
        ptr = DatasetPtr()
        check(self._bids._invoke(lib.btfm_bids_open_recording, self.index, ctypes.byref(ptr)))
        return Dataset._adopt(ptr, self.path)._with_channels(mask, labels)

    def apply_sidecars(self, dataset: Dataset) -> None:
        """Apply this recording's sidecars to a dataset made from its data another way
        (e.g. btfm.from_array over an image read with nibabel)."""
        if not isinstance(dataset, Dataset):
            raise TypeError(f"dataset must be a btfm.Dataset, not {type(dataset).__name__}")
        with dataset._lock:
            check(self._bids._invoke(lib.btfm_bids_apply_sidecars, self.index,
                                     dataset._require_open()))

    @property
    def participant(self) -> dict | None:
        """The participants.tsv row of the subject, or None: {column: value} with the
        values of numeric columns (every cell a number or n/a, like "age") as float, the
        others as str, n/a as None (Table.values)."""
        row = ctypes.c_int64()
        status = self._bids._invoke(lib.btfm_bids_participant_row, self.index, ctypes.byref(row))
        if status == Status.E_NOTFOUND:
            return None
        check(status)
        return self._bids.participants.rows(typed=True)[row.value]

    @property
    def scan(self) -> dict | None:
        """The scans.tsv row naming this recording ({"filename": ..., "acq_time": ...}),
        or None."""
        table, row = ctypes.c_void_p(), ctypes.c_int64()
        with self._bids._lock:
            status = lib.btfm_bids_scans(self._bids._require_open(), self.index,
                                         ctypes.byref(table), ctypes.byref(row))
            if status == Status.E_NOTFOUND:
                return None
            check(status)
            return _copy_table(table).rows()[row.value]

    def read_table(self) -> Table:
        """A tabular recording (beh/*_beh.tsv) as a btfm.Table."""
        out = ctypes.c_void_p()
        check(self._bids._invoke(lib.btfm_bids_read_table, self.index, ctypes.byref(out)))
        return Table._adopt(out)

    def __repr__(self):
        return f"<btfm.bids.Recording {self.index} {self.path!r}>"


class BIDS(Handle):
    """An indexed BIDS dataset (btfm.bids.open). Recordings are sorted by path."""

    _type_name = "BIDS dataset"
    _free = lib.btfm_bids_free

    @property
    def root(self) -> str:
        return from_cstr(self._invoke(lib.btfm_bids_root))

    @property
    def description(self) -> dict:
        """dataset_description.json."""
        return json.loads(from_cstr(self._invoke(lib.btfm_bids_description)))

    def __len__(self) -> int:
        return check(self._invoke(lib.btfm_bids_n_recordings))

    def __getitem__(self, index: int) -> Recording:
        n = len(self)
        i = index + n if index < 0 else index
        if not 0 <= i < n:
            raise IndexError(f"recording {index} is out of range for {n} recordings")
        return Recording(self, i)

    @property
    def recordings(self) -> list:
        return [Recording(self, i) for i in range(len(self))]

    def query(self, query: str | None = None, **entities) -> list:
        """Recordings matching entity labels: query(sub="01", task="rest",
        datatype="eeg"), a list for alternatives (run=[1, 2]), or the text form
        query("sub=01 task=rest"). Index entities compare as numbers (run=1 matches
        run-01). Keys: entity keys, subject/session/acquisition, datatype, suffix,
        extension."""
        text = " ".join(t for t in (query or "", _query_text(entities)) if t)
        n = ctypes.c_int64()
        with self._lock:
            ptr = self._require_open()
            c_text = to_cstr(text, "query")
            check(lib.btfm_bids_query(ptr, c_text, None, 0, ctypes.byref(n)))
            indices = (ctypes.c_int64 * max(n.value, 1))()
            check(lib.btfm_bids_query(ptr, c_text, indices, n.value, ctypes.byref(n)))
        return [Recording(self, indices[i]) for i in range(n.value)]

    def values(self, key: str) -> list:
        """The distinct labels of an entity (or "datatype", "suffix", "extension"),
        sorted (index entities numerically)."""
        with self._lock:
            ptr = self._require_open()
            c_key = to_cstr(key, "key")
            n = check(lib.btfm_bids_n_values(ptr, c_key))
            return [from_cstr(lib.btfm_bids_value(ptr, c_key, i)) for i in range(n)]

    @property
    def subjects(self) -> list:
        return self.values("sub")

    @property
    def sessions(self) -> list:
        return self.values("ses")

    @property
    def tasks(self) -> list:
        return self.values("task")

    @property
    def datatypes(self) -> list:
        return self.values("datatype")

    @property
    def participants(self) -> Table | None:
        """participants.tsv as a btfm.Table (a copy), or None when there is none."""
        table = ctypes.c_void_p()
        with self._lock:
            status = lib.btfm_bids_participants(self._require_open(), ctypes.byref(table))
            if status == Status.E_NOTFOUND:
                return None
            check(status)
            return _copy_table(table)

    @property
    def skipped(self) -> list:
        """(path relative to the root, reason) of the recordings lenient mode skipped."""
        with self._lock:
            ptr = self._require_open()
            path, reason = ctypes.c_char_p(), ctypes.c_char_p()
            out = []
            for i in range(check(lib.btfm_bids_n_skipped(ptr))):
                check(lib.btfm_bids_skipped(ptr, i, ctypes.byref(path), ctypes.byref(reason)))
                out.append((from_cstr(path.value), from_cstr(reason.value)))
            return out

    def __repr__(self):
        if self.closed:
            return "<btfm.bids.BIDS (closed)>"
        return (f"<btfm.bids.BIDS {self.root!r}: {len(self)} recordings, "
                f"{len(self.subjects)} subjects>")


class Writer(Handle):
    """Write a BIDS dataset: Writer(root, name), add() each recording, finish() (or use
    as a context manager, which finishes on a clean exit). The recordings are written
    de-identified, as btfm anonymize does (subject and recording identification cleared,
    the start date moved to 1985-01-01, also in scans.tsv); keep_identity=True writes
    them as they are, for data that stays private."""

    _type_name = "BIDS writer"
    _free = lib.btfm_bids_writer_free

    def __init__(self, root, name: str = "libbtfm dataset", keep_identity: bool = False):
        ptr = ctypes.c_void_p()
        check(lib.btfm_bids_writer_new(ctypes.byref(ptr), to_cpath(root, "root"),
                                       to_cstr(name, "name")))
        super().__init__(ptr)
        check(self._invoke(lib.btfm_bids_writer_keep_identity, 1 if keep_identity else 0))

    def add(self, dataset: Dataset, entities: str | None = None, format: str | None = None,
            sidecar: dict | None = None, events: Table | None = None, **labels) -> None:
        """Write one recording: add(ds, sub="01", task="rest", run=1, datatype="eeg").
        `format` "edf" (the default), "bdf" or "brainvision" for eeg and ieeg; func
        recordings (volume datasets) are written as NIfTI (_bold.nii.gz). `sidecar` extra
        members of the sidecar JSON (over the dataset's metadata); `events` a Table
        (onset and duration first) to write as events.tsv instead of the dataset's
        events."""
        if format is None:
            func = labels.get("datatype") == "func" or "datatype=func" in (entities or "")
            format = "nifti" if func else "edf"
        if not isinstance(dataset, Dataset):
            raise TypeError(f"dataset must be a btfm.Dataset, not {type(dataset).__name__}")
        text = " ".join(t for t in (entities or "", _query_text(labels)) if t)
        extra = None if sidecar is None else to_cstr(json.dumps(sidecar), "sidecar")
        if events is not None and not isinstance(events, Table):
            raise TypeError(f"events must be a btfm.Table, not {type(events).__name__}")
        with dataset._lock:
            ds_ptr = dataset._require_open()
            if events is None:
                check(self._invoke(lib.btfm_bids_writer_add, ds_ptr, to_cstr(text, "entities"),
                                   _format_number(format), extra, None))
            else:
                with events._lock:
                    check(self._invoke(lib.btfm_bids_writer_add, ds_ptr,
                                       to_cstr(text, "entities"), _format_number(format),
                                       extra, events._require_open()))

    def set_participants(self, participants) -> None:
        """participants.tsv rows: a btfm.Table or a {column: values} dict whose first
        column is participant_id ("sub-01")."""
        table = participants if isinstance(participants, Table) else \
            Table.from_columns(participants)
        with table._lock:
            check(self._invoke(lib.btfm_bids_writer_set_participants, table._require_open()))

    def finish(self) -> None:
        """Write participants.tsv, the scans.tsv files and dataset_description.json."""
        check(self._invoke(lib.btfm_bids_writer_finish))

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self.finish()
        finally:
            self.close()


def write(root, recordings, name: str = "libbtfm dataset", participants=None,
          format: str = "edf", keep_identity: bool = False) -> None:
    """Write a BIDS dataset in one call: `recordings` is a sequence of
    (dataset, {"sub": "01", "task": "rest", "datatype": "eeg", ...}) pairs, written
    de-identified unless keep_identity (see Writer)."""
    with Writer(root, name, keep_identity=keep_identity) as writer:
        if participants is not None:
            writer.set_participants(participants)
        for dataset, labels in recordings:
            writer.add(dataset, format=format, **labels)

