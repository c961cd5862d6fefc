"""Parameter introspection and the mixin that gives every handle class its parameters.

Names, types, defaults and bounds come from the library's tables at run time
(btfm_object_n_params / btfm_param_info / btfm_param_description), so a parameter added to
the library appears here without a change to this package.
"""

from __future__ import annotations

import collections
import collections.abc
import ctypes
import numbers

from ._errors import check
from ._lib import lib
from ._util import from_cstr, to_cstr

__all__ = ["ParamInfo", "param_info", "object_kinds", "ParamsMixin", "ParamsView"]

ParamInfo = collections.namedtuple("ParamInfo",
                                   ["name", "type", "default", "min", "max", "description"])
ParamInfo.__doc__ = """One tunable of an object kind.

name: lower_snake_case name; type: "real", "int" or "bool"; default, min, max: values
converted to the parameter's Python type (float, int, bool); description: one sentence.
"""

_CONVERTERS = {"real": float, "int": int, "bool": bool}

#: {"container": 1, ...}: object kinds that have parameters, from btfm_object_kind_name.
#: Kind numbers are reserved per layer and a build may lack a layer, so every number up
#: to 255 is asked rather than stopping at the first gap.
_KIND_NUMBERS = {name.decode("utf-8"): number for number in range(1, 256)
                 if (name := lib.btfm_object_kind_name(number)) is not None}
_table_cache: dict = {}


def object_kinds() -> list:
    """Names of the object kinds that have parameters, e.g. ["container"]."""
    return list(_KIND_NUMBERS)


def _kind_number(kind) -> int:
    if isinstance(kind, str):
        try:
            return _KIND_NUMBERS[kind]
        except KeyError:
            raise ValueError(f"unknown object kind {kind!r}; known kinds: "
                             f"{', '.join(_KIND_NUMBERS)}") from None
    raise TypeError(f"object kind must be a str such as 'container', not "
                    f"{type(kind).__name__}")


def _read_table(kind_number: int) -> list:
    count = check(lib.btfm_object_n_params(kind_number))
    table = []
    for index in range(count):
        name = ctypes.c_char_p()
        type_code = ctypes.c_int()
        default, low, high = ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
        check(lib.btfm_param_info(kind_number, index, ctypes.byref(name),
                                  ctypes.byref(type_code), ctypes.byref(default),
                                  ctypes.byref(low), ctypes.byref(high)))
        type_name = from_cstr(lib.btfm_param_type_name(type_code.value)) or f"type {type_code.value}"
        convert = _CONVERTERS.get(type_name, float)
        table.append(ParamInfo(from_cstr(name.value), type_name, convert(default.value),
                               convert(low.value), convert(high.value),
                               from_cstr(lib.btfm_param_description(kind_number, index))))
    return table


def _table(kind_number: int) -> list:
    table = _table_cache.get(kind_number)
    if table is None:
        table = _table_cache[kind_number] = _read_table(kind_number)
    return table


def param_info(kind: str) -> list:
    """The parameters of an object kind ("container", ...), as ParamInfo tuples in the
    library's order."""
    return list(_table(_kind_number(kind)))


def _find(kind_number: int, name) -> int:
    index = ctypes.c_int()
    check(lib.btfm_param_find(kind_number, to_cstr(name, "parameter name"),
                              ctypes.byref(index)))
    return index.value


class ParamsMixin:
    """Adds set_param(), get_param() and a `params` view to a handle class.

    A class using it sets three class attributes and provides `_invoke(func, *args)`,
    which calls `func(c_handle, *args)` on the open handle (see _handle.Handle):

        _param_kind = "container"                    # btfm_object_kind_name()
        _set_param_func = "btfm_container_set_param" # (handle, int, double) -> status
        _get_param_func = "btfm_container_get_param" # (handle, int, double *) -> status
    """

    _param_kind: str = ""
    _set_param_func: str = ""
    _get_param_func: str = ""

    def set_param(self, name: str, value) -> None:
        """Set parameter `name` (see param_info(kind)). The library checks type and
        bounds: a value outside them raises btfm.Error (BTFM_E_RANGE)."""
        if isinstance(value, (str, bytes)) or not isinstance(value, numbers.Real):
            raise TypeError(f"parameter {name!r} takes a number, not "
                            f"{type(value).__name__}")
        kind = _KIND_NUMBERS[self._param_kind]
        index = _find(kind, name)
        check(self._invoke(getattr(lib, self._set_param_func), index, float(value)))

    def get_param(self, name: str):
        """Current value of parameter `name`, as float, int or bool by its type."""
        kind = _KIND_NUMBERS[self._param_kind]
        index = _find(kind, name)
        value = ctypes.c_double()
        check(self._invoke(getattr(lib, self._get_param_func), index, ctypes.byref(value)))
        info = _table(kind)[index]
        return _CONVERTERS.get(info.type, float)(value.value)

    @property
    def params(self) -> "ParamsView":
        """Live dict-like view of the parameters: obj.params["fsync"] = False."""
        return ParamsView(self)


class ParamsView(collections.abc.Mapping):
    """Name -> current value of a handle's parameters; assignment sets one."""

    def __init__(self, owner: ParamsMixin):
        self._owner = owner

    def _names(self):
        return [info.name for info in _table(_KIND_NUMBERS[self._owner._param_kind])]

    def __getitem__(self, name):
        return self._owner.get_param(name)

    def __setitem__(self, name, value):
        self._owner.set_param(name, value)

    def __iter__(self):
        return iter(self._names())

    def __len__(self):
        return len(self._names())

    def __contains__(self, name):
        return isinstance(name, str) and name in self._names()

    def __repr__(self):
        return f"{{{', '.join(f'{name!r}: {self[name]!r}' for name in self)}}}"
