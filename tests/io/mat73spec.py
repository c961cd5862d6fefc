"""A MATLAB v7.3 MAT-file writer with h5py, written from MathWorks' description of the
v7.3 format (an HDF5 file behind a 512-byte user block holding the 128-byte MAT header)
and of how MATLAB lays its arrays out in HDF5: a MATLAB_class attribute on every
variable; dimensions reversed (MATLAB is column-major, HDF5 row-major); char arrays as
uint16 UTF-16 code units with MATLAB_int_decode 2; empty arrays as a uint64 dataset of
their dimensions with MATLAB_empty 1; a scalar struct as a group of its fields with
MATLAB_fields; a struct array as a group whose fields are datasets of object references,
one per element, into /#refs#; a cell as a dataset of such references. It takes the
Python values scipy.io.savemat takes (dicts, structured arrays, strings, numbers,
ndarrays), so one recording can be written in both versions."""

import h5py
import numpy as np

CLASSES = {np.dtype(np.float64): "double", np.dtype(np.float32): "single",
           np.dtype(np.int8): "int8", np.dtype(np.uint8): "uint8", np.dtype(np.int16): "int16",
           np.dtype(np.uint16): "uint16", np.dtype(np.int32): "int32",
           np.dtype(np.uint32): "uint32", np.dtype(np.int64): "int64",
           np.dtype(np.uint64): "uint64", np.dtype(bool): "logical"}


def _cls(obj, name):
    obj.attrs.create("MATLAB_class", np.bytes_(name))


def _fields_attr(group, names):
    dt = h5py.vlen_dtype(np.dtype("S1"))
    value = np.empty(len(names), dtype=object)
    for i, n in enumerate(names):
        value[i] = np.array(list(n.encode("ascii")), dtype="S1") if n else np.zeros(0, "S1")
    group.attrs.create("MATLAB_fields", value, dtype=dt)


class Writer:
    def __init__(self, f):
        self.f = f
        self.refs = f.create_group("#refs#")
        self.count = 0
        # MATLAB's first entry of #refs#: an empty placeholder named "a"
        a = self.refs.create_dataset("a", data=np.array([0, 0], np.uint64))
        _cls(a, "canonical empty")
        a.attrs["MATLAB_empty"] = np.uint8(1)

    def _ref_name(self):
        self.count += 1
        n, name = self.count, ""
        while True:
            name = chr(ord("a") + n % 26) + name
            n //= 26
            if n == 0:
                return name

    def _reference(self, value):
        name = self._ref_name()
        self.put(self.refs, name, value)
        return self.refs[name].ref

    def _refs_dataset(self, group, name, shape, values):
        """A dataset of object references of MATLAB shape `shape` (stored reversed)."""
        refs = np.empty(int(np.prod(shape)), dtype=object)
        for i, v in enumerate(values):  # values in MATLAB's column-major order
            refs[i] = self._reference(v)
        data = refs.reshape(shape[::-1])
        return group.create_dataset(name, data=data, dtype=h5py.ref_dtype)

    def put(self, group, name, value):
        if isinstance(value, dict):
            g = group.create_group(name)
            _cls(g, "struct")
            _fields_attr(g, list(value))
            for k, v in value.items():
                self.put(g, k, v)
        elif isinstance(value, np.ndarray) and value.dtype.names:
            # a struct array: each field a reference dataset of the array's shape
            g = group.create_group(name)
            _cls(g, "struct")
            _fields_attr(g, list(value.dtype.names))
            flat = value.flatten(order="F")
            for k in value.dtype.names:
                self._refs_dataset(g, k, value.shape, [e[k] for e in flat])
        elif isinstance(value, str):
            units = np.frombuffer(value.encode("utf-16-le"), dtype="<u2")
            if units.size == 0:
                self.empty(group, name, "char", (0, 0))
                return
            d = group.create_dataset(name, data=units.reshape(units.size, 1).astype(np.uint16))
            _cls(d, "char")
            d.attrs.create("MATLAB_int_decode", np.int32(2))
        elif isinstance(value, list):  # a 1 x n cell
            d = self._refs_dataset(group, name, (1, len(value)), value)
            _cls(d, "cell")
        else:
            a = np.asarray(value)
            if a.dtype == object:
                raise TypeError("object arrays are written as lists (cells)")
            if a.dtype.kind in "iu" and a.dtype not in CLASSES:
                a = a.astype(np.int64)
            if a.dtype.kind == "f" and a.dtype not in CLASSES:
                a = a.astype(np.float64)
            if a.ndim < 2:
                a = a.reshape(1, -1) if a.ndim == 1 else a.reshape(1, 1)
            if a.size == 0:
                self.empty(group, name, CLASSES[a.dtype], a.shape)
                return
            data = a.astype(np.uint8) if a.dtype == bool else a
            d = group.create_dataset(name, data=np.ascontiguousarray(data.T))
            _cls(d, CLASSES[a.dtype])
            if a.dtype == bool:
                d.attrs.create("MATLAB_int_decode", np.int32(1))

    def empty(self, group, name, cls, shape):
        d = group.create_dataset(name, data=np.array(shape, dtype=np.uint64))
        _cls(d, cls)
        d.attrs["MATLAB_empty"] = np.uint8(1)


def header():
    text = ("MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Dec  7 12:00:00 2026 "
            "HDF5 schema 1.00 .").encode("ascii").ljust(116, b" ")
    return text + b" " * 8 + b"\x00\x02" + b"IM"


def savemat73(path, variables):
    """Write `variables` (name -> value) as a v7.3 MAT-file."""
    with h5py.File(path, "w", userblock_size=512, libver="earliest") as f:
        w = Writer(f)
        for name, value in variables.items():
            w.put(f, name, value)
    with open(path, "r+b") as f:
        f.write(header().ljust(512, b"\x00"))
