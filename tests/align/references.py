"""NumPy reference implementations written from the papers and the reference projects'
algorithms (PyMVPA's Hyperalignment and ProcrusteanMapper, BrainIAK's DetSRM and SRM,
BrainIAK's time-segment matching), plus the shared-response simulation. Used by the
interop tests and by bench/bench_align.py. Orientation: time x features, as libbtfm."""

import numpy as np


def simulate(n_subjects, n_train, n_test, n_features, k, noise=1.0, seed=0):
    """Shared response S (AR(1) per component) seen through a random orthonormal layout
    per subject plus Gaussian noise: (train list, test list, S_train, S_test, layouts)."""
    rng = np.random.RandomState(seed)

    def shared(t):
        s = np.zeros((t, k))
        v = rng.randn(k)
        for i in range(t):
            v = 0.5 * v + rng.randn(k)
            s[i] = v
        return s

    s_train, s_test = shared(n_train), shared(n_test)
    train, test, layouts = [], [], []
    for _ in range(n_subjects):
        w, _ = np.linalg.qr(rng.randn(n_features, k))
        layouts.append(w)
        train.append((s_train @ w.T + noise * rng.randn(n_train, n_features)).astype(np.float32))
        test.append((s_test @ w.T + noise * rng.randn(n_test, n_features)).astype(np.float32))
    return train, test, s_train, s_test, layouts


def zscore(x):
    x = np.asarray(x, dtype=np.float64)
    sd = x.std(0)
    sd[sd == 0] = 1.0
    return (x - x.mean(0)) / sd


# --- PyMVPA hyperalignment, as written (full feature x feature SVDs) -----------------

def procrustes(source, target, scaling=True, reflection=True, null_tol=None):
    """PyMVPA ProcrusteanMapper._train (demean, Frobenius normalization, SVD of
    target^T source), with the scale taken from the sign-corrected singular values.
    Returns (proj, offset_in, offset_out): forward(x) = (x - offset_in) @ proj + offset_out.
    null_tol: libbtfm's documented minimum-norm solution instead of PyMVPA's arbitrary
    completion, dropping singular values below null_tol times the largest."""
    ms, mt = source.mean(0), target.mean(0)
    s, t = source - ms, target - mt
    snorm, tnorm = np.linalg.norm(s), np.linalg.norm(t)
    s, t = s / snorm, t / tnorm
    ns, nt = s.shape[1], t.shape[1]
    if ns < nt:
        s = np.hstack([s, np.zeros((s.shape[0], nt - ns))])
    elif nt < ns:
        t = np.hstack([t, np.zeros((t.shape[0], ns - nt))])
    u, sv, vh = np.linalg.svd(t.T @ s, full_matrices=False)
    if null_tol is not None:
        keep = sv > null_tol * sv[0]
        u, sv, vh = u[:, keep], sv[keep], vh[keep]
    proj = vh.T @ u.T
    signs = np.ones_like(sv)
    if not reflection and np.linalg.det(proj) < 0:
        signs[-1] = -1.0
        proj = (vh.T * signs) @ u.T
    if scaling:
        proj = proj * (np.sum(sv * signs) * tnorm / snorm)
    return proj[:ns, :nt], ms, mt


def _forward(mapper, x):
    proj, mi, mo = mapper
    return (x - mi) @ proj + mo


def _regularize(x, alpha):
    """PyMVPA Hyperalignment._regularize: x @ Vh^T diag(1/sqrt((1-a)s^2 + a)) Vh."""
    _, s, vh = np.linalg.svd(x)
    d = np.zeros(vh.shape[0])
    d[:len(s)] = 1.0 / np.sqrt((1 - alpha) * s ** 2 + alpha)
    w = (vh.T * d) @ vh
    return x @ w, w


