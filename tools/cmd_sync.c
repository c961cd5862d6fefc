/* btfm sync: the clock of a device's recording (an eye tracker's .asc, a physio file,
 * another EEG) mapped onto a reference recording's clock through the triggers both logged,
 * and, on request, the device's events written into a copy of the reference. */
#include <string.h>
#include "cli.h"

static void print_json(double offset, double drift, double rms, long long pairs,
                       long long imported, const char *out)
{
    printf("{\"offset_s\": ");
    cli_json_number(stdout, offset);
    printf(", \"drift\": ");
    cli_json_number(stdout, drift);
    printf(", \"drift_ms_per_hour\": ");
    cli_json_number(stdout, drift * 3600e3);
    printf(", \"rms_s\": ");
    cli_json_number(stdout, rms);
    printf(", \"n_pairs\": %lld", pairs);
    if (out) {
        printf(", \"n_imported\": %lld, \"output\": ", imported);
        cli_json_string(stdout, out);
    }
    printf("}\n");
}

int cmd_sync(int argc, char **argv)
{
    const char *device = NULL, *reference = NULL, *label = NULL, *out = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) json = 1;
        else if (strcmp(argv[i], "--events") == 0 || strcmp(argv[i], "--output") == 0) {
            if (i + 1 >= argc)
                return cli_usage_error("sync", "%s needs a value", argv[i]);
            const char **value = strcmp(argv[i], "--events") == 0 ? &label : &out;
            *value = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1])
            return cli_unknown_option("sync", argv[i]);
        else if (!device) device = argv[i];
        else if (!reference) reference = argv[i];
        else return cli_usage_error("sync", "unexpected argument '%s'", argv[i]);
    }
    if (!reference)
        return cli_usage_error("sync", "expected DEVICE and REFERENCE (e.g. eye.asc eeg.set)");
    if (label && !out)
        return cli_usage_error("sync", "--events picks the events --output writes; give "
                               "--output OUT too");
    btfm_dataset *dev = NULL, *ref = NULL;
    int rc = cli_open_dataset("sync", device, 0, &dev);
    if (!rc) rc = cli_open_dataset("sync", reference, 0, &ref);
    double offset = 0, drift = 0, rms = 0;
    int64_t pairs = 0, imported = 0;
    if (!rc && btfm_dataset_sync(dev, ref, &offset, &drift, &rms, &pairs)) rc = cli_fail("sync", NULL);
    if (!rc && out) {
        if (btfm_dataset_import_events(ref, dev, label, offset, drift, &imported) ||
            btfm_dataset_save(ref, out, BTFM_FORMAT_AUTO, 0))
            rc = cli_fail("sync", NULL);
    }
    if (!rc && json) {
        print_json(offset, drift, rms, (long long)pairs, (long long)imported, out);
    } else if (!rc) {
        printf("sync %s -> %s: t_reference = %.6f s + (1 %c %.3e) t_device\n", device,
               reference, offset, drift < 0 ? '-' : '+', drift < 0 ? -drift : drift);
        printf("offset %.6f s, drift %.3e (%.3f ms per hour), rms %.3f ms, %lld trigger "
               "pairs\n", offset, drift, drift * 3600e3, rms * 1e3, (long long)pairs);
        if (out)
            printf("imported %lld %s event(s) into %s\n", (long long)imported,
                   label ? label : "", out);
    }
    btfm_dataset_free(ref);
    btfm_dataset_free(dev);
    return rc;
}
