/* One recording into the corpus: pick channels, repair or drop bad channels, re-reference,
 * band-pass, resample, robust z-score and clip per channel, quantize; the binary and its
 * index entry written atomically (the entry last, so its presence means "done"). The
 * order and equations are those of doc/corpus.md. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <btfm/signal.h>
#include <btfm/volume.h>
#include <btfm/version.h>
#include "corpus_internal.h"
#include "core/atomic_file.h"
#include "core/json.h"
#include "io/dataset_internal.h"

typedef struct prepared {
    corpus_scratch *scratch; /* owns x and spare */
    float *x;            /* n_times x n_channels: one of the scratch's buffers */
    float *spare;        /* the other: the samples before resampling, then the z-score's */
    size_t spare_bytes;
    int64_t n_times;
    int n_channels;
    double sfreq, source_sfreq;
    int *channels;       /* dataset index of each kept channel */
    double *median, *iqr, *scale;
    int volume;
    btfm_json *entry;    /* interpolated / dropped names, filters applied */
    btfm_json *interpolated, *dropped;
} prepared;

static void prepared_free(prepared *p)
{
    btfm_free(p->channels);
    btfm_free(p->median), btfm_free(p->iqr), btfm_free(p->scale);
    btfm_json_free(p->interpolated), btfm_json_free(p->dropped);
}

/* Buffer `which` of the scratch with room for `bytes`, kept from recording to recording:
 * a fresh buffer would cost its page faults and page clearing (a fifth of a build) on
 * every recording. */
static float *scratch_buffer(corpus_scratch *s, int which, size_t bytes)
{
    if (bytes == 0) bytes = 1;
    if (s->cap[which] < bytes) {
        btfm_free(s->buf[which]);
        s->cap[which] = 0;
        if (!(s->buf[which] = btfm_malloc_large(bytes))) return NULL;
        s->cap[which] = bytes;
    }
    return s->buf[which];
}

void btfm_corpus_scratch_free(corpus_scratch *s)
{
    if (!s) return;
    btfm_free(s->buf[0]), btfm_free(s->buf[1]);
    s->buf[0] = s->buf[1] = NULL;
    s->cap[0] = s->cap[1] = 0;
}

/* 1 when `name` is in the comma-separated `list` (case-insensitive). */
static int in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncasecmp(p, name, n) == 0) return 1;
        p = end ? end + 1 : NULL;
    }
    return 0;
}

/* The channel types picked unless channel_types says: the sensors of the datatype. */
static const char *default_types(const char *datatype)
{
    return strcmp(datatype, "meg") == 0  ? "meg_mag,meg_grad"
         : strcmp(datatype, "nirs") == 0 ? "hbo,hbr,fnirs_cw_amplitude,fnirs_od"
         : strcmp(datatype, "ieeg") == 0 ? "ecog,seeg,dbs"
                                         : "eeg";
}

static btfm_status pick_channels(const btfm_corpus_builder *b, const corpus_source *s,
                                 btfm_dataset *ds, prepared *p)
{
    int n = btfm_dataset_n_channels(ds);
    const char *path = s->path;
    const char *types = b->channel_types ? b->channel_types : default_types(s->datatype);
    p->channels = btfm_malloc((size_t)(n > 0 ? n : 1) * sizeof *p->channels);
    if (!p->channels) return btfm_fail_nomem("corpus", 0);
    for (int c = 0; c < n; c++)
        if (p->volume || in_list(types, btfm_channel_type_name(btfm_dataset_channel_type(ds, c))))
            p->channels[p->n_channels++] = c;
    if (p->n_channels == 0)
        return btfm_fail(BTFM_E_NOTFOUND, "corpus: %s: no channel of type %s among its %d "
                         "channels (set channel_types)", path, types, n);
    return BTFM_OK;
}

/* Keep the columns with keep[c] != 0 of x (in place) and of p->channels. */
static void keep_columns(prepared *p, const unsigned char *keep)
{
    int n_out = 0;
    for (int c = 0; c < p->n_channels; c++) n_out += keep[c] != 0;
    for (int64_t t = 0; t < p->n_times; t++) {
        const float *row = p->x + t * p->n_channels;
        float *dst = p->x + t * n_out;
        for (int c = 0, k = 0; c < p->n_channels; c++)
            if (keep[c]) dst[k++] = row[c];
    }
    for (int c = 0, k = 0; c < p->n_channels; c++)
        if (keep[c]) p->channels[k++] = p->channels[c];
    p->n_channels = n_out;
}

