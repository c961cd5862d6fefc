"""btfm.read_table and btfm.Table: BIDS-style TSV tables (events.tsv, channels.tsv,
participants.tsv, ...) read and written by libbtfm's one TSV reader.

    >>> t = btfm.read_table("sub-01_task-rest_events.tsv")
    >>> len(t), t.columns
    (120, ['onset', 'duration', 'trial_type'])
    >>> t["onset"]              # numeric column: numpy float64 array, NaN for n/a
    >>> t["trial_type"]         # text column: list of str, None for n/a
    >>> t2 = btfm.Table.from_columns({"onset": [0.5, 2.0], "trial_type": ["go", None]})
    >>> t2.save("events.tsv")   # atomic

Rules (header line, tabs, n/a, UTF-8, LF/CRLF): doc/tables.md.
"""

from __future__ import annotations

import ctypes
import math
import numbers

from ._arrays import numpy
from ._errors import Error, check
from ._handle import Handle
from ._lib import lib
from ._util import from_cstr, to_cpath, to_cstr

__all__ = ["Table", "read_table", "parse_table"]

_P_DOUBLE = ctypes.POINTER(ctypes.c_double)


def read_table(path) -> "Table":
    """Read a TSV file. Raises btfm.Error (BTFM_E_FORMAT with the file, line and column;
    BTFM_E_NOTFOUND) when it cannot."""
    ptr = ctypes.c_void_p()
    check(lib.btfm_table_read(ctypes.byref(ptr), to_cpath(path)))
    return Table._adopt(ptr)


def parse_table(text, name: str | None = None) -> "Table":
    """A table from TSV text (str, or bytes of UTF-8); `name` names it in messages."""
    data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    ptr = ctypes.c_void_p()
    check(lib.btfm_table_parse(ctypes.byref(ptr), data, len(data),
                               None if name is None else to_cstr(name, "name")))
    return Table._adopt(ptr)


def _cell_text(value, what: str) -> bytes | None:
    """The text a Python value is stored as: None and NaN are n/a; floats in their
    shortest round-trip form; ints, str as they are."""
    if value is None:
        return None
    if isinstance(value, str):
        return to_cstr(value, what)
    if isinstance(value, bool):
        raise TypeError(f"{what} must be a str, a number or None, not bool")
    if isinstance(value, numbers.Integral):
        return str(int(value)).encode()
    if isinstance(value, numbers.Real):
        value = float(value)
        if math.isnan(value):
            return None
        if math.isinf(value):
            raise ValueError(f"{what} is {value}: TSV numbers must be finite (use n/a)")
        return repr(value).encode()
    raise TypeError(f"{what} must be a str, a number or None, not {type(value).__name__}")


