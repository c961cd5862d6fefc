/* EDFlib's read-back for the interop suite: usage edflib_reader PATH OUTPREFIX. Prints
 * the header and annotations as JSON and writes each signal's samples as read by
 * EDFlib to OUTPREFIX<i>.dig (int32) and OUTPREFIX<i>.phys (float64, stored units). */
#include <edflib.h>
#include <stdio.h>
#include <stdlib.h>

static void json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20) printf("\\u%04x", *s);
        else putchar(*s);
    }
    putchar('"');
}

static int dump(int h, int sig, long long n, const char *prefix)
{
    char name[4096];
    int *dig = malloc(sizeof(int) * (size_t)(n ? n : 1));
    double *phys = malloc(sizeof(double) * (size_t)(n ? n : 1));
    if (!dig || !phys) return -1;
    if (edfread_digital_samples(h, sig, (int)n, dig) != n) return -1;
    edfrewind(h, sig);
    if (edfread_physical_samples(h, sig, (int)n, phys) != n) return -1;
    snprintf(name, sizeof name, "%s%d.dig", prefix, sig);
    FILE *f = fopen(name, "wb");
    if (!f || fwrite(dig, sizeof(int), (size_t)n, f) != (size_t)n || fclose(f)) return -1;
    snprintf(name, sizeof name, "%s%d.phys", prefix, sig);
    f = fopen(name, "wb");
    if (!f || fwrite(phys, sizeof(double), (size_t)n, f) != (size_t)n || fclose(f)) return -1;
    free(dig);
    free(phys);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: edflib_reader PATH OUTPREFIX\n");
        return 2;
    }
    struct edf_hdr_struct hdr;
    if (edfopen_file_readonly(argv[1], &hdr, EDFLIB_READ_ALL_ANNOTATIONS)) {
        fprintf(stderr, "edflib_reader: %s: EDFlib error %d\n", argv[1], hdr.filetype);
        return 1;
    }
    int h = hdr.handle;
    printf("{\"filetype\": %d, \"datarecords\": %lld, \"record_duration\": %lld, \"signals\": [",
           hdr.filetype, hdr.datarecords_in_file, hdr.datarecord_duration);
    for (int i = 0; i < hdr.edfsignals; i++) {
        const struct edf_param_struct *p = &hdr.signalparam[i];
        printf("%s{\"label\": ", i ? ", " : "");
        json_string(p->label);
        printf(", \"dim\": ");
        json_string(p->physdimension);
        printf(", \"n\": %lld, \"spr\": %d, \"pmin\": %.17g, \"pmax\": %.17g, \"dmin\": %d, "
               "\"dmax\": %d}", p->smp_in_file, p->smp_in_datarecord, p->phys_min, p->phys_max,
               p->dig_min, p->dig_max);
        if (dump(h, i, p->smp_in_file, argv[2])) {
            fprintf(stderr, "edflib_reader: %s: reading signal %d failed\n", argv[1], i);
            return 1;
        }
    }
    printf("], \"annotations\": [");
    for (long long a = 0; a < hdr.annotations_in_file; a++) {
        struct edf_annotation_struct ann;
        if (edf_get_annotation(h, (int)a, &ann)) return 1;
        printf("%s[%lld, %lld, ", a ? ", " : "", ann.onset, ann.duration_l);
        json_string(ann.annotation);
        putchar(']');
    }
    printf("]}\n");
    edfclose_file(h);
    return 0;
}