static btfm_status handle_bads(const btfm_corpus_builder *b, btfm_dataset *ds, prepared *p)
{
    int mode = (int)b->params[BTFM_CORPUS_BADS], C = p->n_channels, n_bad = 0;
    unsigned char *bad = btfm_calloc((size_t)C, 1);
    double *pos = btfm_calloc((size_t)C * 3, sizeof *pos);
    btfm_status st = BTFM_OK;
    if (!bad || !pos) { st = btfm_fail_nomem("corpus", 0); goto done; }
    int have_positions = 1;
    for (int c = 0; c < C; c++) {
        bad[c] = btfm_dataset_channel_bad(ds, p->channels[c]) == 1;
        n_bad += bad[c];
        if (btfm_dataset_channel_position(ds, p->channels[c], pos + 3 * c) != BTFM_OK)
            have_positions = 0;
    }
    if (n_bad == 0 || mode == 0) goto done;
    if (n_bad == C) {
        st = btfm_fail(BTFM_E_INVALID, "corpus: every picked channel is marked bad");
        goto done;
    }
    btfm_json *list = mode == 2 && have_positions ? p->interpolated : p->dropped;
    /* the names, in channel order */
    for (int c = 0; c < C; c++) {
        if (!bad[c]) continue;
        btfm_json *name = NULL;
        if ((st = btfm_json_new_string(&name, btfm_dataset_channel_name(ds, p->channels[c]))) ||
            (st = btfm_json_append(list, name)))
            goto done;
    }
    if (mode == 2 && have_positions) {
        int neighbors = C - n_bad < 4 ? C - n_bad : 4;
        st = btfm_interpolate_bads(p->x, p->n_times, C, pos, bad, neighbors, 0, p->x);
    } else {
        for (int c = 0; c < C; c++) bad[c] = !bad[c];
        keep_columns(p, bad);
    }
done:
    btfm_free(bad);
    btfm_free(pos);
    return st;
}

/* Subtract the mean of the good channels (all of them once bads are repaired or dropped;
 * kept bad channels are re-referenced but not part of the mean, as in MNE). */
static btfm_status average_reference(const btfm_corpus_builder *b, btfm_dataset *ds, prepared *p)
{
    int *refs = btfm_malloc((size_t)p->n_channels * sizeof *refs), n_refs = 0;
    if (!refs) return btfm_fail_nomem("corpus", 0);
    for (int c = 0; c < p->n_channels; c++)
        if (b->params[BTFM_CORPUS_BADS] != 0 || btfm_dataset_channel_bad(ds, p->channels[c]) != 1)
            refs[n_refs++] = c;
    btfm_status st = btfm_rereference(p->x, p->n_times, p->n_channels, refs, n_refs, NULL, 0,
                                      0, p->x);
    btfm_free(refs);
    return st;
}

static btfm_status band_pass(prepared *p, double l_freq, double h_freq, int order,
                             btfm_json *applied)
{
    double nyquist = p->sfreq / 2;
    if (h_freq >= nyquist) h_freq = 0; /* nothing to remove above Nyquist */
    if (l_freq >= nyquist)
        return btfm_fail(BTFM_E_RANGE, "corpus: high-pass edge %g Hz at or above the Nyquist "
                         "frequency %g Hz of the recording", l_freq, nyquist);
    int kind = l_freq > 0 && h_freq > 0 ? BTFM_FILTER_BANDPASS
             : l_freq > 0               ? BTFM_FILTER_HIGHPASS
             : h_freq > 0               ? BTFM_FILTER_LOWPASS
                                        : 0;
    btfm_status st = btfm_json_set_number(applied, "l_freq", kind == BTFM_FILTER_LOWPASS ? 0 : l_freq);
    if (st == BTFM_OK) st = btfm_json_set_number(applied, "h_freq", h_freq);
    if (st || kind == 0) return st;
    double sos[6 * 10];
    int n_sections = btfm_butter_n_sections(order, kind);
    if (n_sections < 0) return n_sections;
    double f1 = kind == BTFM_FILTER_LOWPASS ? h_freq : l_freq;
    if ((st = btfm_butter(order, kind, f1, h_freq, p->sfreq, sos, sizeof sos / sizeof sos[0])))
        return st;
    return btfm_sosfiltfilt(sos, n_sections, p->x, p->n_times, p->n_channels, BTFM_PAD_ODD, -1,
                            0, p->x);
}

