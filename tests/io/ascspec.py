"""An independent reading of EyeLink ASCII exports (.asc), written from SR Research's
description of the format (EyeLink 1000 Plus User Manual, "ASC file format": sample
lines, START/END blocks, the SAMPLES/EVENTS lines that announce the columns, SFIX/EFIX,
SSACC/ESACC, SBLINK/EBLINK, MSG, INPUT and BUTTON lines) and the conventions of MNE's
read_raw_eyelink (MNE 1.4 and later) for what the result is called: channel names and
types, event descriptions, time zero at the first START, rows missing between recording
blocks as NaN under a BAD_ACQ_SKIP annotation. It shares nothing with libbtfm's parser,
so the two reading the same file and agreeing is a check of both."""

import math


class Recording:
    def __init__(self):
        self.sfreq = None
        self.ch_names, self.ch_types, self.units = [], [], []
        self.rows = {}          # row index -> list of values
        self.events = []        # (type, label, onset s, duration s, code)

    def data(self):
        n = max(self.rows) + 1
        out = [[math.nan] * len(self.ch_names) for _ in range(n)]
        for r, values in self.rows.items():
            out[r] = values
        return out


def _number(token):
    return math.nan if token == "." else float(token)


def read_asc(path):
    rec = Recording()
    t0 = None              # the first START's time, ms
    layout = None          # (eyes, vel, res, inp, kind)
    block_row = None       # the row of the current block's first sample
    block_first = None     # its time
    count_at_time = {}     # samples seen per ms time in the block (2000 Hz: two)
    blocks = []            # (first row, rows) per block
    with open(path, encoding="ascii", errors="replace") as f:
        lines = f.read().splitlines()
    for line in lines:
        tokens = line.split()
        if not tokens or line.startswith(("**", "#", ";", "//")):
            continue
        head = tokens[0]
        if head == "START":
            if t0 is None:
                t0 = int(tokens[1])
            block_row = None
            count_at_time = {}
        elif head == "SAMPLES":
            eyes = [t for t in tokens if t in ("LEFT", "RIGHT")]
            rate = float(tokens[tokens.index("RATE") + 1])
            layout = (eyes, "VEL" in tokens, "RES" in tokens, "INPUT" in tokens, tokens[1])
            if rec.sfreq is None:
                rec.sfreq = rate
                _name_channels(rec, layout)
        elif head[0].isdigit():
            t = int(float(head))
            eyes, vel, res, inp, _ = layout
            n_values = 3 * len(eyes) + (2 * len(eyes) if vel else 0) + (2 if res else 0) + \
                (1 if inp else 0)
            values = [_number(v) for v in tokens[1:1 + n_values]]
            if t0 is None:
                t0 = t
            if block_row is None:
                block_first = t
                block_row = round((t - t0) * rec.sfreq / 1000.0)
                blocks.append([block_row, 0])
            # consecutive rows: the k-th sample of the block is row block_row + k
            row = block_row + blocks[-1][1]
            blocks[-1][1] += 1
            rec.rows[row] = values
        elif head in ("EFIX", "ESACC", "EBLINK"):
            eye, start, end = tokens[1], int(tokens[2]), int(tokens[3])
            kind = {"EFIX": ("fixation", "fixation"), "ESACC": ("saccade", "saccade"),
                    "EBLINK": ("blink", "BAD_blink")}[head]
            rec.events.append((kind[0], kind[1], (start - t0) / 1000.0, (end - start) / 1000.0,
                               1 if eye == "L" else 2))
        elif head == "MSG":
            if t0 is None:
                continue  # calibration messages before the recording
            t = int(tokens[1])
            text = line.split(None, 2)[2].strip() if len(tokens) > 2 else ""
            last = text.split()[-1] if text.split() else ""
            code = int(last) if last.lstrip("-").isdigit() else 0
            rec.events.append(("message", text, (t - t0) / 1000.0, 0.0, code))
        # SFIX/SSACC/SBLINK (starts, repeated by the end lines), END, INPUT, BUTTON,
        # PRESCALER, VPRESCALER, PUPIL, EVENTS: nothing to read for samples and events
    for (row_a, n_a), (row_b, _) in zip(blocks, blocks[1:]):
        if row_b > row_a + n_a:
            rec.events.append(("gap", "BAD_ACQ_SKIP", (row_a + n_a) / rec.sfreq,
                               (row_b - row_a - n_a) / rec.sfreq, 0))
    return rec


def _name_channels(rec, layout):
    eyes, vel, res, inp, kind = layout
    unit = "px" if kind == "GAZE" else ""
    for eye in eyes:
        side = eye.lower()
        rec.ch_names += ["xpos_" + side, "ypos_" + side, "pupil_" + side]
        rec.ch_types += ["gaze", "gaze", "pupil"]
        rec.units += [unit, unit, ""]
    if vel:
        for eye in eyes:
            rec.ch_names += ["xvel_" + eye.lower(), "yvel_" + eye.lower()]
            rec.ch_types += ["misc", "misc"]
    if res:
        rec.ch_names += ["xres", "yres"]
        rec.ch_types += ["misc", "misc"]
    if inp:
        rec.ch_names.append("DIN")
        rec.ch_types.append("stim")
