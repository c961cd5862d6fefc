/* Fuzz target: the container parser must refuse or accept any bytes without crashing,
 * and whatever it accepts must serialize back to the same bytes. The same input then
 * edits the decoded fields of saved models (an aligner of each method, a CoTHB controller
 * with a trace), rewritten with a valid CRC: byte mutations of the file rarely get past
 * the CRC, so this is how the model loaders' field checks are reached. A model that
 * loads must be usable (transform, trace, save). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <btfm/btfm.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

enum { T = 24, V = 6, K = 3, N_MODELS = 4 };

/* The saved models the edits start from, made once per process. */
static unsigned char *seeds[N_MODELS];
static size_t seed_sizes[N_MODELS];

static void *saved_aligner(int method, size_t *n)
{
    float x[2][T * V];
    uint32_t s = 12345u;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < T * V; j++) {
            s = s * 1664525u + 1013904223u;
            x[i][j] = (float)(s >> 8) / 16777216.0f - 0.5f + (float)(j % V == (j / V) % V);
        }
    btfm_aligner *a;
    if (btfm_aligner_new(&a, method)) abort();
    btfm_aligner_set_param(a, BTFM_ALIGNER_PARAM_N_FEATURES, K);
    for (int i = 0; i < 2; i++)
        if (btfm_aligner_add_subject(a, x[i], T, V)) abort();
    if (btfm_aligner_fit(a) || btfm_aligner_save_buffer(a, NULL, 0, n)) abort();
    void *buf = malloc(*n);
    if (!buf || btfm_aligner_save_buffer(a, buf, *n, n)) abort();
    btfm_aligner_free(a);
    return buf;
}

static void *saved_cothb(size_t *n)
{
    btfm_cothb *c;
    if (btfm_cothb_new(&c)) abort();
    btfm_cothb_set_param(c, BTFM_COTHB_PARAM_POLICY, 0);
    for (int step = 0; step < 6; step++) {
        int action;
        int64_t node, target, id;
        if (btfm_cothb_next(c, &action, &node, &target)) abort();
        if (action != BTFM_COTHB_EXTEND && action != BTFM_COTHB_DECOMPOSE &&
            action != BTFM_COTHB_BRANCH)
            break;
        if (btfm_cothb_add_node(c, node, &id)) abort();
        double sig[7] = {0.3 + 0.1 * step, NAN, 0.5, NAN, NAN, NAN, step == 5 ? 1.0 : NAN};
        if (btfm_cothb_observe(c, id, sig, 7)) abort();
    }
    if (btfm_cothb_save_buffer(c, NULL, 0, n)) abort();
    void *buf = malloc(*n);
    if (!buf || btfm_cothb_save_buffer(c, buf, *n, n)) abort();
    btfm_cothb_free(c);
    return buf;
}

/* Each edit is 11 bytes: array (1), element (2), the element's new bytes (8; the first 4
 * for 32-bit elements). */
static void *edited(const unsigned char *seed, size_t seed_size, const unsigned char *e,
                    size_t n_edits, size_t *out_size)
{
    btfm_container *c, *d;
    if (btfm_container_load_buffer(&c, seed, seed_size, NULL)) abort();
    const int count = btfm_container_count(c);
    void **copies = calloc((size_t)count, sizeof *copies);
    size_t *sizes = calloc((size_t)count, sizeof *sizes);
    if (!copies || !sizes) abort();
    for (int i = 0; i < count; i++) {
        const void *p;
        if (btfm_container_array_data(c, i, &p, &sizes[i])) abort();
        copies[i] = malloc(sizes[i] ? sizes[i] : 1);
        if (!copies[i]) abort();
        memcpy(copies[i], p, sizes[i]);
    }
    for (size_t k = 0; k < n_edits; k++, e += 11) {
        const int i = e[0] % count;
        int dtype;
        btfm_container_array_info(c, i, NULL, &dtype, NULL, NULL);
        const size_t width = btfm_dtype_size(dtype);
        if (!width || sizes[i] < width) continue;
        const size_t at = (((size_t)e[1] << 8 | e[2]) % (sizes[i] / width)) * width;
        memcpy((unsigned char *)copies[i] + at, e + 3, width < 8 ? width : 8);
    }
    if (btfm_container_new(&d, btfm_container_kind(c))) abort();
    for (int i = 0; i < count; i++) {
        const char *name;
        int dtype, ndim;
        int64_t shape[8];
        btfm_container_array_info(c, i, &name, &dtype, &ndim, shape);
        if (btfm_container_put(d, name, dtype, ndim, shape, copies[i])) abort();
        free(copies[i]);
    }
    free(copies);
    free(sizes);
    if (btfm_container_save_buffer(d, NULL, 0, out_size)) abort();
    void *out = malloc(*out_size);
    if (!out || btfm_container_save_buffer(d, out, *out_size, out_size)) abort();
    btfm_container_free(c);
    btfm_container_free(d);
    return out;
}

