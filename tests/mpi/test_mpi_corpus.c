/* A corpus built over MPI against the one-process build of the same sources: run under
 * mpirun with any number of ranks (also more ranks than recordings). Every file of the
 * output folder (plan, index, each recording's data and record, a failed recording's
 * reason) must hold the same bytes, compared by diff(1). Also: sources that differ between
 * ranks are refused on every rank, and a folder rank 0 cannot create fails every rank.
 * Exit status 0 when every rank passed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <btfm/btfm.h>
#include <btfm/mpi.h>
#include "mpi_expect.h"

enum { N_REC = 5, N_TIMES = 1000, N_CH = 2 };

static char root[256];

/* Five subjects' EDF+ files (a sine per channel, a "stim" annotation a second) and one
 * file that is not EDF, whose recording fails with its reason. */
static void write_sources(void)
{
    static float x[N_TIMES * N_CH];
    for (int s = 0; s < N_REC; s++) {
        for (int t = 0; t < N_TIMES; t++)
            for (int c = 0; c < N_CH; c++)
                x[t * N_CH + c] = (float)(1e-5 * ((t * (c + 2) + 37 * s) % 101) / 101.0 +
                                          1e-6 * s);
        btfm_dataset *ds = NULL;
        EXPECT(btfm_dataset_from_array(&ds, x, N_TIMES, N_CH, 250.0, NULL) == BTFM_OK, "%s",
               btfm_last_error());
        for (int c = 0; c < N_CH; c++) {
            char name[8];
            snprintf(name, sizeof name, "C%d", c + 1);
            btfm_dataset_set_channel_name(ds, c, name);
            btfm_dataset_set_channel_type(ds, c, BTFM_CH_EEG);
            btfm_dataset_set_channel_unit(ds, c, "V");
        }
        for (int e = 1; e < 4; e++) btfm_dataset_add_event(ds, e, 0, "annotation", "stim", 0);
        char path[512];
        snprintf(path, sizeof path, "%s/sub-%c_task-rest_eeg.edf", root, 'a' + s);
        EXPECT(btfm_dataset_save(ds, path, BTFM_FORMAT_EDF, 0) == BTFM_OK, "%s",
               btfm_last_error());
        btfm_dataset_free(ds);
    }
    char path[512];
    snprintf(path, sizeof path, "%s/sub-z_task-rest_eeg.edf", root);
    FILE *f = fopen(path, "w");
    fputs("not EDF", f);
    fclose(f);
}

static btfm_corpus_builder *builder(int extra)
{
    btfm_corpus_builder *b = NULL;
    btfm_corpus_builder_new(&b);
    btfm_corpus_builder_set_key(b, "a secret key", 12);
    btfm_corpus_builder_set_param(b, BTFM_CORPUS_SFREQ, 0);
    btfm_corpus_builder_set_param(b, BTFM_CORPUS_L_FREQ, 0);
    btfm_corpus_builder_set_param(b, BTFM_CORPUS_H_FREQ, 0);
    btfm_corpus_builder_set_param(b, BTFM_CORPUS_NUM_THREADS, 1);
    btfm_corpus_builder_set_text(b, "keep_annotations", "stim");
    for (int s = 0; s < N_REC + 1 - !extra; s++) {
        char path[512];
        snprintf(path, sizeof path, "%s/sub-%c_task-rest_eeg.edf", root, s < N_REC ? 'a' + s : 'z');
        btfm_corpus_builder_add_file(b, path);
    }
    return b;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (rank == 0) {
        const char *tmp = getenv("TMPDIR");
        int n = snprintf(root, sizeof root, "%s/btfm-mpi-corpus-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        EXPECT(n > 0 && (size_t)n < sizeof root, "TMPDIR too long for the test's buffers");
        EXPECT(mkdtemp(root) != NULL, "mkdtemp");
        write_sources();
    }
    MPI_Bcast(root, sizeof root, MPI_CHAR, 0, MPI_COMM_WORLD);
    char out[400], one[400], cmd[1000];
    snprintf(out, sizeof out, "%s/mpi", root);
    snprintf(one, sizeof one, "%s/one", root);
    /* the distributed build, then the one-process build of the same sources on rank 0 */
    btfm_corpus_builder *b = builder(1);
    int64_t built = -1, failed = -1;
    btfm_status st = btfm_corpus_build_mpi(b, NULL, out, &built, &failed, MPI_COMM_WORLD);
    EXPECT(st == BTFM_OK, "build: %s", btfm_last_error());
    EXPECT(built == N_REC && failed == 1, "%lld built, %lld failed", (long long)built,
           (long long)failed);
    btfm_corpus_builder_free(b);
    if (rank == 0) {
        b = builder(1);
        EXPECT(btfm_corpus_build(b, NULL, one, NULL, NULL) == BTFM_OK, "one process: %s",
               btfm_last_error());
        btfm_corpus_builder_free(b);
        snprintf(cmd, sizeof cmd, "diff -r '%s' '%s' >&2", out, one);
        EXPECT(system(cmd) == 0, "the distributed corpus differs from the one-process one");
        snprintf(cmd, sizeof cmd, "test -s '%s/index.json' && ls '%s/recordings' | "
                 "grep -c '\\.bin$' | grep -qx %d", out, out, N_REC);
        EXPECT(system(cmd) == 0, "the corpus lacks its index or a recording's data");
    }
    /* a rank that sees other sources: refused on every rank */
    b = builder(rank != size - 1);
    st = btfm_corpus_build_mpi(b, NULL, out, NULL, NULL, MPI_COMM_WORLD);
    EXPECT(st == (size > 1 ? BTFM_E_INVALID : BTFM_OK), "different sources: status %d: %s", st,
           btfm_last_error());
    if (size > 1)
        EXPECT(strstr(btfm_last_error(), "plan") != NULL, "message: %s", btfm_last_error());
    /* a folder inside a regular file: rank 0 fails, the others hear of it */
    snprintf(out, sizeof out, "%s/sub-z_task-rest_eeg.edf/corpus", root);
    st = btfm_corpus_build_mpi(b, NULL, out, NULL, NULL, MPI_COMM_WORLD);
    EXPECT(st != BTFM_OK && (rank == 0) == (st != BTFM_E_REMOTE), "unwritable folder: "
           "status %d: %s", st, btfm_last_error());
    btfm_corpus_builder_free(b);
    const int all = mpi_failures();
    if (rank == 0) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", root);
        printf("%s: %d failure(s) over %d rank(s)\n", argv[0], all, size);
    }
    MPI_Finalize();
    return all != 0;
}
