#!/usr/bin/env python3
"""Quick start: which libbtfm is loaded, its container parameters, and a container
saved to a file and read back.

Run from a build tree with:
    BTFM_LIBRARY=build/lib/libbtfm.so.1 PYTHONPATH=bindings/python \
        python3 examples/python/quickstart.py
"""

import os
import tempfile

import numpy as np

import btfm

print(f"libbtfm {btfm.version()} (package {btfm.__version__})")
print(f"capabilities: {' '.join(btfm.capabilities())}")

print("container parameters:")
for param in btfm.param_info("container"):
    bounds = "" if param.type == "bool" else f", range {param.min}..{param.max}"
    print(f"  {param.name} ({param.type}, default {param.default}{bounds}): "
          f"{param.description}")

weights = np.arange(6, dtype=np.float32).reshape(2, 3) / 4
labels = np.array([3, 1, 4, 1], dtype=np.int64)

with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "model.btfm")
    with btfm.Container("quickstart") as model:
        model.put("weights", weights)
        model.put("labels", labels)
        model.put_text("note", "fitted on subject 01")
        model.params["fsync"] = False  # a scratch file: skip the flush to disk
        model.save(path)

    with btfm.Container.load(path, kind="quickstart") as loaded:
        print(f"loaded {loaded.kind!r} with arrays {loaded.keys()}")
        for name in loaded:
            info = loaded.info(name)
            print(f"  {name}: {info.dtype} shape {info.shape}")
        same = (np.array_equal(loaded["weights"], weights)
                and np.array_equal(loaded["labels"], labels)
                and loaded["weights"].dtype == weights.dtype)
        print(f"round trip identical: {same}")
        print(f"note: {loaded['note']}")

    try:
        btfm.Container.load(path, kind="aligner")
    except btfm.Error as err:
        print(f"loading it as an aligner fails: {err.status_name}")
