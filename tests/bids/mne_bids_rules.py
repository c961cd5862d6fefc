"""The reading rules of MNE-BIDS, written here from its documentation as an independent
reference (mne_bids is not installed): events.tsv rows with an n/a onset are dropped;
descriptions come from the trial_type column, else from value, rows whose description
column says n/a being dropped, else every description is "n/a"; an n/a duration is 0.
channels.tsv: `status` bad marks bad channels; sidecar inheritance merges the JSON files
that apply from the root down, nearer files overriding members of farther ones."""

import csv
import json
import os


def read_tsv(path):
    """{column: [cells]} with csv (tab-separated, no quoting), as MNE-BIDS' _from_tsv."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    header, body = rows[0], [r for r in rows[1:] if r]
    return {name: [r[i] for r in body] for i, name in enumerate(header)}


def events(path):
    """[(onset, duration, description, row)] in file order, row = the kept row's index."""
    table = read_tsv(path)
    n = len(table["onset"])
    rows = list(range(n))
    for column in ("trial_type", "value"):
        if column in table:
            rows = [r for r in rows if table[column][r] != "n/a"]
            descriptions = {r: table[column][r] for r in rows}
            break
    else:
        descriptions = {r: "n/a" for r in rows}
    out = []
    for r in rows:
        if table["onset"][r] == "n/a":
            continue
        duration = 0.0 if table["duration"][r] == "n/a" else float(table["duration"][r])
        out.append((float(table["onset"][r]), duration, descriptions[r], r))
    return out


def bads(path):
    table = read_tsv(path)
    return [name for name, status in zip(table["name"], table.get("status", []))
            if status.lower() == "bad"]


def entities(filename):
    """{key: label} of a BIDS file name."""
    parts = filename.split("_")[:-1]
    return dict(part.split("-", 1) for part in parts)


def applies(sidecar_name, data_name, suffix, extension):
    if not sidecar_name.endswith("_" + suffix + extension) and sidecar_name != suffix + extension:
        return False
    mine, theirs = entities(sidecar_name), entities(data_name)
    return all(theirs.get(k) == v for k, v in mine.items())


def merged_sidecar(root, data_path, suffix):
    """The inheritance principle for JSON: every applying <suffix>.json from the root
    down to the data file's folder, merged shallowly."""
    rel = os.path.relpath(os.path.dirname(data_path), root)
    folders = [root]
    for part in rel.split(os.sep):
        if part != ".":
            folders.append(os.path.join(folders[-1], part))
    name = os.path.basename(data_path)
    merged = {}
    for folder in folders:
        for entry in sorted(os.listdir(folder)):
            if applies(entry, name, suffix, ".json"):
                with open(os.path.join(folder, entry), encoding="utf-8-sig") as f:
                    merged.update(json.load(f))
    return merged
