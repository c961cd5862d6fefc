/* EDF/BDF samples: record-major, signal-contiguous little-endian int16/int24 decoded into
 * time-major floats, one data record at a time (the only buffer the driver holds). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include "edf_internal.h"

btfm_status btfm_edf_pread(btfm_dataset *ds, const edf_state *st, int64_t offset, size_t n, void *buf)
{
    size_t done = 0;
    while (done < n) {
        ssize_t got = pread(st->fd, (char *)buf + done, n - done, (off_t)(offset + (int64_t)done));
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0)
            return btfm_fail(got < 0 ? BTFM_E_IO : BTFM_E_TRUNCATED, "edf: %s: byte %lld: %s",
                             ds->path, (long long)(offset + (int64_t)done),
                             got < 0 ? strerror(errno) : "the file ended early (was it truncated "
                             "after opening?)");
        done += (size_t)got;
    }
    return BTFM_OK;
}

static inline int32_t edf_sample(const unsigned char *p) { return (int16_t)(p[0] | (p[1] << 8)); }

static inline int32_t bdf_sample(const unsigned char *p)
{
    int32_t v = p[0] | (p[1] << 8) | (p[2] << 16);
    return v >= 0x800000 ? v - 0x1000000 : v; /* sign-extend 24 bits */
}

static btfm_status edf_read_digital(btfm_dataset *ds, int ch, int64_t first, int64_t count, double *out)
{
    edf_state *st = ds->state;
    const edf_signal *s = &st->signals[st->signal_of_channel[ch]];
    const int64_t spr = s->samples_per_record;
    const int bps = st->bytes_per_sample;
    for (int64_t done = 0; done < count;) {
        int64_t r = (first + done) / spr, i0 = (first + done) % spr;
        int64_t n = spr - i0 < count - done ? spr - i0 : count - done;
        btfm_status status = btfm_edf_pread(ds, st, st->header_bytes + r * st->record_bytes +
                                            s->byte_offset + i0 * bps, (size_t)(n * bps), st->record);
        if (status) return status;
        const unsigned char *p = st->record;
        if (st->bdf)
            for (int64_t i = 0; i < n; i++) out[done + i] = bdf_sample(p + 3 * i);
        else
            for (int64_t i = 0; i < n; i++) out[done + i] = edf_sample(p + 2 * i);
        done += n;
    }
    return BTFM_OK;
}

/* Samples are transposed through a small tile: each channel's run of TILE samples is
 * converted into a column of the tile, then whole output rows are written contiguously
 * (the loop over channels vectorizes). Scaling in double, as btfm_dataset_read_native
 * does, so both reads give the same floats. Large reads write the output with streaming
 * stores: the output is far larger than the cache and is not read back here, so fetching
 * each destination line before writing it would only double the memory traffic. */
#define TILE 32

BTFM_HOT static void scale_row(const float *restrict in, const double *restrict gain,
                               const double *restrict offset, int n, float *restrict out,
                               int streaming)
{
    int j = 0;
#if defined(__SSE2__)
    if (streaming)
        for (; j + 4 <= n; j += 4) {
            __m128d lo = _mm_add_pd(_mm_mul_pd(_mm_cvtps_pd(_mm_loadu_ps(in + j)), _mm_loadu_pd(gain + j)),
                                    _mm_loadu_pd(offset + j));
            __m128d hi = _mm_add_pd(_mm_mul_pd(_mm_cvtps_pd(_mm_loadu_ps(in + j + 2)), _mm_loadu_pd(gain + j + 2)),
                                    _mm_loadu_pd(offset + j + 2));
            _mm_stream_ps(out + j, _mm_movelh_ps(_mm_cvtpd_ps(lo), _mm_cvtpd_ps(hi)));
        }
#else
    (void)streaming;
#endif
    for (; j < n; j++) out[j] = (float)((double)in[j] * gain[j] + offset[j]);
}