class Table(Handle):
    """A table of text cells with named columns. `Table(["onset", "duration"])` makes an
    empty one; `read_table`, `parse_table` and `Table.from_columns` make filled ones."""

    _type_name = "table"
    _free = lib.btfm_table_free

    def __init__(self, columns):
        columns = list(columns)
        names = (ctypes.c_char_p * max(len(columns), 1))(
            *[to_cstr(c, "column name") for c in columns])
        ptr = ctypes.c_void_p()
        check(lib.btfm_table_new(ctypes.byref(ptr), names, len(columns)))
        super().__init__(ptr)

    @classmethod
    def from_columns(cls, columns: dict) -> "Table":
        """A table from {name: sequence of values}, all of one length. Values: str,
        numbers (floats written in their shortest round-trip form), None or NaN (n/a)."""
        names = list(columns)
        lengths = {len(columns[n]) for n in names}
        if len(lengths) > 1:
            raise ValueError("from_columns: columns differ in length: " + ", ".join(
                f"{n}={len(columns[n])}" for n in names))
        table = cls(names)
        n_rows = lengths.pop() if lengths else 0
        values = [list(columns[n]) for n in names]
        for r in range(n_rows):
            table.add_row([values[c][r] for c in range(len(names))])
        return table

    # ---- shape and names ----

    def __len__(self) -> int:
        return int(self._invoke(lib.btfm_table_n_rows))

    @property
    def n_rows(self) -> int:
        return len(self)

    @property
    def columns(self) -> list:
        """Column names in order."""
        with self._lock:
            ptr = self._require_open()
            return [from_cstr(lib.btfm_table_column_name(ptr, c))
                    for c in range(lib.btfm_table_n_columns(ptr))]

    def column_index(self, name: str) -> int:
        """Index of a column; btfm.Error (BTFM_E_NOTFOUND, listing the columns) if absent."""
        index = ctypes.c_int()
        check(self._invoke(lib.btfm_table_find_column, to_cstr(name, "column name"),
                           ctypes.byref(index)))
        return index.value

    def _column(self, key) -> int:
        if isinstance(key, str):
            return self.column_index(key)
        if isinstance(key, bool) or not isinstance(key, numbers.Integral):
            raise TypeError(f"a column is a name or an index, not {type(key).__name__}")
        n = len(self.columns)
        index = int(key) + n if key < 0 else int(key)
        if not 0 <= index < n:
            raise IndexError(f"column {key} is out of range for {n} columns")
        return index

    # ---- reading cells ----

    def cell(self, row: int, column) -> str | None:
        """One cell's text; None for n/a."""
        c = self._column(column)
        with self._lock:
            ptr = self._require_open()
            n = lib.btfm_table_n_rows(ptr)
            r = row + n if row < 0 else row
            if not 0 <= r < n:
                raise IndexError(f"row {row} is out of range for {n} rows")
            if lib.btfm_table_is_na(ptr, r, c):
                return None
            return from_cstr(lib.btfm_table_cell(ptr, r, c))

    def strings(self, column) -> list:
        """A column as a list of str, None for n/a."""
        c = self._column(column)
        with self._lock:
            ptr = self._require_open()
            cell = lib.btfm_table_cell
            texts = [cell(ptr, r, c) for r in range(lib.btfm_table_n_rows(ptr))]
        return [None if t == b"n/a" else t.decode("utf-8") for t in texts]

    def numbers(self, column):
        """A numeric column as float64 (a numpy array, or a list without numpy), NaN for
        n/a. btfm.Error (BTFM_E_FORMAT, naming the line) when a cell is not a number."""
        c = self._column(column)
        with self._lock:
            ptr = self._require_open()
            n = lib.btfm_table_n_rows(ptr)
            if numpy is not None:
                out = numpy.empty(n, dtype=numpy.float64)
                check(lib.btfm_table_column_numbers(ptr, c, out.ctypes.data_as(_P_DOUBLE)))
                return out
            buf = (ctypes.c_double * max(n, 1))()
            check(lib.btfm_table_column_numbers(ptr, c, buf))
            return list(buf[:n])

    def is_numeric(self, column) -> bool:
        """True when every cell of the column is a number or n/a."""
        c = self._column(column)
        return bool(self._invoke(lib.btfm_table_column_is_numeric, c))

    def values(self, column) -> list:
        """A column as a list of Python values, the way pandas reads a TSV: float for
        every cell of a numeric column (is_numeric), str for the others, None for n/a."""
        if not self.is_numeric(column):
            return self.strings(column)
        c = self._column(column)
        value = ctypes.c_double()
        out = []
        with self._lock:
            ptr = self._require_open()
            for r in range(lib.btfm_table_n_rows(ptr)):
                if lib.btfm_table_is_na(ptr, r, c):
                    out.append(None)
                else:
                    check(lib.btfm_table_cell_number(ptr, r, c, ctypes.byref(value)))
                    out.append(value.value)
        return out

    def __getitem__(self, key):
        """t["onset"] (or t[0]): the column as numbers when every cell is a number or
        n/a (numpy float64, NaN for n/a), else as a list of str/None. t[row, column]:
        one cell's text."""
        if isinstance(key, tuple):
            row, column = key
            return self.cell(row, column)
        try:
            return self.numbers(key)
        except Error:
            return self.strings(key)

    def __contains__(self, name) -> bool:
        return name in self.columns

    def rows(self, typed: bool = False) -> list:
        """Every row as a dict {column: str or None}; typed=True gives the cells of numeric
        columns as float (values())."""
        names = self.columns
        get = self.values if typed else self.strings
        columns = [get(c) for c in range(len(names))]
        return [dict(zip(names, values)) for values in zip(*columns)] if names else []

    # ---- editing ----

    def add_row(self, values) -> None:
        """Append a row: a sequence with one value a column, or a dict by column name
        (missing names are n/a). Cells cannot hold tabs or line breaks."""
        names = self.columns
        if isinstance(values, dict):
            unknown = set(values) - set(names)
            if unknown:
                raise KeyError(f"add_row: no column named {sorted(unknown)!r}; columns: {names}")
            values = [values.get(n) for n in names]
        values = list(values)
        if len(values) != len(names):
            raise ValueError(f"add_row: {len(values)} values for {len(names)} columns")
        cells = (ctypes.c_char_p * len(names))(
            *[_cell_text(v, f"cell of column {n!r}") for v, n in zip(values, names)])
        check(self._invoke(lib.btfm_table_add_row, cells))

    def add_column(self, name: str, values=None) -> None:
        """Append a column: every cell n/a (values None), one value for all cells, or a
        sequence with one value a row."""
        if values is None or isinstance(values, (str, numbers.Number)):
            check(self._invoke(lib.btfm_table_add_column, to_cstr(name, "column name"),
                               _cell_text(values, f"fill of column {name!r}")))
            return
        values = list(values)
        if len(values) != len(self):
            raise ValueError(f"add_column: {len(values)} values for {len(self)} rows")
        texts = [_cell_text(v, f"cell of column {name!r}") for v in values]
        check(self._invoke(lib.btfm_table_add_column, to_cstr(name, "column name"), None))
        c = len(self.columns) - 1
        for r, text in enumerate(texts):
            check(self._invoke(lib.btfm_table_set_cell, r, c, text))

    def __setitem__(self, key, value) -> None:
        """t[row, column] = value sets one cell (None or NaN store n/a)."""
        if not isinstance(key, tuple):
            raise TypeError("assign cells as t[row, column] = value; add columns with add_column")
        row, column = key
        c = self._column(column)
        check(self._invoke(lib.btfm_table_set_cell, row, c, _cell_text(value, "cell")))

    def save(self, path) -> None:
        """Write the table as TSV (LF line ends, no BOM), atomically."""
        check(self._invoke(lib.btfm_table_save, to_cpath(path)))

    def __repr__(self) -> str:
        if self.closed:
            return "<btfm.Table (closed)>"
        return f"<btfm.Table {len(self)} rows x {len(self.columns)} columns: {self.columns}>"
