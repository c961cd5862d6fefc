"""Figures through matplotlib, when it is installed: the ones the btfm command draws as SVG
without it. recording() is `btfm info --plot`, psd() is `btfm psd --plot`, alignment() is
`btfm align fit --plot`. Each draws into the axes given, or a new figure, and returns them."""

import math

from .align import Aligner, segment_matching
from ._params import param_info

__all__ = ["alignment", "held_out_scores", "psd", "recording"]

SECONDS, MAX_CHANNELS, WINDOW = 10.0, 32, 10


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError("btfm.plot draws with matplotlib, which is not installed (Debian: "
                          "apt-get install python3-matplotlib); the btfm command draws the "
                          "same figures as SVG without it") from e
    return plt


def _numpy():
    import numpy  # matplotlib needs it too

    return numpy


def recording(dataset, seconds: float = SECONDS, max_channels: int = MAX_CHANNELS, ax=None):
    """The first `seconds` of up to `max_channels` channels of a btfm.Dataset as stacked
    traces, channel 0 on top, each scaled to its own range over those seconds (so that EEG
    in volts and a trigger channel read alike: trace c spans offset +- 0.4 around offset
    n_shown - 1 - c), with the events there as vertical lines."""
    np = _numpy()
    if ax is None:
        ax = _pyplot().subplots(figsize=(10, 1 + 0.3 * min(dataset.n_channels, max_channels)))[1]
    sfreq = dataset.sfreq
    n = min(int(math.ceil(seconds * sfreq)), dataset.n_times)
    shown = min(dataset.n_channels, int(max_channels))
    x = dataset.read(0, n, picks=list(range(shown))).astype(np.float64)
    t = np.arange(n) / sfreq
    names = dataset.ch_names[:shown]
    offsets = shown - 1 - np.arange(shown)
    for c in range(shown):
        lo, hi = (x[:, c].min(), x[:, c].max()) if n else (0.0, 0.0)
        mid, half = 0.5 * (lo + hi), (0.5 * (hi - lo) if hi > lo else 1.0)
        ax.plot(t, offsets[c] + 0.4 * (x[:, c] - mid) / half, lw=0.7, label=names[c])
    ax.set_yticks(offsets)
    ax.set_yticklabels(names)
    ax.set_ylim(-0.75, shown - 0.25)
    ax.set_xlim(0, (n - 1) / sfreq if n > 1 else 1.0)
    ax.set_xlabel("time (s)")
    ax.set_title(f"the first {n / sfreq:.3g} s of {shown} of {dataset.n_channels} channels, "
                 "each scaled to its range")
    for event in dataset.events:
        if 0 <= event.onset < n / sfreq:
            ax.axvline(event.onset, color="0.4", lw=0.8, ls="--", label=event.label)
            ax.annotate(event.label, (event.onset, 1), xycoords=("data", "axes fraction"),
                        rotation=90, va="top", ha="right", fontsize="small")
    return ax


def psd(freqs, power, ch_names=None, unit: str = "V", ax=None):
    """Spectra as from btfm.spectrum.welch or psd_multitaper: log power over frequency,
    one line a channel. power: frequencies x channels (the library's layout), 1-D for one
    signal, or epochs x frequencies x channels, drawn as the mean over epochs."""
    np = _numpy()
    f = np.asarray(freqs, dtype=np.float64)
    p = np.asarray(power, dtype=np.float64)
    if p.ndim == 1:
        p = p[:, None]
    elif p.ndim == 3:
        p = p.mean(axis=0)
    if p.ndim != 2 or p.shape[0] != f.shape[0]:
        raise ValueError(f"power must have the {f.shape[0]} frequencies along its first axis "
                         f"(or second, after epochs), got shape {np.shape(power)}")
    names = list(ch_names) if ch_names is not None else [str(c) for c in range(p.shape[1])]
    if len(names) != p.shape[1]:
        raise ValueError(f"{len(names)} channel names for {p.shape[1]} channels")
    if ax is None:
        ax = _pyplot().subplots(figsize=(9, 5))[1]
    for c, name in enumerate(names):
        ax.semilogy(f, p[:, c], lw=0.9, label=name)
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel(f"power spectral density ({unit}^2/Hz)")
    if len(names) <= 20:
        ax.legend(fontsize="small")
    return ax


def held_out_scores(aligner, subjects, window: int = WINDOW):
    """What alignment() draws beside the convergence: a second fit with `aligner`'s method
    and parameters on the first four fifths of each subject's time points, then the
    time-segment matching accuracy of every subject on the last fifth in the common space
    (windows of `window`, fewer for short inputs), and the same matching on the raw
    features when the subjects share them (else None): (aligned, anatomical)."""
    np = _numpy()
    data = [np.ascontiguousarray(x, dtype=np.float32) for x in subjects]
    rows = data[0].shape[0]
    split = rows - rows // 5
    test = rows - split
    window = window if test >= 2 * window else test // 2
    if window < 1 or split < 2:
        raise ValueError(f"{rows} time points leave too few to hold out")
    part = Aligner(aligner.method)
    for info in param_info("aligner"):
        part.set_param(info.name, aligner.get_param(info.name))
    with part:
        part.fit([x[:split] for x in data])
        aligned = segment_matching([part.transform(x[split:], i) for i, x in enumerate(data)],
                                   window)
    same = all(x.shape[1] == data[0].shape[1] for x in data)
    anatomical = segment_matching([x[split:] for x in data], window) if same else None
    return aligned, anatomical


def alignment(aligner, subjects=None, axes=None):
    """A fitted btfm.Aligner's objective after each iteration (Aligner.fit_history;
    hyperalignment does not iterate) and, given the training `subjects`, held_out_scores()
    beside it: one subject a point, aligned and anatomical. Returns the axes."""
    np = _numpy()
    if axes is None:
        axes = _pyplot().subplots(1, 2 if subjects is not None else 1, figsize=(10, 4))[1]
    axes = list(np.atleast_1d(axes))
    conv = axes[0]
    history = aligner.fit_history
    if history:
        conv.plot(np.arange(1, len(history) + 1), history, marker=".", label="objective")
        conv.set_title("fit convergence")
    else:
        conv.set_title("fit convergence: hyperalignment does not iterate")
    conv.set_xlabel("iteration")
    conv.set_ylabel({"srm": "relative reconstruction error",
                     "probabilistic_srm": "log-likelihood"}.get(aligner.method, ""))
    if subjects is not None:
        aligned, anatomical = held_out_scores(aligner, subjects)
        held = axes[1]
        index = np.arange(len(aligned))
        held.plot(index, aligned, "o", label="aligned")
        if anatomical is not None:
            held.plot(index, anatomical, "s", label="anatomical")
        held.set_ylim(0, 1)
        held.set_xlabel("subject")
        held.set_ylabel("segment matching accuracy")
        held.set_title("held out: the last fifth of the time points")
        held.legend(fontsize="small")
    return axes
