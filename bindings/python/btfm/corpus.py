"""btfm.corpus: recordings preprocessed once into a training corpus, then served as
shuffled, sharded batches by background threads.

    >>> btfm.corpus.build("ds/", "corpus/", key=b"my secret", sfreq=250, progress=True)
    >>> loader = btfm.corpus.Loader("corpus/", window_s=4, batch_size=256, split=0,
    ...                             rank=rank, world_size=world)
    >>> for batch in loader:            # one epoch; the next loop is the next epoch
    ...     x = batch["data"]           # rows x channels x time, float32 (no copy)

A batch's arrays are views of the loader's ring buffers: they stay valid until the next
batch is asked for (copy what must live longer). `Loader.torch()` gives a
`torch.utils.data.IterableDataset` whose tensors share those buffers. The on-disk format
(`index.json` plus one little-endian int16 or float16 file a recording, readable with
`numpy.memmap` alone) is in doc/corpus.md; `Corpus` reads it with NumPy only.
"""

from __future__ import annotations

import ctypes
import json
import os

try:
    import numpy as np
except ImportError:
    np = None

from ._errors import check
from ._handle import Handle
from ._lib import lib
from ._params import ParamsMixin
from ._progress import attached
from ._util import from_cstr, to_cpath

__all__ = ["CorpusBuilder", "Loader", "Corpus", "build", "merge", "SPLITS", "SPLIT_BY", "BANDS"]

#: Split numbers of the loader's `split` parameter.
SPLITS = {"train": 0, "val": 1, "test": 2, "all": 3}
#: Units of the loader's `split_by` parameter.
SPLIT_BY = {"subject": 0, "session": 1, "recording": 2, "window": 3}
#: Bands of band-power tokens (tokens=1), Hz, [lo, hi).
BANDS = {"delta": (1, 4), "theta": (4, 8), "alpha": (8, 13), "beta": (13, 30), "gamma": (30, 45)}
N_BANDS = len(BANDS)
_TEXTS = ("query", "channel_types", "keep_annotations", "label_column", "mask", "atlas")
_I64 = ctypes.c_int64


def _need_numpy():
    if np is None:
        raise ImportError("btfm.corpus needs numpy")


class CorpusBuilder(ParamsMixin, Handle):
    """A corpus builder (btfm_corpus_builder). Parameters as keyword arguments
    (btfm.param_info("corpus")); text settings `query`, `channel_types`,
    `keep_annotations` (list or comma-separated), `label_column`, `mask`, `atlas`.
    `key` (bytes or str, at least 8 bytes) pseudonymizes subjects and is never stored."""

    _type_name = "btfm.corpus.CorpusBuilder"
    _free = lib.btfm_corpus_builder_free
    _param_kind = "corpus"
    _set_param_func = "btfm_corpus_builder_set_param"
    _get_param_func = "btfm_corpus_builder_get_param"

    def __init__(self, key, files=(), **settings):
        ptr = ctypes.c_void_p()
        check(lib.btfm_corpus_builder_new(ctypes.byref(ptr)))
        super().__init__(ptr)
        key = key.encode() if isinstance(key, str) else bytes(key)
        check(self._invoke(lib.btfm_corpus_builder_set_key, key, len(key)))
        for name, value in settings.items():
            if name in _TEXTS:
                self.set_text(name, value)
            else:
                self.set_param(name, value)
        for path in files:
            self.add_file(path)

    def set_text(self, name: str, value) -> None:
        """A text setting; a list is joined with commas, None restores the default."""
        if isinstance(value, (list, tuple)):
            value = ",".join(value)
        check(self._invoke(lib.btfm_corpus_builder_set_text, name.encode(),
                           None if value is None else str(value).encode()))

    def add_file(self, path) -> None:
        """A recording file to build when no BIDS folder is given."""
        check(self._invoke(lib.btfm_corpus_builder_add_file, to_cpath(path)))

    def plan(self, source, out_dir) -> int:
        """Step 1 of a build divided among processes: the number of recordings."""
        n = _I64()
        check(self._invoke(lib.btfm_corpus_builder_plan,
                           None if source is None else to_cpath(source, "source"),
                           to_cpath(out_dir, "out_dir"), ctypes.byref(n)))
        return n.value

    def build_one(self, index: int) -> bool:
        """Step 2: build recording `index` of the plan; False when it failed (its reason is
        in the corpus's build report)."""
        built = ctypes.c_int()
        check(self._invoke(lib.btfm_corpus_builder_build_one, int(index), ctypes.byref(built)))
        return bool(built.value)

    def build(self, source, out_dir, progress=None, comm=None) -> dict:
        """Plan, build every recording on the cores and merge the index. Returns
        {"built": n, "failed": n}.

        With `comm` (an mpi4py communicator, e.g. ``MPI.COMM_WORLD``) the build is
        distributed (btfm_corpus_build_mpi): every rank passes the same settings, sources
        and out_dir (a folder every rank sees), the ranks divide the recordings and rank 0
        merges the index, which holds the bytes of a one-process build. Collective."""
        built, failed = _I64(), _I64()
        handle = None
        if comm is not None:
            from .align import _comm_handle
            handle = _comm_handle(comm)
        src = None if source is None else to_cpath(source)
        with self._lock:
            ptr = self._require_open()
            with attached(lib.btfm_corpus_builder_set_progress, ptr, progress):
                if handle is None:
                    check(lib.btfm_corpus_build(ptr, src, to_cpath(out_dir),
                                                ctypes.byref(built), ctypes.byref(failed)))
                else:
                    check(lib.btfm_corpus_build_mpi(ptr, src, to_cpath(out_dir),
                                                    ctypes.byref(built), ctypes.byref(failed),
                                                    handle))
        return {"built": built.value, "failed": failed.value}


