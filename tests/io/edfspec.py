"""A small EDF/EDF+/BDF/BDF+ writer written from the specifications (edfplus.info and
BioSemi's BDF+ notes), independent of libbtfm. The tests use it for what EDFlib cannot
write (EDF+D, malformed files) and for fixtures whose every byte the test controls.

Signals are dicts: label, digital (integer numpy array, n_records * spr values), spr
(samples per record), dim, pmin, pmax, dmin, dmax, optional transducer and prefilter.
"""

import numpy as np

HEADER = 256   # bytes of the fixed header
PER_SIGNAL = 256  # bytes of header per signal
# (name, width) of the per-signal header arrays, in file order.
SIGNAL_FIELDS = [("label", 16), ("transducer", 80), ("dim", 8), ("pmin", 8), ("pmax", 8),
                 ("dmin", 8), ("dmax", 8), ("prefilter", 80), ("spr", 8), ("reserved", 32)]
# Byte offsets of the fixed header's fields.
FIXED_FIELDS = {"version": (0, 8), "patient": (8, 80), "recording": (88, 80),
                "startdate": (168, 8), "starttime": (176, 8), "header_bytes": (184, 8),
                "reserved": (192, 44), "n_records": (236, 8), "duration": (244, 8),
                "n_signals": (252, 4)}


def number(x, width=8):
    """A header number in at most `width` characters (integers as integers)."""
    if float(x) == int(x):
        text = str(int(x))
    else:
        text = repr(float(x))
        if len(text) > width:
            text = ("%.*f" % (width, float(x)))[:width].rstrip("0")
    if len(text) > width:
        raise ValueError(f"{x} does not fit {width} characters")
    return text


def field(text, width):
    data = text.encode("latin-1") if isinstance(text, str) else text
    if len(data) > width:
        raise ValueError(f"{text!r} is longer than {width} bytes")
    return data + b" " * (width - len(data))


def signal_offset(name, index, n_signals):
    """Byte offset of per-signal field `name` of signal `index` (0-based)."""
    offset = HEADER
    for fname, width in SIGNAL_FIELDS:
        if fname == name:
            return offset + index * width
        offset += n_signals * width
    raise KeyError(name)


def tal(onset, duration=None, texts=("",)):
    """One time-stamped annotation list, UTF-8 bytes."""
    head = ("%+.7f" % onset).rstrip("0").rstrip(".") if onset != int(onset) else "%+d" % onset
    if duration is not None:
        head += "\x15" + (repr(float(duration)).rstrip("0").rstrip(".")
                          if duration != int(duration) else str(int(duration)))
    return (head + "\x14" + "\x14".join(texts) + "\x14").encode("utf-8") + b"\x00"


def write(path, signals, n_records, duration=1.0, bdf=False, plus="C", annotations=(),
          record_onsets=None, patient="X X X X", recording="Startdate X X X X",
          startdate="01.02.03", starttime="04.05.06", annotation_spr=None, truncate=None):
    """Write a file; returns its bytes. `plus` is "C", "D" or None (plain EDF/BDF);
    `annotations` (onset, duration or None, text) go into the record holding the onset;
    `record_onsets` (EDF+D) gives each record's onset; `truncate` cuts the file."""
    width = 3 if bdf else 2
    signals = list(signals)
    ann_label = "BDF Annotations" if bdf else "EDF Annotations"
    tals = None
    if plus:
        onsets = record_onsets if record_onsets is not None else \
            [r * duration for r in range(n_records)]
        tals = [[tal(onsets[r])] for r in range(n_records)]
        for onset, dur, text in annotations:
            r = max(i for i in range(n_records) if onsets[i] <= onset + 1e-12) \
                if onset >= onsets[0] else 0
            tals[r].append(tal(onset, dur, (text,)))
        longest = max(len(b"".join(t)) for t in tals)
        spr = annotation_spr or -(-longest // width) + 1
        dmax = 8388607 if bdf else 32767
        signals.append({"label": ann_label, "spr": spr, "dim": "", "pmin": -1, "pmax": 1,
                        "dmin": -dmax - 1, "dmax": dmax, "annotation": True})
    ns = len(signals)
    if bdf:
        version = b"\xffBIOSEMI"
        reserved = {"C": "BDF+C", "D": "BDF+D", None: "24BIT"}[plus]
    else:
        version = b"0"
        reserved = {"C": "EDF+C", "D": "EDF+D", None: ""}[plus]
    head = field(version, 8) + field(patient, 80) + field(recording, 80) + \
        field(startdate, 8) + field(starttime, 8) + field(number(HEADER * (ns + 1)), 8) + \
        field(reserved, 44) + field(number(n_records), 8) + field(number(duration), 8) + \
        field(number(ns), 4)
    for name, fw in SIGNAL_FIELDS:
        for s in signals:
            value = s.get(name, "")
            if name in ("pmin", "pmax", "dmin", "dmax", "spr"):
                value = number(value)
            head += field(value, fw)
    assert len(head) == HEADER * (ns + 1)
    body = bytearray()
    for r in range(n_records):
        for s in signals:
            if s.get("annotation"):
                raw = b"".join(tals[r])
                body += raw + b"\x00" * (s["spr"] * width - len(raw))
                continue
            chunk = np.asarray(s["digital"][r * s["spr"]:(r + 1) * s["spr"]], dtype=np.int64)
            if bdf:
                u = (chunk & 0xFFFFFF).astype("<u4").view(np.uint8).reshape(-1, 4)[:, :3]
                body += u.tobytes()
            else:
                body += chunk.astype("<i2").tobytes()
    data = bytes(head) + bytes(body)
    if truncate is not None:
        data = data[:truncate]
    with open(path, "wb") as f:
        f.write(data)
    return data


def physical(s):
    """Physical values (stored units) of a signal by the specification's formula."""
    d = np.asarray(s["digital"], dtype=np.float64)
    return (d - s["dmin"]) * (s["pmax"] - s["pmin"]) / (s["dmax"] - s["dmin"]) + s["pmin"]


def patch(path, offset, text):
    """Overwrite header bytes at `offset` (a field's width of text already padded)."""
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(text.encode("latin-1") if isinstance(text, str) else text)
