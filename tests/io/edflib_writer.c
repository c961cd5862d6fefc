/* Fixture writer for the interop suite, built on EDFlib (Debian libedf-dev), an
 * implementation independent of libbtfm. Usage: edflib_writer KIND PATH, KIND one of
 *   edfplus  EDF+C, 4 signals at 256 Hz, 10 records, annotations with UTF-8 labels
 *   bdfplus  BDF+C, 3 signals at 512 Hz + a BioSemi "Status" channel with triggers
 *   mixed    EDF+C with signals at 256, 128 and 64 Hz
 * It prints what it wrote as JSON (the triggers and annotations), the ground truth of
 * the tests. Samples are pseudo-random digital values within each signal's range. */
#include <edflib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sig {
    const char *label, *dim;
    double pmin, pmax;
    int dmin, dmax, rate;
} sig;

static unsigned long long lcg = 0x2545F4914F6CDD1DULL;

static int random_in(int lo, int hi)
{
    lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
    return lo + (int)((lcg >> 33) % (unsigned long long)(hi - lo + 1));
}

static int fail(const char *what)
{
    fprintf(stderr, "edflib_writer: %s failed\n", what);
    return 1;
}

static int setup(int h, const sig *s, int n)
{
    for (int i = 0; i < n; i++)
        if (edf_set_samplefrequency(h, i, s[i].rate) || edf_set_physical_maximum(h, i, s[i].pmax) ||
            edf_set_physical_minimum(h, i, s[i].pmin) || edf_set_digital_maximum(h, i, s[i].dmax) ||
            edf_set_digital_minimum(h, i, s[i].dmin) || edf_set_label(h, i, s[i].label) ||
            edf_set_physical_dimension(h, i, s[i].dim))
            return -1;
    return edf_set_startdatetime(h, 2020, 7, 14, 9, 30, 15) || edf_set_patientname(h, "Doe^Jane") ||
                   edf_set_patientcode(h, "P-042") || edf_set_equipment(h, "interop")
               ? -1 : 0;
}

/* The Status channel's trigger runs: value, first sample, length (at 512 Hz). */
static const int triggers[][3] = {{1, 100, 50}, {2, 700, 1}, {255, 1500, 300}, {65535, 3000, 20},
                                  {7, 4000, 1120}};

static int status_value(long long k)
{
    int v = 0;
    for (size_t t = 0; t < sizeof triggers / sizeof *triggers; t++)
        if (k >= triggers[t][1] && k < triggers[t][1] + triggers[t][2]) v = triggers[t][0];
    /* High byte: BioSemi device status bits, which are not part of the trigger. */
    return (v | ((k / 1000) % 2 ? 0x100000 : 0)) - (1 << 23);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: edflib_writer edfplus|bdfplus|mixed PATH\n");
        return 2;
    }
    const char *kind = argv[1];
    static const sig edfplus[] = {
        {"EEG Fz", "uV", -3276.8, 3276.7, -32768, 32767, 256},
        {"EEG Cz", "uV", -500, 500, -2048, 2047, 256},
        {"EOG left", "mV", -1.5, 2.5, -1000, 1000, 256},
        {"ECG", "mV", -10, 10, -32768, 32767, 256},
    };
    static const sig bdfplus[] = {
        {"A1", "uV", -262144, 262143, -8388608, 8388607, 512},
        {"A2", "uV", -1000, 1000, -8388608, 8388607, 512},
        {"EXG1", "mV", -5, 5, -100000, 100000, 512},
        {"Status", "Boolean", -8388608, 8388607, -8388608, 8388607, 512},
    };
    static const sig mixed[] = {
        {"EEG Fz", "uV", -1000, 1000, -32768, 32767, 256},
        {"Resp", "mV", -50, 50, -2000, 2000, 128},
        {"Temp", "degC", 20, 45, -32768, 32767, 64},
    };
    const sig *s;
    int n, type, n_records;
    if (strcmp(kind, "edfplus") == 0) s = edfplus, n = 4, type = EDFLIB_FILETYPE_EDFPLUS, n_records = 10;
    else if (strcmp(kind, "bdfplus") == 0) s = bdfplus, n = 4, type = EDFLIB_FILETYPE_BDFPLUS, n_records = 10;
    else if (strcmp(kind, "mixed") == 0) s = mixed, n = 3, type = EDFLIB_FILETYPE_EDFPLUS, n_records = 8;
    else return fail("unknown KIND");
    int h = edfopen_file_writeonly(argv[2], type, n);
    if (h < 0) return fail("edfopen_file_writeonly");
    if (setup(h, s, n)) return fail("header setup");
    int *buf = malloc(sizeof(int) * 512);
    if (!buf) return fail("malloc");
    for (int r = 0; r < n_records; r++)
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < s[i].rate; k++)
                buf[k] = strcmp(s[i].label, "Status") == 0 ? status_value((long long)r * s[i].rate + k)
                                                          : random_in(s[i].dmin, s[i].dmax);
            if (edfwrite_digital_samples(h, buf)) return fail("edfwrite_digital_samples");
        }
    free(buf);
    /* Annotations: onsets and durations in units of 100 us. */
    static const struct { long long onset, duration; const char *text; } notes[] = {
        {12345, -1, "eyes closed"}, {23456, 5000, "\xC3\x9C" "berraschung \xE2\x98\xBA"},
        {50000, 10000, "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E"}, {79999, -1, "end"},
    };
    printf("{\"annotations\": [");
    for (size_t a = 0; a < sizeof notes / sizeof *notes; a++) {
        if (edfwrite_annotation_utf8(h, notes[a].onset, notes[a].duration, notes[a].text))
            return fail("edfwrite_annotation_utf8");
        printf("%s[%lld, %lld, \"%s\"]", a ? ", " : "", notes[a].onset, notes[a].duration,
               notes[a].text);
    }
    printf("], \"triggers\": [");
    for (size_t t = 0; strcmp(kind, "bdfplus") == 0 && t < sizeof triggers / sizeof *triggers; t++)
        printf("%s[%d, %d, %d]", t ? ", " : "", triggers[t][0], triggers[t][1], triggers[t][2]);
    printf("]}\n");
    return edfclose_file(h) ? fail("edfclose_file") : 0;
}