/* up / down with up / down = target / sfreq, from the rates in mHz. */
static btfm_status resample(prepared *p, double target)
{
    if (target <= 0 || target == p->sfreq) return BTFM_OK;
    long long a = llround(target * 1000), c = llround(p->sfreq * 1000), g = a, h = c;
    while (h) { long long r = g % h; g = h; h = r; }
    long long up = a / g, down = c / g;
    if (up > 100000 || down > 100000)
        return btfm_fail(BTFM_E_UNSUPPORTED, "corpus: no short rational ratio from %g Hz to %g "
                         "Hz", p->sfreq, target);
    int64_t n_out = btfm_resample_poly_len(p->n_times, (int)up, (int)down);
    if (n_out < 0) return (btfm_status)n_out;
    size_t bytes;
    if (btfm_mul_size((size_t)n_out, (size_t)p->n_channels * sizeof(float), &bytes))
        return btfm_fail(BTFM_E_RANGE, "corpus: resampled recording too large");
    float *y = scratch_buffer(p->scratch, p->x == p->scratch->buf[0], bytes);
    if (!y) return btfm_fail_nomem("corpus", bytes);
    btfm_status st = btfm_resample_poly(p->x, p->n_times, p->n_channels, (int)up, (int)down, 0, y);
    if (st) return st;
    p->spare = p->x; /* kept for the z-score's columns */
    p->spare_bytes = (size_t)p->n_times * (size_t)p->n_channels * sizeof(float);
    p->x = y;
    p->n_times = n_out;
    p->sfreq = target;
    return BTFM_OK;
}

/* The k-th smallest of v[lo..hi] (Hoare's selection), leaving v[lo..k) <= v[k] <= v(k..hi]. */
static float select_kth(float *v, int64_t lo, int64_t hi, int64_t k)
{
    while (lo < hi) {
        float pivot = v[lo + (hi - lo) / 2];
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot) i++;
            while (v[j] > pivot) j--;
            if (i <= j) { float t = v[i]; v[i] = v[j]; v[j] = t; i++, j--; }
        }
        if (k <= j) hi = j;
        else if (k >= i) lo = i;
        else break;
    }
    return v[k];
}

/* Floats as unsigned keys in the same order (negative ones bit-flipped). */
static inline uint32_t float_key(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u & 0x80000000u ? ~u : u | 0x80000000u;
}

enum { KEY_BINS = 1 << 16 };

/* Scratch of the quartiles: a histogram of the keys' top 16 bits and each bin's slot
 * among the bins selected from (0: none). */
typedef struct quartile_scratch {
    uint32_t *hist;
    uint8_t *slot;
} quartile_scratch;

/* numpy.percentile(v, 25 / 50 / 75) with linear interpolation. The six order statistics
 * it needs (each quantile's rank and the next) are found by a histogram of the values'
 * top 16 key bits, then selected among the values of their few bins only: three passes
 * over v without data-dependent branches, where selecting in all of v is many. n >= 1. */
static btfm_status quartiles(const float *v, int64_t n, quartile_scratch *q, double out[3])
{
    int64_t rank[6];
    double frac[3];
    for (int i = 0; i < 3; i++) {
        double pos = 0.25 * (i + 1) * (double)(n - 1);
        rank[2 * i] = (int64_t)floor(pos);
        rank[2 * i + 1] = rank[2 * i] + 1 < n ? rank[2 * i] + 1 : rank[2 * i];
        frac[i] = pos - (double)rank[2 * i];
    }
    memset(q->hist, 0, KEY_BINS * sizeof *q->hist);
    for (int64_t i = 0; i < n; i++) q->hist[float_key(v[i]) >> 16]++;
    /* the bin of each rank (ranks ascend), the bins' slots and their values' offsets */
    int64_t bin_of[6], below[6], first[7], count = 0;
    int n_bins = 0, r = 0;
    memset(q->slot, 0, KEY_BINS);
    for (int64_t b = 0, seen = 0; b < KEY_BINS && r < 6; seen += q->hist[b], b++) {
        while (r < 6 && rank[r] < seen + (int64_t)q->hist[b]) {
            if (!q->slot[b]) {
                q->slot[b] = (uint8_t)(++n_bins);
                first[n_bins - 1] = count;
                count += q->hist[b];
            }
            bin_of[r] = q->slot[b] - 1;
            below[r] = seen;
            r++;
        }
    }
    first[n_bins] = count;
    float *picked = btfm_malloc((size_t)count * sizeof *picked);
    if (!picked) return btfm_fail_nomem("corpus", (size_t)count * sizeof *picked);
    int64_t fill[6];
    for (int k = 0; k < n_bins; k++) fill[k] = first[k];
    for (int64_t i = 0; i < n; i++) {
        int k = q->slot[float_key(v[i]) >> 16];
        if (k) picked[fill[k - 1]++] = v[i];
    }
    double value[6];
    for (int j = 0; j < 6; j++) {
        int64_t k = bin_of[j];
        value[j] = select_kth(picked, first[k], first[k + 1] - 1, first[k] + rank[j] - below[j]);
    }
    for (int i = 0; i < 3; i++)
        out[i] = value[2 * i] + frac[i] * (value[2 * i + 1] - value[2 * i]);
    btfm_free(picked);
    return BTFM_OK;
}

