/* Opening and saving: format detection from content and extension, driver dispatch. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/read_file.h"
#include "io/volume/volume_internal.h"

static const char *format_names[] = {"auto", "edf", "bdf", "brainvision", "nifti", "memory",
                                     "fif", "snirf", "eeglab", "eyelink", "physio"};

const char *btfm_format_name(int format)
{
    return format >= 0 && format < (int)(sizeof format_names / sizeof *format_names)
               ? format_names[format] : NULL;
}

static int has_extension(const char *path, const char *ext)
{
    size_t n = strlen(path), e = strlen(ext);
    return n >= e && strcasecmp(path + n - e, ext) == 0;
}

static int format_from_extension(const char *path)
{
    if (has_extension(path, ".edf")) return BTFM_FORMAT_EDF;
    if (has_extension(path, ".bdf")) return BTFM_FORMAT_BDF;
    if (has_extension(path, ".vhdr")) return BTFM_FORMAT_BRAINVISION;
    if (has_extension(path, ".fif") || has_extension(path, ".fif.gz")) return BTFM_FORMAT_FIF;
    if (has_extension(path, ".snirf")) return BTFM_FORMAT_SNIRF;
    if (has_extension(path, ".set")) return BTFM_FORMAT_EEGLAB;
    if (has_extension(path, ".asc")) return BTFM_FORMAT_EYELINK;
    if (has_extension(path, "_physio.tsv.gz") || has_extension(path, "_physio.tsv"))
        return BTFM_FORMAT_PHYSIO;
    static const char *nifti[] = {".nii", ".nii.gz", ".hdr", ".img", ".hdr.gz", ".img.gz"};
    for (size_t i = 0; i < sizeof nifti / sizeof *nifti; i++)
        if (has_extension(path, nifti[i])) return BTFM_FORMAT_NIFTI;
    return BTFM_FORMAT_AUTO;
}

/* Content first: the EDF/BDF version field or the BrainVision header line. */
static int format_from_content(const unsigned char *head, size_t n)
{
    if (n >= 8 && head[0] == 0xFF && memcmp(head + 1, "BIOSEMI", 7) == 0) return BTFM_FORMAT_BDF;
    if (n >= 8 && memcmp(head, "0       ", 8) == 0) return BTFM_FORMAT_EDF;
    /* NIfTI-1 (sizeof_hdr 348, magic at 344) and NIfTI-2 (540, magic at 4), either order. */
    if (n >= 8 && (memcmp(head, "\x5c\x01\0\0", 4) == 0 || memcmp(head, "\0\0\x01\x5c", 4) == 0 ||
                   memcmp(head, "\x1c\x02\0\0", 4) == 0 || memcmp(head, "\0\0\x02\x1c", 4) == 0))
        return BTFM_FORMAT_NIFTI;
    /* FIF: a file id tag (kind 100, type 31, 20 bytes), big-endian. */
    if (n >= 12 && memcmp(head, "\0\0\0\x64\0\0\0\x1f\0\0\0\x14", 12) == 0) return BTFM_FORMAT_FIF;
    if (n >= 8 && memcmp(head, "\x89HDF\r\n\x1a\n", 8) == 0) return BTFM_FORMAT_SNIRF;
    /* MATLAB MAT-files (EEGLAB .set): the text header's start */
    if (n >= 10 && memcmp(head, "MATLAB 5.0", 10) == 0) return BTFM_FORMAT_EEGLAB;
    if (n >= 10 && memcmp(head, "MATLAB 7.3", 10) == 0) return BTFM_FORMAT_EEGLAB;
    /* edf2asc output starts with its preamble */
    if (n >= 17 && memcmp(head, "** CONVERTED FROM", 17) == 0) return BTFM_FORMAT_EYELINK;
    const char *bv[] = {"Brain Vision Data Exchange Header File",
                        "BrainVision Data Exchange Header File"};
    size_t skip = n >= 3 && memcmp(head, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0; /* UTF-8 BOM */
    for (int i = 0; i < 2; i++)
        if (n >= skip + strlen(bv[i]) && memcmp(head + skip, bv[i], strlen(bv[i])) == 0)
            return BTFM_FORMAT_BRAINVISION;
    return BTFM_FORMAT_AUTO;
}

/* Events a file places outside its recording (before the start, after the end) are kept
 * as written, but said, the same for every format. */
static btfm_status flag_outside_events(btfm_dataset *const *out, btfm_status st)
{
    if (st) return st;
    const btfm_dataset *ds = *out;
    const double end = (double)ds->n_times / ds->sfreq;
    int64_t outside = 0, first = -1;
    for (int64_t i = 0; i < ds->n_events; i++)
        if (ds->events[i].onset < 0 || ds->events[i].onset > end) {
            if (first < 0) first = i;
            outside++;
        }
    if (outside)
        btfm_warn("%s: %lld of %lld events lie outside the recording (0 to %.9g s), the first "
                  "at %.9g s; kept as the file gives them", ds->path, (long long)outside,
                  (long long)ds->n_events, end, ds->events[first].onset);
    return BTFM_OK;
}

btfm_status btfm_dataset_open(btfm_dataset **out, const char *path, int format, unsigned flags)
{
    BTFM_CHECK_ARG(out, "btfm_dataset_open", "out");
    *out = NULL;
    BTFM_CHECK_ARG(path, "btfm_dataset_open", "path");
    if (!btfm_format_name(format))
        return btfm_fail(BTFM_E_INVALID, "btfm_dataset_open: %s: unknown format %d", path, format);
    if (flags & ~BTFM_OPEN_COMPLETE_RECORDS)
        return btfm_fail(BTFM_E_INVALID, "btfm_dataset_open: %s: unknown flags 0x%x", path, flags);
    /* A folder opens with fopen and reads as empty: say what it is instead of what it
     * is not, whatever its name. */
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return btfm_fail(BTFM_E_IO, "btfm_dataset_open: %s: is a folder, not a recording file "
                         "(a BIDS folder opens with btfm_bids_open)", path);
    if (format == BTFM_FORMAT_AUTO) {
        int fd;
        btfm_status st = btfm_open_regular(path, "btfm_dataset_open", &fd);
        if (st) return st;
        unsigned char head[64];
        ssize_t got = pread(fd, head, sizeof head, 0);
        close(fd);
        size_t n = got > 0 ? (size_t)got : 0;
        format = format_from_content(head, n);
        if (format == BTFM_FORMAT_AUTO) format = format_from_extension(path);
        if (format == BTFM_FORMAT_AUTO)
            return btfm_fail(BTFM_E_UNSUPPORTED, "btfm_dataset_open: %s: not a recognized format "
                             "(expected EDF/EDF+, BDF/BDF+, a BrainVision .vhdr, NIfTI, FIF, SNIRF, an EEGLAB .set, an EyeLink .asc or a BIDS _physio.tsv.gz)",
                             path);
    }
    switch (format) {
    case BTFM_FORMAT_EDF:
    case BTFM_FORMAT_BDF: return flag_outside_events(out, btfm_edf_open(out, path, format, flags));
    case BTFM_FORMAT_BRAINVISION:
        return flag_outside_events(out, btfm_brainvision_open(out, path, flags));
    case BTFM_FORMAT_NIFTI: return btfm_nifti_open(out, path, flags);
    case BTFM_FORMAT_FIF: return btfm_fif_open(out, path, flags);
    case BTFM_FORMAT_SNIRF: return btfm_snirf_open(out, path, flags);
    case BTFM_FORMAT_EEGLAB: return btfm_eeglab_open(out, path, flags);
    case BTFM_FORMAT_EYELINK: return btfm_eyelink_open(out, path, flags);
    case BTFM_FORMAT_PHYSIO: return btfm_physio_open(out, path, flags);
    case BTFM_FORMAT_MEMORY:
        return btfm_fail(BTFM_E_INVALID, "btfm_dataset_open: %s: memory datasets are made by "
                         "btfm_dataset_from_array, not opened", path);
    default: return btfm_fail(BTFM_E_INTERNAL, "btfm_dataset_open: format %d has no driver", format);
    }
}

btfm_status btfm_dataset_save(btfm_dataset *ds, const char *path, int format, unsigned flags)
{
    BTFM_CHECK_ARG(ds, "btfm_dataset_save", "dataset");
    BTFM_CHECK_ARG(path, "btfm_dataset_save", "path");
    if (flags & ~BTFM_SAVE_ANONYMIZE)
        return btfm_fail(BTFM_E_INVALID, "btfm_dataset_save: %s: unknown flags 0x%x", path, flags);
    if (format == BTFM_FORMAT_AUTO) format = format_from_extension(path);
    switch (format) {
    case BTFM_FORMAT_EDF:
    case BTFM_FORMAT_BDF: return btfm_edf_save(ds, path, format, flags);
    case BTFM_FORMAT_BRAINVISION: return btfm_brainvision_save(ds, path, flags);
    case BTFM_FORMAT_NIFTI: return btfm_nifti_save(ds, path);
    case BTFM_FORMAT_AUTO:
        return btfm_fail(BTFM_E_INVALID, "btfm_dataset_save: %s: cannot tell the format from the "
                         "extension (expected .edf, .bdf, .vhdr, .nii or .nii.gz)", path);
    default:
        return btfm_fail(BTFM_E_INVALID, "btfm_dataset_save: %s: unknown format %d", path, format);
    }
}