def hyperalignment(datasets, scaling=True, reflection=True, level2_niter=1, ref=None,
                   alpha=1.0, n_features=None, null_tol=None):
    """PyMVPA Hyperalignment (zscore_all, zscore_common): returns a function
    transform(x, i) mapping subject i's raw data into the common space, and the common
    template. With n_features = K the template is first reduced to its top K principal
    directions, z(C V_K), and level 3 maps onto that (PyMVPA's Procrustes pads the
    narrower target with zero columns)."""
    stats = [(np.asarray(d, np.float64).mean(0), np.asarray(d, np.float64).std(0))
             for d in datasets]
    data = [zscore(d) for d in datasets]
    wmaps = [None] * len(data)
    if alpha < 1:
        for i in range(len(data)):
            data[i], wmaps[i] = _regularize(data[i], alpha)
    n = len(data)
    if ref is None:
        ref = int(np.argmax([d.shape[1] for d in data]))
    common = zscore(data[ref])
    mapped = list(data)
    for i in range(n):
        if i == ref:
            continue
        m = procrustes(data[i], common, scaling, reflection, null_tol)
        p = zscore(_forward(m, data[i]))
        mapped[i] = p
        common = zscore(0.5 * (p + common))
    # Level 2 (PyMVPA's _level2): the template is the plain mean of the aligned data
    # (combiner2, not z-scored) while passes run; each target and each aligned subject
    # is z-scored (zscore_common); the final template is z-scored once at the end.
    common = np.mean(mapped, axis=0)
    for _ in range(level2_niter):
        for i in range(n):
            target = zscore((common * n - mapped[i]) / (n - 1))
            m = procrustes(data[i], target, scaling, reflection, null_tol)
            mapped[i] = zscore(_forward(m, data[i]))
        common = np.mean(mapped, axis=0)
    common = zscore(common)
    if n_features:
        vt = np.linalg.svd(common, full_matrices=False)[2]
        common = zscore(common @ vt[:n_features].T)
    mappers = [procrustes(data[i], common, scaling, reflection, null_tol) for i in range(n)]

    def transform(x, i):
        mean, sd = stats[i]
        z = (np.asarray(x, np.float64) - mean) / sd
        if wmaps[i] is not None:
            z = z @ wmaps[i]
        return _forward(mappers[i], z)

    return transform, common


# --- BrainIAK's shared response models --------------------------------------------------

def _init_w(n_features_list, k, seed):
    rng = np.random.RandomState(seed)
    return [np.linalg.qr(rng.randn(v, k))[0] for v in n_features_list]


def det_srm(datasets, k, n_iter=10, seed=0):
    """BrainIAK DetSRM._srm on subject means removed (BrainIAK takes features x time;
    here X_i is time x features, so X_i^T is BrainIAK's data[i]). Returns (W list, S
    (time x k), means)."""
    means = [np.asarray(d, np.float64).mean(0) for d in datasets]
    x = [(np.asarray(d, np.float64) - m).T for d, m in zip(datasets, means)]
    w = _init_w([xi.shape[0] for xi in x], k, seed)
    s = sum(wi.T @ xi for wi, xi in zip(w, x)) / len(x)
    for _ in range(n_iter):
        for i, xi in enumerate(x):
            a = xi @ s.T
            perturbation = np.zeros(a.shape)
            np.fill_diagonal(perturbation, 0.001)
            u, _, vt = np.linalg.svd(a + perturbation, full_matrices=False)
            w[i] = u @ vt
        s = sum(wi.T @ xi for wi, xi in zip(w, x)) / len(x)
    return w, s.T, means