/* Rows of x z-scored in place, z = (x - median) / iqr clipped to [lo, hi], and each
 * channel's largest |z| (as stored, in float) into absmax: one pass, in vector code. */
BTFM_HOT BTFM_SIMD_CLONES static void scale_rows(float *x, int64_t T, int C, const double *median,
                                                const double *iqr, double lo, double hi,
                                                double *absmax)
{
    for (int c = 0; c < C; c++) absmax[c] = 0;
    for (int64_t t = 0; t < T; t++) {
        float *row = x + t * C;
        for (int c = 0; c < C; c++) {
            double z = ((double)row[c] - median[c]) / iqr[c];
            z = z < lo ? lo : z;
            z = z > hi ? hi : z;
            float f = (float)z;
            row[c] = f;
            double a = fabs((double)f);
            absmax[c] = a > absmax[c] ? a : absmax[c];
        }
    }
}

/* z = (x - median) / IQR per channel (scikit-learn's RobustScaler; a zero IQR counts as
 * 1), clipped to [-clip, clip]; absmax gets each channel's largest |z|. The columns are
 * copied out in blocks of rows, so x is read once rather than once a channel. */
static btfm_status robust_scale(prepared *p, double clip, double *absmax)
{
    int C = p->n_channels;
    int64_t T = p->n_times;
    if (T == 0) return btfm_fail(BTFM_E_RANGE, "corpus: recording has no samples");
    size_t bytes;
    if (btfm_mul_size((size_t)T, (size_t)C * sizeof(float), &bytes))
        return btfm_fail(BTFM_E_RANGE, "corpus: recording too large");
    p->median = btfm_malloc((size_t)C * sizeof(double));
    p->iqr = btfm_malloc((size_t)C * sizeof(double));
    float *cols = p->spare_bytes >= bytes ? p->spare
                : scratch_buffer(p->scratch, p->x == p->scratch->buf[0], bytes);
    if (!p->median || !p->iqr || !cols) return btfm_fail_nomem("corpus", bytes);
    enum { BLOCK = 256 };
    for (int64_t t0 = 0; t0 < T; t0 += BLOCK) {
        int64_t t1 = t0 + BLOCK < T ? t0 + BLOCK : T;
        for (int c = 0; c < C; c++)
            for (int64_t t = t0; t < t1; t++) cols[(size_t)c * (size_t)T + (size_t)t] = p->x[t * C + c];
    }
    quartile_scratch q = {btfm_malloc(KEY_BINS * sizeof *q.hist), btfm_malloc(KEY_BINS)};
    btfm_status st = q.hist && q.slot ? BTFM_OK : btfm_fail_nomem("corpus", 0);
    for (int c = 0; st == BTFM_OK && c < C; c++) {
        double quart[3];
        st = quartiles(cols + (size_t)c * (size_t)T, T, &q, quart);
        p->median[c] = quart[1];
        p->iqr[c] = quart[2] - quart[0];
    }
    btfm_free(q.hist);
    btfm_free(q.slot);
    if (st) return st;
    double *divisor = btfm_malloc((size_t)C * sizeof *divisor);
    if (!divisor) return btfm_fail_nomem("corpus", 0);
    for (int c = 0; c < C; c++) divisor[c] = p->iqr[c] > 0 ? p->iqr[c] : 1.0;
    scale_rows(p->x, T, C, p->median, divisor, clip > 0 ? -clip : -HUGE_VAL,
               clip > 0 ? clip : HUGE_VAL, absmax);
    btfm_free(divisor);
    return BTFM_OK;
}

/* Rows of z as little-endian int16, round(z / scale) (halves to even, as lrint). */
BTFM_HOT BTFM_SIMD_CLONES static void quantize_rows(const float *x, int64_t rows, int C,
                                                   const double *scale, int16_t *out)
{
    for (int64_t t = 0; t < rows; t++)
        for (int c = 0; c < C; c++) {
            double q = __builtin_rint((double)x[t * C + c] / scale[c]);
            q = q > 32767 ? 32767 : q < -32767 ? -32767 : q;
            out[t * C + c] = (int16_t)q;
        }
}

/* The binary of z: int16 or float16. scale holds each channel's largest |z| on entry and
 * the int16 scale, that / 32767, on return. */