#if defined(__SSE2__)
/* EDF int16 straight to rows, four channels by four samples at a time: widen and convert
 * each channel's four samples, transpose the 4 x 4 block in registers, scale in double and
 * store one row fragment per sample. Channels beyond a multiple of four go through the
 * tile path. */
static inline __m128 scale4(__m128 x, const double *gain, const double *offset)
{
    __m128d lo = _mm_add_pd(_mm_mul_pd(_mm_cvtps_pd(x), _mm_loadu_pd(gain)), _mm_loadu_pd(offset));
    __m128d hi = _mm_add_pd(_mm_mul_pd(_mm_cvtps_pd(_mm_movehl_ps(x, x)), _mm_loadu_pd(gain + 2)),
                            _mm_loadu_pd(offset + 2));
    return _mm_movelh_ps(_mm_cvtpd_ps(lo), _mm_cvtpd_ps(hi));
}

static inline __m128 widen4(const unsigned char *p)
{
    __m128i v = _mm_loadl_epi64((const __m128i *)(const void *)p); /* 4 little-endian int16 */
    return _mm_cvtepi32_ps(_mm_srai_epi32(_mm_unpacklo_epi16(v, v), 16));
}

BTFM_HOT static int decode_edf_blocks(const unsigned char *const *src, int n_picks, int64_t count,
                                      const double *gain, const double *offset, float *out,
                                      size_t stride, int streaming)
{
    int n4 = n_picks & ~3;
    int64_t t = 0;
    for (; t + 4 <= count; t += 4) {
        float *row = out + (size_t)t * stride;
        for (int j = 0; j < n4; j += 4) {
            __m128 a = widen4(src[j] + 2 * t), b = widen4(src[j + 1] + 2 * t);
            __m128 c = widen4(src[j + 2] + 2 * t), d = widen4(src[j + 3] + 2 * t);
            _MM_TRANSPOSE4_PS(a, b, c, d); /* now a = the four channels at sample t */
            a = scale4(a, gain + j, offset + j);
            b = scale4(b, gain + j, offset + j);
            c = scale4(c, gain + j, offset + j);
            d = scale4(d, gain + j, offset + j);
            if (streaming) {
                _mm_stream_ps(row + j, a);
                _mm_stream_ps(row + stride + j, b);
                _mm_stream_ps(row + 2 * stride + j, c);
                _mm_stream_ps(row + 3 * stride + j, d);
            } else {
                _mm_storeu_ps(row + j, a);
                _mm_storeu_ps(row + stride + j, b);
                _mm_storeu_ps(row + 2 * stride + j, c);
                _mm_storeu_ps(row + 3 * stride + j, d);
            }
        }
    }
    return n4 == n_picks ? (int)t : 0; /* samples fully done, or 0: use the tile path */
}
#endif

BTFM_HOT static void decode_tile(const unsigned char *const *src, int n_picks, int bdf, int64_t count,
                                 const double *gain, const double *offset, float *tile, float *out,
                                 size_t stride, int streaming)
{
    for (int j = 0; j < n_picks; j++) {
        const unsigned char *p = src[j];
        if (bdf)
            for (int64_t t = 0; t < count; t++) tile[t * n_picks + j] = (float)bdf_sample(p + 3 * t);
        else
            for (int64_t t = 0; t < count; t++) tile[t * n_picks + j] = (float)edf_sample(p + 2 * t);
    }
    for (int64_t t = 0; t < count; t++)
        scale_row(tile + t * n_picks, gain, offset, n_picks, out + (size_t)t * stride, streaming);
}