def prob_srm(datasets, k, n_iter=10, seed=0):
    """BrainIAK SRM._srm (EM) with its pitfalls fixed: means removed, the noise trace
    taken after removing them. Returns (W list, S (time x k), means)."""
    import scipy.linalg
    means = [np.asarray(d, np.float64).mean(0) for d in datasets]
    x = [(np.asarray(d, np.float64) - m).T for d, m in zip(datasets, means)]
    n, samples = len(x), x[0].shape[1]
    voxels = np.array([xi.shape[0] for xi in x])
    w = _init_w(voxels, k, seed)
    rho2 = np.ones(n)
    trace_xtx = np.array([np.sum(xi ** 2) for xi in x])
    sigma_s = np.identity(k)
    shared = None
    for _ in range(n_iter):
        rho0 = (1 / rho2).sum()
        inv_sigma_s = scipy.linalg.inv(sigma_s)
        inv_sigma_s_rhos = scipy.linalg.inv(inv_sigma_s + np.identity(k) * rho0)
        wt_invpsi_x = sum(w[i].T @ x[i] / rho2[i] for i in range(n))
        shared = sigma_s @ (np.identity(k) - rho0 * inv_sigma_s_rhos) @ wt_invpsi_x
        sigma_s = inv_sigma_s_rhos + shared @ shared.T / samples
        trace_sigma_s = samples * np.trace(sigma_s)
        for i in range(n):
            a = x[i] @ shared.T
            perturbation = np.zeros(a.shape)
            np.fill_diagonal(perturbation, 0.001)
            u, _, vt = np.linalg.svd(a + perturbation, full_matrices=False)
            w[i] = u @ vt
            rho2[i] = (trace_xtx[i] - 2 * np.sum(w[i] * a) + trace_sigma_s) / (samples * voxels[i])
    return w, shared.T, means


# --- metrics -----------------------------------------------------------------------

def segment_matching(data, win_size=10, zscore=True):
    """BrainIAK's time_segment_matching (tutorial and examples), data as a list of
    time x features arrays. zscore: the tutorial's stats.zscore(axis=1, ddof=1) of each
    subject's features x time data first (constant features as 0)."""
    data = [np.asarray(d, np.float64).T for d in data]
    if zscore:
        data = [(d - d.mean(1, keepdims=True)) /
                np.where(d.std(1, ddof=1, keepdims=True) > 0, d.std(1, ddof=1, keepdims=True), 1)
                for d in data]
    nsubjs = len(data)
    ndim, nsample = data[0].shape
    nseg = nsample - win_size
    trn = np.zeros((ndim * win_size, nseg))
    for m in range(nsubjs):
        for w in range(win_size):
            trn[w * ndim:(w + 1) * ndim, :] += data[m][:, w:w + nseg]
    accu = np.zeros(nsubjs)
    for tst_subj in range(nsubjs):
        tst = np.zeros((ndim * win_size, nseg))
        for w in range(win_size):
            tst[w * ndim:(w + 1) * ndim, :] = data[tst_subj][:, w:w + nseg]
        a = trn - tst
        a = (a - a.mean(0)) / a.std(0)
        b = (tst - tst.mean(0)) / tst.std(0)
        corr = b.T @ a / a.shape[0]
        for i in range(nseg):
            for j in range(nseg):
                if abs(i - j) < win_size and i != j:
                    corr[i, j] = -np.inf
        accu[tst_subj] = np.mean(np.argmax(corr, axis=1) == np.arange(nseg))
    return accu


def isc(data, pairwise=False):
    data = np.asarray(data, np.float64)
    n = data.shape[0]

    def corr(a, b):
        a, b = a - a.mean(0), b - b.mean(0)
        return (a * b).sum(0) / np.sqrt((a * a).sum(0) * (b * b).sum(0))

    if pairwise:
        rs = [corr(data[i], data[j]) for i in range(n) for j in range(i + 1, n)]
    else:
        rs = [corr(data[i], (data.sum(0) - data[i]) / (n - 1)) for i in range(n)]
    return np.tanh(np.mean(np.arctanh(rs), axis=0))


def classification(data, labels):
    data = np.asarray(data, np.float64)
    labels = np.asarray(labels)
    classes = np.unique(labels)
    acc = []
    for s in range(data.shape[0]):
        others = np.concatenate([data[o] for o in range(data.shape[0]) if o != s])
        other_labels = np.tile(labels, data.shape[0] - 1)
        cents = np.stack([others[other_labels == c].mean(0) for c in classes])
        r = np.corrcoef(data[s], cents)[:len(labels), len(labels):]
        acc.append(np.mean(classes[np.argmax(r, axis=1)] == labels))
    return np.array(acc)
