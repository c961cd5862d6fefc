/* EDFlib side of bench_edf.py: usage edflib_read PATH RUNS. Each run opens the file and
 * reads every signal with edfread_physical_samples into a time-major float32 matrix (what
 * libbtfm's read produces); prints the median seconds of the runs. */
#include <edflib.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One run: open, read all signals into out (n_times x n_signals), close. */
static int read_all(const char *path, float **out, double **scratch)
{
    struct edf_hdr_struct hdr;
    if (edfopen_file_readonly(path, &hdr, EDFLIB_DO_NOT_READ_ANNOTATIONS)) return -1;
    int ns = hdr.edfsignals;
    long long n = hdr.signalparam[0].smp_in_file; /* all signals at one rate here */
    if (!*scratch && !(*scratch = malloc(sizeof(double) * (size_t)n))) return -1;
    if (!*out && !(*out = malloc(sizeof(float) * (size_t)n * (size_t)ns))) return -1;
    for (int s = 0; s < ns; s++) {
        if (edfread_physical_samples(hdr.handle, s, (int)n, *scratch) != n) return -1;
        for (long long t = 0; t < n; t++) (*out)[t * ns + s] = (float)(*scratch)[t];
    }
    edfclose_file(hdr.handle);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: edflib_read PATH RUNS\n");
        return 2;
    }
    int runs = atoi(argv[2]);
    if (runs < 1 || runs > 1000) return 2;
    double *scratch = NULL, *times = malloc(sizeof(double) * (size_t)runs);
    if (!times) return 1;
    for (int r = 0; r < runs; r++) {
        float *out = NULL; /* a fresh matrix each run, as a reader returning an array has */
        double t0 = now();
        if (read_all(argv[1], &out, &scratch)) {
            fprintf(stderr, "edflib_read: %s: EDFlib failed to read it\n", argv[1]);
            return 1;
        }
        times[r] = now() - t0;
        free(out);
    }
    qsort(times, (size_t)runs, sizeof *times, by_value);
    printf("%.6f\n", times[runs / 2]);
    return 0;
}
