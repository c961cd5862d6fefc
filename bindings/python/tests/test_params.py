"""Parameter introspection and the set/get/params mixin, against the headers' text."""

import math
import re

import pytest

import btfm
from conftest import c_enum, header_text


def container_params_from_header():
    """[(name, type, default)] from the comments of enum btfm_container_param, e.g.
    `BTFM_CONTAINER_PARAM_FSYNC = 0, /* bool, default 1: ... */`."""
    text = header_text("container.h")
    body = re.search(r"typedef\s+enum\s+btfm_container_param\s*\{(.*?)\}", text, re.S).group(1)
    found = re.findall(r"BTFM_CONTAINER_PARAM_(\w+)\s*=\s*(\d+)\s*,\s*/\*\s*(\w+),\s*"
                       r"default\s+([-\d.]+)", body)
    return [(name.lower(), kind, float(default))
            for name, _, kind, default in sorted(found, key=lambda f: int(f[1]))]


def test_object_kinds_equal_the_enum_in_param_h():
    expected = [name[len("BTFM_OBJECT_"):].lower() for name, value in
                sorted(c_enum(header_text("param.h"), "btfm_object_kind").items(),
                       key=lambda item: item[1])]
    assert btfm.object_kinds() == expected


def test_container_param_table_matches_the_header_comments():
    expected = container_params_from_header()
    assert expected, "the header documents at least fsync"
    infos = btfm.param_info("container")
    assert [(p.name, p.type, float(p.default)) for p in infos] == expected


def test_param_info_fields_are_typed_and_described():
    (fsync,) = [p for p in btfm.param_info("container") if p.name == "fsync"]
    assert fsync.type == "bool"
    assert fsync.default is True and fsync.min is False and fsync.max is True
    assert isinstance(fsync.description, str) and len(fsync.description) > 10
    assert fsync._fields == ("name", "type", "default", "min", "max", "description")


def test_param_info_rejects_unknown_kinds():
    with pytest.raises(ValueError, match="container"):
        btfm.param_info("no-such-kind")
    with pytest.raises(TypeError):
        btfm.param_info(None)


def test_set_then_get_round_trip():
    with btfm.Container("p") as c:
        assert c.get_param("fsync") is True
        c.set_param("fsync", 0)
        assert c.get_param("fsync") is False
        c.set_param("fsync", True)
        assert c.get_param("fsync") is True


def test_out_of_range_value_names_parameter_value_and_bounds():
    with btfm.Container("p") as c:
        with pytest.raises(btfm.Error) as caught:
            c.set_param("fsync", 2)
        err = caught.value
        assert err.status_name == "BTFM_E_RANGE"
        assert "fsync" in err.message
        assert "2" in err.message
        assert re.search(r"\[\s*0\s*,\s*1\s*\]", err.message), err.message
        assert c.get_param("fsync") is True  # a refused value changes nothing


@pytest.mark.parametrize("value", [0.5, math.nan, math.inf, -1])
def test_values_a_bool_cannot_take_are_refused(value):
    with btfm.Container("p") as c:
        with pytest.raises(btfm.Error) as caught:
            c.set_param("fsync", value)
        assert caught.value.status_name == "BTFM_E_RANGE"
        assert "fsync" in caught.value.message


def test_unknown_name_lists_the_known_ones():
    with btfm.Container("p") as c:
        with pytest.raises(btfm.Error) as caught:
            c.set_param("fsink", 0)
        assert caught.value.status_name == "BTFM_E_NOTFOUND"
        assert "fsink" in caught.value.message and "fsync" in caught.value.message
        with pytest.raises(KeyError):
            c.params["fsink"]


def test_bad_argument_types_raise_type_error():
    with btfm.Container("p") as c:
        with pytest.raises(TypeError):
            c.set_param(None, 0)
        with pytest.raises(TypeError):
            c.get_param(None)
        with pytest.raises(TypeError):
            c.set_param("fsync", "0")
        with pytest.raises(TypeError):
            c.set_param("fsync", None)


def test_params_view_is_a_live_mapping():
    with btfm.Container("p") as c:
        view = c.params
        assert list(view) == [p.name for p in btfm.param_info("container")]
        assert len(view) == len(btfm.param_info("container"))
        assert dict(view) == {p.name: p.default for p in btfm.param_info("container")}
        assert "fsync" in view and "nope" not in view and None not in view
        view["fsync"] = False
        assert c.get_param("fsync") is False and view["fsync"] is False
        assert "'fsync': False" in repr(view)


def test_params_of_a_closed_handle_raise():
    c = btfm.Container("p")
    c.close()
    with pytest.raises(ValueError, match="closed"):
        c.set_param("fsync", 0)
    with pytest.raises(ValueError, match="closed"):
        c.params["fsync"]


def test_mixin_is_generic():
    # A handle class only names its kind and C functions; the mixin does the rest.
    assert issubclass(btfm.Container, btfm.ParamsMixin)
    assert btfm.Container._param_kind in btfm.object_kinds()
