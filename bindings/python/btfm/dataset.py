"""btfm.open and btfm.Dataset: one brain recording (EDF/EDF+, BDF/BDF+, BrainVision, FIF,
SNIRF) as a time-major matrix of float32 values in SI units, with channels, events and records.

    >>> with btfm.open("sub-01_eeg.edf") as ds:
    ...     print(ds.sfreq, ds.n_times, ds.ch_names)
    ...     window = ds.read(0, 512, picks=["Fz", "Cz"])   # (512, 2) float32, volts
    ...     for event in ds.events:
    ...         print(event.onset, event.label)

Reads fill memory allocated by numpy directly (no intermediate copy); without numpy they
return a btfm.ShapedArray (array.array('f') with a `.shape`). Formats: doc/formats.md;
the user's guide: doc/datasets.md.
"""

from __future__ import annotations

import collections
import ctypes
import datetime
import json
import numbers

from ._arrays import ShapedArray, numpy
from ._errors import Status, check, error_from_status
from ._handle import Handle
from ._lib import DatasetPtr, lib
from ._util import enumerate_names, from_cstr, to_cpath, to_cstr

# "open" is not exported by `import *`: it would replace the built-in open().
__all__ = ["from_array", "Dataset", "Channel", "Event", "Record", "NirsGeometry", "Sync", "FORMATS",
           "CHANNEL_TYPES",
           "format_name", "channel_type_name", "channel_type_from_name"]

#: {number: name} of the file formats, e.g. {0: "auto", 1: "edf", 2: "bdf", ...}.
FORMATS = enumerate_names(lib.btfm_format_name, 0)
_FORMAT_NUMBERS = {name: number for number, name in FORMATS.items()}

#: {number: name} of the channel types, e.g. {1: "eeg", 2: "eog", ...}.
CHANNEL_TYPES = enumerate_names(lib.btfm_channel_type_name, 1)

_P_FLOAT = ctypes.POINTER(ctypes.c_float)
_OPEN_COMPLETE_RECORDS = 0x1  # BTFM_OPEN_COMPLETE_RECORDS
_SAVE_ANONYMIZE = 0x1         # BTFM_SAVE_ANONYMIZE

Event = collections.namedtuple("Event", ["onset", "duration", "type", "label", "code"])
Event.__doc__ = """One event: onset and duration in seconds from the first sample; type
"annotation" (EDF+), "gap" (EDF+D/BDF+D), "trigger" (stim channel) or a BrainVision
marker type; label (str); code (int: trigger value or marker number, else 0)."""

NirsGeometry = collections.namedtuple("NirsGeometry", ["source", "detector", "wavelength",
                                                       "source_pos", "detector_pos"])
NirsGeometry.__doc__ = """The measurement behind an fNIRS channel: source and detector
numbers (1-based), wavelength in nm (NaN for haemoglobin channels), source and detector
positions (x, y, z) in metres (NaN when unknown)."""

Sync = collections.namedtuple("Sync", ["offset", "drift", "rms", "n_pairs"])
Sync.__doc__ = """This recording's clock mapped onto another's, t_other = offset + (1 + drift)
t_this: offset in seconds, drift in seconds per second, rms the residual of the fitted
triggers in seconds, n_pairs the triggers paired."""

Record = collections.namedtuple("Record", ["onset", "first_sample"])
Record.__doc__ = """One data record: its onset in seconds (as stored in EDF+D files) and
the dataset sample at which it starts."""


def format_name(number: int) -> str | None:
    """Name of a format number ("edf"), None when unknown."""
    return FORMATS.get(number)


def channel_type_name(number: int) -> str | None:
    """Name of a channel type number ("eeg"), None when unknown."""
    return CHANNEL_TYPES.get(number)


def channel_type_from_name(name: str) -> int:
    """Number of a channel type name (case-insensitive); ValueError when unknown."""
    number = lib.btfm_channel_type_from_name(to_cstr(name, "channel type"))
    if number <= 0:
        raise ValueError(f"unknown channel type {name!r}; known types: "
                         f"{', '.join(CHANNEL_TYPES.values())}")
    return number


def _format_number(fmt) -> int:
    if fmt is None:
        return 0
    if not isinstance(fmt, str):
        raise TypeError(f"format must be a str such as 'edf' or None, not "
                        f"{type(fmt).__name__}")
    try:
        return _FORMAT_NUMBERS[fmt.lower()]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; known formats: "
                         f"{', '.join(_FORMAT_NUMBERS)}") from None


