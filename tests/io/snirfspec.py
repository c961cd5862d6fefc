"""A SNIRF writer from the specification (fNIRS/snirf, snirf_specification.md v1.0) on
h5py, independent of libbtfm: /formatVersion, /nirs/metaDataTags, /nirs/data1 with
dataTimeSeries, time and measurementList{k}, /nirs/probe, /nirs/stim{k}, /nirs/aux{k}.
Used by the interop tests (read by libbtfm and by MNE) and the binding tests."""

import h5py
import numpy as np


def _string(group, name, value, fixed=False):
    if fixed:
        group.create_dataset(name, data=np.bytes_(value.encode("utf-8")))
    else:
        group.create_dataset(name, data=value, dtype=h5py.string_dtype("utf-8"))


def measurement(source, detector, wavelength_index=None, data_type=1, label=None, unit=None):
    """One measurement list entry."""
    return {"source": source, "detector": detector, "wavelength_index": wavelength_index,
            "data_type": data_type, "label": label, "unit": unit}


def cw_layout(n_sources, n_detectors, pairs, n_wavelengths=2):
    """Measurements of continuous-wave amplitude for (source, detector) `pairs`, one per
    wavelength, in MNE's order (each pair's wavelengths together)."""
    return [measurement(s, d, w + 1) for s, d in pairs for w in range(n_wavelengths)]


def write(path, data, time, measurements, wavelengths, source_pos=None, detector_pos=None,
          stims=(), aux=(), length_unit="mm", time_unit="s", subject="P01",
          date="2024-03-05", clock="14:33:22Z", fixed_strings=False, tags=True,
          transpose_series=False, pos2d=False, extra_tags=None, lists_as_arrays=False):
    """Write a SNIRF file. data: (n_times, n_channels); time: n_times values or
    [start, interval]; positions in `length_unit`; stims: [(name, rows of [onset,
    duration, value])]; aux: [(name, values, time, unit or None)]."""
    data = np.asarray(data, dtype=np.float64)
    with h5py.File(path, "w") as f:
        _string(f, "formatVersion", "1.0", fixed_strings)
        nirs = f.create_group("nirs")
        if tags:
            meta = nirs.create_group("metaDataTags")
            values = {"SubjectID": subject, "MeasurementDate": date, "MeasurementTime": clock,
                      "LengthUnit": length_unit, "TimeUnit": time_unit, "FrequencyUnit": "Hz"}
            values.update(extra_tags or {})
            for key, value in values.items():
                if value is not None:
                    _string(meta, key, value, fixed_strings)
        d1 = nirs.create_group("data1")
        d1.create_dataset("dataTimeSeries", data=data.T if transpose_series else data)
        d1.create_dataset("time", data=np.asarray(time, dtype=np.float64))
        if lists_as_arrays:
            lists = d1.create_group("measurementLists")
            for key, field in (("sourceIndex", "source"), ("detectorIndex", "detector"),
                               ("wavelengthIndex", "wavelength_index"),
                               ("dataType", "data_type")):
                lists.create_dataset(key, data=np.array([m[field] for m in measurements],
                                                        dtype=np.int32))
        else:
            for k, m in enumerate(measurements, 1):
                g = d1.create_group(f"measurementList{k}")
                g.create_dataset("sourceIndex", data=np.int32(m["source"]))
                g.create_dataset("detectorIndex", data=np.int32(m["detector"]))
                if m["wavelength_index"] is not None:
                    g.create_dataset("wavelengthIndex", data=np.int32(m["wavelength_index"]))
                g.create_dataset("dataType", data=np.int32(m["data_type"]))
                g.create_dataset("dataTypeIndex", data=np.int32(1))
                if m["label"] is not None:
                    _string(g, "dataTypeLabel", m["label"], fixed_strings)
                if m["unit"] is not None:
                    _string(g, "dataUnit", m["unit"], fixed_strings)
        probe = nirs.create_group("probe")
        probe.create_dataset("wavelengths", data=np.asarray(wavelengths, dtype=np.float64))
        dim = "2D" if pos2d else "3D"
        if source_pos is not None:
            probe.create_dataset(f"sourcePos{dim}", data=np.asarray(source_pos, dtype=np.float64))
        if detector_pos is not None:
            probe.create_dataset(f"detectorPos{dim}",
                                 data=np.asarray(detector_pos, dtype=np.float64))
        for k, (name, rows) in enumerate(stims, 1):
            g = nirs.create_group(f"stim{k}")
            _string(g, "name", name, fixed_strings)
            g.create_dataset("data", data=np.asarray(rows, dtype=np.float64))
        for k, (name, values, aux_time, unit) in enumerate(aux, 1):
            g = nirs.create_group(f"aux{k}")
            _string(g, "name", name, fixed_strings)
            g.create_dataset("dataTimeSeries", data=np.asarray(values, dtype=np.float64))
            g.create_dataset("time", data=np.asarray(aux_time, dtype=np.float64))
            if unit is not None:
                _string(g, "dataUnit", unit, fixed_strings)


def probe_positions(n_sources, n_detectors, spacing=30.0, seed=0):
    """Source and detector positions (mm) on a curved patch, ~spacing apart."""
    rng = np.random.default_rng(seed)
    src = np.c_[np.arange(n_sources) * spacing, np.zeros(n_sources), 80 + rng.normal(0, 1, n_sources)]
    det = np.c_[np.arange(n_detectors) * spacing + spacing / 2, np.full(n_detectors, spacing / 2),
                80 + rng.normal(0, 1, n_detectors)]
    return src, det