static btfm_status edf_read_block(btfm_dataset *ds, int64_t first, int64_t count, const int *picks,
                                  int n_picks, size_t stride, float *out)
{
    edf_state *st = ds->state;
    const int64_t spr = ds->channels[picks[0]].samples_per_record;
    const int bps = st->bytes_per_sample;
    /* Whole records when most signals are wanted; otherwise each signal's span, placed at
     * its own offset of the record buffer. */
    int whole = (int64_t)n_picks * spr * bps * 2 >= st->record_bytes;
    size_t per_pick = sizeof(double) * 2 + sizeof(const unsigned char *) + sizeof(float) * TILE;
    unsigned char *scratch = btfm_malloc((size_t)n_picks * per_pick);
    if (!scratch) return btfm_fail_nomem("edf read", (size_t)n_picks * per_pick);
    double *gain = (double *)scratch, *offset = gain + n_picks;
    const unsigned char **src = (const unsigned char **)(offset + n_picks);
    float *tile = (float *)(src + n_picks);
    for (int j = 0; j < n_picks; j++) {
        gain[j] = ds->channels[picks[j]].gain;
        offset[j] = ds->channels[picks[j]].offset;
    }
    /* Streaming stores need 16-byte aligned rows and pay off only past the caches. */
    int streaming = ((uintptr_t)out % 16 == 0) && stride % 4 == 0 && n_picks == (int)stride &&
                    (size_t)count * stride * sizeof(float) > ((size_t)8 << 20);
    btfm_status status = BTFM_OK;
    int64_t row = 0;
    for (int64_t r = first / spr; row < count && !status; r++) {
        int64_t i0 = r == first / spr ? first % spr : 0;
        int64_t i1 = spr < i0 + (count - row) ? spr : i0 + (count - row);
        int64_t base = st->header_bytes + r * st->record_bytes;
        if (whole) status = btfm_edf_pread(ds, st, base, (size_t)st->record_bytes, st->record);
        for (int j = 0; j < n_picks && !status; j++) {
            const edf_signal *s = &st->signals[st->signal_of_channel[picks[j]]];
            unsigned char *at = st->record + s->byte_offset + i0 * bps;
            if (!whole)
                status = btfm_edf_pread(ds, st, base + s->byte_offset + i0 * bps,
                                        (size_t)((i1 - i0) * bps), at);
            src[j] = at;
        }
#if defined(__SSE2__)
        if (!st->bdf && !status) {
            int64_t done = decode_edf_blocks(src, n_picks, i1 - i0, gain, offset,
                                             out + (size_t)row * stride, stride, streaming);
            for (int j = 0; j < n_picks; j++) src[j] += done * bps;
            row += done;
            i0 += done;
        }
#endif
        for (int64_t i = i0; i < i1 && !status; i += TILE) {
            int64_t n = i1 - i < TILE ? i1 - i : TILE;
            decode_tile(src, n_picks, st->bdf, n, gain, offset, tile,
                        out + (size_t)(row + i - i0) * stride, stride, streaming);
            for (int j = 0; j < n_picks; j++) src[j] += n * bps;
        }
        row += i1 - i0;
    }
#if defined(__SSE2__)
    if (streaming) _mm_sfence(); /* order the streaming stores before returning */
#endif
    btfm_free(scratch);
    return status;
}

static void edf_close(btfm_dataset *ds)
{
    edf_state *st = ds->state;
    if (!st) return;
    if (st->fd >= 0) close(st->fd);
    btfm_free(st->signals);
    btfm_free(st->signal_of_channel);
    btfm_free(st->record);
    btfm_free(st);
    ds->state = NULL;
}

const btfm_io_driver btfm_edf_driver = {"edf", edf_read_digital, edf_read_block, edf_close};

btfm_status btfm_edf_open(btfm_dataset **out, const char *path, int format, unsigned flags)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return btfm_fail(errno == ENOENT ? BTFM_E_NOTFOUND : BTFM_E_IO, "edf: %s: %s", path,
                         strerror(errno));
    btfm_dataset *ds;
    edf_state *st;
    btfm_status status = btfm_edf_parse_header(&ds, path, fd, format, flags, &st);
    if (status) {
        close(fd);
        return status;
    }
    st->fd = fd;
    ds->driver = &btfm_edf_driver;
    ds->state = st;
    if ((status = btfm_edf_read_annotations(ds, st)) || (status = btfm_edf_read_triggers(ds, st)) ||
        (status = btfm_dataset_finish(ds))) {
        btfm_dataset_free(ds);
        return status;
    }
    *out = ds;
    return BTFM_OK;
}