static btfm_status write_binary(const char *path, const prepared *p, int dtype, double *scale)
{
    int C = p->n_channels;
    int64_t T = p->n_times;
    for (int c = 0; c < C; c++) scale[c] = scale[c] > 0 ? scale[c] / 32767.0 : 1.0;
    /* whole rows at a time, at least 32 K values */
    enum { CHUNK = 1 << 15 };
    int64_t rows = C >= CHUNK ? 1 : CHUNK / (C > 0 ? C : 1);
    uint16_t *buf = btfm_malloc((size_t)rows * (size_t)C * sizeof *buf);
    if (!buf) return btfm_fail_nomem("corpus", 0);
    /* the data synced here, the name by the merge's one sync of the folder (the entry,
     * written after, is what marks the recording done) */
    btfm_atomic_file af;
    btfm_status st = btfm_atomic_open(&af, path, 0);
    if (st) { btfm_free(buf); return st; }
    for (int64_t t0 = 0; t0 < T; t0 += rows) {
        int64_t n = T - t0 < rows ? T - t0 : rows;
        size_t count = (size_t)n * (size_t)C;
        const float *x = p->x + t0 * C;
        if (dtype == BTFM_CORPUS_INT16) {
            quantize_rows(x, n, C, scale, (int16_t *)buf);
        } else {
            for (size_t i = 0; i < count; i++) buf[i] = btfm_half_from_float(x[i]);
        }
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        for (size_t i = 0; i < count; i++) buf[i] = (uint16_t)(buf[i] >> 8 | buf[i] << 8);
#endif
        if (fwrite(buf, sizeof *buf, count, af.fp) != count) {
            btfm_atomic_abort(&af);
            btfm_free(buf);
            return btfm_fail(BTFM_E_IO, "corpus: %s: write failed", path);
        }
    }
    btfm_free(buf);
    if (fflush(af.fp) != 0 || fdatasync(fileno(af.fp)) != 0) {
        btfm_atomic_abort(&af);
        return btfm_fail(BTFM_E_IO, "corpus: %s: write failed (%s)", path, strerror(errno));
    }
    return btfm_atomic_commit(&af);
}

/* The entry, atomically but unsynced: a lost entry only means the recording is built
 * again, and the merge copies it into the index, which is synced. */
static btfm_status write_entry(const btfm_json *entry, const char *path)
{
    char *text = NULL;
    size_t len = 0;
    btfm_atomic_file af;
    btfm_status st = btfm_json_dump(entry, &text, &len);
    if (st == BTFM_OK && (st = btfm_atomic_open(&af, path, 0)) == BTFM_OK) {
        if (fwrite(text, 1, len, af.fp) == len) {
            st = btfm_atomic_commit(&af);
        } else {
            btfm_atomic_abort(&af);
            st = btfm_fail(BTFM_E_IO, "corpus: %s: write failed", path);
        }
    }
    btfm_free(text);
    return st;
}

/* ---- the index entry ---- */

static btfm_status numbers_array(btfm_json **out, const double *v, size_t n)
{
    btfm_status st = btfm_json_new_array(out);
    for (size_t i = 0; st == BTFM_OK && i < n; i++) {
        btfm_json *x = NULL;
        if (!(st = btfm_json_new_number(&x, v[i]))) st = btfm_json_append(*out, x);
    }
    return st;
}

static btfm_status channels_json(btfm_json *e, btfm_dataset *ds, const prepared *p)
{
    int C = p->n_channels;
    const char **names = btfm_malloc((size_t)C * sizeof *names);
    const char **types = btfm_malloc((size_t)C * sizeof *types);
    btfm_json *positions = NULL;
    btfm_status st = names && types ? btfm_json_new_array(&positions) : btfm_fail_nomem("corpus", 0);
    double affine[16];
    int64_t *voxels = NULL;
    if (st == BTFM_OK && p->volume && btfm_dataset_mask_kind(ds) != BTFM_MASK_LABELS &&
        btfm_dataset_volume_affine(ds, affine) == BTFM_OK) {
        voxels = btfm_malloc((size_t)btfm_dataset_n_channels(ds) * sizeof *voxels);
        if (!voxels || btfm_dataset_channel_voxels(ds, voxels) != BTFM_OK) {
            btfm_free(voxels);
            voxels = NULL;
        }
    }
    int64_t shape[4] = {0};
    if (voxels) btfm_dataset_volume_shape(ds, shape);
    for (int c = 0; st == BTFM_OK && c < C; c++) {
        int ch = p->channels[c];
        names[c] = btfm_dataset_channel_name(ds, ch);
        types[c] = p->volume ? "bold" : btfm_channel_type_name(btfm_dataset_channel_type(ds, ch));
        double xyz[3];
        btfm_json *item = NULL;
        int have = btfm_dataset_channel_position(ds, ch, xyz) == BTFM_OK;
        if (!have && voxels) { /* voxel centre in world millimetres, as metres */
            int64_t v = voxels[ch], i = v % shape[0], j = (v / shape[0]) % shape[1],
                    k = v / (shape[0] * shape[1]);
            for (int r = 0; r < 3; r++)
                xyz[r] = (affine[4 * r] * (double)i + affine[4 * r + 1] * (double)j +
                          affine[4 * r + 2] * (double)k + affine[4 * r + 3]) / 1000.0;
            have = 1;
        }
        if (have) st = numbers_array(&item, xyz, 3);
        else st = btfm_json_new_literal(&item, BTFM_JSON_NULL);
        if (st == BTFM_OK) st = btfm_json_append(positions, item);
    }
    btfm_free(voxels);
    if (st == BTFM_OK) st = btfm_json_set_strings(e, "channel_names", names, (size_t)C);
    if (st == BTFM_OK) st = btfm_json_set_strings(e, "channel_types", types, (size_t)C);
    if (st == BTFM_OK) { st = btfm_json_set(e, "channel_positions", positions); positions = NULL; }
    if (st == BTFM_OK)
        st = btfm_json_set_string(e, "coordinate_frame", btfm_dataset_coordinate_frame(ds));
    btfm_json_free(positions);
    btfm_free(names);
    btfm_free(types);
    return st;
}