def _index(value, what: str) -> int:
    """A Python int from an integer-like value (bool refused: it is never meant)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    return int(value)


def _xyz(value, what: str) -> tuple:
    """Three floats from a sequence of three numbers."""
    values = tuple(float(v) for v in value)
    if len(values) != 3:
        raise ValueError(f"{what} must have 3 coordinates, not {len(values)}")
    return values


def _floats(buffer):
    """A float * to the memory of a numpy float32 array or an array.array('f'), with no
    copy (NULL when empty: the library then writes nothing)."""
    if numpy is not None and isinstance(buffer, numpy.ndarray):
        return buffer.ctypes.data_as(_P_FLOAT) if buffer.size else None
    return (ctypes.c_float * len(buffer)).from_buffer(buffer) if len(buffer) else None


def open(path, format: str | None = None, complete_records: bool = False, mask=None,
         labels=None, voxel_order: str | None = None) -> "Dataset":
    """Open a recording. `format` ("edf", "bdf", "brainvision", "nifti", "fif", "snirf") overrides
    detection from the content and extension; for BrainVision give the .vhdr. With
    `complete_records`, a file whose record count disagrees with its size is read up to
    its last complete record (the library logs a warning) instead of being refused.

    For NIfTI volumes (.nii, .nii.gz, .hdr/.img) the channels are voxels: `mask` chooses
    them (see Dataset.set_mask: a mask image path, "epi", "background", "all",
    ("threshold", value) or a boolean array of the grid's shape), or `labels` (an atlas
    image path) gives one channel per label. `voxel_order` "C" puts the voxel channels in
    the order of nibabel's img.get_fdata()[mask] (z fastest); the default "F" is the
    file's (x fastest); see Dataset.voxel_order.

    Raises btfm.Error (BTFM_E_FORMAT, BTFM_E_NOTFOUND, ...) with the file, field and
    byte offset of the problem."""
    number = _format_number(format)
    flags = _OPEN_COMPLETE_RECORDS if complete_records else 0
    ptr = DatasetPtr()
    check(lib.btfm_dataset_open(ctypes.byref(ptr), to_cpath(path), number, flags))
    return Dataset._adopt(ptr, path)._with_channels(mask, labels, voxel_order)


def from_array(data, sfreq: float, like: "Dataset | None" = None,
               ch_names=None, ch_types=None, units=None) -> "Dataset":
    """A Dataset over an (n_times, n_channels) array (copied as float32, SI units)
    sampled at `sfreq` Hz: derived or simulated data that can then be saved as EDF, BDF
    or BrainVision. Channel names, types, units, bad flags, events, start time and
    identification come from `like` (a Dataset with as many channels) when given;
    `ch_names`, `ch_types` and `units` (sequences, one entry a channel) override."""
    if numpy is None:
        raise RuntimeError("btfm.from_array needs numpy")
    array = numpy.ascontiguousarray(data, dtype=numpy.float32)
    if array.ndim != 2:
        raise ValueError(f"data must be 2-D (n_times, n_channels), not shape {array.shape}")
    ptr = DatasetPtr()
    like_ptr = None
    if like is not None:
        if not isinstance(like, Dataset):
            raise TypeError(f"like must be a btfm.Dataset, not {type(like).__name__}")
        like_ptr = like._require_open()
    check(lib.btfm_dataset_from_array(ctypes.byref(ptr), _floats(array), array.shape[0],
                                      array.shape[1], float(sfreq), like_ptr))
    dataset = Dataset._adopt(ptr, "<memory>")
    for values, what in ((ch_names, "ch_names"), (ch_types, "ch_types"), (units, "units")):
        if values is not None and len(values) != array.shape[1]:
            raise ValueError(f"{what} has {len(values)} entries, the data "
                             f"{array.shape[1]} channels")
    for index, channel in enumerate(dataset.channels):
        if ch_names is not None:
            channel.name = ch_names[index]
        if ch_types is not None:
            channel.type = ch_types[index]
        if units is not None:
            channel.unit = units[index]
    return dataset


class Channel:
    """A live view of one channel of an open Dataset. `type` (a name such as "eog") and
    `bad` (bool) can be assigned; the other attributes are read-only."""

    __slots__ = ("_dataset", "index")

    def __init__(self, dataset: "Dataset", index: int):
        self._dataset = dataset
        self.index = index

    def _call(self, func, *args):
        return self._dataset._invoke(func, self.index, *args)

    def _text(self, func) -> str:
        # NULL means a bad index; the library's message says which.
        with self._dataset._lock:
            value = func(self._dataset._require_open(), self.index)
            if value is None:
                raise error_from_status(lib.btfm_last_error_status())
            return from_cstr(value)

    @property
    def name(self) -> str:
        return self._text(lib.btfm_dataset_channel_name)

    @name.setter
    def name(self, value: str) -> None:
        check(self._call(lib.btfm_dataset_set_channel_name, to_cstr(value, "channel name")))

    @property
    def unit(self) -> str:
        """"V" for voltages (converted from nV/uV/mV), else the unit as stored."""
        return self._text(lib.btfm_dataset_channel_unit)

    @unit.setter
    def unit(self, value: str) -> None:
        check(self._call(lib.btfm_dataset_set_channel_unit, to_cstr(value, "unit")))

    @property
    def rate(self) -> float:
        """Native sampling rate in Hz as stored (the dataset rate may be higher)."""
        check(self._call(lib.btfm_dataset_channel_type))  # a bad index raises here
        return float(self._call(lib.btfm_dataset_channel_rate))

    @property
    def n_samples(self) -> int:
        """Number of samples at the native rate."""
        return check(self._call(lib.btfm_dataset_channel_n_samples))

    @property
    def type(self) -> str:
        """Channel type name ("eeg", "eog", "stim", ...)."""
        number = check(self._call(lib.btfm_dataset_channel_type))
        return CHANNEL_TYPES.get(number, str(number))

    @type.setter
    def type(self, name: str) -> None:
        check(self._call(lib.btfm_dataset_set_channel_type, channel_type_from_name(name)))

    @property
    def position(self) -> tuple | None:
        """(x, y, z) of the sensor in metres, in the dataset's coordinate_frame (for an
        fNIRS channel the midpoint of source and detector), or None when unknown.
        Assign a 3-tuple, or None to clear it."""
        xyz = (ctypes.c_double * 3)()
        status = self._call(lib.btfm_dataset_channel_position, xyz)
        if status == Status.E_NOTFOUND:
            return None
        check(status)
        return tuple(xyz)

    @position.setter
    def position(self, value) -> None:
        xyz = None if value is None else (ctypes.c_double * 3)(*_xyz(value, "position"))
        check(self._call(lib.btfm_dataset_set_channel_position, xyz))

    @property
    def nirs(self) -> "NirsGeometry | None":
        """The fNIRS measurement behind the channel (source, detector, wavelength in nm
        (NaN for haemoglobin), source_pos and detector_pos in metres), or None for a
        channel that is not one. Assign a NirsGeometry (or a 5-tuple) to describe it."""
        source, detector, wavelength = ctypes.c_int(), ctypes.c_int(), ctypes.c_double()
        src, det = (ctypes.c_double * 3)(), (ctypes.c_double * 3)()
        status = self._call(lib.btfm_dataset_nirs_channel, ctypes.byref(source),
                            ctypes.byref(detector), ctypes.byref(wavelength), src, det)
        if status == Status.E_NOTFOUND:
            return None
        check(status)
        return NirsGeometry(source.value, detector.value, wavelength.value, tuple(src),
                            tuple(det))

    @nirs.setter
    def nirs(self, value) -> None:
        source, detector, wavelength, src, det = value
        positions = [None if p is None else (ctypes.c_double * 3)(*_xyz(p, "position"))
                     for p in (src, det)]
        check(self._call(lib.btfm_dataset_set_nirs_channel, _index(source, "source"),
                         _index(detector, "detector"), float(wavelength), *positions))

    @property
    def bad(self) -> bool:
        return bool(check(self._call(lib.btfm_dataset_channel_bad)))

    @bad.setter
    def bad(self, value: bool) -> None:
        check(self._call(lib.btfm_dataset_set_channel_bad, 1 if value else 0))

    def __repr__(self):
        return (f"<btfm.Channel {self.index} {self.name!r} {self.type} {self.unit} "
                f"{self.rate:g} Hz{' bad' if self.bad else ''}>")


class Dataset(Handle):
    """One recording, opened with btfm.open(). Samples are read on demand: read() and
    read_native() touch only the part of the file a window needs; `data` reads it all.

    Use as a context manager, or call close(); a closed dataset raises ValueError.
    """

    _type_name = "btfm.Dataset"
    _free = lib.btfm_dataset_free

    @classmethod
    def _adopt(cls, ptr, path):
        self = cls.__new__(cls)
        Handle.__init__(self, ptr)
        self.path = path
        return self

    # ---- header ----

    @property
    def format(self) -> str:
        """"edf", "bdf" or "brainvision"."""
        return FORMATS.get(check(self._invoke(lib.btfm_dataset_format)), "unknown")

    @property
    def sfreq(self) -> float:
        """Sampling rate in Hz: the highest channel rate."""
        return float(self._invoke(lib.btfm_dataset_sfreq))

    @property
    def n_times(self) -> int:
        """Number of samples at the dataset rate."""
        return check(self._invoke(lib.btfm_dataset_n_times))

    @property
    def n_channels(self) -> int:
        return check(self._invoke(lib.btfm_dataset_n_channels))

    @property
    def start_time(self) -> datetime.datetime | None:
        """Start of the recording as an aware UTC datetime (files store local time
        without a zone; it is given as stored), or None when the file has none."""
        seconds = ctypes.c_double()
        status = self._invoke(lib.btfm_dataset_start_time, ctypes.byref(seconds))
        if status == Status.E_NOTFOUND:
            return None
        check(status)
        epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
        return epoch + datetime.timedelta(seconds=seconds.value)

    @property
    def subject(self) -> str:
        """Patient/subject identification as stored ("" when absent)."""
        return from_cstr(self._invoke(lib.btfm_dataset_subject))

    @property
    def recording(self) -> str:
        """Recording identification as stored ("" when absent)."""
        return from_cstr(self._invoke(lib.btfm_dataset_recording))

    # ---- channels, events, records ----

    @property
    def channels(self) -> list:
        """The channels as live btfm.Channel views, in file order."""
        return [Channel(self, index) for index in range(self.n_channels)]

    @property
    def ch_names(self) -> list:
        """Channel names in file order."""
        with self._lock:
            ptr = self._require_open()
            return [from_cstr(lib.btfm_dataset_channel_name(ptr, index))
                    for index in range(check(lib.btfm_dataset_n_channels(ptr)))]

    @property
    def positions(self):
        """(n_channels, 3) sensor positions in metres (NaN rows where unknown), in
        coordinate_frame; a numpy array (nested lists without numpy)."""
        nan = float("nan")
        rows = [channel.position or (nan, nan, nan) for channel in self.channels]
        return numpy.array(rows, dtype=float).reshape(-1, 3) if numpy is not None else rows

    @property
    def coordinate_frame(self) -> str:
        """Frame of the positions: "head" (MNE's head frame), a BIDS coordinate system
        name, or "unknown". Assignable."""
        return from_cstr(self._invoke(lib.btfm_dataset_coordinate_frame))

    @coordinate_frame.setter
    def coordinate_frame(self, value: str) -> None:
        check(self._invoke(lib.btfm_dataset_set_coordinate_frame, to_cstr(value, "frame")))

    def channel(self, key) -> Channel:
        """The Channel with index `key` (int) or name `key` (str)."""
        return Channel(self, self._pick(key))

    @property
    def events(self) -> list:
        """Events sorted by onset, as btfm.Event tuples."""
        with self._lock:
            ptr = self._require_open()
            onset, duration = ctypes.c_double(), ctypes.c_double()
            type_, label, code = ctypes.c_char_p(), ctypes.c_char_p(), ctypes.c_int()
            events = []
            for index in range(check(lib.btfm_dataset_n_events(ptr))):
                check(lib.btfm_dataset_event(ptr, index, ctypes.byref(onset),
                                             ctypes.byref(duration), ctypes.byref(type_),
                                             ctypes.byref(label), ctypes.byref(code)))
                events.append(Event(onset.value, duration.value, from_cstr(type_.value),
                                    from_cstr(label.value), code.value))
            return events

    def add_event(self, onset: float, duration: float = 0.0, label: str = "",
                  type: str = "annotation", code: int = 0) -> None:
        """Add an event (onset and duration in seconds); events stay sorted by onset."""
        check(self._invoke(lib.btfm_dataset_add_event, float(onset), float(duration),
                           to_cstr(type, "event type"), to_cstr(label, "event label"),
                           _index(code, "code")))

    def select_events(self, label=None) -> list:
        """Indices into self.events of the events labelled `label`, with MNE's
        hierarchical tags: "stim" selects "stim/left" and "stim/right", "left" selects
        "stim/left" and "resp/left" (every /-separated tag of `label` is one of the
        event's). A list of labels selects the events any of them selects. None: every
        event but EDF+D gaps. No match raises btfm.NotFoundError naming the labels there
        are."""
        if label is not None and not isinstance(label, str):
            chosen = set()
            for one in label:
                chosen.update(self.select_events(one))
            return sorted(chosen)
        text = None if label is None else to_cstr(label, "label")
        count = ctypes.c_int64()
        with self._lock:
            ptr = self._require_open()
            n = check(lib.btfm_dataset_n_events(ptr))
            indices = (ctypes.c_int64 * max(n, 1))()
            check(lib.btfm_dataset_select_events(ptr, text, indices, n, ctypes.byref(count)))
            return list(indices[:count.value])

    def sync(self, reference: "Dataset") -> Sync:
        """This recording's clock mapped onto `reference`'s by the triggers both logged
        (an eye tracker's "TRIGGER 5" messages and the EEG's trigger 5): triggers are
        paired by code and time, so one that only one side logged is left out, and a
        line is fitted to the pairs (doc/formats.md, EyeLink). Returns btfm.Sync(offset, drift, rms, n_pairs); an onset t here is
        offset + (1 + drift) * t in `reference`. Fewer than two shared triggers raise
        btfm.NotFoundError."""
        if not isinstance(reference, Dataset):
            raise TypeError(f"reference must be a btfm.Dataset, not {type(reference).__name__}")
        offset, drift, rms = ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
        n_pairs = ctypes.c_int64()
        first, second = sorted((self, reference), key=id)  # one lock order: no deadlock
        with first._lock, second._lock:
            check(lib.btfm_dataset_sync(self._require_open(), reference._require_open(),
                                        ctypes.byref(offset), ctypes.byref(drift),
                                        ctypes.byref(rms), ctypes.byref(n_pairs)))
        return Sync(offset.value, drift.value, rms.value, n_pairs.value)

    def import_events(self, source: "Dataset", label=None, sync=None) -> int:
        """Copy the events of `source` that `label` selects (select_events's rules; None:
        every event but gaps) into this dataset, their onsets mapped through `sync` (a
        btfm.Sync from source.sync(self); None computes it): an eye tracker's fixations
        and messages become events of the EEG, for epochs and reward features. Returns
        the number imported; on failure nothing is added."""
        if not isinstance(source, Dataset):
            raise TypeError(f"source must be a btfm.Dataset, not {type(source).__name__}")
        if sync is None:
            sync = source.sync(self)
        text = None if label is None else to_cstr(label, "label")
        count = ctypes.c_int64()
        first, second = sorted((self, source), key=id)
        with first._lock, second._lock:
            check(lib.btfm_dataset_import_events(self._require_open(), source._require_open(),
                                                 text, float(sync.offset), float(sync.drift),
                                                 ctypes.byref(count)))
        return count.value

    @property
    def records(self) -> list:
        """Data records as btfm.Record tuples (one for formats without records)."""
        with self._lock:
            ptr = self._require_open()
            onset, first = ctypes.c_double(), ctypes.c_int64()
            records = []
            for index in range(check(lib.btfm_dataset_n_records(ptr))):
                check(lib.btfm_dataset_record(ptr, index, ctypes.byref(onset),
                                              ctypes.byref(first)))
                records.append(Record(onset.value, first.value))
            return records

    @property
    def metadata(self) -> dict:
        """Metadata as a dict: the merged BIDS sidecar of a recording opened through
        btfm.bids ({} when none). Assign a dict to replace it (the BIDS writer puts it in
        the sidecar)."""
        return json.loads(from_cstr(self._invoke(lib.btfm_dataset_metadata)))

    @metadata.setter
    def metadata(self, value: dict) -> None:
        if not isinstance(value, dict):
            raise TypeError(f"metadata must be a dict, not {type(value).__name__}")
        check(self._invoke(lib.btfm_dataset_set_metadata, to_cstr(json.dumps(value), "metadata")))

    @property
    def events_table(self):
        """The BIDS events.tsv the events came from, as a btfm.Table (every column; the
        rows kept as events, in event order), or None."""
        from .bids import _copy_table
        table = ctypes.c_void_p()
        with self._lock:
            status = lib.btfm_dataset_events_table(self._require_open(), ctypes.byref(table))
            if status == Status.E_NOTFOUND:
                return None
            check(status)
            return _copy_table(table)

    # ---- reading ----

    def _pick(self, key) -> int:
        if isinstance(key, str):
            index = ctypes.c_int()
            check(self._invoke(lib.btfm_dataset_find_channel, to_cstr(key, "channel name"),
                               ctypes.byref(index)))
            return index.value
        return _index(key, "a channel")

    def _picks(self, picks):
        """(ctypes int array or None, count) for picks given as None, one index or name,
        or a sequence of them."""
        if picks is None:
            return None, self.n_channels
        if isinstance(picks, (str, numbers.Integral)):
            picks = [picks]
        indices = [self._pick(key) for key in picks]
        return (ctypes.c_int * max(len(indices), 1))(*indices), len(indices)

    def _window(self, start, stop, limit):
        start = _index(start, "start")
        stop = limit if stop is None else _index(stop, "stop")
        if stop < start:
            raise ValueError(f"stop ({stop}) is before start ({start})")
        return start, stop - start

    def read(self, start: int = 0, stop: int | None = None, picks=None, out=None):
        """Samples [start, stop) at the dataset rate as a (stop - start, n_picks)
        float32 array in SI units (stop defaults to n_times). `picks`: None for all
        channels, or channel indices and/or names (a single one gives one column).
        Channels stored at a lower rate are resampled (anti-aliased polyphase).

        With numpy the result is a C-ordered numpy.ndarray filled in place by the
        library; `out` may give one to fill (float32, C-contiguous, right shape).
        Without numpy it is a btfm.ShapedArray."""
        c_picks, n_picks = self._picks(picks)
        first, count = self._window(start, stop, self.n_times)
        shape = (count, n_picks)
        if numpy is not None:
            if out is None:
                out = numpy.empty(shape, dtype=numpy.float32)
            elif (not isinstance(out, numpy.ndarray) or out.dtype != numpy.float32
                  or out.shape != shape or not out.flags.c_contiguous
                  or not out.flags.writeable):
                raise ValueError(f"out must be a writeable C-contiguous float32 array of "
                                 f"shape {shape}")
            check(self._invoke(lib.btfm_dataset_read, first, count, c_picks,
                               n_picks if c_picks is not None else 0, _floats(out)))
            return out
        if out is not None:
            raise ValueError("out= needs numpy")
        result = ShapedArray("f", bytes(4 * count * n_picks))
        check(self._invoke(lib.btfm_dataset_read, first, count, c_picks,
                           n_picks if c_picks is not None else 0, _floats(result)))
        result.shape = shape
        return result

    def get_data(self, picks=None, start: int = 0, stop: int | None = None,
                 return_times: bool = False):
        """Samples [start, stop) as MNE's Raw.get_data gives them: a float64 array of
        channels x times (read() is the same data time-major, float32, without a
        copy). `picks`: None or "all" for every channel; channel names, indices and
        channel types ("eeg", "eog", ...) alone or in a list. return_times=True also
        returns the times in s from the start of the recording, as MNE does.
        Requires numpy."""
        if numpy is None:
            raise ImportError("Dataset.get_data needs numpy (read() works without it)")
        if isinstance(picks, str) and picks == "all":
            picks = None
        if picks is not None:
            names, types = self.ch_names, [c.type for c in self.channels]
            wanted = [picks] if isinstance(picks, (str, numbers.Integral)) else list(picks)
            indices = []
            for p in wanted:
                if isinstance(p, str) and p not in names and p in CHANNEL_TYPES.values():
                    indices.extend(i for i, t in enumerate(types) if t == p)
                else:
                    indices.append(p)
            if not indices:
                raise ValueError(f"picks {picks!r} selects no channel")
            picks = indices
        first, count = self._window(start, stop, self.n_times)
        data = self.read(first, first + count, picks=picks)
        data = numpy.asarray(data, dtype=numpy.float64).reshape(count, -1).T
        if return_times:
            return data, numpy.arange(first, first + count) / self.sfreq
        return data

    def read_native(self, channel, start: int = 0, stop: int | None = None):
        """One channel (index or name) at its native rate: native samples
        [start, stop) (stop defaults to channel.n_samples) as a 1-D float32 array."""
        index = self._pick(channel)
        limit = check(self._invoke(lib.btfm_dataset_channel_n_samples, index))
        first, count = self._window(start, stop, limit)
        if numpy is not None:
            out = numpy.empty(count, dtype=numpy.float32)
        else:
            out = ShapedArray("f", bytes(4 * count))
            out.shape = (count,)
        check(self._invoke(lib.btfm_dataset_read_native, index, first, count, _floats(out)))
        return out

    @property
    def data(self):
        """The whole recording: read(0, n_times), shape (n_times, n_channels)."""
        return self.read(0, self.n_times)

    # ---- volumes (NIfTI) ----

    @property
    def volume_shape(self) -> tuple:
        """(nx, ny, nz, n_volumes) of a volume dataset; btfm.Error (unsupported) else."""
        shape = (ctypes.c_int64 * 4)()
        check(self._invoke(lib.btfm_dataset_volume_shape, shape))
        return tuple(shape)

    @property
    def affine(self):
        """The 4x4 voxel-to-world affine (sform, else qform, else from the voxel sizes:
        nibabel's rule) as a numpy array (nested lists without numpy)."""
        values = (ctypes.c_double * 16)()
        check(self._invoke(lib.btfm_dataset_volume_affine, values))
        rows = [list(values[4 * r:4 * r + 4]) for r in range(4)]
        return numpy.array(rows) if numpy is not None else rows

    @property
    def zooms(self) -> tuple:
        """Voxel sizes in mm and the repetition time in seconds (0 when none)."""
        values = (ctypes.c_double * 4)()
        check(self._invoke(lib.btfm_dataset_volume_zooms, values))
        return tuple(values)

    @property
    def mask_kind(self) -> str:
        """How the channels were chosen: "all", "image", "voxels", "threshold",
        "background", "epi" or "labels"."""
        return from_cstr(lib.btfm_mask_kind_name(check(self._invoke(lib.btfm_dataset_mask_kind))))

    def _channel_voxels(self):
        n = self.n_channels
        out = (ctypes.c_int64 * max(n, 1))()
        check(self._invoke(lib.btfm_dataset_channel_voxels, out))
        return list(out[:n])

    @property
    def voxel_order(self) -> str:
        """The order of the voxel channels: "F" (the default; x fastest, the file's order:
        channel k is voxel numpy.nonzero(mask.ravel(order="F"))[0][k]) or "C" (z fastest:
        the order of nibabel's img.get_fdata()[mask] and nilearn's maskers, so that
        ds.read().T equals img.get_fdata()[mask]). Setting it reorders the channels of
        the mask in force and of every later mask; atlas labels stay in label order."""
        return from_cstr(lib.btfm_voxel_order_name(
            check(self._invoke(lib.btfm_dataset_voxel_order))))

    @voxel_order.setter
    def voxel_order(self, order: str) -> None:
        orders = {"F": 0, "C": 1}
        if order not in orders:
            raise ValueError(f"voxel_order must be \"F\" (x fastest, the file's) or \"C\" "
                             f"(z fastest, nibabel's get_fdata()[mask]), not {order!r}")
        check(self._invoke(lib.btfm_dataset_set_voxel_order, orders[order]))

    @property
    def voxel_indices(self):
        """Flat voxel index (x + nx * (y + ny * z), Fortran order of the grid) of every
        channel of a voxel mask, as an int64 array, in the channels' order (voxel_order)."""
        values = self._channel_voxels()
        return numpy.array(values, dtype=numpy.int64) if numpy is not None else values

    @property
    def voxel_coords(self):
        """(n_channels, 3) voxel coordinates (x, y, z) of a voxel mask's channels."""
        nx, ny, _, _ = self.volume_shape
        flat = self._channel_voxels()
        coords = [(v % nx, (v // nx) % ny, v // (nx * ny)) for v in flat]
        return numpy.array(coords, dtype=numpy.int64).reshape(-1, 3) if numpy is not None else coords

    @property
    def label_values(self):
        """The atlas label of every channel of a label mask."""
        return self.voxel_indices

    def _with_channels(self, mask, labels, voxel_order=None) -> "Dataset":
        """self after set_mask(mask) or set_labels(labels) (None: neither), in voxel_order;
        closed when that fails."""
        try:
            if mask is not None and labels is not None:
                raise ValueError("give mask or labels, not both")
            if voxel_order is not None:
                self.voxel_order = voxel_order
            if mask is not None:
                self.set_mask(mask)
            if labels is not None:
                self.set_labels(labels)
        except BaseException:
            self.close()
            raise
        return self

    def set_mask(self, mask) -> None:
        """Choose the voxels that are the channels: a mask image path (same grid and
        affine), "all", "epi" or "background" (computed from the data as nilearn's
        strategies), ("threshold", value) (voxels whose mean exceeds value), or a
        boolean/integer array of shape (nx, ny, nz) (non-zero voxels)."""
        kinds = {"all": 0, "threshold": 3, "background": 4, "epi": 5}
        if isinstance(mask, str) and mask in kinds:
            if mask == "threshold":
                raise ValueError('give ("threshold", value)')
            check(self._invoke(lib.btfm_dataset_mask_compute, kinds[mask], 0.0))
        elif isinstance(mask, tuple) and len(mask) == 2 and mask[0] == "threshold":
            check(self._invoke(lib.btfm_dataset_mask_compute, 3, float(mask[1])))
        elif isinstance(mask, (str, bytes)) or hasattr(mask, "__fspath__"):
            check(self._invoke(lib.btfm_dataset_mask_image, to_cpath(mask)))
        else:
            if numpy is None:
                raise TypeError("an array mask needs numpy")
            array = numpy.asarray(mask)
            shape = self.volume_shape[:3]
            if array.shape != shape:
                raise ValueError(f"the mask has shape {array.shape}, the grid {shape}")
            flat = numpy.ascontiguousarray((array != 0).ravel(order="F"), dtype=numpy.uint8)
            check(self._invoke(lib.btfm_dataset_mask_voxels,
                               flat.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8)), flat.size))

    def set_labels(self, atlas) -> None:
        """One channel per non-zero label of the atlas image `atlas` (same grid and
        affine), in increasing label order: the mean over the label's voxels."""
        check(self._invoke(lib.btfm_dataset_mask_labels, to_cpath(atlas)))

    def unmask(self, data):
        """Put an (n_times, n_channels) array back into the grid: an (nx, ny, nz,
        n_times) float32 array, 0 outside the mask (label masks fill every voxel of a
        label with its channel's value)."""
        if numpy is None:
            raise RuntimeError("unmask needs numpy")
        data = numpy.asarray(data, dtype=numpy.float32)
        if data.ndim != 2 or data.shape[1] != self.n_channels:
            raise ValueError(f"data must have shape (n_times, {self.n_channels}), not {data.shape}")
        nx, ny, nz, _ = self.volume_shape
        out = numpy.zeros((nx * ny * nz, data.shape[0]), dtype=numpy.float32)
        if self.mask_kind == "labels":
            raise ValueError("unmask of label channels: save through btfm.from_array(data, "
                             "sfreq, like=dataset).save(path)")
        out[self.voxel_indices] = data.T
        return out.reshape((nx, ny, nz, data.shape[0]), order="F")
    # ---- signal processing (btfm.signal) ----

    def filter(self, l_freq=None, h_freq=None, order: int = 4, notch=None,
               notch_quality: float = 30.0, as_dataset: bool = False,
               allow_nonfinite: bool = False):
        """Zero-phase Butterworth filtering of every channel but stim channels: band-pass
        l_freq..h_freq (high-pass with h_freq None, low-pass with l_freq None; band filters
        have 2 x order poles as in SciPy), plus IIR notches at `notch` Hz (one or several).
        Returns the filtered (n_times, n_channels) array, or with as_dataset=True a new
        in-memory Dataset with the same channels and events (save() writes any format)."""
        from . import signal
        return signal.dataset_filter(self, l_freq, h_freq, order, notch, notch_quality,
                                     as_dataset, allow_nonfinite)

    def epochs(self, events=None, tmin: float = -0.2, tmax: float = 0.5,
               baseline=(None, 0), reject=None, label=None, allow_nonfinite: bool = False):
        """Epochs around events as mne.Epochs does: `events` are indices into
        self.events (None: every event but EDF+D gaps, or those select_events(label)
        chooses: MNE's /-separated tags, "stim" selecting "stim/left" and "stim/right";
        no match raises btfm.NotFoundError naming the labels there are); baseline
        (bmin, bmax) in s or None; reject like MNE's, {"eeg": 100e-6, "eog": 250e-6} (or
        "eeg=100e-6"), bad channels ignored. Returns btfm.signal.Epochs (data
        (n_kept, n_times, n_channels), kept, reasons, times)."""
        from . import signal
        return signal.dataset_epochs(self, events, tmin, tmax, baseline, reject, label,
                                     allow_nonfinite)

    # ---- fNIRS (btfm.fnirs) ----

    def optical_density(self) -> "Dataset":
        """A new Dataset with the continuous-wave amplitude channels as optical densities
        (-ln(I / mean I), MNE's optical_density); other channels copied."""
        from . import fnirs
        return fnirs.dataset_optical_density(self)

    def beer_lambert(self, ppf: float = 6.0) -> "Dataset":
        """A new Dataset with each source-detector pair's optical densities replaced by
        "S<s>_D<d> hbo" and "... hbr" in M (MNE's beer_lambert_law; ppf 6 is MNE's
        convention, Homer3 uses 1: doc/fnirs.md)."""
        from . import fnirs
        return fnirs.dataset_beer_lambert(self, ppf)

    def short_channel_regression(self, max_distance: float = 0.01) -> "Dataset":
        """A new Dataset where each long fNIRS channel has the nearest short channel
        (source-detector distance below max_distance metres, same type and wavelength)
        regressed out."""
        from . import fnirs
        return fnirs.dataset_short_channel_regression(self, max_distance)

    def scalp_coupling_index(self, l_freq: float = 0.7, h_freq: float = 1.5,
                             l_trans_bandwidth: float = 0.3, h_trans_bandwidth: float = 0.3):
        """Scalp coupling index of every channel (NaN for channels that are not optical
        densities), as MNE's scalp_coupling_index."""
        from . import fnirs
        return fnirs.dataset_scalp_coupling_index(self, l_freq, h_freq, l_trans_bandwidth,
                                                  h_trans_bandwidth)

    def short_channels(self, max_distance: float = 0.01):
        """Boolean per channel: fNIRS channels shorter than max_distance metres."""
        from . import fnirs
        return fnirs.short_channels(self, max_distance)

    @property
    def source_detector_distances(self):
        """Source-detector distance of every channel in metres (NaN for others)."""
        from . import fnirs
        return fnirs.source_detector_distances(self)

    # ---- writing ----

    def save(self, path, format: str | None = None, anonymize: bool = False) -> None:
        """Write the recording to `path` (format from the extension: .edf, .bdf, .vhdr,
        .nii, .nii.gz, unless given), atomically; volumes are written unmasked into their
        grid as float32 NIfTI-1. Same-format writes keep the stored digital values
        exactly. With `anonymize`, the copy is de-identified (see anonymize()) while
        this dataset is left as it is."""
        flags = _SAVE_ANONYMIZE if anonymize else 0
        check(self._invoke(lib.btfm_dataset_save, to_cpath(path), _format_number(format),
                           flags))

    def anonymize(self) -> None:
        """De-identify in memory: clear subject and recording identifiers and move the
        start date to 1985-01-01, keeping the time of day (BIDS de-identification)."""
        check(self._invoke(lib.btfm_dataset_anonymize))

    def __repr__(self):
        with self._lock:
            if self._ptr is None:
                return "<btfm.Dataset (closed)>"
        return (f"<btfm.Dataset {str(self.path)!r} {self.format}, {self.n_channels} "
                f"channels x {self.n_times} samples at {self.sfreq:g} Hz, "
                f"{len(self.events)} events>")

