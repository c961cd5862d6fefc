"""What `import btfm` and `from btfm import *` put in a user's namespace, and what the
build says it contains: every layer of the source tree (lib/meson.build's layer list) is
a capability."""

import builtins
import importlib
import pkgutil
import re
import sys

import btfm
from conftest import SOURCE_ROOT


def public_modules():
    names = ["btfm"] + ["btfm." + m.name for m in pkgutil.iter_modules(btfm.__path__)
                        if not m.name.startswith("_")]
    return [importlib.import_module(name) for name in names]


def test_star_import_never_replaces_builtins_or_standard_modules():
    for module in public_modules():
        clashes = [name for name in module.__all__
                   if name in dir(builtins) or name in sys.stdlib_module_names]
        assert clashes == [], f"from {module.__name__} import * would replace {clashes}"


def test_star_import_keeps_open_and_signal_as_python_defines_them():
    import signal as standard_signal
    namespace = {"open": builtins.open, "signal": standard_signal}
    exec("from btfm import *", namespace)
    assert namespace["open"] is builtins.open
    assert namespace["signal"] is standard_signal
    assert namespace["Dataset"] is btfm.Dataset and namespace["bids"] is btfm.bids
    # the module attributes are still there for qualified use
    assert callable(btfm.open) and btfm.signal.__name__ == "btfm.signal"


def test_every_name_in_all_exists():
    for module in public_modules():
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.__all__ lists missing {name}"


def layers():
    """The first column of the layer table (one line a layer: ['name', [may use], ...)."""
    text = (SOURCE_ROOT / "lib" / "meson.build").read_text()
    return re.findall(r"^\s*\['(\w+)',", text, re.M)


def test_every_layer_is_a_capability():
    found = layers()
    assert {"core", "io", "bids", "signal", "spectrum", "fmri", "align"} <= set(found)
    missing = [layer for layer in found if not btfm.has_capability(layer)]
    assert missing == [], f"layers without a capability: {missing} ({btfm.capabilities()})"