/* Events at the corpus rate. Free-text annotations only when named in keep_annotations;
 * gaps and annotations starting with "BAD" become bad segments. */
static btfm_status events_json(const btfm_corpus_builder *b, btfm_json *e, btfm_dataset *ds,
                               const prepared *p)
{
    int64_t n = btfm_dataset_n_events(ds);
    unsigned char *keep = btfm_calloc((size_t)(n > 0 ? n : 1), 1);
    int64_t *picked = btfm_malloc((size_t)(n > 0 ? n : 1) * sizeof *picked);
    btfm_json *onsets = NULL, *durations = NULL, *labels = NULL, *bads = NULL;
    btfm_status st = keep && picked ? BTFM_OK : btfm_fail_nomem("corpus", 0);
    for (const char *s = b->keep_annotations; st == BTFM_OK && s && *s;) {
        const char *end = strchr(s, ',');
        char label[256];
        size_t len = end ? (size_t)(end - s) : strlen(s);
        if (len >= sizeof label) len = sizeof label - 1;
        memcpy(label, s, len), label[len] = '\0';
        int64_t m = 0;
        if (len && btfm_dataset_select_events(ds, label, picked, n, &m) == BTFM_OK)
            for (int64_t i = 0; i < m; i++) keep[picked[i]] = 1;
        s = end ? end + 1 : NULL;
    }
    btfm_clear_error();
    const btfm_table *table = NULL;
    int column = -1;
    if (b->label_column && btfm_dataset_events_table(ds, &table) == BTFM_OK &&
        btfm_table_find_column(table, b->label_column, &column) != BTFM_OK) {
        st = btfm_fail(BTFM_E_NOTFOUND, "corpus: the events table has no column \"%s\" "
                       "(label_column)", b->label_column);
    }
    if (st == BTFM_OK) st = btfm_json_new_array(&onsets);
    if (st == BTFM_OK) st = btfm_json_new_array(&durations);
    if (st == BTFM_OK) st = btfm_json_new_array(&labels);
    if (st == BTFM_OK) st = btfm_json_new_array(&bads);
    for (int64_t i = 0; st == BTFM_OK && i < n; i++) {
        double onset, duration;
        const char *type, *label;
        if ((st = btfm_dataset_event(ds, i, &onset, &duration, &type, &label, NULL))) break;
        const int64_t this_row = ds->events[i].row;
        double first = nearbyint(onset * p->sfreq), length = nearbyint(duration * p->sfreq);
        btfm_json *x = NULL;
        if (strcmp(type, "gap") == 0 || strncasecmp(label, "bad", 3) == 0) {
            double seg[2] = {first, first + (length > 0 ? length : 1)};
            if (!(st = numbers_array(&x, seg, 2))) st = btfm_json_append(bads, x);
            continue;
        }
        if (strcmp(type, "annotation") == 0 && !keep[i]) continue;
        if (column >= 0 && this_row >= 0 && this_row < btfm_table_n_rows(table))
            label = btfm_table_cell(table, this_row, column);
        if (!(st = btfm_json_new_number(&x, first)) && !(st = btfm_json_append(onsets, x)) &&
            !(st = btfm_json_new_number(&x, length)) && !(st = btfm_json_append(durations, x)) &&
            !(st = btfm_json_new_string(&x, label)))
            st = btfm_json_append(labels, x);
    }
    btfm_json *events = NULL;
    if (st == BTFM_OK) st = btfm_json_new_object(&events);
    if (st == BTFM_OK) { st = btfm_json_set(events, "onset", onsets); onsets = NULL; }
    if (st == BTFM_OK) { st = btfm_json_set(events, "duration", durations); durations = NULL; }
    if (st == BTFM_OK) { st = btfm_json_set(events, "label", labels); labels = NULL; }
    if (st == BTFM_OK) { st = btfm_json_set(e, "events", events); events = NULL; }
    if (st == BTFM_OK) { st = btfm_json_set(e, "bad_segments", bads); bads = NULL; }
    btfm_json_free(events), btfm_json_free(onsets), btfm_json_free(durations);
    btfm_json_free(labels), btfm_json_free(bads);
    btfm_free(keep);
    btfm_free(picked);
    return st;
}