def merge(out_dir) -> None:
    """Step 3: merge out_dir/recordings/ into out_dir/index.json."""
    check(lib.btfm_corpus_merge(to_cpath(out_dir)))


def build(source, out_dir, key, files=(), progress=None, comm=None, **settings) -> dict:
    """Build a corpus from a BIDS folder `source` (or from `files` with source None);
    with `comm` (mpi4py) over the ranks of an MPI job (CorpusBuilder.build)."""
    with CorpusBuilder(key, files, **settings) as builder:
        return builder.build(source, out_dir, progress=progress, comm=comm)


class Corpus:
    """A built corpus read with the standard library and NumPy only (no libbtfm), as any
    other tool can: `index` (the parsed index.json), `recordings` (its entries),
    `failed`, and `data(i)`, recording i as float32 time x channel (from a memmap)."""

    def __init__(self, path):
        self.path = os.fspath(path)
        with open(os.path.join(self.path, "index.json"), encoding="utf-8") as f:
            self.index = json.load(f)
        self.recordings = self.index["recordings"]
        self.failed = self.index.get("failed", [])

    def memmap(self, i: int):
        """Recording i's stored values as a read-only numpy.memmap (time x channel)."""
        _need_numpy()
        e = self.recordings[i]
        dtype = "<i2" if e["dtype"] == "int16" else "<f2"
        return np.memmap(os.path.join(self.path, e["file"]), dtype=dtype, mode="r",
                         shape=tuple(e["shape"]))

    def data(self, i: int):
        """Recording i as float32 robust z-scores (time x channel)."""
        e = self.recordings[i]
        values = np.asarray(self.memmap(i), dtype=np.float32)
        if e["dtype"] == "int16":
            values = values * np.asarray(e["scale"], dtype=np.float32)
        return values