static void use_aligner(const void *buf, size_t n)
{
    btfm_aligner *a = NULL;
    if (btfm_aligner_load_buffer(&a, buf, n)) {
        if (a || !btfm_last_error()[0]) abort(); /* half-loaded or silent */
        return;
    }
    int subjects = 0;
    int64_t k = 0, v = 0;
    btfm_aligner_n_subjects(a, &subjects);
    btfm_aligner_n_components(a, &k);
    for (int s = 0; s < subjects; s++) {
        if (btfm_aligner_subject_features(a, s, &v) || v > 4096 || k > 4096) continue;
        float *x = calloc((size_t)(2 * v), sizeof(float));
        float *y = malloc((size_t)(2 * k) * sizeof(float) + 1);
        if (x && y) btfm_aligner_transform(a, s, x, 2, v, y);
        free(x);
        free(y);
    }
    size_t m = 0;
    btfm_aligner_save_buffer(a, NULL, 0, &m);
    btfm_aligner_free(a);
}

static void use_cothb(const void *buf, size_t n)
{
    btfm_cothb *c = NULL;
    if (btfm_cothb_load_buffer(&c, buf, n)) {
        if (c || !btfm_last_error()[0]) abort();
        return;
    }
    size_t m = 0;
    btfm_cothb_trace_jsonl(c, NULL, 0, &m);
    char *text = malloc(m + 1);
    if (text) btfm_cothb_trace_jsonl(c, text, m + 1, &m);
    free(text);
    int action;
    int64_t node, target;
    btfm_cothb_next(c, &action, &node, &target);
    btfm_cothb_save_buffer(c, NULL, 0, &m);
    btfm_cothb_free(c);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    btfm_container *c = NULL;
    if (btfm_container_load_buffer(&c, data, size, NULL) != BTFM_OK) {
        if (c != NULL || btfm_last_error()[0] == '\0') abort(); /* half-loaded or silent */
    } else {
        size_t n = 0;
        btfm_container_save_buffer(c, NULL, 0, &n);
        unsigned char *again = malloc(n);
        if (!again || btfm_container_save_buffer(c, again, n, &n) != BTFM_OK) abort();
        btfm_container *back = NULL;
        if (btfm_container_load_buffer(&back, again, n, NULL) != BTFM_OK) abort();
        if (btfm_container_count(back) != btfm_container_count(c)) abort();
        btfm_container_free(back);
        btfm_container_free(c);
        free(again);
    }
    /* The decoded fields: the first byte picks the model, the rest are edits. */
    if (size < 1) return 0;
    if (!seeds[0]) {
        seeds[0] = saved_aligner(BTFM_ALIGN_HYPERALIGNMENT, &seed_sizes[0]);
        seeds[1] = saved_aligner(BTFM_ALIGN_SRM, &seed_sizes[1]);
        seeds[2] = saved_aligner(BTFM_ALIGN_PROBABILISTIC_SRM, &seed_sizes[2]);
        seeds[3] = saved_cothb(&seed_sizes[3]);
    }
    const int model = data[0] % N_MODELS;
    size_t n;
    void *buf = edited(seeds[model], seed_sizes[model], data + 1, (size - 1) / 11, &n);
    if (model < 3) use_aligner(buf, n);
    else use_cothb(buf, n);
    free(buf);
    return 0;
}