static btfm_status entry_json(const btfm_corpus_builder *b, const corpus_source *s,
                              btfm_dataset *ds, const prepared *p, btfm_json *filters,
                              const char *fingerprint, const char *sources_json,
                              btfm_json **out)
{
    btfm_json *e = NULL, *x = NULL;
    btfm_status st = btfm_json_new_object(&e);
    int dtype = (int)b->params[BTFM_CORPUS_DTYPE];
    char file[1200];
    snprintf(file, sizeof file, "%s/%s.bin", CORPUS_RECORDINGS, s->id);
    double shape[2] = {(double)p->n_times, (double)p->n_channels};
    if (st == BTFM_OK) st = btfm_json_set_string(e, "id", s->id);
    if (st == BTFM_OK) st = btfm_json_set_string(e, "file", file);
    if (st == BTFM_OK) st = btfm_json_set_string(e, "subject", s->subject);
    if (st == BTFM_OK) st = btfm_json_set_string(e, "session", s->session);
    if (st == BTFM_OK) st = btfm_json_set_string(e, "task", s->task);
    if (st == BTFM_OK) st = btfm_json_set_string(e, "run", s->run);
    if (st == BTFM_OK) st = btfm_json_set_string(e, "datatype", s->datatype);
    if (st == BTFM_OK) st = btfm_json_set_string(e, "dtype", dtype ? "float16" : "int16");
    if (st == BTFM_OK) st = btfm_json_set_numbers(e, "shape", shape, 2);
    if (st == BTFM_OK) st = btfm_json_set_number(e, "sfreq", p->sfreq);
    if (st == BTFM_OK) st = btfm_json_set_number(e, "source_sfreq", p->source_sfreq);
    if (st == BTFM_OK) st = channels_json(e, ds, p);
    if (st == BTFM_OK && dtype == BTFM_CORPUS_INT16)
        st = btfm_json_set_numbers(e, "scale", p->scale, (size_t)p->n_channels);
    if (st == BTFM_OK) st = btfm_json_set_numbers(e, "median", p->median, (size_t)p->n_channels);
    if (st == BTFM_OK) st = btfm_json_set_numbers(e, "iqr", p->iqr, (size_t)p->n_channels);
    if (st == BTFM_OK) st = btfm_json_copy(&x, p->interpolated);
    if (st == BTFM_OK) st = btfm_json_set(e, "interpolated_channels", x);
    if (st == BTFM_OK) st = btfm_json_copy(&x, p->dropped);
    if (st == BTFM_OK) st = btfm_json_set(e, "dropped_channels", x);
    if (st == BTFM_OK) st = events_json(b, e, ds, p);
    if (st == BTFM_OK) st = btfm_json_copy(&x, filters);
    if (st == BTFM_OK) st = btfm_json_set(e, "preprocessing", x);
    if (st == BTFM_OK) st = btfm_json_parse(&x, sources_json, strlen(sources_json), "sources");
    if (st == BTFM_OK) st = btfm_json_set(e, "sources", x);
    if (st == BTFM_OK) st = btfm_json_set_string(e, "build_sha256", fingerprint);
    if (st == BTFM_OK) st = btfm_json_set_string(e, "library_version", btfm_version_string());
    if (st) { btfm_json_free(e); return st; }
    *out = e;
    return BTFM_OK;
}

