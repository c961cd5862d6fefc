/* Corpus builds over MPI: every rank plans the same recordings, builds every P-th of
 * them into the shared output folder, and the first rank merges the index, so the folder
 * holds the bytes of a one-process build. */
#ifdef BTFM_HAVE_MPI /* the layer is built only with MPI */
#include <string.h>
#include "mpi_internal.h"
#include "corpus/corpus_internal.h"
#include "core/progress.h"

/* The plan's recordings, through their ids and sources, as two 32-bit halves of a hash. */
static void plan_hash(const btfm_corpus_builder *b, double out[2])
{
    uint64_t h = BTFM_MPI_HASH_START;
    for (int64_t i = 0; i < b->n_sources; i++) {
        const corpus_source *s = &b->sources[i];
        h = btfm_mpi_hash(h, s->id, strlen(s->id) + 1);
        h = btfm_mpi_hash(h, s->path, strlen(s->path) + 1);
    }
    out[0] = (double)(h >> 32);
    out[1] = (double)(h & 0xffffffffu);
}

btfm_status btfm_corpus_build_mpi(btfm_corpus_builder *b, const char *source,
                                  const char *out_dir, int64_t *n_built, int64_t *n_failed,
                                  MPI_Comm comm)
{
    const char *func = "btfm_corpus_build_mpi";
    if (n_built) *n_built = 0;
    if (n_failed) *n_failed = 0;
    mpi_group g;
    btfm_status st = btfm_mpi_open(&g, comm, func);
    if (st) return st;
    if (!b) st = btfm_fail(BTFM_E_INVALID, "%s: builder is NULL", func);
    /* The first rank creates and cleans the folder and writes plan.json; then the others
     * plan the same recordings in memory. */
    int64_t n = 0;
    if (!st && g.rank == 0) st = btfm_corpus_plan_with(b, source, out_dir, &n, 1);
    if ((st = btfm_mpi_agree(&g, st))) goto done;
    if (g.rank != 0) st = btfm_corpus_plan_with(b, source, out_dir, &n, 0);
    double v[3] = {(double)n, 0, 0};
    if (!st) plan_hash(b, v + 1);
    static const char *const names[3] = {"the number of planned recordings",
                                         "the plan (its ids and sources; hash)",
                                         "the plan (its ids and sources; hash)"};
    if ((st = btfm_mpi_same(&g, v, 3, names, func, st))) goto done;
    /* Every P-th recording from this rank's: sizes vary, so blocks would balance worse. */
    btfm_progress progress;
    double counts[2] = {0, 0}; /* built, failed */
    const int64_t mine = n > g.rank ? (n - g.rank + g.size - 1) / g.size : 0;
    st = btfm_progress_start(&progress, b->progress, b->progress_user, "corpus");
    corpus_scratch scratch = {{NULL, NULL}, {0, 0}};
    for (int64_t i = g.rank, k = 0; i < n && !st; i += g.size, k++) {
        int built = 0;
        st = btfm_corpus_build_one_in(b, i, &built, &scratch);
        counts[built ? 0 : 1] += !st;
        if (!st) st = btfm_progress_update(&progress, "recordings", (k + 1.0) / (double)mine);
    }
    btfm_corpus_scratch_free(&scratch);
    if ((st = btfm_mpi_allreduce(&g, counts, 2, 0, st))) goto done;
    if (g.rank == 0) st = btfm_corpus_merge(out_dir);
    if (!st) st = btfm_progress_done(&progress, "corpus");
    if ((st = btfm_mpi_agree(&g, st))) goto done;
    if (n_built) *n_built = (int64_t)counts[0];
    if (n_failed) *n_failed = (int64_t)counts[1];
done:
    btfm_mpi_close(&g);
    return st;
}

#endif