class Loader(ParamsMixin, Handle):
    """Batches of a corpus (btfm_loader). Parameters as keyword arguments
    (btfm.param_info("loader")); `split` and `split_by` also by name ("train",
    "subject"); `events` selects the labels of event-locked windows.

    Iterating gives one epoch of batches (dicts of numpy views: data, labels, mask,
    window_ids, recordings, starts, channel_ids, positions), valid until the next batch;
    `state` / `set_state` save and resume (epoch, position) with a host's checkpoint."""

    _type_name = "btfm.corpus.Loader"
    _free = lib.btfm_loader_free
    _param_kind = "loader"
    _set_param_func = "btfm_loader_set_param"
    _get_param_func = "btfm_loader_get_param"

    def __init__(self, path, events=None, **params):
        _need_numpy()
        ptr = ctypes.c_void_p()
        check(lib.btfm_loader_new(ctypes.byref(ptr), to_cpath(path)))
        super().__init__(ptr)
        if events is not None:
            self.set_events(events)
        for name, value in params.items():
            if name == "split" and isinstance(value, str):
                value = SPLITS[value]
            if name == "split_by" and isinstance(value, str):
                value = SPLIT_BY[value]
            self.set_param(name, value)

    def set_events(self, labels) -> None:
        """Labels of the events of event-locked windows (list or comma-separated)."""
        if isinstance(labels, (list, tuple)):
            labels = ",".join(labels)
        self._layout = None
        check(self._invoke(lib.btfm_loader_set_events, None if labels is None else labels.encode()))

    @property
    def n_channels(self) -> int:
        return check(self._invoke(lib.btfm_loader_n_channels))

    @property
    def window_len(self) -> int:
        """Samples per window."""
        return check(self._invoke(lib.btfm_loader_window_len))

    @property
    def channel_names(self) -> list:
        """The corpus's channel vocabulary: channel ids index it."""
        n = check(self._invoke(lib.btfm_loader_n_channel_names))
        return [from_cstr(self._invoke(lib.btfm_loader_channel_name, i)) for i in range(n)]

    @property
    def labels(self) -> list:
        """Label texts by label id (event-locked windows)."""
        n = check(self._invoke(lib.btfm_loader_n_labels))
        return [from_cstr(self._invoke(lib.btfm_loader_label, i)) for i in range(n)]

    def count(self, split="all") -> tuple:
        """(windows, skipped) of a split under the current parameters."""
        n, skipped = _I64(), _I64()
        split = SPLITS[split] if isinstance(split, str) else int(split)
        check(self._invoke(lib.btfm_loader_count, split, ctypes.byref(n), ctypes.byref(skipped)))
        return n.value, skipped.value

    def __len__(self) -> int:
        """Batches an epoch on this rank."""
        batches = _I64()
        check(self._invoke(lib.btfm_loader_n_batches, None, ctypes.byref(batches)))
        return batches.value

    @property
    def n_samples(self) -> int:
        """Windows an epoch on this rank (DistributedSampler's num_samples)."""
        n = _I64()
        check(self._invoke(lib.btfm_loader_n_batches, ctypes.byref(n), None))
        return n.value

    def epoch_order(self, epoch: int):
        """This rank's window ids of `epoch`, in order (the sampler alone)."""
        ids = np.empty(self.n_samples, dtype=np.int64)
        check(self._invoke(lib.btfm_loader_epoch_order, int(epoch),
                           ids.ctypes.data_as(ctypes.POINTER(ctypes.c_int64)), ids.size))
        return ids

    @property
    def state(self) -> tuple:
        """(epoch, position): the next batch is batch `position` of `epoch`."""
        epoch, position = _I64(), _I64()
        check(self._invoke(lib.btfm_loader_state, ctypes.byref(epoch), ctypes.byref(position)))
        return epoch.value, position.value

    def set_state(self, epoch: int, position: int = 0) -> None:
        check(self._invoke(lib.btfm_loader_set_state, int(epoch), int(position)))

    def set_param(self, name: str, value) -> None:
        self._layout = None
        super().set_param(name, value)

    def _view(self, pointer, shape) -> np.ndarray:
        """A numpy view of the loader's buffer at `pointer` that keeps the loader alive as
        long as the view is, so a batch taken from a loader nobody else holds stays valid
        (until the loader's next batch overwrites it)."""
        count = int(np.prod(shape))
        address = ctypes.cast(pointer, ctypes.c_void_p).value
        if not address or count == 0:
            return np.zeros(shape, dtype=np.dtype(type(pointer)._type_))
        block = (type(pointer)._type_ * count).from_address(address)
        block._loader = self
        return np.ctypeslib.as_array(block).reshape(shape)

    def _batch_layout(self):
        """Each array's C accessor and shape after the row count, from the parameters
        (asked of the library once, not at every batch)."""
        C, T = self.n_channels, self.window_len
        patch = self.get_param("patch_len") or T
        P = T // patch
        data = (T, C) if self.get_param("time_major") else (C, T)
        if patch != T and not self.get_param("time_major"):
            data = (C, P, patch)
        if self.get_param("tokens") == 1:  # log10 band powers of each patch
            data = (C, P, N_BANDS)
        return [("data", lib.btfm_batch_data, data), ("labels", lib.btfm_batch_labels, ()),
                ("mask", lib.btfm_batch_mask, (C, P)),
                ("window_ids", lib.btfm_batch_window_ids, ()),
                ("recordings", lib.btfm_batch_recordings, ()),
                ("starts", lib.btfm_batch_starts, ()),
                ("channel_ids", lib.btfm_batch_channel_ids, (C,)),
                ("positions", lib.btfm_batch_positions, (C, 3))]

    def _views(self, batch) -> dict:
        if getattr(self, "_layout", None) is None:
            self._layout = self._batch_layout()
        rows = lib.btfm_batch_size(batch)
        views = {name: self._view(get(batch), (rows,) + shape) for name, get, shape in self._layout}
        views["mask"] = views["mask"].view(np.bool_)
        return views

    def next_batch(self):
        """The next batch as numpy views, or None at the end of the epoch (the state then
        moves to the next epoch)."""
        batch = ctypes.c_void_p()
        with self._lock:
            check(lib.btfm_loader_next(self._require_open(), ctypes.byref(batch)))
            return None if not batch.value else self._views(batch)

    def __iter__(self):
        while True:
            batch = self.next_batch()
            if batch is None:
                return
            yield batch

    def torch(self):
        """A torch.utils.data.IterableDataset over this loader whose batches are tensors
        sharing the ring buffers (torch.from_numpy: no copy). Use it with
        DataLoader(dataset, batch_size=None) or iterate it directly; a tensor stays valid
        until the next batch is taken (clone it, or copy it to the GPU, before that)."""
        import torch  # noqa: F401  (ImportError when torch is absent)
        from ._torch import TorchCorpusDataset
        return TorchCorpusDataset(self)