btfm_status btfm_corpus_build_recording(const btfm_corpus_builder *b, const corpus_source *s,
                                   btfm_dataset *ds, const char *fingerprint,
                                   const char *sources_json, corpus_scratch *scratch)
{
    corpus_scratch own = {{NULL, NULL}, {0, 0}};
    prepared p = {.scratch = scratch ? scratch : &own};
    btfm_json *filters = NULL, *entry = NULL;
    char *bin = btfm_corpus_path(b->out_dir, s->id, ".bin");
    char *json = btfm_corpus_path(b->out_dir, s->id, ".json");
    int64_t vshape[4];
    p.volume = btfm_dataset_volume_shape(ds, vshape) == BTFM_OK;
    btfm_clear_error();
    btfm_status st = bin && json ? BTFM_OK : btfm_fail_nomem("corpus", 0);
    if (st == BTFM_OK && p.volume) {
        st = b->atlas ? btfm_dataset_mask_labels(ds, b->atlas)
           : b->mask  ? btfm_dataset_mask_image(ds, b->mask)
                      : btfm_dataset_mask_compute(ds, BTFM_MASK_EPI, 0);
    }
    if (st == BTFM_OK) st = btfm_json_new_object(&filters);
    if (st == BTFM_OK) st = btfm_json_new_array(&p.interpolated);
    if (st == BTFM_OK) st = btfm_json_new_array(&p.dropped);
    if (st == BTFM_OK) st = pick_channels(b, s, ds, &p);
    p.n_times = btfm_dataset_n_times(ds);
    p.sfreq = p.source_sfreq = btfm_dataset_sfreq(ds);
    size_t bytes = 0;
    if (st == BTFM_OK && btfm_mul_size((size_t)p.n_times, (size_t)p.n_channels * sizeof(float), &bytes))
        st = btfm_fail(BTFM_E_RANGE, "corpus: %s: too large for memory", s->path);
    if (st == BTFM_OK && !(p.x = scratch_buffer(p.scratch, 0, bytes)))
        st = btfm_fail_nomem("corpus", bytes);
    if (st == BTFM_OK)
        st = btfm_dataset_read(ds, 0, p.n_times, p.channels, p.n_channels, p.x);
    if (st == BTFM_OK && !p.volume) st = handle_bads(b, ds, &p);
    /* the average reference is one of voltages (EEG, iEEG), as MNE's set_eeg_reference */
    int voltages = strcmp(s->datatype, "meg") != 0 && strcmp(s->datatype, "nirs") != 0;
    if (st == BTFM_OK && !p.volume && voltages && b->params[BTFM_CORPUS_REFERENCE] == 1) {
        st = average_reference(b, ds, &p);
        if (st == BTFM_OK) st = btfm_json_set_string(filters, "reference", "average");
    }
    /* fMRI and fNIRS have their own band and rate: hemodynamics lie below 1 Hz */
    int nirs = strcmp(s->datatype, "nirs") == 0;
    const double *pr = b->params;
    double l_freq = p.volume ? pr[BTFM_CORPUS_FMRI_L_FREQ] : nirs ? pr[BTFM_CORPUS_NIRS_L_FREQ]
                                                                   : pr[BTFM_CORPUS_L_FREQ];
    double h_freq = p.volume ? pr[BTFM_CORPUS_FMRI_H_FREQ] : nirs ? pr[BTFM_CORPUS_NIRS_H_FREQ]
                                                                   : pr[BTFM_CORPUS_H_FREQ];
    if (st == BTFM_OK)
        st = band_pass(&p, l_freq, h_freq, (int)pr[BTFM_CORPUS_FILTER_ORDER], filters);
    if (st == BTFM_OK && !p.volume)
        st = resample(&p, nirs ? pr[BTFM_CORPUS_NIRS_SFREQ] : pr[BTFM_CORPUS_SFREQ]);
    if (st == BTFM_OK) st = btfm_json_set_number(filters, "filter_order", b->params[BTFM_CORPUS_FILTER_ORDER]);
    if (st == BTFM_OK) st = btfm_json_set_number(filters, "clip", b->params[BTFM_CORPUS_CLIP]);
    if (st == BTFM_OK) st = btfm_json_set_string(filters, "scaling", "robust: (x - median) / IQR");
    if (st == BTFM_OK && p.volume)
        st = btfm_json_set_string(filters, "mask", btfm_mask_kind_name(btfm_dataset_mask_kind(ds)));
    if (st == BTFM_OK && !(p.scale = btfm_malloc((size_t)p.n_channels * sizeof(double))))
        st = btfm_fail_nomem("corpus", 0);
    if (st == BTFM_OK) st = robust_scale(&p, b->params[BTFM_CORPUS_CLIP], p.scale);
    if (st == BTFM_OK)
        st = write_binary(bin, &p, (int)b->params[BTFM_CORPUS_DTYPE], p.scale);
    if (st == BTFM_OK) st = entry_json(b, s, ds, &p, filters, fingerprint, sources_json, &entry);
    if (st == BTFM_OK) st = write_entry(entry, json);
    if (st && st != BTFM_E_NOMEM) {
        char msg[900];
        snprintf(msg, sizeof msg, "%s", btfm_last_error());
        if (!strstr(msg, s->path)) st = btfm_fail(st, "%s: %s", s->path, msg);
    }
    btfm_json_free(entry);
    btfm_json_free(filters);
    prepared_free(&p);
    btfm_corpus_scratch_free(&own);
    btfm_free(bin);
    btfm_free(json);
    return st;
}
